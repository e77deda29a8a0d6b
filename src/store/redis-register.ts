/**
 * The register in Redis. Every key starts with the configured prefix, which carries a hash tag so
 * that all of them live in one Redis Cluster slot and one Lua script may touch any of them.
 */
import type { Redis } from 'ioredis';
import { storedFields, type StoredEntry } from '../core/chain.js';
import { isOverdue } from '../core/dispositions.js';
import type { TallyReading } from '../core/detector.js';
import type { HistoryEntry, SymptomSnapshot } from '../core/history.js';
import { parseSeen, serializeSeen, type SeenRecord } from '../core/seen.js';
import { NC_STATES, type NcState, type Nonconformity, type SimilarSymptom, type Symptom, type SymptomState } from '../core/types.js';
import {
  checkKey,
  decodeCursor,
  encodeCursor,
  ncClass,
  ncListing,
  ncIndexes,
  ncStats,
  symptomIndex,
  symptomIndexes,
  TALLY_SAMPLE,
  timelineRecord,
  type CommitGroup,
  type CommitResult,
  type LoadedSymptom,
  type NcFilter,
  type NcListing,
  type NcPosition,
  type NcStat,
  type Page,
  type PageRequest,
  type Register,
  type SymptomFilter,
  type TallyQuery,
  type TimelineRecord,
} from '../register.js';
import { LuaScript } from './scripts.js';

const commitScript = new LuaScript('commit-4');
const countNcScript = new LuaScript('count-nc-2');
const pageScript = new LuaScript('page-2');
const listUnlistedScript = new LuaScript('list-unlisted-2');

