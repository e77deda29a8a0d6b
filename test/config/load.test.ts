import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, interpolate, loadConfig, policyFromConfig, resolveConfigPath } from '../../src/config/load.js';
import type { Env } from '../../src/config/load.js';

const EXAMPLE = 'config/recurd.example.yaml';
const EXAMPLE_ENV = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  RECURD_PORT: '8080',
  RECURD_API_TOKEN: 'api-token',
  RECURD_WEBHOOK_TOKEN: 'webhook-token',
};

/** The smallest valid config; tests append to it or replace lines of it. */
const MINIMAL = ['redis:', '  url: redis://127.0.0.1:6379', 'api:', '  token: secret'];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recurd-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(lines: readonly string[]): string {
  const path = join(dir, 'recurd.yaml');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function failure(path: string, env: Env = {}): ConfigError {
  try {
    loadConfig(path, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`${path} was expected not to load`);
}

describe('interpolate', () => {
  it('fills ${VAR}, as often as it appears', () => {
    expect(interpolate('${USER_NAME}@${HOST}:${HOST}', { USER_NAME: 'u', HOST: 'h' })).toBe('u@h:h');
  });

  it('falls back to the default when the variable is unset or empty, as a shell does', () => {
    expect(interpolate('${LEVEL:-info}', {})).toBe('info');
    expect(interpolate('${LEVEL:-info}', { LEVEL: '' })).toBe('info');
    expect(interpolate('${LEVEL:-info}', { LEVEL: 'debug' })).toBe('debug');
    expect(interpolate('${LEVEL:-}', {})).toBe('');
  });

  it('keeps a variable that is set to the empty string', () => {
    expect(interpolate('[${EMPTY}]', { EMPTY: '' })).toBe('[]');
  });

  it('reads $${ as a literal ${', () => {
    expect(interpolate('$${HOME} costs $$5', { HOME: '/root' })).toBe('${HOME} costs $$5');
    expect(interpolate('$${A}${A}', { A: 'x' })).toBe('${A}x');
  });

  it('names every variable that is not set', () => {
    expect(() => interpolate('${A}-${B:-b}-${C}', {})).toThrow('environment variable A is not set; environment variable C is not set');
  });

  it('rejects a ${ that starts no reference, and says how to write a literal one', () => {
    expect(() => interpolate('${1A}', {})).toThrow('"${1A}" is not a ${VAR} or ${VAR:-default} reference (write $${ for a literal ${)');
    expect(() => interpolate('cost ${A', { A: 'x' })).toThrow('"${A" is not');
  });
});

describe('loadConfig', () => {
  it('fills in the defaults of a minimal config', () => {
    const config = loadConfig(file(MINIMAL), {});
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, bodyLimit: 1024 * 1024, maxDepth: 64, maxItems: 10_000 });
    expect(config.policy).toMatchObject({ window: 30 * 86_400_000, resolveAfter: 7 * 86_400_000, skew: 300_000, lateRecurrence: 'link' });
    expect(config.pipeline).toEqual({ detectConcurrency: 8, processes: 1, dedupeFor: 35 * 86_400_000, shutdownTimeout: 30_000, stalledAfter: 30_000 });
    expect(config.redis.keyPrefix).toBe('{recurd}');
    expect(config.sweep.schedule).toBe('*/10 * * * * *');
    expect(config.connectors).toEqual([]);
  });

  it('interpolates string values after parsing, so a value cannot change the structure', () => {
    const token = 'x\nredis:\n  url: redis://evil:6379\n{ a: [1, 2] } # not a comment';
    const config = loadConfig(file(['redis:', '  url: ${REDIS_URL}', 'api:', '  token: ${TOKEN}']), {
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOKEN: token,
    });
    expect(config.api.token).toBe(token);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
  });

  it('leaves keys as written and interpolates quoted and block scalars alike', () => {
    const config = loadConfig(
      file([...MINIMAL, 'policy:', '  checks:', '    ${NOT_A_VARIABLE}:', '      window: "${WINDOW}"', '      resolveAfter: |-', '        ${QUIET:-2d}']),
      { WINDOW: '3d' },
    );
    expect(config.policy.checks).toEqual({ '${NOT_A_VARIABLE}': { window: 3 * 86_400_000, resolveAfter: 2 * 86_400_000 } });
  });

  it('accepts numbers that come from the environment as text', () => {
    const config = loadConfig(
      file([...MINIMAL, 'http:', '  port: ${PORT}', '  bodyLimit: ${BODY_LIMIT:-65536}', 'pipeline:', '  detectConcurrency: ${WORKERS:-4}', '  processes: ${PROCESSES}']),
      { PORT: '9090', PROCESSES: '3' },
    );
    expect(config.http.port).toBe(9090);
    expect(config.http.bodyLimit).toBe(65536);
    expect(config.pipeline.detectConcurrency).toBe(4);
    expect(config.pipeline.processes).toBe(3);
  });

  it('takes pipeline.processes as a count or auto, and names what else it got', () => {
    expect(loadConfig(file([...MINIMAL, 'pipeline:', '  processes: auto'])).pipeline.processes).toBe('auto');
    const error = failure(file([...MINIMAL, 'pipeline:', '  processes: all']));
    expect(error.issues.map((issue) => issue.path)).toEqual(['pipeline.processes']);
  });

  it('does not turn an empty number into 0', () => {
    const error = failure(file([...MINIMAL, 'http:', '  port: ${PORT:-}']));
    expect(error.issues).toEqual([{ path: 'http.port', line: 6, message: 'Invalid input: expected number, received string' }]);
  });

  it('names an unset variable with the YAML path and line that use it', () => {
    const error = failure(file(['redis:', '  url: ${REDIS_URL}', 'api:', '  token: ${RECURD_API_TOKEN}']), { REDIS_URL: 'redis://h' });
    expect(error.issues).toEqual([{ path: 'api.token', line: 4, message: 'environment variable RECURD_API_TOKEN is not set' }]);
    expect(error.message).toContain('api.token (line 4): environment variable RECURD_API_TOKEN is not set');
  });

  it('reports every unset variable, in sequences too, before validating anything', () => {
    const error = failure(file(['redis:', '  url: ${REDIS_URL}', 'api:', '  token: ${TOKEN}', 'fingerprint:', '  fields:', '    - family', '    - ${FIELD}']));
    expect(error.issues.map(({ path, line }) => ({ path, line }))).toEqual([
      { path: 'redis.url', line: 2 },
      { path: 'api.token', line: 4 },
      { path: 'fingerprint.fields[1]', line: 8 },
    ]);
  });

  it('names the YAML path and line of a value of the wrong type', () => {
    const error = failure(file([...MINIMAL, 'http:', '  port: eighty']));
    expect(error.issues).toEqual([{ path: 'http.port', line: 6, message: 'Invalid input: expected number, received string' }]);
  });

  it('gives a missing key the line of its parent, or no line when the file lacks the section', () => {
    const error = failure(file(['redis:', '  keyPrefix: "{r}"', 'http:', '  port: 80']));
    expect(error.issues).toEqual([
      { path: 'redis.url', line: 1, message: 'is required (string)' },
      { path: 'api', line: undefined, message: 'is required (object)' },
    ]);
  });

  it('reports an unknown key at its own path and line', () => {
    const error = failure(file([...MINIMAL, 'http:', '  prot: 80', 'policy:', '  families:', '    backups:', '      window: 1d']));
    expect(error.issues).toEqual([
      { path: 'http.prot', line: 6, message: 'unknown key' },
      { path: 'policy.families.backups', line: 9, message: 'unknown key' },
    ]);
  });

  it('reports a bad duration at its path, quoting the keys that contain dots', () => {
    const error = failure(
      file([...MINIMAL, 'policy:', '  families:', '    backup:', '      window: 30x', '  controls:', '    A.8.13: { resolveAfter: soon }']),
    );
    expect(error.issues).toEqual([
      { path: 'policy.families.backup.window', line: 8, message: '"30x" is not a duration (use e.g. 30d, 12h, 90s, 1h30m)' },
      { path: 'policy.controls["A.8.13"].resolveAfter', line: 10, message: '"soon" is not a duration (use e.g. 30d, 12h, 90s, 1h30m)' },
    ]);
  });

  it('reports a bad cron expression', () => {
    const error = failure(file([...MINIMAL, 'sweep:', '  schedule: "61 * * * *"']));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: 'sweep.schedule', line: 6 });
    expect(error.issues[0]?.message).toMatch(/^"61 \* \* \* \*" is not a cron expression \(minute: /);
  });

  it('reports a duplicate connector name at the second one', () => {
    const connector = (name: string): string[] => [
      `  - name: ${name}`,
      '    type: alertmanager',
      '    family: siem',
      '    auth: { type: bearer, token: "${HOOK_TOKEN}" }',
    ];
    const error = failure(file([...MINIMAL, 'connectors:', ...connector('am'), ...connector('am')]), { HOOK_TOKEN: 't' });
    expect(error.issues).toEqual([{ path: 'connectors[1].name', line: 10, message: '"am" is already the name of connectors[0]' }]);
  });

  it('lists every issue on its own line under the file name', () => {
    const path = file([...MINIMAL, 'http:', '  port: eighty', 'log:', '  level: loud', '  colour: true']);
    const error = failure(path);
    expect(error.code).toBe('RECURD_ERR_CONFIG_INVALID');
    expect(error.file).toBe(path);
    expect(error.message.split('\n')).toEqual([
      `${path}:`,
      '  http.port (line 6): Invalid input: expected number, received string',
      '  log.level (line 8): Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"',
      '  log.colour (line 9): unknown key',
    ]);
  });

  it('reports a YAML error with its line and column, a duplicate key included', () => {
    const error = failure(file([...MINIMAL, 'http:', '  port: 80', '  port: 81']));
    expect(error.issues).toEqual([{ path: '', line: 7, column: 3, message: 'Map keys must be unique' }]);
    expect(error.message).toContain('\n  line 7:3: Map keys must be unique');
  });

  it('explains that a ${VAR} inside a flow collection must be quoted', () => {
    const error = failure(file([...MINIMAL, 'connectors:', '  - { name: am, type: alertmanager, family: siem, auth: { type: bearer, token: ${T} } }']));
    expect(error.issues[0]?.message).toContain('(inside { } or [ ], quote a ${VAR}: "${VAR}")');
  });

  it('names the file and the reason when it cannot be read', () => {
    const path = join(dir, 'missing.yaml');
    const error = failure(path);
    expect(error.message).toBe(`${path}:\n  cannot read the file: no such file or directory (ENOENT)`);
  });

  it('rejects a file that is not a mapping', () => {
    expect(failure(file(['- redis'])).issues).toEqual([{ path: '', message: 'expected a mapping of options (redis:, api:, ...)' }]);
  });
});

