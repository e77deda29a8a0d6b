/** How NCs and timelines look outside recurd (API, CLI, notifications): times as ISO 8601. */
import { stateViews, type Detector } from './core/detector.js';
import { formatDuration } from './core/duration.js';
import type { Nonconformity, ObservationRef, Span, Symptom, Verification } from './core/types.js';
import type { TimelineRecord } from './register.js';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function ncView(nc: Nonconformity): Record<string, unknown> {
  return {
    ...nc,
    openedAt: iso(nc.openedAt),
    updatedAt: iso(nc.updatedAt),
    lastOccurrenceAt: iso(nc.lastOccurrenceAt),
    windowStartsAt: iso(nc.windowStartsAt ?? null),
    windowEndsAt: iso(nc.windowEndsAt),
    verification: nc.verification ? verificationView(nc.verification) : null,
    closedAt: iso(nc.closedAt),
    correctiveAction: nc.correctiveAction && { ...nc.correctiveAction, recordedAt: iso(nc.correctiveAction.recordedAt) },
    elsewhere: nc.elsewhere.map((similar) => ({ ...similar, lastFiringAt: iso(similar.lastFiringAt) })),
  };
}

function refView(ref: ObservationRef): Record<string, unknown> {
  return { ...ref, at: iso(ref.at) };
}

function spanView(span: Span | null): Record<string, unknown> | null {
  return span === null ? null : { from: iso(span.from), to: iso(span.to) };
}

/** The evidence gathered so far, as an auditor reads it: times in ISO 8601, the missing pieces in words. */
function verificationView(verification: Verification): Record<string, unknown> {
  return {
    ...verification,
    maxGap: verification.maxGap === null ? null : formatDuration(verification.maxGap),
    healthy: verification.healthy.map(refView),
    lastHealthyAt: iso(verification.lastHealthyAt),
    lastReportAt: iso(verification.lastReportAt),
    longestGap: spanView(verification.longestGap),
    lastFiringAt: iso(verification.lastFiringAt),
  };
}

/**
 * A symptom as a person reads it: times in ISO 8601 (null where it never fired), without the
 * history kept to decide late observations again.
 */
export function symptomView(symptom: Symptom, detectors: readonly Detector[] = []): Record<string, unknown> {
  const fields: Partial<Symptom> = { ...symptom };
  delete fields.history;
  delete fields.before;
  delete fields.historyCount;
  delete fields.historyFirstAt;
  delete fields.historyLastAt;
  const times = (values: readonly number[]): Array<string | null> => values.map((value) => iso(value));
  return {
    ...fields,
    firstSeenAt: iso(symptom.firstSeenAt),
    lastFiringAt: symptom.episode === 0 ? null : iso(symptom.lastFiringAt),
    lastReportAt: iso(symptom.lastReportAt),
    lastTransitionAt: iso(symptom.lastTransitionAt),
    lastRepeatAt: iso(symptom.lastRepeatAt),
    fixedAt: iso(symptom.fixedAt),
    windowEndsAt: iso(symptom.windowEndsAt),
    recentReports: times(symptom.recentReports),
    detectors: stateViews(symptom, detectors),
    firstFiring: symptom.firstFiring && refView(symptom.firstFiring),
    fixedBy: symptom.fixedBy && { ...symptom.fixedBy, observation: symptom.fixedBy.observation && refView(symptom.fixedBy.observation) },
  };
}

export function timelineView(entries: TimelineRecord[]): Array<Record<string, unknown>> {
  return entries.map((entry) => ({ id: entry.id, at: iso(entry.at), type: entry.type, detail: entry.detail }));
}
