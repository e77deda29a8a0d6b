/**
 * End to end with real restic backups reporting to a heartbeat connector the way a cron wrapper
 * does: the output of `restic backup --json` posted to /success, the stderr of a failed run to
 * /fail. A failure fires, the success fixes it, the next failure inside the window raises an NC;
 * a job that does not report within period + grace fires too, and counts for recurrence alike.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { WEBHOOK_TOKEN, api, eventually, runDaemon, testConfig } from '../helpers/daemon.js';
import { requireProgram } from '../../bench/programs/installed.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface NcJson {
  id: string;
  state: string;
  check: string;
  asset: string;
  reason: string;
  occurrences: number;
  timeline?: Array<{ type: string; detail: { evidence?: Record<string, unknown> } }>;
}

describe('recurd with real restic backups reporting to a heartbeat connector', () => {
  const binary = requireProgram('restic', 'restic');
  let redis: TestRedis;
  let daemon: Daemon;
  let dir: string;
  const prefix = testPrefix();
  let runs: Record<'backup' | 'wrongPassword' | 'noRepository', Run>;

  function restic(args: string[]): Promise<Run> {
    // Nothing of the machine's restic setup (RESTIC_* variables, ~/.cache) takes part.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, RESTIC_CACHE_DIR: join(dir, 'cache') };
    return new Promise((resolve) => {
      execFile(binary, args, { env, timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });
  }

  async function report(connector: string, route: string, body: string): Promise<{ status: number; body: { accepted?: number; error?: { code: string; message: string } } }> {
    const response = await fetch(`${daemon.address}/hooks/${connector}/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body,
    });
    return { status: response.status, body: (await response.json()) as { accepted?: number } };
  }

  async function metrics(): Promise<string> {
    return (await fetch(`${daemon.address}/metrics`)).text();
  }

  function sample(text: string, name: string, labels: string): number {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  /** Waits until `count` alerts of this status came from the connector and every alert received is decided. */
  async function decided(source: string, family: string, status: 'firing' | 'resolved', count: number): Promise<void> {
    await eventually(
      async () => {
        const text = await metrics();
        const got = sample(text, 'recurd_alerts_received_total', `source="${source}",family="${family}",status="${status}"`);
        const total = text
          .split('\n')
          .filter((line) => line.startsWith('recurd_alerts_received_total{'))
          .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
        const done = Number(/^recurd_detect_latency_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
        return got >= count && done === total ? true : undefined;
      },
      10_000,
      `${count} ${status} alert(s) from ${source}, decided`,
    );
  }

  async function ncOf(check: string): Promise<NcJson | undefined> {
    const { body } = await api<{ nonconformities: NcJson[] }>(daemon.address, '/api/v1/nonconformities');
    const listed = body.nonconformities.find((nc) => nc.check === check);
    return listed === undefined ? undefined : (await api<NcJson>(daemon.address, `/api/v1/nonconformities/${listed.id}`)).body;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'recurd-restic-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'ledger.csv'), 'date,amount\n2026-11-22,100\n');
    writeFileSync(join(data, 'notes.txt'), 'quarterly close\n');
    writeFileSync(join(dir, 'password'), 'correct horse battery staple\n');
    writeFileSync(join(dir, 'wrong-password'), 'not the password\n');
    const repository = join(dir, 'repository');
    const [redisStarted, init, noRepository] = await Promise.all([
      startRedis(),
      restic(['init', '--repo', repository, '--password-file', join(dir, 'password')]),
      restic(['backup', '--json', '--repo', join(dir, 'no-such-repository'), '--password-file', join(dir, 'password'), data]),
    ]);
    redis = redisStarted;
    expect(init, init.stderr).toMatchObject({ code: 0 });
    const [backup, wrongPassword] = await Promise.all([
      restic(['backup', '--json', '--repo', repository, '--password-file', join(dir, 'password'), data]),
      restic(['backup', '--json', '--repo', repository, '--password-file', join(dir, 'wrong-password'), data]),
    ]);
    runs = { backup, wrongPassword, noRepository };

    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        policy: { window: '30d', resolveAfter: '30d', skew: '0s' },
        connectors: [
          {
            name: 'backups',
            type: 'heartbeat',
            family: 'backup',
            control: 'A.8.13',
            severity: 'high',
            auth: { type: 'bearer', token: WEBHOOK_TOKEN },
            jobs: { nightly: { period: '1d', grace: '1h', asset: 'fileserver' } },
          },
          {
            name: 'shipping',
            type: 'heartbeat',
            family: 'siem',
            control: 'A.8.15',
            auth: { type: 'bearer', token: WEBHOOK_TOKEN },
            schedule: '* * * * * *',
            jobs: { 'log-export': { period: '2s', grace: '1s' } },
          },
        ],
      }),
    );
  });

  afterAll(async () => {
    await daemon?.stop();
    if (redis !== undefined) {
      await dropPrefix(redis.client, prefix);
      await redis.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires on a failed backup, is fixed by a successful one, and raises an NC when the next one fails', async () => {
    // restic as it is: the failures say why on stderr, with nothing on stdout; the backup prints JSON lines.
    expect(runs.wrongPassword).toMatchObject({ code: 1, stdout: '', stderr: 'Fatal: wrong password or no key found\n' });
    expect(runs.noRepository).toMatchObject({ code: 1, stdout: '' });
    expect(runs.noRepository.stderr).toMatch(/^Fatal: unable to open config file: .*no-such-repository/);
    expect(runs.backup.code).toBe(0);
    const summary = JSON.parse(runs.backup.stdout.trim().split('\n').at(-1) ?? '') as { message_type: string; snapshot_id: string };
    expect(summary).toMatchObject({ message_type: 'summary', snapshot_id: expect.stringMatching(/^[0-9a-f]{8}$/) as unknown });

    expect(await report('backups', 'nightly/start', '')).toEqual({ status: 202, body: { accepted: 0 } });
    expect(await report('backups', 'nightly/fail', runs.wrongPassword.stderr)).toEqual({ status: 202, body: { accepted: 1 } });
    await decided('backups', 'backup', 'firing', 1);
    expect(await ncOf('nightly')).toBeUndefined();

    expect(await report('backups', 'nightly/start', '')).toEqual({ status: 202, body: { accepted: 0 } });
    expect(await report('backups', 'nightly/success', runs.backup.stdout)).toEqual({ status: 202, body: { accepted: 1 } });
    await decided('backups', 'backup', 'resolved', 1);
    expect(await ncOf('nightly')).toBeUndefined();

    expect(await report('backups', 'nightly/fail', runs.noRepository.stderr)).toEqual({ status: 202, body: { accepted: 1 } });
    const nc = await eventually(() => ncOf('nightly'), 10_000, 'an NC for the nightly backup');
    expect(nc).toMatchObject({ state: 'open', check: 'nightly', asset: 'fileserver', occurrences: 2 });
    expect(nc.reason).toMatch(/^recurrence: fixed \(resolved\) at /);
    expect(nc.timeline?.[0]?.detail.evidence).toEqual({ job: 'nightly', event: 'fail', text: runs.noRepository.stderr.trim() });

    const text = await metrics();
    expect(sample(text, 'recurd_alerts_received_total', 'source="backups",family="backup",status="firing"')).toBe(2);
    expect(sample(text, 'recurd_alerts_received_total', 'source="backups",family="backup",status="resolved"')).toBe(1);
    expect(sample(text, 'recurd_recurrences_total', 'family="backup",control="A.8.13"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities_opened_total', 'family="backup",control="A.8.13"')).toBe(1);

    // A job the connector does not know is refused by name, and its output kept as a dead letter.
    const unknown = await report('backups', 'weekly/success', runs.backup.stdout);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'RECURD_ERR_PAYLOAD_INVALID', message: expect.stringContaining('(route): job "weekly" is not configured here (jobs: nightly)') as unknown });
  });

  it('fires when a job misses its period and grace, and raises an NC when it misses again after a run', async () => {
    // `log-export` never reported: watched from the connector's first poll, it is missing 3 s later.
    await decided('shipping', 'siem', 'firing', 1);
    expect(await ncOf('log-export')).toBeUndefined();
    expect(await report('shipping', 'log-export/success', '')).toEqual({ status: 202, body: { accepted: 1 } });
    const nc = await eventually(() => ncOf('log-export'), 10_000, 'an NC for the job that stopped reporting');
    expect(nc).toMatchObject({ state: 'open', asset: 'log-export' });
    expect(nc.reason).toMatch(/^recurrence: fixed \(resolved\) at /);
    expect(nc.timeline?.[0]?.detail.evidence).toMatchObject({ job: 'log-export', event: 'missed', period: '2s', grace: '1s', lastReportAt: expect.any(String) as unknown });
    const text = await metrics();
    expect(sample(text, 'recurd_nonconformities_opened_total', 'family="siem",control="A.8.15"')).toBe(1);
  });
});
