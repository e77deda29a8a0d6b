/**
 * What counts as an event time, for every intake alike: an ISO 8601 time with offset, or a count
 * since the epoch in a stated unit, and never before {@link EARLIEST_EVENT_TIME}.
 */
import { z } from 'zod';

/**
 * 2000-01-01T00:00:00Z. No source recurd reads wrote events before it: an earlier time is a zero
 * or unset field, or seconds read as milliseconds, and an NC dated 1970 would be worse than none.
 */
export const EARLIEST_EVENT_TIME = Date.parse('2000-01-01T00:00:00Z');

/** The units a count since the epoch may be in: a source's number means nothing without one. */
export const EPOCH_UNITS = ['s', 'ms'] as const;
export type EpochUnit = (typeof EPOCH_UNITS)[number];

const MS_PER_UNIT: Record<EpochUnit, number> = { s: 1000, ms: 1 };
const UNIT_NAMES: Record<EpochUnit, string> = { s: 'seconds', ms: 'milliseconds' };
/** The last instant a JavaScript Date can hold. */
const LATEST_EPOCH_MS = 8.64e15;
const isoInstant = z.iso.datetime({ offset: true });
const EPOCH_COUNT = /^\d+(\.\d+)?$/;

/** A number, or a string of digits (fraction allowed): a count since the epoch, in some unit. */
export function isEpochCount(value: unknown): value is number | string {
  return typeof value === 'number' || (typeof value === 'string' && EPOCH_COUNT.test(value));
}

/** The value as an error quotes it; like payload.ts's describeValue, a long string is not echoed. */
function shown(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return value.length > 64 ? `a ${value.length}-character string` : JSON.stringify(value);
}

export type EventTime = { ms: number } | { problem: string };

/**
 * An event time as epoch ms, or what is wrong with it (`is …, …`, for the caller to prefix with
 * the field). Without a unit a count since the epoch is refused: seconds and milliseconds would
 * both read as a time. An ISO 8601 time needs no unit.
 */
export function parseEventTime(value: string | number, unit?: EpochUnit): EventTime {
  let ms: number;
  if (isEpochCount(value)) {
    if (unit === undefined) return { problem: `is ${shown(value)}, a count since the epoch without its unit (seconds or milliseconds)` };
    ms = Number(value) * MS_PER_UNIT[unit];
  } else if (isoInstant.safeParse(value).success) {
    ms = Date.parse(value);
  } else {
    const count = unit === undefined ? '' : ` or epoch ${UNIT_NAMES[unit]}`;
    return { problem: `is ${shown(value)}, not an ISO 8601 time with offset${count}` };
  }
  if (!Number.isFinite(ms) || Math.abs(ms) > LATEST_EPOCH_MS) return { problem: `is ${shown(value)}, beyond the times a date can hold` };
  const rounded = Math.round(ms);
  if (rounded < EARLIEST_EVENT_TIME) {
    return { problem: `is ${shown(value)} (${new Date(rounded).toISOString()}), before the year 2000: not a plausible event time` };
  }
  return { ms: rounded };
}
