/**
 * The register: where symptoms, NCs and timelines live. The engine decides in memory and hands the
 * register whole groups to write; the register writes each group atomically, or reports it as a
 * conflict when the symptom changed since it was read (compare-and-set on a version).
 */
import type { TallyReading } from './core/detector.js';
import { verifyChain, type ChainVerdict, type SealedNc, type StoredEntry } from './core/chain.js';
import { RecurdError } from './errors.js';
import { hash } from 'node:crypto';
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
  /**
   * NCs to write, with the timeline entries to append, chained; an NC whose id is NEW_NC is
   * created, any other is written only if its head is still `expectHead` (else: a conflict).
   */
  ncs: SealedNc[];
  /** `source`+`id` keys of the observations decided, with what has now been seen under each. */
  seen: Array<[string, SeenRecord]>;
  /**
   * Whether the symptom's history was read: then `symptom.history` and `before` replace the stored
   * ones; else `history` holds the entries to append, and `before` is written when not null.
   */
  historyRead: boolean;
  /** Tallies the group's alerts count toward, written with it (a cross-asset detector's counts). */
  tallies: TallyCount[];
  /** Remove the symptom, what it remembers and its index entries; its NCs and timelines stay. */
  forget: boolean;
}

/** One member counted in a tally at `at`; members last counted at or before `floor` are dropped. */
export interface TallyCount {
  key: string;
  member: string;
  at: number;
  floor: number;
  /** How long the tally is kept after its latest count, ms. */
  keepFor: number;
}

/** What to read of a tally: members counted after `floor`, and of those after `since`. */
export interface TallyQuery {
  key: string;
  floor: number;
  since: number | null;
}

/** How many members a tally reading names. */
export const TALLY_SAMPLE = 50;

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
  /** Only NCs listed after this one: a listing read page by page continues from its last NC. */
  after?: NcPosition;
}

/** Where an NC stands in a listing, which runs opened latest first, then by id descending. */
export interface NcPosition {
  openedAt: number;
  id: string;
}

export interface TimelineRecord extends TimelineEntry {
  /** The entry's id in its stream: stable, ordered. */
  id: string;
  event: string | null;
  /** The entry's hash and the previous entry's (core/chain.ts); null on entries written before the chain. */
  hash: string | null;
  prev: string | null;
}

/** An edited entry's detail may not be JSON any more: shown as the text it holds rather than failing the view. */
function readDetail(text: string): Record<string, unknown> {
  try {
    const detail: unknown = JSON.parse(text);
    if (detail !== null && typeof detail === 'object' && !Array.isArray(detail)) return detail as Record<string, unknown>;
  } catch {
    // Falls through to the text as stored.
  }
  return { unreadable: text };
}

/** A stored entry as the API shows it; lenient, since verifyChain is what judges the stored text. */
export function timelineRecord(stored: StoredEntry): TimelineRecord {
  const { at, type, event, detail, prev, hash: entryHash } = stored.fields;
  return {
    id: stored.id,
    at: Number(at),
    type: type as TimelineEntry['type'],
    event: event === undefined || event === '' ? null : event,
    detail: readDetail(detail ?? '{}'),
    hash: entryHash ?? null,
    prev: prev === undefined || prev === '' ? null : prev,
  };
}

export interface Register {
  /**
   * `seenKeys`: by fingerprint, the keys of the events whose seen records to read (each symptom
   * keeps its own); `readHistory`: the symptoms whose history a decision needs (a register may
   * always read it).
   */
  load(
    fingerprints: string[],
    seenKeys?: ReadonlyMap<string, string[]>,
    readHistory?: ReadonlySet<string>,
  ): Promise<{ symptoms: Map<string, LoadedSymptom>; seen: Map<string, SeenRecord> }>;
  commit(groups: CommitGroup[]): Promise<CommitResult>;
  getNc(id: string): Promise<Nonconformity | null>;
  listNcs(filter: NcFilter): Promise<Nonconformity[]>;
  timeline(id: string): Promise<TimelineRecord[]>;
  /** The timeline's entries as stored, for verifying its chain. */
  storedTimeline(id: string): Promise<StoredEntry[]>;
  /** Fingerprints with something due at or before `upTo`, oldest first. */
  dueSymptoms(upTo: number, limit: number): Promise<string[]>;
  countNcsByState(): Promise<Record<NcState, number>>;
  /** The counts behind the gauges of corrective actions, kept by the commits. */
  ncStats(): Promise<NcStat[]>;
  /** Symptoms of the same family, source and check on other assets: the `limit` that failed last. */
  similarSymptoms(symptom: Symptom, limit: number): Promise<{ similar: SimilarSymptom[]; count: number }>;
  /** Counts and a sample of each tally, in a number of commands that does not grow with its members. */
  readTallies(queries: TallyQuery[]): Promise<Map<string, TallyReading>>;
  /** Records on an NC where else its failure was found; kept beside the NC, shown with it. */
  noteElsewhere(ncId: string, similar: SimilarSymptom[], count: number): Promise<void>;
}

/** Recomputes the hash chain of an NC's timeline against the head its record keeps. */
export async function verifyTimeline(register: Register, id: string): Promise<ChainVerdict> {
  const nc = await register.getNc(id);
  if (nc === null) throw new RecurdError('NC_NOT_FOUND', `no nonconformity ${id}`);
  return verifyChain(await register.storedTimeline(id), nc.timelineHead ?? null);
}

/** What the gauges derived from the register count, per family and control. */
export interface NcStat {
  family: string;
  /** Annex A control, or '' where unknown. */
  control: string;
  /** NCs with a corrective action, or reopened (which means they had one). */
  acted: number;
  reopened: number;
  closed: number;
  /** Verifying after a window that ended without the evidence to close them. */
  blocked: number;
}

/**
 * The class an NC counts in for the gauges: its family, control and what is true of it. The store
 * keeps a count per class, moved by each commit from an NC's old class to its new one, so that
 * reading the gauges costs the same with 10 NCs or 1,000,000.
 */
export function ncClass(nc: Nonconformity): string {
  const acted = nc.correctiveAction !== null || nc.reopenCount > 0;
  const flags = `${acted ? 'a' : ''}${nc.reopenCount > 0 ? 'r' : ''}${nc.state === 'closed' ? 'c' : ''}${nc.state === 'verifying' && nc.verification?.blocked != null ? 'b' : ''}`;
  return JSON.stringify([nc.family, nc.control ?? '', flags]);
}

/** Counts per class (see {@link ncClass}) summed by family and control. */
export function ncStats(counts: Iterable<[string, number]>): NcStat[] {
  const stats = new Map<string, NcStat>();
  for (const [key, count] of counts) {
    if (count <= 0) continue;
    const [family, control, flags] = JSON.parse(key) as [string, string, string];
    const group = `${family}\u0000${control}`;
    const stat = stats.get(group) ?? { family, control, acted: 0, reopened: 0, closed: 0, blocked: 0 };
    if (flags.includes('a')) stat.acted += count;
    if (flags.includes('r')) stat.reopened += count;
    if (flags.includes('c')) stat.closed += count;
    if (flags.includes('b')) stat.blocked += count;
    stats.set(group, stat);
  }
  return [...stats.values()];
}

/** The key that groups symptoms of one check across assets. */
export function checkKey(symptom: Pick<Symptom, 'family' | 'source' | 'check'>): string {
  return hash('sha256', JSON.stringify([symptom.family, symptom.source, symptom.check]), 'hex').slice(0, 32);
}
