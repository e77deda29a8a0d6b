/**
 * The JSON Schema of the config file, for editors: `# yaml-language-server: $schema=./recurd.schema.json`.
 * It describes the file as written (zod's input side), before `${ENV}` interpolation.
 */
import { z } from 'zod';
import { byteSize, duration, secret } from './fields.js';
import { configSchema } from './schema.js';

type JsonSchema = z.core.JSONSchema.BaseSchema;

/** A `${VAR}` reference, which the loader fills in before the value is validated. */
const REFERENCE: JsonSchema = {
  type: 'string',
  pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}',
  description: 'filled from the environment when recurd loads the file',
};

/**
 * Field types whose own description (the format) a field's description would otherwise replace.
 * A transformed type carries it on its input side, described before the transform.
 */
const FORMATS = [duration, byteSize, secret].map((type) => ({
  def: type._zod.def,
  hint: type.description ?? (type instanceof z.ZodPipe ? type.in.description : undefined),
}));

/** The format hint of the shared field type under a field's optional/default wrappers. */
function formatHintOf(schema: z.core.$ZodType): string | undefined {
  for (let def: z.core.$ZodTypeDef | undefined = schema._zod.def; def !== undefined; ) {
    const format = FORMATS.find((candidate) => candidate.def === def);
    if (format !== undefined) return format.hint;
    def = 'innerType' in def ? (def.innerType as z.core.$ZodType)._zod.def : undefined;
  }
  return undefined;
}

function acceptsAnyString(schema: JsonSchema): boolean {
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return union.some(acceptsAnyString);
  return schema.type === 'string' && schema.pattern === undefined && schema.format === undefined && schema.enum === undefined && schema.const === undefined;
}

function isLeaf(schema: JsonSchema): boolean {
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return union.every(isLeaf);
  return ['string', 'number', 'integer', 'boolean'].includes(String(schema.type)) || schema.enum !== undefined;
}

/**
 * A value that rejects some strings (a number, an enum, a pattern) also accepts a `${VAR}`
 * reference, so that editors do not flag `port: ${RECURD_PORT}`. Discriminators (`const`) are
 * left alone: they pick the branch of a union, and nobody fills them from the environment.
 */
function allowReferences(schema: JsonSchema, alone = true): JsonSchema {
  const nested: JsonSchema = { ...schema };
  if (schema.properties) {
    nested.properties = Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, allowReferences(value as JsonSchema)]));
  }
  if (typeof schema.additionalProperties === 'object') nested.additionalProperties = allowReferences(schema.additionalProperties);
  if (schema.items !== undefined && !Array.isArray(schema.items)) nested.items = allowReferences(schema.items as JsonSchema);
  // A member of a union is not wrapped on its own: the union as a whole takes the reference.
  if (schema.anyOf) nested.anyOf = schema.anyOf.map((member) => allowReferences(member, false));
  if (schema.oneOf) nested.oneOf = schema.oneOf.map((member) => allowReferences(member, false));

  if (!alone || !isLeaf(schema) || schema.const !== undefined || acceptsAnyString(schema)) return nested;
  // Description and default stay outside the anyOf, where editors show them.
  const { description, default: fallback, ...value } = nested;
  return {
    ...(description === undefined ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }),
    anyOf: [value, REFERENCE],
  };
}

export function configJsonSchema(): object {
  const generated = z.toJSONSchema(configSchema, {
    // The file is the input side: durations and sizes as text, defaults as written.
    io: 'input',
    // The draft that the YAML language server and most editors implement.
    target: 'draft-07',
    override: ({ zodSchema, jsonSchema }) => {
      const hint = formatHintOf(zodSchema);
      if (hint !== undefined && jsonSchema.description !== undefined && jsonSchema.description !== hint) {
        jsonSchema.description = `${jsonSchema.description} — ${hint}`;
      }
    },
  });
  const { $schema, ...body } = allowReferences(generated);
  return {
    $schema,
    $id: 'urn:recurd:config',
    title: 'recurd configuration',
    description: 'The YAML config of recurd (config/recurd.yaml); `${VAR}` and `${VAR:-default}` are filled from the environment.',
    ...body,
  };
}
