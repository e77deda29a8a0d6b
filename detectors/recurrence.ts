/** `recurrence`: the core rule (src/core/recurrence.ts), with a match filter. */
import { z } from 'zod';
import { compileMatch } from '../src/core/match.js';
import { recurrence } from '../src/core/recurrence.js';
import { detectorBase, type DetectorType } from './types.js';

const schema = z
  .object({ type: z.literal('recurrence').describe('a fixed symptom firing again inside its effectiveness window'), ...detectorBase })
  .strict();

export const recurrenceDetector: DetectorType<typeof schema> = {
  type: 'recurrence',
  schema,
  create: (config) => recurrence(config.name, compileMatch(config.match)),
};
