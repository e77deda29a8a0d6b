/**
 * Symptom and nonconformity lifecycles, decided on event time (DESIGN.md, "Semantics").
 *
 *             firing                 fix (resolved / recorded / quiet)       window passes
 *  (none) ──────────▶ ACTIVE ─────────────────────────────────▶ FIXED ──────────────────▶ VERIFIED
 *                       ▲                                          │
 *                       └──── firing inside the window: RECURRENCE ┘ → raise or reopen an NC
 *
 * Pure: every function works on a {@link SymptomDraft} in memory; the store writes the result
 * atomically. Time comes from the observations and from the caller, never from the system.
 */
import type { Detector, SymptomReturn } from './detector.js';
import type { MatchSubject } from './match.js';
import type { Policy } from './policy.js';
import { iso } from './duration.js';
import { alertOf, appendHistory, foldDue, fromSnapshot, HISTORY, inserted, loggedAlert, setHistory, snapshotOf, type HistoryEntry } from './history.js';
import { isDuplicate, lastStatusFor, remember, type SeenRecord } from './seen.js';
import { examine, noteReport, RECENT_REPORTS, runWindow, startVerification, type Liveness } from './verification.js';
import { verificationPolicyFor, windowPolicyFor } from './windows.js';
import { classifyAction, reopenNote } from './corrective-action.js';
import { checkRootCauseAnalysis, missingForReopenedAction } from './root-cause-analysis.js';
import { advanceDispositions, dispositionDue, settled } from './dispositions.js';
import {
  SEVERITIES,
  type AlertStatus,
  EPISODES_KEPT,
  type CorrectiveActionInput,
  type Episode,
  type NcEvent,
  type Nonconformity,
  type ObservationRef,
  type ReceivedAlert,
  type Severity,
  type Symptom,
  type TimelineEntry,
} from './types.js';

/** Stands for the id of an NC created in this draft; the store replaces it with `NC-YYYY-NNNN`. */
export const NEW_NC = '#new';

export interface TimelineDraft extends TimelineEntry {
  /** The outbox event this entry produces, if any. */
  event: NcEvent['type'] | null;
}

export interface NcDraft {
  nc: Nonconformity;
  timeline: TimelineDraft[];
}

/** What a decision did, for metrics and logs: the lifecycle's own kinds, or a detector's `claims`. */
export type EffectKind = LifecycleEffectKind | (string & {});

type LifecycleEffectKind =
  | 'episode'
  | 'occurrence'
  | 'report'
  | 'fix'
  | 'tail'
  | 'late'
  | 'duplicate'
  | 'verified'
  | 'ignored'
  | 'clock-skew'
  | 'recurrence'
  | 'nc-opened'
  | 'nc-reopened'
  | 'nc-occurrence'
  | 'nc-verified-effective'
  | 'nc-verification-blocked'
  | 'nc-voided'
  | 'nc-risk-accepted'
  | 'nc-risk-expired'
  | 'nc-overdue'
  | 'heartbeat';

export interface Effect {
  kind: EffectKind;
  family: string;
  /** Annex A control, or '' where unknown (a metric label cannot be absent). */
  control: string;
  source: string;
}

export interface SymptomDraft {
  fingerprint: string;
  symptom: Symptom | null;
  /** NCs this draft touches: the symptom's current one, an earlier one it links to, a new one. */
  ncs: NcDraft[];
  effects: Effect[];
  /** What was seen of each observation's source event, to remember for duplicate detection, by `source`+`id` key. */
  seen: Map<string, SeenRecord>;
  changed: boolean;
  /** When the decision is made (the engine's clock): an NC's `openedAt` and the year of its id. */
  now: number;
  /** What the edge knows of the sources' life, for NCs verified by silence. */
  liveness: Liveness;
  /** Whether `symptom.history` is the whole stored history, or only what this decision appends. */
  historyRead: boolean;
  /** The symptom has been verified and quiet for the retention: the store removes it (not its NCs). */
  forget: boolean;
}

/**
 * Thrown when a decision needs the symptom's whole history and it was not read: the engine reads
 * it and decides that symptom again (an observation out of order, a fold, a person's late act).
 */
export class HistoryNeeded extends Error {
  constructor(readonly fingerprint: string) {
    super(`the history of symptom ${fingerprint} is needed to decide`);
  }
}

function requireHistory(draft: SymptomDraft): void {
  if (!draft.historyRead) throw new HistoryNeeded(draft.fingerprint);
}

/** Fields added to stored records since they were first written, with the value an old record means. */
const SYMPTOM_SINCE: Pick<Symptom, 'detectors' | 'recentReports' | 'firstFiring' | 'fixedBy' | 'lastFix' | 'episodes' | 'repeats' | 'lastRepeatAt' | 'history' | 'before' | 'historyCount' | 'historyFirstAt' | 'historyLastAt'> = {
  detectors: {},
  history: [],
  before: null,
  historyCount: 0,
  historyFirstAt: null,
  historyLastAt: null,
  recentReports: [],
  firstFiring: null,
  fixedBy: null,
  lastFix: null,
  episodes: [],
  repeats: 0,
  lastRepeatAt: null,
};
const NC_SINCE: Pick<
  Nonconformity,
  'windowStartsAt' | 'verification' | 'assetCount' | 'elsewhereCount' | 'timelineHead' | 'voided' | 'riskAcceptance' | 'overdueSince' | 'owner' | 'dueDate' | 'comments' | 'attachments'
> = {
  windowStartsAt: null,
  verification: null,
  assetCount: 0,
  elsewhereCount: 0,
  timelineHead: null,
  voided: null,
  riskAcceptance: null,
  overdueSince: null,
  owner: null,
  dueDate: null,
  comments: 0,
  attachments: 0,
};

/**
 * Fills in what an older record lacks. A copy spread over the defaults would be built property by
 * property on every decision (a slow object in V8); this touches only a record that needs it.
 */
function withDefaults<T extends object>(record: T, defaults: Partial<T>): T {
  for (const [field, value] of Object.entries(defaults) as Array<[keyof T, T[keyof T]]>) {
    if (record[field] === undefined) record[field] = structuredClone(value);
  }
  return record;
}

/** A symptom as read from the register, with what a record older than this version lacks filled in. */
export function withSymptomDefaults(symptom: Symptom): Symptom {
  return withDefaults({ ...symptom }, SYMPTOM_SINCE);
}

