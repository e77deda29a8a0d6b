/** Every detector type recurd knows: adding one is one module and one line here. */
import { z } from 'zod';
import type { Detector } from '../src/core/detector.js';
import { absenceDetector } from './absence.js';
import { chronicDetector } from './chronic.js';
import { flappingDetector } from './flapping.js';
import { recurrenceDetector } from './recurrence.js';
import { spreadDetector } from './spread.js';
import type { DetectorType } from './types.js';

const detectorTypes = [recurrenceDetector, chronicDetector, flappingDetector, absenceDetector, spreadDetector] as const;

export const detectorConfigSchema = z.discriminatedUnion('type', [
  recurrenceDetector.schema,
  chronicDetector.schema,
  flappingDetector.schema,
  absenceDetector.schema,
  spreadDetector.schema,
]);
export type DetectorConfig = z.output<typeof detectorConfigSchema>;

export const DEFAULT_DETECTORS: Array<z.input<typeof detectorConfigSchema>> = [{ type: 'recurrence', name: 'recurrence' }];

/** Flapping first: it must claim a return before the recurrence detector counts it as one. */
export function createDetectors(configs: readonly DetectorConfig[]): Detector[] {
  const detectors = configs.map((config) => {
    const type = detectorTypes.find((candidate) => candidate.type === config.type) as DetectorType<z.ZodType>;
    return type.create(config);
  });
  return [...detectors.filter((detector) => detector.type === 'flapping'), ...detectors.filter((detector) => detector.type !== 'flapping')];
}
