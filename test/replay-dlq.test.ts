/**
 * `recurd replay` (offline, in-memory register, simulated clock) and `recurd dlq` (what did not
 * fit is kept, shown, replayed once the mapping is fixed, dropped), through the compiled CLI.
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import { replay } from '../src/replay.js';
import { eventually, runDaemon, testConfig, WEBHOOK_TOKEN } from './helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const FIXTURE = fileURLToPath(new URL('./fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url));
const DAY = 86_400_000;

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function alertLine(id: string, status: 'firing' | 'resolved', at: number): string {
  return JSON.stringify({ id, source: 'restic', family: 'backup', status, observedAt: new Date(at).toISOString(), asset: 'srv-db-01', check: 'nightly', message: 'backup failed' });
}

describe('recurd replay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recurd-replay-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the symptoms and the NCs a recording would raise', async () => {
    const t0 = Date.parse('2026-01-05T02:00:00Z');
    const file = join(dir, 'alerts.ndjson');
    writeFileSync(file, [alertLine('a', 'firing', t0), alertLine('b', 'resolved', t0 + DAY), alertLine('c', 'firing', t0 + 3 * DAY), 'not json', alertLine('c', 'firing', t0 + 3 * DAY)].join('\n'));
    const report = await replay(file, { settings: { policy: DEFAULT_POLICY, fingerprintFields: ['family', 'source', 'check', 'asset'] } });
    expect(report).toMatchObject({ lines: 5, alerts: 4, outcomes: { episode: 1, fix: 1, recurrence: 1, duplicate: 1 } });
    expect(report.problems).toEqual([{ line: 4, message: expect.stringContaining('not JSON') as string }]);
    expect(report.nonconformities).toHaveLength(1);
    expect(report.nonconformities[0]).toMatchObject({ id: 'NC-2026-0001', state: 'open', occurrences: 2, detector: 'recurrence' });
    expect(report.byDetector).toEqual({ recurrence: 1 });

    // A window too short for the return: the same recording raises nothing.
    const shortWindow = await replay(file, { settings: { policy: { ...DEFAULT_POLICY, defaults: { ...DEFAULT_POLICY.defaults, window: DAY } }, fingerprintFields: ['family', 'source', 'check', 'asset'] } });
    expect(shortWindow.nonconformities).toHaveLength(0);
    // With --until past the quiet period, the last episode is fixed by quiet and its window runs.
    const until = await replay(file, { settings: { policy: DEFAULT_POLICY, fingerprintFields: ['family', 'source', 'check', 'asset'] }, until: t0 + 60 * DAY });
    expect(until.symptoms[0]?.state).toBe('verified');
  });

  it('reads a connector’s native payloads with --connector, through the CLI', async () => {
    const config = join(dir, 'recurd.yaml');
    writeFileSync(config, readFileSync(join(ROOT, 'config/recurd.example.yaml'), 'utf8'));
    const env = { REDIS_URL: 'redis://127.0.0.1:1', RECURD_PORT: '0', RECURD_API_TOKEN: 'x', RECURD_WEBHOOK_TOKEN: 'y' };
    const result = await cli(['replay', FIXTURE, '--connector', 'alertmanager', '--config', config, '--json'], env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { alerts: number; outcomes: Record<string, number>; symptoms: Array<{ state: string; check: string }> };
    expect(report.alerts).toBe(2);
    expect(report.outcomes).toEqual({ episode: 1, fix: 1 });
    expect(report.symptoms[0]).toMatchObject({ state: 'fixed', check: 'BackupJobFailed' });

    const missing = await cli(['replay', join(dir, 'nope.ndjson'), '--config', config], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('RECURD_ERR_FILE_UNREADABLE');
    expect(missing.stderr).toContain('nope.ndjson');
  });
});

describe('recurd dlq', () => {
  let redis: TestRedis;
  let prefix: string;
  const dir = mkdtempSync(join(tmpdir(), 'recurd-dlq-'));

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await dropPrefix(redis.client, prefix);
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what did not fit, shows it, replays it once the mapping is fixed, and drops it', async () => {
    prefix = testPrefix();
    const daemon = await runDaemon(testConfig(redis.url, prefix));
    const body = JSON.stringify({ events: [{ uid: 'scan-9', state: 'bad', time: new Date().toISOString(), host: 'ws-7' }, { state: 'bad', host: 'ws-8' }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const refused = await fetch(`${daemon.address}/hooks/generic`, { method: 'POST', headers: { 'x-recurd-signature': signature }, body });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('events[1].uid');
    await daemon.stop();

    // The fixed config: a missing uid falls back to a default instead of refusing the item.
    const config = join(dir, 'recurd.yaml');
    writeFileSync(
      config,
      [
        `redis: { url: "${redis.url}", keyPrefix: "${prefix}" }`,
        'api: { token: t }',
        'connectors:',
        '  - name: generic',
        '    type: webhook',
        '    family: av',
        '    auth: { type: hmac, secret: s }',
        '    items: events',
        "    mapping: { id: { path: uid, default: unknown }, status: { path: state, map: { bad: firing, good: resolved } }, observedAt: { path: time, default: '2026-11-20T00:00:00Z' }, asset: host }",
        '',
      ].join('\n'),
    );
    const listed = await cli(['dlq', 'list', '--json', '--config', config], {});
    expect(listed.code).toBe(0);
    const letters = JSON.parse(listed.stdout) as Array<{ id: string; connector: string; errors: Array<{ path: string }> }>;
    expect(letters).toHaveLength(1);
    expect(letters[0]?.connector).toBe('generic');
    expect(letters[0]?.errors.map((error) => error.path)).toContain('events[1].uid');
    const id = letters[0]?.id as string;
    expect((await cli(['dlq', 'show', id, '--config', config], {})).stdout).toContain('scan-9');

    const replayed = await cli(['dlq', 'replay', id, '--config', config], {});
    expect(replayed.stdout).toContain('2 alert(s) queued');
    expect(replayed.code).toBe(0);
    const ingest = new Queue('ingest', { connection: redis.client, prefix });
    await eventually(async () => ((await ingest.getWaitingCount()) === 1 ? true : undefined));
    await ingest.close();
    expect(JSON.parse((await cli(['dlq', 'list', '--json', '--config', config], {})).stdout)).toEqual([]);
    const gone = await cli(['dlq', 'drop', id, '--config', config], {});
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('RECURD_ERR_NOT_FOUND');
  });
});
