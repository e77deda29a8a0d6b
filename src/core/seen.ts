/**
 * Duplicates with memory: what has been seen of one source event (`source` + `id`), so that a
 * repeat of any state already seen is a duplicate, not only a repeat of the last one. An
 * Alertmanager HA pair shows why: one member sends firing then resolved, the other repeats the
 * stale firing afterwards. The one exception is a sender going back from resolved to firing
 * itself (Alertmanager re-sending a merged alert with its old `startsAt`): that is new, unless it
 * was received before the resolve was: then it is a batch delivered again late (its worker died
 * holding it), and deciding it after the resolve would raise a recurrence that never happened.
 */
import { hash } from 'node:crypto';
import type { AlertStatus } from './types.js';

export interface SeenRecord {
  /** The last status received under this id, from any sender. */
  last: AlertStatus;
  /** Every status received under this id. */
  statuses: AlertStatus[];
  /** The last status from each sender that names itself, by a short hash of its name ({@link reporterKey}). */
  reporters: Record<string, AlertStatus>;
  /** When the latest `resolved` under this id was received (epoch ms); absent in records of earlier versions. */
  resolvedReceivedAt?: number;
}

interface SeenAlert {
  status: AlertStatus;
  reporter?: string | undefined;
  receivedAt?: number;
}

/** A sender's name as the record keeps it: short, since only its equality matters. */
export function reporterKey(reporter: string): string {
  return hash('sha256', reporter, 'hex').slice(0, 8);
}

/** How many senders of one event are remembered: an HA group has two or three. */
const REPORTERS = 8;

export function isDuplicate(record: SeenRecord | null, alert: SeenAlert): boolean {
  if (record === null) return false;
  const receivedBeforeResolve = record.resolvedReceivedAt !== undefined && alert.receivedAt !== undefined && alert.receivedAt < record.resolvedReceivedAt;
  if (alert.status === 'firing' && receivedBeforeResolve && record.statuses.includes('firing')) return true;
  const own = alert.reporter === undefined ? undefined : record.reporters[reporterKey(alert.reporter)];
  if (own !== undefined) return own === alert.status;
  return record.statuses.includes(alert.status);
}

/** The status the sender of this alert last said, or, for a sender never heard on it, the event's last. */
export function lastStatusFor(record: SeenRecord | null, reporter: string | undefined): AlertStatus | null {
  if (record === null) return null;
  return (reporter === undefined ? undefined : record.reporters[reporterKey(reporter)]) ?? record.last;
}

export function remember(record: SeenRecord | null, alert: SeenAlert): SeenRecord {
  const statuses = record === null ? [alert.status] : record.statuses.includes(alert.status) ? record.statuses : [...record.statuses, alert.status];
  const reporters = { ...(record?.reporters ?? {}) };
  if (alert.reporter !== undefined) {
    const key = reporterKey(alert.reporter);
    delete reporters[key];
    reporters[key] = alert.status;
    const names = Object.keys(reporters);
    for (const name of names.slice(0, Math.max(0, names.length - REPORTERS))) delete reporters[name];
  }
  const resolvedReceivedAt =
    alert.status === 'resolved' && alert.receivedAt !== undefined ? Math.max(alert.receivedAt, record?.resolvedReceivedAt ?? 0) : record?.resolvedReceivedAt;
  return resolvedReceivedAt === undefined ? { last: alert.status, statuses, reporters } : { last: alert.status, statuses, reporters, resolvedReceivedAt };
}

const LETTER: Record<AlertStatus, string> = { firing: 'f', resolved: 'r' };
const STATUS: Record<string, AlertStatus> = { f: 'firing', r: 'resolved' };

/**
 * Compact, since every symptom keeps a few: the last status's letter, then any other status seen,
 * then `|` and each sender's key and last letter, then `@` and when the latest resolve was
 * received, in base 36. `fr|1a2b3c4dr@mh1x2k3l` is last firing, resolved seen too, one sender
 * whose last was resolved, and the resolve's receipt.
 */
export function serializeSeen(record: SeenRecord): string {
  const others = record.statuses.filter((status) => status !== record.last).map((status) => LETTER[status]);
  const senders = Object.entries(record.reporters).map(([key, status]) => `|${key}${LETTER[status]}`);
  const resolved = record.resolvedReceivedAt === undefined ? '' : `@${record.resolvedReceivedAt.toString(36)}`;
  return `${LETTER[record.last]}${others.join('')}${senders.join('')}${resolved}`;
}

/** Reads what the store kept: the compact form, or the JSON and bare status of earlier versions. */
export function parseSeen(value: string | null | undefined): SeenRecord | null {
  if (value === null || value === undefined || value === '') return null;
  if (value === 'firing' || value === 'resolved') return { last: value, statuses: [value], reporters: {} };
  if (value.startsWith('{')) {
    const parsed = JSON.parse(value) as Partial<SeenRecord>;
    if (parsed.last !== 'firing' && parsed.last !== 'resolved') return null;
    // Earlier versions kept senders by name.
    const reporters = Object.fromEntries(Object.entries(parsed.reporters ?? {}).map(([name, status]) => [reporterKey(name), status]));
    return { last: parsed.last, statuses: parsed.statuses ?? [parsed.last], reporters };
  }
  const [compact = '', received] = value.split('@');
  const resolvedReceivedAt = received === undefined ? Number.NaN : parseInt(received, 36);
  const [statusLetters = '', ...senders] = compact.split('|');
  const last = STATUS[statusLetters[0] ?? ''];
  if (last === undefined) return null;
  const statuses = [...new Set([...statusLetters].map((letter) => STATUS[letter]).filter((status) => status !== undefined))];
  const reporters: Record<string, AlertStatus> = {};
  for (const sender of senders) {
    const status = STATUS[sender.slice(-1)];
    if (status !== undefined) reporters[sender.slice(0, -1)] = status;
  }
  return Number.isFinite(resolvedReceivedAt) ? { last, statuses, reporters, resolvedReceivedAt } : { last, statuses, reporters };
}
