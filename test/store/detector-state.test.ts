/**
 * The detector contract, shown with a detector that is not shipped: written here as a module
 * would be, with its own state and its own timeline entry, it runs on the real engine and the
 * real Redis register with nothing in the core or the store knowing of it. Adding it to recurd
 * is this module plus its line in detectors/registry.ts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readState, writeState, type Detector, type DetectorState } from '../../src/core/detector.js';
import { ManualClock } from '../../src/core/clock.js';
import { appendTimeline, openNc, raiseNc } from '../../src/core/lifecycle.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { recurrence } from '../../src/core/recurrence.js';
import { Engine } from '../../src/engine.js';
import { RedisRegister } from '../../src/store/redis-register.js';
import { backupAlert } from '../helpers/alerts.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = Date.parse('2026-06-01T00:00:00Z');

/** `lifetime`: a symptom that has failed `firings` times in all, whatever was fixed in between. */
function lifetime(name: string, firings: number): Detector {
  const state: DetectorState<{ firings: number }> = {
    schema: z.object({ firings: z.number().int().min(0) }),
    initial: () => ({ firings: 0 }),
  };
  return {
    name,
    type: 'lifetime',
    matches: () => true,
    entries: ['lifetime-count'],
    state,
    onFiring(draft, alert, at) {
      const counted = readState(draft, name, state).firings + 1;
      writeState(draft, name, state, { firings: counted });
      const current = openNc(draft);
      if (current === undefined && counted >= firings) {
        raiseNc(draft, { detector: name, reason: `lifetime: failed ${counted} times`, at, detail: { firings: counted }, occurrences: counted });
      } else if (current !== undefined && current.nc.detector === name) {
        appendTimeline(current, at, 'lifetime-count', null, { firings: counted, alert: { source: alert.source, id: alert.id } });
      }
    },
  };
}

describe('a detector with state of its own', () => {
  const redis = privateRedis();

  it('keeps its state in detectors.<name> of the stored symptom, across engines, and writes its declared entries', async () => {
    const prefix = testPrefix();
    const policy: Policy = { ...DEFAULT_POLICY, defaults: { window: DAY, resolveAfter: DAY }, detectors: [recurrence(), lifetime('three-strikes', 3)] };
    try {
      const register = new RedisRegister(redis.client, prefix, 35 * DAY);
      // A fresh engine for each alert: whatever the detector knows came back from Redis.
      const ingest = async (id: string, at: number): Promise<void> => {
        const engine = new Engine({ register, policy, clock: new ManualClock(at), fingerprintFields: ['family', 'source', 'check', 'asset'] });
        await engine.ingest([backupAlert({ id, observedAt: at, receivedAt: at })]);
      };
      await ingest('a', T0);
      await ingest('b', T0 + MINUTE);
      expect(await register.listNcs({})).toEqual([]);
      await ingest('c', T0 + 2 * MINUTE);
      await ingest('d', T0 + 3 * MINUTE);

      const [nc] = await register.listNcs({});
      expect(nc).toMatchObject({ detector: 'three-strikes', occurrences: 3, state: 'open' });
      expect((await register.timeline(nc?.id ?? '')).map((entry) => entry.type)).toEqual(['raised', 'lifetime-count']);
      const fingerprint = new Engine({ register, policy, clock: new ManualClock(T0), fingerprintFields: ['family', 'source', 'check', 'asset'] }).fingerprintOf(
        backupAlert({ observedAt: T0, receivedAt: T0 }),
      );
      const { symptoms } = await register.load([fingerprint]);
      expect(symptoms.get(fingerprint)?.symptom?.detectors).toEqual({ 'three-strikes': { firings: 4 } });
    } finally {
      await dropPrefix(redis.client, prefix);
    }
  });
});
