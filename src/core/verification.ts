/**
 * "Verified effective" is a finding from evidence, not from silence (DESIGN.md, "Semantics").
 *
 * Once a corrective action is recorded, the NC gathers what its effectiveness window shows: the
 * symptom's healthy reports after the action, the gaps between its reports, its firings, and
 * (for `silence`) whether its source was alive. When the window ends the NC closes only if that
 * evidence stands; otherwise it stays `verifying`, says what is missing, and its watch starts
 * again after the gap that broke it. Pure: time and the sources' health come from the caller.
 */
import { formatDuration, iso } from './duration.js';
import type { HeartbeatRule } from './policy.js';
import type { Nonconformity, ObservationRef, Span, Symptom, Verification, VerifyBy } from './types.js';

const HOUR = 3_600_000;
/** How many healthy reports an NC lists (the first ones, then the latest in the last place). */
const LISTED_HEALTHY = 6;
/** How many report times a symptom keeps for its cadence. */
export const RECENT_REPORTS = 20;

/** What the edge knows of a source's life during a window: its connector's failures, its heartbeat. */
export interface SourceLiveness {
  /** Spells in which the connector kept failing; `to` null: failing still. */
  errorSpells: Array<{ from: number; to: number | null }>;
  /** Heartbeats received: the latest, and the gaps longer than the heartbeat's maxGap. */
  heartbeat: { lastAt: number | null; gaps: Span[] } | null;
}

export type Liveness = ReadonlyMap<string, SourceLiveness>;

function length(span: Span): number {
  return span.to - span.from;
}

export function startVerification(by: VerifyBy, maxGap: number | null, waitingFor: Verification['waitingFor']): Verification {
  return {
    by,
    maxGap,
    waitingFor,
    healthyReports: 0,
    healthy: [],
    lastHealthyAt: null,
    lastReportAt: null,
    longestGap: null,
    lastFiringAt: null,
    blocked: null,
  };
}

/**
 * The longest gap a symptom may leave between reports: the configured one, else three times its
 * median interval (at least an hour), else a day while it has not shown a cadence yet.
 */
export function maxGapOf(verification: Verification, symptom: Symptom | null): number {
  if (verification.maxGap !== null) return verification.maxGap;
  if (verification.by === 'silence') return HOUR;
  const times = [...(symptom?.recentReports ?? [])].sort((a, b) => a - b);
  const intervals = times.slice(1).map((time, index) => time - (times[index] as number)).filter((interval) => interval > 0);
  if (intervals.length < 3) return 24 * HOUR;
  intervals.sort((a, b) => a - b);
  const median = intervals[Math.floor(intervals.length / 2)] as number;
  return Math.max(HOUR, 3 * median);
}

/** The window runs from `at`: a watch of its own, with no gap counted from before it. */
export function runWindow(nc: Nonconformity, at: number, window: number): void {
  nc.windowStartsAt = at;
  nc.windowEndsAt = at + window;
  if (nc.verification !== null) {
    nc.verification.waitingFor = null;
    nc.verification.longestGap = null;
  }
}

/**
 * One report of the NC's own symptom after its corrective action: a healthy one (resolved,
 * success) or a firing one (a tail, or a repeat saying the failure persists). Returns true when
 * it ended a wait for the check to report again, so the window now runs from it.
 */
export function noteReport(nc: Nonconformity, report: { healthy: boolean; at: number; ref: ObservationRef }, window: number): boolean {
  const verification = nc.verification;
  if (nc.state !== 'verifying' || verification === null || nc.correctiveAction === null || report.at < nc.correctiveAction.recordedAt) return false;
  if (nc.windowStartsAt !== null && report.at >= nc.windowStartsAt) {
    const gap = { from: Math.max(verification.lastReportAt ?? nc.windowStartsAt, nc.windowStartsAt), to: report.at };
    if (verification.longestGap === null || length(gap) > length(verification.longestGap)) verification.longestGap = gap;
  }
  verification.lastReportAt = Math.max(verification.lastReportAt ?? report.at, report.at);
  if (report.healthy) {
    verification.healthyReports += 1;
    verification.lastHealthyAt = Math.max(verification.lastHealthyAt ?? report.at, report.at);
    if (verification.healthy.length < LISTED_HEALTHY) verification.healthy.push(report.ref);
    else verification.healthy[LISTED_HEALTHY - 1] = report.ref;
  } else {
    verification.lastFiringAt = Math.max(verification.lastFiringAt ?? report.at, report.at);
  }
  if (verification.waitingFor === 'report') {
    runWindow(nc, report.at, window);
    return true;
  }
  return false;
}

export interface Finding {
  /** One sentence per missing piece of evidence; empty when the evidence stands. */
  missing: string[];
  /** When the watch starts again: after the gap that broke it, or `report` to wait for one. */
  restart: number | 'report' | null;
  /** What the closing entry shows. */
  evidence: Record<string, unknown>;
}

