/**
 * Properties of the engine over generated streams: a few symptoms, firing and resolved
 * observations on an hourly grid (so that times collide, and skew and window edges are hit),
 * arriving with lag (so some are late), in batches of random sizes, mixed with sweeps, recorded
 * fixes and corrective actions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FINGERPRINT_FIELDS, fingerprint } from '../../src/core/fingerprint.js';
import { DEFAULT_POLICY, windowPolicyFor, type Policy } from '../../src/core/policy.js';
import { SEVERITIES, type AlertStatus, type Family, type NcState, type Nonconformity, type ReceivedAlert, type Symptom } from '../../src/core/types.js';
import { RecurdError } from '../../src/errors.js';
import { ACTION, DAY, HOUR, ms, timeline, type Timeline } from '../helpers/timeline.js';

const GRID = HOUR;
const T0 = ms('2026-01-05T00:00Z');

// Windows of hours rather than days, so that a short stream sees them start, pass and recur.
const POLICY: Policy = {
  defaults: { window: 24 * HOUR, resolveAfter: 6 * HOUR },
  families: { backup: { window: 12 * HOUR } },
  controls: { 'A.8.7': { window: 36 * HOUR } },
  checks: { 'sig-update': { resolveAfter: 3 * HOUR } },
  skew: GRID,
  maxFuture: 5 * 60_000,
  maxLateness: 7 * 24 * HOUR,
  lateRecurrence: 'link',
  detectors: DEFAULT_POLICY.detectors,
  heartbeats: [],
  symptomRetention: DEFAULT_POLICY.symptomRetention,
};

interface Template {
  source: string;
  family: Family;
  check: string;
  asset: string;
  control: string;
}

const TEMPLATES: readonly Template[] = [
  { source: 'wazuh', family: 'siem', check: 'rule-5710', asset: 'srv-1', control: 'A.8.16' },
  { source: 'wazuh', family: 'siem', check: 'rule-5710', asset: 'srv-2', control: 'A.8.16' },
  { source: 'restic', family: 'backup', check: 'nightly', asset: 'srv-1', control: 'A.8.13' },
  { source: 'clamav', family: 'av', check: 'sig-update', asset: 'srv-2', control: 'A.8.7' },
];

function alertOf(template: Template, id: string, status: AlertStatus, observedAt: number, receivedAt: number, severity: ReceivedAlert['severity']): ReceivedAlert {
  return { ...template, id, status, observedAt, receivedAt, severity, message: `${template.check} failed on ${template.asset}`, labels: {}, evidence: { event: id } };
}

const fingerprintOf = (template: Template): string => fingerprint(alertOf(template, 'x', 'firing', 0, 0, 'low'), DEFAULT_FINGERPRINT_FIELDS);

/** One thing that happens; `cut` starts a new ingest batch before the observation. */
type Item =
  | { kind: 'obs'; alert: ReceivedAlert; cut: boolean }
  | { kind: 'sweep'; at: number }
  | { kind: 'fix'; fingerprint: string; at: number }
  | { kind: 'action'; fingerprint: string; at: number };

/** When an item happens on the event-time axis: what a sweep must not overtake. */
const eventTime = (item: Item): number => (item.kind === 'obs' ? item.alert.observedAt : item.at);

/** How far the clock moves before a step: mostly a little, sometimes past every window. */
const advanceArb = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 6, max: 40 }) });

const actionArb = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('obs' as const),
      // Failures are reported more often than recoveries.
      status: fc.constantFrom<AlertStatus>('firing', 'firing', 'resolved'),
      lag: fc.nat(4),
      severity: fc.constantFrom(...SEVERITIES),
      cut: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fix' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('action' as const) }) },
);

type Action = typeof actionArb extends fc.Arbitrary<infer A> ? A : never;

function itemOf(action: Action, template: Template, id: string, now: number): Item {
  if (action.kind !== 'obs') return { kind: action.kind, fingerprint: fingerprintOf(template), at: now };
  return { kind: 'obs', alert: alertOf(template, id, action.status, now - action.lag * GRID, now, action.severity), cut: action.cut };
}

