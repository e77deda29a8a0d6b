/**
 * The register in Redis. Every key starts with the configured prefix, which carries a hash tag so
 * that all of them live in one Redis Cluster slot and one Lua script may touch any of them.
 */
import type { Redis } from 'ioredis';
import type { HistoryEntry, SymptomSnapshot } from '../core/history.js';
import { parseSeen, serializeSeen, type SeenRecord } from '../core/seen.js';
import { NC_STATES, type NcState, type Nonconformity, type SimilarSymptom, type Symptom, type TimelineEntry } from '../core/types.js';
import { checkKey, type CommitGroup, type CommitResult, type LoadedSymptom, type NcFilter, type Register, type TimelineRecord } from '../register.js';
import { LuaScript } from './scripts.js';

const commitScript = new LuaScript('commit-3');

export class RedisKeys {
  constructor(readonly prefix: string) {}
  symptom(fingerprint: string): string {
    return `${this.prefix}:sym:${fingerprint}`;
  }
  seen(key: string): string {
    return `${this.prefix}:seen:${key}`;
  }
  nc(id: string): string {
    return `${this.prefix}:nc:${id}`;
  }
  timeline(id: string): string {
    return `${this.prefix}:tl:${id}`;
  }
  get due(): string {
    return `${this.prefix}:due`;
  }
  get events(): string {
    return `${this.prefix}:events`;
  }
  get allNcs(): string {
    return `${this.prefix}:ncs`;
  }
  ncsBy(field: 'state' | 'family' | 'control', value: string): string {
    return `${this.prefix}:ncs:${field}:${value}`;
  }
}

/** What a record written before the history was counted on it means: no history. */
const NO_HISTORY: Pick<Symptom, 'historyCount' | 'historyFirstAt' | 'historyLastAt'> = { historyCount: 0, historyFirstAt: null, historyLastAt: null };

/**
 * How a group's history is written (commit-3.lua): `hm` 'r' replaces the history `h` and the state
 * before it `b` (0: delete), 'a' appends `h` (entries, comma-separated) and writes `b` if given.
 */
function historyWrite(group: CommitGroup, argument: (document: string) => number): { hm: string; h: number; b: number } {
  const symptom = group.symptom;
  if (symptom === null) return { hm: '', h: 0, b: 0 };
  const before = symptom.before === null ? 0 : argument(JSON.stringify(symptom.before));
  if (group.historyRead) return { hm: 'r', h: symptom.history.length === 0 ? 0 : argument(JSON.stringify(symptom.history)), b: before };
  if (symptom.history.length === 0 && before === 0) return { hm: '', h: 0, b: 0 };
  return { hm: 'a', h: symptom.history.length === 0 ? 0 : argument(symptom.history.map((entry) => JSON.stringify(entry)).join(',')), b: before };
}

/** The symptom's record without its history, which is kept in fields of its own (not a copy: see load). */
function symptomDocument(symptom: Symptom): string {
  return JSON.stringify(symptom, function (this: unknown, key: string, value: unknown) {
    return this === symptom && (key === 'history' || key === 'before') ? undefined : value;
  });
}

/** An NC's document, with where else its failure was found (kept in a field of its own). */
function parseNc(raw: string | null, elsewhere: string | null = null): Nonconformity | null {
  if (raw === null) return null;
  const nc = JSON.parse(raw) as Nonconformity;
  return elsewhere === null ? nc : { ...nc, elsewhere: JSON.parse(elsewhere) as Nonconformity['elsewhere'] };
}