export function newDraft(fingerprint: string, symptom: Symptom | null, ncs: Nonconformity[], now: number, liveness: Liveness = new Map(), historyRead = true): SymptomDraft {
  return {
    now,
    fingerprint,
    symptom: symptom ? withDefaults({ ...symptom }, SYMPTOM_SINCE) : null,
    ncs: ncs.map((nc) => ({ nc: withDefaults({ ...nc }, NC_SINCE), timeline: [] })),
    effects: [],
    seen: new Map(),
    changed: false,
    liveness,
    historyRead,
    forget: false,
  };
}

export interface Observation {
  alert: ReceivedAlert;
  /** The key that, with the status, tells a duplicate: derived from `source` and `id`. */
  seenKey: string;
  /** What the store remembers under `seenKey`, or null when this event was never seen. */
  previous: SeenRecord | null;
}

/** A pointer to an observation, for timelines and the verification evidence. */
export function refOf(alert: ReceivedAlert, at: number): ObservationRef {
  return { source: alert.source, id: alert.id, at, evidence: alert.evidence };
}

function controlLabel(subject: { control: string | null }): string {
  return subject.control ?? '';
}

export function effect(draft: SymptomDraft, kind: EffectKind, subject: { family: string; control: string | null; source: string }): void {
  draft.effects.push({ kind, family: subject.family, control: controlLabel(subject), source: subject.source });
}

export function ncDraft(draft: SymptomDraft, id: string | null): NcDraft | undefined {
  return id === null ? undefined : draft.ncs.find((entry) => entry.nc.id === id);
}

export function appendTimeline(entry: NcDraft, at: number, type: TimelineEntry['type'], event: NcEvent['type'] | null, detail: Record<string, unknown>): void {
  entry.timeline.push({ at, type, event, detail });
  entry.nc.updatedAt = Math.max(entry.nc.updatedAt, at);
}

function escalate(severity: Severity): Severity {
  return SEVERITIES[Math.min(SEVERITIES.indexOf(severity) + 1, SEVERITIES.length - 1)] ?? severity;
}

/** Kept here too: detectors format their timeline times with it beside the lifecycle helpers. */
export { iso };

/**
 * Apply what time alone decides, up to `t`: a firing symptom quiet for `resolveAfter` is fixed;
 * a fix whose window passed is verified; an NC whose window passed is closed as verified effective.
 */
export function advance(draft: SymptomDraft, t: number, policy: Policy): void {
  const symptom = draft.symptom;
  if (symptom === null) return;
  const windows = windowPolicyFor(policy, symptom);
  if (symptom.state === 'active' && lastHeardFiring(symptom) + windows.resolveAfter <= t) {
    const fixedAt = lastHeardFiring(symptom) + windows.resolveAfter;
    fix(draft, fixedAt, 'quiet', windows.window, policy, { observation: null, by: null });
  }
  for (const entry of draft.ncs) {
    if (entry.nc.state === 'verifying' && entry.nc.windowEndsAt !== null && entry.nc.windowEndsAt <= t) verify(draft, entry, t, policy);
    advanceDispositions(draft, entry, t);
  }
  if (symptom.state === 'fixed' && symptom.windowEndsAt !== null && symptom.windowEndsAt <= t) {
    symptom.state = 'verified';
    symptom.lastTransitionAt = symptom.windowEndsAt;
    effect(draft, 'verified', symptom);
    draft.changed = true;
  }
  for (const detector of detectorsFor(policy, symptom)) detector.onAdvance?.(draft, t, policy);
  if (retentionEnds(draft, policy) <= t) {
    draft.forget = true;
    draft.changed = true;
  }
}

/**
 * When a symptom may be removed: verified, with no NC being handled, and quiet for the retention.
 * Its NCs and their timelines stay; a return after that starts afresh.
 */
function retentionEnds(draft: SymptomDraft, policy: Policy): number {
  const symptom = draft.symptom;
  if (symptom === null || symptom.state !== 'verified' || openNc(draft) !== undefined) return Number.POSITIVE_INFINITY;
  if (draft.ncs.some((entry) => !settled(entry.nc))) return Number.POSITIVE_INFINITY;
  return Math.max(symptom.lastReportAt, symptom.lastTransitionAt) + policy.symptomRetention;
}

/** The last time the symptom was said to fail: a firing, or a repeat saying it persists. */
function lastHeardFiring(symptom: Symptom): number {
  return Math.max(symptom.lastFiringAt, symptom.lastRepeatAt ?? Number.NEGATIVE_INFINITY);
}

/**
 * The window of a verifying NC has ended by `t`: close it as verified effective if the evidence
 * stands; otherwise say what is missing (once for each new finding) and watch again from the end
 * of what broke the evidence.
 */
function verify(draft: SymptomDraft, entry: NcDraft, t: number, policy: Policy): void {
  const nc = entry.nc;
  const own = draft.symptom !== null && draft.symptom.fingerprint === nc.fingerprint ? draft.symptom : null;
  // An NC written before verification evidence was kept: its window ran from the action.
  if (nc.verification === null) {
    const { verifyBy, maxGap } = verificationOf(policy, nc);
    nc.verification = startVerification(verifyBy, maxGap, null);
  }
  nc.windowStartsAt ??= nc.correctiveAction?.recordedAt ?? nc.windowEndsAt;
  const heartbeat = policy.heartbeats.find((rule) => rule.source === nc.source);
  const finding = examine(nc, own, draft.liveness, heartbeat, t);
  const verification = nc.verification;
  draft.changed = true;
  if (finding.missing.length === 0) {
    // When the evidence stood: the window's end, or the healthy report that came after it.
    const closedAt = Math.max(nc.windowEndsAt ?? t, verification.by === 'evidence' ? (verification.lastHealthyAt ?? 0) : 0);
    nc.state = 'closed';
    nc.closedAt = closedAt;
    verification.blocked = null;
    appendTimeline(entry, closedAt, 'verified-effective', 'nc.verified-effective', { check: nc.check, ...finding.evidence });
    effect(draft, 'nc-verified-effective', nc);
    return;
  }
  const window = windowPolicyFor(policy, nc).window;
  const endedAt = nc.windowEndsAt ?? t;
  if (JSON.stringify(finding.missing) !== JSON.stringify(verification.blocked)) {
    appendTimeline(entry, Math.min(t, endedAt), 'verification-blocked', 'nc.verification-blocked', {
      missing: finding.missing,
      ...finding.evidence,
      watchingAgainFrom: finding.restart === 'report' ? 'the next report of the check' : finding.restart === null ? null : iso(finding.restart),
    });
    effect(draft, 'nc-verification-blocked', nc);
  }
  verification.blocked = finding.missing;
  if (finding.restart === 'report') {
    nc.windowStartsAt = null;
    nc.windowEndsAt = null;
    verification.waitingFor = 'report';
  } else if (finding.restart !== null) {
    runWindow(nc, finding.restart, window);
  }
}

