/**
 * A preset: a named mapping from one product's native format to the canonical alert, kept as
 * data so that an admin can read it, choose it with `preset:` and override it field by field.
 * `reshape` is for the few formats a dotted-path mapping cannot read as they are (a report whose
 * findings are keyed by file name, say): it turns one document into the items the mapping reads.
 */
import type { Family, Severity } from '../../src/core/types.js';
import type { Mapping } from '../mapping.js';

export interface Preset {
  name: string;
  /** One line for the README and the JSON Schema: which product, which documents. */
  description: string;
  family: Family;
  control?: string;
  severity?: Severity;
  /** Where the items are inside a document, as in a connector's `items`. */
  items?: string;
  /** `receivedAt`: the arrival, for a document that carries no time of its own. */
  reshape?: (document: unknown, receivedAt: number) => unknown;
  mapping: Mapping;
}
