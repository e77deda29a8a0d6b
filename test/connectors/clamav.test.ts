/**
 * The clamav preset over the logs of the real programs (Debian's clamav 1.4): clamscan finding the
 * EICAR test string in a file written here, and freshclam failing and succeeding to update. No
 * signature database is downloaded: clamscan uses one built here with sigtool, and freshclam talks
 * only to loopback (a closed port as its mirror, a local HTTP server for a custom database;
 * PrivateMirror also turns off its DNS version check, which would otherwise leave the machine).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileConnector } from '../../connectors/file.js';
import { MemoryConnectorState, type PayloadError } from '../../connectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import type { CanonicalAlert } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';
import { requireProgram } from '../../bench/programs/installed.js';
import { freePort } from '../../bench/programs/redis.js';

const T0 = Date.parse('2026-11-23T02:00:00Z');
// Written in two pieces so that this source file is not itself a detection.
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR' + '-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

interface Tail {
  rejected: PayloadError[][];
  poll(): Promise<CanonicalAlert[]>;
}

function tail(path: string, fields: Record<string, unknown> = {}): Tail {
  const config = fileConnector.schema.parse({ type: 'file', name: 'clamav', path, preset: 'clamav', ...fields });
  const connector = fileConnector.create(config, { state: new MemoryConnectorState(), clock: new ManualClock(T0), logger: createLogger('silent') });
  const poller = connector.poller;
  if (poller === undefined) throw new Error('the file connector polls');
  let checkpoint: unknown = null;
  const t: Tail = {
    rejected: [],
    async poll() {
      const emitted: CanonicalAlert[] = [];
      await poller.poll({
        checkpoint,
        emit: (alerts) => Promise.resolve(void emitted.push(...alerts)),
        saveCheckpoint: (value) => Promise.resolve(void (checkpoint = JSON.parse(JSON.stringify(value)) as unknown)),
        reject: (_body, errors) => Promise.resolve(void t.rejected.push(errors)),
        signal: new AbortController().signal,
      });
      return emitted;
    },
  };
  return t;
}

/** Runs a program without blocking the event loop: the loopback mirror below answers in this process. */
function run(program: string, args: string[], cwd: string): Promise<{ status: number | null; stdout: string; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, output: stdout + stderr }));
  });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recurd-clamav-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('clamav preset: clamscan', () => {
  it('turns the FOUND line of a real clamscan --log into a firing A.8.7 alert, and nothing else in the log', async () => {
    const clamscan = requireProgram('clamscan', 'clamav');
    const sigtool = requireProgram('sigtool', 'clamav');
    const infected = join(dir, 'eicar.com');
    const clean = join(dir, 'clean.txt');
    const log = join(dir, 'scan.log');
    writeFileSync(infected, EICAR);
    writeFileSync(clean, 'nothing to see\n');
    const signatures = await run(sigtool, ['--md5', 'eicar.com'], dir);
    expect(signatures.status).toBe(0);
    writeFileSync(join(dir, 'x.hdb'), signatures.stdout);

    const scan = await run(clamscan, ['--no-summary', '-d', 'x.hdb', infected, clean, `--log=${log}`], dir);
    expect(scan.status, scan.output).toBe(1); // 1: something was found
    const t = tail(log);
    const alerts = await t.poll();
    const inode = statSync(log, { bigint: true }).ino.toString();
    const line = `${infected}: eicar.com.UNOFFICIAL FOUND`;
    expect(alerts).toEqual([
      {
        id: expect.stringMatching(new RegExp(`^${inode}@${T0}:\\d+$`)) as unknown,
        source: 'clamav',
        family: 'av',
        status: 'firing',
        observedAt: T0,
        asset: infected,
        check: 'eicar.com.UNOFFICIAL',
        message: `eicar.com.UNOFFICIAL found in ${infected}`,
        severity: 'high',
        control: 'A.8.7',
        labels: { event: 'detection', signature: 'eicar.com.UNOFFICIAL' },
        evidence: { line, file: log, inode, offset: expect.any(Number) as unknown },
      },
    ]);
    expect(t.rejected).toEqual([]);

    // The same file found again in a later scan is a new observation, under its own id.
    expect((await run(clamscan, ['--no-summary', '-d', 'x.hdb', infected, `--log=${log}`], dir)).status).toBe(1);
    const again = await t.poll();
    expect(again.map((alert) => alert.check)).toEqual(['eicar.com.UNOFFICIAL']);
    expect(again[0]?.id).not.toBe(alerts[0]?.id);
  });

  it('names the host as the asset when the mapping says so', async () => {
    const log = join(dir, 'scan.log');
    writeFileSync(log, '/srv/upload/invoice.pdf.exe: Win.Trojan.Agent-1234 FOUND\n');
    const [alert] = await tail(log, { mapping: { asset: { value: 'web-01' } } }).poll();
    expect(alert).toMatchObject({ asset: 'web-01', check: 'Win.Trojan.Agent-1234', status: 'firing' });
  });
});

