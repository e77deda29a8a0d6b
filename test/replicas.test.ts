/**
 * Several daemons on one Redis and one key prefix: every replica's cron fires each sweep tick, yet
 * BullMQ runs one sweep per tick; and alerts spread over the replicas raise one NC.
 */
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { api, eventually, runDaemon, testConfig, metricsOf, postAlertmanager } from './helpers/daemon.js';
import { dropPrefix, testPrefix } from '../bench/programs/redis.js';
import { privateRedis } from './helpers/suites.js';

const fixture = readFileSync(new URL('./fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8')
  .trim()
  .split('\n');
const [firingBody, resolvedBody] = fixture as [string, string];

function counter(metrics: string, sample: string): number {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('replicas on one Redis', () => {
  const redis = privateRedis();
  let prefix: string;
  let daemons: Daemon[] = [];
  const queues: Queue[] = [];

  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    daemons = [];
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });

  it('runs each sweep tick once although both replicas schedule it', async () => {
    prefix = testPrefix();
    // Watch every replica's attempt to schedule a sweep: which queue object asked, with which job id.
    const add = vi.spyOn(Queue.prototype, 'add');
    const config = testConfig(redis.url, prefix, { sweep: { schedule: '* * * * * *' } });
    daemons = [await runDaemon(config), await runDaemon(config)];
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4200));
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    const elapsedS = (Date.now() - startedAt) / 1000;

    const requested = new Map<object, Set<string>>();
    add.mock.calls.forEach(([name, , options], index) => {
      if (name !== 'sweep') return;
      const queue = add.mock.contexts[index] as object;
      const ids = requested.get(queue) ?? new Set<string>();
      ids.add(String(options?.jobId));
      requested.set(queue, ids);
    });
    // Both replicas' crons fired, mostly for the same ticks.
    expect(requested.size).toBe(2);
    const [fromA, fromB] = [...requested.values()] as [Set<string>, Set<string>];
    const both = [...fromA].filter((id) => fromB.has(id));
    expect(both.length).toBeGreaterThanOrEqual(3);
    const union = new Set([...fromA, ...fromB]);

    const sweep = new Queue('sweep', { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    queues.push(sweep);
    const jobs = await sweep.getJobs(['completed', 'waiting', 'active', 'delayed', 'failed', 'prioritized']);
    const ids = jobs.map((job) => String(job.id));
    // One job per tick, whichever replica asked first; not one per replica.
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(union);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(ids.length).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
    const ticks = ids.map((id) => Number(/^sweep-(\d+)$/.exec(id)?.[1])).sort((a, b) => a - b);
    for (const tick of ticks) expect(tick % 1000).toBe(0);
    for (let index = 1; index < ticks.length; index += 1) expect((ticks[index] as number) - (ticks[index - 1] as number)).toBe(1000);

    const counts = await sweep.getJobCounts('completed', 'failed');
    expect(counts.failed).toBe(0);
    // The last tick may have been scheduled just as the workers stopped.
    expect(counts.completed).toBeGreaterThanOrEqual(ids.length - 1);
    const completed = await sweep.getCompleted(0, -1);
    for (const job of completed) expect(job.attemptsMade).toBe(1);
  });

  it('raises one NC from alerts spread over both replicas', async () => {
    prefix = testPrefix();
    // The fixture's times are fixed and the re-fire is timed at receipt: the window must reach today.
    const config = testConfig(redis.url, prefix, { policy: { window: '3650d', maxLateness: '3650d' } });
    const [a, b] = (daemons = [await runDaemon(config), await runDaemon(config)]) as [Daemon, Daemon];

    expect((await postAlertmanager(a, firingBody)).status).toBe(202);
    expect((await postAlertmanager(b, resolvedBody)).status).toBe(202);
    // The resolve must be decided (by either replica's worker) before the re-fire.
    await eventually(async () => {
      const text = await metricsOf(b);
      return counter(text, 'recurd_queue_jobs{queue="ingest",state="waiting"}') === 0 && counter(text, 'recurd_queue_jobs{queue="ingest",state="active"}') === 0
        ? true
        : undefined;
    });
    expect((await api<{ count: number }>(a.address, '/api/v1/nonconformities')).body.count).toBe(0);
    // The re-fire reaches both replicas at once, as from an Alertmanager HA pair.
    const refire = await Promise.all([postAlertmanager(a, firingBody), postAlertmanager(b, firingBody)]);
    expect(refire.map((response) => response.status)).toEqual([202, 202]);

    const opened = await eventually(async () => {
      const total = counter(await metricsOf(a), 'recurd_nonconformities_opened_total{family="backup",control="A.8.13"}') +
        counter(await metricsOf(b), 'recurd_nonconformities_opened_total{family="backup",control="A.8.13"}');
      return total > 0 ? total : undefined;
    });
    // Let both workers finish whatever is left before counting.
    await eventually(async () => {
      const text = await metricsOf(a);
      return counter(text, 'recurd_queue_jobs{queue="ingest",state="waiting"}') === 0 && counter(text, 'recurd_queue_jobs{queue="ingest",state="active"}') === 0
        ? true
        : undefined;
    });
    expect(opened).toBe(1);
    for (const daemon of [a, b]) {
      const { body } = await api<{ count: number; nonconformities: Array<{ id: string; state: string }> }>(daemon.address, '/api/v1/nonconformities');
      expect(body.count).toBe(1);
      expect(body.nonconformities[0]?.state).toBe('open');
    }
    const total = counter(await metricsOf(a), 'recurd_nonconformities_opened_total{family="backup",control="A.8.13"}') +
      counter(await metricsOf(b), 'recurd_nonconformities_opened_total{family="backup",control="A.8.13"}');
    expect(total).toBe(1);
  });
});