/** How an NC is verified; a systemic NC's aggregate only ever sees failures, so by silence. */
function verificationOf(policy: Policy, nc: Nonconformity): ReturnType<typeof verificationPolicyFor> {
  const chosen = verificationPolicyFor(policy, nc);
  return nc.assets.length > 0 ? { ...chosen, verifyBy: 'silence' } : chosen;
}

/** The detectors whose match filter takes this symptom, in the policy's order; none for an aggregate. */
export function detectorsFor(policy: Policy, subject: MatchSubject & { aggregate?: string | null }): Detector[] {
  if (subject.aggregate) return [];
  return policy.detectors.filter((detector) => detector.matches(subject));
}

function fix(draft: SymptomDraft, at: number, kind: Symptom['fixKind'], window: number, policy: Policy, by: NonNullable<Symptom['fixedBy']>): void {
  const symptom = draft.symptom;
  if (symptom === null) return;
  symptom.state = 'fixed';
  symptom.fixKind = kind;
  symptom.fixedAt = at;
  symptom.fixedBy = by;
  symptom.windowEndsAt = at + window;
  symptom.lastTransitionAt = at;
  effect(draft, 'fix', symptom);
  draft.changed = true;
  for (const detector of detectorsFor(policy, symptom)) detector.onFix?.(draft, at, policy);
  // An action recorded while the symptom fired waits for it to clear: seen healthy, or, where
  // the source only speaks on failure, quiet for resolveAfter.
  const current = openNc(draft);
  const verification = current?.nc.verification;
  if (current === undefined || current.nc.state !== 'verifying' || verification?.waitingFor !== 'clear') return;
  if (kind !== 'resolved' && verification.by === 'evidence') return;
  const ncWindow = windowPolicyFor(policy, current.nc).window;
  runWindow(current.nc, at, ncWindow);
  symptom.windowEndsAt = Math.max(symptom.windowEndsAt, current.nc.windowEndsAt ?? 0);
  appendTimeline(current, at, 'window-started', null, {
    cleared: kind === 'resolved' ? 'a healthy report of the symptom' : `quiet since its last firing at ${iso(symptom.lastFiringAt)}`,
    observation: refView(by.observation),
    windowStartsAt: iso(at),
    windowEndsAt: iso(current.nc.windowEndsAt ?? at),
  });
}

function controlNotes(from: { controlAsReported?: string; controlUnknown?: true } | null): Pick<Symptom, 'controlAsReported' | 'controlUnknown'> {
  return {
    ...(from?.controlAsReported === undefined ? {} : { controlAsReported: from.controlAsReported }),
    ...(from?.controlUnknown === undefined ? {} : { controlUnknown: from.controlUnknown }),
  };
}

/** A symptom's current episode as the record of it kept when a return (or a new start) ends it. */
export function episodeOf(symptom: Symptom): Episode {
  return {
    episode: symptom.episode,
    firstFiringAt: symptom.firstFiring?.at ?? symptom.lastTransitionAt,
    lastFiringAt: symptom.lastFiringAt,
    occurrences: symptom.occurrences,
    fixedAt: symptom.fixedAt,
    fixKind: symptom.fixKind,
    fixedBy: symptom.fixedBy?.by ?? null,
    note: symptom.fixedBy?.note ?? null,
  };
}

export function startEpisode(draft: SymptomDraft, alert: ReceivedAlert, at: number): void {
  const previous = draft.symptom;
  const kept: Partial<Symptom> = { ...previous };
  delete kept.controlAsReported;
  delete kept.controlUnknown;
  draft.symptom = {
    // Fields of a record written by an earlier version, kept for the detector that reads them (DetectorState.replaces).
    ...kept,
    fingerprint: draft.fingerprint,
    source: alert.source,
    family: alert.family,
    control: alert.control ?? previous?.control ?? null,
    // What the source said goes with the control it came with: a new control drops an old note.
    ...controlNotes(alert.control === undefined ? previous : alert),
    check: alert.check,
    asset: alert.asset,
    title: alert.message || previous?.title || alert.check,
    severity: alert.severity,
    state: 'active',
    episode: (previous?.episode ?? 0) + 1,
    firstSeenAt: previous?.firstSeenAt ?? at,
    lastFiringAt: at,
    lastReportAt: Math.max(previous?.lastReportAt ?? at, at),
    // A return is already counted as a report by the step that found it.
    recentReports: previous !== null && previous.recentReports.at(-1) === at ? previous.recentReports : [...(previous?.recentReports ?? []), at].slice(-RECENT_REPORTS),
    firstFiring: { ...refOf(alert, at), message: alert.message },
    fixedBy: null,
    lastFix: previous?.lastFix ?? null,
    episodes: previous === null ? [] : previous.episode === 0 ? previous.episodes : [...previous.episodes, episodeOf(previous)].slice(-EPISODES_KEPT),
    repeats: 0,
    lastRepeatAt: null,
    lastTransitionAt: at,
    fixedAt: null,
    fixKind: null,
    windowEndsAt: null,
    occurrences: 1,
    observations: (previous?.observations ?? 0) + 1,
    lateObservations: previous?.lateObservations ?? 0,
    nc: previous?.nc ?? null,
    recurrenceOf: previous?.recurrenceOf ?? null,
    labels: alert.labels,
    detectors: previous?.detectors ?? {},
    aggregate: previous?.aggregate ?? null,
    history: previous?.history ?? [],
    before: previous?.before ?? null,
    historyCount: previous?.historyCount ?? 0,
    historyFirstAt: previous?.historyFirstAt ?? null,
    historyLastAt: previous?.historyLastAt ?? null,
  };
  draft.changed = true;
}

