/**
 * A list the API hands out a page at a time (NCs, symptoms): the first page for the filters in
 * the address, then further pages on request, appended to the rows loaded so far; and the table
 * that shows them, with how many are shown, loaded and there in all.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Loading, Refusal, SortHeader, type Column, type Sort } from './components.js';

/** Rows a request asks for: few enough to come back at once, enough to fill a screen or two. */
const PAGE_SIZE = 50;

/** What a list request adds to its filters; the first page has no cursor. */
export interface Paging {
  limit: number;
  cursor: string | null;
}

/** What every page of a list answers besides its rows. */
interface Page {
  count: number;
  nextCursor: string | null;
}

export interface PagedList<T> {
  items: T[];
  /** How many match the filters in all, loaded or not. */
  count: number;
  /** Where the next page starts; null once all are loaded. */
  cursor: string | null;
  loading: boolean;
  loadingMore: boolean;
  error: unknown;
  loadMore: () => Promise<void>;
}

/**
 * The rows of a paged list: `fetchPage` asks the API for one page, `rowsOf` takes its rows out,
 * and `keys` name what the first page depends on, as for `useLoad`.
 */
export function usePagedList<P extends Page, T>(fetchPage: (paging: Paging) => Promise<P>, rowsOf: (page: P) => T[], keys: readonly unknown[]): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [count, setCount] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    fetchPage({ limit: PAGE_SIZE, cursor: null }).then(
      (page) => {
        if (!current) return;
        setItems(rowsOf(page));
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
    // The caller names what the first page depends on.
  }, keys);

  const loadMore = async (): Promise<void> => {
    if (cursor === null) return;
    setLoadingMore(true);
    try {
      const page = await fetchPage({ limit: PAGE_SIZE, cursor });
      setItems((loaded) => [...loaded, ...rowsOf(page)]);
      setCursor(page.nextCursor);
    } catch (failed) {
      setError(failed);
    } finally {
      setLoadingMore(false);
    }
  };

  return { items, count, cursor, loading, loadingMore, error, loadMore };
}

function LoadMore(props: { list: PagedList<unknown> }) {
  const { list } = props;
  if (list.cursor === null) return null;
  return (
    <div class="actions">
      <button type="button" onClick={() => void list.loadMore()} disabled={list.loadingMore}>
        {list.loadingMore ? 'Loading…' : `Load ${Math.min(PAGE_SIZE, list.count - list.items.length)} more`}
      </button>
    </div>
  );
}

/**
 * A paged list's table: the API's refusal, then (once the first page is in) how many rows the
 * text filter left of those loaded, the table with a sorting header for each column and the
 * `children` rows, a row saying `empty` when none is shown, and the button that loads the next page.
 */
export function PagedTable<T>(props: {
  list: PagedList<T>;
  /** What the rows are, as in "Loading NCs…". */
  what: string;
  shown: number;
  /** What the summary adds after the counts, such as the text filtered by. */
  note?: string;
  summaryTestId?: string;
  testId: string;
  columns: ReadonlyArray<Column<T>>;
  sort: Sort | null;
  onSort: (sort: Sort) => void;
  empty: string;
  children: ComponentChildren;
}) {
  const { list } = props;
  return (
    <>
      <Refusal error={list.error} />
      {list.loading ? (
        <Loading what={props.what} />
      ) : (
        <>
          <p class="summary" data-testid={props.summaryTestId}>
            {props.shown} shown · {list.items.length} of {list.count} loaded
            {props.note}
          </p>
          <div class="table-wrap">
            <table class="grid" data-testid={props.testId}>
              <thead>
                <tr>
                  {props.columns.map((column) => (
                    <SortHeader key={column.field} label={column.label} sortKey={column.field} class={column.class} sort={props.sort} onSort={props.onSort} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {props.children}
                {props.shown === 0 ? (
                  <tr>
                    <td colSpan={props.columns.length} class="empty">
                      {props.empty}
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          <LoadMore list={list} />
        </>
      )}
    </>
  );
}
