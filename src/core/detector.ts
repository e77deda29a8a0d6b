/**
 * What a detector is to the lifecycle: something that looks at a symptom as observations and time
 * go by, and raises or reopens its NC through the helpers of lifecycle.ts, so that every NC,
 * whoever raised it, is written by the same atomic store path with its reason on the timeline.
 * The detectors themselves live in detectors/, one module each.
 */
import type { z } from 'zod';
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

/**
 * What a detector keeps of a symptom, in the symptom's `detectors.<name>`: the core stores and
 * copies it without reading it, and the detector reads it back through its own schema.
 */
export interface DetectorState<State> {
  schema: z.ZodType<State>;
  /**
   * The state of a symptom this detector has kept nothing for yet. `symptom` is the record as
   * stored, for a detector whose state an earlier version kept in fields of the record itself.
   */
  initial(symptom: Readonly<Record<string, unknown>>): State;
  /** Fields of the record an earlier version kept this state in: dropped once it is written here. */
  replaces?: readonly string[];
  /** The state as a person reads it (times in ISO 8601); as kept when absent. */
  view?(state: State): unknown;
}

export interface Detector {
  /** The name in the config and on the NC (`detector`), and the key of its state in a symptom. */
  readonly name: string;
  readonly type: string;
  matches(subject: MatchSubject): boolean;
  /** What a return this detector claims is called, as a decision's outcome and in the history. */
  readonly claims?: string;
  /** The timeline entry types it writes beyond the lifecycle's own (see TimelineEntry). */
  readonly entries?: readonly string[];
  /** What it keeps of each symptom it watches. */
  readonly state?: DetectorState<unknown>;
  /** The symptom came back inside its window; true when this detector decided what that means. */
  onReturn?(draft: SymptomDraft, event: SymptomReturn, policy: Policy): boolean;
  /** After every firing observation of an active symptom, the first of an episode included. */
  onFiring?(draft: SymptomDraft, alert: ReceivedAlert, at: number, policy: Policy): void;
  /** The symptom was fixed at `at` (resolved, recorded or quiet). */
  onFix?(draft: SymptomDraft, at: number, policy: Policy): void;
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

/**
 * A detector's state for the symptom of `draft`, parsed with its schema; what does not parse (a
 * record written by another version of the detector) starts again from its initial state.
 */
export function readState<State>(draft: SymptomDraft, name: string, state: DetectorState<State>): State {
  const symptom = draft.symptom as Symptom;
  const stored = symptom.detectors[name];
  if (typeof stored === 'object' && stored !== null) {
    if (checked.has(stored)) return stored as State;
    const parsed = state.schema.safeParse(stored);
    if (parsed.success) {
      checked.add(stored);
      return parsed.data;
    }
  }
  return state.initial(symptom as unknown as Record<string, unknown>);
}

/** States known to fit their schema (parsed once, or written by their detector): not parsed again. */
const checked = new WeakSet<object>();

export function writeState<State>(draft: SymptomDraft, name: string, state: DetectorState<State>, value: State): void {
  const symptom = draft.symptom as Symptom;
  if (typeof value === 'object' && value !== null) checked.add(value);
  symptom.detectors = { ...symptom.detectors, [name]: value };
  for (const field of state.replaces ?? []) Reflect.deleteProperty(symptom, field);
  draft.changed = true;
}

/** What each detector keeps of a symptom, as a person reads it. */
export function stateViews(symptom: Symptom, detectors: readonly Detector[]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(symptom.detectors).map(([name, stored]) => {
      const state = detectors.find((detector) => detector.name === name)?.state;
      const parsed = state?.schema.safeParse(stored);
      return [name, state?.view !== undefined && parsed?.success === true ? state.view(parsed.data) : stored];
    }),
  );
}
