/**
 * The sweep ends and starves nothing: due entries that no longer apply (a detector removed, a
 * setting changed) are rewritten or dropped, so that one tick reaches the NCs really due.
 */
import { describe, expect, it } from 'vitest';
import { absenceDetector } from '../../detectors/absence.js';
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import type { ReceivedAlert } from '../../src/core/types.js';
import { Engine } from '../../src/engine.js';
import { RedisRegister } from '../../src/store/redis-register.js';
import { backupAlert } from '../helpers/alerts.js';
import { testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const STALE = 5000;

function alert(overrides: Partial<ReceivedAlert>): ReceivedAlert {
  return backupAlert({ id: 'e', observedAt: T0, ...overrides });
}

describe('window sweep', () => {
  const redis = privateRedis();
  const prefix = testPrefix();

  it(`closes the NC whose window has ended in the next tick, past ${STALE} stale due entries`, async () => {
    const clock = new ManualClock(T0);
    const register = new RedisRegister(redis.client, prefix, 35 * DAY);
    const fields = ['family', 'source', 'check', 'asset'];
    // With an absence detector, every symptom is due a day after its last report.
    const absence = absenceDetector.create(absenceDetector.schema.parse({ type: 'absence', name: 'absence', period: '1d' }));
    const withAbsence: Policy = { ...DEFAULT_POLICY, defaults: { window: 365 * DAY, resolveAfter: 365 * DAY }, detectors: [absence] };
    const before = new Engine({ register, policy: withAbsence, clock, fingerprintFields: fields });
    for (let start = 0; start < STALE; start += 500) {
      const batch = Array.from({ length: 500 }, (_, index) => alert({ id: `s${start + index}`, asset: `host-${start + index}`, status: 'resolved' }));
      // A resolve alone starts no symptom; fire first, then resolve, so that each has a record.
      await before.ingest(batch.map((item) => ({ ...item, id: `f-${item.id}`, status: 'firing' })));
      await before.ingest(batch.map((item) => ({ ...item, observedAt: T0 + HOUR })));
    }
    expect(await redis.client.zcard(`${prefix}:due`)).toBe(STALE);

    // The detector is removed from the config: those entries no longer apply.
    // Closed by silence: what this test is about is the sweep reaching the NC, not its evidence.
    const policy: Policy = { ...DEFAULT_POLICY, defaults: { window: 30 * DAY, resolveAfter: 365 * DAY, verifyBy: 'silence' } };
    const engine = new Engine({ register, policy, clock, fingerprintFields: fields });
    const nc = alert({ asset: 'srv-backup-01' });
    clock.set(T0 + 2 * HOUR);
    await engine.ingest([{ ...nc, id: 'n1', observedAt: T0 + 2 * HOUR, receivedAt: T0 + 2 * HOUR }]);
    await engine.ingest([{ ...nc, id: 'n2', status: 'resolved', observedAt: T0 + 3 * HOUR, receivedAt: T0 + 3 * HOUR }]);
    await engine.ingest([{ ...nc, id: 'n3', observedAt: T0 + 5 * HOUR, receivedAt: T0 + 5 * HOUR }]);
    const [raised] = await register.listNcs({});
    expect(raised?.state).toBe('open');
    clock.set(T0 + 6 * HOUR);
    await engine.recordCorrectiveAction(raised?.id ?? '', { action: 'moved the repository to a monitored volume', owner: 'backup team', rootCause: null, dueDate: null });
    await engine.ingest([{ ...nc, id: 'n4', status: 'resolved', observedAt: T0 + 7 * HOUR, receivedAt: T0 + 7 * HOUR }]);

    // Every stale entry is older than the NC's window end, so they come first in the due index.
    // Recorded while it fired, the action's window started at the success an hour later.
    clock.set(T0 + 7 * HOUR + 30 * DAY + 1);
    await engine.sweepTick(1000);
    expect((await register.getNc(raised?.id ?? ''))?.state).toBe('closed');
    expect(await redis.client.zcount(`${prefix}:due`, '-inf', clock.now())).toBe(0);
  }, 60_000);
});
