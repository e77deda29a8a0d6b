/** What the preset tests share: fixtures, documents with one value replaced, and well-formedness. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IntakeResult } from '../../connectors/types.js';
import { webhookConnector } from '../../connectors/webhook.js';
import { canonicalAlertSchema } from '../../src/core/types.js';
import { syncIntake, testServices, type SyncIntake } from './connectors.js';

export type Json = Record<string, unknown>;

/** A file of test/fixtures, parsed. */
export function fixture(path: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')) as Json;
}

/** Values of every kind, JSON or not, for the parsers' properties. */
export const everything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withSparseArray: true,
});

/** Every path into a document, so that a property can replace what is there. */
export function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [at];
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item] as const) : Object.entries(value);
  return [at, ...entries.flatMap(([key, item]) => pathsOf(item, [...at, key]))];
}

/** A deep copy of a JSON document with the value at `path` replaced. */
export function replaced(document: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
  return copy;
}

/** What every intake owes any input: valid alerts, and errors that say where. */
export function expectWellFormed({ alerts, errors }: IntakeResult): void {
  for (const alert of alerts) expect(canonicalAlertSchema.safeParse(alert).success).toBe(true);
  for (const error of errors) expect(error.path).not.toBe('');
}

export function intake(name: string, preset: string, fields: Json = {}): SyncIntake {
  return syncIntake(
    webhookConnector.create(
      webhookConnector.schema.parse({ type: 'webhook', name, auth: { type: 'bearer', token: 't' }, preset, ...fields }),
      testServices(),
    ),
  );
}

/**
 * Properties every preset owes any input: arbitrary values, and real documents with any part
 * replaced, give valid alerts or errors with a path, never a crash.
 */
export function describeAnyInput(title: string, presets: readonly string[], documents: ReadonlyArray<readonly [string, Json]>, receivedAt: number): void {
  describe(`${title}: any input`, () => {
    const connectors = presets.map((preset) => intake(preset, preset));
    it('gives valid alerts or errors with a path, never a crash', () => {
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), everything), (body) => {
          for (const connector of connectors) expectWellFormed(connector.normalise(body, receivedAt));
        }),
        { numRuns: 300 },
      );
    });

    it('gives valid alerts or errors with a path whatever replaces any part of a real document', () => {
      for (const [preset, document] of documents) {
        const connector = intake(preset, preset);
        fc.assert(
          fc.property(fc.constantFrom(...pathsOf(document)), everything, (path, value) => {
            expectWellFormed(connector.normalise(replaced(document, path, value), receivedAt));
          }),
          { numRuns: 200 },
        );
      }
    });
  });
}
