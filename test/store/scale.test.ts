/**
 * Costs that must not grow with the fleet: pinned by what Redis is asked and answers, not by time.
 * The example config's detectors, a real Redis, and every reply measured as it arrives.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { engineSettings } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import type { ReceivedAlert } from '../../src/core/types.js';
import { Engine, seenKey } from '../../src/engine.js';
import { Metrics } from '../../src/metrics.js';
import { RedisRegister } from '../../src/store/redis-register.js';
import { measured } from '../helpers/measured-redis.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const SECOND = 1000;

/** The example config as users run it, with every shipped detector on. */
function exampleSettings(url: string): ReturnType<typeof engineSettings> {
  const env = { REDIS_URL: url, RECURD_PORT: '8080', RECURD_API_TOKEN: 'a', RECURD_WEBHOOK_TOKEN: 'w' };
  return engineSettings(loadConfig('config/recurd.example.yaml', env));
}

function failing(asset: number, at: number): ReceivedAlert {
  return {
    id: `disk-full-${asset}-${at}`,
    source: 'alertmanager',
    family: 'siem',
    status: 'firing',
    observedAt: at,
    receivedAt: at,
    asset: `host-${String(asset).padStart(5, '0')}:9100`,
    check: 'NodeFilesystemAlmostOutOfSpace',
    message: 'Filesystem has less than 5% space left',
    severity: 'medium',
    control: 'A.8.16',
    labels: { alertname: 'NodeFilesystemAlmostOutOfSpace', instance: `host-${asset}:9100` },
    evidence: {},
  };
}

// One private Redis for the file; each test works under a prefix of its own and drops it.
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('a fleet-wide failure over 10,000 assets', () => {

  it('makes no Redis reply or document grow with the number of assets', async () => {
    const prefix = testPrefix();
    const watch = measured(redis.url);
    const clock = new ManualClock(T0);
    const register = new RedisRegister(watch.client, prefix, 35 * 86_400_000);
    const engine = new Engine({ register, clock, ...exampleSettings(redis.url) });
    const sizes: Array<{ assets: number; reply: number; commandsPerAlert: number; aggregate: number; nc: number }> = [];
    const BATCH = 500;
    for (let first = 0; first < 10_000; first += BATCH) {
      watch.reset();
      const at = T0 + (first / BATCH) * SECOND;
      clock.set(at);
      await engine.ingest(Array.from({ length: BATCH }, (_, index) => failing(first + index, at)));
      const [nc] = await register.listNcs({});
      const ncDocument = nc === undefined ? '' : ((await redis.client.hget(`${prefix}:nc:${nc.id}`, 'd')) ?? '');
      const aggregateDocument = nc === undefined ? '' : ((await redis.client.hget(`${prefix}:sym:${nc.fingerprint}`, 'd')) ?? '');
      sizes.push({ assets: first + BATCH, reply: watch.largestReply(), commandsPerAlert: watch.commands() / BATCH, aggregate: aggregateDocument.length, nc: ncDocument.length });
    }
    const early = sizes[1];
    const late = sizes.at(-1);
    if (early === undefined || late === undefined) throw new Error('no batches ran');
    // One systemic NC, counting the assets (noted each time the count grows by a quarter), naming the first few.
    const ncs = await register.listNcs({});
    expect(ncs.filter((nc) => nc.detector === 'systemic')).toHaveLength(1);
    const systemic = ncs.find((nc) => nc.detector === 'systemic');
    expect(systemic?.assetCount).toBeGreaterThan(10_000 / 1.25);
    expect(systemic?.assets).toHaveLength(50);
    // Everything read, written and answered is the same size with 1,000 assets failing as with 10,000.
    expect(late.reply).toBeLessThanOrEqual(early.reply + 64);
    expect(late.aggregate).toBeLessThanOrEqual(early.aggregate + 64);
    expect(late.nc).toBeLessThanOrEqual(early.nc + 64);
    expect(late.commandsPerAlert).toBeLessThanOrEqual(early.commandsPerAlert + 0.05);
    // The timeline notes the spread as it widens, not each asset.
    expect((await register.timeline(systemic?.id as string)).length).toBeLessThanOrEqual(40);
    // "Elsewhere" is a bounded slice of an index: the latest few, and how many in all.
    const local = ncs.find((nc) => nc.detector !== 'systemic');
    if (local !== undefined) expect(local.elsewhere.length).toBeLessThanOrEqual(20);
    watch.client.disconnect();
    await dropPrefix(redis.client, prefix);
  }, 120_000);
});

