/**
 * The management review of nonconformities and corrective actions (ISO/IEC 27001:2022 clause
 * 9.3.2 c 1 and clause 10.1): per Annex A control and per month of a period, what the register
 * shows of NCs and the actions taken on them.
 *
 * Each figure is read from the NC's own record and the dated entries of its timeline, bucketed by
 * the month (UTC) of that time:
 *
 * - opened: NCs whose `openedAt` (when recurd raised them) falls in the month;
 * - reopened: `reopened` entries (one NC reopened twice counts twice);
 * - verified effective: `verified-effective` entries;
 * - voided: NCs declared void in the month. An NC void by the end of the period was never a
 *   nonconformity (as for the register's gauges): it counts in no other figure, in any month;
 * - reopen ratio: reopened ÷ opened of the same month, or of the whole period (null when none
 *   were opened). The reopens of a month may concern NCs opened in earlier months, so a month's
 *   ratio can exceed 1; the period's ratio is the one to read over a year;
 * - weak / strong: `corrective-action` entries recorded in the month, by the strength recurd gave
 *   the action (core/corrective-action.ts); an entry older than that classification is
 *   classified from its text now. Shares are of the actions recorded, null when there were none;
 * - overdue: `overdue` entries: a corrective action's due date passed with the NC not closed;
 * - mean time to verified effective: the mean of (verified-effective entry − `openedAt`) over the
 *   NCs verified effective in the month or period.
 *
 * Pure: the caller gives the NCs and their timelines; nothing here reads a clock.
 */
import { classifyAction } from './corrective-action.js';
import type { Nonconformity, TimelineEntry } from './types.js';

/** What the review reads of an NC besides its timeline. */
export type ReviewedNc = Pick<Nonconformity, 'state' | 'control' | 'openedAt' | 'updatedAt' | 'voided'>;

/** A span of whole months, UTC: `start` is the first instant of `from`, `end` the first after `to`. */
export interface ReviewPeriod {
  from: string;
  to: string;
  start: number;
  end: number;
  months: string[];
}

/** Why a period cannot be taken, naming the field at fault. */
export interface PeriodProblem {
  field: 'from' | 'to';
  problem: string;
}

/** The longest period a review covers: ten years of months. */
export const MAX_REVIEW_MONTHS = 120;
/** The period when none is given: the last twelve months, the current one included. */
export const DEFAULT_REVIEW_MONTHS = 12;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The month (YYYY-MM, UTC) of an instant. */
export function monthOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** The month `count` months after `month` (before, when negative). */
export function addMonths(month: string, count: number): string {
  const [year, number] = month.split('-').map(Number) as [number, number];
  return monthOf(Date.UTC(year, number - 1 + count, 1));
}

function monthStart(month: string): number {
  const [year, number] = month.split('-').map(Number) as [number, number];
  return Date.UTC(year, number - 1, 1);
}

/**
 * The period from `from` to `to` (YYYY-MM, both included). Without `to`: the month of `now`;
 * without `from`: the twelve months ending with `to`.
 */
export function reviewPeriod(input: { from?: string | undefined; to?: string | undefined }, now: number): ReviewPeriod | PeriodProblem {
  for (const field of ['from', 'to'] as const) {
    const value = input[field];
    if (value !== undefined && !MONTH.test(value)) return { field, problem: `"${value}" is not a month (YYYY-MM, such as 2026-03)` };
  }
  const to = input.to ?? monthOf(now);
  const from = input.from ?? addMonths(to, 1 - DEFAULT_REVIEW_MONTHS);
  if (from > to) return { field: 'from', problem: `${from} is after ${to}: the period runs from one month to the same or a later one` };
  const months: string[] = [];
  for (let month = from; month <= to; month = addMonths(month, 1)) {
    if (months.length === MAX_REVIEW_MONTHS) return { field: 'from', problem: `${from} to ${to} is longer than ${MAX_REVIEW_MONTHS} months` };
    months.push(month);
  }
  return { from, to, start: monthStart(from), end: monthStart(addMonths(to, 1)), months };
}

/** What the review shows for one month, one control, or the whole period. */
export interface ReviewFigures {
  opened: number;
  reopened: number;
  verifiedEffective: number;
  voided: number;
  /** reopened ÷ opened; null when none were opened. */
  reopenRatio: number | null;
  correctiveActions: {
    weak: number;
    strong: number;
    /** Of the actions recorded; null when none were. */
    weakShare: number | null;
    strongShare: number | null;
  };
  overdue: number;
  /** Mean of (verified effective − opened) over the NCs verified effective, ms; null when none were. */
  meanTimeToVerifiedEffectiveMs: number | null;
}

export interface MonthFigures extends ReviewFigures {
  month: string;
}

export interface ControlReview {
  /** The Annex A control, or null for NCs without one. */
  control: string | null;
  /** Its short title from the Annex A catalogue, where the catalogue has it. */
  title: string | null;
  total: ReviewFigures;
  months: MonthFigures[];
}

export interface Review {
  period: ReviewPeriod;
  total: ReviewFigures;
  months: MonthFigures[];
  /** The controls with anything to show in the period, in Annex A order; NCs without a control last. */
  controls: ControlReview[];
}

/** The counts figures are derived from; `verifiedMs` sums (verified − opened) of the NCs verified. */
interface Counts {
  opened: number;
  reopened: number;
  verifiedEffective: number;
  voided: number;
  weak: number;
  strong: number;
  overdue: number;
  verifiedMs: number;
}

