/**
 * `recurd replay` decides as the daemon does: its engine is built from `engineSettings(config)`
 * (detectors, fingerprint fields and rules), it names the detector behind each NC, keeps the
 * spread detector's aggregates apart from the symptoms, and fails on invalid input lines while
 * still reporting the valid ones. Through the function and through the compiled CLI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { engineSettings, loadConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { ManualClock } from '../src/core/clock.js';
import { canonicalAlertSchema, type CanonicalAlertInput } from '../src/core/types.js';
import { Engine } from '../src/engine.js';
import { MemoryRegister } from '../src/memory-register.js';
import { replay } from '../src/replay.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T02:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'recurd-replay-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(name: string, text: string): string {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** A config file as an admin writes it (JSON is YAML), with no connector and no reachable Redis. */
function configFile(section: Partial<ConfigInput>): string {
  return file('recurd.yaml', JSON.stringify({ redis: { url: 'redis://127.0.0.1:1' }, api: { token: 't' }, ...section }));
}

function ndjson(alerts: CanonicalAlertInput[]): string {
  return alerts.map((alert) => JSON.stringify(alert)).join('\n');
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function ssh(id: string, status: 'firing' | 'resolved', at: number, asset: string, check = 'ssh-brute-force-5710'): CanonicalAlertInput {
  return { id, source: 'wazuh', family: 'siem', status, observedAt: at, asset, check, message: 'sshd: brute force', labels: { srcip: '203.0.113.9' } };
}

function backup(id: string, status: 'firing' | 'resolved', at: number): CanonicalAlertInput {
  return { id, source: 'restic', family: 'backup', status, observedAt: at, asset: 'srv-db-01', check: 'nightly', message: 'backup failed' };
}

describe('recurd replay builds the daemon’s engine', () => {
  // One symptom per attacking address, whichever host it hit: the default fields would make three.
  const config = configFile({
    fingerprint: { fields: ['family', 'source', 'check', 'asset'], rules: [{ match: { family: 'siem', check: 'ssh-brute-force*' }, fields: ['source', 'check', 'labels.srcip'] }] },
  });
  const alerts = [
    ssh('a1', 'firing', T0, 'web-01'),
    ssh('b1', 'firing', T0 + 1000, 'web-01', 'sshd-config'),
    ssh('a2', 'resolved', T0 + HOUR, 'web-02'),
    ssh('a3', 'firing', T0 + 2 * DAY, 'web-03'),
  ];
  const recording = file('ssh.ndjson', ndjson(alerts));

  it('groups by the config’s fingerprint rules exactly as the daemon’s Engine does', async () => {
    const settings = engineSettings(loadConfig(config));
    const report = await replay(recording, { settings });

    const clock = new ManualClock(0);
    const register = new MemoryRegister();
    const daemon = new Engine({ register, clock, ...engineSettings(loadConfig(config)) });
    for (const alert of alerts.map((input) => canonicalAlertSchema.parse(input))) {
      clock.set(alert.observedAt);
      await daemon.ingest([{ ...alert, receivedAt: alert.observedAt }]);
    }
    const daemonNcs = await register.listNcs({});

    const fingerprints = (symptoms: Array<{ fingerprint: string }>): string[] => symptoms.map((symptom) => symptom.fingerprint).sort();
    expect(fingerprints(report.symptoms)).toEqual(fingerprints([...register.symptoms.values()].map((entry) => entry.symptom)));
    expect(report.symptoms).toHaveLength(2);
    const ncSummary = (ncs: typeof daemonNcs): unknown[] => ncs.map(({ id, fingerprint, detector, occurrences }) => ({ id, fingerprint, detector, occurrences }));
    expect(ncSummary(report.nonconformities)).toEqual(ncSummary(daemonNcs));
    expect(report.nonconformities).toHaveLength(1);
    expect(report.nonconformities[0]).toMatchObject({ detector: 'recurrence', fingerprint: daemon.fingerprintOf({ ...canonicalAlertSchema.parse(alerts[0]), receivedAt: T0 }) });

    // Without the rule the same recording is four symptoms (web-02 only ever healthy) and no NC: the rule is what grouped it.
    const byFields = await replay(recording, { settings: { ...settings, fingerprintRules: [] } });
    expect(byFields.symptoms).toHaveLength(4);
    expect(byFields.nonconformities).toHaveLength(0);
  });

  it('applies the rules through the CLI too', async () => {
    const result = await cli(['replay', recording, '--config', config, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { symptoms: unknown[]; nonconformities: Array<{ detector: string }>; byDetector: Record<string, number> };
    expect(report.symptoms).toHaveLength(2);
    expect(report.byDetector).toEqual({ recurrence: 1 });
    // Times as ISO 8601: no epoch number of this decade reaches a person.
    expect(result.stdout).not.toMatch(/\b1[78]\d{11}\b/);
    expect(report.symptoms[0]).toMatchObject({ firstSeenAt: expect.stringMatching(/^2026-/) as string });
    expect(report.symptoms[0]).not.toHaveProperty('history');
  });
});

describe('recurd replay names the detector behind each NC', () => {
  const config = configFile({
    detectors: [
      { type: 'recurrence', name: 'recurrence' },
      { type: 'absence', name: 'backup-heartbeat', period: '1d', match: { family: 'backup' } },
    ],
  });
  // Fixed, then silent for two days: the backup did not run at all. It fails again inside the
  // window, which the engine decides as a recurrence on the NC the absence detector raised.
  const recording = file('backup.ndjson', ndjson([backup('n1', 'firing', T0), backup('n2', 'resolved', T0 + HOUR), backup('n3', 'firing', T0 + 3 * DAY)]));

  it('reports an absence NC with its detector and reason, and counts NCs by detector', async () => {
    const report = await replay(recording, { settings: engineSettings(loadConfig(config)) });
    expect(report.nonconformities).toHaveLength(1);
    const nc = report.nonconformities[0];
    expect(nc).toMatchObject({ detector: 'backup-heartbeat', check: 'nightly', asset: 'srv-db-01' });
    expect(nc?.reason).toMatch(/^absence: nightly on srv-db-01 has not reported for 1d/);
    expect(report.byDetector).toEqual({ 'backup-heartbeat': 1 });
  });

  it('prints id, state, detector, reason, check, asset, title, occurrences and reopen count', async () => {
    const result = await cli(['replay', recording, '--config', config]);
    expect(result.code).toBe(0);
    const [nc] = (await replay(recording, { settings: engineSettings(loadConfig(config)) })).nonconformities;
    if (nc === undefined) throw new Error('no NC');
    expect(result.stdout).toContain('nonconformities by detector: backup-heartbeat 1\n');
    expect(result.stdout).toMatch(/^decisions: /m);
    expect(result.stdout).toContain(`  ${nc.id}  ${nc.state}  detector backup-heartbeat  occurrences ${nc.occurrences}  reopened ${nc.reopenCount}\n`);
    expect(result.stdout).toContain('    nightly @ srv-db-01: backup failed\n');
    expect(result.stdout).toContain(`    reason: ${nc.reason}\n`);

    const json = JSON.parse((await cli(['replay', recording, '--config', config, '--json'])).stdout) as { nonconformities: Array<Record<string, unknown>>; symptoms: Array<Record<string, unknown>> };
    expect(json.nonconformities).toEqual([expect.objectContaining({ id: nc.id, detector: 'backup-heartbeat', reason: nc.reason, reopenCount: nc.reopenCount, occurrences: nc.occurrences })]);
    // The absence detector's own state, as it reads: silent after the resolved of T0 + 1h.
    expect(json.symptoms[0]?.detectors).toEqual({ 'backup-heartbeat': { silentAfter: new Date(T0 + HOUR).toISOString() } });
  });
});

describe('recurd replay keeps systemic aggregates apart from symptoms', () => {
  const config = configFile({
    detectors: [
      { type: 'recurrence', name: 'recurrence' },
      { type: 'spread', name: 'fleet', assets: 2, within: '1h' },
    ],
  });
  const eicar = (id: string, asset: string, at: number): CanonicalAlertInput => ({ id, source: 'defender', family: 'av', status: 'firing', observedAt: at, asset, check: 'eicar', message: 'malware found' });
  const recording = file('av.ndjson', ndjson([eicar('e1', 'ws-1', T0), eicar('e2', 'ws-2', T0 + 60_000)]));

  it('lists the symptoms without the aggregate, and the aggregate as such', async () => {
    const report = await replay(recording, { settings: engineSettings(loadConfig(config)) });
    expect(report.symptoms.map((symptom) => symptom.asset).sort()).toEqual(['ws-1', 'ws-2']);
    expect(report.symptoms.every((symptom) => symptom.aggregate === null)).toBe(true);
    expect(report.aggregates).toEqual([expect.objectContaining({ aggregate: 'fleet', check: 'eicar' })]);
    expect(report.nonconformities).toEqual([expect.objectContaining({ detector: 'fleet', assets: ['ws-1', 'ws-2'] })]);

    const result = await cli(['replay', recording, '--config', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\nsymptoms: 2\n');
    expect(result.stdout).toMatch(/\nsystemic aggregates: 1\n {2}\S+ {2}fleet {2}av\/defender {2}eicar on 2 asset\(s\): ws-1, ws-2\n/);
    const json = JSON.parse((await cli(['replay', recording, '--config', config, '--json'])).stdout) as { symptoms: Array<{ aggregate: string | null }>; aggregates: unknown[] };
    expect(json.symptoms).toHaveLength(2);
    expect(json.symptoms.every((symptom) => symptom.aggregate === null)).toBe(true);
    expect(json.aggregates).toHaveLength(1);
  });
});

describe('recurd replay with invalid lines', () => {
  const config = configFile({});
  const t = (days: number): number => T0 + days * DAY;
  const recording = file(
    'mixed.ndjson',
    [JSON.stringify(backup('m1', 'firing', t(0))), '{"id": "m2", "status"', JSON.stringify(backup('m3', 'resolved', t(1))), '', JSON.stringify({ id: 'm4', source: 'restic' }), JSON.stringify(backup('m5', 'firing', t(3)))].join('\n'),
  );

  it('exits 1, names each invalid line and its problem on stderr, and still reports the valid lines', async () => {
    const result = await cli(['replay', recording, '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${recording}: line 2: not JSON`);
    expect(result.stderr).toContain(`${recording}: line 5: family: `);
    expect(result.stderr).not.toMatch(/line [1346]:/);
    expect(result.stderr).toContain('2 invalid line(s)');
    expect(result.stdout).toContain('6 line(s), 3 alert(s), 2 invalid line(s)\n');
    expect(result.stdout).toContain('nonconformities by detector: recurrence 1\n');

    const json = await cli(['replay', recording, '--config', config, '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('line 2: not JSON');
    const report = JSON.parse(json.stdout) as { problems: Array<{ line: number; message: string }>; nonconformities: unknown[] };
    expect([...new Set(report.problems.map((problem) => problem.line))]).toEqual([2, 5]);
    expect(report.nonconformities).toHaveLength(1);
  });

  it('keeps exit status 2 for wrong usage', async () => {
    const result = await cli(['replay', recording, '--config', config, '--until', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--until "soon" is not a time');
  });
});