export class RedisKeys {
  constructor(readonly prefix: string) {}
  symptom(fingerprint: string): string {
    return `${this.prefix}:sym:${fingerprint}`;
  }
  /** An event's status as versions before the per-symptom record kept it, one key per event. */
  seen(key: string): string {
    return `${this.prefix}:seen:${key}`;
  }
  /** What was seen of a symptom's latest source events, for telling duplicates. */
  dedupe(fingerprint: string): string {
    return `${this.prefix}:dedupe:${fingerprint}`;
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
  /** The version of the register's layout, for upgrade(). */
  get schema(): string {
    return `${this.prefix}:schema`;
  }
  /** Set while events seen by an earlier version may still be kept one key each. */
  get legacySeen(): string {
    return `${this.prefix}:legacy-seen`;
  }
  /** Count of NCs per class (register.ts ncClass), kept by the commits. */
  get ncStats(): string {
    return `${this.prefix}:ncstats`;
  }
  /** The symptoms' sequence numbers, their score in the list indexes. */
  get symptomSequence(): string {
    return `${this.prefix}:symseq`;
  }
  /** Set once every record written before the list indexes were kept has been listed. */
  get listsComplete(): string {
    return `${this.prefix}:lists:complete`;
  }
  /** Set once every NC written before the counts were kept has been counted. */
  get ncStatsComplete(): string {
    return `${this.prefix}:ncstats:complete`;
  }
  get allNcs(): string {
    return `${this.prefix}:ncs`;
  }
  /** Every NC by when it last changed (updatedAt): what a period's review reads. */
  get ncsByUpdate(): string {
    return `${this.prefix}:ncs:updated`;
  }
  /** Set once every NC written before ncsByUpdate was kept is in it. */
  get ncsByUpdateComplete(): string {
    return `${this.prefix}:ncs:updated:complete`;
  }
  /** Symptoms of one check across assets, by when each last failed. */
  elsewhere(checkKey: string): string {
    return `${this.prefix}:elsewhere:${checkKey}`;
  }
  tally(key: string): string {
    return `${this.prefix}:tally:${key}`;
  }
  /** NCs overdue now, by openedAt: kept by the commits. */
  get overdueNcs(): string {
    return `${this.prefix}:ncs:overdue`;
  }
  ncsBy(field: 'state' | 'family' | 'control', value: string): string {
    return `${this.prefix}:ncs:${field}:${value}`;
  }
}

/**
 * A symptom remembers its latest source events (by `source`+`id`) for telling duplicates: up to
 * DEDUPE_CAP, trimmed to the newest DEDUPE_KEEP when full, so its memory follows the symptom, not
 * its alerts. Redeliveries come soon after; an old event sent again is decided by its event time.
 */
const DEDUPE_CAP = 16;
/** How many NC ids a listing reads at a time. */
const LIST_CHUNK = 500;
/** The register's layout: 2 since seen events, tallies and the gauges' counts were kept per symptom, check and class. */
const SCHEMA = '2';
const DEDUPE_KEEP = 8;

/** An event's key within one symptom's record: 48 bits keep a few dozen events apart. */
function dedupeField(key: string): string {
  return key.slice(0, 12);
}

/** What a record written before the history was counted on it means: no history. */
const NO_HISTORY: Pick<Symptom, 'historyCount' | 'historyFirstAt' | 'historyLastAt'> = { historyCount: 0, historyFirstAt: null, historyLastAt: null };

/**
 * How a group's history is written (commit-4.lua): `hm` 'r' replaces the history `h` and the state
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

/**
 * Where a symptom is listed among the symptoms of its check across assets (`ck`), by the time it
 * last failed (`lf`): a symptom that has fired, and is not an aggregate of such symptoms. `x` is
 * what "elsewhere" shows of it, kept beside its record so that listing it parses no record.
 */
function elsewhereIndex(symptom: Symptom | null): { ck: string; lf: string; x: string } {
  if (symptom === null || symptom.aggregate !== null || symptom.check === '' || symptom.episode === 0) return { ck: '', lf: '', x: '' };
  return { ck: checkKey(symptom), lf: String(symptom.lastFiringAt), x: JSON.stringify([symptom.asset, symptom.state, symptom.lastFiringAt]) };
}

/** The symptom's record without its history, which is kept in fields of its own (not a copy: see load). */
function symptomDocument(symptom: Symptom): string {
  // A copy without them, rather than a replacer function, which takes JSON.stringify off its fast path.
  const { history, before, ...record } = symptom;
  return JSON.stringify(record);
}

/** An NC's document, with where else its failure was found (kept in a field of its own). */
function parseNc(raw: string | null, elsewhere: string | null = null): Nonconformity | null {
  if (raw === null) return null;
  const nc = JSON.parse(raw) as Nonconformity;
  nc.elsewhereCount ??= 0;
  nc.timelineHead ??= null;
  nc.voided ??= null;
  nc.riskAcceptance ??= null;
  nc.overdueSince ??= null;
  // Written before the NC kept its own: the corrective action's were the current ones.
  nc.owner ??= nc.correctiveAction?.owner ?? null;
  nc.dueDate ??= nc.correctiveAction?.dueDate ?? null;
  nc.comments ??= 0;
  nc.attachments ??= 0;
  if (elsewhere === null) return nc;
  // Kept as the list alone before the count was.
  const noted = JSON.parse(elsewhere) as SimilarSymptom[] | { count: number; symptoms: SimilarSymptom[] };
  if (Array.isArray(noted)) return { ...nc, elsewhere: noted, elsewhereCount: noted.length };
  return { ...nc, elsewhere: noted.symptoms, elsewhereCount: noted.count };
}

export class RedisRegister implements Register {
  readonly keys: RedisKeys;
  /** Whether events may still be remembered under the key per event of an earlier version (see upgrade). */
  private legacySeen = false;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly seenTtlMs: number,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async load(
    fingerprints: string[],
    seenKeys: ReadonlyMap<string, string[]> = new Map(),
    readHistory: ReadonlySet<string> = new Set(),
  ): Promise<{ symptoms: Map<string, LoadedSymptom>; seen: Map<string, SeenRecord> }> {
    const pipeline = this.redis.pipeline();
    // The history is read only for a decision that needs it: it is most of a busy symptom's bytes.
    for (const key of fingerprints) pipeline.hmget(this.keys.symptom(key), 'v', 'd', ...(readHistory.has(key) ? ['h', 'b'] : []));
    const asked: string[] = [];
    for (const key of fingerprints) {
      const keys = seenKeys.get(key) ?? [];
      if (keys.length === 0) continue;
      pipeline.hmget(this.keys.dedupe(key), ...keys.map(dedupeField));
      asked.push(...keys);
    }
    // For as long as a register written by an earlier version may hold them: its key per event.
    if (this.legacySeen) for (const key of asked) pipeline.get(this.keys.seen(key));
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
    const stored: Array<string | null> = [];
    let reply = fingerprints.length;
    for (const key of fingerprints) {
      if ((seenKeys.get(key) ?? []).length === 0) continue;
      const [error, values] = replies[reply++] ?? [null, []];
      if (error) throw error;
      stored.push(...(values as Array<string | null>));
    }
    asked.forEach((key, index) => {
      const [error, legacy] = this.legacySeen ? (replies[reply + index] ?? [null, null]) : [null, null];
      if (error) throw error;
      const record = parseSeen(stored[index]?.replace(/^\d+:/, '') ?? (legacy as string | null));
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
    const argument = (document: string): number => documents.push(document) + 5;
    const payload = groups.map((group) => ({
      f: group.fingerprint,
      v: group.expectVersion,
      s: group.symptom === null ? 0 : argument(symptomDocument(group.symptom)),
      ix: group.symptom === null ? '' : symptomIndexes(group.symptom).join(' '),
      ...historyWrite(group, argument),
      ...elsewhereIndex(group.symptom),
      fg: group.forget ? 1 : 0,
      ty: group.tallies.map((tally) => [tally.key, tally.member, String(tally.at), String(tally.floor), String(tally.keepFor)]),
      due: group.due === null ? '' : String(group.due),
      seen: group.seen.map(([key, record]) => [dedupeField(key), serializeSeen(record)]),
      ncs: group.ncs.map(({ nc, timeline, expectHead }) => ({
        id: nc.id,
        ph: expectHead ?? '',
        th: nc.timelineHead ?? '',
        d: argument(JSON.stringify(nc)),
        st: nc.state,
        k: ncClass(nc),
        od: isOverdue(nc) ? 1 : 0,
        fam: nc.family,
        ctl: nc.control ?? '',
        at: String(nc.openedAt),
        up: String(nc.updatedAt),
        yr: String(new Date(nc.openedAt).getUTCFullYear()),
        ix: ncIndexes(nc).join(' '),
        tl: timeline.map((entry) => {
          const fields = storedFields(entry);
          return { at: fields.at, type: fields.type, ev: fields.event, dt: fields.detail, pv: fields.prev, hs: fields.hash };
        }),
      })),
    }));
    const [conflicts, created] = (await commitScript.run(
      this.redis,
      [this.keys.due, this.keys.events, this.keys.allNcs, this.keys.ncStats],
      [this.keys.prefix, JSON.stringify(payload), this.seenTtlMs, DEDUPE_CAP, DEDUPE_KEEP, ...documents],
    )) as [string[], string[]];
    const createdIds = new Map<string, string>();
    for (let index = 0; index + 1 < created.length; index += 2) createdIds.set(created[index] as string, created[index + 1] as string);
    return { conflicts, created: createdIds };
  }

  async getNc(id: string): Promise<Nonconformity | null> {
    const [document, elsewhere] = await this.redis.hmget(this.keys.nc(id), 'd', 'e');
    return parseNc(document ?? null, elsewhere ?? null);
  }

  async similarSymptoms(symptom: Symptom, limit: number): Promise<{ similar: SimilarSymptom[]; count: number }> {
    const index = this.keys.elsewhere(checkKey(symptom));
    // The latest to fail first, one more than asked in case the symptom itself is among them.
    const [[rangeError, latest], [countError, count]] = ((await this.redis.multi().zrevrange(index, 0, limit).zcard(index).exec()) ?? []) as [[Error | null, string[]], [Error | null, number]];
    if (rangeError) throw rangeError;
    if (countError) throw countError;
    const fingerprints = latest.filter((key) => key !== symptom.fingerprint).slice(0, limit);
    const others = count - (latest.includes(symptom.fingerprint) ? 1 : 0);
    if (fingerprints.length === 0) return { similar: [], count: Math.max(0, others) };
    const shown = await this.hashFields(fingerprints, 'x');
    // A symptom written before `x` was kept is read whole, once: its next write adds `x`.
    const unshown = fingerprints.filter((_key, index) => shown[index] === null);
    const documents = new Map(unshown.length === 0 ? [] : (await this.hashFields(unshown, 'd')).map((document, index) => [unshown[index] as string, document]));
    const similar: SimilarSymptom[] = [];
    fingerprints.forEach((fingerprint, index) => {
      const copy = shown[index] ?? null;
      const document = documents.get(fingerprint) ?? null;
      if (copy !== null) {
        const [asset, state, lastFiringAt] = JSON.parse(copy) as [string, SymptomState, number];
        similar.push({ fingerprint, asset, state, lastFiringAt });
      } else if (document !== null) {
        const other = JSON.parse(document) as Symptom;
        similar.push({ fingerprint, asset: other.asset, state: other.state, lastFiringAt: other.lastFiringAt });
      }
    });
    return { similar, count: Math.max(0, others) };
  }

  /** One field of each symptom's hash, null where it has none. */
  private async hashFields(fingerprints: string[], field: string): Promise<Array<string | null>> {
    const pipeline = this.redis.pipeline();
    for (const key of fingerprints) pipeline.hget(this.keys.symptom(key), field);
    return ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as string | null;
    });
  }

