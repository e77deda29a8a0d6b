/**
 * The clause 10.2 record of an NC: what ISO/IEC 27001:2022 clause 10.2 asks an organisation to
 * keep of each nonconformity, read from the NC and its timeline.
 *
 * - (a) reaction: the first incident, and the fix that was taken for it.
 * - (b) causes: the root-cause analysis, and where else the same check fails.
 * - (c) the action taken, and its strength (weak treats the symptom, strong removes the cause).
 * - (d) the effectiveness review: its result and its evidence.
 * - (e) the change to the ISMS recorded with an action.
 * - (f, g) the documented information: the timeline, its first and last entry and its chain head.
 *
 * Pure: no I/O, no clock. It is a document for people, so its times are ISO 8601 already; a time
 * that no Date can hold (an edited entry) reads as null rather than failing the record.
 */
import type { ActionStrength } from './corrective-action.js';
import type { RootCauseAnalysis } from './root-cause-analysis.js';
import type { Nonconformity, TimelineEntry } from './types.js';

/** A timeline entry with its hash; the register's timeline records are these. */
export interface RecordedEntry extends TimelineEntry {
  hash: string | null;
}

export const EFFECTIVENESS_RESULTS = ['awaiting-action', 'verifying', 'blocked', 'reopened', 'verified-effective'] as const;
export type EffectivenessResult = (typeof EFFECTIVENESS_RESULTS)[number];

export const ACTION_OUTCOMES = ['ineffective', 'effective', 'pending'] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

export interface ActionTaken {
  at: string | null;
  action: string;
  owner: string;
  strength: ActionStrength | null;
  /** `ineffective`: the NC was reopened after it; `effective`: verified; `pending`: neither yet. */
  outcome: ActionOutcome;
}

export interface Clause10_2 {
  reaction: {
    summary: string;
    raisedAt: string | null;
    detector: string;
    reason: string;
    /** The first failure of the episode whose fix did not hold; null when no fix came before the NC. */
    firstIncident: Record<string, unknown> | null;
    /** The fix of that episode: resolved by the source, recorded by a person, or quiet. */
    fix: Record<string, unknown> | null;
    /** The observation that raised the NC, where a single one did. */
    raisedBy: Record<string, unknown> | null;
  };
  causes: {
    summary: string;
    rootCause: string | null;
    rootCauseAnalysis: RootCauseAnalysis | null;
    /** The same check failing on other assets when the NC was raised (the latest few), and how many. */
    elsewhere: Array<{ fingerprint: string; asset: string; state: string; lastFiringAt: string | null }>;
    elsewhereCount: number;
    /** For a systemic NC: the assets on which the check failed. */
    assets: string[];
    assetCount: number;
    recurrenceOf: string | null;
  };
  action: {
    summary: string;
    current: {
      action: string;
      owner: string;
      dueDate: string | null;
      recordedAt: string | null;
      strength: ActionStrength;
      strengthReason: string;
    } | null;
    /** Every action recorded on the NC, oldest first, with what became of it. */
    taken: ActionTaken[];
  };
  effectiveness: {
    summary: string;
    result: EffectivenessResult;
    verifyBy: string | null;
    windowStartsAt: string | null;
    windowEndsAt: string | null;
    closedAt: string | null;
    healthyReports: number;
    lastHealthyAt: string | null;
    /** What the evidence lacked when the window last ended; empty when nothing was missing. */
    missing: string[];
    /** The evidence of the closure (window, last occurrence, the check that kept reporting). */
    evidence: Record<string, unknown> | null;
    reopenCount: number;
    /** Each return that proved an action ineffective. */
    reopenings: Array<{ at: string | null; alert: unknown; ineffectiveAction: string | null }>;
  };
  ismsChange: {
    summary: string;
    /** The latest change recorded, or null. */
    change: string | null;
    /** Every change recorded with an action, oldest first. */
    changes: Array<{ at: string | null; change: string }>;
  };
  documentedInformation: {
    summary: string;
    entries: number;
    first: { at: string | null; type: string } | null;
    last: { at: string | null; type: string; hash: string | null } | null;
    /** The hash of the latest entry as the NC records it (core/chain.ts). */
    chainHead: string | null;
  };
}

