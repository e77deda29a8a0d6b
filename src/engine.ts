/**
 * Runs the pure lifecycle over a register: read the symptoms a batch touches, decide in memory,
 * write every symptom's changes as one atomic group, and decide again for the groups that lost a
 * race with another worker. The register's version check is what keeps two workers from both
 * raising an NC for one recurrence.
 */
import { hash } from 'node:crypto';
import { normaliseControl, type AnnexA } from './core/annex-a.js';
import { sealNc } from './core/chain.js';
import type { Clock } from './core/clock.js';
import type { Detector, TallyReading } from './core/detector.js';
import { fieldsChooser, fingerprint, type FingerprintField, type FingerprintRule } from './core/fingerprint.js';
import {
  advance,
  compactHistory,
  HistoryNeeded,
  newDraft,
  nextDue,
  observe,
  recordCorrectiveAction,
  recordFix,
  type CorrectiveActionRefusal,
  type Effect,
  type EffectKind,
  type SymptomDraft,
} from './core/lifecycle.js';
import { acceptRisk, voidNc, type DispositionRefusal } from './core/dispositions.js';
import { dueDateProblem, recordOwnership, type DateProblem, type OwnershipChange } from './core/ownership.js';
import type { Policy } from './core/policy.js';
import type { SeenRecord } from './core/seen.js';
import type { CorrectiveActionInput, Nonconformity, ReceivedAlert, RiskAcceptanceInput, VoidInput } from './core/types.js';
import type { Liveness } from './core/verification.js';
import { RecurdError } from './errors.js';
import type { CommitGroup, LoadedSymptom, Register, TallyCount } from './register.js';

/** How many times one symptom's decision is retried after losing a race before giving up. */
const MAX_ATTEMPTS = 20;

export interface Decision {
  alert: ReceivedAlert;
  fingerprint: string;
  outcome: EffectKind;
}

export interface BatchResult {
  decisions: Decision[];
  effects: Effect[];
  /** NCs raised, by fingerprint → new id. */
  created: Map<string, string>;
}

export interface EngineOptions {
  register: Register;
  policy: Policy;
  clock: Clock;
  fingerprintFields: readonly FingerprintField[];
  /** Matched in order; the first that matches an alert names its fingerprint fields. */
  fingerprintRules?: readonly FingerprintRule[];
  /** Where heartbeats are kept and the sources' life is read; without it no source is known to have failed. */
  sourceLife?: SourceLife;
  /**
   * The Annex A catalogue: alerts' 2013 ids become 2022 ids before anything is decided, so that
   * symptoms, fingerprints, metrics and NCs see one numbering. Without it controls stay as reported.
   */
  annexA?: AnnexA;
}

/** The edge that knows whether sources were alive: their connectors' error spells and heartbeats. */
export interface SourceLife {
  heartbeat(source: string, at: number, maxGap: number): Promise<void>;
  liveness(sources: string[]): Promise<Liveness>;
}

/** The key under which an observation's last status is remembered, to tell duplicates. */
export function seenKey(alert: { source: string; id: string }): string {
  return hash('sha256', `${Buffer.byteLength(alert.source)}:${alert.source}${alert.id}`, 'hex').slice(0, 32);
}

/** How many of the same check's symptoms on other assets an NC lists (it counts them all). */
const ELSEWHERE = 20;

/** How many rounds of `limit` symptoms one sweep tick takes at most; what is left waits for the next tick. */
const SWEEP_ROUNDS = 20;

/**
 * `sweep`: after a sweep up to that time, the due entry is always rewritten or dropped, even when
 * nothing changed, so that no stale entry stays due.
 */
function groupOf(draft: SymptomDraft, expectVersion: number, policy: Policy, sweep: number | null, tallies: TallyCount[]): CommitGroup | null {
  // An ignored observation is still remembered, so that its redelivery is known as a duplicate.
  if (!draft.changed && draft.seen.size === 0 && sweep === null) return null;
  return {
    fingerprint: draft.fingerprint,
    expectVersion,
    symptom: draft.symptom,
    due: nextDue(draft, policy, sweep ?? Number.NEGATIVE_INFINITY),
    ncs: draft.ncs.map(sealNc),
    seen: [...draft.seen],
    historyRead: draft.historyRead,
    tallies,
    // Removed only by the sweep: an observation arriving after the retention decides on the symptom instead.
    forget: sweep !== null && draft.forget,
  };
}