  async noteElsewhere(ncId: string, similar: SimilarSymptom[], count: number): Promise<void> {
    await this.redis.hset(this.keys.nc(ncId), 'e', JSON.stringify({ count, symptoms: similar }));
  }

  async readTallies(queries: TallyQuery[]): Promise<Map<string, TallyReading>> {
    const pipeline = this.redis.pipeline();
    for (const query of queries) {
      const key = this.keys.tally(query.key);
      pipeline.zcount(key, `(${query.floor}`, '+inf');
      pipeline.zcount(key, query.since === null ? '+inf' : `(${Math.max(query.floor, query.since)}`, '+inf');
      pipeline.zrangebyscore(key, `(${query.floor}`, '+inf', 'LIMIT', 0, TALLY_SAMPLE);
    }
    const replies = (await pipeline.exec()) ?? [];
    const readings = new Map<string, TallyReading>();
    queries.forEach((query, index) => {
      const [count, countSince, sample] = replies.slice(index * 3, index * 3 + 3).map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [number, number, string[]];
      readings.set(query.key, { count, countSince: query.since === null ? 0 : countSince, sample });
    });
    return readings;
  }

  async listNcs(filter: NcFilter): Promise<Nonconformity[]> {
    const index =
      filter.overdue === true
        ? this.keys.overdueNcs
        : filter.state !== undefined
        ? this.keys.ncsBy('state', filter.state)
        : filter.control !== undefined
          ? this.keys.ncsBy('control', filter.control)
          : filter.family !== undefined
            ? this.keys.ncsBy('family', filter.family)
            : this.keys.allNcs;
    const result: Nonconformity[] = [];
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    let position = filter.after ?? null;
    while (result.length < limit) {
      const chunk = await this.ncIdsAfter(index, position, filter.since ?? null);
      const last = chunk.at(-1);
      if (last === undefined) break;
      position = last;
      const pipeline = this.redis.pipeline();
      for (const { id } of chunk) pipeline.hmget(this.keys.nc(id), 'd', 'e');
      for (const [error, value] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        const [document, elsewhere] = value as [string | null, string | null];
        const nc = parseNc(document, elsewhere);
        if (
          nc !== null &&
          (filter.state === undefined || nc.state === filter.state) &&
          (filter.family === undefined || nc.family === filter.family) &&
          (filter.control === undefined || nc.control === filter.control) &&
          (filter.overdue === undefined || isOverdue(nc) === filter.overdue) &&
          result.length < limit
        ) {
          result.push(nc);
        }
      }
    }
    return result;
  }