function overlapping(spans: ReadonlyArray<{ from: number; to: number | null }>, window: Span, now: number, longerThan: number): Span[] {
  return spans
    .map((span) => ({ from: Math.max(span.from, window.from), to: Math.min(span.to ?? now, window.to) }))
    .filter((span) => length(span) > longerThan);
}

/**
 * What the evidence of a verifying NC whose window has ended shows at time `now`: what is missing,
 * and from when the watch must start again.
 */
export function examine(nc: Nonconformity, symptom: Symptom | null, liveness: Liveness, heartbeat: HeartbeatRule | undefined, now: number): Finding {
  const verification = nc.verification as Verification;
  const window = { from: nc.windowStartsAt ?? now, to: nc.windowEndsAt ?? now };
  const maxGap = maxGapOf(verification, symptom);
  const missing: string[] = [];
  const breaks: number[] = [];
  let waitForReport = false;
  const lastFiring = Math.max(verification.lastFiringAt ?? Number.NEGATIVE_INFINITY, symptom?.lastFiringAt ?? Number.NEGATIVE_INFINITY);
  const evidence: Record<string, unknown> = {
    verifyBy: verification.by,
    windowStartedAt: iso(window.from),
    windowEndedAt: iso(window.to),
    maxGap: formatDuration(maxGap),
    lastFiringAt: Number.isFinite(lastFiring) ? iso(lastFiring) : null,
    lastOccurrenceAt: iso(nc.lastOccurrenceAt),
  };
  if (verification.by === 'evidence') {
    const since = Math.max(nc.correctiveAction?.recordedAt ?? window.from, verification.lastFiringAt ?? Number.NEGATIVE_INFINITY);
    if (verification.lastHealthyAt === null || verification.lastHealthyAt <= since) {
      missing.push(
        verification.lastFiringAt !== null && verification.lastFiringAt >= (nc.correctiveAction?.recordedAt ?? 0)
          ? `no healthy report since the symptom last fired at ${iso(verification.lastFiringAt)}`
          : `no healthy report of the symptom since the corrective action at ${iso(nc.correctiveAction?.recordedAt ?? window.from)}`,
      );
    }
    const lastReport = Math.max(verification.lastReportAt ?? window.from, window.from);
    const trailing = lastReport < window.to ? { from: lastReport, to: window.to } : null;
    const gaps = [verification.longestGap, trailing].filter((gap): gap is Span => gap !== null && length(gap) > maxGap);
    for (const gap of gaps) {
      // The trailing gap is still open: nothing has reported since it began.
      const open = gap === trailing;
      missing.push(
        open
          ? `no report of ${nc.check || 'the check'} from ${iso(gap.from)} to the window's end at ${iso(gap.to)} (${formatDuration(length(gap))}, longer than the ${formatDuration(maxGap)} allowed)`
          : `a gap in the reports of ${nc.check || 'the check'} from ${iso(gap.from)} to ${iso(gap.to)} (${formatDuration(length(gap))}, longer than the ${formatDuration(maxGap)} allowed)`,
      );
      if (open) waitForReport = true;
      else breaks.push(gap.to);
    }
    const longest = [verification.longestGap, trailing].filter((gap): gap is Span => gap !== null).sort((a, b) => length(b) - length(a))[0];
    Object.assign(evidence, {
      healthyReports: verification.healthyReports,
      healthy: verification.healthy.map((ref) => ({ ...ref, at: iso(ref.at) })),
      longestGap: longest === undefined ? null : { from: iso(longest.from), to: iso(longest.to), duration: formatDuration(length(longest)) },
    });
  } else {
    const source = liveness.get(nc.source);
    for (const spell of overlapping(source?.errorSpells ?? [], window, now, maxGap)) {
      missing.push(`the connector ${nc.source} was failing from ${iso(spell.from)} to ${iso(spell.to)} (${formatDuration(length(spell))}, longer than the ${formatDuration(maxGap)} allowed)`);
      breaks.push(spell.to);
    }
    if (heartbeat !== undefined) {
      const beat = source?.heartbeat ?? null;
      if (beat === null || beat.lastAt === null) {
        missing.push(`no heartbeat from ${nc.source} was ever received`);
        breaks.push(now);
      } else {
        const open = beat.lastAt < window.to ? [{ from: beat.lastAt, to: window.to }] : [];
        for (const gap of overlapping([...beat.gaps, ...open], window, now, heartbeat.maxGap)) {
          missing.push(`no heartbeat from ${nc.source} from ${iso(gap.from)} to ${iso(gap.to)} (longer than the ${formatDuration(heartbeat.maxGap)} allowed)`);
          breaks.push(gap.to === window.to ? now : gap.to);
        }
      }
      evidence.lastHeartbeatAt = beat?.lastAt == null ? null : iso(beat.lastAt);
    }
    evidence.connector = { name: nc.source, errorSpellsInWindow: overlapping(source?.errorSpells ?? [], window, now, 0).length };
  }
  const restart = waitForReport ? 'report' : breaks.length > 0 ? Math.max(...breaks) : null;
  return { missing, restart, evidence };
}