/** One stream over all symptoms, in arrival order, with sweeps at the clock's time. */
const programArb: fc.Arbitrary<Item[]> = fc
  .array(fc.tuple(advanceArb, fc.option(fc.constantFrom(...TEMPLATES), { freq: 10, nil: null }), actionArb), { minLength: 10, maxLength: 60 })
  .map((steps) => {
    let now = T0;
    return steps.map(([advance, template, action], index): Item => {
      now += advance * GRID;
      return template === null ? { kind: 'sweep', at: now } : itemOf(action, template, `o${index}`, now);
    });
  });

/** One stream per symptom, each in its own order, with its own clock. */
const perSymptomArb: fc.Arbitrary<Item[][]> = fc
  .array(fc.array(fc.tuple(advanceArb, actionArb), { maxLength: 12 }), { minLength: TEMPLATES.length, maxLength: TEMPLATES.length })
  .map((streams) =>
    TEMPLATES.map((template, k) => {
      let now = T0;
      return (streams[k] ?? []).map(([advance, action], index) => {
        now += advance * GRID;
        return itemOf(action, template, `s${k}-${index}`, now);
      });
    }),
  );

const REFUSALS = new Set(['RECURD_ERR_SYMPTOM_NOT_FOUND', 'RECURD_ERR_SYMPTOM_NOT_ACTIVE', 'RECURD_ERR_NC_CLOSED', 'RECURD_ERR_NC_VERIFYING']);

/** Refusals are legitimate answers to a generated request; anything else is a failure. */
async function unlessRefused(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof RecurdError && REFUSALS.has(error.code))) throw error;
  }
}

/** Play items in order against `t`, calling `after` once the register has taken each step. */
async function play(t: Timeline, items: readonly Item[], after: (t: Timeline) => void = () => undefined): Promise<void> {
  let batch: ReceivedAlert[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await t.engine.ingest(batch);
    batch = [];
    after(t);
  };
  for (const item of items) {
    if (item.kind === 'obs') {
      if (item.cut) await flush();
      batch.push(item.alert);
      continue;
    }
    await flush();
    t.clock.set(item.at);
    if (item.kind === 'sweep') await t.engine.sweep();
    if (item.kind === 'fix') await unlessRefused(t.engine.recordFix(item.fingerprint, { actor: 'alice', note: null }));
    if (item.kind === 'action') {
      const nc = t.register.symptoms.get(item.fingerprint)?.symptom.nc;
      if (nc != null) await unlessRefused(t.engine.recordCorrectiveAction(nc, ACTION));
    }
    after(t);
  }
  await flush();
}

async function sweepAt(t: Timeline, at: number): Promise<void> {
  t.clock.set(at);
  await t.engine.sweep();
}

const byKey = <V>(map: ReadonlyMap<string, V>): Array<[string, V]> => [...map].sort(([a], [b]) => a.localeCompare(b));

/** How many times each symptom was written. */
const versions = (t: Timeline): Array<[string, number]> => byKey(t.register.symptoms).map(([key, { version }]) => [key, version]);

/**
 * The register's content with what only arrival order across symptoms decides taken out: NC
 * numbers (a per-year counter shared by all symptoms) become the symptom's fingerprint and the
 * NC's rank among that symptom's NCs; versions (one per commit), the outbox's order and
 * snapshots (taken per commit), and an NC's opening and update times (when recurd decided, which
 * batching moves) are left out, and so is each symptom's history (when it is trimmed follows the writes).
 */
