/**
 * GET /api/v1/review: the management review of a period (core/review.ts), as JSON, or as the HTML
 * fragment the console's /ui/review inserts (already escaped, no script, no inline style).
 *
 * A Fastify plugin registered inside the /api/v1 scope, whose hooks check the token: the route
 * declares no role, so it needs `read`, as every GET does (http/roles.ts). Its query and JSON
 * answer are described by the zod schemas below.
 */
import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { loadAnnexA } from '../config/annex-a.js';
import type { Clock } from '../core/clock.js';
import { reviewPeriod } from '../core/review.js';
import { RecurdError } from '../errors.js';
import type { Register } from '../register.js';
import { readReview, reviewView } from '../review/read.js';
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

export const reviewFiguresSchema = z
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
  .strict();

const monthFigures = reviewFiguresSchema.extend({ month });

export const reviewResponseSchema = z
  .object({
    from: month,
    to: month,
    start: z.iso.datetime().describe('the first instant of the period'),
    end: z.iso.datetime().describe('the first instant after the period'),
    generatedAt: z.iso.datetime(),
    read: z.object({ ncs: count.describe('NCs opened before the end of the period, read'), timelines: count.describe('timelines of NCs touched in the period, read') }).strict(),
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
  .strict();

export interface ReviewRouteOptions {
  register: Register;
  clock: Clock;
  /** The Annex A controls' titles; the shipped catalogue's unless given. */
  titles?: ReadonlyMap<string, string>;
}

export const reviewRoutes: FastifyPluginCallback<ReviewRouteOptions> = (api, options, done) => {
  const titles = options.titles ?? loadAnnexA().controls;
  api.get('/review', async (request, reply) => {
    const query = reviewQuerySchema.safeParse(request.query);
    if (!query.success) {
      const issues = query.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      throw new RecurdError('REQUEST_INVALID', `query: ${issues.map((issue) => `${issue.path || '(query)'}: ${issue.message}`).join('; ')}`, issues);
    }
    const now = options.clock.now();
    const period = reviewPeriod(query.data, now);
    if ('problem' in period) throw new RecurdError('REQUEST_INVALID', `query: ${period.field}: ${period.problem}`, [{ path: period.field, message: period.problem }]);
    const review = await readReview(options.register, period, now, titles);
    if (query.data.format === 'html') return reply.type('text/html; charset=utf-8').send(reviewFragment(review));
    return reviewView(review) satisfies z.output<typeof reviewResponseSchema>;
  });
  done();
};