/**
 * A symptom first heard of as healthy (a resolved, a success): kept, so that a failure arriving
 * later but stamped before it forms the episode it ends. It has never fired: episode 0.
 */
function startHealthy(draft: SymptomDraft, alert: ReceivedAlert, at: number): void {
  startEpisode(draft, { ...alert, message: '' }, at);
  const symptom = draft.symptom as Symptom;
  Object.assign(symptom, { state: 'verified', episode: 0, occurrences: 0, lastFiringAt: 0, firstFiring: null, title: alert.check });
}

export interface RaiseOptions {
  detector: string;
  reason: string;
  at: number;
  detail: Record<string, unknown>;
  /** An NC of an earlier episode this one continues (clause 10.2: did it recur?). */
  recurrenceOf?: string | null;
  /** Assets the NC concerns beyond the symptom's own, e.g. those a systemic failure hit first. */
  assets?: string[];
  /** How many assets it concerns, where that is more than `assets` lists. */
  assetCount?: number;
  /** What proves it so far; a recurrence is two (the failure and its return). */
  occurrences?: number;
}

/** Raise a new NC for the draft's symptom; it becomes the symptom's current NC. */
export function raiseNc(draft: SymptomDraft, options: RaiseOptions): NcDraft {
  const symptom = draft.symptom as Symptom;
  const nc: Nonconformity = {
    id: NEW_NC,
    state: 'open',
    fingerprint: symptom.fingerprint,
    source: symptom.source,
    family: symptom.family,
    control: symptom.control,
    ...controlNotes(symptom),
    check: symptom.check,
    asset: symptom.asset,
    title: symptom.title,
    severity: symptom.severity,
    detector: options.detector,
    reason: options.reason,
    reopenCount: 0,
    occurrences: options.occurrences ?? 2,
    // The decision's time, not a source's clock: an NC is opened when recurd raises it.
    openedAt: draft.now,
    updatedAt: Math.max(draft.now, options.at),
    lastOccurrenceAt: options.at,
    correctiveAction: null,
    windowStartsAt: null,
    windowEndsAt: null,
    verification: null,
    closedAt: null,
    recurrenceOf: options.recurrenceOf ?? symptom.recurrenceOf,
    assets: options.assets ?? [],
    assetCount: options.assetCount ?? options.assets?.length ?? 0,
    flapping: false,
    elsewhere: [],
    elsewhereCount: 0,
    timelineHead: null,
    voided: null,
    riskAcceptance: null,
    overdueSince: null,
    owner: null,
    dueDate: null,
    comments: 0,
    attachments: 0,
  };
  const entry: NcDraft = { nc, timeline: [] };
  draft.ncs.push(entry);
  symptom.nc = NEW_NC;
  symptom.recurrenceOf = null;
  appendTimeline(entry, options.at, 'raised', 'nc.opened', { detector: options.detector, reason: options.reason, ...options.detail });
  effect(draft, 'nc-opened', nc);
  draft.changed = true;
  return entry;
}

/** The symptom's current NC, unless it is closed or void (history: a new one is raised). */
export function openNc(draft: SymptomDraft): NcDraft | undefined {
  const entry = ncDraft(draft, draft.symptom?.nc ?? null);
  return entry === undefined || settled(entry.nc) ? undefined : entry;
}

/**
 * Occurrences an NC's timeline records one by one; after them, the one that doubles the count is
 * recorded (with how many came since), so that a symptom left returning for weeks costs its NC's
 * timeline and its notifications a number of entries that grows with the logarithm of its returns.
 * The NC counts every one, and the symptom's history keeps the latest.
 */
const OCCURRENCES_LISTED = 10;

function recordsOccurrence(occurrences: number): boolean {
  return occurrences <= OCCURRENCES_LISTED || (occurrences & (occurrences - 1)) === 0;
}

/** One more occurrence on an NC that is still being handled. */
export function addOccurrence(draft: SymptomDraft, entry: NcDraft, at: number, detail: Record<string, unknown>): void {
  entry.nc.occurrences += 1;
  entry.nc.lastOccurrenceAt = Math.max(entry.nc.lastOccurrenceAt, at);
  draft.changed = true;
  if (!recordsOccurrence(entry.nc.occurrences)) return;
  const count = entry.nc.occurrences;
  const unlisted = count > OCCURRENCES_LISTED ? { occurrences: count, countedSinceLastEntry: count - Math.max(count / 2, OCCURRENCES_LISTED) - 1 } : {};
  appendTimeline(entry, at, 'occurrence', 'nc.occurrence', { ...detail, ...unlisted });
  effect(draft, 'nc-occurrence', entry.nc);
}

/** The symptom returned while the NC's corrective action was being verified: it was ineffective. */
export function reopenNc(draft: SymptomDraft, entry: NcDraft, at: number, detail: Record<string, unknown>): void {
  const nc = entry.nc;
  nc.occurrences += 1;
  nc.lastOccurrenceAt = Math.max(nc.lastOccurrenceAt, at);
  nc.state = 'reopened';
  nc.reopenCount += 1;
  nc.severity = escalate(nc.severity);
  nc.windowEndsAt = null;
  appendTimeline(entry, at, 'reopened', 'nc.reopened', {
    ...detail,
    reopenCount: nc.reopenCount,
    severity: nc.severity,
    ineffectiveAction: nc.correctiveAction,
    // Said in the notification: a weak action coming back is the expected outcome, not bad luck.
    note: reopenNote(nc.correctiveAction?.strength ?? null, nc.correctiveAction?.strengthReason),
  });
  effect(draft, 'nc-reopened', nc);
  draft.changed = true;
}

/** An observation pointer as a person reads it: its time in ISO 8601. */
function refView(ref: ObservationRef | null): Record<string, unknown> | null {
  return ref === null ? null : { ...ref, at: iso(ref.at) };
}

/** The story of the episode a return ended: its first incident, what fixed it, how often it fired. */
export function episodeStory(symptom: Symptom): SymptomReturn['story'] {
  return { firstFiring: symptom.firstFiring, fixedBy: symptom.fixedBy, occurrences: symptom.occurrences, repeats: symptom.repeats };
}

