/**
 * Order does not matter within maxLateness (issue "Closure that proves the quiet", 3), against the
 * real Redis register: for any permutation of one symptom's observations, every NC that the
 * observations imply in event-time order is raised; where no late observation contradicts an NC
 * already raised, symptom, NCs and timeline entries are what the sorted order gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import type { AlertStatus, Nonconformity, ReceivedAlert, Symptom } from '../../src/core/types.js';
import { Engine } from '../../src/engine.js';
import { RedisRegister } from '../../src/store/redis-register.js';
import { backupAlert } from '../helpers/alerts.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-05-04T00:00:00Z');
const POLICY: Policy = { ...DEFAULT_POLICY, defaults: { window: 3 * DAY, resolveAfter: DAY }, maxLateness: 30 * DAY };

interface Observation {
  id: string;
  status: AlertStatus;
  at: number;
}

/**
 * Two to eight observations of one symptom at distinct hours over five days, each with its own id
 * (a firing and a resolved stamped the same instant have no event-time order to recover).
 */
const observationsArb: fc.Arbitrary<Observation[]> = fc
  .uniqueArray(fc.tuple(fc.constantFrom<AlertStatus>('firing', 'resolved'), fc.integer({ min: 0, max: 120 })), { minLength: 2, maxLength: 8, selector: ([, hour]) => hour })
  .map((items) => items.map(([status, hour], index) => ({ id: `o${index}`, status, at: T0 + hour * HOUR })));

/** Observations with a permutation of them: the order of arrival. */
const arrivalArb = observationsArb.chain((observations) =>
  fc.shuffledSubarray(observations, { minLength: observations.length, maxLength: observations.length }).map((arrival) => ({ observations, arrival })),
);

function alert(observation: Observation, receivedAt: number): ReceivedAlert {
  return backupAlert({ id: observation.id, status: observation.status, observedAt: observation.at, receivedAt, evidence: { event: observation.id } });
}

describe('order of arrival within maxLateness', () => {
  const redis = privateRedis();

  /** Every observation delivered once, one batch each, all received after the last one happened. */
  async function deliver(order: readonly Observation[], end: number): Promise<{ symptom: Symptom | null; ncs: Nonconformity[]; timelines: string[][] }> {
    const prefix = testPrefix();
    try {
      const register = new RedisRegister(redis.client, prefix, 35 * DAY);
      const engine = new Engine({ register, policy: POLICY, clock: new ManualClock(end), fingerprintFields: ['family', 'source', 'check', 'asset'] });
      for (const observation of order) await engine.ingest([alert(observation, end)]);
      const fingerprint = engine.fingerprintOf(alert(order[0] as Observation, end));
      const { symptoms } = await register.load([fingerprint]);
      const ncs = (await register.listNcs({})).sort((a, b) => a.id.localeCompare(b.id));
      const timelines = await Promise.all(ncs.map(async (nc) => (await register.timeline(nc.id)).map((entry) => entry.type).sort()));
      return { symptom: symptoms.get(fingerprint)?.symptom ?? null, ncs, timelines };
    } finally {
      await dropPrefix(redis.client, prefix);
    }
  }

  /** What the observations decide of a symptom, without the bookkeeping of arrivals. */
  function lifecycle(symptom: Symptom | null): unknown {
    if (symptom === null) return null;
    const { state, episode, fixedAt, fixKind, windowEndsAt, occurrences, observations, firstSeenAt, lastFiringAt, lastReportAt, lastTransitionAt, detectors, nc } = symptom;
    return { state, episode, fixedAt, fixKind, windowEndsAt, occurrences, observations, firstSeenAt, lastFiringAt, lastReportAt, lastTransitionAt, detectors, hasNc: nc !== null };
  }

  // Not lastOccurrenceAt: when an earlier firing arrives after the one that raised the NC, the
  // NC keeps the time of the firing that raised it (the same recurrence, proved once).
  const ncShape = (nc: Nonconformity): unknown => ({ state: nc.state, detector: nc.detector, occurrences: nc.occurrences, reopenCount: nc.reopenCount });

  it('raises every NC the sorted observations imply, and decides the same where nothing contradicts it', async () => {
    await fc.assert(
      fc.asyncProperty(arrivalArb, async ({ observations, arrival }) => {
        const end = Math.max(...observations.map((observation) => observation.at)) + HOUR;
        // Equal times keep the order they were generated in, as the history keeps them.
        const sorted = [...observations].sort((a, b) => a.at - b.at);
        const expected = await deliver(sorted, end);
        const actual = await deliver(arrival, end);
        expect(actual.ncs.length).toBeGreaterThanOrEqual(expected.ncs.length);
        if (actual.timelines.some((types) => types.includes('contradicted'))) return;
        expect(lifecycle(actual.symptom)).toEqual(lifecycle(expected.symptom));
        expect(actual.ncs.map(ncShape)).toEqual(expected.ncs.map(ncShape));
        expect(actual.timelines).toEqual(expected.timelines);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
