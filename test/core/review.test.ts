/**
 * The management review's figures from hand-built NCs and timelines: the period, month edges in
 * UTC, void NCs, reopens of NCs opened earlier, action strengths and the mean time to verified.
 */
import { describe, expect, it } from 'vitest';
import { compareControls, MAX_REVIEW_MONTHS, ReviewTally, reviewOf, reviewPeriod, type ReviewedNc, type ReviewPeriod } from '../../src/core/review.js';
import type { TimelineEntry } from '../../src/core/types.js';

const DAY = 86_400_000;
const t = (iso: string): number => Date.parse(iso);

function period(from: string, to: string): ReviewPeriod {
  const made = reviewPeriod({ from, to }, t('2026-06-15T12:00:00Z'));
  if ('problem' in made) throw new Error(made.problem);
  return made;
}

function nc(fields: Partial<ReviewedNc> & Pick<ReviewedNc, 'openedAt'>): ReviewedNc {
  return { state: 'open', control: 'A.8.13', updatedAt: fields.openedAt, voided: null, ...fields };
}

function entry(type: string, at: string, detail: Record<string, unknown> = {}): TimelineEntry {
  return { at: t(at), type, detail };
}

describe('reviewPeriod', () => {
  const now = t('2026-03-15T10:00:00Z');

  it('is the last twelve months, the current one included, when none is given', () => {
    expect(reviewPeriod({}, now)).toMatchObject({ from: '2025-04', to: '2026-03', start: t('2025-04-01T00:00:00Z'), end: t('2026-04-01T00:00:00Z') });
    const made = reviewPeriod({}, now) as ReviewPeriod;
    expect(made.months).toEqual(['2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01', '2026-02', '2026-03']);
  });

  it('takes the month of now in UTC: the last instant of a month is still that month', () => {
    expect(reviewPeriod({}, t('2026-01-31T23:59:59.999Z'))).toMatchObject({ from: '2025-02', to: '2026-01' });
    expect(reviewPeriod({}, t('2026-02-01T00:00:00.000Z'))).toMatchObject({ from: '2025-03', to: '2026-02' });
  });

  it('runs twelve months back from `to` alone, and up to the current month from `from` alone', () => {
    expect(reviewPeriod({ to: '2025-12' }, now)).toMatchObject({ from: '2025-01', to: '2025-12' });
    expect(reviewPeriod({ from: '2026-01' }, now)).toMatchObject({ from: '2026-01', to: '2026-03', months: ['2026-01', '2026-02', '2026-03'] });
    expect(reviewPeriod({ from: '2025-07', to: '2025-07' }, now)).toMatchObject({ months: ['2025-07'], start: t('2025-07-01T00:00:00Z'), end: t('2025-08-01T00:00:00Z') });
  });

  it('names the field of a month that is not YYYY-MM, and refuses a period that runs backwards or too long', () => {
    expect(reviewPeriod({ from: '2026-13' }, now)).toEqual({ field: 'from', problem: '"2026-13" is not a month (YYYY-MM, such as 2026-03)' });
    expect(reviewPeriod({ to: '2026-3' }, now)).toMatchObject({ field: 'to' });
    expect(reviewPeriod({ to: '2026-03-01' }, now)).toMatchObject({ field: 'to' });
    expect(reviewPeriod({ from: '2026-02', to: '2026-01' }, now)).toEqual({ field: 'from', problem: '2026-02 is after 2026-01: the period runs from one month to the same or a later one' });
    expect(reviewPeriod({ from: '2016-01', to: '2025-12' }, now)).toMatchObject({ months: { length: MAX_REVIEW_MONTHS } });
    expect(reviewPeriod({ from: '2015-12', to: '2025-12' }, now)).toEqual({ field: 'from', problem: `2015-12 to 2025-12 is longer than ${MAX_REVIEW_MONTHS} months` });
  });
});

