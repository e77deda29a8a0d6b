/**
 * Duplicates with memory: what has been seen of one source event (`source` + `id`), so that a
 * repeat of any state already seen is a duplicate, not only a repeat of the last one. An
 * Alertmanager HA pair shows why: one member sends firing then resolved, the other repeats the
 * stale firing afterwards. The one exception is a sender going back from resolved to firing
 * itself (Alertmanager re-sending a merged alert with its old `startsAt`): that is new.
 */
import type { AlertStatus } from './types.js';

export interface SeenRecord {
  /** The last status received under this id, from any sender. */
  last: AlertStatus;
  /** Every status received under this id. */
  statuses: AlertStatus[];
  /** The last status from each sender that names itself (`reporter`). */
  reporters: Record<string, AlertStatus>;
}

/** How many senders of one event are remembered: an HA group has two or three. */
const REPORTERS = 8;

export function isDuplicate(record: SeenRecord | null, alert: { status: AlertStatus; reporter?: string | undefined }): boolean {
  if (record === null) return false;
  const own = alert.reporter === undefined ? undefined : record.reporters[alert.reporter];
  if (own !== undefined) return own === alert.status;
  return record.statuses.includes(alert.status);
}

/** The status the sender of this alert last said, or, for a sender never heard on it, the event's last. */
export function lastStatusFor(record: SeenRecord | null, reporter: string | undefined): AlertStatus | null {
  if (record === null) return null;
  return (reporter === undefined ? undefined : record.reporters[reporter]) ?? record.last;
}

export function remember(record: SeenRecord | null, alert: { status: AlertStatus; reporter?: string | undefined }): SeenRecord {
  const statuses = record === null ? [alert.status] : record.statuses.includes(alert.status) ? record.statuses : [...record.statuses, alert.status];
  const reporters = { ...(record?.reporters ?? {}) };
  if (alert.reporter !== undefined) {
    delete reporters[alert.reporter];
    reporters[alert.reporter] = alert.status;
    const names = Object.keys(reporters);
    for (const name of names.slice(0, Math.max(0, names.length - REPORTERS))) delete reporters[name];
  }
  return { last: alert.status, statuses, reporters };
}

export function serializeSeen(record: SeenRecord): string {
  return JSON.stringify(record);
}

/** Reads what the store kept; a bare status is how earlier versions kept the last one. */
export function parseSeen(value: string | null | undefined): SeenRecord | null {
  if (value === 'firing' || value === 'resolved') return { last: value, statuses: [value], reporters: {} };
  if (value === null || value === undefined || !value.startsWith('{')) return null;
  const parsed = JSON.parse(value) as Partial<SeenRecord>;
  if (parsed.last !== 'firing' && parsed.last !== 'resolved') return null;
  return { last: parsed.last, statuses: parsed.statuses ?? [parsed.last], reporters: parsed.reporters ?? {} };
}
