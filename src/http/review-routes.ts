/**
 * GET /api/v1/review: the management review of a period (core/review.ts), as JSON, or as the HTML
 * fragment the console's /ui/review inserts (already escaped, no script, no inline style).
 *
 * Its operation (operations.ts `review`) takes the query and JSON answer described by the zod
 * schemas below; server.ts mounts it in the /api/v1 scope, for a `read` token.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { reviewPeriod } from '../core/review.js';
import { RecurdError } from '../errors.js';
import type { Register } from '../register.js';
import { readReview, reviewView } from '../review/read.js';
import { named } from './responses.js';
import { reviewFragment } from '../review/render.js';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'is not a month (YYYY-MM, such as 2026-03)');

export const REVIEW_FORMATS = ['json', 'html'] as const;

export const reviewQuerySchema = z
  .object({
    from: month.optional().describe('the first month of the period, YYYY-MM (UTC); by default 11 months before `to`'),
    to: month.optional().describe('the last month of the period, YYYY-MM (UTC); by default the current month'),
    format: z.enum(REVIEW_FORMATS).default('json').describe('json: the figures; html: the review as an HTML fragment for the console'),
  })
  .strict();

const count = z.number().int().min(0);
const share = z.number().min(0).nullable();

export const reviewFiguresSchema = named(
  'ReviewFigures',
  z
  .object({
    opened: count.describe('NCs opened (openedAt), not counting those void by the end of the period'),
    reopened: count.describe('reopened entries: returns that proved a corrective action ineffective'),
    verifiedEffective: count.describe('verified-effective entries'),
    voided: count.describe('NCs declared void'),
    reopenRatio: share.describe('reopened ÷ opened; null when none were opened'),
    correctiveActions: z
      .object({
        weak: count,
        strong: count,
        weakShare: share.describe('weak ÷ actions recorded; null when none were'),
        strongShare: share,
      })
      .strict()
      .describe('corrective actions recorded, by strength'),
    overdue: count.describe('corrective actions whose due date passed with the NC not closed'),
    meanTimeToVerifiedEffectiveMs: count.nullable().describe('mean of (verified effective − opened) over the NCs verified effective, ms; null when none were'),
  })
  .strict(),
);

const monthFigures = reviewFiguresSchema.extend({ month });

export const reviewResponseSchema = named(
  'Review',
  z
  .object({
    from: month,
    to: month,
    start: z.iso.datetime().describe('the first instant of the period'),
    end: z.iso.datetime().describe('the first instant after the period'),
    generatedAt: z.iso.datetime(),
    read: z
      .object({
        ncs: count.describe('NCs read: those changed since the period began and opened before its end (a register not yet upgraded: every NC opened before its end)'),
        timelines: count.describe('timelines of NCs touched in the period, read'),
      })
      .strict(),
    total: reviewFiguresSchema,
    months: z.array(monthFigures),
    controls: z.array(
      z
        .object({
          control: z.string().nullable().describe('the Annex A control; null for NCs without one'),
          title: z.string().nullable().describe("the control's title in the Annex A catalogue"),
          total: reviewFiguresSchema,
          months: z.array(monthFigures),
        })
        .strict(),
    ),
  })
  .strict(),
);

export interface ReviewRouteOptions {
  register: Register;
  clock: Clock;
  /** The Annex A controls' titles. */
  titles: ReadonlyMap<string, string>;
}

/** The answer to GET /api/v1/review, for the query its operation (operations.ts `review`) parsed. */
export async function answerReview(options: ReviewRouteOptions, query: z.output<typeof reviewQuerySchema>, reply: FastifyReply): Promise<unknown> {
  const now = options.clock.now();
  const period = reviewPeriod(query, now);
  if ('problem' in period) throw new RecurdError('REQUEST_INVALID', `query: ${period.field}: ${period.problem}`, [{ path: period.field, message: period.problem }]);
  const review = await readReview(options.register, period, now, options.titles);
  if (query.format === 'html') return reply.type('text/html; charset=utf-8').send(reviewFragment(review));
  return reviewView(review) satisfies z.output<typeof reviewResponseSchema>;
}
