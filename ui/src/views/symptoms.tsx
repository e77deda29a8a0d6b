/**
 * Symptoms: firing (active), fixed and inside their effectiveness window, or verified. State,
 * family, check and asset are the API's filters (check and asset match whole values); the text
 * filter and the sorting apply to the symptoms loaded so far.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, query } from '../api.js';
import { Badge, Field, Link, Refusal, sortRows, useLoad, type Column } from '../components.js';
import { Filters, TextFilter, WordFilter, listFilterOf, mentions, sortParam, type ListFilter } from '../filters.js';
import { when } from '../format.js';
import { PagedTable, usePagedList } from '../paging.js';
import { navigate, type Location } from '../router.js';
import type { SymptomPage, SymptomView } from '../shapes.js';
import type { SymptomState } from '../../../src/core/types.js';
import { FAMILIES, SYMPTOM_STATE_LABELS, SYMPTOM_STATES } from '../words.js';

interface Filter extends ListFilter {
  check: string;
  asset: string;
}

function filterOf(params: URLSearchParams): Filter {
  return { ...listFilterOf(params), check: params.get('check') ?? '', asset: params.get('asset') ?? '' };
}

function pathOf(filter: Filter): string {
  return `/symptoms${query({ state: filter.state, family: filter.family, check: filter.check, asset: filter.asset, q: filter.text, sort: sortParam(filter.sort) })}`;
}

const COLUMNS: ReadonlyArray<Column<SymptomView>> = [
  { label: 'Title', field: 'title' },
  { label: 'State', field: 'state' },
  { label: 'Family', field: 'family' },
  { label: 'Check', field: 'check' },
  { label: 'Asset', field: 'asset' },
  { label: 'Occ.', field: 'occurrences', class: 'number' },
  { label: 'Last firing', field: 'lastFiringAt' },
  { label: 'Fixed', field: 'fixedAt' },
  { label: 'Window ends', field: 'windowEndsAt' },
  { label: 'NC', field: 'nc' },
];

export function SymptomsView(props: { location: Location }) {
  const filter = filterOf(props.location.params);
  const [drafts, setDrafts] = useState({ check: filter.check, asset: filter.asset });
  const apiFilter = { state: filter.state, family: filter.family, check: filter.check, asset: filter.asset };
  // An empty check or asset is a filter of its own in the API (none named); here it means any.
  const list = usePagedList(
    (paging) => getJson<SymptomPage>(`/symptoms${query({ ...apiFilter, ...paging })}`),
    (page) => page.symptoms,
    [JSON.stringify(apiFilter)],
  );

  useEffect(() => setDrafts({ check: filter.check, asset: filter.asset }), [filter.check, filter.asset]);

  const counts = useLoad(
    () =>
      Promise.all(
        ['', ...SYMPTOM_STATES].map(async (state) => {
          const page = await getJson<SymptomPage>(`/symptoms${query({ state, family: filter.family, limit: 1 })}`);
          return [state, page.count] as const;
        }),
      ),
    [filter.family],
  );

  const change = (changes: Partial<Filter>): void => navigate(pathOf({ ...filter, ...changes }), true);
  const shown = sortRows(
    list.items.filter((symptom) => mentions(filter.text, [symptom.title, symptom.check, symptom.asset, symptom.source, symptom.nc, symptom.control, symptom.fingerprint])),
    filter.sort,
    COLUMNS.map((column) => column.field),
  );

  return (
    <section>
      <div class="page-head">
        <h1>Symptoms</h1>
        <p class="muted">The same failure across time. A fixed symptom that fires again inside its window raises or reopens an NC.</p>
      </div>
      <Refusal error={counts.error} />
      <div class="counts" role="group" aria-label="Symptoms by state">
        {(counts.value ?? ['', ...SYMPTOM_STATES].map((state) => [state, null] as const)).map(([state, number]) => (
          <button type="button" key={state || 'all'} class={filter.state === state ? 'count active' : 'count'} aria-pressed={filter.state === state} onClick={() => change({ state })}>
            <span class="count-number">{number ?? '…'}</span>
            <span class="count-label">{state === '' ? 'all' : SYMPTOM_STATE_LABELS[state as SymptomState]}</span>
          </button>
        ))}
      </div>
      <Filters onSubmit={() => change({ check: drafts.check.trim(), asset: drafts.asset.trim() })}>
        <WordFilter label="State" name="state" value={filter.state} words={SYMPTOM_STATES} labels={SYMPTOM_STATE_LABELS} onPick={(state) => change({ state })} />
        <WordFilter label="Family" name="family" value={filter.family} words={FAMILIES} onPick={(family) => change({ family })} />
        <Field label="Check (exact)">
          <input name="check" value={drafts.check} onInput={(event) => setDrafts({ ...drafts, check: event.currentTarget.value })} onChange={(event) => change({ check: event.currentTarget.value.trim() })} />
        </Field>
        <Field label="Asset (exact)">
          <input name="asset" value={drafts.asset} onInput={(event) => setDrafts({ ...drafts, asset: event.currentTarget.value })} onChange={(event) => change({ asset: event.currentTarget.value.trim() })} />
        </Field>
        <TextFilter what="symptoms" placeholder="title, check, asset, NC…" value={filter.text} onInput={(text) => change({ text })} />
      </Filters>
      <PagedTable
        list={list}
        what="symptoms"
        shown={shown.length}
        testId="symptoms"
        empty="No symptom matches."
        columns={COLUMNS}
        sort={filter.sort}
        onSort={(sort) => change({ sort })}
      >
        {shown.map((symptom) => (
          <tr key={symptom.fingerprint} data-fingerprint={symptom.fingerprint}>
            <td class="title-cell" title={symptom.fingerprint}>
              {symptom.title}
            </td>
            <td>
              <Badge kind={`symptom-${symptom.state}`}>{SYMPTOM_STATE_LABELS[symptom.state]}</Badge>
            </td>
            <td class="nowrap">{symptom.family}</td>
            <td>{symptom.check || '—'}</td>
            <td class="nowrap">{symptom.asset || '—'}</td>
            <td class="number">{symptom.occurrences}</td>
            <td class="nowrap muted">{when(symptom.lastFiringAt)}</td>
            <td class="nowrap muted">
              {when(symptom.fixedAt)}
              {symptom.fixKind !== null ? <span class="fine"> ({symptom.fixKind})</span> : null}
            </td>
            <td class="nowrap muted">{when(symptom.windowEndsAt)}</td>
            <td class="nowrap">{symptom.nc !== null ? <Link to={`/nc/${encodeURIComponent(symptom.nc)}`}>{symptom.nc}</Link> : '—'}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}
