/**
 * The NC register. State, family, control and overdue are the API's filters (each has its own
 * index, so a page costs the same in any register); the text filter and the sorting apply to the
 * NCs loaded so far, which grow a page at a time.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, query, type Identity } from '../api.js';
import { Badge, Link, Loading, Refusal, SortHeader, sortRows, useLoad, type Sort } from '../components.js';
import { day, when } from '../format.js';
import { navigate, type Location } from '../router.js';
import type { NcPage, NcView } from '../shapes.js';
import { FAMILIES, NC_STATES } from '../words.js';

const PAGE = 50;

interface Filter {
  state: string;
  family: string;
  control: string;
  overdue: boolean;
  text: string;
  sort: Sort | null;
}

function filterOf(params: URLSearchParams): Filter {
  const [key, direction] = (params.get('sort') ?? '').split(':');
  return {
    state: params.get('state') ?? '',
    family: params.get('family') ?? '',
    control: params.get('control') ?? '',
    overdue: params.get('overdue') === 'true',
    text: params.get('q') ?? '',
    sort: key ? { key, direction: direction === 'desc' ? 'desc' : 'asc' } : null,
  };
}

function pathOf(filter: Filter): string {
  return `/${query({
    state: filter.state,
    family: filter.family,
    control: filter.control,
    overdue: filter.overdue,
    q: filter.text,
    sort: filter.sort === null ? null : `${filter.sort.key}:${filter.sort.direction}`,
  })}`;
}

function sortValue(nc: NcView, key: string): string | number | null {
  switch (key) {
    case 'occurrences':
      return nc.occurrences;
    case 'reopenCount':
      return nc.reopenCount;
    case 'id':
    case 'title':
    case 'state':
    case 'family':
    case 'control':
    case 'asset':
    case 'owner':
    case 'dueDate':
    case 'openedAt':
    case 'updatedAt':
      return nc[key];
    default:
      return null;
  }
}

function matches(nc: NcView, text: string): boolean {
  if (text === '') return true;
  const needle = text.toLowerCase();
  return [nc.id, nc.title, nc.asset, nc.check, nc.owner, nc.control, nc.source, nc.detector].some((value) => value?.toLowerCase().includes(needle));
}

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
  const [items, setItems] = useState<NcView[]>([]);
  const [count, setCount] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [controlDraft, setControlDraft] = useState(filter.control);

  const apiFilter = { state: filter.state, family: filter.family, control: filter.control, overdue: filter.overdue };
  const key = JSON.stringify(apiFilter);

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    getJson<NcPage>(`/nonconformities${query({ ...apiFilter, limit: PAGE })}`).then(
      (page) => {
        if (!current) return;
        setItems(page.nonconformities);
        setCount(page.count);
        setCursor(page.nextCursor);
        setLoading(false);
      },
      (failed: unknown) => {
        if (!current) return;
        setError(failed);
        setItems([]);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // apiFilter is what `key` spells.
  }, [key]);

  useEffect(() => setControlDraft(filter.control), [filter.control]);

  const change = (changes: Partial<Filter>): void => navigate(pathOf({ ...filter, ...changes }), true);

  const loadMore = async (): Promise<void> => {
    if (cursor === null) return;
    setMore(true);
    try {
      const page = await getJson<NcPage>(`/nonconformities${query({ ...apiFilter, limit: PAGE, cursor })}`);
      setItems((loaded) => [...loaded, ...page.nonconformities]);
      setCursor(page.nextCursor);
    } catch (failed) {
      setError(failed);
    } finally {
      setMore(false);
    }
  };

  const shown = sortRows(
    items.filter((nc) => matches(nc, filter.text)),
    filter.sort,
    sortValue,
  );
  const sortProps = { sort: filter.sort, onSort: (sort: Sort) => change({ sort }) };

  return (
    <section>
      <div class="page-head">
        <h1>Nonconformity register</h1>
        <p class="muted">Each NC is a fix that did not hold: the same failure came back inside its effectiveness window.</p>
      </div>
      <StateCounts filter={filter} onPick={(state) => change({ state })} />
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(event) => {
          event.preventDefault();
          change({ control: controlDraft.trim() });
        }}
      >
        <label class="field">
          <span>State</span>
          <select name="state" value={filter.state} onChange={(event) => change({ state: event.currentTarget.value })}>
            <option value="">any</option>
            {NC_STATES.map((state) => (
              <option key={state} value={state}>
                {state}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Family</span>
          <select name="family" value={filter.family} onChange={(event) => change({ family: event.currentTarget.value })}>
            <option value="">any</option>
            {FAMILIES.map((family) => (
              <option key={family} value={family}>
                {family}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Annex A control</span>
          <input
            name="control"
            placeholder="A.8.13"
            value={controlDraft}
            onInput={(event) => setControlDraft(event.currentTarget.value)}
            onChange={(event) => change({ control: event.currentTarget.value.trim() })}
          />
        </label>
        <label class="field check">
          <input type="checkbox" name="overdue" checked={filter.overdue} onChange={(event) => change({ overdue: event.currentTarget.checked })} />
          <span>Overdue only</span>
        </label>
        <label class="field grow">
          <span>Text (in the NCs loaded)</span>
          <input type="search" name="q" placeholder="id, title, asset, check, owner…" value={filter.text} onInput={(event) => change({ text: event.currentTarget.value })} />
        </label>
      </form>
      <Refusal error={error} />
      {loading ? (
        <Loading what="NCs" />
      ) : (
        <>
          <p class="summary" data-testid="register-summary">
            {shown.length} shown · {items.length} of {count} loaded
            {filter.text !== '' ? ` · text “${filter.text}”` : ''}
          </p>
          <div class="table-wrap">
            <table class="grid" data-testid="register">
              <thead>
                <tr>
                  <SortHeader label="NC" sortKey="id" {...sortProps} />
                  <SortHeader label="Title" sortKey="title" {...sortProps} />
                  <SortHeader label="State" sortKey="state" {...sortProps} />
                  <SortHeader label="Family" sortKey="family" {...sortProps} />
                  <SortHeader label="Control" sortKey="control" {...sortProps} />
                  <SortHeader label="Asset" sortKey="asset" {...sortProps} />
                  <SortHeader label="Occ." sortKey="occurrences" class="number" {...sortProps} />
                  <SortHeader label="Reopened" sortKey="reopenCount" class="number" {...sortProps} />
                  <SortHeader label="Owner" sortKey="owner" {...sortProps} />
                  <SortHeader label="Due" sortKey="dueDate" {...sortProps} />
                  <SortHeader label="Updated" sortKey="updatedAt" {...sortProps} />
                </tr>
              </thead>
              <tbody>
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
                {shown.length === 0 ? (
                  <tr>
                    <td colSpan={11} class="empty">
                      No NC matches.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          {cursor !== null ? (
            <div class="actions">
              <button type="button" onClick={() => void loadMore()} disabled={more}>
                {more ? 'Loading…' : `Load ${Math.min(PAGE, count - items.length)} more`}
              </button>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
