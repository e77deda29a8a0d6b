/**
 * A symptom's recent history: the observations (and people's actions on it) of the last
 * `maxLateness`, in event-time order, with the state the symptom was in before the oldest of them.
 * An observation that arrives out of order is put in its place and the symptom is decided again
 * from that state, so that what the observations imply in event-time order is what recurd
 * decides, whatever order they arrived in (DESIGN.md, "Semantics").
 */
import type { AlertStatus, ReceivedAlert, Severity, Symptom } from './types.js';

/** What is kept of an observation to decide it again: what may differ between a symptom's alerts. */
export interface LoggedAlert {
  id: string;
  status: AlertStatus;
  receivedAt: number;
  message: string;
  severity: Severity;
  labels: Record<string, string>;
  evidence: Record<string, unknown>;
}

export type HistoryEntry =
  /**
   * `proves`: for a return that proved a fix ineffective, when that fix was; `counted`: a return
   * after the window that was counted as one more occurrence of an NC never corrected.
   */
  | { kind: 'observation'; at: number; alert: LoggedAlert; outcome: string; proves?: number; counted?: true }
  /** A person recorded the fix. */
  | { kind: 'fix'; at: number; by: string }
  /** A corrective action whose window (ms) counts for the symptom from `at`, unless it was firing. */
  | { kind: 'action'; at: number; window: number };

/** The lifecycle fields of a symptom: what a re-decision starts from. */
export type SymptomSnapshot = Omit<Symptom, 'history' | 'before'>;

/** How many entries a symptom keeps at most, whatever its rate: older ones are folded into `before`. */
export const HISTORY = 32;

export function loggedAlert(alert: ReceivedAlert): LoggedAlert {
  return {
    id: alert.id,
    status: alert.status,
    receivedAt: alert.receivedAt,
    message: alert.message,
    severity: alert.severity,
    labels: alert.labels,
    evidence: alert.evidence,
  };
}

/** The alert an entry stands for, with the symptom's identity fields. */
export function alertOf(entry: LoggedAlert, symptom: Pick<Symptom, 'source' | 'family' | 'check' | 'asset' | 'control'>, at: number): ReceivedAlert {
  return {
    ...entry,
    source: symptom.source,
    family: symptom.family,
    check: symptom.check,
    asset: symptom.asset,
    ...(symptom.control === null ? {} : { control: symptom.control }),
    observedAt: at,
  };
}

/** Inserted after every entry at or before its time, so equal times keep their arrival order. */
export function inserted(history: readonly HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const index = history.findIndex((other) => other.at > entry.at);
  return index === -1 ? [...history, entry] : [...history.slice(0, index), entry, ...history.slice(index)];
}

export function snapshotOf(symptom: Symptom): SymptomSnapshot {
  const state: Partial<Symptom> = structuredClone(symptom);
  delete state.history;
  delete state.before;
  return state as SymptomSnapshot;
}