export class RedisRegister implements Register {
  readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly seenTtlMs: number,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async load(
    fingerprints: string[],
    seenKeys: string[],
    readHistory: ReadonlySet<string> = new Set(),
  ): Promise<{ symptoms: Map<string, LoadedSymptom>; seen: Map<string, SeenRecord> }> {
    const pipeline = this.redis.pipeline();
    // The history is read only for a decision that needs it: it is most of a busy symptom's bytes.
    for (const key of fingerprints) pipeline.hmget(this.keys.symptom(key), 'v', 'd', ...(readHistory.has(key) ? ['h', 'b'] : []));
    for (const key of seenKeys) pipeline.get(this.keys.seen(key));
    const replies = (await pipeline.exec()) ?? [];
    const symptoms = new Map<string, LoadedSymptom>();
    const ncIds = new Map<string, string>();
    fingerprints.forEach((key, index) => {
      const [error, value] = replies[index] ?? [null, null];
      if (error) throw error;
      const [version, data, history, before] = value as [string | null, string | null, (string | null)?, (string | null)?];
      if (data === null) return;
      const symptom = JSON.parse(data) as Symptom;
      // Filled in, not spread over: a spread builds the record property by property (slow in V8).
      symptom.historyCount ??= NO_HISTORY.historyCount;
      symptom.historyFirstAt ??= NO_HISTORY.historyFirstAt;
      symptom.historyLastAt ??= NO_HISTORY.historyLastAt;
      const historyRead = readHistory.has(key);
      symptom.history = historyRead && history ? (JSON.parse(history) as HistoryEntry[]) : [];
      symptom.before = historyRead && before ? (JSON.parse(before) as SymptomSnapshot) : null;
      symptoms.set(key, { symptom, version: Number(version ?? 0), nc: null, historyRead });
      if (symptom.nc !== null) ncIds.set(key, symptom.nc);
    });
    const seen = new Map<string, SeenRecord>();
    seenKeys.forEach((key, index) => {
      const [error, value] = replies[fingerprints.length + index] ?? [null, null];
      if (error) throw error;
      const record = parseSeen(value as string | null);
      if (record !== null) seen.set(key, record);
    });
    if (ncIds.size > 0) {
      const ncPipeline = this.redis.pipeline();
      for (const id of ncIds.values()) ncPipeline.hmget(this.keys.nc(id), 'd', 'e');
      const ncReplies = (await ncPipeline.exec()) ?? [];
      [...ncIds.keys()].forEach((key, index) => {
        const [error, value] = ncReplies[index] ?? [null, null];
        if (error) throw error;
        const loaded = symptoms.get(key);
        const [document, elsewhere] = value as [string | null, string | null];
        if (loaded) loaded.nc = parseNc(document, elsewhere);
      });
    }
    return { symptoms, seen };
  }

  async commit(groups: CommitGroup[]): Promise<CommitResult> {
    // cjson in Redis decodes null to a userdata and renders big numbers with 14 digits: send times
    // and optional values as strings. Documents go as arguments of their own, escaped once.
    const documents: string[] = [];
    const argument = (document: string): number => documents.push(document) + 3;
    const payload = groups.map((group) => ({
      f: group.fingerprint,
      v: group.expectVersion,
      s: group.symptom === null ? 0 : argument(symptomDocument(group.symptom)),
      ...historyWrite(group, argument),
      ck: group.symptom === null || group.symptom.aggregate !== null || group.symptom.check === '' ? '' : checkKey(group.symptom),
      due: group.due === null ? '' : String(group.due),
      seen: group.seen.map(([key, record]) => [key, serializeSeen(record)]),
      ncs: group.ncs.map(({ nc, timeline }) => ({
        id: nc.id,
        d: argument(JSON.stringify(nc)),
        st: nc.state,
        fam: nc.family,
        ctl: nc.control ?? '',
        at: String(nc.openedAt),
        yr: String(new Date(nc.openedAt).getUTCFullYear()),
        tl: timeline.map((entry) => ({ at: String(entry.at), type: entry.type, ev: entry.event ?? '', dt: JSON.stringify(entry.detail) })),
      })),
    }));
    const [conflicts, created] = (await commitScript.run(
      this.redis,
      [this.keys.due, this.keys.events, this.keys.allNcs],
      [this.keys.prefix, JSON.stringify(payload), this.seenTtlMs, ...documents],
    )) as [string[], string[]];
    const createdIds = new Map<string, string>();
    for (let index = 0; index + 1 < created.length; index += 2) createdIds.set(created[index] as string, created[index + 1] as string);
    return { conflicts, created: createdIds };
  }

