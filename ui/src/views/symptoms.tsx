/**
 * Symptoms: firing (active), fixed and inside their effectiveness window, or verified. State,
 * family, check and asset are the API's filters (check and asset match whole values); the text
 * filter and the sorting apply to the symptoms loaded so far.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, query } from '../api.js';
import { Badge, Link, Loading, Refusal, SortHeader, sortRows, useLoad, type Sort } from '../components.js';
import { when } from '../format.js';
import { navigate, type Location } from '../router.js';
import type { SymptomPage, SymptomView } from '../shapes.js';
import type { SymptomState } from '../../../src/core/types.js';
import { FAMILIES, SYMPTOM_STATE_LABELS, SYMPTOM_STATES } from '../words.js';

const PAGE = 50;

interface Filter {
  state: string;
  family: string;
  check: string;
  asset: string;
  text: string;
  sort: Sort | null;
}

function filterOf(params: URLSearchParams): Filter {
  const [key, direction] = (params.get('sort') ?? '').split(':');
  return {
    state: params.get('state') ?? '',
    family: params.get('family') ?? '',
    check: params.get('check') ?? '',
    asset: params.get('asset') ?? '',
    text: params.get('q') ?? '',
    sort: key ? { key, direction: direction === 'desc' ? 'desc' : 'asc' } : null,
  };
}

function pathOf(filter: Filter): string {
  return `/symptoms${query({
    state: filter.state,
    family: filter.family,
    check: filter.check,
    asset: filter.asset,
    q: filter.text,
    sort: filter.sort === null ? null : `${filter.sort.key}:${filter.sort.direction}`,
  })}`;
}

function sortValue(symptom: SymptomView, key: string): string | number | null {
  switch (key) {
    case 'occurrences':
      return symptom.occurrences;
    case 'title':
    case 'state':
    case 'family':
    case 'check':
    case 'asset':
    case 'nc':
    case 'lastFiringAt':
    case 'fixedAt':
    case 'windowEndsAt':
      return symptom[key];
    default:
      return null;
  }
}

function matches(symptom: SymptomView, text: string): boolean {
  if (text === '') return true;
  const needle = text.toLowerCase();
  return [symptom.title, symptom.check, symptom.asset, symptom.source, symptom.nc, symptom.control, symptom.fingerprint].some((value) => value?.toLowerCase().includes(needle));
}

export function SymptomsView(props: { location: Location }) {
  const filter = filterOf(props.location.params);
  const [items, setItems] = useState<SymptomView[]>([]);
  const [count, setCount] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [drafts, setDrafts] = useState({ check: filter.check, asset: filter.asset });

  const apiFilter = { state: filter.state, family: filter.family, check: filter.check, asset: filter.asset };
  const key = JSON.stringify(apiFilter);
  // An empty check or asset is a filter of its own in the API (none named); here it means any.
  const listPath = (extra: Record<string, string | number>): string =>
    `/symptoms${query({ state: filter.state, family: filter.family, check: filter.check, asset: filter.asset, ...extra })}`;

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    getJson<SymptomPage>(listPath({ limit: PAGE })).then(
      (page) => {
        if (!current) return;
        setItems(page.symptoms);
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
    // listPath reads what `key` spells.
  }, [key]);

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

  const loadMore = async (): Promise<void> => {
    if (cursor === null) return;
    setMore(true);
    try {
      const page = await getJson<SymptomPage>(listPath({ limit: PAGE, cursor }));
      setItems((loaded) => [...loaded, ...page.symptoms]);
      setCursor(page.nextCursor);
    } catch (failed) {
      setError(failed);
    } finally {
      setMore(false);
    }
  };

  const shown = sortRows(
    items.filter((symptom) => matches(symptom, filter.text)),
    filter.sort,
    sortValue,
  );
  const sortProps = { sort: filter.sort, onSort: (sort: Sort) => change({ sort }) };

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
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(event) => {
          event.preventDefault();
          change({ check: drafts.check.trim(), asset: drafts.asset.trim() });
        }}
      >
        <label class="field">
          <span>State</span>
          <select name="state" value={filter.state} onChange={(event) => change({ state: event.currentTarget.value })}>
            <option value="">any</option>
            {SYMPTOM_STATES.map((state) => (
              <option key={state} value={state}>
                {SYMPTOM_STATE_LABELS[state]}
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
          <span>Check (exact)</span>
          <input
            name="check"
            value={drafts.check}
            onInput={(event) => setDrafts({ ...drafts, check: event.currentTarget.value })}
            onChange={(event) => change({ check: event.currentTarget.value.trim() })}
          />
        </label>
        <label class="field">
          <span>Asset (exact)</span>
          <input
            name="asset"
            value={drafts.asset}
            onInput={(event) => setDrafts({ ...drafts, asset: event.currentTarget.value })}
            onChange={(event) => change({ asset: event.currentTarget.value.trim() })}
          />
        </label>
        <label class="field grow">
          <span>Text (in the symptoms loaded)</span>
          <input type="search" name="q" placeholder="title, check, asset, NC…" value={filter.text} onInput={(event) => change({ text: event.currentTarget.value })} />
        </label>
      </form>
      <Refusal error={error} />
      {loading ? (
        <Loading what="symptoms" />
      ) : (
        <>
          <p class="summary">
            {shown.length} shown · {items.length} of {count} loaded
          </p>
          <div class="table-wrap">
            <table class="grid" data-testid="symptoms">
              <thead>
                <tr>
                  <SortHeader label="Title" sortKey="title" {...sortProps} />
                  <SortHeader label="State" sortKey="state" {...sortProps} />
                  <SortHeader label="Family" sortKey="family" {...sortProps} />
                  <SortHeader label="Check" sortKey="check" {...sortProps} />
                  <SortHeader label="Asset" sortKey="asset" {...sortProps} />
                  <SortHeader label="Occ." sortKey="occurrences" class="number" {...sortProps} />
                  <SortHeader label="Last firing" sortKey="lastFiringAt" {...sortProps} />
                  <SortHeader label="Fixed" sortKey="fixedAt" {...sortProps} />
                  <SortHeader label="Window ends" sortKey="windowEndsAt" {...sortProps} />
                  <SortHeader label="NC" sortKey="nc" {...sortProps} />
                </tr>
              </thead>
              <tbody>
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
                {shown.length === 0 ? (
                  <tr>
                    <td colSpan={10} class="empty">
                      No symptom matches.
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