async function content(t: Timeline): Promise<unknown> {
  const sequence = (id: string): number => Number(id.slice(id.lastIndexOf('-') + 1));
  const names = new Map<string, string>();
  const ncs = [...t.register.ncs.values()].sort((a, b) => sequence(a.id) - sequence(b.id));
  for (const nc of ncs) names.set(nc.id, `${nc.fingerprint}#${ncs.filter((other) => other.fingerprint === nc.fingerprint && names.has(other.id)).length}`);
  const rename = (id: string | null): string | null => (id === null ? null : (names.get(id) ?? `unknown ${id}`));
  const renamed = <V>(map: ReadonlyMap<string, V>): Array<[string, V]> =>
    [...map].map(([id, value]): [string, V] => [rename(id) ?? id, value]).sort(([a], [b]) => a.localeCompare(b));
  return structuredClone({
    // The history is bookkeeping whose trimming follows the writes: what it decided is compared instead.
    symptoms: byKey(t.register.symptoms).map(([key, { symptom }]) => [
      key,
      { ...symptom, nc: rename(symptom.nc), recurrenceOf: rename(symptom.recurrenceOf), history: undefined, before: undefined },
    ]),
    // `elsewhere` is a snapshot of other symptoms when the NC was raised: interleaving changes it (and its count) by design.
    ncs: renamed(t.register.ncs).map(([key, nc]) => [key, { ...nc, id: key, recurrenceOf: rename(nc.recurrenceOf), elsewhere: undefined, elsewhereCount: undefined, openedAt: undefined, updatedAt: undefined }]),
    timelines: renamed(t.register.timelines).map(([key, entries]) => [key, entries.map(({ at, type, detail }) => ({ at, type, detail }))]),
    events: renamed(new Map(ncs.map((nc) => [nc.id, t.register.events.filter((event) => event.nc.id === nc.id).map(({ type, at }) => ({ type, at }))]))),
    due: (await t.register.dueSymptoms(Number.MAX_SAFE_INTEGER, 1000)).sort(),
  });
}

const lastTime = (items: readonly Item[]): number => Math.max(T0, ...items.map((item) => (item.kind === 'obs' ? item.alert.receivedAt : item.at)));