/** What an auditor needs to see of a return: which alert, which fix, which window, and the episode before. */
export function returnProof(event: SymptomReturn, episode: number): Record<string, unknown> {
  const { firstFiring, fixedBy, occurrences, repeats } = event.story;
  return {
    alert: { source: event.alert.source, id: event.alert.id, observedAt: iso(event.at) },
    episode,
    fixedAt: iso(event.fixedAt),
    fixKind: event.fixKind,
    windowEndsAt: iso(event.windowEndsAt),
    evidence: event.alert.evidence,
    previousEpisode: {
      firstIncident: firstFiring === null ? null : { ...refView(firstFiring), message: firstFiring.message },
      fix: { kind: event.fixKind, at: iso(event.fixedAt), observation: refView(fixedBy?.observation ?? null), by: fixedBy?.by ?? null },
      occurrences,
      repeats,
    },
  };
}

/** A firing after the window passed starts a new episode; policy decides whether the old NC hears of it. */
/** Returns true when the return was counted as one more occurrence of the symptom's NC. */
function returnAfterWindow(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): boolean {
  const symptom = draft.symptom;
  const current = ncDraft(draft, symptom?.nc ?? null);
  if (current !== undefined && !settled(current.nc)) {
    // The NC was never corrected: the symptom returning is one more occurrence of it.
    startEpisode(draft, alert, at);
    addOccurrence(draft, current, at, { alert: { source: alert.source, id: alert.id, observedAt: iso(at) }, afterWindow: true });
    return true;
  }
  startEpisode(draft, alert, at);
  const started = draft.symptom as Symptom;
  effect(draft, 'episode', started);
  started.nc = null;
  if (current !== undefined && policy.lateRecurrence === 'link') {
    started.recurrenceOf = current.nc.id;
    appendTimeline(current, at, 'late-recurrence', null, {
      alert: { source: alert.source, id: alert.id, observedAt: iso(at) },
      episode: started.episode,
    });
  } else {
    started.recurrenceOf = null;
  }
  return false;
}

/**
 * A repeat of a firing state the sender still holds, for a symptom still firing: not a new
 * observation, but a report that the failure persists (at its receipt), never silence.
 */
function persists(draft: SymptomDraft, alert: ReceivedAlert, previous: SeenRecord | null, policy: Policy): void {
  const symptom = draft.symptom;
  if (alert.status !== 'firing' || symptom === null || symptom.state !== 'active' || lastStatusFor(previous, alert.reporter) !== 'firing') return;
  const at = alert.receivedAt;
  if (at <= lastHeardFiring(symptom)) return;
  symptom.lastRepeatAt = at;
  symptom.repeats += 1;
  draft.changed = true;
  afterReport(draft, alert, at, policy);
}

/** Evidence for the symptom's NC under verification: one more report, healthy or not. */
function afterReport(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): void {
  const current = openNc(draft);
  if (current === undefined || current.nc.state !== 'verifying') return;
  const window = windowPolicyFor(policy, current.nc).window;
  if (noteReport(current.nc, { healthy: alert.status === 'resolved', at, ref: refOf(alert, at) }, window)) {
    appendTimeline(current, at, 'window-started', null, {
      cleared: 'the check reported again after a gap',
      observation: refView(refOf(alert, at)),
      windowStartsAt: iso(at),
      windowEndsAt: iso(current.nc.windowEndsAt ?? at),
    });
  }
  draft.changed = true;
  // A window that ended without evidence closes as soon as the evidence stands.
  if (current.nc.windowEndsAt !== null && current.nc.windowEndsAt <= at) verify(draft, current, at, policy);
}

/** One observation, in arrival order. Returns what it did, for metrics. */
export function observe(draft: SymptomDraft, observation: Observation, policy: Policy): EffectKind {
  const { alert, seenKey } = observation;
  const previous = draft.seen.get(seenKey) ?? observation.previous;
  const subject = { family: alert.family, control: alert.control ?? null, source: alert.source };
  if (isDuplicate(previous, alert)) {
    persists(draft, alert, previous, policy);
    effect(draft, 'duplicate', subject);
    return 'duplicate';
  }
  const senderSaid = lastStatusFor(previous, alert.reporter);
  draft.seen.set(seenKey, remember(previous, alert));
  // Alertmanager re-sends a merged alert as firing with its old startsAt after a resolve: that
  // firing is new, and only its receipt says when it happened.
  const stamped = senderSaid === 'resolved' && alert.status === 'firing' ? Math.max(alert.observedAt, alert.receivedAt) : alert.observedAt;
  // A source clock far ahead would leave the symptom active until then: time it at receipt.
  const skewed = stamped > alert.receivedAt + policy.maxFuture;
  const at = skewed ? alert.receivedAt : stamped;
  const before = draft.symptom;
  if (skewed) effect(draft, 'clock-skew', subject);
  if (at < alert.receivedAt - policy.maxLateness) {
    // Too old to decide anything: recorded, without effect.
    if (before !== null) {
      before.observations += 1;
      before.lateObservations += 1;
      draft.changed = true;
    }
    effect(draft, 'late', subject);
    return 'late';
  }
  const entry = { kind: 'observation' as const, at, alert: loggedAlert(alert, before), outcome: '' };
  if (before !== null && outOfOrder(before, alert.status, at)) {
    requireHistory(draft);
    setHistory(before, inserted(before.history, entry));
    before.lateObservations += 1;
    redecide(draft, entry, alert.receivedAt, policy);
    if (skewed) noteSkew(draft, alert, at);
    effect(draft, 'late', subject);
    return 'late';
  }
  // The state before the first entry of a fresh history is where a re-decision would start.
  if (before !== null && before.historyCount === 0) before.before = snapshotOf(before);
  const result = step(draft, alert, at, policy);
  const symptom = draft.symptom;
  if (symptom !== null) appendHistory(symptom, decidedEntry(entry, result, result.afterWindow?.counted === true));
  const { outcome } = result;
  if (skewed) noteSkew(draft, alert, at);
  return outcome;
}

/**
 * Whether an observation belongs before what the symptom's history already decided: it is put in
 * its place and the history decided again. One older than the whole history is late as before.
 */
