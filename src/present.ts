/** How NCs and timelines look outside recurd (API, CLI, notifications): times as ISO 8601. */
import type { ChainVerdict } from './core/chain.js';
import { stateViews, type Detector } from './core/detector.js';
import { isOverdue } from './core/dispositions.js';
import { formatDuration } from './core/duration.js';
import type { HistoryEntry } from './core/history.js';
import { episodeOf, withSymptomDefaults } from './core/lifecycle.js';
import type { Episode, Nonconformity, ObservationRef, Span, Symptom, Verification } from './core/types.js';
import type { TimelineRecord } from './register.js';
import type { TicketLink } from './ticket-links.js';

/** Null also for a time no Date can hold: an edited timeline entry may carry one, and is still shown. */
function iso(ms: number | null): string | null {
  if (ms === null) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** `tickets`: the records notifiers made for it elsewhere (a Jira issue…), where the caller read them. */
export function ncView(nc: Nonconformity, tickets?: readonly TicketLink[]): Record<string, unknown> {
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
    voided: nc.voided && { ...nc.voided, at: iso(nc.voided.at) },
    riskAcceptance: nc.riskAcceptance && { ...nc.riskAcceptance, until: iso(nc.riskAcceptance.until), at: iso(nc.riskAcceptance.at) },
    overdue: isOverdue(nc),
    overdueSince: iso(nc.overdueSince),
    ...(tickets === undefined ? {} : { tickets: tickets.map((ticket) => ({ ...ticket, at: iso(ticket.at) })) }),
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
export function symptomView(stored: Symptom, detectors: readonly Detector[] = []): Record<string, unknown> {
  const symptom = withSymptomDefaults(stored);
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
    lastFix: symptom.lastFix && { ...symptom.lastFix, at: iso(symptom.lastFix.at) },
    episodes: symptom.episodes.map(episodeView),
  };
}

function episodeView(episode: Episode): Record<string, unknown> {
  return { ...episode, firstFiringAt: iso(episode.firstFiringAt), lastFiringAt: iso(episode.lastFiringAt), fixedAt: iso(episode.fixedAt) };
}

/**
 * One symptom in full, as `GET /api/v1/symptoms/{fingerprint}` and `recurd symptoms show` give it:
 * its episodes (the earlier ones kept and the current one, oldest first), its recent observations
 * (the bounded history kept to decide late ones, newest last) and the state of its NC.
 */
export function symptomDetailView(stored: Symptom, ncState: string | null, detectors: readonly Detector[] = []): Record<string, unknown> {
  const symptom = withSymptomDefaults(stored);
  const current = symptom.episode === 0 ? null : episodeOf(symptom);
  return {
    ...symptomView(symptom, detectors),
    ncState,
    episodes: [...symptom.episodes, ...(current === null ? [] : [current])].map(episodeView),
    recentObservations: symptom.history.flatMap((entry) => observationView(symptom, entry)),
  };
}

function observationView(symptom: Symptom, entry: HistoryEntry): Array<Record<string, unknown>> {
  if (entry.kind !== 'observation') return [];
  const { alert } = entry;
  return [
    {
      observedAt: iso(entry.at),
      source: symptom.source,
      id: alert.id,
      status: alert.status,
      outcome: entry.outcome,
      message: alert.message ?? symptom.title,
      severity: alert.severity ?? symptom.severity,
      evidence: alert.evidence ?? {},
    },
  ];
}

export function timelineView(entries: TimelineRecord[]): Array<Record<string, unknown>> {
  return entries.map((entry) => ({ id: entry.id, at: iso(entry.at), type: entry.type, event: entry.event, detail: entry.detail, hash: entry.hash, prev: entry.prev }));
}

/** The answer of a chain verification, as the API and `recurd nc verify --json` give it. */
export function chainView(id: string, verdict: ChainVerdict): Record<string, unknown> {
  return {
    id,
    holds: verdict.holds,
    entries: verdict.entries,
    checked: verdict.checked,
    chainStartsAt: verdict.chainStartsAt,
    head: verdict.head,
    recordedHead: verdict.recordedHead,
    note: verdict.chainStartsAt > 0 ? `entries 0-${verdict.chainStartsAt - 1} were written before recurd kept a hash chain: no chain before entry ${verdict.chainStartsAt}` : null,
    failure: verdict.failure && { ...verdict.failure, at: iso(verdict.failure.at) },
  };
}

/** One line saying whether the chain holds, and if not, which entry first fails and why. */
export function chainSummary(id: string, verdict: ChainVerdict): string {
  const head = `head ${verdict.head ?? 'none'}`;
  const before = verdict.chainStartsAt > 0 ? `; no chain before entry ${verdict.chainStartsAt}` : '';
  const failure = verdict.failure;
  if (failure === null) return `${id}: the chain holds: ${verdict.checked} of ${verdict.entries} entries checked, ${head}${before}`;
  return `${id}: the chain is broken at entry ${failure.index} (${failure.entryId ?? 'none'}, ${iso(failure.at) ?? 'no valid time'}): ${failure.reason}: ${failure.message}${before}`;
}