function time(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** What became of the action at `index`: the first reopening or closure after it, before any later action. */
function outcomeOf(timeline: readonly RecordedEntry[], index: number): ActionOutcome {
  for (const entry of timeline.slice(index + 1)) {
    if (entry.type === 'reopened') return 'ineffective';
    if (entry.type === 'verified-effective') return 'effective';
    if (entry.type === 'corrective-action') return 'pending';
  }
  return 'pending';
}

function effectivenessResult(nc: Nonconformity): EffectivenessResult {
  if (nc.state === 'closed') return 'verified-effective';
  if (nc.state === 'reopened') return 'reopened';
  if (nc.correctiveAction === null) return 'awaiting-action';
  return nc.verification?.blocked != null ? 'blocked' : 'verifying';
}

const RESULT_SUMMARY: Record<EffectivenessResult, string> = {
  'awaiting-action': 'no corrective action recorded yet: nothing to review',
  verifying: 'the effectiveness window of the corrective action is running',
  blocked: 'the window ended without the evidence to close the NC',
  reopened: 'the symptom returned after the corrective action: it was not effective',
  'verified-effective': 'verified effective: no recurrence in the window, with the evidence below',
};

export function clause10_2(nc: Nonconformity, timeline: readonly RecordedEntry[]): Clause10_2 {
  const raised = timeline.find((entry) => entry.type === 'raised');
  const previous = record(raised?.detail.previousEpisode);
  const firstIncident = record(previous?.firstIncident);
  const fix = record(previous?.fix);
  const action = nc.correctiveAction;

  const actionEntries = timeline.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.type === 'corrective-action');
  const taken: ActionTaken[] = actionEntries.map(({ entry, index }) => ({
    at: time(entry.at),
    action: text(entry.detail.action) ?? '',
    owner: text(entry.detail.owner) ?? '',
    strength: entry.detail.strength === 'weak' || entry.detail.strength === 'strong' ? entry.detail.strength : null,
    outcome: outcomeOf(timeline, index),
  }));
  const changes = actionEntries.flatMap(({ entry }) => {
    const change = text(entry.detail.ismsChange);
    return change === null ? [] : [{ at: time(entry.at), change }];
  });

  const result = effectivenessResult(nc);
  const closure = timeline.findLast((entry) => entry.type === 'verified-effective');
  const reopenings = timeline
    .filter((entry) => entry.type === 'reopened')
    .map((entry) => ({ at: time(entry.at), alert: entry.detail.alert ?? null, ineffectiveAction: text(record(entry.detail.ineffectiveAction)?.action) }));

  const first = timeline[0];
  const last = timeline.at(-1);
  const ineffective = taken.filter((entry) => entry.outcome === 'ineffective').length;
  const elsewhereCount = nc.elsewhereCount;

  return {
    reaction: {
      summary:
        fix === null
          ? `raised by ${nc.detector} at ${time(nc.openedAt) ?? 'an unknown time'}: ${nc.reason}`
          : `first incident at ${text(firstIncident?.at) ?? 'an unknown time'}, fixed (${text(fix.kind) ?? 'unknown'}) at ${text(fix.at) ?? 'an unknown time'}; it came back inside its effectiveness window`,
      raisedAt: time(raised?.at ?? nc.openedAt),
      detector: nc.detector,
      reason: nc.reason,
      firstIncident,
      fix,
      raisedBy: record(raised?.detail.alert),
    },
    causes: {
      summary: [
        action?.rootCause ?? action?.rootCauseAnalysis?.summary ?? 'no root cause recorded yet',
        action?.rootCauseAnalysis ? `five whys, cause category ${action.rootCauseAnalysis.category}` : null,
        nc.assetCount > 0 ? `systemic: the check failed on ${nc.assetCount} asset(s)` : null,
        elsewhereCount > 0 ? `the same check failed on ${elsewhereCount} other asset(s)` : 'the same check was not failing elsewhere',
      ]
        .filter((part) => part !== null)
        .join('; '),
      rootCause: action?.rootCause ?? null,
      rootCauseAnalysis: action?.rootCauseAnalysis ?? null,
      elsewhere: nc.elsewhere.map((similar) => ({ fingerprint: similar.fingerprint, asset: similar.asset, state: similar.state, lastFiringAt: time(similar.lastFiringAt) })),
      elsewhereCount,
      assets: nc.assets,
      assetCount: nc.assetCount,
      recurrenceOf: nc.recurrenceOf,
    },
    action: {
      summary:
        action === null
          ? 'no corrective action recorded yet'
          : `${taken.length} action(s) recorded, ${ineffective} proved ineffective; the latest is ${action.strengthReason}`,
      current:
        action === null
          ? null
          : {
              action: action.action,
              owner: action.owner,
              dueDate: action.dueDate,
              recordedAt: time(action.recordedAt),
              strength: action.strength,
              strengthReason: action.strengthReason,
            },
      taken,
    },
    effectiveness: {
      summary: RESULT_SUMMARY[result],
      result,
      verifyBy: nc.verification?.by ?? null,
      windowStartsAt: time(nc.windowStartsAt),
      windowEndsAt: time(nc.windowEndsAt),
      closedAt: time(nc.closedAt),
      healthyReports: nc.verification?.healthyReports ?? 0,
      lastHealthyAt: time(nc.verification?.lastHealthyAt),
      missing: nc.verification?.blocked ?? [],
      evidence: closure === undefined ? null : closure.detail,
      reopenCount: nc.reopenCount,
      reopenings,
    },
    ismsChange: {
      summary: changes.length === 0 ? 'no change to the ISMS recorded' : `${changes.length} change(s) to the ISMS recorded`,
      change: changes.at(-1)?.change ?? null,
      changes,
    },
    documentedInformation: {
      summary: `${timeline.length} timeline entr${timeline.length === 1 ? 'y' : 'ies'}, chain head ${nc.timelineHead ?? 'none'}`,
      entries: timeline.length,
      first: first === undefined ? null : { at: time(first.at), type: first.type },
      last: last === undefined ? null : { at: time(last.at), type: last.type, hash: last.hash },
      chainHead: nc.timelineHead,
    },
  };
}
