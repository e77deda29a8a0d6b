import type { Detector } from './detector.js';
import type { MatchSubject } from './match.js';
import { recurrence } from './recurrence.js';
import type { Family, VerifyBy } from './types.js';

export { verificationPolicyFor, windowPolicyFor } from './windows.js';

export interface WindowPolicy {
  /** Effectiveness window after a fix, ms. */
  window: number;
  /** Quiet time after which a firing symptom counts as fixed, ms. */
  resolveAfter: number;
  /** What "verified effective" rests on; unset: `silence` for siem, `evidence` for the other families. */
  verifyBy?: VerifyBy;
  /** Longest gap allowed between reports (ms); unset: derived from the symptom's own cadence. */
  maxGap?: number;
}

/** Alerts that only say their source is alive (Alertmanager's Watchdog): evidence for `silence`. */
export interface HeartbeatRule {
  /** The connector whose life the heartbeat proves. */
  source: string;
  matches(subject: MatchSubject): boolean;
  /** A heartbeat missing for longer than this is a gap in the source's proof of life, ms. */
  maxGap: number;
}

export interface Policy {
  defaults: WindowPolicy;
  families: Partial<Record<Family, Partial<WindowPolicy>>>;
  controls: Record<string, Partial<WindowPolicy>>;
  checks: Record<string, Partial<WindowPolicy>>;
  /** A firing stamped up to this long after a fix is the tail of the old episode, ms. */
  skew: number;
  /** An event time further ahead of its receipt than this is a wrong clock: it is timed at receipt, ms. */
  maxFuture: number;
  /** An observation older than this at receipt is recorded as late and decides nothing, ms. */
  maxLateness: number;
  /** A symptom returning after its window: link the new episode to the old NC, or ignore the old NC. */
  lateRecurrence: 'link' | 'ignore';
  /** What raises NCs, in order; the first to claim a symptom's return decides it. */
  detectors: readonly Detector[];
  /** Heartbeat alerts: recorded as their source's proof of life, never decided as symptoms. */
  heartbeats: readonly HeartbeatRule[];
  /** A symptom verified, without an NC being handled, and quiet this long is removed, ms. */
  symptomRetention: number;
}

export const DEFAULT_POLICY: Policy = {
  defaults: { window: 30 * 86_400_000, resolveAfter: 7 * 86_400_000 },
  families: {},
  controls: {},
  checks: {},
  skew: 5 * 60_000,
  maxFuture: 5 * 60_000,
  maxLateness: 7 * 86_400_000,
  lateRecurrence: 'link',
  detectors: [recurrence()],
  heartbeats: [],
  symptomRetention: 90 * 86_400_000,
};