function outOfOrder(symptom: Symptom, status: AlertStatus, at: number): boolean {
  const latest = symptom.historyLastAt;
  if (latest === null) return false;
  return at < latest || at < symptom.lastTransitionAt || (status === 'resolved' && at < symptom.lastFiringAt);
}

interface StepResult {
  outcome: EffectKind;
  /** The return a detector claimed, to raise or reopen an NC with when it is decided again. */
  claimed?: { detector: Detector; event: SymptomReturn };
  /** A return after the window passed; `counted` when it was one more occurrence of the symptom's NC. */
  afterWindow?: { counted: boolean };
}

/** What a step decided, as its history entry keeps it. */
function decidedEntry(entry: HistoryEntry & { kind: 'observation' }, result: StepResult, counted: boolean): HistoryEntry {
  return {
    kind: 'observation',
    at: entry.at,
    alert: entry.alert,
    outcome: result.outcome,
    ...(result.claimed === undefined ? {} : { proves: result.claimed.event.fixedAt }),
    ...(counted ? { counted: true as const } : {}),
  };
}

/** What one observation, in its event-time place, does to the symptom and its NC. */
function step(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): StepResult {
  const subject = { family: alert.family, control: alert.control ?? null, source: alert.source };
  const before = draft.symptom;
  if (before === null) {
    if (alert.status === 'resolved') {
      startHealthy(draft, alert, at);
      effect(draft, 'report', subject);
      return { outcome: 'report' };
    }
    startEpisode(draft, alert, at);
    effect(draft, 'episode', subject);
    afterFiring(draft, alert, at, policy);
    return { outcome: 'episode' };
  }

  if (at < before.lastTransitionAt || (alert.status === 'resolved' && at < before.lastFiringAt)) {
    before.observations += 1;
    before.lateObservations += 1;
    draft.changed = true;
    effect(draft, 'late', before);
    return { outcome: 'late' };
  }

  advance(draft, at, policy);
  const symptom = draft.symptom as Symptom;
  symptom.lastReportAt = Math.max(symptom.lastReportAt, at);
  symptom.recentReports = [...symptom.recentReports, at].slice(-RECENT_REPORTS);
  draft.changed = true;

  if (alert.status === 'resolved') {
    symptom.observations += 1;
    const outcome: EffectKind = symptom.state === 'active' ? 'fix' : 'report';
    if (outcome === 'fix') fix(draft, at, 'resolved', windowPolicyFor(policy, symptom).window, policy, { observation: refOf(alert, at), by: null });
    else effect(draft, 'report', symptom);
    afterReport(draft, alert, at, policy);
    return { outcome };
  }

  const result: StepResult = { outcome: 'episode' };
  switch (symptom.state) {
    case 'active':
      symptom.observations += 1;
      symptom.occurrences += 1;
      symptom.lastFiringAt = Math.max(symptom.lastFiringAt, at);
      effect(draft, 'occurrence', symptom);
      result.outcome = 'occurrence';
      break;
    case 'fixed': {
      if (at <= (symptom.fixedAt ?? at) + policy.skew) {
        symptom.observations += 1;
        symptom.occurrences += 1;
        effect(draft, 'tail', symptom);
        afterReport(draft, alert, at, policy);
        return { outcome: 'tail' };
      }
      const event: SymptomReturn = {
        alert,
        at,
        fixedAt: symptom.fixedAt ?? at,
        fixKind: symptom.fixKind,
        windowEndsAt: symptom.windowEndsAt ?? at,
        story: episodeStory(symptom),
      };
      startEpisode(draft, alert, at);
      // The first detector that claims the return decides it (the registry orders them).
      const claimed = detectorsFor(policy, alert).find((detector) => detector.onReturn?.(draft, event, policy) === true);
      result.outcome = claimed === undefined ? 'episode' : (claimed.claims ?? claimed.name);
      if (claimed === undefined) effect(draft, 'episode', symptom);
      else result.claimed = { detector: claimed, event };
      break;
    }
    case 'verified':
      // A symptom only ever seen healthy starts its first episode: no return.
      if (symptom.episode > 0) result.afterWindow = { counted: returnAfterWindow(draft, alert, at, policy) };
      else returnAfterWindow(draft, alert, at, policy);
      break;
  }
  afterReport(draft, alert, at, policy);
  afterFiring(draft, alert, at, policy);
  return result;
}

/**
 * Decide the symptom's history again from the state before it, in event-time order, on a
 * scratch draft without NCs; then bring the real draft to that state. A return that only now
 * proves a fix ineffective raises or reopens the NC as it would have in order; a proof that no
 * longer holds leaves its NC as it is (an NC is never withdrawn) and is noted on it.
 */