interface SettleOptions {
  /** The keys of what was seen of each symptom's alerts, for telling duplicates. */
  seenKeysOf?: (fingerprint: string) => string[];
  /** The tallies each symptom's alerts count toward, written with its group. */
  talliesOf?: (fingerprint: string) => TallyCount[];
  /** Set by the sweep: the time it swept up to. */
  sweptTo?: number | null;
  /** Run after each read, before deciding: to read what the decisions need beside the symptoms. */
  prepare?: (loaded: Map<string, LoadedSymptom>) => Promise<void>;
}

export class Engine {
  private readonly fieldsFor: (alert: ReceivedAlert) => readonly FingerprintField[];

  constructor(private readonly options: EngineOptions) {
    this.fieldsFor = fieldsChooser(options.fingerprintRules ?? [], options.fingerprintFields);
  }

  /** The policy's detectors: how each shows what it keeps of a symptom. */
  get detectors(): readonly Detector[] {
    return this.options.policy.detectors;
  }

  fingerprintOf(alert: ReceivedAlert): string {
    return fingerprint(alert, this.fieldsFor(alert));
  }

  /** Decide a batch of alerts in arrival order and store the result. */
  async ingest(received: ReceivedAlert[]): Promise<BatchResult> {
    const result: BatchResult = { decisions: [], effects: [], created: new Map() };
    // Heartbeats prove a source alive; they are never symptoms.
    const alerts: ReceivedAlert[] = [];
    const { annexA } = this.options;
    for (const arrived of received) {
      const alert = annexA === undefined ? arrived : normaliseControl(annexA, arrived);
      const heartbeat = this.options.policy.heartbeats.find((rule) => rule.matches(alert));
      if (heartbeat === undefined) {
        alerts.push(alert);
        continue;
      }
      await this.options.sourceLife?.heartbeat(alert.source, alert.receivedAt, heartbeat.maxGap);
      result.decisions.push({ alert, fingerprint: '', outcome: 'heartbeat' });
    }
    const byFingerprint = new Map<string, Array<{ alert: ReceivedAlert; key: string }>>();
    // Detectors that look across symptoms count each alert in a tally, written with its symptom,
    // and then decide the tally's aggregate from what it holds.
    const tallies = new Map<string, TallyCount[]>();
    const aggregates = new Map<string, { detector: Detector; alert: ReceivedAlert; within: number }>();
    const tallying = this.options.policy.detectors.filter((detector) => detector.tallyOf !== undefined);
    for (const alert of alerts) {
      const fingerprintId = this.fingerprintOf(alert);
      const entry = { alert, key: seenKey(alert) };
      const list = byFingerprint.get(fingerprintId);
      if (list === undefined) byFingerprint.set(fingerprintId, [entry]);
      else list.push(entry);
      for (const detector of tallying) {
        const tally = detector.tallyOf?.(alert) ?? null;
        if (tally === null) continue;
        const at = alert.observedAt;
        const counts = tallies.get(fingerprintId) ?? [];
        counts.push({ key: tally.key, member: tally.member, at, floor: at - tally.within, keepFor: tally.within });
        tallies.set(fingerprintId, counts);
        const latest = aggregates.get(tally.key);
        if (latest === undefined || at >= latest.alert.observedAt) aggregates.set(tally.key, { detector, alert, within: tally.within });
      }
    }
    const seenKeysOf = (fingerprintId: string): string[] => (byFingerprint.get(fingerprintId) ?? []).map((entry) => entry.key);
    await this.settle([...byFingerprint.keys()], result, (draft, seen) => {
      const decisions: Decision[] = [];
      for (const { alert, key } of byFingerprint.get(draft.fingerprint) ?? []) {
        const outcome = observe(draft, { alert, seenKey: key, previous: seen.get(key) ?? null }, this.options.policy);
        decisions.push({ alert, fingerprint: draft.fingerprint, outcome });
      }
      return decisions;
    }, { seenKeysOf, talliesOf: (fingerprintId) => tallies.get(fingerprintId) ?? [] });
    if (aggregates.size > 0) await this.decideAggregates(aggregates, result);
    await this.noteElsewhere(result.created);
    return result;
  }