  async pageNcs(filter: Omit<NcFilter, 'limit'>, page: PageRequest): Promise<Page<Nonconformity>> {
    const { members, count, nextCursor } = await this.page(ncListing(filter), page, filter.since);
    const pipeline = this.redis.pipeline();
    for (const id of members) pipeline.hmget(this.keys.nc(id), 'd', 'e');
    const items: Nonconformity[] = [];
    for (const [error, value] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const [document, elsewhere] = value as [string | null, string | null];
      const nc = parseNc(document, elsewhere);
      if (nc !== null) items.push(nc);
    }
    return { items, count, nextCursor };
  }

  async pageSymptoms(filter: SymptomFilter, page: PageRequest): Promise<Page<Symptom>> {
    const index = symptomIndex(filter);
    const { members, count, nextCursor } = await this.page({ index, narrowing: '', list: index }, page);
    const items: Symptom[] = [];
    (await this.hashFields(members, 'd')).forEach((document) => {
      if (document === null) return;
      const symptom = JSON.parse(document) as Symptom;
      symptom.history = [];
      symptom.before = null;
      items.push(symptom);
    });
    return { items, count, nextCursor };
  }

  /** One page of an index, narrowed as the listing says (page-2.lua), and the cursor after it. */
  private async page(
    { index, narrowing, list }: Pick<NcListing, 'index' | 'narrowing' | 'list'>,
    page: PageRequest,
    since?: number,
  ): Promise<{ members: string[]; count: number; nextCursor: string | null }> {
    const after = page.cursor === undefined ? null : decodeCursor(list, page.cursor);
    const [count, read] = (await pageScript.run(
      this.redis,
      [`${this.keys.prefix}:${index}`, this.keys.overdueNcs],
      [after?.score ?? '', after?.member ?? '', page.limit, since === undefined ? '-inf' : since, narrowing],
    )) as [number, string[]];
    const members: string[] = [];
    for (let at = 0; at + 1 < read.length && members.length < page.limit; at += 2) members.push(read[at] as string);
    const last = members.length * 2 - 2;
    const more = read.length > page.limit * 2;
    return { members, count, nextCursor: more && last >= 0 ? encodeCursor(list, { score: read[last + 1] as string, member: read[last] as string }) : null };
  }