describe('where else a check fails', () => {
  it('is read from a small copy kept beside each symptom, written by every commit', async () => {
    const prefix = testPrefix();
    const clock = new ManualClock(T0);
    const register = new RedisRegister(redis.client, prefix, 35 * 86_400_000);
    const engine = new Engine({ register, clock, ...exampleSettings(redis.url) });
    await engine.ingest(Array.from({ length: 30 }, (_, asset) => failing(asset, T0)));
    clock.set(T0 + 60 * SECOND);
    await engine.ingest([{ ...failing(0, T0 + 60 * SECOND), status: 'resolved' }]);
    clock.set(T0 + 30 * 60 * SECOND);
    const result = await engine.ingest([failing(0, T0 + 30 * 60 * SECOND)]);
    const ncId = [...result.created.values()][0] as string;
    const nc = await register.getNc(ncId);
    expect(nc).toMatchObject({ detector: 'recurrence', elsewhereCount: 29 });
    expect(nc?.elsewhere).toHaveLength(20);
    expect(nc?.elsewhere[0]).toMatchObject({ asset: expect.stringMatching(/^host-\d{5}:9100$/) as string, state: 'active', lastFiringAt: T0 });
    const copies = await Promise.all(nc?.elsewhere.map((other) => redis.client.hget(`${prefix}:sym:${other.fingerprint}`, 'x')) ?? []);
    expect(copies.every((copy) => copy !== null && copy.length < 100)).toBe(true);
    await dropPrefix(redis.client, prefix);
  });
});

