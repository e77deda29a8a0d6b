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
import { formatDuration } from './duration.js';
import { windowPolicyFor, type Policy } from './policy.js';
import {
  SEVERITIES,
  type AlertStatus,
  type CorrectiveAction,
  type NcEvent,
  type Nonconformity,
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

/** What a decision did, for metrics and logs. */
export type EffectKind =
  | 'episode'
  | 'occurrence'
  | 'report'
  | 'fix'
  | 'tail'
  | 'late'
  | 'duplicate'
  | 'verified'
  | 'ignored'
  | 'recurrence'
  | 'nc-opened'
  | 'nc-reopened'
  | 'nc-occurrence'
  | 'nc-verified-effective';

export interface Effect {
  kind: EffectKind;
  family: string;
  /** Annex A control, or '' where unknown (a metric label cannot be absent). */
  control: string;
}

export interface SymptomDraft {
  fingerprint: string;
  symptom: Symptom | null;
  /** NCs this draft touches: the symptom's current one, an earlier one it links to, a new one. */
  ncs: NcDraft[];
  effects: Effect[];
  /** Alert statuses to remember for duplicate detection, by `source`+`id` key. */
  seen: Map<string, AlertStatus>;
  changed: boolean;
}

export function newDraft(fingerprint: string, symptom: Symptom | null, ncs: Nonconformity[]): SymptomDraft {
  return {
    fingerprint,
    symptom: symptom ? { ...symptom } : null,
    ncs: ncs.map((nc) => ({ nc: { ...nc }, timeline: [] })),
    effects: [],
    seen: new Map(),
    changed: false,
  };
}

export interface Observation {
  alert: ReceivedAlert;
  /** The key that, with the status, tells a duplicate: derived from `source` and `id`. */
  seenKey: string;
  /** The last status stored under `seenKey`, or null when this alert was never seen. */
  previousStatus: AlertStatus | null;
}

function controlLabel(subject: { control: string | null }): string {
  return subject.control ?? '';
}

function effect(draft: SymptomDraft, kind: EffectKind, subject: { family: string; control: string | null }): void {
  draft.effects.push({ kind, family: subject.family, control: controlLabel(subject) });
}

function ncDraft(draft: SymptomDraft, id: string | null): NcDraft | undefined {
  return id === null ? undefined : draft.ncs.find((entry) => entry.nc.id === id);
}

function appendTimeline(entry: NcDraft, at: number, type: TimelineEntry['type'], event: NcEvent['type'] | null, detail: Record<string, unknown>): void {
  entry.timeline.push({ at, type, event, detail });
  entry.nc.updatedAt = Math.max(entry.nc.updatedAt, at);
}

function escalate(severity: Severity): Severity {
  return SEVERITIES[Math.min(SEVERITIES.indexOf(severity) + 1, SEVERITIES.length - 1)] ?? severity;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Apply what time alone decides, up to `t`: a firing symptom quiet for `resolveAfter` is fixed;
 * a fix whose window passed is verified; an NC whose window passed is closed as verified effective.
 */
export function advance(draft: SymptomDraft, t: number, policy: Policy): void {
  const symptom = draft.symptom;
  if (symptom === null) return;
  const windows = windowPolicyFor(policy, symptom);
  if (symptom.state === 'active' && symptom.lastFiringAt + windows.resolveAfter <= t) {
    const fixedAt = symptom.lastFiringAt + windows.resolveAfter;
    fix(draft, fixedAt, 'quiet', windows.window);
  }
  for (const entry of draft.ncs) {
    const nc = entry.nc;
    if (nc.state === 'verifying' && nc.windowEndsAt !== null && nc.windowEndsAt <= t) {
      nc.state = 'closed';
      nc.closedAt = nc.windowEndsAt;
      appendTimeline(entry, nc.windowEndsAt, 'verified-effective', 'nc.verified-effective', {
        windowStartedAt: iso(nc.correctiveAction?.recordedAt ?? nc.windowEndsAt),
        windowEndedAt: iso(nc.windowEndsAt),
        lastOccurrenceAt: iso(nc.lastOccurrenceAt),
        check: nc.check,
        lastReportAt: nc.fingerprint === symptom.fingerprint ? iso(symptom.lastReportAt) : null,
      });
      effect(draft, 'nc-verified-effective', nc);
      draft.changed = true;
    }
  }
  if (symptom.state === 'fixed' && symptom.windowEndsAt !== null && symptom.windowEndsAt <= t) {
    symptom.state = 'verified';
    symptom.lastTransitionAt = symptom.windowEndsAt;
    effect(draft, 'verified', symptom);
    draft.changed = true;
  }
}

function fix(draft: SymptomDraft, at: number, kind: Symptom['fixKind'], window: number): void {
  const symptom = draft.symptom;
  if (symptom === null) return;
  symptom.state = 'fixed';
  symptom.fixKind = kind;
  symptom.fixedAt = at;
  symptom.windowEndsAt = at + window;
  symptom.lastTransitionAt = at;
  effect(draft, 'fix', symptom);
  draft.changed = true;
}

function startEpisode(draft: SymptomDraft, alert: ReceivedAlert, at: number): void {
  const previous = draft.symptom;
  draft.symptom = {
    fingerprint: draft.fingerprint,
    source: alert.source,
    family: alert.family,
    control: alert.control ?? previous?.control ?? null,
    check: alert.check,
    asset: alert.asset,
    title: alert.message || previous?.title || alert.check,
    severity: alert.severity,
    state: 'active',
    episode: (previous?.episode ?? 0) + 1,
    firstSeenAt: previous?.firstSeenAt ?? at,
    lastFiringAt: at,
    lastReportAt: Math.max(previous?.lastReportAt ?? at, at),
    lastTransitionAt: at,
    fixedAt: null,
    fixKind: null,
    windowEndsAt: null,
    occurrences: 1,
    observations: (previous?.observations ?? 0) + 1,
    lateObservations: previous?.lateObservations ?? 0,
    nc: previous?.nc ?? null,
    recurrenceOf: previous?.recurrenceOf ?? null,
  };
  draft.changed = true;
}

/** The symptom fired again inside its window: the earlier fix treated the symptom, not the cause. */
function recur(draft: SymptomDraft, alert: ReceivedAlert, at: number): void {
  const before = draft.symptom;
  if (before === null) return;
  const fixedAt = before.fixedAt ?? at;
  const fixKind = before.fixKind;
  const windowEndsAt = before.windowEndsAt ?? at;
  startEpisode(draft, alert, at);
  const symptom = draft.symptom as Symptom;
  effect(draft, 'recurrence', symptom);
  const proof = {
    alert: { source: alert.source, id: alert.id, observedAt: iso(at) },
    episode: symptom.episode,
    fixedAt: iso(fixedAt),
    fixKind,
    windowEndsAt: iso(windowEndsAt),
    evidence: alert.evidence,
  };
  const current = ncDraft(draft, symptom.nc);
  if (current === undefined || current.nc.state === 'closed') {
    const window = formatDuration(windowEndsAt - fixedAt);
    const nc: Nonconformity = {
      id: NEW_NC,
      state: 'open',
      fingerprint: symptom.fingerprint,
      source: symptom.source,
      family: symptom.family,
      control: symptom.control,
      check: symptom.check,
      asset: symptom.asset,
      title: symptom.title,
      severity: symptom.severity,
      reason: `recurrence: fixed (${fixKind ?? 'unknown'}) at ${iso(fixedAt)}, fired again at ${iso(at)} inside its ${window} effectiveness window`,
      reopenCount: 0,
      occurrences: 2,
      openedAt: at,
      updatedAt: at,
      lastOccurrenceAt: at,
      correctiveAction: null,
      windowEndsAt: null,
      closedAt: null,
      recurrenceOf: current?.nc.id ?? symptom.recurrenceOf,
    };
    const entry: NcDraft = { nc, timeline: [] };
    draft.ncs.push(entry);
    symptom.nc = NEW_NC;
    symptom.recurrenceOf = null;
    appendTimeline(entry, at, 'raised', 'nc.opened', { detector: 'recurrence', ...proof });
    effect(draft, 'nc-opened', nc);
    return;
  }
  const nc = current.nc;
  nc.occurrences += 1;
  nc.lastOccurrenceAt = Math.max(nc.lastOccurrenceAt, at);
  if (nc.state === 'verifying') {
    nc.state = 'reopened';
    nc.reopenCount += 1;
    nc.severity = escalate(nc.severity);
    nc.windowEndsAt = null;
    appendTimeline(current, at, 'reopened', 'nc.reopened', {
      ...proof,
      reopenCount: nc.reopenCount,
      severity: nc.severity,
      ineffectiveAction: nc.correctiveAction,
    });
    effect(draft, 'nc-reopened', nc);
  } else {
    appendTimeline(current, at, 'occurrence', 'nc.occurrence', proof);
    effect(draft, 'nc-occurrence', nc);
  }
}

/** A firing after the window passed starts a new episode; policy decides whether the old NC hears of it. */
function returnAfterWindow(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): void {
  const symptom = draft.symptom;
  const current = ncDraft(draft, symptom?.nc ?? null);
  if (current !== undefined && current.nc.state !== 'closed') {
    // The NC was never corrected: the symptom returning is one more occurrence of it.
    startEpisode(draft, alert, at);
    current.nc.occurrences += 1;
    current.nc.lastOccurrenceAt = Math.max(current.nc.lastOccurrenceAt, at);
    appendTimeline(current, at, 'occurrence', 'nc.occurrence', {
      alert: { source: alert.source, id: alert.id, observedAt: iso(at) },
      afterWindow: true,
    });
    effect(draft, 'nc-occurrence', current.nc);
    return;
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
}

/** One observation, in arrival order. Returns what it did, for metrics. */
export function observe(draft: SymptomDraft, observation: Observation, policy: Policy): EffectKind {
  const { alert, seenKey } = observation;
  const previousStatus = draft.seen.get(seenKey) ?? observation.previousStatus;
  const subject = { family: alert.family, control: alert.control ?? null };
  if (previousStatus === alert.status) {
    effect(draft, 'duplicate', subject);
    return 'duplicate';
  }
  draft.seen.set(seenKey, alert.status);
  // Alertmanager re-sends a merged alert as firing with its old startsAt after a resolve: that
  // firing is new, and only its receipt says when it happened.
  const at = previousStatus === 'resolved' && alert.status === 'firing' ? Math.max(alert.observedAt, alert.receivedAt) : alert.observedAt;
  const before = draft.symptom;

  if (before === null) {
    if (alert.status === 'resolved') {
      effect(draft, 'ignored', subject);
      return 'ignored';
    }
    startEpisode(draft, alert, at);
    effect(draft, 'episode', subject);
    return 'episode';
  }

  if (at < before.lastTransitionAt || (alert.status === 'resolved' && at < before.lastFiringAt)) {
    before.observations += 1;
    before.lateObservations += 1;
    draft.changed = true;
    effect(draft, 'late', before);
    return 'late';
  }

  advance(draft, at, policy);
  const symptom = draft.symptom as Symptom;
  symptom.lastReportAt = Math.max(symptom.lastReportAt, at);
  draft.changed = true;

  if (alert.status === 'resolved') {
    symptom.observations += 1;
    if (symptom.state !== 'active') {
      effect(draft, 'report', symptom);
      return 'report';
    }
    fix(draft, at, 'resolved', windowPolicyFor(policy, symptom).window);
    return 'fix';
  }

  switch (symptom.state) {
    case 'active':
      symptom.observations += 1;
      symptom.occurrences += 1;
      symptom.lastFiringAt = Math.max(symptom.lastFiringAt, at);
      effect(draft, 'occurrence', symptom);
      return 'occurrence';
    case 'fixed':
      if (at <= (symptom.fixedAt ?? at) + policy.skew) {
        symptom.observations += 1;
        symptom.occurrences += 1;
        effect(draft, 'tail', symptom);
        return 'tail';
      }
      recur(draft, alert, at);
      return 'recurrence';
    case 'verified':
      returnAfterWindow(draft, alert, at, policy);
      return 'episode';
  }
}

/** A person records that the symptom is fixed (API or CLI), at wall-clock time `at`. */
export function recordFix(draft: SymptomDraft, at: number, policy: Policy): boolean {
  const symptom = draft.symptom;
  if (symptom === null) return false;
  advance(draft, at, policy);
  if (symptom.state !== 'active') return false;
  fix(draft, at, 'recorded', windowPolicyFor(policy, symptom).window);
  return true;
}

export type CorrectiveActionRefusal = 'closed' | 'verifying' | 'unknown';

/**
 * A corrective action recorded on an NC starts the NC's own effectiveness window; the symptom
 * counts as fixed from now, with the same window, so that a return proves the action ineffective.
 */
export function recordCorrectiveAction(
  draft: SymptomDraft,
  ncId: string,
  action: Omit<CorrectiveAction, 'recordedAt'>,
  at: number,
  policy: Policy,
): CorrectiveActionRefusal | null {
  advance(draft, at, policy);
  const entry = ncDraft(draft, ncId);
  if (entry === undefined) return 'unknown';
  const nc = entry.nc;
  if (nc.state === 'closed' || nc.state === 'verifying') return nc.state;
  const window = windowPolicyFor(policy, nc).window;
  nc.correctiveAction = { ...action, recordedAt: at };
  nc.state = 'verifying';
  nc.windowEndsAt = at + window;
  appendTimeline(entry, at, 'corrective-action', 'nc.corrective-action', {
    ...nc.correctiveAction,
    recordedAt: iso(at),
    windowEndsAt: iso(nc.windowEndsAt),
  });
  const symptom = draft.symptom;
  if (symptom !== null && symptom.nc === ncId) {
    if (symptom.state === 'active') fix(draft, at, 'recorded', window);
    symptom.state = 'fixed';
    symptom.fixedAt ??= at;
    symptom.fixKind ??= 'recorded';
    symptom.windowEndsAt = nc.windowEndsAt;
    symptom.lastTransitionAt = Math.max(symptom.lastTransitionAt, at);
  }
  draft.changed = true;
  return null;
}

/** When time alone will next change this symptom or its NC, for the sweep; null when nothing is due. */
export function nextDue(draft: SymptomDraft, policy: Policy): number | null {
  const dues: number[] = [];
  const symptom = draft.symptom;
  if (symptom?.state === 'active') dues.push(symptom.lastFiringAt + windowPolicyFor(policy, symptom).resolveAfter);
  if (symptom?.state === 'fixed' && symptom.windowEndsAt !== null) dues.push(symptom.windowEndsAt);
  for (const { nc } of draft.ncs) if (nc.state === 'verifying' && nc.windowEndsAt !== null) dues.push(nc.windowEndsAt);
  return dues.length === 0 ? null : Math.min(...dues);
}