  /** Each tally counted toward in a batch: its aggregate decided once, from a fresh reading. */
  private async decideAggregates(aggregates: Map<string, { detector: Detector; alert: ReceivedAlert; within: number }>, result: BatchResult): Promise<void> {
    let readings = new Map<string, TallyReading>();
    await this.settle([...aggregates.keys()], result, (draft) => {
      const { detector, alert } = aggregates.get(draft.fingerprint) as { detector: Detector; alert: ReceivedAlert };
      const reading = readings.get(draft.fingerprint) ?? { count: 0, countSince: 0, sample: [] };
      detector.onTally?.(draft, alert, reading, this.options.policy);
      return [];
    }, {
      // Read after the aggregate, so that a corrective action on its NC says where "since" starts.
      prepare: async (loaded) => {
        const queries = [...aggregates].map(([key, { alert, within }]) => {
          const nc = loaded.get(key)?.nc ?? null;
          const since = nc !== null && nc.state === 'verifying' ? (nc.correctiveAction?.recordedAt ?? null) : null;
          return { key, floor: alert.observedAt - within, since };
        });
        readings = await this.options.register.readTallies(queries);
      },
    });
  }

  /**
   * Clause 10.2 b: for each NC just raised, the same check on other assets. Written beside the NC
   * after its commit, since it describes the register at that moment rather than decides anything.
   */
  private async noteElsewhere(created: Map<string, string>): Promise<void> {
    if (created.size === 0) return;
    const { register } = this.options;
    const { symptoms } = await register.load([...created.keys()]);
    for (const [key, ncId] of created) {
      const symptom = symptoms.get(key)?.symptom;
      if (symptom === null || symptom === undefined || symptom.aggregate !== null || symptom.check === '') continue;
      const { similar, count } = await register.similarSymptoms(symptom, ELSEWHERE);
      if (count > 0) await register.noteElsewhere(ncId, similar, count);
    }
  }

  /**
   * Apply what time alone decides (quiet fixes, windows passing) to up to `limit` symptoms now
   * due; `swept` says how many there were, so a caller knows whether more may be waiting.
   */
  async sweep(limit = 1000): Promise<BatchResult & { swept: number }> {
    const now = this.options.clock.now();
    const due = await this.options.register.dueSymptoms(now, limit);
    const result: BatchResult = { decisions: [], effects: [], created: new Map() };
    await this.settle(
      due,
      result,
      (draft) => {
        advance(draft, now, this.options.policy);
        return [];
      },
      { sweptTo: now },
    );
    return { ...result, swept: due.length };
  }