describe('a scrape of /metrics', () => {
  /** `count` symptoms that fire, resolve and fire again: one NC each, half with a corrective action. */
  async function registerWith(count: number): Promise<{ prefix: string }> {
    const prefix = testPrefix();
    const clock = new ManualClock(T0);
    const client = new Redis(redis.url);
    const register = new RedisRegister(client, prefix, 35 * 86_400_000);
    const engine = new Engine({ register, clock, ...exampleSettings(redis.url) });
    const alerts = (status: 'firing' | 'resolved', round: number): ReceivedAlert[] =>
      Array.from({ length: count }, (_, index) => ({ ...failing(index, T0 + round * 600 * SECOND), status, id: `r${round}-${index}`, check: `check-${index}` }));
    for (const [round, status] of (['firing', 'resolved', 'firing'] as const).entries()) await engine.ingest(alerts(status, round));
    clock.set(T0 + 2 * 3_600_000);
    const ncs = await register.listNcs({});
    expect(ncs).toHaveLength(count);
    for (const nc of ncs.slice(0, count / 2)) await engine.recordCorrectiveAction(nc.id, { action: 'Moved the logs to a volume with quotas', owner: 'ops', rootCause: null, dueDate: null });
    client.disconnect();
    return { prefix };
  }

  it('issues the same Redis commands with 10 NCs as with 1,000', async () => {
    const commandsFor = async (count: number): Promise<{ commands: number; page: string }> => {
      const { prefix } = await registerWith(count);
      const watch = measured(redis.url);
      const register = new RedisRegister(watch.client, prefix, 35 * 86_400_000);
      const metrics = new Metrics({
        redisUp: () => true,
        countNcsByState: () => register.countNcsByState(),
        queueJobCounts: () => Promise.resolve({}),
        connectorLastSuccess: () => Promise.resolve({}),
        ncStats: () => register.ncStats(),
      });
      watch.reset();
      const page = await metrics.registry.metrics();
      const commands = watch.commands();
      watch.client.disconnect();
      await dropPrefix(redis.client, prefix);
      return { commands, page };
    };
    const few = await commandsFor(10);
    const many = await commandsFor(1000);
    expect(many.commands).toBe(few.commands);
    // And the gauges still say what the register holds: half of the NCs acted on, none reopened.
    expect(many.page).toContain('recurd_corrective_action_reopen_ratio{family="siem",control="A.8.16"} 0');
    expect(many.page).toContain('recurd_nonconformities{state="verifying"} 500');
  }, 120_000);

  it('counts the NCs of a register written before the commits kept the counts, once', async () => {
    const { prefix } = await registerWith(10);
    const register = new RedisRegister(redis.client, prefix, 35 * 86_400_000);
    const expected = await register.ncStats();
    expect(expected).toEqual([{ family: 'siem', control: 'A.8.16', acted: 5, reopened: 0, closed: 0, blocked: 0, overdue: 0 }]);
    // As an older version left it: no counts, no class on any NC.
    await redis.client.del(`${prefix}:ncstats`);
    for (const nc of await register.listNcs({})) await redis.client.hdel(`${prefix}:nc:${nc.id}`, 'k');
    const client = new Redis(redis.url);
    const upgraded = new RedisRegister(client, prefix, 35 * 86_400_000);
    expect(await upgraded.countUncountedNcs()).toBe(10);
    expect(await upgraded.countUncountedNcs()).toBe(0);
    expect(await upgraded.ncStats()).toEqual(expected);
    client.disconnect();
    await dropPrefix(redis.client, prefix);
  });
});

describe('memory that follows symptoms, not alerts', () => {
  it('keeps the same keys after 40 rounds of alerts as after 4, and a bounded record of seen events per symptom', async () => {
    const prefix = testPrefix();
    const clock = new ManualClock(T0);
    const register = new RedisRegister(redis.client, prefix, 35 * 86_400_000);
    const engine = new Engine({ register, clock, ...exampleSettings(redis.url) });
    const keysAfter: number[] = [];
    for (let round = 0; round < 40; round++) {
      const at = T0 + round * 600 * SECOND;
      clock.set(at);
      // 200 symptoms on 200 checks (no spread), each firing then resolving under new event ids.
      await engine.ingest(
        Array.from({ length: 200 }, (_, index) => ({ ...failing(index, at), check: `check-${index}`, id: `e-${round}-${index}`, status: round % 2 === 0 ? ('firing' as const) : ('resolved' as const) })),
      );
      if (round === 3 || round === 39) keysAfter.push(await redis.client.dbsize());
    }
    // NCs and their timelines come with recurrences (up to one NC per symptom); nothing comes per alert.
    const ncs = (await register.listNcs({})).length;
    expect(ncs).toBeLessThanOrEqual(200);
    expect(keysAfter[1]).toBeLessThanOrEqual((keysAfter[0] ?? 0) + 2 * ncs + 16);
    expect(await redis.client.keys(`${prefix}:seen:*`)).toEqual([]);
    const [dedupe] = await redis.client.keys(`${prefix}:dedupe:*`);
    expect(await redis.client.hlen(dedupe as string)).toBeLessThanOrEqual(17);
    // A redelivery of the latest round is still a duplicate.
    const again = await engine.ingest([{ ...failing(0, T0 + 39 * 600 * SECOND), check: 'check-0', id: 'e-39-0', status: 'resolved' }]);
    expect(again.decisions.map((decision) => decision.outcome)).toEqual(['duplicate']);
    await dropPrefix(redis.client, prefix);
  }, 60_000);

  it('still tells the duplicates of events an earlier version remembered one key each', async () => {
    const prefix = testPrefix();
    const clock = new ManualClock(T0);
    const register = new RedisRegister(redis.client, prefix, 35 * 86_400_000);
    const engine = new Engine({ register, clock, ...exampleSettings(redis.url) });
    const first = { ...failing(1, T0), id: 'old-event' };
    await engine.ingest([first]);
    // As an earlier version left it: the event under its own key, no per-symptom record, no layout version.
    const fingerprint = engine.fingerprintOf(first);
    await redis.client.del(`${prefix}:dedupe:${fingerprint}`, `${prefix}:schema`);
    await redis.client.set(`${prefix}:seen:${seenKey(first)}`, JSON.stringify({ last: 'firing', statuses: ['firing'], reporters: {} }), 'PX', 86_400_000);
    await redis.client.zadd(`${prefix}:ncs`, 0, 'NC-2025-0001');
    await redis.client.sadd(`${prefix}:similar:0123`, fingerprint);
    const upgraded = new RedisRegister(redis.client, prefix, 35 * 86_400_000);
    await upgraded.upgrade();
    const engineAfter = new Engine({ register: upgraded, clock, ...exampleSettings(redis.url) });
    expect((await engineAfter.ingest([first])).decisions.map((decision) => decision.outcome)).toEqual(['duplicate']);
    expect(await redis.client.exists(`${prefix}:similar:0123`)).toBe(0);
    await dropPrefix(redis.client, prefix);
  });
});

