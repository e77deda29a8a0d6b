/**
 * The config fields of a connector that reads a product's native format through a preset, and
 * how its preset, its own defaults and its field-by-field overrides combine into one mapping.
 */
import { z } from 'zod';
import { FAMILIES, SEVERITIES, type Family } from '../../src/core/types.js';
import { createMapper, dottedPath, mappingOverridesSchema, mergeMapping, type Mapping, type MappingOverrides } from '../mapping.js';
import type { IntakeResult } from '../types.js';
import { findPreset, presets } from './index.js';
import { PayloadRejection } from './types.js';

const presetName = z
  .string()
  .refine((name) => findPreset(name) !== undefined, {
    error: (issue) => `there is no preset "${String(issue.input)}" (known: ${presets.map((preset) => preset.name).join(', ') || 'none'})`,
  })
  .describe('a named mapping of a product\'s native format; the fields of `mapping` override it one by one');

/**
 * Every preset's own settings in one object, so that the JSON Schema lists them; which preset
 * takes which is checked by checkPresetOptions. Names must differ between presets: a shared one
 * would be validated by the last preset's schema.
 */
const presetOptionsSchema = z
  .object(
    Object.fromEntries(
      presets.flatMap((preset) => Object.entries(preset.options?.shape ?? {}).map(([name, setting]) => [name, setting.optional()])),
    ),
  )
  .strict()
  .describe(`settings of the chosen preset's own (${presets.flatMap((preset) => Object.keys(preset.options?.shape ?? {}).map((name) => `${preset.name}: ${name}`)).join('; ')})`);

/** Spread into a connector's schema in place of a required family and mapping. */
export const presetFields = {
  preset: presetName.optional(),
  family: z.enum(FAMILIES).optional().describe("the family of its alerts where the payload does not say; absent: the preset's"),
  severity: z.enum(SEVERITIES).optional().describe("the severity where the payload does not say; absent: the preset's, else medium"),
  items: dottedPath
    .optional()
    .describe("where the array of alerts is inside a document; absent: the preset's, or the document is one alert or an array of them"),
  mapping: mappingOverridesSchema.optional(),
  options: presetOptionsSchema.optional(),
};

interface PresetConfig {
  name: string;
  preset?: string | undefined;
  family?: Family | undefined;
  control?: string | undefined;
  severity?: (typeof SEVERITIES)[number] | undefined;
  items?: string | undefined;
  mapping?: MappingOverrides | undefined;
  options?: Readonly<Record<string, unknown>> | undefined;
}

/** Checks, for a schema's superRefine, that each of `options` is a setting of the chosen preset. */
export function checkPresetOptions(config: Pick<PresetConfig, 'preset' | 'options'>, ctx: z.RefinementCtx): void {
  const preset = config.preset === undefined ? undefined : findPreset(config.preset);
  if (config.preset !== undefined && preset === undefined) return;
  const own = preset?.options?.shape ?? {};
  for (const name of Object.keys(config.options ?? {})) {
    if (Object.hasOwn(own, name)) continue;
    const owner = presets.find((candidate) => Object.hasOwn(candidate.options?.shape ?? {}, name));
    const message = preset === undefined ? `is a setting of the ${owner?.name ?? 'unknown'} preset: choose it with preset` : `is a setting of the ${owner?.name ?? 'unknown'} preset, not of ${preset.name}`;
    ctx.addIssue({ code: 'custom', path: ['options', name], message });
  }
}

/** Checks, for a schema's superRefine, that a preset or the mapping says everything required. */
export function checkPresetConfig(config: PresetConfig, ctx: z.RefinementCtx): void {
  const preset = config.preset === undefined ? undefined : findPreset(config.preset);
  if (config.preset !== undefined && preset === undefined) return;
  checkPresetOptions(config, ctx);
  const merged = mergeMapping(preset?.mapping ?? {}, config.mapping);
  for (const field of ['id', 'status'] as const) {
    if (merged[field] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mapping', field], message: 'is required (map it, or choose a preset that does)' });
    }
  }
  if (config.family === undefined && preset === undefined) {
    ctx.addIssue({ code: 'custom', path: ['family'], message: 'is required (set it, or choose a preset that does)' });
  }
}

/** One document of the product in, its alerts (or the failing paths) out. */
export function presetMapper(config: PresetConfig): (document: unknown, receivedAt: number) => IntakeResult {
  const preset = config.preset === undefined ? undefined : findPreset(config.preset);
  // checkPresetConfig has made sure id and status are mapped; the schema's type cannot say so.
  const mapping = mergeMapping(preset?.mapping ?? {}, config.mapping) as Mapping;
  const family = config.family ?? preset?.family;
  if (family === undefined) throw new Error(`${config.name}: no family (the config schema should have refused this)`);
  const map = createMapper(
    { name: config.name, family, control: config.control ?? preset?.control, severity: config.severity ?? preset?.severity ?? 'medium' },
    mapping,
    config.items ?? preset?.items,
  );
  const reshape = preset?.options === undefined ? preset?.reshape : preset.options.reshape(config.options ?? {});
  if (reshape === undefined) return map;
  return (document, receivedAt) => {
    const shaped = reshape(document, receivedAt);
    return shaped instanceof PayloadRejection ? { alerts: [], errors: [...shaped.errors] } : map(shaped, receivedAt);
  };
}
