/**
 * The domain's words, written down once (see DESIGN.md).
 *
 * - alert: one observation from a source, normalised into {@link CanonicalAlert}.
 * - symptom: "the same failure" across time; its identity is the fingerprint.
 * - episode: one span of a symptom from its first firing observation to its fix.
 * - fix: the moment a symptom is declared corrected: the source says resolved, a person
 *   records a correction, or it stayed quiet for `resolveAfter`.
 * - effectiveness window: the period after a fix in which a recurrence proves that the fix
 *   treated the symptom, not the cause.
 * - recurrence: the symptom fires again inside its effectiveness window.
 * - nonconformity (NC): a register entry raised on recurrence, with occurrences, corrective
 *   action, owner and an append-only timeline (ISO/IEC 27001:2022 clause 10.2).
 *
 * Times in the core are epoch milliseconds; they become ISO strings only at the edges.
 */
import { z } from 'zod';
import type { ActionStrength } from './corrective-action.js';
import type { RootCauseAnalysis } from './root-cause-analysis.js';
import type { HistoryEntry, SymptomSnapshot } from './history.js';
import { parseEventTime } from './event-time.js';

export const FAMILIES = ['siem', 'backup', 'av', 'config-drift'] as const;

/** An ISO/IEC 27001:2022 Annex A control id, such as A.8.13. */
export const ANNEX_A_2022_ID = /^A\.\d{1,2}\.\d{1,2}$/;
/**
 * An Annex A id in the numbering of 2022 (A.8.13) or 2013 (A.12.3.1): what a source may give.
 * The catalogue (annex-a.ts) turns a 2013 id into its 2022 control when the alert is decided.
 */
export const ANNEX_A_ID = /^A\.\d{1,2}\.\d{1,2}(?:\.\d{1,2})?$/;
export type Family = (typeof FAMILIES)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** An event time: ISO 8601 with offset, or epoch milliseconds; before 2000 refused (event-time.ts). */
const isoTime = z.union([z.iso.datetime({ offset: true }), z.number().int()]).transform((value, ctx) => {
  const time = parseEventTime(value, 'ms');
  if ('problem' in time) {
    ctx.addIssue({ code: 'custom', message: time.problem });
    return z.NEVER;
  }
  return time.ms;
});

/** The shape every connector emits, whatever its source format. */
export const canonicalAlertSchema = z.object({
  id: z.string().min(1).max(512),
  source: z.string().min(1).max(128),
  family: z.enum(FAMILIES),
  status: z.enum(ALERT_STATUSES),
  /** Event time from the source, epoch ms (an ISO string is accepted and converted). */
  observedAt: isoTime,
  asset: z.string().max(512).default(''),
  check: z.string().max(512).default(''),
  message: z.string().max(8192).default(''),
  severity: z.enum(SEVERITIES).default('medium'),
  control: z.string().max(32).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  evidence: z.record(z.string(), z.unknown()).default({}),
  /**
   * Who sent this observation where one source has several senders (an Alertmanager instance's
   * external URL): the same sender going from resolved back to firing is a new observation,
   * another one repeating a state already seen is a duplicate.
   */
  reporter: z.string().max(512).optional(),
});

export type CanonicalAlert = z.output<typeof canonicalAlertSchema>;
export type CanonicalAlertInput = z.input<typeof canonicalAlertSchema>;

/** An alert as the detect step sees it: normalised, stamped with its arrival. */
export interface ReceivedAlert extends CanonicalAlert {
  /** Arrival time at recurd (epoch ms): used for latency, and to time a re-fired Alertmanager alert. */
  receivedAt: number;
  /** The control as the source gave it, where the catalogue read it as another (a 2013 id). */
  controlAsReported?: string;
  /** The control is Annex A-shaped but in neither the 2022 list nor the 2013 table. */
  controlUnknown?: true;
}

export const SYMPTOM_STATES = ['active', 'fixed', 'verified'] as const;
export type SymptomState = (typeof SYMPTOM_STATES)[number];

export const FIX_KINDS = ['resolved', 'recorded', 'quiet'] as const;
export type FixKind = (typeof FIX_KINDS)[number];

