import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { renderConfigJsonSchema } from '../../src/config/write-schema.js';

const SCHEMA_FILE = 'config/recurd.schema.json';

describe(SCHEMA_FILE, () => {
  it('is what configJsonSchema() renders', () => {
    const onDisk = existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, 'utf8') : '';
    expect(onDisk, `${SCHEMA_FILE} differs from configJsonSchema(): run \`npm run schema\``).toBe(renderConfigJsonSchema());
  });
});

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as { $id: string; title: string; properties: Record<string, { properties: Record<string, unknown> }> };

  it('names recurd', () => {
    expect(schema.$id).toBe('urn:recurd:config');
    expect(schema.title).toBe('recurd configuration');
  });

  it('shows durations and sizes as text, with the field and the format described', () => {
    expect(schema.properties.policy?.properties.window).toEqual({
      type: 'string',
      default: '30d',
      description: expect.stringMatching(/^default effectiveness window after a fix — a duration: /) as unknown,
    });
    expect(schema.properties.http?.properties.bodyLimit).toMatchObject({
      default: '1mb',
      description: expect.stringMatching(/^largest accepted request body — a size in bytes/) as unknown,
    });
  });

  it('lets a number or a pattern-checked value be written as a ${VAR} reference', () => {
    expect(schema.properties.http?.properties.port).toMatchObject({
      default: 8080,
      anyOf: [{ type: 'integer', minimum: 0, maximum: 65535 }, { type: 'string', pattern: expect.stringContaining('\\$\\{') as unknown }],
    });
  });
});
