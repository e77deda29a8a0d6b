/**
 * The register in memory: for `recurd replay` and for checking the engine's properties without
 * Redis. It follows the same contract as the Redis register, version check included.
 */
import { storedFields, type StoredEntry } from './core/chain.js';
import type { TallyReading } from './core/detector.js';
import { isOverdue } from './core/dispositions.js';
import { NEW_NC } from './core/lifecycle.js';
import type { SeenRecord } from './core/seen.js';
import { NC_STATES, type NcEvent, type NcState, type Nonconformity, type SimilarSymptom, type Symptom } from './core/types.js';
import type { Liveness, SourceLiveness } from './core/verification.js';
import type { SourceLife } from './engine.js';
import {
  checkKey,
  ncClass,
  ncListing,
  ncStats,
  pageOf,
  symptomIndex,
  TALLY_SAMPLE,
  type CommitGroup,
  type CommitResult,
  type LoadedSymptom,
  type NcFilter,
  type NcStat,
  type Page,
  type PageRequest,
  type Register,
  type SymptomFilter,
  type TallyQuery,
  type TimelineRecord,
} from './register.js';

export interface StoredEvent {
  id: string;
  type: NcEvent['type'];
  at: number;
  nc: Nonconformity;
}

export function ncNumber(year: number, sequence: number): string {
  return `NC-${year}-${String(sequence).padStart(4, '0')}`;
}

/** As commit-4.lua keeps them: at most DEDUPE_CAP events a symptom, the newest DEDUPE_KEEP when full. */
const DEDUPE_CAP = 16;
const DEDUPE_KEEP = 8;

function remember(seen: Map<string, Map<string, SeenRecord>>, fingerprint: string, records: Array<[string, SeenRecord]>): void {
  if (records.length === 0) return;
  const events = seen.get(fingerprint) ?? new Map<string, SeenRecord>();
  for (const [key, record] of records) {
    events.delete(key);
    events.set(key, record);
  }
  if (events.size > DEDUPE_CAP) for (const key of [...events.keys()].slice(0, events.size - DEDUPE_KEEP)) events.delete(key);
  seen.set(fingerprint, events);
}

/** What `work` returns, or its error, as the Redis register's promise would give them. */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

export class MemoryRegister implements Register {
  readonly symptoms = new Map<string, { symptom: Symptom; version: number }>();
  readonly ncs = new Map<string, Nonconformity>();
  readonly timelines = new Map<string, TimelineRecord[]>();
  readonly events: StoredEvent[] = [];
  /** By fingerprint, what was seen of its latest events, as the Redis register keeps it. */
  private readonly seen = new Map<string, Map<string, SeenRecord>>();
  /** Each tally's members by the latest time each was counted. */
  private readonly tallies = new Map<string, Map<string, number>>();
  private readonly due = new Map<string, number>();
  /** Each symptom's place in the lists, given when it is first written, as commit-4.lua numbers them. */
  private readonly listed = new Map<string, number>();
  private symptomSequence = 0;
  private readonly sequences = new Map<number, number>();
  private entrySequence = 0;

  load(fingerprints: string[], seenKeys: ReadonlyMap<string, string[]> = new Map()): Promise<{ symptoms: Map<string, LoadedSymptom>; seen: Map<string, SeenRecord> }> {
    const symptoms = new Map<string, LoadedSymptom>();
    for (const key of fingerprints) {
      const stored = this.symptoms.get(key);
      if (stored === undefined) continue;
      const nc = stored.symptom.nc === null ? null : (this.ncs.get(stored.symptom.nc) ?? null);
      symptoms.set(key, { symptom: structuredClone(stored.symptom), version: stored.version, nc: nc && structuredClone(nc), historyRead: true });
    }
    const seen = new Map<string, SeenRecord>();
    for (const [fingerprint, keys] of seenKeys) {
      for (const key of keys) {
        const record = this.seen.get(fingerprint)?.get(key);
        if (record !== undefined) seen.set(key, record);
      }
    }
    return Promise.resolve({ symptoms, seen });
  }