  /**
   * One sweep tick: rounds of `limit` due symptoms until fewer are left, at most SWEEP_ROUNDS of
   * them, so that a tick ends in bounded time; the rest is the next tick's.
   */
  async sweepTick(limit = 1000): Promise<BatchResult> {
    const result: BatchResult = { decisions: [], effects: [], created: new Map() };
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      const swept = await this.sweep(limit);
      result.effects.push(...swept.effects);
      for (const [key, id] of swept.created) result.created.set(key, id);
      if (swept.swept < limit) break;
    }
    return result;
  }

  /** A person (`actor`) records that a symptom is fixed, with an optional note of what they did. */
  async recordFix(fingerprintId: string, by: { actor: string; note: string | null }): Promise<BatchResult> {
    const now = this.options.clock.now();
    const result: BatchResult = { decisions: [], effects: [], created: new Map() };
    let known = true;
    let active = true;
    await this.settle([fingerprintId], result, (draft) => {
      known = draft.symptom !== null;
      active = recordFix(draft, now, this.options.policy, by.actor, by.note);
      return [];
    });
    if (!known) throw new RecurdError('SYMPTOM_NOT_FOUND', `no symptom has fingerprint ${fingerprintId}`);
    if (!active) throw new RecurdError('SYMPTOM_NOT_ACTIVE', `symptom ${fingerprintId} is not firing: there is nothing to fix`);
    return result;
  }

  /** Record a corrective action on an NC; its effectiveness window starts now. */
  async recordCorrectiveAction(ncId: string, action: CorrectiveActionInput): Promise<Nonconformity> {
    const now = this.options.clock.now();
    if (action.dueDate !== null) this.checkDueDate(action.dueDate, now);
    const { refusal, nc } = await this.onNc<CorrectiveActionRefusal>(ncId, (draft) => recordCorrectiveAction(draft, ncId, action, now, this.options.policy));
    if (refusal === 'closed') throw new RecurdError('NC_CLOSED', `${ncId} is closed (verified effective): nothing more can be recorded on it`);
    if (refusal === 'verifying') {
      throw new RecurdError('NC_VERIFYING', `${ncId} already has a corrective action whose effectiveness window is running`);
    }
    if (refusal === 'void' || refusal === 'risk-accepted') throw dispositionError(ncId, refusal, nc);
    if (refusal !== null && typeof refusal === 'object') {
      throw new RecurdError('ROOT_CAUSE_ANALYSIS_REQUIRED', `${ncId} cannot take this corrective action: ${refusal.missing.join('; ')}`, { missing: refusal.missing });
    }
    return (await this.options.register.getNc(ncId)) ?? nc;
  }

  /** Declare an NC void (a false positive, a duplicate, test data); `actor` is who did it. */
  async voidNc(ncId: string, input: VoidInput, actor: string): Promise<Nonconformity> {
    const now = this.options.clock.now();
    const { refusal, nc } = await this.onNc(ncId, (draft) => voidNc(draft, ncId, input, actor, now, this.options.policy));
    if (refusal !== null) throw dispositionError(ncId, refusal, nc);
    return (await this.options.register.getNc(ncId)) ?? nc;
  }

  /** Accept an NC's risk until a date, on an approver's word; `actor` is who recorded it. */
  async acceptRisk(ncId: string, input: RiskAcceptanceInput, actor: string): Promise<Nonconformity> {
    const now = this.options.clock.now();
    const { refusal, nc } = await this.onNc(ncId, (draft) => acceptRisk(draft, ncId, input, actor, now, this.options.policy));
    if (refusal !== null) throw dispositionError(ncId, refusal, nc);
    return (await this.options.register.getNc(ncId)) ?? nc;
  }

  /** A due date that has passed, or is no date, is refused, naming `dueDate`. */
  private checkDueDate(dueDate: string, now: number): void {
    const problem = dueDateProblem(dueDate, now);
    if (problem !== null) throw dateError('dueDate', problem);
  }

  /**
   * A person (`actor`) changes an NC's owner or due date, or adds a comment or an attachment: a new
   * entry on its timeline, written through the same guarded commit as a corrective action, so that
   * it is chained onto the real latest entry whatever else is written meanwhile.
   */
  async recordOwnership(ncId: string, change: OwnershipChange, actor: string): Promise<Nonconformity> {
    const now = this.options.clock.now();
    if (change.kind === 'due-date') this.checkDueDate(change.dueDate, now);
    const { refusal, nc } = await this.onNc(ncId, (draft) => {
      advance(draft, now, this.options.policy);
      return recordOwnership(draft, ncId, change, actor, now);
    });
    if (refusal === 'closed') {
      throw new RecurdError('NC_CLOSED', `${ncId} is closed (verified effective): its ${change.kind === 'owner' ? 'owner' : 'due date'} cannot change; comments and attachments can still be added`);
    }
    return (await this.options.register.getNc(ncId)) ?? nc;
  }

  /**
   * Decides a person's change to one NC, read beside its symptom; what `decide` refused, if
   * anything, and the NC as last read. An NC that is not its symptom's current one is read again
   * on each attempt: a copy from before a lost race would chain the entry onto a head that is no
   * longer the latest.
   */
  private async onNc<Refusal>(ncId: string, decide: (draft: SymptomDraft) => Refusal | null): Promise<{ refusal: Refusal | null; nc: Nonconformity }> {
    const nc = await this.options.register.getNc(ncId);
    if (nc === null) throw new RecurdError('NC_NOT_FOUND', `no nonconformity ${ncId}`);
    const result: BatchResult = { decisions: [], effects: [], created: new Map() };
    let refusal: Refusal | null = null;
    let current = nc;
    await this.settle(
      [nc.fingerprint],
      result,
      (draft) => {
        if (!draft.ncs.some((entry) => entry.nc.id === ncId)) draft.ncs.push({ nc: { ...current }, timeline: [] });
        refusal = decide(draft);
        return [];
      },
      {
        prepare: async (loaded) => {
          if (loaded.get(nc.fingerprint)?.nc?.id !== ncId) current = (await this.options.register.getNc(ncId)) ?? current;
        },
      },
    );
    return { refusal, nc: current };
  }

  /**
   * The life of the sources whose NCs may be judged in this decision: a window that has ended by
   * now (or by an event time up to maxFuture ahead). Read only then, so that intake pays nothing.
   */
  private async livenessFor(ncs: Array<Nonconformity | null>): Promise<Liveness> {
    const horizon = this.options.clock.now() + this.options.policy.maxFuture;
    const sources = new Set<string>();
    for (const nc of ncs) {
      if (nc !== null && nc.state === 'verifying' && nc.windowEndsAt !== null && nc.windowEndsAt <= horizon) sources.add(nc.source);
    }
    if (sources.size === 0 || this.options.sourceLife === undefined) return new Map();
    return this.options.sourceLife.liveness([...sources]);
  }

  /**
   * Read, decide, write; again for the fingerprints that lost a race, from fresh state and with
   * every decision of the lost attempt thrown away.
   */
  private async settle(
    fingerprints: string[],
    result: BatchResult,
    decide: (draft: SymptomDraft, seen: Map<string, SeenRecord>) => Decision[],
    { seenKeysOf = () => [], talliesOf = () => [], sweptTo = null, prepare }: SettleOptions = {},
  ): Promise<void> {
    let pending = fingerprints;
    // Symptoms whose whole history a decision turned out to need: read with it on the next attempt.
    const readHistory = new Set<string>();
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) {
        throw new RecurdError('CONFLICT', `gave up after ${MAX_ATTEMPTS} attempts: symptoms ${pending.join(', ')} kept changing`);
      }
      const { symptoms, seen } = await this.options.register.load(pending, new Map(pending.map((key) => [key, seenKeysOf(key)])), readHistory);
      const liveness = await this.livenessFor([...symptoms.values()].map((loaded) => loaded.nc));
      await prepare?.(symptoms);
      const groups: CommitGroup[] = [];
      const outcomes = new Map<string, { decisions: Decision[]; effects: Effect[] }>();
      const again: string[] = [];
      for (const key of pending) {
        const loaded = symptoms.get(key) ?? { symptom: null, version: 0, nc: null, historyRead: true };
        const draft = newDraft(key, loaded.symptom, loaded.nc ? [loaded.nc] : [], this.options.clock.now(), liveness, loaded.historyRead);
        let decisions: Decision[];
        try {
          decisions = decide(draft, seen);
          // Folded on a write that happens anyway (or the sweep): a duplicate alone writes nothing.
          if (draft.changed || sweptTo !== null) compactHistory(draft, this.options.policy);
        } catch (error) {
          if (!(error instanceof HistoryNeeded)) throw error;
          readHistory.add(key);
          again.push(key);
          continue;
        }
        outcomes.set(key, { decisions, effects: draft.effects });
        const group = groupOf(draft, loaded.version, this.options.policy, sweptTo, talliesOf(key));
        if (group !== null) groups.push(group);
      }
      const { conflicts, created } = groups.length > 0 ? await this.options.register.commit(groups) : { conflicts: [], created: new Map<string, string>() };
      const lost = new Set(conflicts);
      for (const [key, outcome] of outcomes) {
        if (lost.has(key)) continue;
        result.decisions.push(...outcome.decisions);
        result.effects.push(...outcome.effects);
      }
      for (const [key, id] of created) result.created.set(key, id);
      pending = [...conflicts, ...again];
    }
  }
}