function redecide(draft: SymptomDraft, late: HistoryEntry & { kind: 'observation' }, receivedAt: number, policy: Policy): void {
  const symptom = draft.symptom as Symptom;
  const scratch = newDraft(draft.fingerprint, null, [], draft.now, draft.liveness);
  const base = symptom.before;
  if (base !== null) scratch.symptom = fromSnapshot(base);
  const decided: Array<{ entry: HistoryEntry; result: StepResult | null }> = [];
  for (const entry of symptom.history) {
    if (entry.kind === 'observation') {
      decided.push({ entry, result: step(scratch, alertOf(entry.alert, symptom, entry.at), entry.at, policy) });
    } else {
      applyPersonEntry(scratch, entry, policy);
      decided.push({ entry, result: null });
    }
  }
  const derived = scratch.symptom as Symptom;
  const current = ncDraft(draft, symptom.nc);
  draft.symptom = {
    ...derived,
    // What is not decided from the history: the links to NCs, the repeats, the counters of arrivals.
    nc: symptom.nc,
    recurrenceOf: symptom.recurrenceOf,
    repeats: symptom.repeats,
    lastRepeatAt: symptom.lastRepeatAt,
    observations: symptom.observations + 1,
    lateObservations: symptom.lateObservations,
    history: [],
    before: symptom.before,
    historyCount: 0,
    historyFirstAt: null,
    historyLastAt: null,
  };
  draft.changed = true;
  // Each proof is of one fix: a fix already proven ineffective is the same return whichever
  // observation proves it now; a fix proven only now raises or reopens as it would have in order.
  const proven = new Set(decided.flatMap(({ entry }) => (entry.kind === 'observation' && entry.proves !== undefined ? [entry.proves] : [])));
  const stillProven = new Set(decided.flatMap(({ result }) => (result?.claimed === undefined ? [] : [result.claimed.event.fixedAt])));
  const counted = new Set<HistoryEntry>();
  for (const { entry, result } of decided) {
    if (entry.kind !== 'observation' || result === null) continue;
    const claimed = result.claimed;
    // An observation already on the NC (as a proof or an occurrence) is not counted twice.
    if (claimed !== undefined && !proven.has(claimed.event.fixedAt)) {
      proven.add(claimed.event.fixedAt);
      if (entry.counted !== true) claimed.detector.onReturn?.(draft, claimed.event, policy);
    }
    const occurrenceLost = entry.counted === true && result.afterWindow === undefined && claimed === undefined;
    // A lost occurrence is noted once, below, and no longer counted as one.
    if (entry.counted === true && !occurrenceLost) counted.add(entry);
    else if (entry.counted !== true && result.afterWindow !== undefined && entry.proves === undefined && returnedAfterWindow(draft, alertOf(entry.alert, symptom, entry.at), entry.at, policy)) {
      counted.add(entry);
    }
    const proofLost = entry.proves !== undefined && !stillProven.has(entry.proves);
    if ((proofLost || occurrenceLost) && current !== undefined) {
      appendTimeline(current, late.at, 'contradicted', null, {
        observation: { id: late.alert.id, status: late.alert.status, at: iso(late.at), receivedAt: iso(receivedAt) },
        contradicts: { id: entry.alert.id, at: iso(entry.at), was: proofLost ? entry.outcome : 'an occurrence after the window', now: result.outcome },
        note: 'in event-time order this observation no longer proves the fix ineffective; the NC stays, for a person to judge',
      });
    }
  }
  setHistory(
    draft.symptom,
    decided.map(({ entry, result }) => (entry.kind === 'observation' && result !== null ? decidedEntry(entry, result, counted.has(entry)) : entry)),
  );
  afterReport(draft, alertOf(late.alert, symptom, late.at), late.at, policy);
}

/** What a return after the window, found only when the history was decided again, does to the symptom's NC. */
function returnedAfterWindow(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): boolean {
  const symptom = draft.symptom as Symptom;
  const current = ncDraft(draft, symptom.nc);
  // An NC whose every occurrence came later did not exist yet at this return.
  if (current === undefined || current.nc.lastOccurrenceAt > at) return false;
  if (!settled(current.nc)) {
    addOccurrence(draft, current, at, { alert: { source: alert.source, id: alert.id, observedAt: iso(at) }, afterWindow: true });
    return true;
  }
  symptom.nc = null;
  symptom.recurrenceOf = policy.lateRecurrence === 'link' ? current.nc.id : null;
  if (policy.lateRecurrence === 'link') appendTimeline(current, at, 'late-recurrence', null, { alert: { source: alert.source, id: alert.id, observedAt: iso(at) }, episode: symptom.episode });
  return false;
}

/** A person's fix or corrective action, as it acts on the symptom when its history is decided again. */
function applyPersonEntry(draft: SymptomDraft, entry: HistoryEntry & { kind: 'fix' | 'action' }, policy: Policy): void {
  if (entry.kind === 'fix') {
    recordFix(draft, entry.at, policy, entry.by, entry.note ?? null);
    return;
  }
  advance(draft, entry.at, policy);
  const symptom = draft.symptom;
  if (symptom !== null && symptom.state !== 'active') actionOnSymptom(symptom, entry.at, entry.window);
}

/** A corrective action on a symptom that is not firing: a return inside the action's window proves it ineffective. */
function actionOnSymptom(symptom: Symptom, at: number, window: number): void {
  symptom.state = 'fixed';
  symptom.fixedAt ??= at;
  symptom.fixKind ??= 'recorded';
  symptom.windowEndsAt = at + window;
  symptom.lastTransitionAt = Math.max(symptom.lastTransitionAt, at);
}

/**
 * Fold into `before` the entries no observation can come before any more (older than
 * maxLateness at `now`), and the oldest beyond {@link HISTORY}: the history stays bounded.
 */
export function compactHistory(draft: SymptomDraft, policy: Policy): void {
  const symptom = draft.symptom;
  if (symptom === null || !foldDue(symptom, draft.now - policy.maxLateness)) return;
  requireHistory(draft);
  const keepFrom = symptom.history.findIndex((entry, index) => entry.at >= draft.now - policy.maxLateness && symptom.history.length - index <= HISTORY);
  const folded = keepFrom === -1 ? symptom.history : symptom.history.slice(0, keepFrom);
  if (folded.length === 0) return;
  const rest = keepFrom === -1 ? [] : symptom.history.slice(keepFrom);
  draft.changed = true;
  if (rest.length === 0) {
    setHistory(symptom, []);
    symptom.before = null;
    return;
  }
  const scratch = newDraft(draft.fingerprint, null, [], draft.now, draft.liveness);
  if (symptom.before !== null) scratch.symptom = fromSnapshot(symptom.before);
  for (const entry of folded) {
    if (entry.kind === 'observation') step(scratch, alertOf(entry.alert, symptom, entry.at), entry.at, policy);
    else applyPersonEntry(scratch, entry, policy);
  }
  setHistory(symptom, rest);
  symptom.before = scratch.symptom === null ? null : snapshotOf(scratch.symptom);
}

/** Noted on the NC the observation concerns, for an auditor reading why its time is the receipt. */
function noteSkew(draft: SymptomDraft, alert: ReceivedAlert, at: number): void {
  const current = openNc(draft);
  if (current === undefined) return;
  appendTimeline(current, at, 'clock-skew', null, {
    alert: { source: alert.source, id: alert.id },
    stampedAt: iso(alert.observedAt),
    receivedAt: iso(alert.receivedAt),
  });
  draft.changed = true;
}

function afterFiring(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): void {
  for (const detector of detectorsFor(policy, alert)) detector.onFiring?.(draft, alert, at, policy);
}

