/** Every detector type recurd knows: adding one is one module and one line here. */
import { z } from 'zod';
import type { Detector } from '../src/core/detector.js';
import { absenceDetector } from './absence.js';
import { chronicDetector } from './chronic.js';
import { flappingDetector } from './flapping.js';
import { recurrenceDetector } from './recurrence.js';
import { spreadDetector } from './spread.js';
import type { DetectorType } from './types.js';

/**
 * In the order they hear of a return: the first that claims it decides what it means, so
 * flapping comes before recurrence, which would otherwise count each cycle as a recurrence.
 */
const detectorTypes = [flappingDetector, recurrenceDetector, chronicDetector, absenceDetector, spreadDetector] as const;

type SchemasOf<Types> = { -readonly [K in keyof Types]: Types[K] extends { schema: infer Schema } ? Schema : never };

export const detectorConfigSchema = z.discriminatedUnion('type', detectorTypes.map((type) => type.schema) as unknown as SchemasOf<typeof detectorTypes>);
export type DetectorConfig = z.output<typeof detectorConfigSchema>;

export const DEFAULT_DETECTORS: Array<z.input<typeof detectorConfigSchema>> = [{ type: 'recurrence', name: 'recurrence' }];

export function createDetectors(configs: readonly DetectorConfig[]): Detector[] {
  const rank = (config: DetectorConfig): number => detectorTypes.findIndex((candidate) => candidate.type === config.type);
  return [...configs]
    .sort((a, b) => rank(a) - rank(b))
    .map((config) => (detectorTypes[rank(config)] as DetectorType<z.ZodType>).create(config));
}