describe('the review', () => {
  it('of an empty period has every month at zero, no ratio, no mean and no control', () => {
    const review = reviewOf(period('2026-01', '2026-03'), []);
    const none = {
      opened: 0,
      reopened: 0,
      verifiedEffective: 0,
      voided: 0,
      reopenRatio: null,
      correctiveActions: { weak: 0, strong: 0, weakShare: null, strongShare: null },
      overdue: 0,
      meanTimeToVerifiedEffectiveMs: null,
    };
    expect(review.total).toEqual(none);
    expect(review.months).toEqual([
      { month: '2026-01', ...none },
      { month: '2026-02', ...none },
      { month: '2026-03', ...none },
    ]);
    expect(review.controls).toEqual([]);
  });

  it('is empty of NCs whose every fact lies outside the period', () => {
    const review = reviewOf(period('2026-02', '2026-02'), [
      { nc: nc({ openedAt: t('2026-01-10T00:00:00Z'), updatedAt: t('2026-01-31T23:59:59.999Z') }), timeline: [entry('corrective-action', '2026-01-31T23:59:59.999Z', { strength: 'weak' })] },
      { nc: nc({ openedAt: t('2026-03-01T00:00:00Z') }), timeline: [] },
    ]);
    expect(review.total.opened).toBe(0);
    expect(review.total.correctiveActions.weak).toBe(0);
    expect(review.controls).toEqual([]);
  });

  it('buckets by the month in UTC, the first instant of a month in it and the last in the one before', () => {
    const review = reviewOf(period('2026-01', '2026-02'), [
      { nc: nc({ openedAt: t('2025-12-31T23:59:59.999Z') }), timeline: [] },
      { nc: nc({ openedAt: t('2026-01-01T00:00:00.000Z') }), timeline: [] },
      // 00:30 on 1 February in Paris is still January in UTC.
      { nc: nc({ openedAt: t('2026-02-01T00:30:00+01:00') }), timeline: [] },
      { nc: nc({ openedAt: t('2026-02-01T00:00:00.000Z') }), timeline: [] },
      { nc: nc({ openedAt: t('2026-02-28T23:59:59.999Z') }), timeline: [] },
      { nc: nc({ openedAt: t('2026-03-01T00:00:00.000Z') }), timeline: [] },
    ]);
    expect(review.months.map((month) => [month.month, month.opened])).toEqual([
      ['2026-01', 2],
      ['2026-02', 2],
    ]);
    expect(review.total.opened).toBe(4);
  });

  it('counts each fact in the month of its own time, for the NC\'s control, with ratios, shares and the mean time to verified', () => {
    const review = reviewOf(
      period('2026-01', '2026-03'),
      [
        // Opened in January, a weak action, reopened in February, a strong one, verified in March.
        {
          nc: nc({ state: 'closed', openedAt: t('2026-01-05T00:00:00Z'), updatedAt: t('2026-03-06T00:00:00Z') }),
          timeline: [
            entry('raised', '2026-01-05T00:00:00Z'),
            entry('corrective-action', '2026-01-06T00:00:00Z', { strength: 'weak', action: 'restarted the job' }),
            entry('reopened', '2026-02-01T00:00:00Z', { reopenCount: 1 }),
            entry('corrective-action', '2026-02-02T00:00:00Z', { strength: 'strong', action: 'automated the repository check' }),
            entry('comment', '2026-02-03T00:00:00Z'),
            entry('verified-effective', '2026-03-06T00:00:00Z'),
          ],
        },
        // Opened in February, a strong action that ran past its due date in March, verified in March.
        {
          nc: nc({ state: 'closed', openedAt: t('2026-02-10T00:00:00Z'), updatedAt: t('2026-03-12T00:00:00Z') }),
          timeline: [
            entry('corrective-action', '2026-02-11T00:00:00Z', { strength: 'strong' }),
            entry('overdue', '2026-03-01T00:00:00Z'),
            entry('verified-effective', '2026-03-12T00:00:00Z'),
          ],
        },
        // Opened before the period, reopened twice in it: counted as reopens, not as opened.
        {
          nc: nc({ state: 'reopened', control: 'A.8.7', openedAt: t('2025-11-20T00:00:00Z'), updatedAt: t('2026-01-20T00:00:00Z') }),
          timeline: [entry('reopened', '2025-12-15T00:00:00Z'), entry('reopened', '2026-01-02T00:00:00Z'), entry('reopened', '2026-01-20T00:00:00Z')],
        },
        // No control.
        { nc: nc({ control: null, openedAt: t('2026-03-31T12:00:00Z') }), timeline: [entry('raised', '2026-03-31T12:00:00Z')] },
      ],
      new Map([['A.8.13', 'Information backup']]),
    );

    expect(review.total).toEqual({
      opened: 3,
      reopened: 3,
      verifiedEffective: 2,
      voided: 0,
      reopenRatio: 1,
      correctiveActions: { weak: 1, strong: 2, weakShare: 1 / 3, strongShare: 2 / 3 },
      overdue: 1,
      // 60 days for the first, 30 for the second.
      meanTimeToVerifiedEffectiveMs: 45 * DAY,
    });
    expect(review.months.map(({ month, opened, reopened, reopenRatio, verifiedEffective, overdue }) => ({ month, opened, reopened, reopenRatio, verifiedEffective, overdue }))).toEqual([
      // Two reopens of an NC opened in November against one NC opened: a month's ratio can pass 1.
      { month: '2026-01', opened: 1, reopened: 2, reopenRatio: 2, verifiedEffective: 0, overdue: 0 },
      { month: '2026-02', opened: 1, reopened: 1, reopenRatio: 1, verifiedEffective: 0, overdue: 0 },
      { month: '2026-03', opened: 1, reopened: 0, reopenRatio: 0, verifiedEffective: 2, overdue: 1 },
    ]);
    expect(review.months.map((month) => month.correctiveActions)).toEqual([
      { weak: 1, strong: 0, weakShare: 1, strongShare: 0 },
      { weak: 0, strong: 2, weakShare: 0, strongShare: 1 },
      { weak: 0, strong: 0, weakShare: null, strongShare: null },
    ]);

    expect(review.controls.map(({ control, title, total }) => ({ control, title, opened: total.opened, reopened: total.reopened, verified: total.verifiedEffective }))).toEqual([
      { control: 'A.8.7', title: null, opened: 0, reopened: 2, verified: 0 },
      { control: 'A.8.13', title: 'Information backup', opened: 2, reopened: 1, verified: 2 },
      { control: null, title: null, opened: 1, reopened: 0, verified: 0 },
    ]);
    const backup = review.controls[1];
    expect(backup?.months.map((month) => month.meanTimeToVerifiedEffectiveMs)).toEqual([null, null, 45 * DAY]);
    expect(backup?.total.reopenRatio).toBe(0.5);
  });

  it('counts an NC void by the end of the period only as voided, in the month it was voided', () => {
    const voidedAt = t('2026-02-14T09:00:00Z');
    const review = reviewOf(period('2026-01', '2026-03'), [
      {
        nc: nc({ state: 'void', openedAt: t('2026-01-10T00:00:00Z'), updatedAt: voidedAt, voided: { reason: 'false-positive', note: 'a test job', actor: 'alice', at: voidedAt } }),
        timeline: [entry('corrective-action', '2026-01-11T00:00:00Z', { strength: 'weak' }), entry('reopened', '2026-01-20T00:00:00Z'), entry('voided', '2026-02-14T09:00:00Z')],
      },
      // Voided before the period: nothing of it shows.
      { nc: nc({ state: 'void', openedAt: t('2025-10-01T00:00:00Z'), updatedAt: t('2026-01-03T00:00:00Z'), voided: { reason: 'duplicate', note: 'n', actor: 'a', at: t('2025-12-01T00:00:00Z') } }), timeline: [entry('comment', '2026-01-03T00:00:00Z')] },
    ]);
    expect(review.total).toMatchObject({ opened: 0, reopened: 0, voided: 1, correctiveActions: { weak: 0, strong: 0 } });
    expect(review.months.map((month) => month.voided)).toEqual([0, 1, 0]);
  });

  it('counts an NC voided after the period as it stood at the period\'s end', () => {
    const voidedAt = t('2026-04-02T00:00:00Z');
    const review = reviewOf(period('2026-01', '2026-03'), [
      {
        nc: nc({ state: 'void', openedAt: t('2026-01-10T00:00:00Z'), updatedAt: voidedAt, voided: { reason: 'test-data', note: 'n', actor: 'a', at: voidedAt } }),
        timeline: [entry('reopened', '2026-02-01T00:00:00Z'), entry('voided', '2026-04-02T00:00:00Z')],
      },
    ]);
    expect(review.total).toMatchObject({ opened: 1, reopened: 1, voided: 0 });
  });

  it('classifies an action recorded before recurd kept its strength from the action\'s text', () => {
    const review = reviewOf(period('2026-01', '2026-01'), [
      {
        nc: nc({ openedAt: t('2026-01-02T00:00:00Z'), updatedAt: t('2026-01-04T00:00:00Z') }),
        timeline: [entry('corrective-action', '2026-01-03T00:00:00Z', { action: 'restarted the backup service' }), entry('corrective-action', '2026-01-04T00:00:00Z', { action: 'added an alert on failed backup jobs, owned by the backup team' })],
      },
    ]);
    expect(review.total.correctiveActions).toMatchObject({ weak: 1, strong: 1 });
  });

  it('reads no timeline of an NC last updated before the period or opened after it', () => {
    const tally = new ReviewTally(period('2026-01', '2026-03'));
    expect(tally.touches({ openedAt: t('2025-01-01T00:00:00Z'), updatedAt: t('2025-12-31T23:59:59.999Z') })).toBe(false);
    expect(tally.touches({ openedAt: t('2025-01-01T00:00:00Z'), updatedAt: t('2026-01-01T00:00:00Z') })).toBe(true);
    expect(tally.touches({ openedAt: t('2026-03-31T23:59:59.999Z'), updatedAt: t('2026-05-01T00:00:00Z') })).toBe(true);
    expect(tally.touches({ openedAt: t('2026-04-01T00:00:00Z'), updatedAt: t('2026-04-01T00:00:00Z') })).toBe(false);
  });

  it('keeps a verified effective that came before its openedAt (a late decision) at zero time, not below', () => {
    const review = reviewOf(period('2026-01', '2026-01'), [
      { nc: nc({ state: 'closed', openedAt: t('2026-01-20T00:00:00Z'), updatedAt: t('2026-01-20T00:00:00Z') }), timeline: [entry('verified-effective', '2026-01-19T00:00:00Z')] },
    ]);
    expect(review.total.meanTimeToVerifiedEffectiveMs).toBe(0);
  });
});

describe('compareControls', () => {
  it('orders Annex A ids by their numbers, other ids after them and no control last', () => {
    const ids = [null, 'CIS-1.1', 'A.8.13', 'A.5.10', 'A.8.9', 'A.5.2', 'A.12.3.1', 'A.8.1'];
    expect([...ids].sort(compareControls)).toEqual(['A.5.2', 'A.5.10', 'A.8.1', 'A.8.9', 'A.8.13', 'A.12.3.1', 'CIS-1.1', null]);
  });
});
