/**
 * The contract of a detector module: a config schema (part of the config schema) and a factory.
 * The Detector interface itself sits beside its consumer, in src/core/detector.ts.
 */
import { z } from 'zod';
import type { Detector } from '../src/core/detector.js';

export interface DetectorType<Schema extends z.ZodType> {
  type: string;
  schema: Schema;
  create(config: z.output<Schema>): Detector;
}

const pattern = z.string().min(1).describe('exact, or with * matching any run of characters');

/** Fields every detector's config has. */
export const detectorBase = {
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _')
    .describe('names the detector on the NCs it raises'),
  match: z
    .object({ source: pattern.optional(), family: pattern.optional(), check: pattern.optional(), control: pattern.optional(), labels: z.record(z.string(), pattern).optional() })
    .strict()
    .default({})
    .describe('which symptoms it watches: every given field must match; absent: all'),
};