describe('clamav preset: freshclam', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
  });

  /** A custom-database mirror on loopback: 404 until `serving`, then the file, then 304 when asked whether it changed. */
  async function mirror(database: string): Promise<{ url: string; serve: () => void }> {
    let serving = false;
    server = createServer((request, response) => {
      if (!serving) response.writeHead(404).end();
      else if (request.headers['if-modified-since'] !== undefined) response.writeHead(304).end();
      else response.writeHead(200, { 'last-modified': new Date(T0).toUTCString() }).end(database);
    });
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const address = listening.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return { url: `http://127.0.0.1:${port}/local.hdb`, serve: () => (serving = true) };
  }

  async function freshclam(log: string, lines: string[], { user = userInfo().username, mirror = '' } = {}): Promise<{ status: number | null; output: string }> {
    const program = requireProgram('freshclam', 'clamav-freshclam');
    const database = join(dir, 'db');
    mkdirSync(database, { recursive: true });
    const closed = mirror === '' ? `http://127.0.0.1:${await freePort()}` : mirror;
    const config = join(dir, 'freshclam.conf');
    writeFileSync(
      config,
      [
        `DatabaseDirectory ${database}`,
        `UpdateLogFile ${log}`,
        'LogTime yes',
        // Never the default mirrors: a closed loopback port, and no DNS version check.
        `PrivateMirror ${closed}`,
        'MaxAttempts 1',
        'ConnectTimeout 5',
        'ReceiveTimeout 5',
        ...lines,
        '',
      ].join('\n'),
    );
    // As root, freshclam would switch to the clamav user, who cannot write here.
    const switchTo = process.getuid?.() === 0 ? [`--user=${user}`] : [];
    return run(program, [`--config-file=${config}`, ...switchTo], dir);
  }

  it('turns a real failed update of the official database into a firing "signature update failed"', async () => {
    const log = join(dir, 'freshclam.log');
    const result = await freshclam(log, []);
    expect(result.status, result.output).not.toBe(0);
    const t = tail(log);
    expect((await t.poll()).map((alert) => [alert.status, alert.check, alert.message, alert.severity, alert.control, alert.family])).toEqual([
      ['firing', 'freshclam:daily', 'signature update failed: daily', 'medium', 'A.8.7', 'av'],
    ]);
    expect(t.rejected).toEqual([]);
  });

  it('fires when a custom database cannot be fetched, and resolves when it is updated, then current', async () => {
    const sigtool = requireProgram('sigtool', 'clamav');
    writeFileSync(join(dir, 'eicar.com'), EICAR);
    const signatures = await run(sigtool, ['--md5', 'eicar.com'], dir);
    const { url, serve } = await mirror(signatures.stdout);
    const log = join(dir, 'freshclam.log');
    const customOnly = ['ExcludeDatabase daily', 'ExcludeDatabase main', 'ExcludeDatabase bytecode', `DatabaseCustomURL ${url}`];
    const t = tail(log);

    const failed = await freshclam(log, customOnly);
    expect(failed.status, failed.output).not.toBe(0);
    expect((await t.poll()).map((alert) => [alert.status, alert.check, alert.message])).toEqual([
      ['firing', 'freshclam:local.hdb', 'signature update failed: local.hdb'],
    ]);

    serve();
    const updated = await freshclam(log, customOnly);
    expect(updated.status, updated.output).toBe(0);
    const current = await freshclam(log, customOnly);
    expect(current.status, current.output).toBe(0);
    const updatedLine = expect.stringMatching(/ -> local\.hdb updated \(version: custom database, sigs: 1\)$/) as unknown;
    const currentLine = expect.stringMatching(/ -> local\.hdb is up-to-date \(version: custom database\)$/) as unknown;
    expect((await t.poll()).map((alert) => [alert.status, alert.check, alert.evidence.line])).toEqual([
      ['resolved', 'freshclam:local.hdb', updatedLine],
      ['resolved', 'freshclam:update', updatedLine],
      ['resolved', 'freshclam:local.hdb', currentLine],
      ['resolved', 'freshclam:update', currentLine],
    ]);
    expect(t.rejected).toEqual([]);
  });

  it("fires freshclam's own check when it cannot create freshclam.dat, on the log line and on standard error, and resolves when a database is current", async () => {
    const log = join(dir, 'freshclam.log');
    const database = join(dir, 'db');
    mkdirSync(database, { recursive: true });
    writeFileSync(log, '');
    // A database directory freshclam may not write: as root it runs as nobody, who may only read
    // the directory (and append to the log); as anyone else, the directory is read-only.
    chmodSync(dir, 0o755);
    chmodSync(log, 0o666);
    chmodSync(database, 0o555);
    const t = tail(log);
    const denied = await freshclam(log, [], { user: 'nobody' });
    expect(denied.status, denied.output).not.toBe(0);
    expect(denied.output).toMatch(/ERROR: initialize: libfreshclam init failed\./);
    expect((await t.poll()).map((alert) => [alert.status, alert.check, alert.message, alert.severity])).toEqual([
      ['firing', 'freshclam:update', `signature update failed: Can't create freshclam.dat in ${database}`, 'medium'],
    ]);

    // freshclam's standard error, as a service manager would keep it: the level before the time.
    const stderr = join(dir, 'freshclam.stderr');
    writeFileSync(stderr, denied.output);
    expect((await tail(stderr).poll()).map((alert) => [alert.status, alert.check, alert.message])).toEqual([
      ['firing', 'freshclam:update', `signature update failed: Can't create freshclam.dat in ${database}`],
      ['firing', 'freshclam:update', 'signature update failed: initialize: libfreshclam init failed.'],
    ]);

    chmodSync(database, 0o755);
    const sigtool = requireProgram('sigtool', 'clamav');
    writeFileSync(join(dir, 'eicar.com'), EICAR);
    const { url, serve } = await mirror((await run(sigtool, ['--md5', 'eicar.com'], dir)).stdout);
    serve();
    const customOnly = ['ExcludeDatabase daily', 'ExcludeDatabase main', 'ExcludeDatabase bytecode', `DatabaseCustomURL ${url}`];
    const updated = await freshclam(log, customOnly);
    expect(updated.status, updated.output).toBe(0);
    expect((await t.poll()).map((alert) => [alert.status, alert.check])).toEqual([
      ['resolved', 'freshclam:local.hdb'],
      ['resolved', 'freshclam:update'],
    ]);
    expect(t.rejected).toEqual([]);
  });

  it("fires the database's check when freshclam finds a newer daily.cvd on the mirror but cannot download it", async () => {
    // A loopback mirror that announces a newer daily.cvd (its 512-byte header, the format of
    // libclamav's cl_cvdparse: ClamAV-VDB:time:version:sigs:f-level:md5:dsig:builder:stime) and
    // then refuses the file itself.
    const header = 'ClamAV-VDB:07 Dec 2026 08-00 +0000:27000:2000000:90:d41d8cd98f00b204e9800998ecf8427e:X:builder:1796630400'.padEnd(512, ' ');
    server = createServer((request, response) => {
      if (request.url === '/daily.cvd' && request.headers.range !== undefined) response.writeHead(206, { 'content-length': '512' }).end(header);
      else response.writeHead(404).end();
    });
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const address = listening.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const log = join(dir, 'freshclam.log');
    const result = await freshclam(log, ['ScriptedUpdates no'], { mirror: `http://127.0.0.1:${port}` });
    expect(result.status, result.output).not.toBe(0);
    const t = tail(log);
    expect((await t.poll()).map((alert) => [alert.status, alert.check, alert.message, alert.evidence.line])).toEqual([
      ['firing', 'freshclam:daily', 'signature update failed: daily', expect.stringMatching(new RegExp(` -> ERROR: Can't download daily\\.cvd from http://127\\.0\\.0\\.1:${port}/daily\\.cvd$`)) as unknown],
      ['firing', 'freshclam:daily', 'signature update failed: daily', expect.stringMatching(/ -> ERROR: Update failed for database: daily$/) as unknown],
    ]);
    expect(t.rejected).toEqual([]);
  });

  it('reads the other failure lines in the words of ClamAV 1.4 source, and leaves the summary lines alone', async () => {
    // The format strings of Cisco-Talos/clamav @ 67a02aa2352c5628d261cca97244bac6ba9ab461
    // (libfreshclam/libfreshclam.c, libfreshclam/libfreshclam_internal.c, freshclam/freshclam.c),
    // filled in as freshclam would.
    const log = join(dir, 'freshclam.log');
    appendFileSync(
      log,
      [
        'ERROR: Unexpected error when attempting to update bytecode: Database load failed',
        "ERROR: downloadPatchAndApply: Can't download daily-27001.cdiff from https://database.clamav.net/daily-27001.cdiff",
        "ERROR: Can't read CVD header of new main.cvd database.",
        "ERROR: Update failed. Can't delete the old database daily.cld to replace it with a new database. Please fix the problem manually and try again.",
        "ERROR: Can't write to freshclam.dat",
        'ERROR: Database directory does not exist: /var/lib/clamav',
        "ERROR: Can't create temporary directory /var/lib/clamav/tmp.4f2a1b",
        'ERROR: Failed to load new database: Malformed database',
        'ERROR: Database test FAILED.',
        'ERROR: Database update process failed: HTTP GET failed',
        'ERROR: Update failed.',
        'ERROR: Failed to save freshclam.dat!',
        'ERROR: Initialization error!',
        'WARNING: downloadFile: file not found: https://database.clamav.net/daily.cvd',
        '',
      ].join('\n'),
    );
    const t = tail(log);
    expect((await t.poll()).map((alert) => alert.check)).toEqual([
      'freshclam:bytecode',
      'freshclam:daily',
      'freshclam:main',
      'freshclam:daily',
      'freshclam:update',
      'freshclam:update',
      'freshclam:update',
      'freshclam:update',
      'freshclam:update',
    ]);
    expect(t.rejected).toEqual([]);
  });

  it('resolves the official databases on the success lines freshclam prints when it reaches a real mirror', async () => {
    // Printed by freshclam against the public mirrors, as published: imfrom/imfrom
    // content/post/clamav-freshclam-update-definitions.md (ffde63c) and tquizzle/clamav-alpine
    // README.md (d94df25). This machine cannot reach a mirror, so they are replayed here.
    const log = join(dir, 'freshclam.log');
    appendFileSync(
      log,
      [
        'ClamAV update process started at Tue Aug 28 01:16:43 2018',
        'daily.cvd updated (version: 24880, sigs: 2066436, f-level: 63, builder: neo)',
        'Database updated (6632776 signatures) from database.clamav.net (IP: )',
        'daily.cld database is up-to-date (version: 26143, sigs: 3971196, f-level: 63, builder: raynman)',
        'main.cld database is up-to-date (version: 59, sigs: 4564902, f-level: 60, builder: sigmgr)',
        '',
      ].join('\n'),
    );
    expect((await tail(log).poll()).map((alert) => [alert.status, alert.check])).toEqual([
      ['resolved', 'freshclam:daily'],
      ['resolved', 'freshclam:update'],
      ['resolved', 'freshclam:daily'],
      ['resolved', 'freshclam:update'],
      ['resolved', 'freshclam:main'],
      ['resolved', 'freshclam:update'],
    ]);
  });
});
