/**
 * Lists of symptoms and NCs page with an opaque cursor, a total count and combined filters, in
 * the Redis register (page-2.lua over the indexes commit-4.lua keeps) and in the memory register
 * alike: each item present from the first page to the last is listed exactly once, whatever
 * arrives or leaves the list meanwhile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { ReceivedAlert } from '../../src/core/types.js';
import { Engine } from '../../src/engine.js';
import { MemoryRegister } from '../../src/memory-register.js';
import type { Page, PageRequest, Register } from '../../src/register.js';
import { RedisRegister } from '../../src/store/redis-register.js';
import { backupAlert } from '../helpers/alerts.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** Every page after the first, until the last, running `between` before each further page. */
async function allPages<T>(read: (page: PageRequest) => Promise<Page<T>>, limit: number, between: (pageNumber: number, last: T | undefined) => Promise<void> = () => Promise.resolve()): Promise<{ items: T[]; pages: Array<Page<T>> }> {
  const pages: Array<Page<T>> = [];
  let cursor: string | undefined;
  do {
    if (pages.length > 0) await between(pages.length, pages.at(-1)?.items.at(-1));
    const page = await read({ limit, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return { items: pages.flatMap((page) => page.items), pages };
}

describe.each(['redis', 'memory'] as const)('paging in the %s register', (kind) => {
  let redis: TestRedis;
  let prefix = '';

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    if (prefix !== '') await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });
  afterAll(async () => {
    await redis.stop();
  });

  function setup(): { engine: Engine; register: Register; clock: ManualClock } {
    prefix = testPrefix();
    const clock = new ManualClock(T0 + 10 * DAY);
    const register = kind === 'redis' ? new RedisRegister(redis.client, prefix, 35 * DAY) : new MemoryRegister();
    return { register, clock, engine: new Engine({ register, policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] }) };
  }

  const fire = (asset: string, check: string, at: number, overrides: Partial<ReceivedAlert> = {}): ReceivedAlert => backupAlert({ id: `${check}-${asset}-${at}`, asset, check, observedAt: at, ...overrides });

  it('pages a filtered list of symptoms, each exactly once, while symptoms arrive and one leaves the filter', async () => {
    const { engine, register } = setup();
    const assets = Array.from({ length: 23 }, (_, index) => `srv-${String(index).padStart(2, '0')}`);
    await engine.ingest(assets.map((asset) => fire(asset, 'nightly-backup', T0)));
    // Outside the filter: another check, another family, and one of the check already fixed.
    await engine.ingest([fire('srv-00', 'weekly-verify', T0), fire('pc-1', 'nightly-backup', T0, { family: 'av', control: 'A.8.7' }), fire('srv-99', 'nightly-backup', T0)]);
    await engine.ingest([fire('srv-99', 'nightly-backup', T0 + DAY, { status: 'resolved' })]);
    const filter = { state: 'active', family: 'backup', check: 'nightly-backup' } as const;

    const arrived: string[] = [];
    const left: string[] = [];
    const { items, pages } = await allPages((page) => register.pageSymptoms(filter, page), 5, async (pageNumber, last) => {
      if (pageNumber === 2) {
        // New symptoms arrive while a reader is half-way through.
        const fresh = ['new-1', 'new-2', 'new-3'];
        arrived.push(...fresh);
        await engine.ingest(fresh.map((asset) => fire(asset, 'nightly-backup', T0 + 2 * DAY)));
      }
      if (pageNumber === 3 && last !== undefined) {
        // The last symptom of the page the cursor points after leaves the filter (it is fixed).
        left.push(last.asset);
        await engine.ingest([fire(last.asset, 'nightly-backup', T0 + 2 * DAY, { status: 'resolved', id: 'fixed' })]);
      }
    });

    const listed = items.map((symptom) => symptom.asset);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.filter((asset) => !arrived.includes(asset)).sort()).toEqual(assets);
    expect(items.every((symptom) => symptom.state === 'active' && symptom.check === 'nightly-backup' && symptom.family === 'backup')).toBe(true);
    expect(pages[0]?.count).toBe(23);
    expect(pages[0]?.items).toHaveLength(5);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect(left).toHaveLength(1);
    // The total follows the register: the arrivals counted, the one fixed no longer.
    expect((await register.pageSymptoms(filter, { limit: 1 })).count).toBe(23 + arrived.length - 1);
    expect((await register.pageSymptoms({ state: 'fixed' }, { limit: 10 })).items.map((symptom) => symptom.asset).sort()).toEqual([...left, 'srv-99'].sort());
    expect((await register.pageSymptoms({ asset: 'srv-00' }, { limit: 10 })).count).toBe(2);
    expect((await register.pageSymptoms({}, { limit: 1 })).count).toBe(23 + 3 + arrived.length);
  });

  it('pages NCs raised in one batch (one openedAt for all), filtered by state and family, with since', async () => {
    const { engine, register, clock } = setup();
    const assets = Array.from({ length: 12 }, (_, index) => `srv-${String(index).padStart(2, '0')}`);
    const recur = (names: string[], overrides: Partial<ReceivedAlert> = {}): Promise<unknown> =>
      engine.ingest(
        names.flatMap((asset) => [
          fire(asset, 'nightly-backup', T0, overrides),
          fire(asset, 'nightly-backup', T0 + DAY, { status: 'resolved', ...overrides }),
          fire(asset, 'nightly-backup', T0 + 3 * DAY, overrides),
        ]),
      );
    await recur(assets);
    await recur(['pc-1', 'pc-2'], { family: 'av', control: 'A.8.7' });
    const filter = { state: 'open', family: 'backup' } as const;
    const { items, pages } = await allPages((page) => register.pageNcs(filter, page), 5, async (pageNumber) => {
      if (pageNumber === 1) {
        clock.set(T0 + 11 * DAY);
        await recur(['late-1', 'late-2']);
      }
    });
    const ids = items.map((nc) => nc.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(items.map((nc) => nc.asset).sort()).toEqual(assets);
    expect(pages.map((page) => page.items.length)).toEqual([5, 5, 2]);
    expect(pages[0]?.count).toBe(12);
    expect(pages[1]?.count).toBe(14);
    expect((await register.pageNcs({ state: 'open', family: 'backup', control: 'A.8.13', since: T0 + 11 * DAY }, { limit: 10 })).items.map((nc) => nc.asset).sort()).toEqual(['late-1', 'late-2']);
    expect((await register.pageNcs({ since: T0 + 11 * DAY }, { limit: 10 })).count).toBe(2);
    expect((await register.pageNcs({ family: 'av' }, { limit: 10 })).count).toBe(2);
  });

  it('pages the NCs overdue now, or the others, with other filters as well, each exactly once', async () => {
    const { engine, register, clock } = setup();
    const assets = Array.from({ length: 9 }, (_, index) => `srv-${index}`);
    const recur = (names: string[], overrides: Partial<ReceivedAlert> = {}): Promise<unknown> =>
      engine.ingest(names.flatMap((asset) => [fire(asset, 'nightly-backup', T0, overrides), fire(asset, 'nightly-backup', T0 + DAY, { status: 'resolved', ...overrides }), fire(asset, 'nightly-backup', T0 + 3 * DAY, overrides)]));
    await recur(assets);
    await recur(['pc-1', 'pc-2'], { family: 'av', control: 'A.8.7' });
    // Actions due in two days on six backup NCs and one malware NC; four days later they are overdue.
    const ncs = (await register.pageNcs({}, { limit: 100 })).items;
    const late = ncs.filter((nc) => ['srv-0', 'srv-2', 'srv-3', 'srv-5', 'srv-7', 'srv-8', 'pc-1'].includes(nc.asset));
    for (const nc of late) await engine.recordCorrectiveAction(nc.id, { action: 'pruned the old snapshots', owner: 'ops', rootCause: null, dueDate: '2026-03-13' });
    clock.set(T0 + 14 * DAY);
    await engine.sweep();
    expect((await register.pageNcs({ overdue: true }, { limit: 100 })).count).toBe(7);

    const overdueBackups = await allPages((page) => register.pageNcs({ family: 'backup', overdue: true }, page), 4);
    expect(overdueBackups.pages.map((page) => [page.items.length, page.count])).toEqual([
      [4, 6],
      [2, 6],
    ]);
    expect(overdueBackups.items.map((nc) => nc.asset).sort()).toEqual(['srv-0', 'srv-2', 'srv-3', 'srv-5', 'srv-7', 'srv-8']);
    const onTime = await allPages((page) => register.pageNcs({ overdue: false }, page), 2);
    expect(onTime.items.map((nc) => nc.asset).sort()).toEqual(['pc-2', 'srv-1', 'srv-4', 'srv-6']);
    expect(onTime.pages.map((page) => page.count)).toEqual([4, 4]);
    expect((await register.pageNcs({ state: 'verifying', family: 'av', overdue: true }, { limit: 10 })).items.map((nc) => nc.asset)).toEqual(['pc-1']);
    expect((await register.pageNcs({ family: 'backup', overdue: false, since: T0 + 11 * DAY }, { limit: 10 })).count).toBe(0);
    // A cursor of one of these lists pages that list only.
    const first = await register.pageNcs({ family: 'backup', overdue: true }, { limit: 1 });
    await expect(register.pageNcs({ family: 'backup' }, { limit: 1, cursor: first.nextCursor ?? '' })).rejects.toMatchObject({ message: expect.stringContaining('another filter') as unknown });

    // What a review reads: the NCs changed since a time (here, by becoming overdue) and opened before another.
    if (register instanceof RedisRegister) {
      expect(await register.ncsTouchedSince(T0, T0 + 30 * DAY)).toBeNull();
      await register.upgrade();
    }
    expect(((await register.ncsTouchedSince(T0 + 11 * DAY, T0 + 30 * DAY)) ?? []).sort()).toEqual(late.map((nc) => nc.id).sort());
    expect(await register.ncsTouchedSince(T0 + 11 * DAY, T0 + 3 * DAY)).toEqual([]);
  });

  it('refuses a cursor it did not return, or one returned for another filter, naming cursor', async () => {
    const { engine, register } = setup();
    await engine.ingest([fire('a', 'nightly-backup', T0), fire('b', 'nightly-backup', T0)]);
    const first = await register.pageSymptoms({ state: 'active' }, { limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    await expect(register.pageSymptoms({ state: 'active' }, { limit: 1, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'RECURD_ERR_REQUEST_INVALID', status: 400, message: expect.stringMatching(/^cursor: /) as unknown });
    await expect(register.pageSymptoms({ state: 'fixed' }, { limit: 1, cursor: first.nextCursor ?? '' })).rejects.toMatchObject({ message: expect.stringContaining('another filter') as unknown });
    await expect(register.pageNcs({}, { limit: 1, cursor: first.nextCursor ?? '' })).rejects.toMatchObject({ code: 'RECURD_ERR_REQUEST_INVALID' });
    const second = await register.pageSymptoms({ state: 'active' }, { limit: 1, cursor: first.nextCursor ?? '' });
    expect([...first.items, ...second.items].map((symptom) => symptom.asset).sort()).toEqual(['a', 'b']);
    expect(second.nextCursor).toBeNull();
  });
});

describe('a register written before the list indexes', () => {
  let redis: TestRedis;
  const prefix = testPrefix();

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await dropPrefix(redis.client, prefix);
    await redis.stop();
  });

  it('is listed whole once upgraded, and only once', async () => {
    const register = new RedisRegister(redis.client, prefix, 35 * DAY);
    const engine = new Engine({ register, policy: DEFAULT_POLICY, clock: new ManualClock(T0 + 10 * DAY), fingerprintFields: ['family', 'source', 'check', 'asset'] });
    const alert = (asset: string, at: number, status: 'firing' | 'resolved' = 'firing'): ReceivedAlert =>
      backupAlert({ id: `${asset}-${at}`, asset, check: 'nightly-backup', observedAt: at, status });
    const assets = ['srv-1', 'srv-2', 'srv-3'];
    await engine.ingest(assets.map((asset) => alert(asset, T0)));
    await engine.ingest(assets.map((asset) => alert(asset, T0 + DAY, 'resolved')));
    await engine.ingest(assets.map((asset) => alert(asset, T0 + 2 * DAY)));
    const before = { symptoms: await register.pageSymptoms({ state: 'active', check: 'nightly-backup' }, { limit: 10 }), ncs: await register.pageNcs({ state: 'open', family: 'backup' }, { limit: 10 }) };
    expect(before.symptoms.count).toBe(3);
    expect(before.ncs.count).toBe(3);

    // As an earlier version left it: no record says which lists it is in, and the combined lists do not exist.
    for (const key of await redis.client.keys(`${prefix}:*`)) {
      if (/:(sym|nc):/.test(key)) await redis.client.hdel(key, 'ix', 'is');
      if (/:(syms|ncs:ix):/.test(key) || key.endsWith(':symseq')) await redis.client.del(key);
    }
    expect((await register.pageSymptoms({ state: 'active', check: 'nightly-backup' }, { limit: 10 })).count).toBe(0);

    expect(await register.upgrade()).toMatchObject({ listed: 6 });
    const after = { symptoms: await register.pageSymptoms({ state: 'active', check: 'nightly-backup' }, { limit: 10 }), ncs: await register.pageNcs({ state: 'open', family: 'backup' }, { limit: 10 }) };
    expect(after.symptoms.items.map((symptom) => symptom.asset).sort()).toEqual(assets);
    expect(after.ncs.items.map((nc) => nc.id).sort()).toEqual(before.ncs.items.map((nc) => nc.id).sort());
    expect(await register.upgrade()).toMatchObject({ listed: 0 });
  });
});
