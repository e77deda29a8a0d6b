/**
 * A preset: a named mapping from one product's native format to the canonical alert, kept as
 * data so that an admin can read it, choose it with `preset:` and override it field by field.
 * `reshape` is for the few formats a dotted-path mapping cannot read as they are (a report whose
 * findings are keyed by file name, say): it turns one document into the items the mapping reads.
 * A fault the mapping cannot see (a field that carries JSON as text, say) is returned as a
 * `PayloadRejection`, so that it is named at its own path like any other.
 */
import { z } from 'zod';
import type { Family, Severity } from '../../src/core/types.js';
import type { Mapping } from '../mapping.js';
import type { PayloadError } from '../types.js';

/** What a reshape returns for a document it refuses before any mapping reads it. */
export class PayloadRejection {
  constructor(readonly errors: readonly PayloadError[]) {}
}

/** One document of the product in, the items the mapping reads out (or a PayloadRejection); `receivedAt`: the arrival. */
export type Reshape = (document: unknown, receivedAt: number) => unknown;

/**
 * Settings of a preset's own, which a connector gives under `options` (each optional: a connector
 * that sets none gets the preset's defaults), and the reshape they configure.
 */
export interface PresetOptions {
  shape: Readonly<Record<string, z.ZodType>>;
  /** Built once per connector, from its `options` as the connector's schema has validated them. */
  reshape: (options: Readonly<Record<string, unknown>>) => Reshape;
}

/** Options whose reshape is typed by their own schema. */
export function presetOptions<Shape extends Record<string, z.ZodType>>(
  shape: Shape,
  reshape: (options: z.output<z.ZodObject<Shape>>) => Reshape,
): PresetOptions {
  const schema = z.object(shape);
  return { shape, reshape: (options) => reshape(schema.parse(options)) };
}

export interface Preset {
  name: string;
  /** One line for the README and the JSON Schema: which product, which documents. */
  description: string;
  family: Family;
  control?: string;
  severity?: Severity;
  /** Where the items are inside a document, as in a connector's `items`. */
  items?: string;
  /**
   * `receivedAt`: the arrival, for a document that carries no time of its own. Returns the
   * document (or items) the mapping reads, or a PayloadRejection naming what does not fit.
   */
  reshape?: Reshape;
  /** A preset with settings of its own: its reshape comes from them (and `reshape` is not set). */
  options?: PresetOptions;
  mapping: Mapping;
}
