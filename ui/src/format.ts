/** Times as an auditor reads them: in UTC, to the minute, the same on every screen. */
export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A date (YYYY-MM-DD) as given, or the day of an ISO time. */
export function day(value: string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : when(value);
}

/** The first characters of a hash: enough to compare by eye. */
export function short(hash: string | null | undefined, length = 12): string {
  if (hash === null || hash === undefined) return '—';
  return hash.length > length ? `${hash.slice(0, length)}…` : hash;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Today in UTC, as an <input type="date"> value. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
