/**
 * Redis stopped under a running daemon (issue "Holds under faults", 2): intake answers 503 within
 * redis.commandTimeout, /healthz and /metrics keep answering from the process, the log says it
 * once, and intake takes alerts again when Redis is back.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { eventually, postAlertmanager, testConfig } from './helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const TIMEOUT_MS = 1000;

function firing(asset: string): string {
  return JSON.stringify({
    receiver: 'recurd',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'BackupJobFailed', instance: asset, job: 'nightly-backup' },
        annotations: { summary: `nightly backup of ${asset} failed` },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: asset,
      },
    ],
    version: '4',
    groupKey: '{}:{alertname="BackupJobFailed"}',
  });
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

describe('while Redis is down', () => {
  let redis: TestRedis;
  let daemon: Daemon | undefined;
  const prefix = testPrefix();
  const lines: string[] = [];
  const logs = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);

  beforeAll(async () => {
    // With its append-only file, what was accepted before the outage is still there after it.
    redis = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await daemon?.stop();
    await dropPrefix(redis.client, prefix);
    await redis.stop();
  });

  it('answers intake with 503 within commandTimeout, keeps /healthz and /metrics, logs the outage once, and takes alerts again once it is back', async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
        done();
      },
    });
    const config = testConfig(redis.url, prefix, { redis: { url: redis.url, keyPrefix: prefix, commandTimeout: `${TIMEOUT_MS}ms` } });
    daemon = await startDaemon(config, { logger: createLogger('info', sink) });
    expect((await postAlertmanager(daemon, firing('srv-before'))).status).toBe(202);

    await redis.halt();
    for (let request = 0; request < 5; request += 1) {
      const started = performance.now();
      const response = await postAlertmanager(daemon, firing(`srv-during-${request}`));
      const took = performance.now() - started;
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RECURD_ERR_REDIS_UNREACHABLE');
      expect(took).toBeLessThan(TIMEOUT_MS + 500);
    }
    expect((await fetch(`${daemon.address}/healthz`)).status).toBe(200);
    const started = performance.now();
    const ready = await fetch(`${daemon.address}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { redis: { ok: boolean } } }).checks.redis.ok).toBe(false);
    const metrics = await fetch(`${daemon.address}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^recurd_redis_up 0$/m);
    expect(text).toMatch(/^recurd_alerts_received_total\{source="alertmanager",family="backup",status="firing"\} 1$/m);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 500);

    // One line for the outage, whatever the number of requests and reconnection attempts.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(logs().filter((line) => line.level >= 50).map((line) => line.msg)).toEqual(['Redis connection lost: intake answers 503 until it is back']);

    await redis.resume();
    await eventually(async () => ((await fetch(`${daemon?.address}/readyz`)).status === 200 ? true : undefined), 15_000, '/readyz 200 again');
    const restored = logs().find((line) => line.msg === 'Redis connection restored');
    expect(restored).toMatchObject({ downForMs: expect.any(Number) as number, errors: expect.any(Number) as number });
    expect((await postAlertmanager(daemon, firing('srv-after'))).status).toBe(202);
    await eventually(async () => ((await redis.client.keys(`${prefix}:sym:*`)).length === 2 ? true : undefined), 15_000, 'both accepted alerts decided');
    expect(await (await fetch(`${daemon.address}/metrics`)).text()).toMatch(/^recurd_redis_up 1$/m);
  }, 60_000);

  it('takes a Redis that keeps the connection open but stops answering as down from the first unanswered request, and back once it answers', async () => {
    await daemon?.stop();
    lines.length = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
        done();
      },
    });
    const config = testConfig(redis.url, prefix, { redis: { url: redis.url, keyPrefix: prefix, commandTimeout: `${TIMEOUT_MS}ms` } });
    daemon = await startDaemon(config, { logger: createLogger('info', sink) });
    expect((await postAlertmanager(daemon, firing('srv-frozen-before'))).status).toBe(202);

    redis.freeze();
    try {
      const first = performance.now();
      expect((await postAlertmanager(daemon, firing('srv-frozen-1'))).status).toBe(503);
      expect(performance.now() - first).toBeLessThan(TIMEOUT_MS + 500);
      // Known down now: the next sender is answered at once, not after another commandTimeout.
      const second = performance.now();
      expect((await postAlertmanager(daemon, firing('srv-frozen-2'))).status).toBe(503);
      expect(performance.now() - second).toBeLessThan(TIMEOUT_MS / 2);
      expect((await fetch(`${daemon.address}/readyz`)).status).toBe(503);
      expect(logs().filter((line) => line.level >= 50).map((line) => [line.msg, line.reason])).toEqual([
        ['Redis connection lost: intake answers 503 until it is back', `no answer within ${TIMEOUT_MS} ms`],
      ]);
    } finally {
      redis.thaw();
    }
    await eventually(() => logs().find((line) => line.msg === 'Redis connection restored'), 10_000, 'the restored line');
    expect((await postAlertmanager(daemon, firing('srv-frozen-after'))).status).toBe(202);
  }, 60_000);
});
