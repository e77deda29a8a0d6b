/**
 * The NC register. State, family, control and overdue are the API's filters (each has its own
 * index, so a page costs the same in any register); the text filter and the sorting apply to the
 * NCs loaded so far, which grow a page at a time.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, query, type Identity } from '../api.js';
import { Badge, Field, Link, Refusal, sortRows, useLoad, type Column } from '../components.js';
import { Filters, TextFilter, WordFilter, listFilterOf, mentions, sortParam, type ListFilter } from '../filters.js';
import { day, when } from '../format.js';
import { PagedTable, usePagedList } from '../paging.js';
import { navigate, type Location } from '../router.js';
import type { NcPage, NcView } from '../shapes.js';
import { FAMILIES, NC_STATES } from '../words.js';

interface Filter extends ListFilter {
  control: string;
  overdue: boolean;
}

function filterOf(params: URLSearchParams): Filter {
  return { ...listFilterOf(params), control: params.get('control') ?? '', overdue: params.get('overdue') === 'true' };
}

function pathOf(filter: Filter): string {
  return `/${query({ state: filter.state, family: filter.family, control: filter.control, overdue: filter.overdue, q: filter.text, sort: sortParam(filter.sort) })}`;
}

const COLUMNS: ReadonlyArray<Column<NcView>> = [
  { label: 'NC', field: 'id' },
  { label: 'Title', field: 'title' },
  { label: 'State', field: 'state' },
  { label: 'Family', field: 'family' },
  { label: 'Control', field: 'control' },
  { label: 'Asset', field: 'asset' },
  { label: 'Occ.', field: 'occurrences', class: 'number' },
  { label: 'Reopened', field: 'reopenCount', class: 'number' },
  { label: 'Owner', field: 'owner' },
  { label: 'Due', field: 'dueDate' },
  { label: 'Updated', field: 'updatedAt' },
];
// Also sortable from the address, though no column shows it.
const SORT_FIELDS = [...COLUMNS.map((column) => column.field), 'openedAt' as const];

function StateCounts(props: { filter: Filter; onPick: (state: string) => void }) {
  const { family, control } = props.filter;
  const counts = useLoad(
    () =>
      Promise.all(
        ['', ...NC_STATES].map(async (state) => {
          const page = await getJson<NcPage>(`/nonconformities${query({ state, family, control, limit: 1 })}`);
          return [state, page.count] as const;
        }),
      ),
    [family, control],
  );
  if (counts.error !== null) return <Refusal error={counts.error} />;
  return (
    <div class="counts" role="group" aria-label="NCs by state">
      {(counts.value ?? ['', ...NC_STATES].map((state) => [state, null] as const)).map(([state, count]) => (
        <button
          type="button"
          key={state || 'all'}
          class={props.filter.state === state ? 'count active' : 'count'}
          data-state={state || 'all'}
          aria-pressed={props.filter.state === state}
          onClick={() => props.onPick(state)}
        >
          <span class="count-number">{count ?? '…'}</span>
          <span class="count-label">{state === '' ? 'all' : state}</span>
        </button>
      ))}
    </div>
  );
}

export function RegisterView(props: { location: Location; identity: Identity }) {
  const filter = filterOf(props.location.params);
  const [controlDraft, setControlDraft] = useState(filter.control);
  const apiFilter = { state: filter.state, family: filter.family, control: filter.control, overdue: filter.overdue };
  const list = usePagedList(
    (paging) => getJson<NcPage>(`/nonconformities${query({ ...apiFilter, ...paging })}`),
    (page) => page.nonconformities,
    [JSON.stringify(apiFilter)],
  );

  useEffect(() => setControlDraft(filter.control), [filter.control]);

  const change = (changes: Partial<Filter>): void => navigate(pathOf({ ...filter, ...changes }), true);
  const shown = sortRows(
    list.items.filter((nc) => mentions(filter.text, [nc.id, nc.title, nc.asset, nc.check, nc.owner, nc.control, nc.source, nc.detector])),
    filter.sort,
    SORT_FIELDS,
  );

  return (
    <section>
      <div class="page-head">
        <h1>Nonconformity register</h1>
        <p class="muted">Each NC is a fix that did not hold: the same failure came back inside its effectiveness window.</p>
      </div>
      <StateCounts filter={filter} onPick={(state) => change({ state })} />
      <Filters onSubmit={() => change({ control: controlDraft.trim() })}>
        <WordFilter label="State" name="state" value={filter.state} words={NC_STATES} onPick={(state) => change({ state })} />
        <WordFilter label="Family" name="family" value={filter.family} words={FAMILIES} onPick={(family) => change({ family })} />
        <Field label="Annex A control">
          <input
            name="control"
            placeholder="A.8.13"
            value={controlDraft}
            onInput={(event) => setControlDraft(event.currentTarget.value)}
            onChange={(event) => change({ control: event.currentTarget.value.trim() })}
          />
        </Field>
        <label class="field check">
          <input type="checkbox" name="overdue" checked={filter.overdue} onChange={(event) => change({ overdue: event.currentTarget.checked })} />
          <span>Overdue only</span>
        </label>
        <TextFilter what="NCs" placeholder="id, title, asset, check, owner…" value={filter.text} onInput={(text) => change({ text })} />
      </Filters>
      <PagedTable
        list={list}
        what="NCs"
        shown={shown.length}
        note={filter.text !== '' ? ` · text “${filter.text}”` : ''}
        summaryTestId="register-summary"
        testId="register"
        empty="No NC matches."
        columns={COLUMNS}
        sort={filter.sort}
        onSort={(sort) => change({ sort })}
      >
        {shown.map((nc) => (
          <tr key={nc.id} data-nc={nc.id}>
            <td class="nowrap">
              <Link to={`/nc/${encodeURIComponent(nc.id)}`}>{nc.id}</Link>
            </td>
            <td class="title-cell">{nc.title}</td>
            <td>
              <Badge kind={nc.state} />
            </td>
            <td class="nowrap">{nc.family}</td>
            <td class="nowrap">{nc.control ?? '—'}</td>
            <td class="nowrap">{nc.asset || '—'}</td>
            <td class="number">{nc.occurrences}</td>
            <td class="number">{nc.reopenCount}</td>
            <td>{nc.owner ?? '—'}</td>
            <td class="nowrap">
              {day(nc.dueDate)} {nc.overdue ? <Badge kind="overdue" title={`overdue since ${when(nc.overdueSince)}`} /> : null}
            </td>
            <td class="nowrap muted">{when(nc.updatedAt)}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}