/**
 * `void` (a false positive, a duplicate or test data) and `risk-accepted` (an approver accepted the
 * risk until a date) are dispositions beyond `closed`: see core/dispositions.ts.
 */
export const NC_STATES = ['open', 'verifying', 'reopened', 'closed', 'void', 'risk-accepted'] as const;
export type NcState = (typeof NC_STATES)[number];

/** Why an NC is void: what it turned out to be. */
export const VOID_REASONS = ['false-positive', 'duplicate', 'test-data'] as const;
export type VoidReason = (typeof VOID_REASONS)[number];

/** Who declared an NC void, why and when. */
export interface Voided {
  reason: VoidReason;
  note: string;
  actor: string;
  at: number;
}

/** Who accepted an NC's risk, on whose approval, why, and until when (epoch ms). */
export interface RiskAcceptance {
  approver: string;
  reason: string;
  /** When the acceptance expires and the NC returns to `open`. */
  until: number;
  actor: string;
  at: number;
}

/** What a person gives to void an NC. */
export interface VoidInput {
  reason: VoidReason;
  note: string;
}

/** What a person gives to accept an NC's risk; `until` is a date or an ISO time (core/dispositions.ts `deadline`). */
export interface RiskAcceptanceInput {
  approver: string;
  reason: string;
  until: string;
}

/** Everything recurd knows about one symptom; stored as one record, versioned for compare-and-set. */
export interface Symptom {
  fingerprint: string;
  source: string;
  family: Family;
  control: string | null;
  /** See {@link Nonconformity.controlAsReported}. */
  controlAsReported?: string;
  /** See {@link Nonconformity.controlUnknown}. */
  controlUnknown?: true;
  check: string;
  asset: string;
  /** The message of the first failure of the current episode. */
  title: string;
  severity: Severity;
  state: SymptomState;
  episode: number;
  firstSeenAt: number;
  /** Event time of the latest firing observation. */
  lastFiringAt: number;
  /** Event time of the latest observation of any status (the check kept reporting). */
  lastReportAt: number;
  /** Times of the latest reports of any status (newest last): the symptom's own reporting cadence. */
  recentReports: number[];
  /** Event time of the latest state change; older observations cannot undo it. */
  lastTransitionAt: number;
  fixedAt: number | null;
  fixKind: FixKind | null;
  windowEndsAt: number | null;
  /** Firing observations in the current episode. */
  occurrences: number;
  observations: number;
  /** Observations that arrived older than the last transition: recorded, without effect. */
  lateObservations: number;
  nc: string | null;
  /** An NC of an earlier episode, kept when the symptom returned after its window (policy `link`). */
  recurrenceOf: string | null;
  /** The labels of the latest firing observation, for detectors' match filters. */
  labels: Record<string, string>;
  /** The first failure of the current episode: the incident an NC's story starts from. */
  firstFiring: (ObservationRef & { message: string }) | null;
  /** What ended the last episode: the observation that said resolved, or who recorded the fix; both null for a quiet fix. */
  fixedBy: { observation: ObservationRef | null; by: string | null; note?: string | null } | null;
  /** The latest fix a person recorded (API or CLI), kept across episodes: when, who and why. */
  lastFix: RecordedFix | null;
  /** The symptom's earlier episodes, oldest first: the latest {@link EPISODES_KEPT} of them. */
  episodes: Episode[];
  /** Repeats of a firing state already known in the current episode (notifications that it persists). */
  repeats: number;
  /** Receipt of the latest such repeat: the failure was still reported then, so it is not quiet. */
  lastRepeatAt: number | null;
  /**
   * The observations and actions of the last maxLateness, in event-time order (history.ts). Kept
   * apart from the symptom's record and read only when a decision needs it: otherwise this holds
   * just the entries a decision appends, and the counts below say what is stored.
   */
  history: HistoryEntry[];
  /** The symptom as it was before the oldest entry of `history`: where a re-decision starts. */
  before: SymptomSnapshot | null;
  /** How many entries the stored history has, and the event times of its first and last. */
  historyCount: number;
  historyFirstAt: number | null;
  historyLastAt: number | null;
  /** What each detector keeps of this symptom, by the detector's name, in the detector's own shape. */
  detectors: Record<string, unknown>;
  /** The detector whose aggregate this is (a systemic symptom across assets), or null. */
  aggregate: string | null;
}