/** What a person is told when an NC's state or a date stands in the way of what they asked. */
/** A date that must lie ahead and does not (422), or is no date (400), named by its field. */
function dateError(field: string, problem: DateProblem): RecurdError {
  const details = [{ path: field, message: problem.message }];
  return new RecurdError(problem.reason === 'past' ? 'DATE_IN_PAST' : 'REQUEST_INVALID', `${field}: ${problem.message}`, details);
}

function dispositionError(ncId: string, refused: DispositionRefusal, nc: Nonconformity): RecurdError {
  if (typeof refused === 'object') return dateError(refused.field, refused.problem);
  switch (refused) {
    case 'unknown':
      return new RecurdError('NC_NOT_FOUND', `no nonconformity ${ncId}`);
    case 'closed':
      return new RecurdError('NC_CLOSED', `${ncId} is closed (verified effective): nothing more can be recorded on it`);
    case 'void':
      return new RecurdError('NC_VOID', `${ncId} is void (${nc.voided?.reason ?? 'no reason kept'}): nothing more can be recorded on it`);
    case 'risk-accepted': {
      const until = (nc.riskAcceptance ?? null) === null ? 'its expiry' : new Date(nc.riskAcceptance?.until ?? 0).toISOString();
      return new RecurdError('NC_RISK_ACCEPTED', `${ncId} has its risk accepted until ${until}; it returns to open then`);
    }
    case 'verifying':
      return new RecurdError('NC_VERIFYING', `${ncId} has a corrective action whose effectiveness is being verified; its risk can be accepted once the window ends or it is reopened`);
  }
}
