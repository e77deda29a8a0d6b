/**
 * The export as users get it: `recurd export` (the compiled CLI, as a child process) and
 * GET /api/v1/export (a real daemon), over a register in a private Redis holding NCs in every
 * state. The files are re-verified byte for byte, the CSV is read back with the library that wrote
 * it, and the archives are unpacked with the libraries recurd uses.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import type { ReceivedAlert } from '../src/core/types.js';
import type { Daemon } from '../src/daemon.js';
import { Engine } from '../src/engine.js';
import { CSV_COLUMNS } from '../src/export.js';
import { RedisRegister } from '../src/store/redis-register.js';
import { API_TOKEN, api, eventually, runDaemon, testConfig } from './helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ISMS_CHANGE = 'backup policy: every repository has a monitored restore test; the SoA lists the check';

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

interface ApiNc {
  id: string;
  state: string;
  family: string;
  control: string | null;
  check: string;
  asset: string;
  severity: string;
  openedAt: string;
  closedAt: string | null;
  reopenCount: number;
  occurrences: number;
  timelineHead: string;
  correctiveAction: { owner: string; strength: string; action: string; ismsChange?: string } | null;
  clause10_2: { effectiveness: { result: string }; ismsChange: { change: string | null } };
}

interface Manifest {
  format: string;
  recurd: { version: string };
  exportedAt: string;
  filter: Record<string, string | null>;
  ncs: Array<{ id: string; chain: { holds: boolean; head: string } }>;
  files: Array<{ path: string; sha256: string; bytes: number }>;
}

function files(dir: string): string[] {
  return [...readdirSync(dir).filter((name) => name !== 'ncs'), ...readdirSync(join(dir, 'ncs')).map((name) => `ncs/${name}`)].sort();
}

async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(file, { lazyEntries: true }, (error, opened) => (error ? reject(error) : resolve(opened))));
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}

describe('export', () => {
  let redis: TestRedis;
  let daemon: Daemon;
  let dir: string;
  let config: string;
  const prefix = testPrefix();
  const ids: Record<'open' | 'verifying' | 'reopened' | 'closed' | 'cli', string> = { open: '', verifying: '', reopened: '', closed: '', cli: '' };

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'recurd-export-test-'));
    config = join(dir, 'recurd.yaml');
    writeFileSync(config, ['redis:', `  url: ${redis.url}`, `  keyPrefix: '${prefix}'`, 'api:', '  token: unused-by-the-export', ''].join('\n'));
    const now = Date.now();
    const clock = new ManualClock(now - 40 * DAY);
    const register = new RedisRegister(redis.client, prefix, 35 * DAY);
    const engine = new Engine({ register, policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
    let sequence = 0;
    const alert = (asset: string, status: ReceivedAlert['status'], at: number): ReceivedAlert => ({
      id: `evt-${++sequence}`, source: 'wazuh', family: 'siem', status, observedAt: at, receivedAt: at, asset, check: 'rule-5710',
      message: `sshd: brute force on ${asset}`, severity: 'medium', control: 'A.8.16', labels: {}, evidence: { index: 'wazuh-alerts' },
    });
    /** fire, resolve, fire again a day later and resolve: an NC, its symptom quiet. */
    const raise = async (asset: string, at: number): Promise<string> => {
      clock.set(at + DAY);
      const result = await engine.ingest([alert(asset, 'firing', at), alert(asset, 'resolved', at + HOUR), alert(asset, 'firing', at + DAY)]);
      await engine.ingest([alert(asset, 'resolved', at + DAY + HOUR)]);
      return [...result.created.values()][0] as string;
    };
    const action = { action: 'password login disabled on the bastions, enforced by the configuration baseline with an alert on drift', owner: 'secops', rootCause: 'password login left on', dueDate: null };

    ids.closed = await raise('srv-closed', now - 40 * DAY);
    clock.set(now - 38 * DAY);
    await engine.recordCorrectiveAction(ids.closed, action);
    clock.set(now - 2 * DAY);
    await engine.sweep();

    ids.reopened = await raise('srv-reopened', now - 10 * DAY);
    clock.set(now - 8 * DAY);
    await engine.recordCorrectiveAction(ids.reopened, { ...action, action: 'restarted sshd' });
    clock.set(now - 5 * DAY);
    await engine.ingest([alert('srv-reopened', 'firing', now - 5 * DAY), alert('srv-reopened', 'resolved', now - 5 * DAY + HOUR)]);

    ids.verifying = await raise('srv-verifying', now - 4 * DAY);
    ids.cli = await raise('srv-cli', now - 3 * DAY);
    ids.open = await raise('srv-open', now - 2 * DAY);

    daemon = await runDaemon(testConfig(redis.url, prefix, { connectors: [] }));
    // The ISMS change as users record it: in the API body, and with the CLI's --isms-change.
    const recorded = await api<ApiNc>(daemon.address, `/api/v1/nonconformities/${ids.verifying}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({ ...action, rootCause: undefined, dueDate: undefined, ismsChange: ISMS_CHANGE }),
    });
    expect(recorded.status).toBe(200);
    const fixed = await run(['nc', 'fix', ids.cli, '--action', 'reminded the admins', '--owner', 'ops', '--isms-change', 'awareness plan: sshd hardening added', '--config', config]);
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await daemon.stop();
    await dropPrefix(redis.client, prefix);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function apiNcs(): Promise<ApiNc[]> {
    const { body } = await api<{ nonconformities: Array<{ id: string }> }>(daemon.address, '/api/v1/nonconformities');
    return Promise.all(body.nonconformities.map(async ({ id }) => (await api<ApiNc>(daemon.address, `/api/v1/nonconformities/${id}`)).body));
  }

  it('shows the clause 10.2 record and the ISMS change in GET /api/v1/nonconformities/{id}', async () => {
    const byId = new Map((await apiNcs()).map((nc) => [nc.id, nc]));
    expect([ids.open, ids.verifying, ids.reopened, ids.closed, ids.cli].map((id) => byId.get(id)?.state)).toEqual(['open', 'verifying', 'reopened', 'closed', 'verifying']);
    expect(byId.get(ids.verifying)).toMatchObject({ correctiveAction: { ismsChange: ISMS_CHANGE }, clause10_2: { effectiveness: { result: 'verifying' }, ismsChange: { change: ISMS_CHANGE } } });
    expect(byId.get(ids.cli)?.clause10_2.ismsChange.change).toBe('awareness plan: sshd hardening added');
    expect(byId.get(ids.closed)?.clause10_2.effectiveness.result).toBe('verified-effective');
    expect(byId.get(ids.reopened)?.clause10_2.effectiveness.result).toBe('reopened');
    expect(byId.get(ids.open)?.clause10_2.effectiveness.result).toBe('awaiting-action');
  });

  it('writes register.csv, ncs/<id>.json and .md and a manifest that verifies byte for byte; the CSV reads back as the API shows the NCs', async () => {
    const out = join(dir, 'full');
    const exported = await run(['export', '--out', out, '--config', config]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim()).toBe(`exported 5 nonconformities to ${out}: 12 file(s), checked by manifest.json`);
    const all = Object.values(ids).sort();
    expect(files(out)).toEqual(['manifest.json', ...all.flatMap((id) => [`ncs/${id}.json`, `ncs/${id}.md`]), 'register.csv'].sort());

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest).toMatchObject({ format: 'recurd-export/1', recurd: { version: VERSION }, filter: { since: null, state: null, control: null } });
    expect(Math.abs(Date.parse(manifest.exportedAt) - Date.now())).toBeLessThan(60_000);
    expect(manifest.files.map((file) => file.path).sort()).toEqual(files(out).filter((path) => path !== 'manifest.json'));
    for (const file of manifest.files) {
      const data = readFileSync(join(out, file.path));
      expect({ path: file.path, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length }).toEqual(file);
    }
    const verified = await run(['export', 'verify', out]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout.trim()).toBe(`${out}: OK: 11 file(s) of 5 nonconformities match the manifest`);

    const shown = await apiNcs();
    const rows: Array<Record<string, string>> = parse(readFileSync(join(out, 'register.csv')), { columns: true });
    expect(Object.keys(rows[0] ?? {})).toEqual([...CSV_COLUMNS]);
    expect(rows.map((row) => row.id)).toEqual(shown.map((nc) => nc.id));
    for (const [index, nc] of shown.entries()) {
      expect(rows[index]).toMatchObject({
        id: nc.id, state: nc.state, family: nc.family, control: nc.control ?? '', check: nc.check, asset: nc.asset, severity: nc.severity,
        openedAt: nc.openedAt, closedAt: nc.closedAt ?? '', reopenCount: String(nc.reopenCount), occurrences: String(nc.occurrences),
        owner: nc.correctiveAction?.owner ?? '', action: nc.correctiveAction?.action ?? '', actionStrength: nc.correctiveAction?.strength ?? '',
        verificationResult: nc.clause10_2.effectiveness.result, ismsChange: nc.clause10_2.ismsChange.change ?? '',
        chainHolds: 'true', chainHead: nc.timelineHead,
      });
      const document = JSON.parse(readFileSync(join(out, 'ncs', `${nc.id}.json`), 'utf8')) as ApiNc & { chain: { holds: boolean; head: string }; timeline: unknown[] };
      expect(document.clause10_2).toEqual(nc.clause10_2);
      expect(document.chain).toMatchObject({ holds: true, head: nc.timelineHead });
      expect(document.timeline).toHaveLength(Number(rows[index]?.timelineEntries));
      expect(manifest.ncs.find((entry) => entry.id === nc.id)?.chain).toMatchObject({ holds: true, head: nc.timelineHead });
    }
    const paper = readFileSync(join(out, 'ncs', `${ids.reopened}.md`), 'utf8');
    for (const heading of ['(a) Reaction', '(b) Causes', '(c) Action taken and its strength', '(d) Review of effectiveness', '(e) Changes to the ISMS', '(f, g) Documented information']) {
      expect(paper).toContain(`## ${heading}`);
    }
    expect(paper).toContain('Result: **reopened**');
    expect(paper).toContain('| restarted sshd | secops | weak | ineffective |');
  }, 60_000);

  it('fails verification naming the file edited, removed or added', async () => {
    const out = join(dir, 'tampered');
    expect((await run(['export', '--out', out, '--config', config])).code).toBe(0);
    appendFileSync(join(out, 'ncs', `${ids.closed}.md`), '\nApproved by the auditor.\n');
    const edited = await run(['export', 'verify', out]);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain(`${out}: ncs/${ids.closed}.md differs from the manifest: its SHA-256 is `);
    expect(edited.stdout).toBe('');

    unlinkSync(join(out, 'register.csv'));
    writeFileSync(join(out, 'ncs', 'NC-2099-0001.json'), '{}\n');
    const removed = await run(['export', 'verify', out]);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain(`${out}: register.csv is missing`);
    expect(removed.stderr).toContain(`${out}: ncs/NC-2099-0001.json is not in the manifest`);
    expect(removed.stderr).toContain('3 problem(s)');

    const again = await run(['export', '--out', out, '--config', config]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('RECURD_ERR_EXPORT_TARGET_NOT_EMPTY');
  }, 60_000);

  it('exports only the NCs its filter takes, and records the filter', async () => {
    const out = join(dir, 'closed');
    const exported = await run(['export', '--out', out, '--state', 'closed', '--since', new Date(Date.now() - 60 * DAY).toISOString(), '--config', config]);
    expect(exported.code).toBe(0);
    expect(files(out)).toEqual(['manifest.json', `ncs/${ids.closed}.json`, `ncs/${ids.closed}.md`, 'register.csv']);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.filter).toMatchObject({ state: 'closed', control: null });
    expect(manifest.ncs.map((nc) => nc.id)).toEqual([ids.closed]);

    const none = join(dir, 'none');
    expect((await run(['export', '--out', none, '--control', 'A.8.13', '--config', config])).code).toBe(0);
    expect(readFileSync(join(none, 'register.csv'), 'utf8')).toBe(`${CSV_COLUMNS.join(',')}\n`);
    expect((await run(['export', 'verify', none])).code).toBe(0);

    const wrong = await run(['export', '--out', join(dir, 'x'), '--state', 'bogus', '--config', config]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--state must be one of');
  }, 60_000);

  it('streams the same files as a zip (default) or a tar.gz from GET /api/v1/export', async () => {
    const reference = join(dir, 'reference');
    expect((await run(['export', '--out', reference, '--config', config])).code).toBe(0);

    const response = await fetch(`${daemon.address}/api/v1/export`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="recurd-export-\d{8}T\d{6}Z\.zip"$/);
    const zipFile = join(dir, 'download.zip');
    writeFileSync(zipFile, Buffer.from(await response.arrayBuffer()));
    const entries = await unzip(zipFile);
    expect([...entries.keys()].sort()).toEqual(files(reference));
    for (const [path, data] of entries) if (path !== 'manifest.json') expect(data.equals(readFileSync(join(reference, path))), path).toBe(true);
    expect((await run(['export', 'verify', zipFile])).code).toBe(0);

    const gz = await fetch(`${daemon.address}/api/v1/export?format=tar.gz&state=open`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(gz.status).toBe(200);
    expect(gz.headers.get('content-type')).toBe('application/gzip');
    expect(gz.headers.get('content-disposition')).toMatch(/^attachment; filename="recurd-export-\d{8}T\d{6}Z\.tar\.gz"$/);
    const gzFile = join(dir, 'download.tar.gz');
    writeFileSync(gzFile, Buffer.from(await gz.arrayBuffer()));
    const unpacked = join(dir, 'unpacked');
    rmSync(unpacked, { recursive: true, force: true });
    mkdirSync(unpacked);
    await tar.x({ file: gzFile, cwd: unpacked });
    expect(files(unpacked)).toEqual(['manifest.json', `ncs/${ids.open}.json`, `ncs/${ids.open}.md`, 'register.csv']);
    expect(readFileSync(join(unpacked, 'ncs', `${ids.open}.json`)).equals(readFileSync(join(reference, 'ncs', `${ids.open}.json`)))).toBe(true);
    expect((await run(['export', 'verify', unpacked])).code).toBe(0);
    expect((await run(['export', 'verify', gzFile])).code).toBe(0);

    // Each download was built in a temporary folder, removed once it was sent.
    const leftovers = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('recurd-export-') && !name.startsWith('recurd-export-test-'));
    await eventually(() => (leftovers().length === 0 ? true : undefined), 5000, 'the temporary export folders removed');

    const bad = await api(daemon.address, '/api/v1/export?format=rar');
    expect(bad.status).toBe(400);
    const unauthorised = await fetch(`${daemon.address}/api/v1/export`);
    expect(unauthorised.status).toBe(401);
  }, 60_000);
});