/** A fix a person recorded: `actor` is the API token's name or the CLI's user. */
export interface RecordedFix {
  at: number;
  actor: string;
  note: string | null;
}

/** How many earlier episodes a symptom keeps: its record is rewritten with each alert. */
export const EPISODES_KEPT = 8;

/** One ended episode of a symptom: from its first firing to the fix its return proved ineffective. */
export interface Episode {
  episode: number;
  firstFiringAt: number;
  lastFiringAt: number;
  occurrences: number;
  fixedAt: number | null;
  fixKind: FixKind | null;
  /** Who recorded the fix, and why; null for a fix the source reported or a quiet one. */
  fixedBy: string | null;
  note: string | null;
}

export interface CorrectiveAction {
  action: string;
  owner: string;
  rootCause: string | null;
  dueDate: string | null;
  recordedAt: number;
  /** Weak (treats the symptom: restarted, re-ran, reminded…) or strong (removes the cause), from the text. */
  strength: ActionStrength;
  strengthReason: string;
  /** The five whys and a cause category: required before a new action on a reopened NC. */
  rootCauseAnalysis: RootCauseAnalysis | null;
  /** Who recorded it (an API token's name, the CLI's --actor); absent on actions recorded before recurd knew. */
  actor?: string;
  /** What changes in the ISMS with this action (clause 10.2 e); absent when none was recorded. */
  ismsChange?: string;
}

/** What a person records; recurd classifies the action and checks the analysis. */
export interface CorrectiveActionInput {
  action: string;
  owner: string;
  rootCause: string | null;
  dueDate: string | null;
  rootCauseAnalysis?: unknown;
  /** Who records it: an API token's name, the CLI's --actor (the API and CLI always say). */
  actor?: string;
  /** The change to the ISMS this action makes, if any (clause 10.2 e). */
  ismsChange?: string | null;
}

export const VERIFY_BY = ['evidence', 'silence'] as const;
/**
 * What "verified effective" rests on: `evidence`, the symptom seen healthy after the action and
 * its check reporting through the window; `silence`, no recurrence while its source was shown
 * alive (for sources that only speak when something fails).
 */
export type VerifyBy = (typeof VERIFY_BY)[number];

/** A pointer to one observation, for an auditor to find the raw event. */
export interface ObservationRef {
  source: string;
  id: string;
  at: number;
  evidence: Record<string, unknown>;
}

/** What an effectiveness window can wait for before it runs (see {@link Verification.waitingFor}). */
export const WINDOW_WAITS = ['clear', 'report'] as const;
export type WindowWait = (typeof WINDOW_WAITS)[number];

export interface Span {
  from: number;
  to: number;
}

/** What an NC's effectiveness window has shown so far; kept on the NC while it is verified. */
export interface Verification {
  by: VerifyBy;
  /** Longest gap allowed between reports (ms); null: derived from the symptom's cadence. */
  maxGap: number | null;
  /** What the window waits for before it runs: the symptom to clear, or its check to report again. */
  waitingFor: WindowWait | null;
  /** Healthy reports (resolved, success) since the corrective action. */
  healthyReports: number;
  /** The first few of them, and the latest, with their evidence pointers. */
  healthy: ObservationRef[];
  lastHealthyAt: number | null;
  lastReportAt: number | null;
  /** The longest gap between consecutive reports since the window started. */
  longestGap: Span | null;
  /** The latest firing (a tail or a report that it persists) since the corrective action. */
  lastFiringAt: number | null;
  /** What the evidence lacked when the window ended, one sentence each; null while nothing is missing. */
  blocked: string[] | null;
}

