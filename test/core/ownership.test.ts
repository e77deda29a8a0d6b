/** When a due date has passed, on the injected clock: the whole day for a date, the instant for a time. */
import { describe, expect, it } from 'vitest';
import { dueDateEnds, dueDateProblem } from '../../src/core/ownership.js';

const NOON = Date.parse('2026-03-10T12:00:00Z');

describe('due dates', () => {
  it('takes a date as due by the end of that day (UTC), and a time as due at that instant', () => {
    expect(dueDateEnds('2026-03-10')).toBe(Date.parse('2026-03-11T00:00:00Z'));
    expect(dueDateEnds('2026-03-10T09:00:00+01:00')).toBe(Date.parse('2026-03-10T08:00:00Z'));
    expect(dueDateProblem('2026-03-10', NOON)).toBeNull();
    expect(dueDateProblem('2026-03-10T12:00:01Z', NOON)).toBeNull();
  });

  it('refuses one that has passed, saying when it is now', () => {
    expect(dueDateProblem('2026-03-09', NOON)).toEqual({ reason: 'past', message: '2026-03-09 is in the past (it is now 2026-03-10T12:00:00.000Z)' });
    expect(dueDateProblem('2026-03-10T12:00:00Z', NOON)?.reason).toBe('past');
  });

  it('names what is not a date: a day that does not exist, a time without an offset, words', () => {
    for (const text of ['2026-02-30', '2026-03-10T12:00:00', 'next week', '']) {
      expect(dueDateProblem(text, NOON)).toEqual({ reason: 'invalid', message: `"${text}" is not a date (YYYY-MM-DD) or an ISO 8601 time with an offset` });
    }
  });
});
