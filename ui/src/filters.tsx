/**
 * The filters of a list view (NCs, symptoms), kept in its address so that a filtered list can be
 * linked to and survives a reload: the API's state and family, the view's own API filters, the
 * text searched among the rows loaded so far, which the API does not search, and the sort.
 */
import type { ComponentChildren } from 'preact';
import { Field, Options, type Sort } from './components.js';

/** What every list view filters by; each view adds its own API filters. */
export interface ListFilter {
  state: string;
  family: string;
  text: string;
  sort: Sort | null;
}

export function listFilterOf(params: URLSearchParams): ListFilter {
  const [key, direction] = (params.get('sort') ?? '').split(':');
  return {
    state: params.get('state') ?? '',
    family: params.get('family') ?? '',
    text: params.get('q') ?? '',
    sort: key ? { key, direction: direction === 'desc' ? 'desc' : 'asc' } : null,
  };
}

/** The sort as the address spells it, `key:direction`. */
export function sortParam(sort: Sort | null): string | null {
  return sort === null ? null : `${sort.key}:${sort.direction}`;
}

/** Whether any of a row's values holds the text typed, ignoring case; no text matches every row. */
export function mentions(text: string, values: ReadonlyArray<string | null>): boolean {
  if (text === '') return true;
  const needle = text.toLowerCase();
  return values.some((value) => value?.toLowerCase().includes(needle));
}

/** A list view's filters; Enter in a text field applies what was typed there. */
export function Filters(props: { onSubmit: () => void; children: ComponentChildren }) {
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
        props.onSubmit();
      }}
    >
      {props.children}
    </form>
  );
}

/** A filter on one of the API's words: "any" first, then each word, shown by its label if it has one. */
export function WordFilter(props: { label: string; name: string; value: string; words: readonly string[]; labels?: Readonly<Record<string, string>>; onPick: (word: string) => void }) {
  return (
    <Field label={props.label}>
      <select name={props.name} value={props.value} onChange={(event) => props.onPick(event.currentTarget.value)}>
        <option value="">any</option>
        <Options words={props.words} labels={props.labels} />
      </select>
    </Field>
  );
}

/** The filter on the text of the rows loaded so far, which the API does not search. */
export function TextFilter(props: { what: string; placeholder: string; value: string; onInput: (text: string) => void }) {
  return (
    <Field label={`Text (in the ${props.what} loaded)`} class="grow">
      <input type="search" name="q" placeholder={props.placeholder} value={props.value} onInput={(event) => props.onInput(event.currentTarget.value)} />
    </Field>
  );
}