  /**
   * The next ids of an NC index in the listing's order (opened latest first, then id descending,
   * as Redis orders equal scores), after `position`: at most LIST_CHUNK, so that a listing of a
   * large register never holds all its ids.
   */
  private async ncIdsAfter(index: string, position: NcPosition | null, since: number | null): Promise<NcPosition[]> {
    const read = async (max: string, min: string, count: number | null): Promise<NcPosition[]> => {
      const reply = count === null ? await this.redis.zrevrangebyscore(index, max, min, 'WITHSCORES') : await this.redis.zrevrangebyscore(index, max, min, 'WITHSCORES', 'LIMIT', 0, count);
      const positions: NcPosition[] = [];
      for (let at = 0; at + 1 < reply.length; at += 2) positions.push({ id: reply[at] as string, openedAt: Number(reply[at + 1]) });
      return positions;
    };
    const min = since === null ? '-inf' : String(since);
    if (position === null) return read('+inf', min, LIST_CHUNK);
    // NCs opened in the same millisecond as the position and listed after it; few, so read whole.
    const tied = since !== null && position.openedAt < since ? [] : (await read(String(position.openedAt), String(position.openedAt), null)).filter(({ id }) => id < position.id).slice(0, LIST_CHUNK);
    if (tied.length === LIST_CHUNK) return tied;
    return [...tied, ...(await read(`(${position.openedAt}`, min, LIST_CHUNK - tied.length))];
  }