function noCounts(): Counts {
  return { opened: 0, reopened: 0, verifiedEffective: 0, voided: 0, weak: 0, strong: 0, overdue: 0, verifiedMs: 0 };
}

function sum(counts: Iterable<Counts>): Counts {
  const total = noCounts();
  for (const each of counts) for (const key of Object.keys(total) as Array<keyof Counts>) total[key] += each[key];
  return total;
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function figures(counts: Counts): ReviewFigures {
  const actions = counts.weak + counts.strong;
  return {
    opened: counts.opened,
    reopened: counts.reopened,
    verifiedEffective: counts.verifiedEffective,
    voided: counts.voided,
    reopenRatio: ratio(counts.reopened, counts.opened),
    correctiveActions: { weak: counts.weak, strong: counts.strong, weakShare: ratio(counts.weak, actions), strongShare: ratio(counts.strong, actions) },
    overdue: counts.overdue,
    meanTimeToVerifiedEffectiveMs: counts.verifiedEffective === 0 ? null : Math.round(counts.verifiedMs / counts.verifiedEffective),
  };
}

/** Annex A order: A.5.2 before A.5.10 before A.8.1; ids of another shape after them, then none. */
export function compareControls(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const parts = (id: string): number[] | null => (/^A(?:\.\d+)+$/.test(id) ? id.slice(2).split('.').map(Number) : null);
  const [left, right] = [parts(a), parts(b)];
  if (left === null || right === null) return left !== null ? -1 : right !== null ? 1 : a < b ? -1 : 1;
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? -1) - (right[index] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The strength of the action an entry records: as recorded, else classified from its text. */
function strengthOf(entry: TimelineEntry): 'weak' | 'strong' {
  const recorded = entry.detail.strength;
  if (recorded === 'weak' || recorded === 'strong') return recorded;
  return classifyAction(typeof entry.detail.action === 'string' ? entry.detail.action : '').strength;
}

/**
 * Gathers the review NC by NC, so that a register read page by page is never held whole: only
 * counts per control and month are kept.
 */
export class ReviewTally {
  private readonly byControl = new Map<string | null, Counts[]>();
  private readonly monthIndex: Map<string, number>;

  constructor(readonly period: ReviewPeriod) {
    this.monthIndex = new Map(period.months.map((month, index) => [month, index]));
  }

  /**
   * Whether anything of this NC can fall in the period: every timeline entry moves `updatedAt` to
   * at least its own time, so an NC last updated before the period, or opened after it, has
   * nothing in it and its timeline need not be read.
   */
  touches(nc: Pick<ReviewedNc, 'openedAt' | 'updatedAt'>): boolean {
    return nc.updatedAt >= this.period.start && nc.openedAt < this.period.end;
  }

  add(nc: ReviewedNc, timeline: readonly TimelineEntry[]): void {
    const voidedAt = nc.state === 'void' && nc.voided !== null ? nc.voided.at : null;
    if (voidedAt !== null && voidedAt < this.period.end) {
      const counts = this.counts(nc.control, voidedAt);
      if (counts !== undefined) counts.voided += 1;
      return;
    }
    const opened = this.counts(nc.control, nc.openedAt);
    if (opened !== undefined) opened.opened += 1;
    for (const entry of timeline) {
      const counts = this.counts(nc.control, entry.at);
      if (counts === undefined) continue;
      switch (entry.type) {
        case 'reopened':
          counts.reopened += 1;
          break;
        case 'verified-effective':
          counts.verifiedEffective += 1;
          counts.verifiedMs += Math.max(0, entry.at - nc.openedAt);
          break;
        case 'corrective-action':
          counts[strengthOf(entry)] += 1;
          break;
        case 'overdue':
          counts.overdue += 1;
          break;
      }
    }
  }

  /** The counts of `control` for the month of `at`; undefined when `at` lies outside the period. */
  private counts(control: string | null, at: number): Counts | undefined {
    if (!(at >= this.period.start && at < this.period.end)) return undefined;
    const index = this.monthIndex.get(monthOf(at));
    if (index === undefined) return undefined;
    let months = this.byControl.get(control);
    if (months === undefined) {
      months = this.period.months.map(noCounts);
      this.byControl.set(control, months);
    }
    return months[index];
  }

  /** The review so far; `titles`: the Annex A catalogue's short title of each control. */
  review(titles: ReadonlyMap<string, string> = new Map()): Review {
    const { months } = this.period;
    const monthsOf = (counts: Counts[]): MonthFigures[] => months.map((month, index) => ({ month, ...figures(counts[index] ?? noCounts()) }));
    const controls = [...this.byControl.entries()]
      .sort(([a], [b]) => compareControls(a, b))
      .map(([control, counts]) => ({ control, title: control === null ? null : (titles.get(control) ?? null), total: figures(sum(counts)), months: monthsOf(counts) }));
    const all = months.map((_month, index) => sum([...this.byControl.values()].map((counts) => counts[index] ?? noCounts())));
    return { period: this.period, total: figures(sum(all)), months: monthsOf(all), controls };
  }
}

/** The review of `period` over NCs and their timelines, all at hand. */
export function reviewOf(period: ReviewPeriod, ncs: Iterable<{ nc: ReviewedNc; timeline: readonly TimelineEntry[] }>, titles?: ReadonlyMap<string, string>): Review {
  const tally = new ReviewTally(period);
  for (const { nc, timeline } of ncs) if (tally.touches(nc)) tally.add(nc, timeline);
  return tally.review(titles);
}
