/**
 * An intake's state changes (a heartbeat job's last start and finish) are stored in the same step
 * as the alerts they go with (issue "Holds under faults", 1): never the time of a run whose report
 * was lost, which would restart the missed-run clock as if the job had reported.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueAlerts } from '../../src/pipeline.js';
import { backupAlert } from '../helpers/alerts.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

const T0 = Date.parse('2026-11-23T02:00:00Z');
const KEEP_FAILED = { count: 100, age: 86_400_000 };

describe('intake state stored with its alerts', () => {
  let redis: TestRedis;
  let queue: Queue;
  const prefix = testPrefix();
  const stateKey = `${prefix}:connector:backups:state`;

  beforeAll(async () => {
    redis = await startRedis();
    queue = new Queue('ingest', { connection: redis.client.duplicate(), prefix });
  });
  afterAll(async () => {
    await queue.close();
    await dropPrefix(redis.client, prefix);
    await redis.stop();
  });

  it('stores the batch and the state change together', async () => {
    const alert = backupAlert({ observedAt: T0 });
    await enqueueAlerts(queue, [alert], KEEP_FAILED, { key: stateKey, fields: { 'nightly:finished': String(T0) } });
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((job) => (job.data as { alerts: { id: string }[] }).alerts.map((stored) => stored.id))).toEqual([[alert.id]]);
    expect(await redis.client.hgetall(stateKey)).toEqual({ 'nightly:finished': String(T0) });
    await queue.obliterate({ force: true });
    await redis.client.del(stateKey);
  });

  it('stores a state change with no alerts (a start) on its own, and splits a large batch into jobs', async () => {
    await enqueueAlerts(queue, [], KEEP_FAILED, { key: stateKey, fields: { 'nightly:started': String(T0) } });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    expect(await redis.client.hgetall(stateKey)).toEqual({ 'nightly:started': String(T0) });
    const many = Array.from({ length: 1001 }, (_, index) => backupAlert({ observedAt: T0, id: `run-${index}` }));
    await enqueueAlerts(queue, many, KEEP_FAILED, { key: stateKey, fields: { 'nightly:finished': String(T0) } });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 3 });
    await queue.obliterate({ force: true });
    await redis.client.del(stateKey);
  });

  it('stores neither when the batch cannot be stored', async () => {
    // Something JSON cannot write: the job fails before anything reaches Redis.
    const unstorable = backupAlert({ observedAt: T0, evidence: { size: 1n } });
    await expect(enqueueAlerts(queue, [unstorable], KEEP_FAILED, { key: stateKey, fields: { 'nightly:finished': String(T0) } })).rejects.toThrow(/BigInt/);
    expect(await redis.client.exists(stateKey)).toBe(0);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
  });
});