  async timeline(id: string): Promise<TimelineRecord[]> {
    return (await this.storedTimeline(id)).map(timelineRecord);
  }

  async storedTimeline(id: string): Promise<StoredEntry[]> {
    const entries = await this.redis.xrange(this.keys.timeline(id), '-', '+');
    return entries.map(([entryId, fields]) => {
      const record: Record<string, string> = {};
      for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index] as string] = fields[index + 1] as string;
      return { id: entryId, fields: record };
    });
  }

  async dueSymptoms(upTo: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.due, '-inf', upTo, 'LIMIT', 0, limit);
  }

  async ncStats(): Promise<NcStat[]> {
    const counts = await this.redis.hgetall(this.keys.ncStats);
    return ncStats(Object.entries(counts).map(([key, count]) => [key, Number(count)]));
  }

  /**
   * Brings a register written by an earlier version up to this one, once, before the daemon
   * decides anything: its NCs counted for the gauges, its unbounded per-check sets of symptoms
   * dropped (the index by last failure fills as they fire), and its key per seen event read as
   * well for as long as such keys may live (`dedupeFor`).
   */
  async upgrade(): Promise<{ counted: number; listed: number; updated: number }> {
    if ((await this.redis.get(this.keys.schema)) !== SCHEMA) {
      const earlier = (await this.redis.exists(this.keys.allNcs, this.keys.due)) > 0;
      if (earlier) {
        await this.redis.set(this.keys.legacySeen, '1', 'PX', this.seenTtlMs);
        let cursor = '0';
        do {
          const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.keys.prefix.replace(/[{}[\]*?\\]/g, '\\$&')}:similar:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await this.redis.unlink(...keys);
        } while (cursor !== '0');
      }
      await this.redis.set(this.keys.schema, SCHEMA);
    }
    this.legacySeen = (await this.redis.exists(this.keys.legacySeen)) === 1;
    return { counted: await this.countUncountedNcs(), listed: await this.listUnlisted(), updated: await this.indexUpdates() };
  }

  /** Every NC id of the register, a scan's batch at a time: for the upgrades, which visit them all once. */
  private async eachNcBatch(visit: (ids: string[]) => Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const [next, scanned] = await this.redis.zscan(this.keys.allNcs, cursor, 'COUNT', 500);
      cursor = next;
      const ids = scanned.filter((_, index) => index % 2 === 0);
      if (ids.length > 0) await visit(ids);
    } while (cursor !== '0');
  }

  /**
   * Puts the NCs written before the commits kept ncsByUpdate into it, once. GT keeps the later
   * time where a commit wrote the NC meanwhile.
   */
  async indexUpdates(): Promise<number> {
    if ((await this.redis.exists(this.keys.ncsByUpdateComplete)) === 1) return 0;
    let indexed = 0;
    await this.eachNcBatch(async (ids) => {
      const scored = (await this.fieldsOf(ids.map((id) => this.keys.nc(id)), ['d'])).flatMap(([document = null], index) => {
        const nc = parseNc(document);
        return nc === null ? [] : [nc.updatedAt, ids[index] as string];
      });
      if (scored.length > 0) indexed += await this.redis.zadd(this.keys.ncsByUpdate, 'GT', ...scored);
    });
    await this.redis.set(this.keys.ncsByUpdateComplete, '1');
    return indexed;
  }

  async ncsTouchedSince(since: number, openedBefore: number): Promise<string[] | null> {
    if ((await this.redis.exists(this.keys.ncsByUpdateComplete)) === 0) return null;
    const touched = await this.redis.zrangebyscore(this.keys.ncsByUpdate, since, '+inf');
    const ids: string[] = [];
    for (let at = 0; at < touched.length; at += LIST_CHUNK) {
      const chunk = touched.slice(at, at + LIST_CHUNK);
      const opened = await this.redis.zmscore(this.keys.allNcs, ...chunk);
      chunk.forEach((id, index) => {
        const openedAt = opened[index];
        if (openedAt !== null && openedAt !== undefined && Number(openedAt) < openedBefore) ids.push(id);
      });
    }
    return ids;
  }

  /**
   * Puts the symptoms and NCs written before the list indexes were kept into them, once (as
   * list-unlisted-2.lua decides, a record a commit lists meanwhile is listed once either way), so
   * that lists and their counts cover an upgraded register whole.
   */
  async listUnlisted(): Promise<number> {
    if ((await this.redis.exists(this.keys.listsComplete)) === 1) return 0;
    const keys = [this.keys.symptomSequence, this.keys.listsComplete];
    let listed = 0;
    const list = async (records: Array<{ key: string; member: string; indexes: string[]; score: string }>): Promise<void> => {
      if (records.length === 0) return;
      const args = records.flatMap(({ key, member, indexes, score }) => [key, member, indexes.join(' '), score]);
      listed += Number(await listUnlistedScript.run(this.redis, keys, [this.keys.prefix, '', ...args]));
    };
    await this.eachNcBatch(async (ids) => {
      const replies = await this.fieldsOf(ids.map((id) => this.keys.nc(id)), ['d', 'ix']);
      await list(
        ids.flatMap((id, index) => {
          const [document = null, indexes = null] = replies[index] ?? [];
          const nc = indexes === null ? parseNc(document) : null;
          return nc === null ? [] : [{ key: this.keys.nc(id), member: id, indexes: ncIndexes(nc), score: String(nc.openedAt) }];
        }),
      );
    });
    const symptomKeys = `${this.keys.prefix.replace(/[{}[\]*?\\]/g, '\\$&')}:sym:*`;
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', symptomKeys, 'COUNT', 500);
      cursor = next;
      const replies = await this.fieldsOf(found, ['d', 'ix']);
      await list(
        found.flatMap((key, index) => {
          const [document = null, indexes = null] = replies[index] ?? [];
          if (document === null || indexes !== null) return [];
          const symptom = JSON.parse(document) as Symptom;
          return [{ key, member: key.slice(`${this.keys.prefix}:sym:`.length), indexes: symptomIndexes(symptom), score: '' }];
        }),
      );
    } while (cursor !== '0');
    await listUnlistedScript.run(this.redis, keys, [this.keys.prefix, 'complete']);
    return listed;
  }

  /** Some fields of each hash, in one round trip. */
  private async fieldsOf(keys: string[], fields: string[]): Promise<Array<Array<string | null>>> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hmget(key, ...fields);
    return ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as Array<string | null>;
    });
  }

  /**
   * Counts the NCs written before the commits kept the counts, once: each NC without its class
   * is counted now (count-nc-2.lua), and a commit racing with this counts it only once either way.
   */
  async countUncountedNcs(): Promise<number> {
    if ((await this.redis.exists(this.keys.ncStatsComplete)) === 1) return 0;
    let counted = 0;
    await this.eachNcBatch(async (ids) => {
      const replies = await this.fieldsOf(ids.map((id) => this.keys.nc(id)), ['d', 'k']);
      const classes: string[] = [];
      ids.forEach((id, index) => {
        const [document = null, known = null] = replies[index] ?? [];
        const nc = parseNc(document);
        if (nc !== null && known === null) classes.push(id, ncClass(nc));
      });
      if (classes.length > 0) counted += Number(await countNcScript.run(this.redis, [this.keys.ncStats, this.keys.ncStatsComplete], [this.keys.prefix, '', ...classes]));
    });
    await countNcScript.run(this.redis, [this.keys.ncStats, this.keys.ncStatsComplete], [this.keys.prefix, 'complete']);
    return counted;
  }

  async countNcsByState(): Promise<Record<NcState, number>> {
    const pipeline = this.redis.pipeline();
    for (const state of NC_STATES) pipeline.zcard(this.keys.ncsBy('state', state));
    const replies = (await pipeline.exec()) ?? [];
    return Object.fromEntries(NC_STATES.map((state, index) => [state, Number(replies[index]?.[1] ?? 0)])) as Record<NcState, number>;
  }
}