describe('the example config', () => {
  it('loads with exactly REDIS_URL, RECURD_PORT, RECURD_API_TOKEN and RECURD_WEBHOOK_TOKEN set', () => {
    const config = loadConfig(EXAMPLE, EXAMPLE_ENV);
    expect(config.http.port).toBe(8080);
    expect(config.api.token).toBe('api-token');
    expect(config.connectors.find((connector) => connector.name === 'alertmanager')).toMatchObject({
      type: 'alertmanager',
      family: 'siem',
      auth: { type: 'bearer', token: 'webhook-token' },
    });
    expect(config.connectors.map((connector) => connector.type)).toContain('webhook');
  });

  it.each(Object.keys(EXAMPLE_ENV))('fails naming %s when it is unset', (variable) => {
    const env: Env = { ...EXAMPLE_ENV, [variable]: undefined };
    const error = failure(EXAMPLE, env);
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) expect(issue.message).toBe(`environment variable ${variable} is not set`);
  });
});

describe('resolveConfigPath', () => {
  it('takes --config, then RECURD_CONFIG, then config/recurd.yaml', () => {
    expect(resolveConfigPath('a.yaml', { RECURD_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { RECURD_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath(undefined, { RECURD_CONFIG: '' })).toBe('config/recurd.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('config/recurd.yaml');
  });
});

describe('policyFromConfig', () => {
  it('maps config.policy to the core policy', () => {
    const config = loadConfig(
      file([
        ...MINIMAL,
        'policy:',
        '  window: 10d',
        '  resolveAfter: 1d',
        '  skew: 1m',
        '  maxFuture: 2m',
        '  maxLateness: 3d',
        '  lateRecurrence: ignore',
        '  families: { backup: { window: 2d } }',
        '  controls: { A.8.7: { resolveAfter: 3h } }',
        '  checks: { nightly: { window: 1w, resolveAfter: 12h } }',
      ]),
      {},
    );
    const { detectors, heartbeats, ...windows } = policyFromConfig(config);
    expect(windows).toEqual({
      defaults: { window: 10 * 86_400_000, resolveAfter: 86_400_000 },
      families: { backup: { window: 2 * 86_400_000 } },
      controls: { 'A.8.7': { resolveAfter: 3 * 3_600_000 } },
      checks: { nightly: { window: 7 * 86_400_000, resolveAfter: 12 * 3_600_000 } },
      skew: 60_000,
      maxFuture: 120_000,
      maxLateness: 3 * 86_400_000,
      lateRecurrence: 'ignore',
      symptomRetention: 90 * 86_400_000,
    });
    expect(heartbeats).toEqual([]);
    // No detectors configured: the recurrence rule alone.
    expect(detectors.map((detector) => detector.type)).toEqual(['recurrence']);
  });
});
