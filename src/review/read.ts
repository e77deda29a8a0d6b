/**
 * Reads the management review of a period from the register (core/review.ts computes it).
 *
 * Only the NCs that changed since the period began and were opened before it ended can count in
 * it: an NC opened long before may be reopened, acted on or verified in the period, and its
 * `updatedAt` says so. The register keeps its NCs by last change, so a review reads the record and
 * the timeline of those NCs only, 500 at a time, whatever the size of the register (README,
 * "Management review"). A register written before that index was kept, and not yet upgraded by a
 * daemon, is listed whole from the period's end back, as before.
 */
import type { Nonconformity, TimelineEntry } from '../core/types.js';
import { ReviewTally, type Review, type ReviewPeriod } from '../core/review.js';
import type { NcPosition, Register } from '../register.js';

/** How many NCs are read from the register at a time. */
export const REVIEW_PAGE = 500;

/** A review with what it was made from and when. */
export interface ReadReview extends Review {
  generatedAt: number;
  /** NCs read (see readReview) and the timelines read of those touched in the period. */
  read: { ncs: number; timelines: number };
}

export async function readReview(register: Register, period: ReviewPeriod, now: number, titles?: ReadonlyMap<string, string>): Promise<ReadReview> {
  const tally = new ReviewTally(period);
  const read = { ncs: 0, timelines: 0 };
  const take = async (page: Nonconformity[]): Promise<void> => {
    read.ncs += page.length;
    const touched = page.filter((nc) => tally.touches(nc));
    const timelines: TimelineEntry[][] = await Promise.all(touched.map((nc) => register.timeline(nc.id)));
    read.timelines += touched.length;
    touched.forEach((nc, index) => tally.add(nc, timelines[index] ?? []));
  };
  const ids = await register.ncsTouchedSince(period.start, period.end);
  if (ids !== null) {
    for (let at = 0; at < ids.length; at += REVIEW_PAGE) {
      const ncs = await Promise.all(ids.slice(at, at + REVIEW_PAGE).map((id) => register.getNc(id)));
      await take(ncs.filter((nc): nc is Nonconformity => nc !== null));
    }
    return { ...tally.review(titles), generatedAt: now, read };
  }
  // Listed after the period's end: the NCs opened before its first instant after it, newest first.
  let after: NcPosition = { openedAt: period.end, id: '' };
  for (;;) {
    const page: Nonconformity[] = await register.listNcs({ after, limit: REVIEW_PAGE });
    await take(page);
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
