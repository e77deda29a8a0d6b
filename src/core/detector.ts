/**
 * What a detector is to the lifecycle: something that looks at a symptom as observations and time
 * go by, and raises or reopens its NC through the helpers of lifecycle.ts, so that every NC,
 * whoever raised it, is written by the same atomic store path with its reason on the timeline.
 * The detectors themselves live in detectors/, one module each.
 */
import type { SymptomDraft } from './lifecycle.js';
import type { MatchSubject } from './match.js';
import type { Policy } from './policy.js';
import type { CanonicalAlert, FixKind, ReceivedAlert, Symptom } from './types.js';

/** A fixed symptom firing again inside its effectiveness window. */
export interface SymptomReturn {
  alert: ReceivedAlert;
  /** When it fired again (event time; receipt time for a re-fired Alertmanager alert). */
  at: number;
  fixedAt: number;
  fixKind: FixKind | null;
  windowEndsAt: number;
  /** The episode this return ended, for the NC's timeline. */
  story: { firstFiring: Symptom['firstFiring']; fixedBy: Symptom['fixedBy']; occurrences: number; repeats: number };
}

/** What a tally holds when its aggregate is decided; bounded whatever the number of members. */
export interface TallyReading {
  /** Members counted within `within` of the alert. */
  count: number;
  /** Of those, the members counted after the aggregate's NC took its corrective action (0 without one). */
  countSince: number;
  /** A few members, earliest first: what an NC lists. */
  sample: string[];
}

export interface Detector {
  /** The name in the config and on the NC (`detector`). */
  readonly name: string;
  readonly type: string;
  matches(subject: MatchSubject): boolean;
  /** The symptom came back inside its window; true when this detector decided what that means. */
  onReturn?(draft: SymptomDraft, event: SymptomReturn, policy: Policy): boolean;
  /** After every firing observation of an active symptom, the first of an episode included. */
  onFiring?(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): void;
  /** Time has passed up to `t` (a sweep, or a later observation). */
  onAdvance?(draft: SymptomDraft, t: number, policy: Policy): void;
  /** When time alone will next matter to this detector for this symptom. */
  due?(draft: SymptomDraft): number | null;
  /**
   * For detectors that look across symptoms: the tally a firing alert counts toward (a key), the
   * member it counts as, and how long a member stays counted. The store keeps each tally as
   * members by their latest time, written with the alert's symptom: no record grows with them.
   */
  tallyOf?(alert: CanonicalAlert): { key: string; member: string; within: number } | null;
  /** A tally was counted toward: decide on its aggregate, a symptom of its own, from the reading. */
  onTally?(draft: SymptomDraft, alert: ReceivedAlert, reading: TallyReading, policy: Policy): void;
}
