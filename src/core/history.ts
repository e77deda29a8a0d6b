/**
 * A symptom's recent history: the observations (and people's actions on it) of the last
 * `maxLateness`, in event-time order, with the state the symptom was in before the oldest of them.
 * An observation that arrives out of order is put in its place and the symptom is decided again
 * from that state, so that what the observations imply in event-time order is what recurd
 * decides, whatever order they arrived in (DESIGN.md, "Semantics").
 */
import type { AlertStatus, ReceivedAlert, Severity, Symptom } from './types.js';

/**
 * What is kept of an observation to decide it again: what may differ between a symptom's alerts,
 * each field only where it differs from the symptom's own (a symptom's history is rewritten with
 * each of its alerts, so its size is paid on every one).
 */
export interface LoggedAlert {
  id: string;
  status: AlertStatus;
  message?: string;
  severity?: Severity;
  labels?: Record<string, string>;
  evidence?: Record<string, unknown>;
}

export type HistoryEntry =
  /**
   * `proves`: for a return that proved a fix ineffective, when that fix was; `counted`: a return
   * after the window that was counted as one more occurrence of an NC never corrected.
   */
  | { kind: 'observation'; at: number; alert: LoggedAlert; outcome: string; proves?: number; counted?: true }
  /** A person recorded the fix. */
  | { kind: 'fix'; at: number; by: string; actor?: string }
  /** A corrective action whose window (ms) counts for the symptom from `at`, unless it was firing. */
  | { kind: 'action'; at: number; window: number };

/** The lifecycle fields of a symptom: what a re-decision starts from. */
export type SymptomSnapshot = Omit<Symptom, 'history' | 'before' | 'historyCount' | 'historyFirstAt' | 'historyLastAt'>;

/** A symptom with no history, as a re-decision starts from its state before. */
export function fromSnapshot(snapshot: SymptomSnapshot): Symptom {
  return { ...structuredClone(snapshot), history: [], before: null, historyCount: 0, historyFirstAt: null, historyLastAt: null };
}

/** The whole history, read or decided again. */
export function setHistory(symptom: Symptom, entries: HistoryEntry[]): void {
  symptom.history = entries;
  symptom.historyCount = entries.length;
  symptom.historyFirstAt = entries[0]?.at ?? null;
  symptom.historyLastAt = entries.at(-1)?.at ?? null;
}

/** One entry after every other one: written by appending, whether the history was read or not. */
export function appendHistory(symptom: Symptom, entry: HistoryEntry): void {
  symptom.history = [...symptom.history, entry];
  symptom.historyCount += 1;
  symptom.historyFirstAt ??= entry.at;
  symptom.historyLastAt = Math.max(symptom.historyLastAt ?? entry.at, entry.at);
}

/** How many entries a symptom keeps, whatever its rate: older ones are folded into `before`. */
export const HISTORY = 16;
/** Folded a few at a time, so that a busy symptom does not fold one entry with every alert. */
const FOLD_AT = HISTORY + 8;

type SymptomFields = Pick<Symptom, 'source' | 'family' | 'check' | 'asset' | 'control' | 'controlAsReported' | 'controlUnknown' | 'title' | 'severity' | 'labels'>;

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

export function loggedAlert(alert: ReceivedAlert, symptom: SymptomFields | null): LoggedAlert {
  return {
    id: alert.id,
    status: alert.status,
    ...(alert.message === '' || alert.message === symptom?.title ? {} : { message: alert.message }),
    ...(alert.severity === symptom?.severity ? {} : { severity: alert.severity }),
    ...(Object.keys(alert.labels).length === 0 || (symptom !== null && sameLabels(alert.labels, symptom.labels)) ? {} : { labels: alert.labels }),
    ...(Object.keys(alert.evidence).length === 0 ? {} : { evidence: alert.evidence }),
  };
}

/** The alert an entry stands for: the symptom's fields where the entry kept none of its own. */
export function alertOf(entry: LoggedAlert, symptom: SymptomFields, at: number): ReceivedAlert {
  return {
    id: entry.id,
    status: entry.status,
    // Only what arrives is timed against its receipt; an entry in the history is decided on its event time.
    receivedAt: at,
    message: entry.message ?? symptom.title,
    severity: entry.severity ?? symptom.severity,
    labels: entry.labels ?? symptom.labels,
    evidence: entry.evidence ?? {},
    source: symptom.source,
    family: symptom.family,
    check: symptom.check,
    asset: symptom.asset,
    ...(symptom.control === null ? {} : { control: symptom.control }),
    ...(symptom.controlAsReported === undefined ? {} : { controlAsReported: symptom.controlAsReported }),
    ...(symptom.controlUnknown === undefined ? {} : { controlUnknown: symptom.controlUnknown }),
    observedAt: at,
  };
}

/** Whether the history is long enough to fold its oldest entries, or has entries no observation can come before any more. */
export function foldDue(symptom: Symptom, oldestKept: number): boolean {
  return symptom.historyCount > FOLD_AT || (symptom.historyFirstAt !== null && symptom.historyFirstAt < oldestKept);
}

/** Inserted after every entry at or before its time, so equal times keep their arrival order. */
export function inserted(history: readonly HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const index = history.findIndex((other) => other.at > entry.at);
  return index === -1 ? [...history, entry] : [...history.slice(0, index), entry, ...history.slice(index)];
}

export function snapshotOf(symptom: Symptom): SymptomSnapshot {
  const state: Partial<Symptom> = { ...symptom };
  delete state.history;
  delete state.before;
  delete state.historyCount;
  delete state.historyFirstAt;
  delete state.historyLastAt;
  return structuredClone(state) as SymptomSnapshot;
}
