/**
 * The register: where symptoms, NCs and timelines live. The engine decides in memory and hands the
 * register whole groups to write; the register writes each group atomically, or reports it as a
 * conflict when the symptom changed since it was read (compare-and-set on a version).
 */
import type { NcDraft } from './core/lifecycle.js';
import { createHash } from 'node:crypto';
import type { SeenRecord } from './core/seen.js';
import type { NcState, Nonconformity, SimilarSymptom, Symptom, TimelineEntry } from './core/types.js';

export interface LoadedSymptom {
  symptom: Symptom | null;
  /** 0 when the symptom does not exist yet. */
  version: number;
  /** The symptom's current NC, when it has one. */
  nc: Nonconformity | null;
  /** Whether `symptom.history` and `symptom.before` were read (else they are empty placeholders). */
  historyRead: boolean;
}

export interface CommitGroup {
  fingerprint: string;
  expectVersion: number;
  /** Null when only `seen` is written: an observation ignored before the symptom existed. */
  symptom: Symptom | null;
  /** When time alone next changes this symptom or its NC (epoch ms), for the sweep. */
  due: number | null;
  /** NCs to write, with the timeline entries to append; an NC whose id is NEW_NC is created. */
  ncs: NcDraft[];
  /** `source`+`id` keys of observations with what has been seen under each. */
  seen: Array<[string, SeenRecord]>;
  /**
   * Whether the symptom's history was read: then `symptom.history` and `before` replace the stored
   * ones; else `history` holds the entries to append, and `before` is written when not null.
   */
  historyRead: boolean;
}

export interface CommitResult {
  /** Fingerprints whose group was not written because the symptom changed meanwhile. */
  conflicts: string[];
  /** Ids given to NCs created, by fingerprint. */
  created: Map<string, string>;
}

export interface NcFilter {
  state?: NcState;
  family?: string;
  control?: string;
  /** Only NCs opened at or after this time (epoch ms). */
  since?: number;
  limit?: number;
}

export interface TimelineRecord extends TimelineEntry {
  /** The entry's id in its stream: stable, ordered. */
  id: string;
}

export interface Register {
  /** `readHistory`: the symptoms whose history a decision needs (a register may always read it). */
  load(fingerprints: string[], seenKeys: string[], readHistory?: ReadonlySet<string>): Promise<{ symptoms: Map<string, LoadedSymptom>; seen: Map<string, SeenRecord> }>;
  commit(groups: CommitGroup[]): Promise<CommitResult>;
  getNc(id: string): Promise<Nonconformity | null>;
  listNcs(filter: NcFilter): Promise<Nonconformity[]>;
  timeline(id: string): Promise<TimelineRecord[]>;
  /** Fingerprints with something due at or before `upTo`, oldest first. */
  dueSymptoms(upTo: number, limit: number): Promise<string[]>;
  countNcsByState(): Promise<Record<NcState, number>>;
  /** Symptoms of the same family, source and check on other assets (at most `limit`). */
  similarSymptoms(symptom: Symptom, limit: number): Promise<SimilarSymptom[]>;
  /** Records on an NC where else its failure was found; kept beside the NC, shown with it. */
  noteElsewhere(ncId: string, similar: SimilarSymptom[]): Promise<void>;
}

/** The key that groups symptoms of one check across assets. */
export function checkKey(symptom: Pick<Symptom, 'family' | 'source' | 'check'>): string {
  return createHash('sha256').update(JSON.stringify([symptom.family, symptom.source, symptom.check])).digest('hex').slice(0, 32);
}
