/**
 * The register: where symptoms, NCs and timelines live. The engine decides in memory and hands the
 * register whole groups to write; the register writes each group atomically, or reports it as a
 * conflict when the symptom changed since it was read (compare-and-set on a version).
 */
import type { TallyReading } from './core/detector.js';
import { verifyChain, type ChainVerdict, type SealedNc, type StoredEntry } from './core/chain.js';
import { RecurdError } from './errors.js';
import { hash } from 'node:crypto';
import { isOverdue } from './core/dispositions.js';
import type { SeenRecord } from './core/seen.js';
import type { NcState, Nonconformity, SimilarSymptom, Symptom, SymptomState, TimelineEntry } from './core/types.js';

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
  /** Only NCs overdue now (true), or only those that are not (false). */
  overdue?: boolean;
  limit?: number;
  /** Only NCs listed after this one: a listing read page by page continues from its last NC. */
  after?: NcPosition;
}

/** Where an NC stands in a listing, which runs opened latest first, then by id descending. */
export interface NcPosition {
  openedAt: number;
  id: string;
}

export interface SymptomFilter {
  state?: SymptomState;
  family?: string;
  check?: string;
  asset?: string;
}

/** One page of a list: `cursor` is what an earlier page returned as `nextCursor`. */
export interface PageRequest {
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** How many match the filter in all, not on this page. */
  count: number;
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

/**
 * Where a page ends in its index: the score and member of its last item, and the index it was
 * read from, so that a cursor given with another filter is refused rather than read wrongly.
 */
export interface PagePosition {
  score: string;
  member: string;
}

function indexTag(index: string): string {
  return hash('sha256', index, 'hex').slice(0, 12);
}

/** An opaque cursor: the position after which the next page starts, in the index named by `index`. */
export function encodeCursor(index: string, position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.score, position.member, indexTag(index)]), 'utf8').toString('base64url');
}

export function decodeCursor(index: string, cursor: string): PagePosition {
  const refuse = (problem: string): RecurdError => new RecurdError('REQUEST_INVALID', `cursor: ${problem}`, [{ path: 'cursor', message: problem }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('not a cursor this list returned (pass nextCursor as it came)');
  }
  if (!Array.isArray(decoded) || decoded.length !== 3 || !decoded.every((part) => typeof part === 'string') || !Number.isFinite(Number(decoded[0]))) {
    throw refuse('not a cursor this list returned (pass nextCursor as it came)');
  }
  const [score, member, tag] = decoded as [string, string, string];
  if (tag !== indexTag(index)) throw refuse('it was returned for another filter; page with the filter it came with');
  return { score, member };
}

/**
 * The key of the index of symptoms matching a filter: every symptom is in the index of each
 * combination of its state, family, check and asset (16), so that any filter is one index and its
 * count one ZCARD. Hashed, since a check or an asset may be long or hold any character.
 */
export function symptomIndex(filter: SymptomFilter): string {
  return `syms:${hash('sha256', JSON.stringify([filter.state ?? null, filter.family ?? null, filter.check ?? null, filter.asset ?? null]), 'hex').slice(0, 32)}`;
}

export function symptomIndexes(symptom: Pick<Symptom, 'state' | 'family' | 'check' | 'asset'>): string[] {
  const indexes: string[] = [];
  for (let mask = 0; mask < 16; mask++) {
    indexes.push(
      symptomIndex({
        ...(mask & 1 ? { state: symptom.state } : {}),
        ...(mask & 2 ? { family: symptom.family } : {}),
        ...(mask & 4 ? { check: symptom.check } : {}),
        ...(mask & 8 ? { asset: symptom.asset } : {}),
      }),
    );
  }
  return indexes;
}

/**
 * The key of the index of NCs matching a filter (without `since`, which is a range of its score,
 * openedAt): one field has its own index (`ncs:state:open`), as the register always kept them;
 * two or three have one per combination, kept beside them by the commit.
 */
export function ncIndex(filter: Pick<NcFilter, 'state' | 'family' | 'control' | 'overdue'>): string {
  const given = [filter.state, filter.family, filter.control].filter((value) => value !== undefined).length;
  // The NCs overdue now have an index of their own, kept by the commits; with other filters it narrows theirs (ncListing).
  if (filter.overdue === true && given === 0) return 'ncs:overdue';
  if (given === 0) return 'ncs';
  if (given === 1) {
    if (filter.state !== undefined) return `ncs:state:${filter.state}`;
    if (filter.family !== undefined) return `ncs:family:${filter.family}`;
    return `ncs:control:${filter.control ?? ''}`;
  }
  return `ncs:ix:${hash('sha256', JSON.stringify([filter.state ?? null, filter.family ?? null, filter.control ?? null]), 'hex').slice(0, 32)}`;
}

/** How a page of NCs is read: the filter's index, narrowed by the NCs overdue now where it asks. */
export interface NcListing {
  index: string;
  /** The overdue index alone pages as any index; with other filters, or overdue=false, it narrows theirs. */
  narrowing: '' | 'overdue' | 'not-overdue';
  /** What a cursor of this listing is tagged with: it pages this listing only. */
  list: string;
}

export function ncListing(filter: Pick<NcFilter, 'state' | 'family' | 'control' | 'overdue'>): NcListing {
  const index = ncIndex(filter);
  const narrowing = filter.overdue === undefined || index === ncIndex({ overdue: true }) ? '' : filter.overdue ? 'overdue' : 'not-overdue';
  return { index, narrowing, list: narrowing === '' ? index : `${index}|${narrowing}` };
}

/** The combined indexes an NC is in (its single-field ones are written as they always were). */
export function ncIndexes(nc: Pick<Nonconformity, 'state' | 'family' | 'control'>): string[] {
  const { state, family } = nc;
  const combinations: Array<Pick<NcFilter, 'state' | 'family' | 'control'>> = [{ state, family }];
  if (nc.control !== null && nc.control !== '') {
    const control = nc.control;
    combinations.push({ state, control }, { family, control }, { state, family, control });
  }
  return combinations.map(ncIndex);
}

/**
 * A page of entries sorted as the Redis indexes are read: by score, highest first, ties by member
 * in reverse byte order; after the cursor's position, whether or not its entry is still there.
 */
export function pageOf<T>(index: string, entries: Array<{ score: number; member: string; item: T }>, page: PageRequest): Page<T> {
  const after = page.cursor === undefined ? null : decodeCursor(index, page.cursor);
  const order = (a: { score: number; member: string }, b: { score: number; member: string }): number => b.score - a.score || Buffer.compare(Buffer.from(b.member), Buffer.from(a.member));
  const sorted = [...entries].sort(order);
  const rest = after === null ? sorted : sorted.filter((entry) => order({ score: Number(after.score), member: after.member }, entry) < 0);
  const items = rest.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: items.map((entry) => entry.item),
    count: entries.length,
    nextCursor: rest.length > page.limit && last !== undefined ? encodeCursor(index, { score: String(last.score), member: last.member }) : null,
  };
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
  /** One page of the NCs matching the filter, newest first, with how many match in all. */
  pageNcs(filter: Omit<NcFilter, 'limit'>, page: PageRequest): Promise<Page<Nonconformity>>;
  /** One page of the symptoms matching the filter, the latest recurd first heard of first; without their history. */
  pageSymptoms(filter: SymptomFilter, page: PageRequest): Promise<Page<Symptom>>;
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
  /**
   * The NCs changed at or after `since` and opened before `openedBefore`: what a review of a
   * period reads. Null while the register cannot tell (written before it kept the index).
   */
  ncsTouchedSince(since: number, openedBefore: number): Promise<string[] | null>;
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
  /** Still handled after their corrective action's due date passed. */
  overdue: number;
}