export interface Nonconformity {
  id: string;
  state: NcState;
  fingerprint: string;
  source: string;
  family: Family;
  /** The ISO/IEC 27001:2022 Annex A control (a source's 2013 id read through the catalogue). */
  control: string | null;
  /** What the source said, where it differed from `control` (A.12.3.1 for A.8.13); absent otherwise. */
  controlAsReported?: string;
  /** Present (true) when `control` is Annex A-shaped but in neither the 2022 list nor the 2013 table. */
  controlUnknown?: true;
  check: string;
  asset: string;
  title: string;
  severity: Severity;
  /** The detector that raised it: recurrence, chronic, flapping, absence, spread (by config name). */
  detector: string;
  reason: string;
  reopenCount: number;
  /** Episodes of the symptom this NC covers: the first failure, the recurrence that raised it, each return since. */
  occurrences: number;
  openedAt: number;
  updatedAt: number;
  lastOccurrenceAt: number;
  correctiveAction: CorrectiveAction | null;
  /** When the running effectiveness window started: null while it waits (see `verification.waitingFor`). */
  windowStartsAt: number | null;
  windowEndsAt: number | null;
  /** The evidence gathered for the corrective action; null until one is recorded. */
  verification: Verification | null;
  closedAt: number | null;
  recurrenceOf: string | null;
  /** For a systemic NC: the first assets on which the check failed (clause 10.2 b), at most 50. */
  assets: string[];
  /** For a systemic NC: on how many assets the check failed at the widest (0 for any other NC). */
  assetCount: number;
  /** The flapping detector found the symptom cycling: its returns are noise on this NC, not reopens. */
  flapping: boolean;
  /** The same check on other assets when the NC was raised (clause 10.2 b: does it exist elsewhere?): the latest to fail. */
  elsewhere: SimilarSymptom[];
  /** On how many other assets the same check had failed then; `elsewhere` lists the latest few. */
  elsewhereCount: number;
  /** The hash of the latest entry of its timeline (core/chain.ts); null before its first chained entry. */
  timelineHead: string | null;
  /** Set when the NC was declared void. */
  voided: Voided | null;
  /** Set while the NC's risk is accepted; cleared when the acceptance expires (the timeline keeps it). */
  riskAcceptance: RiskAcceptance | null;
  /**
   * When the corrective action's due date passed with the NC not closed (epoch ms): `nc.overdue`
   * was sent for that due date. Cleared by a new corrective action.
   */
  overdueSince: number | null;
  /** Who owns the NC's handling now: set by a corrective action or an owner change; the timeline keeps each earlier one. */
  owner: string | null;
  /** When its corrective action is due now (YYYY-MM-DD or an ISO time): set by a corrective action or a due-date change. */
  dueDate: string | null;
  /** How many comments and attachment references its timeline holds. */
  comments: number;
  attachments: number;
}

export interface SimilarSymptom {
  fingerprint: string;
  asset: string;
  state: SymptomState;
  lastFiringAt: number;
}

/** One entry of an NC's append-only timeline. */
export interface TimelineEntry {
  at: number;
  /** The lifecycle's own types, or one a detector declares (Detector.entries). */
  type: LifecycleEntryType | (string & {});
  detail: Record<string, unknown>;
}

export type LifecycleEntryType =
  | 'raised'
  | 'occurrence'
  | 'reopened'
  | 'corrective-action'
  | 'verified-effective'
  | 'late-recurrence'
  | 'clock-skew'
  | 'fix-recorded'
  | 'window-started'
  | 'verification-blocked'
  | 'contradicted'
  | 'voided'
  | 'risk-accepted'
  | 'risk-expired'
  | 'overdue'
  | 'owner-changed'
  | 'due-date-changed'
  | 'comment'
  | 'attachment';

export const NC_EVENT_TYPES = [
  'nc.opened',
  'nc.occurrence',
  'nc.reopened',
  'nc.corrective-action',
  'nc.verified-effective',
  'nc.verification-blocked',
  'nc.voided',
  'nc.risk-accepted',
  'nc.risk-expired',
  'nc.overdue',
] as const;
export type NcEventType = (typeof NC_EVENT_TYPES)[number];

/** What the outbox delivers to notifiers; `id` is stable across redeliveries. */
export interface NcEvent {
  id: string;
  type: NcEventType;
  at: number;
  nc: Nonconformity;
}