describe('properties of the lifecycle over generated streams', () => {
  // A firing copy received later says the failure persists, which postpones a quiet fix by design
  // (lifecycle.test.ts); here every copy arrives at any later point but says nothing newer.
  it('(a) a duplicate (same source, id and status) delivered again at any later point changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }), async (items, copies) => {
        const withCopies = [...items];
        for (const [where, which] of copies) {
          const position = where % (withCopies.length + 1);
          const before = withCopies.slice(0, position);
          const earlier = before.flatMap((item) => (item.kind === 'obs' ? [item.alert] : []));
          const original = earlier[which % Math.max(earlier.length, 1)];
          if (original === undefined) continue;
          // Redelivered later, and inside whatever batch is running there, so batches stay as they were.
          const redelivery = { ...original, receivedAt: original.status === 'firing' ? original.observedAt : lastTime(withCopies.slice(0, position)) };
          withCopies.splice(position, 0, { kind: 'obs', alert: redelivery, cut: false });
        }
        const once = timeline(POLICY);
        const twice = timeline(POLICY);
        await play(once, items);
        await play(twice, withCopies);
        // A copy can come first in its batch and so change which symptom's NC the batch numbers first.
        expect(await content(twice)).toEqual(await content(once));
        expect(versions(twice)).toEqual(versions(once));
      }),
    );
  });

  /*
   * (b) Reordering. Within one symptom, what its observations imply in event-time order is decided
   * whatever their arrival order (test/store/order.test.ts, against Redis); an NC once raised is
   * never withdrawn, so full invariance cannot hold there. What must hold besides is that symptoms
   * do not influence each other and that batching is invisible: any interleaving of different
   * symptoms' streams, each kept in its own order, cut into batches anywhere and swept at any time
   * no later than what is still to come, gives the same register up to NC numbering.
   */
  it('(b) any interleaving of different symptoms, any batching and timely sweeps give the same register', async () => {
    const slots = TEMPLATES.length * 12;
    await fc.assert(
      fc.asyncProperty(
        perSymptomArb,
        fc.array(fc.nat(), { minLength: slots, maxLength: slots }),
        fc.array(fc.boolean(), { minLength: slots, maxLength: slots }),
        fc.array(fc.nat(3), { minLength: slots, maxLength: slots }),
        async (streams, picks, cuts, sweeps) => {
          const end = lastTime(streams.flat());
          const sequential = timeline(POLICY);
          await play(sequential, streams.flat().map((item) => (item.kind === 'obs' ? { ...item, cut: true } : item)));

          const queues = streams.map((stream) => [...stream]).filter((queue) => queue.length > 0);
          const merged: Item[] = [];
          for (let index = 0; queues.length > 0; index++) {
            const which = (picks[index] ?? 0) % queues.length;
            const queue = queues[which] ?? [];
            const next = queue.shift();
            if (queue.length === 0) queues.splice(which, 1);
            if (next === undefined) continue;
            // A sweep may run at any time no later than every item still to come.
            if (sweeps[index] === 0) merged.push({ kind: 'sweep', at: Math.min(eventTime(next), ...queues.flat().map(eventTime)) });
            merged.push(next.kind === 'obs' ? { ...next, cut: cuts[index] ?? false } : next);
          }
          const interleaved = timeline(POLICY);
          await play(interleaved, merged);

          for (const at of [end, end + 100 * DAY]) {
            await sweepAt(sequential, at);
            await sweepAt(interleaved, at);
            expect(await content(interleaved)).toEqual(await content(sequential));
          }
        },
      ),
    );
  });

  it('(b) an observation older than maxLateness when it arrives changes nothing but the observation counters', async () => {
    await fc.assert(
      fc.asyncProperty(
        programArb,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 3 * GRID }),
        fc.constantFrom<AlertStatus>('firing', 'resolved'),
        async (items, where, which, age, status) => {
          const position = where % (items.length + 1);
          const plain = timeline(POLICY);
          await play(plain, items);

          const late = timeline(POLICY);
          await play(late, items.slice(0, position));
          const known = TEMPLATES.filter((template) => late.register.symptoms.has(fingerprintOf(template)));
          fc.pre(known.length > 0);
          const template = known[which % known.length] as Template;
          const key = fingerprintOf(template);
          const before = structuredClone(late.register.symptoms.get(key)?.symptom as Symptom);
          const others = structuredClone({ ncs: byKey(late.register.ncs), timelines: byKey(late.register.timelines), events: late.register.events });
          const receivedAt = lastTime(items.slice(0, position));
          const [decision] = (await late.engine.ingest([alertOf(template, 'late', status, receivedAt - POLICY.maxLateness - age, receivedAt, 'critical')])).decisions;
          expect(decision?.outcome).toBe('late');
          expect(late.register.symptoms.get(key)?.symptom).toEqual({ ...before, observations: before.observations + 1, lateObservations: before.lateObservations + 1 });
          expect({ ncs: byKey(late.register.ncs), timelines: byKey(late.register.timelines), events: late.register.events }).toEqual(others);

          // Nor does it change anything that follows.
          await play(late, items.slice(position));
          const expected = (await content(plain)) as { symptoms: Array<[string, Symptom]> };
          expected.symptoms = expected.symptoms.map(([fp, symptom]) =>
            fp === key ? [fp, { ...symptom, observations: symptom.observations + 1, lateObservations: symptom.lateObservations + 1 }] : [fp, symptom],
          );
          expect(await content(late)).toEqual(expected);
        },
      ),
    );
  });

  it('(c) no NC is raised or reopened without a fix of its symptom before the proof, inside that fix’s window', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (items) => {
        const t = timeline(POLICY);
        await play(t, items);
        await sweepAt(t, lastTime(items));
        const position = (predicate: (item: Item) => boolean): number => items.findIndex(predicate);
        for (const nc of t.register.ncs.values()) {
          const template = TEMPLATES.find((candidate) => fingerprintOf(candidate) === nc.fingerprint) as Template;
          const { window, resolveAfter } = windowPolicyFor(POLICY, template);
          for (const entry of t.register.timelines.get(nc.id) ?? []) {
            if (entry.type !== 'raised' && entry.type !== 'reopened') continue;
            const detail = entry.detail as { alert: { id: string }; fixedAt: string; fixKind: string; windowEndsAt: string };
            const fixedAt = Date.parse(detail.fixedAt);
            const windowEndsAt = Date.parse(detail.windowEndsAt);
            const proof = position((item) => item.kind === 'obs' && item.alert.id === detail.alert.id);
            const proving = items[proof];
            expect(proving?.kind === 'obs' && proving.alert).toMatchObject({ status: 'firing', observedAt: entry.at, ...template });
            const sameSymptom = (item: Item): boolean => (item.kind === 'obs' ? fingerprintOf(template) === fingerprint(item.alert) : item.kind !== 'sweep' && item.fingerprint === nc.fingerprint);
            const fixedBy = {
              resolved: (item: Item) => item.kind === 'obs' && item.alert.status === 'resolved' && item.alert.observedAt === fixedAt,
              quiet: (item: Item) => item.kind === 'obs' && item.alert.status === 'firing' && item.alert.observedAt === fixedAt - resolveAfter,
              recorded: (item: Item) => (item.kind === 'fix' || item.kind === 'action') && item.at === fixedAt,
            }[detail.fixKind];
            expect(fixedBy, `fix kind ${detail.fixKind}`).toBeDefined();
            const fix = position((item) => sameSymptom(item) && (fixedBy?.(item) ?? false));
            // Before the proof in event time, whenever it arrived: a late resolve counts in its place.
            expect(fix).toBeGreaterThanOrEqual(0);
            expect(entry.at).toBeGreaterThan(fixedAt + POLICY.skew);
            // The window is half-open: at its end the fix is verified, and a firing starts a new episode.
            expect(entry.at).toBeLessThan(windowEndsAt);
            // The window is the policy's, from the fix or from a corrective action recorded before the proof.
            const action = position((item) => item.kind === 'action' && item.fingerprint === nc.fingerprint && item.at + window === windowEndsAt);
            expect(windowEndsAt === fixedAt + window || (action >= 0 && action < proof)).toBe(true);
          }
        }
      }),
    );
  });

  it('(d) occurrences and reopenCount never decrease, timelines only grow and start with raised, NC states move forward', async () => {
    const allowed: Record<NcState, readonly NcState[]> = {
      open: ['open', 'verifying'],
      verifying: ['verifying', 'reopened', 'closed'],
      reopened: ['reopened', 'verifying'],
      closed: ['closed'],
      void: ['void'],
      'risk-accepted': ['risk-accepted', 'open', 'void'],
    };
    await fc.assert(
      fc.asyncProperty(programArb, async (items) => {
        let previous = { ncs: new Map<string, Nonconformity>(), symptoms: new Map<string, Symptom>(), timelines: new Map<string, unknown[]>() };
        const check = (t: Timeline): void => {
          for (const [id, nc] of t.register.ncs) {
            const entries = t.register.timelines.get(id) ?? [];
            expect(entries[0]?.type).toBe('raised');
            const before = previous.ncs.get(id);
            if (before === undefined) continue;
            expect(nc.occurrences).toBeGreaterThanOrEqual(before.occurrences);
            expect(nc.reopenCount).toBeGreaterThanOrEqual(before.reopenCount);
            expect(allowed[before.state]).toContain(nc.state);
            expect(entries.slice(0, previous.timelines.get(id)?.length)).toEqual(previous.timelines.get(id));
          }
          for (const [id] of previous.ncs) expect(t.register.ncs.has(id)).toBe(true);
          for (const [key, { symptom }] of t.register.symptoms) {
            const before = previous.symptoms.get(key);
            if (before === undefined) continue;
            expect(symptom.observations).toBeGreaterThanOrEqual(before.observations);
            expect(symptom.lateObservations).toBeGreaterThanOrEqual(before.lateObservations);
            // A late observation decided in its place may show that a fix never happened: its
            // symptom's episodes are counted again (its NCs stay, as checked above).
            if (symptom.lateObservations > before.lateObservations) continue;
            expect(symptom.episode).toBeGreaterThanOrEqual(before.episode);
            if (symptom.episode === before.episode) expect(symptom.occurrences).toBeGreaterThanOrEqual(before.occurrences);
          }
          previous = structuredClone({
            ncs: new Map(t.register.ncs),
            symptoms: new Map([...t.register.symptoms].map(([key, { symptom }]) => [key, symptom])),
            timelines: new Map(t.register.timelines),
          });
        };
        const t = timeline(POLICY);
        await play(t, items, check);
        await sweepAt(t, lastTime(items) + 100 * DAY);
        check(t);
      }),
    );
  });
});