/** A person (`by`, the actor) records that the symptom is fixed (API or CLI), at wall-clock time `at`, with an optional note. */
export function recordFix(draft: SymptomDraft, at: number, policy: Policy, by: string, note: string | null): boolean {
  const symptom = draft.symptom;
  if (symptom === null) return false;
  advance(draft, at, policy);
  if (symptom.state !== 'active') return false;
  logPersonEntry(draft, symptom, { kind: 'fix', at, by, ...(note === null ? {} : { note }) });
  fix(draft, at, 'recorded', windowPolicyFor(policy, symptom).window, policy, { observation: null, by, note });
  symptom.lastFix = { at, actor: by, note };
  // A person's act on a symptom whose NC is being handled belongs on that NC's record.
  const current = openNc(draft);
  if (current !== undefined) appendTimeline(current, at, 'fix-recorded', null, { actor: by, note, fixedAt: iso(at), windowEndsAt: iso(symptom.windowEndsAt ?? at) });
  return true;
}

/** A person's act goes into the history, so that deciding it again keeps it. */
function logPersonEntry(draft: SymptomDraft, symptom: Symptom, entry: HistoryEntry & { kind: 'fix' | 'action' }): void {
  if (symptom.historyCount === 0) symptom.before = snapshotOf(symptom);
  if (symptom.historyLastAt === null || entry.at >= symptom.historyLastAt) {
    appendHistory(symptom, entry);
    return;
  }
  requireHistory(draft);
  setHistory(symptom, inserted(symptom.history, entry));
}

/** Why a corrective action was not recorded; `missing` names what a reopened NC's analysis lacks. */
export type CorrectiveActionRefusal = 'closed' | 'verifying' | 'void' | 'risk-accepted' | 'unknown' | { missing: string[] };

/**
 * A corrective action recorded on an NC starts the NC's own effectiveness window; the symptom
 * counts as fixed from now, with the same window, so that a return proves the action ineffective.
 */
export function recordCorrectiveAction(
  draft: SymptomDraft,
  ncId: string,
  action: CorrectiveActionInput,
  at: number,
  policy: Policy,
): CorrectiveActionRefusal | null {
  advance(draft, at, policy);
  const entry = ncDraft(draft, ncId);
  if (entry === undefined) return 'unknown';
  const nc = entry.nc;
  if (nc.state === 'closed' || nc.state === 'verifying' || nc.state === 'void' || nc.state === 'risk-accepted') return nc.state;
  // An NC that came back needs its cause understood before another action is taken on it.
  const missing = missingForReopenedAction(nc, action.rootCauseAnalysis);
  if (missing.length > 0) return { missing };
  const analysis = action.rootCauseAnalysis === undefined || action.rootCauseAnalysis === null ? null : checkRootCauseAnalysis(action.rootCauseAnalysis);
  if (analysis !== null && !analysis.ok) return { missing: analysis.problems };
  const window = windowPolicyFor(policy, nc).window;
  const { verifyBy, maxGap } = verificationOf(policy, nc);
  const quality = classifyAction(action.action);
  const symptom = draft.symptom !== null && draft.symptom.nc === ncId ? draft.symptom : null;
  // An action taken while the symptom fires cannot be verified yet: its window waits for it to clear.
  const firing = symptom?.state === 'active';
  nc.correctiveAction = {
    action: action.action,
    owner: action.owner,
    rootCause: action.rootCause,
    dueDate: action.dueDate,
    recordedAt: at,
    strength: quality.strength,
    strengthReason: quality.reason,
    rootCauseAnalysis: analysis?.analysis ?? null,
    ...(action.actor === undefined ? {} : { actor: action.actor }),
    ...(action.ismsChange ? { ismsChange: action.ismsChange } : {}),
  };
  // The NC's current owner and due date are the action's; a later change is a new timeline entry.
  nc.owner = action.owner;
  if (action.dueDate !== null) nc.dueDate = action.dueDate;
  nc.state = 'verifying';
  // A new action brings its own due date: an overdue one before it is on the timeline.
  nc.overdueSince = null;
  nc.verification = startVerification(verifyBy, maxGap, firing ? 'clear' : null);
  if (firing) {
    nc.windowStartsAt = null;
    nc.windowEndsAt = null;
  } else {
    runWindow(nc, at, window);
  }
  appendTimeline(entry, at, 'corrective-action', 'nc.corrective-action', {
    ...nc.correctiveAction,
    recordedAt: iso(at),
    verifyBy,
    windowStartsAt: nc.windowStartsAt === null ? null : iso(nc.windowStartsAt),
    windowEndsAt: nc.windowEndsAt === null ? null : iso(nc.windowEndsAt),
    waitingFor: firing ? 'the symptom to clear: it was firing when the action was recorded' : null,
  });
  if (symptom !== null && !firing) {
    logPersonEntry(draft, symptom, { kind: 'action', at, window });
    actionOnSymptom(symptom, at, window);
  }
  draft.changed = true;
  return null;
}

/**
 * When time alone will next change this symptom or its NC, for the sweep; null when nothing is
 * due. Dues at or before `floor` are dropped: a sweep that just ran up to `floor` found nothing
 * to do for them (a detector was removed, a setting changed), and kept they would be revisited
 * at every tick, crowding out the entries that are really due.
 */
export function nextDue(draft: SymptomDraft, policy: Policy, floor = Number.NEGATIVE_INFINITY): number | null {
  const dues: number[] = [];
  const symptom = draft.symptom;
  if (symptom?.state === 'active') dues.push(lastHeardFiring(symptom) + windowPolicyFor(policy, symptom).resolveAfter);
  if (symptom?.state === 'fixed' && symptom.windowEndsAt !== null) dues.push(symptom.windowEndsAt);
  // The oldest history entry is folded once no observation can come before it.
  const oldest = symptom?.historyFirstAt ?? null;
  if (oldest !== null) dues.push(oldest + policy.maxLateness);
  for (const { nc } of draft.ncs) if (nc.state === 'verifying' && nc.windowEndsAt !== null) dues.push(nc.windowEndsAt);
  for (const { nc } of draft.ncs) {
    const due = dispositionDue(nc);
    if (due !== null) dues.push(due);
  }
  const forgetAt = retentionEnds(draft, policy);
  if (Number.isFinite(forgetAt)) dues.push(forgetAt);
  if (symptom !== null) {
    for (const detector of detectorsFor(policy, symptom)) {
      const due = detector.due?.(draft);
      if (due !== undefined && due !== null) dues.push(due);
    }
  }
  const pending = dues.filter((due) => due > floor);
  return pending.length === 0 ? null : Math.min(...pending);
}
