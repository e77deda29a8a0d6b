/**
 * The README's YAML examples are what admins copy: each block that configures connectors,
 * detectors, fingerprints or notifiers must pass the config schema as it stands.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../src/config/schema.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SECTIONS = ['connectors', 'detectors', 'fingerprint', 'notifiers'];
const blocks = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((match) => match[1] ?? '')
  .filter((block) => SECTIONS.some((section) => block.startsWith(`${section}:`)));

describe('README examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recurd-readme-'));
  // The Elasticsearch example names a CA file; a PEM-shaped one stands in for it here.
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has examples to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it.each(blocks.map((block, index) => [index, block] as const))('block %i passes the config schema', (_index, block) => {
    // A secret that is a whole URL (a Slack or Teams webhook) comes from the environment as one.
    const filled = block
      .replace(/\$\{[A-Z0-9_]+_URL\}/g, 'https://hooks.example.org/secret-from-env')
      .replace(/\$\{[A-Z0-9_]+\}/g, 'secret-from-env')
      .replace('/etc/recurd/es-ca.pem', ca);
    const section = parse(filled) as Record<string, unknown>;
    const result = configSchema.safeParse({ redis: { url: 'redis://127.0.0.1:6379' }, api: { token: 't' }, ...section });
    expect(result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([]);
  });
});
