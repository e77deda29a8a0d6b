/** Small pieces the views share: links, badges, the API's refusal, labelled fields, sortable headers. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { BASE, follow } from './router.js';

export function Link(props: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={`${BASE}${props.to}`} class={props.class} onClick={(event) => follow(event, props.to)}>
      {props.children}
    </a>
  );
}

/** A state, severity or verdict as a coloured label; `kind` picks the colour from the word itself. */
export function Badge(props: { kind: string; children?: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.kind}`} title={props.title}>
      {props.children ?? props.kind}
    </span>
  );
}

/** What the API answered when it refused: its RECURD_ERR_… code, its message, and the fields it names. */
export function Refusal(props: { error: unknown }) {
  const { error } = props;
  if (error === null || error === undefined) return null;
  if (!(error instanceof ApiError)) return <div class="refusal" role="alert">{error instanceof Error ? error.message : JSON.stringify(error)}</div>;
  const details = Array.isArray(error.details) ? (error.details as Array<{ path?: string; message?: string }>) : [];
  return (
    <div class="refusal" role="alert">
      <div class="refusal-head">
        <code class="refusal-code">{error.code}</code>
        {error.status > 0 && error.code !== `HTTP ${error.status}` ? <span class="refusal-status">HTTP {error.status}</span> : null}
      </div>
      <p class="refusal-message">{error.message}</p>
      {details.length > 0 && details.some((detail) => detail.path !== undefined) ? (
        <ul class="refusal-details">
          {details.map((detail, index) => (
            <li key={index}>
              {detail.path ? <code>{detail.path}</code> : null} {detail.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** An API read: its value, its refusal, whether it runs, and a way to run it again. */
export function useLoad<T>(load: () => Promise<T>, keys: readonly unknown[]): { value: T | null; error: unknown; loading: boolean; reload: () => void } {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (loaded) => {
        if (!current) return;
        setValue(loaded);
        setError(null);
        setLoading(false);
      },
      (failed: unknown) => {
        if (!current) return;
        setError(failed);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // The caller names what the load depends on.
  }, [...keys, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { value, error, loading, reload };
}

export type SortDirection = 'asc' | 'desc';

export interface Sort {
  key: string;
  direction: SortDirection;
}

/** The fields of a row a header can sort by: text, numbers and ISO times, or null. */
export type SortField<T> = { [K in keyof T]-?: T[K] extends string | number | null ? K : never }[keyof T] & string;

/** A column of a sortable table: its header's label and class, and the field it sorts by. */
export interface Column<T> {
  label: string;
  field: SortField<T>;
  class?: string;
}

/** A column header that sorts the loaded rows by its key, and says which way. */
export function SortHeader(props: { label: string; sortKey: string; sort: Sort | null; onSort: (sort: Sort) => void; class?: string }) {
  const active = props.sort?.key === props.sortKey;
  const direction: SortDirection = active && props.sort?.direction === 'asc' ? 'desc' : 'asc';
  return (
    <th class={props.class} aria-sort={active ? (props.sort?.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort" onClick={() => props.onSort({ key: props.sortKey, direction })}>
        {props.label}
        <span class="sort-mark" aria-hidden="true">
          {active ? (props.sort?.direction === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}

/**
 * Rows sorted by the field the sort names, if it is one of `fields` (any other key, from an
 * edited address, leaves them as loaded): text by locale, numbers and ISO times by value, nulls last.
 */
export function sortRows<T>(rows: readonly T[], sort: Sort | null, fields: ReadonlyArray<SortField<T>>): T[] {
  const field = fields.find((candidate) => candidate === sort?.key);
  if (sort === null || field === undefined) return [...rows];
  const sign = sort.direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const left = a[field] as string | number | null;
    const right = b[field] as string | number | null;
    if (left === right) return 0;
    if (left === null) return 1;
    if (right === null) return -1;
    if (typeof left === 'number' && typeof right === 'number') return (left - right) * sign;
    return String(left).localeCompare(String(right), 'en', { numeric: true }) * sign;
  });
}

/** A form control with its label, which names it for screen readers and the browser tests alike. */
export function Field(props: { label: ComponentChildren; class?: string; children: ComponentChildren }) {
  return (
    <label class={props.class === undefined ? 'field' : `field ${props.class}`}>
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}

/** A select's options, one per word, each shown by its label if it has one. */
export function Options(props: { words: readonly string[]; labels?: Readonly<Record<string, string>> }) {
  return (
    <>
      {props.words.map((word) => (
        <option key={word} value={word}>
          {props.labels?.[word] ?? word}
        </option>
      ))}
    </>
  );
}

export function Loading(props: { what: string }) {
  return <p class="muted loading">Loading {props.what}…</p>;
}
