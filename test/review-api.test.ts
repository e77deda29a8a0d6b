/**
 * GET /api/v1/review on a real daemon: an NC raised through the Alertmanager intake shows in the
 * review of the current period, as JSON that fits its schema and as the console's HTML fragment;
 * a read token may ask, no token may not, and a wrong period is refused naming its field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { addMonths, monthOf } from '../src/core/review.js';
import { reviewResponseSchema } from '../src/http/review-routes.js';
import { API_TOKEN, api, raiseNc, runDaemon, testConfig } from './helpers/daemon.js';
import { testPrefix } from '../bench/programs/redis.js';
import { privateRedis } from './helpers/suites.js';

const READ_TOKEN = 'review-read-token-4c1d';

describe('GET /api/v1/review', () => {
  const redis = privateRedis();
  const prefix = testPrefix();
  let daemon: Daemon;

  beforeAll(async () => {
    // The fixture's times are fixed and the re-fire is timed at receipt: the window must reach today.
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        policy: { window: '3650d', maxLateness: '3650d' },
        api: { token: API_TOKEN, tokens: [{ name: 'auditor', token: READ_TOKEN, role: 'read' }] },
      }),
    );
    // firing → resolved → firing: one NC on A.8.13, opened now.
    await raiseNc(daemon);
  });
  afterAll(async () => {
    await daemon.stop();
  });

  const asReader = { headers: { authorization: `Bearer ${READ_TOKEN}` } };

  it('answers a read token with the last twelve months as JSON that fits its schema', async () => {
    const { status, body } = await api(daemon.address, '/api/v1/review', asReader);
    expect(status).toBe(200);
    const review = reviewResponseSchema.parse(body);
    const now = monthOf(Date.now());
    expect(review).toMatchObject({ from: addMonths(now, -11), to: now, read: { ncs: 1, timelines: 1 } });
    expect(review.months).toHaveLength(12);
    expect(review.months.at(-1)).toMatchObject({ month: now, opened: 1, reopened: 0, reopenRatio: 0 });
    expect(review.total).toMatchObject({ opened: 1, verifiedEffective: 0, voided: 0, correctiveActions: { weak: 0, strong: 0, weakShare: null } });
    expect(review.controls.map(({ control, title, total }) => ({ control, title, opened: total.opened }))).toEqual([{ control: 'A.8.13', title: 'Information backup', opened: 1 }]);
  });

  it('gives the HTML fragment the console inserts', async () => {
    const response = await fetch(`${daemon.address}/api/v1/review?format=html`, asReader);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const fragment = await response.text();
    expect(fragment.startsWith('<section class="recurd-review"')).toBe(true);
    expect(fragment).toContain('<h4 id="review-control-0">A.8.13 Information backup</h4>');
    expect(fragment).not.toMatch(/<script|<style|\sstyle=|https?:\/\//);
  });

  it('counts nothing in a period before the NC', async () => {
    const { status, body } = await api(daemon.address, '/api/v1/review?from=2024-01&to=2024-03', asReader);
    expect(status).toBe(200);
    const review = reviewResponseSchema.parse(body);
    expect(review).toMatchObject({ from: '2024-01', to: '2024-03', start: '2024-01-01T00:00:00.000Z', end: '2024-04-01T00:00:00.000Z', controls: [], total: { opened: 0, reopenRatio: null } });
    expect(review.months.map((month) => month.month)).toEqual(['2024-01', '2024-02', '2024-03']);
  });

  it('refuses a month that is not YYYY-MM, a period that runs backwards and an unknown parameter, naming each', async () => {
    const notMonth = await api<{ error: { code: string; message: string; details: unknown } }>(daemon.address, '/api/v1/review?from=2026-13', asReader);
    expect(notMonth.status).toBe(400);
    expect(notMonth.body.error).toEqual({ code: 'RECURD_ERR_REQUEST_INVALID', message: 'query: from: is not a month (YYYY-MM, such as 2026-03)', details: [{ path: 'from', message: 'is not a month (YYYY-MM, such as 2026-03)' }] });
    const backwards = await api<{ error: { message: string } }>(daemon.address, '/api/v1/review?from=2025-06&to=2025-01', asReader);
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.message).toBe('query: from: 2025-06 is after 2025-01: the period runs from one month to the same or a later one');
    const unknown = await api<{ error: { message: string } }>(daemon.address, '/api/v1/review?since=2025-01', asReader);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('since');
    const format = await api<{ error: { message: string } }>(daemon.address, '/api/v1/review?format=pdf', asReader);
    expect(format.status).toBe(400);
    expect(format.body.error.message).toContain('format');
  });

  it('answers no one without a token', async () => {
    const response = await fetch(`${daemon.address}/api/v1/review`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RECURD_ERR_UNAUTHORIZED');
  });
});