describe('retention', () => {
  it('removes a symptom verified and quiet for retention.symptoms, and keeps one whose NC is still open', async () => {
    const prefix = testPrefix();
    const clock = new ManualClock(T0);
    const register = new RedisRegister(redis.client, prefix, 35 * 86_400_000);
    const engine = new Engine({ register, clock, ...exampleSettings(redis.url) });
    const DAY = 86_400_000;
    const quiet = { ...failing(1, T0), check: 'quiet-check' };
    const open = { ...failing(2, T0), check: 'open-check' };
    await engine.ingest([quiet, open]);
    await engine.ingest([
      { ...quiet, id: 'quiet-resolved', status: 'resolved', observedAt: T0 + DAY, receivedAt: T0 + DAY },
      { ...open, id: 'open-resolved', status: 'resolved', observedAt: T0 + DAY, receivedAt: T0 + DAY },
    ]);
    await engine.ingest([{ ...open, id: 'open-again', observedAt: T0 + 2 * DAY, receivedAt: T0 + 2 * DAY }]);
    const [nc] = await register.listNcs({});
    expect(nc?.state).toBe('open');
    // The window (30 days) passes, then 89 quiet days: still kept.
    clock.set(T0 + DAY + 30 * DAY + 89 * DAY);
    await engine.sweepTick();
    expect(await redis.client.exists(`${prefix}:sym:${engine.fingerprintOf(quiet)}`)).toBe(1);
    clock.set(T0 + DAY + 30 * DAY + 91 * DAY);
    await engine.sweepTick();
    expect(await redis.client.exists(`${prefix}:sym:${engine.fingerprintOf(quiet)}`, `${prefix}:dedupe:${engine.fingerprintOf(quiet)}`)).toBe(0);
    expect(await redis.client.zscore(`${prefix}:due`, engine.fingerprintOf(quiet))).toBeNull();
    // The NC's symptom stays while the NC is handled, and the NC with it.
    expect(await redis.client.exists(`${prefix}:sym:${engine.fingerprintOf(open)}`)).toBe(1);
    expect((await register.getNc(nc?.id as string))?.state).toBe('open');
    // A return after the removal starts afresh.
    const back = await engine.ingest([{ ...quiet, id: 'quiet-back', observedAt: clock.now(), receivedAt: clock.now() }]);
    expect(back.decisions.map((decision) => decision.outcome)).toEqual(['episode']);
    await dropPrefix(redis.client, prefix);
  });
});
