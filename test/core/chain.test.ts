/**
 * The timeline's hash chain (core/chain.ts): canonical JSON, what is hashed, and that verification
 * catches any edit of a stored entry at that entry.
 */
import { hash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, hashedText, sealNc, storedFields, verifyChain, type StoredEntry } from '../../src/core/chain.js';
import type { NcDraft, TimelineDraft } from '../../src/core/lifecycle.js';
import type { Nonconformity } from '../../src/core/types.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');

/** Only what sealing reads of an NC matters here: its head. */
function ncWithHead(head: string | null): Nonconformity {
  return { id: 'NC-2026-0001', timelineHead: head } as Nonconformity;
}

/** Entries sealed onto `head` and stored as the registers store them, with stream-like ids. */
function stored(entries: TimelineDraft[], head: string | null = null, from = 0): { entries: StoredEntry[]; head: string | null } {
  const sealed = sealNc({ nc: ncWithHead(head), timeline: entries } satisfies NcDraft);
  return { entries: sealed.timeline.map((entry, index) => ({ id: `${entry.at}-${from + index}`, fields: storedFields(entry) })), head: sealed.nc.timelineHead };
}

const entryArbitrary: fc.Arbitrary<TimelineDraft> = fc.record({
  at: fc.integer({ min: T0, max: T0 + 365 * 86_400_000 }),
  type: fc.constantFrom('raised', 'occurrence', 'reopened', 'corrective-action', 'window-started'),
  event: fc.constantFrom('nc.opened', 'nc.occurrence', 'nc.reopened', null),
  detail: fc.dictionary(fc.string(), fc.jsonValue()),
});

describe('canonical JSON', () => {
  it('sorts keys at every depth, leaves no whitespace and keeps non-ASCII text as it is', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, 'é ✓'], c: -0.5 }, 'A': 'x' })).toBe('{"A":"x","a":{"c":-0.5,"d":[true,null,"é ✓"]},"b":1}');
  });

  it('writes what JSON.stringify writes for members it drops or cannot represent', () => {
    expect(canonicalJson({ gone: undefined, n: Number.NaN, list: [undefined, 1e21], when: new Date(T0) })).toBe('{"list":[null,1e+21],"n":null,"when":"2026-03-01T08:00:00.000Z"}');
  });

  it('is the same text after a JSON round trip, and reads back as the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe('entry hash', () => {
  it('is the SHA-256 of the canonical JSON of at, detail, event, prev and type', () => {
    const fields = { at: T0, type: 'raised', event: 'nc.opened', detail: { reason: 'recurrence', episode: 2 }, prev: null };
    const text = '{"at":1772352000000,"detail":{"episode":2,"reason":"recurrence"},"event":"nc.opened","prev":null,"type":"raised"}';
    expect(hashedText(fields)).toBe(text);
    expect(entryHash(fields)).toBe(hash('sha256', Buffer.from(text, 'utf8'), 'hex'));
  });

  it('chains each entry onto the one before it, the first onto the head the NC had', () => {
    const { entries, head } = stored([
      { at: T0, type: 'raised', event: 'nc.opened', detail: {} },
      { at: T0 + 1, type: 'occurrence', event: null, detail: { n: 1 } },
    ], 'a'.repeat(64));
    expect(entries.map((entry) => entry.fields.prev)).toEqual(['a'.repeat(64), entries[0]?.fields.hash]);
    expect(head).toBe(entries[1]?.fields.hash);
  });
});

describe('verifyChain', () => {
  it('holds for any timeline written in several commits, and names its head', () => {
    fc.assert(
      fc.property(fc.array(fc.array(entryArbitrary, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), (commits) => {
        let head: string | null = null;
        const all: StoredEntry[] = [];
        for (const entries of commits) {
          const written = stored(entries, head, all.length);
          all.push(...written.entries);
          head = written.head;
        }
        expect(verifyChain(all, head)).toEqual({ holds: true, entries: all.length, checked: all.length, chainStartsAt: 0, head, recordedHead: head, failure: null });
      }),
    );
  });

  it('catches any single-field edit of any entry, at that entry', () => {
    const fieldArbitrary = fc.constantFrom('at', 'type', 'event', 'detail', 'prev', 'hash');
    fc.assert(
      fc.property(fc.array(entryArbitrary, { minLength: 1, maxLength: 6 }), fc.nat(), fieldArbitrary, fc.oneof(fc.string(), fc.integer().map(String), fc.json()), (entries, pick, field, value) => {
        const written = stored(entries);
        const index = pick % written.entries.length;
        const target = written.entries[index] as StoredEntry;
        fc.pre(target.fields[field] !== value);
        target.fields[field] = value;
        const verdict = verifyChain(written.entries, written.head);
        expect(verdict.holds).toBe(false);
        expect(verdict.failure).toMatchObject({ index, entryId: target.id });
        expect(verdict.checked).toBe(index);
      }),
      { numRuns: 500 },
    );
  });

  it('says which entry fails and why: hash mismatch, broken link, malformed field, head', () => {
    const entries: TimelineDraft[] = [0, 1, 2].map((n) => ({ at: T0 + n, type: 'occurrence', event: null, detail: { n } }));
    const edited = stored(entries);
    (edited.entries[1] as StoredEntry).fields.detail = '{"n":7}';
    expect(verifyChain(edited.entries, edited.head).failure).toMatchObject({ index: 1, entryId: `${T0 + 1}-1`, at: T0 + 1, reason: 'hash-mismatch' });

    const removed = stored(entries);
    removed.entries.splice(1, 1);
    expect(verifyChain(removed.entries, removed.head).failure).toMatchObject({ index: 1, entryId: `${T0 + 2}-2`, reason: 'broken-link' });

    const reordered = stored(entries);
    (reordered.entries[2] as StoredEntry).fields.detail = '{ "n": 2 }';
    expect(verifyChain(reordered.entries, reordered.head).failure).toMatchObject({ index: 2, reason: 'malformed', message: 'the field detail is not in canonical JSON' });

    const truncated = stored(entries);
    truncated.entries.pop();
    expect(verifyChain(truncated.entries, truncated.head).failure).toMatchObject({ index: 1, entryId: `${T0 + 1}-1`, reason: 'head-mismatch' });
  });

  it('verifies entries written before the chain as "no chain before entry N"', () => {
    const legacy: StoredEntry[] = [0, 1].map((n) => ({ id: `${T0 + n}-${n}`, fields: { at: String(T0 + n), type: 'occurrence', detail: '{}' } }));
    expect(verifyChain(legacy, null)).toMatchObject({ holds: true, entries: 2, checked: 0, chainStartsAt: 2, head: null });

    const later = stored([{ at: T0 + 5, type: 'corrective-action', event: 'nc.corrective-action', detail: {} }], null, 2);
    const all = [...legacy, ...later.entries];
    expect(verifyChain(all, later.head)).toMatchObject({ holds: true, entries: 3, checked: 1, chainStartsAt: 2, head: later.head, failure: null });

    // An entry stripped of its hash after the chain started is not taken for an old one.
    const stripped = structuredClone(all);
    stripped.push(...stored([{ at: T0 + 6, type: 'occurrence', event: null, detail: {} }], later.head, 3).entries);
    delete (stripped[2] as StoredEntry).fields.hash;
    expect(verifyChain(stripped, null).failure).toMatchObject({ index: 3, reason: 'broken-link' });
  });
});
