/**
 * The generic JSON intake: any object or array, each alert's fields mapped to the canonical alert
 * by dotted paths in the config (see mapping.ts), or by a product's preset with overrides.
 */
import { z } from 'zod';
import { checkPresetConfig, presetFields, presetMapper } from './presets/resolve.js';
import { connectorBase, intakeFields } from './types.js';
import type { ConnectorType } from './types.js';

const schema = z
  .object({
    type: z.literal('webhook').describe('any JSON object or array, mapped to canonical alerts by dotted paths or a preset'),
    ...connectorBase,
    ...intakeFields,
    ...presetFields,
  })
  .strict()
  .superRefine(checkPresetConfig);

export const webhookConnector: ConnectorType<typeof schema> = {
  type: 'webhook',
  schema,
  create(config) {
    return {
      name: config.name,
      type: 'webhook',
      intake: { auth: config.auth, subroutes: false, partial: config.partial ?? false, normalise: presetMapper(config) },
    };
  },
};
