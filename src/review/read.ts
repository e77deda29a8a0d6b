/**
 * Reads the management review of a period from the register (core/review.ts computes it).
 *
 * The register is listed 500 NCs at a time, newest first, from the end of the period back to its
 * oldest NC: an NC opened long before the period may be reopened, acted on or verified in it.
 * The timeline of an NC is read only when its `updatedAt` says something of it can fall in the
 * period. So a review costs one read of the record of each NC opened before the period's end and
 * one read of the timeline of each NC touched in the period; memory holds one page and the counts
 * per control and month, whatever the size of the register (README, "Management review").
 */
import type { Nonconformity, TimelineEntry } from '../core/types.js';
import { ReviewTally, type Review, type ReviewPeriod } from '../core/review.js';
import type { NcPosition, Register } from '../register.js';

/** How many NCs are read from the register at a time. */
export const REVIEW_PAGE = 500;

/** A review with what it was made from and when. */
export interface ReadReview extends Review {
  generatedAt: number;
  /** NCs listed (opened before the period's end) and timelines read (NCs touched in the period). */
  read: { ncs: number; timelines: number };
}

export async function readReview(register: Register, period: ReviewPeriod, now: number, titles?: ReadonlyMap<string, string>): Promise<ReadReview> {
  const tally = new ReviewTally(period);
  const read = { ncs: 0, timelines: 0 };
  // Listed after the period's end: the NCs opened before its first instant after it, newest first.
  let after: NcPosition = { openedAt: period.end, id: '' };
  for (;;) {
    const page: Nonconformity[] = await register.listNcs({ after, limit: REVIEW_PAGE });
    read.ncs += page.length;
    const touched = page.filter((nc) => tally.touches(nc));
    const timelines: TimelineEntry[][] = await Promise.all(touched.map((nc) => register.timeline(nc.id)));
    read.timelines += touched.length;
    touched.forEach((nc, index) => tally.add(nc, timelines[index] ?? []));
    const last = page.at(-1);
    if (last === undefined || page.length < REVIEW_PAGE) break;
    after = { openedAt: last.openedAt, id: last.id };
  }
  return { ...tally.review(titles), generatedAt: now, read };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The review as the API answers it: the period's instants in ISO 8601, months as YYYY-MM. */
export function reviewView(review: ReadReview): ReviewView {
  const { period, generatedAt, read, total, months, controls } = review;
  return { from: period.from, to: period.to, start: iso(period.start), end: iso(period.end), generatedAt: iso(generatedAt), read, total, months, controls };
}

export interface ReviewView extends Pick<Review, 'total' | 'months' | 'controls'> {
  from: string;
  to: string;
  start: string;
  end: string;
  generatedAt: string;
  read: ReadReview['read'];
}