  commit(groups: CommitGroup[]): Promise<CommitResult> {
    const result: CommitResult = { conflicts: [], created: new Map() };
    for (const group of groups) {
      const version = this.symptoms.get(group.fingerprint)?.version ?? 0;
      if (version !== group.expectVersion || !group.ncs.every((sealed) => sealed.nc.id === NEW_NC || (this.ncs.get(sealed.nc.id)?.timelineHead ?? null) === sealed.expectHead)) {
        result.conflicts.push(group.fingerprint);
        continue;
      }
      remember(this.seen, group.fingerprint, group.seen);
      if (group.symptom === null) continue;
      for (const tally of group.tallies) {
        const members = this.tallies.get(tally.key) ?? new Map<string, number>();
        members.set(tally.member, Math.max(members.get(tally.member) ?? tally.at, tally.at));
        for (const [member, at] of members) if (at <= tally.floor) members.delete(member);
        this.tallies.set(tally.key, members);
      }
      const symptom = structuredClone(group.symptom);
      for (const { nc: draft, timeline } of group.ncs) {
        const nc = structuredClone(draft);
        if (nc.id === NEW_NC) {
          const year = new Date(nc.openedAt).getUTCFullYear();
          const sequence = (this.sequences.get(year) ?? 0) + 1;
          this.sequences.set(year, sequence);
          nc.id = ncNumber(year, sequence);
          result.created.set(group.fingerprint, nc.id);
          if (symptom.nc === NEW_NC) symptom.nc = nc.id;
        }
        this.ncs.set(nc.id, nc);
        const records = this.timelines.get(nc.id) ?? [];
        for (const entry of timeline) {
          const id = `${entry.at}-${++this.entrySequence}`;
          records.push({ id, at: entry.at, type: entry.type, event: entry.event, detail: structuredClone(entry.detail), prev: entry.prev, hash: entry.hash });
          if (entry.event !== null) this.events.push({ id: `${nc.id}.${id}`, type: entry.event, at: entry.at, nc: structuredClone(nc) });
        }
        this.timelines.set(nc.id, records);
      }
      if (group.forget) {
        this.symptoms.delete(group.fingerprint);
        this.listed.delete(group.fingerprint);
        this.seen.delete(group.fingerprint);
        this.due.delete(group.fingerprint);
        continue;
      }
      this.symptoms.set(group.fingerprint, { symptom, version: version + 1 });
      if (!this.listed.has(group.fingerprint)) this.listed.set(group.fingerprint, ++this.symptomSequence);
      if (group.due === null) this.due.delete(group.fingerprint);
      else this.due.set(group.fingerprint, group.due);
    }
    return Promise.resolve(result);
  }

  getNc(id: string): Promise<Nonconformity | null> {
    const nc = this.ncs.get(id);
    return Promise.resolve(nc ? structuredClone(nc) : null);
  }

  listNcs(filter: NcFilter): Promise<Nonconformity[]> {
    const matches = [...this.ncs.values()]
      .filter(
        (nc) =>
          (filter.state === undefined || nc.state === filter.state) &&
          (filter.family === undefined || nc.family === filter.family) &&
          (filter.control === undefined || nc.control === filter.control) &&
          (filter.since === undefined || nc.openedAt >= filter.since) &&
          (filter.overdue === undefined || isOverdue(nc) === filter.overdue) &&
          (filter.after === undefined || nc.openedAt < filter.after.openedAt || (nc.openedAt === filter.after.openedAt && nc.id.localeCompare(filter.after.id) < 0)),
      )
      .sort((a, b) => b.openedAt - a.openedAt || b.id.localeCompare(a.id));
    return Promise.resolve(structuredClone(matches.slice(0, filter.limit ?? matches.length)));
  }

  pageNcs(filter: Omit<NcFilter, 'limit'>, page: PageRequest): Promise<Page<Nonconformity>> {
    const matches = [...this.ncs.values()].filter(
      (nc) =>
        (filter.state === undefined || nc.state === filter.state) &&
        (filter.family === undefined || nc.family === filter.family) &&
        (filter.control === undefined || nc.control === filter.control) &&
        (filter.overdue === undefined || isOverdue(nc) === filter.overdue) &&
        (filter.since === undefined || nc.openedAt >= filter.since),
    );
    return settled(() => pageOf(ncListing(filter).list, matches.map((nc) => ({ score: nc.openedAt, member: nc.id, item: structuredClone(nc) })), page));
  }

  ncsTouchedSince(since: number, openedBefore: number): Promise<string[] | null> {
    return settled(() => [...this.ncs.values()].filter((nc) => nc.updatedAt >= since && nc.openedAt < openedBefore).map((nc) => nc.id));
  }

  pageSymptoms(filter: SymptomFilter, page: PageRequest): Promise<Page<Symptom>> {
    const matches = [...this.symptoms.values()]
      .map((entry) => entry.symptom)
      .filter(
        (symptom) =>
          (filter.state === undefined || symptom.state === filter.state) &&
          (filter.family === undefined || symptom.family === filter.family) &&
          (filter.check === undefined || symptom.check === filter.check) &&
          (filter.asset === undefined || symptom.asset === filter.asset),
      );
    const entries = matches.map((symptom) => ({ score: this.listed.get(symptom.fingerprint) ?? 0, member: symptom.fingerprint, item: { ...structuredClone(symptom), history: [], before: null } }));
    return settled(() => pageOf(symptomIndex(filter), entries, page));
  }