/**
 * The class an NC counts in for the gauges: its family, control and what is true of it. The store
 * keeps a count per class, moved by each commit from an NC's old class to its new one, so that
 * reading the gauges costs the same with 10 NCs or 1,000,000.
 */
export function ncClass(nc: Nonconformity): string {
  // A void NC was never a nonconformity: it counts in none of the figures.
  if (nc.state === 'void') return JSON.stringify([nc.family, nc.control ?? '', '']);
  const acted = nc.correctiveAction !== null || nc.reopenCount > 0;
  const flags = `${acted ? 'a' : ''}${nc.reopenCount > 0 ? 'r' : ''}${nc.state === 'closed' ? 'c' : ''}${nc.state === 'verifying' && nc.verification?.blocked != null ? 'b' : ''}${isOverdue(nc) ? 'o' : ''}`;
  return JSON.stringify([nc.family, nc.control ?? '', flags]);
}

/** Counts per class (see {@link ncClass}) summed by family and control. */
export function ncStats(counts: Iterable<[string, number]>): NcStat[] {
  const stats = new Map<string, NcStat>();
  for (const [key, count] of counts) {
    if (count <= 0) continue;
    const [family, control, flags] = JSON.parse(key) as [string, string, string];
    const group = `${family}\u0000${control}`;
    const stat = stats.get(group) ?? { family, control, acted: 0, reopened: 0, closed: 0, blocked: 0, overdue: 0 };
    if (flags.includes('a')) stat.acted += count;
    if (flags.includes('r')) stat.reopened += count;
    if (flags.includes('c')) stat.closed += count;
    if (flags.includes('b')) stat.blocked += count;
    if (flags.includes('o')) stat.overdue += count;
    stats.set(group, stat);
  }
  return [...stats.values()];
}

/** The key that groups symptoms of one check across assets. */
export function checkKey(symptom: Pick<Symptom, 'family' | 'source' | 'check'>): string {
  return hash('sha256', JSON.stringify([symptom.family, symptom.source, symptom.check]), 'hex').slice(0, 32);
}
