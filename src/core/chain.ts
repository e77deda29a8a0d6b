/**
 * The tamper-evident timeline: each entry of an NC's timeline carries the SHA-256 of its canonical
 * JSON, which includes the hash of the entry before it (a hash chain per NC), and the NC records
 * the hash of its latest entry (its head). Editing, inserting or removing a stored entry breaks the
 * chain at that entry; removing entries from the end leaves a head that no entry has.
 *
 * Canonical JSON (README, "Tamper-evident timeline"): object members sorted by key (UTF-16 code
 * units), members whose value is undefined left out, no whitespace, strings and numbers as
 * ECMAScript's JSON.stringify writes them, encoded in UTF-8 for hashing.
 */
import { hash } from 'node:crypto';
import type { NcDraft, TimelineDraft } from './lifecycle.js';
import type { Nonconformity } from './types.js';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // A Date (or anything with toJSON) is written as JSON.stringify would write it.
  const json = value as { toJSON?: () => unknown };
  if (typeof json.toJSON === 'function') return canonicalJson(json.toJSON());
  if (Array.isArray(value)) return `[${value.map((item: unknown) => (item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : canonicalJson(item))).join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/** What is hashed of an entry: its time, type, event, detail and the hash of the entry before it. */
export interface HashedFields {
  at: number;
  type: string;
  event: string | null;
  detail: Record<string, unknown>;
  /** The previous entry's hash; null for the first entry of the chain. */
  prev: string | null;
}

/** The canonical JSON text of what is hashed: `{"at":…,"detail":…,"event":…,"prev":…,"type":…}`. */
export function hashedText(fields: HashedFields): string {
  return canonicalJson({ at: fields.at, detail: fields.detail, event: fields.event, prev: fields.prev, type: fields.type });
}

export function entryHash(fields: HashedFields): string {
  return hash('sha256', hashedText(fields), 'hex');
}

export interface ChainedDraft extends TimelineDraft {
  prev: string | null;
  hash: string;
}

/** An NC as a commit writes it: its new entries chained onto the head it was read with. */
export interface SealedNc {
  nc: Nonconformity;
  timeline: ChainedDraft[];
  /** The head the NC had when it was read: the commit writes it only if it is still the head. */
  expectHead: string | null;
}

/**
 * Chains a decision's new entries onto the NC's head and moves the draft's head to the last of
 * them (in place: the draft is the decision's own copy, and an NC is written on most decisions).
 * Done once a decision is complete, so no later change to an entry's detail escapes its hash.
 */
export function sealNc(draft: NcDraft): SealedNc {
  const expectHead = draft.nc.timelineHead ?? null;
  let prev = expectHead;
  const timeline = draft.timeline.map((entry) => {
    const chained: ChainedDraft = { ...entry, prev, hash: entryHash({ ...entry, prev }) };
    prev = chained.hash;
    return chained;
  });
  draft.nc.timelineHead = prev;
  return { nc: draft.nc, timeline, expectHead };
}

/** An entry as a store keeps it: its id (stream id) and its fields as text. */
export interface StoredEntry {
  id: string;
  fields: Record<string, string>;
}

/**
 * The stored fields of a chained entry: `at` in decimal, `event` '' for none, `detail` in
 * canonical JSON, `prev` '' for the first entry, `hash` in lower-case hex.
 */
export function storedFields(entry: HashedFields & { hash: string }): Record<string, string> {
  return { at: String(entry.at), type: entry.type, event: entry.event ?? '', detail: canonicalJson(entry.detail), prev: entry.prev ?? '', hash: entry.hash };
}

export const CHAIN_FAILURE_REASONS = ['hash-mismatch', 'broken-link', 'malformed', 'head-mismatch'] as const;
export type ChainFailureReason = (typeof CHAIN_FAILURE_REASONS)[number];

export interface ChainFailure {
  /** Position of the entry in the timeline, from 0. */
  index: number;
  /** Its stream id; null when the NC records a head but its timeline has no entry. */
  entryId: string | null;
  /** Its time as stored (epoch ms), when it is a number. */
  at: number | null;
  reason: ChainFailureReason;
  message: string;
}

export interface ChainVerdict {
  holds: boolean;
  /** Entries in the timeline. */
  entries: number;
  /** Entries whose hash and link were recomputed. */
  checked: number;
  /** Index of the first chained entry: the entries before it were written before recurd chained them. */
  chainStartsAt: number;
  /** The hash of the last chained entry, null when none is chained. */
  head: string | null;
  /** The head the NC records. */
  recordedHead: string | null;
  failure: ChainFailure | null;
}

const FIELDS = ['at', 'type', 'event', 'detail', 'prev', 'hash'] as const;
const HEX_HASH = /^[0-9a-f]{64}$/;
const DECIMAL = /^(0|-?[1-9][0-9]*)$/;

/** The stored entry read as hashed fields, or what is wrong with it (a field missing or not in its canonical form). */
function readEntry(fields: Record<string, string>): HashedFields | string {
  for (const name of FIELDS) if (fields[name] === undefined) return `the field ${name} is missing`;
  const { at, type, event, detail, prev } = fields as Record<(typeof FIELDS)[number], string>;
  if (!DECIMAL.test(at) || !Number.isSafeInteger(Number(at))) return `the field at (${JSON.stringify(at)}) is not a time in epoch ms`;
  if (prev !== '' && !HEX_HASH.test(prev)) return `the field prev (${JSON.stringify(prev)}) is not a SHA-256 in hex`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    return 'the field detail is not JSON';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the field detail is not a JSON object';
  if (canonicalJson(parsed) !== detail) return 'the field detail is not in canonical JSON';
  return { at: Number(at), type, event: event === '' ? null : event, detail: parsed as Record<string, unknown>, prev: prev === '' ? null : prev };
}

/**
 * Recomputes an NC's chain from its stored entries. Entries before the first one with a hash were
 * written before recurd chained them ("no chain before entry N"); from there on, every entry must
 * link to the one before it (the first to nothing) and hash to what it says, and the last one's
 * hash must be the head the NC records.
 */
export function verifyChain(entries: StoredEntry[], recordedHead: string | null): ChainVerdict {
  const firstHashed = entries.findIndex((entry) => entry.fields.hash !== undefined);
  const chainStartsAt = firstHashed === -1 ? entries.length : firstHashed;
  let head: string | null = null;
  let checked = 0;
  const verdict = (failure: ChainFailure | null): ChainVerdict => ({ holds: failure === null, entries: entries.length, checked, chainStartsAt, head, recordedHead, failure });
  for (let index = chainStartsAt; index < entries.length; index++) {
    const entry = entries[index] as StoredEntry;
    const fail = (reason: ChainFailureReason, message: string): ChainVerdict => {
      const at = Number(entry.fields.at);
      return verdict({ index, entryId: entry.id, at: entry.fields.at !== undefined && DECIMAL.test(entry.fields.at) ? at : null, reason, message });
    };
    const fields = readEntry(entry.fields);
    if (typeof fields === 'string') return fail('malformed', fields);
    if (fields.prev !== head) {
      return fail('broken-link', head === null ? `it links to ${String(fields.prev)}, but it is the first entry of the chain` : `it links to ${fields.prev ?? 'nothing'}, but the entry before it has hash ${head}`);
    }
    const recomputed = entryHash(fields);
    if (recomputed !== entry.fields.hash) return fail('hash-mismatch', `its content hashes to ${recomputed}, but it records ${String(entry.fields.hash)}`);
    head = recomputed;
    checked++;
  }
  if (head !== recordedHead) {
    const last = Math.max(entries.length - 1, 0);
    const lastEntry = entries[last];
    return verdict({
      index: last,
      entryId: lastEntry?.id ?? null,
      at: lastEntry?.fields.at !== undefined && DECIMAL.test(lastEntry.fields.at) ? Number(lastEntry.fields.at) : null,
      reason: 'head-mismatch',
      message: `the NC records head ${recordedHead ?? 'none'}, but its timeline ends with ${head ?? 'no chained entry'}: entries were removed from its end, or the NC's record was edited`,
    });
  }
  return verdict(null);
}
