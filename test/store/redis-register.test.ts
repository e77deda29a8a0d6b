import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { sealNc } from '../../src/core/chain.js';
import type { Nonconformity, ReceivedAlert, Symptom } from '../../src/core/types.js';
import { Engine } from '../../src/engine.js';
import { MemoryRegister } from '../../src/memory-register.js';
import { verifyTimeline, type CommitGroup, type LoadedSymptom, type Register } from '../../src/register.js';
import { RedisRegister } from '../../src/store/redis-register.js';
import { backupAlert } from '../helpers/alerts.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

function alert(overrides: Partial<ReceivedAlert>): ReceivedAlert {
  return backupAlert({ source: 'am', observedAt: T0, ...overrides });
}

/** fire, resolve a day later, fire again two days later: a recurrence inside the 30-day window. */
const recurrence = [
  alert({ id: 'a', observedAt: T0 }),
  alert({ id: 'b', status: 'resolved', observedAt: T0 + DAY }),
  alert({ id: 'c', observedAt: T0 + 3 * DAY }),
];

describe('Redis register', () => {
  let redis: TestRedis;
  let prefix: string;
  const clients: Redis[] = [];

  function engineOn(client: Redis, clock = new ManualClock(T0)): { engine: Engine; register: RedisRegister } {
    const register = new RedisRegister(client, prefix, 35 * DAY);
    return { engine: new Engine({ register, policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] }), register };
  }

  function client(): Redis {
    const created = new Redis(redis.url);
    clients.push(created);
    return created;
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });
  afterAll(async () => {
    for (const created of clients) created.disconnect();
    await redis.stop();
  });

  it('raises one NC on a recurrence, with its timeline, indexes and outbox event', async () => {
    prefix = testPrefix();
    const { engine, register } = engineOn(redis.client);
    const result = await engine.ingest(recurrence);
    expect(result.decisions.map((decision) => decision.outcome)).toEqual(['episode', 'fix', 'recurrence']);
    const [id] = [...result.created.values()];
    expect(id).toBe('NC-2026-0001');
    const nc = await register.getNc(id as string);
    expect(nc).toMatchObject({ id, state: 'open', family: 'backup', control: 'A.8.13', occurrences: 2, reopenCount: 0 });
    expect((await register.timeline(id as string)).map((entry) => entry.type)).toEqual(['raised']);
    expect(await register.listNcs({ state: 'open' })).toHaveLength(1);
    expect(await register.listNcs({ control: 'A.8.13', since: T0 + 4 * DAY })).toHaveLength(0);
    expect(await register.countNcsByState()).toEqual({ open: 1, verifying: 0, reopened: 0, closed: 0, void: 0, 'risk-accepted': 0 });
    const events = await redis.client.xrange(`${prefix}:events`, '-', '+');
    expect(events).toHaveLength(1);
    expect(events[0]?.[1]).toContain('nc.opened');
  });

  it('lists a register larger than one read page by page, NCs opened in the same millisecond included, as the memory register does', async () => {
    prefix = testPrefix();
    const clock = new ManualClock(T0);
    const { engine, register } = engineOn(redis.client, clock);
    const memory = new MemoryRegister();
    const memoryEngine = new Engine({ register: memory, policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
    // Two batches of recurrences, each raising its NCs at one clock time: 1,300 NCs, 700 tied at one time.
    for (const [count, at] of [[700, T0 + 3 * DAY], [600, T0 + 4 * DAY]] as const) {
      const assets = Array.from({ length: count }, (_, index) => `host-${at}-${index}`);
      const alerts = assets.flatMap((asset) => recurrence.map((step) => ({ ...step, asset, id: `${asset}-${step.id}` })));
      clock.set(at);
      await engine.ingest(alerts);
      await memoryEngine.ingest(alerts);
    }
    const ids = (ncs: Nonconformity[]): string[] => ncs.map((nc) => nc.id);
    const whole = await register.listNcs({});
    expect(whole).toHaveLength(1300);
    expect(new Set(ids(whole)).size).toBe(1300);
    expect(ids(whole)).toEqual(ids(await memory.listNcs({})));
    for (const target of [register, memory]) {
      const paged: Nonconformity[] = [];
      for (let page = await target.listNcs({ limit: 450 }); page.length > 0; ) {
        paged.push(...page);
        const last = page.at(-1) as Nonconformity;
        page = await target.listNcs({ limit: 450, after: { openedAt: last.openedAt, id: last.id } });
      }
      expect(ids(paged)).toEqual(ids(whole));
    }
    const last = whole[1000] as Nonconformity;
    expect(ids(await register.listNcs({ state: 'open', since: T0 + 3 * DAY, after: { openedAt: last.openedAt, id: last.id } }))).toEqual(ids(whole.slice(1001)));
  });

  it('changes nothing when the same batch is delivered again', async () => {
    prefix = testPrefix();
    const { engine, register } = engineOn(redis.client);
    await engine.ingest(recurrence);
    const before = await redis.client.hget(`${prefix}:sym:${engine.fingerprintOf(recurrence[0] as ReceivedAlert)}`, 'd');
    const again = await engine.ingest(recurrence);
    expect(again.decisions.map((decision) => decision.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(await redis.client.hget(`${prefix}:sym:${engine.fingerprintOf(recurrence[0] as ReceivedAlert)}`, 'd')).toBe(before);
    expect(await register.listNcs({})).toHaveLength(1);
  });

  it('keeps a resolved that came before any firing: the firing stamped before it forms the episode it ends', async () => {
    prefix = testPrefix();
    const { engine, register } = engineOn(redis.client);
    const early = alert({ id: 'r0', status: 'resolved', observedAt: T0 + DAY });
    expect((await engine.ingest([early])).decisions[0]?.outcome).toBe('report');
    expect((await engine.ingest([alert({ id: 'f0', observedAt: T0 })])).decisions[0]?.outcome).toBe('late');
    const fingerprint = engine.fingerprintOf(early);
    expect((await register.load([fingerprint])).symptoms.get(fingerprint)?.symptom).toMatchObject({ state: 'fixed', episode: 1, fixedAt: T0 + DAY });
    expect((await engine.ingest([early])).decisions[0]?.outcome).toBe('duplicate');
  });

  it('keeps a busy symptom\'s history apart and bounded, and decides a late observation as the in-memory register does', async () => {
    prefix = testPrefix();
    const clock = new ManualClock(T0);
    const { engine, register } = engineOn(redis.client, clock);
    const memory = new MemoryRegister();
    const inMemory = new Engine({ register: memory, policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
    const both = async (alerts: ReceivedAlert[]): Promise<void> => {
      await engine.ingest(alerts);
      await inMemory.ingest(alerts);
    };
    // Forty failures and successes an hour apart, then a success stamped before the last failure.
    for (let hour = 0; hour < 40; hour++) {
      clock.set(T0 + hour * 3_600_000);
      await both([alert({ id: `h${hour}`, status: hour % 2 === 0 ? 'firing' : 'resolved', observedAt: T0 + hour * 3_600_000 })]);
    }
    const fingerprint = engine.fingerprintOf(alert({ observedAt: T0 }));
    const stored = await redis.client.hmget(`${prefix}:sym:${fingerprint}`, 'd', 'h', 'b');
    expect(JSON.parse(stored[0] ?? '{}')).not.toHaveProperty('history');
    expect((JSON.parse(stored[1] ?? '[]') as unknown[]).length).toBeLessThanOrEqual(24);
    expect(stored[2]).not.toBeNull();
    await both([alert({ id: 'late', status: 'resolved', observedAt: T0 + 38 * 3_600_000 + 60_000, receivedAt: T0 + 40 * 3_600_000 })]);
    const lifecycle = (symptom: Symptom | null | undefined): unknown => symptom && { ...symptom, history: undefined, before: undefined, lateObservations: undefined };
    const fromRedis = (await register.load([fingerprint], new Map(), new Set([fingerprint]))).symptoms.get(fingerprint)?.symptom;
    expect(lifecycle(fromRedis)).toEqual(lifecycle(memory.symptoms.get(fingerprint)?.symptom));
    expect(fromRedis?.history).toEqual(memory.symptoms.get(fingerprint)?.symptom.history);
    expect((await register.listNcs({})).map((nc) => [nc.state, nc.occurrences, nc.reopenCount])).toEqual((await memory.listNcs({})).map((nc) => [nc.state, nc.occurrences, nc.reopenCount]));
  });

  it('lists the same check on other assets on a new NC, kept beside it', async () => {
    prefix = testPrefix();
    const { engine, register } = engineOn(redis.client);
    await engine.ingest([alert({ id: 'other', asset: 'srv-db-02', observedAt: T0 })]);
    const { created } = await engine.ingest(recurrence);
    const nc = await register.getNc([...created.values()][0] as string);
    expect(nc?.elsewhere).toEqual([expect.objectContaining({ asset: 'srv-db-02', state: 'active' })]);
    expect((await register.listNcs({}))[0]?.elsewhere).toHaveLength(1);
  });

  it('lets only one of many concurrent workers raise the NC for one recurrence', async () => {
    prefix = testPrefix();
    const { engine } = engineOn(redis.client);
    await engine.ingest(recurrence.slice(0, 2));
    const workers = Array.from({ length: 6 }, () => engineOn(client()).engine);
    const results = await Promise.all(workers.map((worker, index) => worker.ingest([alert({ id: `c${index}`, observedAt: T0 + 3 * DAY + index })])));
    const created = results.flatMap((result) => [...result.created.values()]);
    expect(created).toEqual(['NC-2026-0001']);
    const register = new RedisRegister(redis.client, prefix, DAY);
    const [nc] = await register.listNcs({});
    // The other five firings belong to the episode the first one opened: not new occurrences.
    expect(nc?.occurrences).toBe(2);
    const { symptoms } = await register.load([nc?.fingerprint as string]);
    expect(symptoms.get(nc?.fingerprint as string)?.symptom?.observations).toBe(8);
  });

  it('writes an NC only onto the timeline head its decision chained to, in Redis as in memory', async () => {
    prefix = testPrefix();
    const memory = new MemoryRegister();
    await new Engine({ register: memory, policy: DEFAULT_POLICY, clock: new ManualClock(T0), fingerprintFields: ['family', 'source', 'check', 'asset'] }).ingest(recurrence);
    const { engine, register: redisRegister } = engineOn(redis.client);
    await engine.ingest(recurrence);
    for (const register of [redisRegister, memory] as Register[]) {
      const [nc] = await register.listNcs({});
      const fingerprint = nc?.fingerprint as string;
      const { symptoms } = await register.load([fingerprint]);
      const loaded = symptoms.get(fingerprint) as LoadedSymptom;
      const group = (head: string | null): CommitGroup => ({
        fingerprint,
        expectVersion: loaded.version,
        symptom: loaded.symptom,
        due: null,
        ncs: [sealNc({ nc: { ...(loaded.nc as Nonconformity), timelineHead: head }, timeline: [{ at: T0 + 4 * DAY, type: 'occurrence', event: null, detail: { note: 'written by a test' } }] })],
        seen: [],
        historyRead: false,
        tallies: [],
        forget: false,
      });
      // A decision that read the NC before its latest entry was written: at the same symptom version, yet refused.
      expect((await register.commit([group('e'.repeat(64))])).conflicts).toEqual([fingerprint]);
      expect(await register.timeline(nc?.id as string)).toHaveLength(1);
      expect((await register.commit([group(nc?.timelineHead ?? null)])).conflicts).toEqual([]);
      const verdict = await verifyTimeline(register, nc?.id as string);
      expect(verdict).toMatchObject({ holds: true, entries: 2, checked: 2, head: (await register.getNc(nc?.id as string))?.timelineHead });
    }
  });

  it('closes an NC as verified effective when its window passes, through the sweep', async () => {
    prefix = testPrefix();
    const clock = new ManualClock(T0 + 4 * DAY);
    const { engine, register } = engineOn(redis.client, clock);
    const { created } = await engine.ingest(recurrence);
    const id = [...created.values()][0] as string;
    const verifying = await engine.recordCorrectiveAction(id, { action: 'moved the backup target to a monitored volume', owner: 'ops', rootCause: null, dueDate: null });
    // Recorded while the job still failed: the window waits for a success.
    expect(verifying).toMatchObject({ state: 'verifying', windowStartsAt: null, verification: { waitingFor: 'clear' } });
    for (let day = 4; day <= 33; day++) await engine.ingest([alert({ id: `ok-${day}`, status: 'resolved', observedAt: T0 + day * DAY + 3_600_000 })]);
    expect(await register.getNc(id)).toMatchObject({ windowStartsAt: T0 + 4 * DAY + 3_600_000, verification: { healthyReports: 30 } });
    expect(await register.dueSymptoms(T0 + 40 * DAY, 10)).toHaveLength(1);
    clock.set(T0 + 40 * DAY);
    const swept = await engine.sweep();
    expect(swept.effects.map((effect) => effect.kind)).toContain('nc-verified-effective');
    expect(await register.getNc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 34 * DAY + 3_600_000 });
    expect(await register.listNcs({ state: 'verifying' })).toHaveLength(0);
    expect((await register.timeline(id)).map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'window-started', 'verified-effective']);
  });
});