  timeline(id: string): Promise<TimelineRecord[]> {
    return Promise.resolve(structuredClone(this.timelines.get(id) ?? []));
  }

  /** In the form the Redis register stores entries, so that a chain verifies alike in both. */
  storedTimeline(id: string): Promise<StoredEntry[]> {
    return Promise.resolve((this.timelines.get(id) ?? []).map((record) => ({ id: record.id, fields: storedFields({ ...record, hash: record.hash ?? '' }) })));
  }

  dueSymptoms(upTo: number, limit: number): Promise<string[]> {
    const due = [...this.due].filter(([, at]) => at <= upTo).sort((a, b) => a[1] - b[1]);
    return Promise.resolve(due.slice(0, limit).map(([key]) => key));
  }

  similarSymptoms(symptom: Symptom, limit: number): Promise<{ similar: SimilarSymptom[]; count: number }> {
    const key = checkKey(symptom);
    const others = [...this.symptoms.values()]
      .map((entry) => entry.symptom)
      // A symptom only ever seen healthy (episode 0) does not fail elsewhere.
      .filter((other) => other.aggregate === null && other.check !== '' && other.episode > 0 && other.fingerprint !== symptom.fingerprint && checkKey(other) === key)
      .sort((a, b) => b.lastFiringAt - a.lastFiringAt);
    const similar = others.slice(0, limit).map((other) => ({ fingerprint: other.fingerprint, asset: other.asset, state: other.state, lastFiringAt: other.lastFiringAt }));
    return Promise.resolve({ similar, count: others.length });
  }

  noteElsewhere(ncId: string, similar: SimilarSymptom[], count: number): Promise<void> {
    const nc = this.ncs.get(ncId);
    if (nc !== undefined) {
      nc.elsewhere = structuredClone(similar);
      nc.elsewhereCount = count;
    }
    return Promise.resolve();
  }

  readTallies(queries: TallyQuery[]): Promise<Map<string, TallyReading>> {
    const readings = new Map<string, TallyReading>();
    for (const query of queries) {
      const members = [...(this.tallies.get(query.key) ?? [])].filter(([, at]) => at > query.floor).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
      const since = query.since;
      readings.set(query.key, {
        count: members.length,
        countSince: since === null ? 0 : members.filter(([, at]) => at > since).length,
        sample: members.slice(0, TALLY_SAMPLE).map(([member]) => member),
      });
    }
    return Promise.resolve(readings);
  }

  ncStats(): Promise<NcStat[]> {
    const counts = new Map<string, number>();
    for (const nc of this.ncs.values()) counts.set(ncClass(nc), (counts.get(ncClass(nc)) ?? 0) + 1);
    return Promise.resolve(ncStats(counts));
  }

  countNcsByState(): Promise<Record<NcState, number>> {
    const counts = Object.fromEntries(NC_STATES.map((state) => [state, 0])) as Record<NcState, number>;
    for (const nc of this.ncs.values()) counts[nc.state] += 1;
    return Promise.resolve(counts);
  }
}

/**
 * The sources' life in memory, kept as the daemon's connector status keeps it in Redis: for
 * `recurd replay` (heartbeats in the recording) and for the core's timeline tests.
 */
export class MemorySourceLife implements SourceLife {
  private readonly sources = new Map<string, SourceLiveness>();

  private of(source: string): SourceLiveness {
    let life = this.sources.get(source);
    if (life === undefined) this.sources.set(source, (life = { errorSpells: [], heartbeat: null }));
    return life;
  }

  heartbeat(source: string, at: number, maxGap: number): Promise<void> {
    const life = this.of(source);
    const beat = (life.heartbeat ??= { lastAt: null, gaps: [] });
    if (beat.lastAt === null || at > beat.lastAt) {
      if (beat.lastAt !== null && at - beat.lastAt > maxGap) beat.gaps.push({ from: beat.lastAt, to: at });
      beat.lastAt = at;
    }
    return Promise.resolve();
  }

  /** The connector of `source` starts failing at `at`, or works again. */
  failed(source: string, at: number): void {
    const spells = this.of(source).errorSpells;
    if (spells.at(-1)?.to !== null) spells.push({ from: at, to: null });
  }

  succeeded(source: string, at: number): void {
    const open = this.of(source).errorSpells.at(-1);
    if (open !== undefined && open.to === null) open.to = at;
  }

  liveness(sources: string[]): Promise<Liveness> {
    return Promise.resolve(new Map(sources.map((source) => [source, structuredClone(this.of(source))])));
  }
}
