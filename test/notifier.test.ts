/**
 * The webhook notifier against a real daemon and a local receiver whose answers the test controls:
 * retries with backoff, no retry on a refusal, event filtering, and delivery that survives a
 * daemon (and its relay) going away.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import type { ConfigInput } from '../src/config/schema.js';
import { NOTIFY_SECRET, api, eventually, runDaemon, startReceiver, testConfig, verifySignature, type DeliveryAttempt, type ReceiverAnswer, metricsOf, raiseNc } from './helpers/daemon.js';
import { OutboxCommands } from '../src/outbox-commands.js';
import { RedisTicketLinks } from '../src/ticket-links.js';
import { dropPrefix, testPrefix } from '../bench/programs/redis.js';
import { privateRedis } from './helpers/suites.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
type NotifierInput = Omit<Extract<NonNullable<ConfigInput['notifiers']>[number], { type: 'webhook' }>, 'type' | 'secret'>;

function eventIdOf(attempt: DeliveryAttempt): string | string[] | undefined {
  return attempt.headers['x-recurd-event-id'];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('webhook notifier', () => {
  const redis = privateRedis();
  let prefix: string;
  const daemons: Daemon[] = [];
  const receivers: Receiver[] = [];
  const queues: Queue[] = [];

  // The fixture's times are fixed and the re-fire is timed at receipt: the window must reach today.
  function start(notifiers: NotifierInput[]): Promise<Daemon> {
    const config = testConfig(redis.url, prefix, {
      policy: { window: '3650d', maxLateness: '3650d' },
      notifiers: notifiers.map((notifier) => ({ type: 'webhook', secret: NOTIFY_SECRET, ...notifier })),
    });
    return runDaemon(config).then((daemon) => {
      daemons.push(daemon);
      return daemon;
    });
  }

  async function receiver(answer?: () => ReceiverAnswer): Promise<Receiver> {
    const started = await startReceiver(answer);
    receivers.push(started);
    return started;
  }

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await Promise.all(receivers.splice(0).map((started) => started.close()));
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });

  it('retries a 5xx with backoff and delivers with the same event id, signed, on every attempt', async () => {
    prefix = testPrefix();
    const answers = [500, 500];
    const soc = await receiver(() => answers.shift() ?? 204);
    const daemon = await start([{ name: 'soc', url: soc.url, attempts: 5, backoff: '100ms' }]);
    const ncId = await raiseNc(daemon);

    const delivered = await eventually(() => soc.received[0], 10_000, 'the delivery after two 500s');
    expect(delivered.json).toMatchObject({ type: 'nc.opened', nonconformity: { id: ncId, state: 'open' } });
    expect(soc.attempts.map((attempt) => attempt.status)).toEqual([500, 500, 204]);
    // Receivers deduplicate on the event id, so it must not change between attempts.
    const eventId = delivered.json.id;
    expect(eventId).toMatch(new RegExp(`^${ncId}\\.`));
    expect(soc.attempts.map(eventIdOf)).toEqual([eventId, eventId, eventId]);
    for (const attempt of soc.attempts) {
      expect(verifySignature(attempt)).toBe(true);
      expect(attempt.headers['x-recurd-event']).toBe('nc.opened');
      const timestamp = Number(attempt.headers['x-recurd-timestamp']);
      expect(Number.isInteger(timestamp)).toBe(true);
      expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
    }
    // A signature made with another secret must not pass: the check itself can fail.
    expect(verifySignature(delivered, 'another-secret')).toBe(false);

    const metrics = await eventually(async () => {
      const text = await metricsOf(daemon);
      return text.includes('recurd_notifications_total{notifier="soc",outcome="delivered"} 1') ? text : undefined;
    });
    expect(metrics).toContain('recurd_notifications_total{notifier="soc",outcome="retrying"} 2');
    expect(metrics).not.toContain('recurd_notifications_total{notifier="soc",outcome="failed"}');
  });

  it('does not retry a 400: one attempt, counted as failed', async () => {
    prefix = testPrefix();
    const soc = await receiver(() => 400);
    const daemon = await start([{ name: 'soc', url: soc.url, attempts: 5, backoff: '100ms' }]);
    const ncId = await raiseNc(daemon);

    const first = await eventually(() => soc.attempts[0], 10_000, 'the first attempt');
    expect(first.status).toBe(400);
    expect(JSON.parse(first.body)).toMatchObject({ type: 'nc.opened', nonconformity: { id: ncId } });
    await eventually(async () => ((await metricsOf(daemon)).includes('recurd_notifications_total{notifier="soc",outcome="failed"} 1') ? true : undefined));
    // A retry would come after 100 ms; five times that without one shows none is scheduled.
    await sleep(500);
    expect(soc.attempts).toHaveLength(1);
    expect(soc.received).toHaveLength(0);
    const metrics = await metricsOf(daemon);
    expect(metrics).not.toContain('recurd_notifications_total{notifier="soc",outcome="retrying"}');
    expect(metrics).not.toContain('recurd_notifications_total{notifier="soc",outcome="delivered"}');
    // The refused event stays in the failed set for an admin to see, not silently dropped.
    expect(metrics).toContain('recurd_queue_jobs{queue="outbox",state="failed"} 1');
  });

  it('notifies a corrective action, and an events filter keeps other types away from its notifier', async () => {
    prefix = testPrefix();
    const everything = await receiver();
    const openedOnly = await receiver();
    const daemon = await start([
      { name: 'all', url: everything.url, backoff: '100ms' },
      { name: 'opened', url: openedOnly.url, backoff: '100ms', events: ['nc.opened'] },
    ]);
    const ncId = await raiseNc(daemon);
    await eventually(() => everything.received[0], 10_000, 'nc.opened at the unfiltered receiver');
    const opened = await eventually(() => openedOnly.received[0], 10_000, 'nc.opened at the filtered receiver');
    expect(opened.json).toMatchObject({ type: 'nc.opened', nonconformity: { id: ncId } });

    const action = await api(daemon.address, `/api/v1/nonconformities/${ncId}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({ action: 'replace the failing backup disk', owner: 'ops', rootCause: 'disk worn out' }),
    });
    expect(action.status).toBe(200);

    const corrective = await eventually(() => everything.received.find((notification) => notification.json.type === 'nc.corrective-action'), 10_000, 'nc.corrective-action');
    expect(corrective.json).toMatchObject({ nonconformity: { id: ncId, correctiveAction: { action: 'replace the failing backup disk', owner: 'ops' } } });
    expect(corrective.headers['x-recurd-event-id']).toBe(corrective.json.id);
    expect(corrective.json.id).not.toBe(opened.json.id);
    expect(verifySignature(corrective)).toBe(true);

    // The relay makes one outbox job per wanted (notifier, event): the filtered notifier never got one.
    const outbox = new Queue('outbox', { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    queues.push(outbox);
    expect(await outbox.getJob(`all.${corrective.json.id}`)).toBeDefined();
    expect(await outbox.getJob(`opened.${corrective.json.id}`)).toBeUndefined();
    expect(openedOnly.attempts.map((attempt) => JSON.parse(attempt.body) as { type: string }).map((event) => event.type)).toEqual(['nc.opened']);
    expect(everything.received.map((notification) => notification.json.type)).toEqual(['nc.opened', 'nc.corrective-action']);
  });

  it('delivers an event left undelivered by a stopped daemon through another daemon, with the same id', async () => {
    prefix = testPrefix();
    let status = 503;
    const soc = await receiver(() => status);
    const notifier = { name: 'soc', url: '', attempts: 10, backoff: '200ms' };
    const first = await start([{ ...notifier, url: soc.url }]);
    const ncId = await raiseNc(first);
    await eventually(() => soc.attempts[0], 10_000, 'a first, refused attempt');
    await first.stop();
    daemons.splice(daemons.indexOf(first), 1);
    const refused = soc.attempts.length;
    expect(refused).toBeGreaterThan(0);
    expect(soc.received).toHaveLength(0);

    // The job is kept in Redis (delayed for its next attempt): the next daemon's worker takes it.
    status = 204;
    const second = await start([{ ...notifier, url: soc.url }]);
    const delivered = await eventually(() => soc.received[0], 15_000, 'delivery by the second daemon');
    expect(delivered.json).toMatchObject({ type: 'nc.opened', nonconformity: { id: ncId } });
    const eventIds = new Set(soc.attempts.map(eventIdOf));
    expect([...eventIds]).toEqual([delivered.json.id]);
    expect(verifySignature(delivered)).toBe(true);
    await eventually(async () => ((await metricsOf(second)).includes('recurd_notifications_total{notifier="soc",outcome="delivered"} 1') ? true : undefined));
    // Delivered once: no further attempt follows the success.
    await sleep(800);
    expect(soc.received).toHaveLength(1);
    expect(soc.attempts.slice(refused).map((attempt) => attempt.status)).toEqual([204]);
  });

  it('relays an event that a crashed relay read but never acknowledged', async () => {
    prefix = testPrefix();
    const soc = await receiver();
    const first = await start([{ name: 'soc', url: soc.url, backoff: '100ms' }]);
    const ncId = await raiseNc(first);
    await eventually(() => soc.received[0], 10_000, 'nc.opened');
    await first.stop();
    daemons.splice(daemons.indexOf(first), 1);

    // What the commit script writes, then read by a relay that died before acknowledging it.
    const stream = `${prefix}:events`;
    const group = 'outbox-relay';
    const record = await redis.client.hget(`${prefix}:nc:${ncId}`, 'd');
    expect(record).not.toBeNull();
    const eventId = `${ncId}.crash-1`;
    const entry = (await redis.client.xadd(stream, '*', 'id', eventId, 'type', 'nc.occurrence', 'at', String(Date.now()), 'nc', record as string)) as string;
    const read = (await redis.client.xreadgroup('GROUP', group, 'relay-dead', 'COUNT', 10, 'STREAMS', stream, '>')) as Array<[string, unknown[]]> | null;
    expect(read?.[0]?.[1]).toHaveLength(1);
    // Age the pending entry past the relay's claim threshold (a minute) instead of waiting for it.
    await redis.client.xclaim(stream, group, 'relay-dead', 0, entry, 'IDLE', 120_000);

    const second = await start([{ name: 'soc', url: soc.url, backoff: '100ms' }]);
    const relayed = await eventually(() => soc.received.find((notification) => notification.json.id === eventId), 10_000, 'the claimed event');
    expect(relayed.json).toMatchObject({ type: 'nc.occurrence', nonconformity: { id: ncId } });
    expect(relayed.headers['x-recurd-event-id']).toBe(eventId);
    // Acknowledged and removed once the outbox job exists.
    await eventually(async () => ((await redis.client.xlen(stream)) === 0 ? true : undefined), 5000, 'the stream to empty');
    const pending = (await redis.client.xpending(stream, group)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    expect(second.address).toBeTruthy();
  });

  it('waits as long as a 429 asks in Retry-After, longer than its own backoff', async () => {
    prefix = testPrefix();
    const answers: ReceiverAnswer[] = [{ status: 429, headers: { 'retry-after': '2' } }];
    const soc = await receiver(() => answers.shift() ?? 204);
    const daemon = await start([{ name: 'soc', url: soc.url, attempts: 3, backoff: '100ms' }]);
    await raiseNc(daemon);
    await eventually(() => soc.received[0], 15_000, 'the delivery after the 429');
    const [refused, delivered] = soc.attempts as [DeliveryAttempt, DeliveryAttempt];
    expect(refused.status).toBe(429);
    // The backoff alone would retry after 100 ms; the destination asked for 2 s.
    expect(delivered.at - refused.at).toBeGreaterThanOrEqual(1900);
  });

  it('keeps a delivery that gave up for recurd outbox: listed with the answer, shown in /readyz, sent again by retry, forgotten by drop', async () => {
    prefix = testPrefix();
    let status = 404;
    const soc = await receiver(() => status);
    const daemon = await start([{ name: 'soc', url: soc.url, attempts: 2, backoff: '100ms' }]);
    const ncId = await raiseNc(daemon);
    await eventually(async () => ((await metricsOf(daemon)).includes('recurd_notifications_total{notifier="soc",outcome="failed"} 1') ? true : undefined));

    const ready = await api<{ notifiers: Record<string, { ok: boolean; lastError: string | null; lastDeliveredAt: string | null }> }>(daemon.address, '/readyz');
    expect(ready.body.notifiers.soc).toMatchObject({ ok: false, lastDeliveredAt: null });
    expect(ready.body.notifiers.soc?.lastError).toMatch(/^soc: POST http:\/\/127\.0\.0\.1:\d+\/recurd answered 404/);
    // Without a token /readyz says only whether the daemon is ready.
    const anonymous = (await (await fetch(`${daemon.address}/readyz`)).json()) as Record<string, unknown>;
    expect(anonymous.notifiers).toBeUndefined();

    const config = testConfig(redis.url, prefix);
    const outbox = new OutboxCommands(config, redis.client);
    try {
      const failed = await outbox.list();
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ notifier: 'soc', eventType: 'nc.opened', nc: ncId, attempts: 1 });
      expect(failed[0]?.error).toContain('answered 404');
      expect(await outbox.list('another')).toEqual([]);
      await expect(outbox.retry('soc.no-such-event')).rejects.toThrow(/no failed delivery soc\.no-such-event/);

      status = 204;
      expect(await outbox.retry('all', 'soc')).toEqual([failed[0]?.id]);
      const delivered = await eventually(() => soc.received[0], 10_000, 'the retried delivery');
      expect(delivered.json).toMatchObject({ type: 'nc.opened', nonconformity: { id: ncId } });
      expect(await outbox.list()).toEqual([]);
      const after = await api<{ notifiers: Record<string, { ok: boolean; lastDeliveredAt: string | null }> }>(daemon.address, '/readyz');
      expect(after.body.notifiers.soc?.ok).toBe(true);
      expect(after.body.notifiers.soc?.lastDeliveredAt).not.toBeNull();

      // A second refusal, this time let go.
      status = 400;
      const action = await api(daemon.address, `/api/v1/nonconformities/${ncId}/corrective-action`, {
        method: 'POST',
        body: JSON.stringify({ action: 'replace the failing backup disk', owner: 'ops', rootCause: 'disk worn out' }),
      });
      expect(action.status).toBe(200);
      const refused = await eventually(async () => (await outbox.list())[0], 10_000, 'the refused corrective-action delivery');
      expect(refused.eventType).toBe('nc.corrective-action');
      expect(await outbox.drop(refused.id)).toEqual([refused.id]);
      expect(await outbox.list()).toEqual([]);
      await expect(outbox.drop(refused.id)).rejects.toThrow(/no failed delivery/);
    } finally {
      await outbox.close();
    }
  });

  it('shows the records notifiers made for an NC as its tickets in the API', async () => {
    prefix = testPrefix();
    const soc = await receiver();
    const daemon = await start([{ name: 'soc', url: soc.url }]);
    const ncId = await raiseNc(daemon);
    const links = new RedisTicketLinks(redis.client, prefix);
    await links.set(ncId, { notifier: 'tracker', system: 'jira', key: 'SEC-42', url: 'https://jira.example.org/browse/SEC-42', at: Date.UTC(2026, 11, 7) });
    expect(await links.ncOf('tracker', 'SEC-42')).toBe(ncId);
    const shown = await api<{ tickets: unknown[] }>(daemon.address, `/api/v1/nonconformities/${ncId}`);
    expect(shown.body.tickets).toEqual([{ notifier: 'tracker', system: 'jira', key: 'SEC-42', url: 'https://jira.example.org/browse/SEC-42', at: '2026-12-07T00:00:00.000Z' }]);
    const listed = await api<{ nonconformities: Array<{ id: string; tickets: unknown[] }> }>(daemon.address, '/api/v1/nonconformities');
    expect(listed.body.nonconformities.find((nc) => nc.id === ncId)?.tickets).toHaveLength(1);
  });
});