  async getNc(id: string): Promise<Nonconformity | null> {
    const [document, elsewhere] = await this.redis.hmget(this.keys.nc(id), 'd', 'e');
    return parseNc(document ?? null, elsewhere ?? null);
  }

  async similarSymptoms(symptom: Symptom, limit: number): Promise<SimilarSymptom[]> {
    const fingerprints = (await this.redis.smembers(`${this.keys.prefix}:similar:${checkKey(symptom)}`)).filter((key) => key !== symptom.fingerprint).slice(0, limit);
    if (fingerprints.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of fingerprints) pipeline.hget(this.keys.symptom(key), 'd');
    const similar: SimilarSymptom[] = [];
    for (const [error, value] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      if (typeof value !== 'string') continue;
      const other = JSON.parse(value) as Symptom;
      // A symptom only ever seen healthy (episode 0) does not fail elsewhere.
      if (other.episode > 0) similar.push({ fingerprint: other.fingerprint, asset: other.asset, state: other.state, lastFiringAt: other.lastFiringAt });
    }
    return similar;
  }

  async noteElsewhere(ncId: string, similar: SimilarSymptom[]): Promise<void> {
    await this.redis.hset(this.keys.nc(ncId), 'e', JSON.stringify(similar));
  }

  async listNcs(filter: NcFilter): Promise<Nonconformity[]> {
    const index =
      filter.state !== undefined
        ? this.keys.ncsBy('state', filter.state)
        : filter.control !== undefined
          ? this.keys.ncsBy('control', filter.control)
          : filter.family !== undefined
            ? this.keys.ncsBy('family', filter.family)
            : this.keys.allNcs;
    const ids = await this.redis.zrevrangebyscore(index, '+inf', filter.since ?? '-inf');
    const result: Nonconformity[] = [];
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    for (let start = 0; start < ids.length && result.length < limit; start += 500) {
      const chunk = ids.slice(start, start + 500);
      const pipeline = this.redis.pipeline();
      for (const id of chunk) pipeline.hmget(this.keys.nc(id), 'd', 'e');
      for (const [error, value] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        const [document, elsewhere] = value as [string | null, string | null];
        const nc = parseNc(document, elsewhere);
        if (
          nc !== null &&
          (filter.state === undefined || nc.state === filter.state) &&
          (filter.family === undefined || nc.family === filter.family) &&
          (filter.control === undefined || nc.control === filter.control) &&
          result.length < limit
        ) {
          result.push(nc);
        }
      }
    }
    return result;
  }

  async timeline(id: string): Promise<TimelineRecord[]> {
    const entries = await this.redis.xrange(this.keys.timeline(id), '-', '+');
    return entries.map(([entryId, fields]) => {
      const record: Record<string, string> = {};
      for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index] as string] = fields[index + 1] as string;
      return {
        id: entryId,
        at: Number(record.at),
        type: record.type as TimelineEntry['type'],
        detail: JSON.parse(record.detail ?? '{}') as Record<string, unknown>,
      };
    });
  }

  async dueSymptoms(upTo: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.due, '-inf', upTo, 'LIMIT', 0, limit);
  }

  async countNcsByState(): Promise<Record<NcState, number>> {
    const pipeline = this.redis.pipeline();
    for (const state of NC_STATES) pipeline.zcard(this.keys.ncsBy('state', state));
    const replies = (await pipeline.exec()) ?? [];
    return Object.fromEntries(NC_STATES.map((state, index) => [state, Number(replies[index]?.[1] ?? 0)])) as Record<NcState, number>;
  }
}
