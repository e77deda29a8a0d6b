/**
 * The generic JSON intake: any object or array, each alert's fields mapped to the canonical alert
 * by dotted paths in the config (see mapping.ts).
 */
import { z } from 'zod';
import { createMapper, dottedPath, mappingSchema } from './mapping.js';
import { connectorBase, intakeFields } from './types.js';
import type { ConnectorType } from './types.js';

const schema = z
  .object({
    type: z.literal('webhook').describe('any JSON object or array, mapped to canonical alerts by dotted paths'),
    ...connectorBase,
    ...intakeFields,
    items: dottedPath
      .optional()
      .describe('where the array of alerts is inside an object body (e.g. events); absent: the body is one alert, or an array of alerts'),
    mapping: mappingSchema,
  })
  .strict();

export const webhookConnector: ConnectorType<typeof schema> = {
  type: 'webhook',
  schema,
  create(config) {
    return {
      name: config.name,
      type: 'webhook',
      intake: { auth: config.auth, subroutes: false, normalise: createMapper(config, config.mapping, config.items) },
    };
  },
};
