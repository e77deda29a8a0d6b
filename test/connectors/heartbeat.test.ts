import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVIDENCE_LIMIT, MAX_MISSED, QUOTED_ERRORS, heartbeatConnector } from '../../connectors/heartbeat.js';
import { MemoryConnectorState, type Connector, type IntakeResult, type PollContext } from '../../connectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { canonicalAlertSchema, type CanonicalAlert } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';
import { requireProgram } from '../../bench/programs/installed.js';

// What restic 0.14.0 printed here: `restic backup --json` of a small directory (stdout), then the
// stderr of a wrong password and of a missing repository (`-r missing`).
const RESTIC_BACKUP = [
  '{"message_type":"status","percent_done":0,"total_files":1,"total_bytes":6}',
  '{"message_type":"summary","files_new":2,"files_changed":0,"files_unmodified":0,"dirs_new":1,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":2,"tree_blobs":2,"data_added":4951,"total_files_processed":2,"total_bytes_processed":3899,"total_duration":0.21582455,"snapshot_id":"77dd613e"}',
  '',
].join('\n');
const RESTIC_WRONG_PASSWORD = 'Fatal: wrong password or no key found\n';
const RESTIC_NO_REPOSITORY = [
  'Fatal: unable to open config file: stat missing/config: no such file or directory',
  'Is there a repository at the following location?',
  'missing',
  '',
].join('\n');

const T0 = Date.parse('2026-11-23T02:00:00Z');
const S = 1000;
const H = 3_600_000;
const D = 24 * H;

const BASE = { type: 'heartbeat', name: 'backups', family: 'backup', control: 'A.8.13', auth: { type: 'bearer', token: 't' } };

interface Harness {
  connector: Connector;
  clock: ManualClock;
  state: MemoryConnectorState;
  warnings: string[];
  post(route: string, body?: unknown, at?: number): Promise<IntakeResult>;
  /** One poll at the clock's time, carrying the checkpoint from the previous one, as the pipeline does. */
  poll(): Promise<CanonicalAlert[]>;
  checkpoint: unknown;
}

function harness(fields: Record<string, unknown> = {}): Harness {
  const clock = new ManualClock(T0);
  const state = new MemoryConnectorState();
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  });
  const config = heartbeatConnector.schema.parse({ ...BASE, jobs: { nightly: { period: '1d', grace: '2h' } }, ...fields });
  const connector = heartbeatConnector.create(config, { state, clock, logger: createLogger('warn', sink) });
  const { intake, poller } = connector;
  if (intake === undefined || poller === undefined) throw new Error('heartbeat has an intake and a poller');
  const h: Harness = {
    connector,
    clock,
    state,
    warnings,
    checkpoint: null,
    // As the pipeline does: the state changes of a result are kept only with its alerts.
    post: async (route, body = {}, at = clock.now()) => {
      const result = await intake.normalise(body, at, route);
      if (result.errors.length === 0 && result.stateChanges !== undefined) state.apply(result.stateChanges);
      return result;
    },
    async poll() {
      const emitted: CanonicalAlert[] = [];
      const context: PollContext = {
        checkpoint: h.checkpoint,
        emit: (alerts) => {
          emitted.push(...alerts);
          return Promise.resolve();
        },
        // Stored as JSON in Redis: only what survives a round trip may be relied on.
        saveCheckpoint: (value) => {
          h.checkpoint = JSON.parse(JSON.stringify(value)) as unknown;
          return Promise.resolve();
        },
        reject: () => Promise.reject(new Error('the heartbeat poller has nothing to reject')),
        signal: new AbortController().signal,
      };
      await poller.poll(context);
      return emitted;
    },
  };
  return h;
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('heartbeat connector: config', () => {
  const parse = (fields: Record<string, unknown>) => heartbeatConnector.schema.safeParse({ ...BASE, ...fields });
  const issues = (fields: Record<string, unknown>) => {
    const result = parse(fields);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('reads periods and graces as durations and polls every 30 s by default', () => {
    const result = parse({ jobs: { 'nightly-db': { period: '1d', grace: '1h30m', asset: 'srv-db-01' } } });
    expect(result.success && result.data).toMatchObject({
      schedule: '*/30 * * * * *',
      severity: 'medium',
      jobs: { 'nightly-db': { period: D, grace: 90 * 60 * S, asset: 'srv-db-01' } },
    });
  });

  it('names each field that is wrong', () => {
    expect(issues({ jobs: {} })).toEqual(['jobs: name at least one job']);
    expect(issues({ jobs: { nightly: { period: '0s', grace: '0' } } })).toEqual(['jobs.nightly.period: must be longer than 0', 'jobs.nightly.grace: must be longer than 0']);
    expect(issues({ jobs: { nightly: { period: 'daily', grace: '1h' } } })).toEqual(['jobs.nightly.period: "daily" is not a duration (use e.g. 30d, 12h, 90s, 1h30m)']);
    expect(issues({ jobs: { nightly: { period: '1d' } } })).toEqual([expect.stringMatching(/^jobs\.nightly\.grace: /)]);
    expect(issues({ jobs: { nightly: { period: '1d', grace: '1h', retries: 3 } } })).toEqual([expect.stringMatching(/^jobs\.nightly: .*retries/)]);
    expect(issues({ jobs: { nightly: { period: '1d', grace: '1h', control: '8.13' } } })).toEqual(['jobs.nightly.control: an ISO/IEC 27001 Annex A id such as A.8.13 (2022) or A.12.3.1 (2013)']);
    expect(issues({ jobs: { nightly: { period: '1d', grace: '1h' } }, schedule: 'every minute' })).toEqual([expect.stringMatching(/^schedule: "every minute" is not a cron expression/)]);
    expect(issues({ jobs: { nightly: { period: '1d', grace: '1h' } }, family: undefined })).toEqual([expect.stringMatching(/^family: /)]);
  });

  it('refuses a job name that cannot stand in a URL', () => {
    expect(issues({ jobs: { 'db/nightly': { period: '1d', grace: '1h' } } })).toEqual(['jobs.db/nightly: is not a job name: use letters, digits, ., - and _ (it appears in URLs)']);
    expect(issues({ jobs: { '..': { period: '1d', grace: '1h' }, ok: { period: '1d', grace: '1h' } } })).toEqual(['jobs...: is not a job name: use letters, digits, ., - and _ (it appears in URLs)']);
  });
});

describe('heartbeat connector: reports', () => {
  it('turns a success into a resolved alert for the job, with restic’s summary as message and evidence', async () => {
    const h = harness({ jobs: { nightly: { period: '1d', grace: '2h', asset: 'srv-db-01' } } });
    const { alerts, errors } = await h.post('nightly/success', RESTIC_BACKUP);
    expect(errors).toEqual([]);
    const summary = JSON.parse(RESTIC_BACKUP.split('\n')[1] ?? '') as unknown;
    expect(alerts).toEqual([
      {
        id: 'nightly:success:snapshot-77dd613e',
        source: 'backups',
        family: 'backup',
        status: 'resolved',
        observedAt: T0,
        asset: 'srv-db-01',
        check: 'nightly',
        message: 'nightly succeeded: restic snapshot 77dd613e: 2 files, 3899 bytes processed, 4951 bytes added in 0.2 s',
        severity: 'medium',
        control: 'A.8.13',
        labels: { job: 'nightly' },
        // restic's progress line is dropped: its summary supersedes it.
        evidence: { job: 'nightly', event: 'success', output: [summary], outputOmitted: 1 },
      },
    ]);
    expect(canonicalAlertSchema.parse(alerts[0])).toEqual(alerts[0]);
  });

  it('takes the same output as a JSON array (`jq -s`) or as its summary alone', async () => {
    const lines = RESTIC_BACKUP.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    const h = harness();
    const fromText = (await h.post('nightly/success', RESTIC_BACKUP)).alerts[0];
    const fromArray = (await h.post('nightly/success', lines)).alerts[0];
    const fromSummary = (await h.post('nightly/success', lines[1])).alerts[0];
    expect(fromArray).toEqual(fromText);
    expect(fromSummary).toMatchObject({ id: fromText?.id, message: fromText?.message });
  });

  it('gives a report sent twice one id when restic names the snapshot, and one per arrival otherwise', async () => {
    const h = harness();
    const first = await h.post('nightly/success', RESTIC_BACKUP, T0);
    const again = await h.post('nightly/success', RESTIC_BACKUP, T0 + 5 * S);
    expect(again.alerts.map((alert) => alert.id)).toEqual(first.alerts.map((alert) => alert.id));
    const plain = await h.post('nightly/success', {}, T0 + 6 * S);
    expect(plain.alerts.map((alert) => [alert.id, alert.message, alert.evidence])).toEqual([
      [`nightly:success:${iso(T0 + 6 * S)}`, 'nightly succeeded', { job: 'nightly', event: 'success' }],
    ]);
  });

  it('turns a failure into a firing alert whose message is restic’s fatal error, with the whole text as evidence', async () => {
    const h = harness({ severity: 'high' });
    const wrong = await h.post('nightly/fail', RESTIC_WRONG_PASSWORD);
    expect(wrong).toEqual({
      alerts: [
        expect.objectContaining({
          id: `nightly:fail:${iso(T0)}`,
          status: 'firing',
          severity: 'high',
          observedAt: T0,
          message: 'nightly failed: Fatal: wrong password or no key found',
          evidence: { job: 'nightly', event: 'fail', text: 'Fatal: wrong password or no key found' },
        }),
      ],
      errors: [],
      stateChanges: { 'nightly:finished': String(T0) },
    });
    const missing = await h.post('nightly/fail', RESTIC_NO_REPOSITORY, T0 + S);
    expect(missing.alerts[0]).toMatchObject({
      message: 'nightly failed: Fatal: unable to open config file: stat missing/config: no such file or directory',
      evidence: { text: RESTIC_NO_REPOSITORY.trim() },
    });
  });

  it('reads stdout and stderr posted together, and quotes the last line of a job that is not restic', async () => {
    const h = harness();
    const both = await h.post('nightly/fail', `${RESTIC_BACKUP}${RESTIC_WRONG_PASSWORD}`);
    expect(both.alerts[0]?.message).toBe('nightly failed: Fatal: wrong password or no key found');
    expect(both.alerts[0]?.evidence).toMatchObject({ output: [expect.objectContaining({ snapshot_id: '77dd613e' })], text: RESTIC_WRONG_PASSWORD.trim() });
    const script = await h.post('nightly/fail', 'dumping db\npg_dump: error: connection to server failed\n', T0 + S);
    expect(script.alerts[0]?.message).toBe('nightly failed: pg_dump: error: connection to server failed');
    const partial = await h.post('nightly/fail', RESTIC_BACKUP, T0 + 2 * S);
    expect(partial.alerts[0]).toMatchObject({ id: 'nightly:fail:snapshot-77dd613e', message: expect.stringMatching(/^nightly failed: restic snapshot 77dd613e: /) as unknown });
  });

  it('keeps evidence bounded: the newest records and the last text that fit', async () => {
    const h = harness();
    const lines = Array.from({ length: 2000 }, (_, index) => `line ${index}: ${'x'.repeat(40)}`);
    const { alerts } = await h.post('nightly/fail', lines.join('\n'));
    const evidence = alerts[0]?.evidence as { text: string; textOmitted: number };
    expect(evidence.text).toHaveLength(EVIDENCE_LIMIT);
    expect(evidence.text.endsWith(lines.at(-1) ?? '')).toBe(true);
    expect(evidence.textOmitted).toBe(lines.join('\n').length - EVIDENCE_LIMIT);
    expect(alerts[0]?.message).toBe(`nightly failed: ${lines.at(-1)}`);

    const records = Array.from({ length: 1000 }, (_, index) => ({ index, detail: 'y'.repeat(50) }));
    const fromRecords = (await h.post('nightly/success', records, T0 + S)).alerts[0]?.evidence as { output: Array<{ index: number }>; outputOmitted: number };
    expect(JSON.stringify(fromRecords.output).length).toBeLessThanOrEqual(EVIDENCE_LIMIT);
    expect(fromRecords.output.at(-1)?.index).toBe(999);
    expect(fromRecords.output.length + fromRecords.outputOmitted).toBe(1000);

    const long = (await h.post('nightly/fail', `Fatal: ${'z'.repeat(5000)}`, T0 + 2 * S)).alerts[0]?.message ?? '';
    expect(long.length).toBeLessThan(1100);
    expect(long.endsWith('…')).toBe(true);
  });

  it('takes a start as the beginning of a run, not as an observation', async () => {
    const h = harness();
    expect(await h.post('nightly/start')).toEqual({ alerts: [], errors: [], stateChanges: { 'nightly:started': String(T0) } });
    expect(await h.state.all()).toEqual({ 'nightly:started': String(T0) });
  });

  it('names what is wrong with a route', async () => {
    const h = harness({ jobs: { nightly: { period: '1d', grace: '2h' }, weekly: { period: '7d', grace: '1d' } } });
    const route = async (path: string) => (await h.post(path)).errors;
    expect(await route('nightlyy/success')).toEqual([{ path: '(route)', message: 'job "nightlyy" is not configured here (jobs: nightly, weekly)' }]);
    expect(await route('nightly/finish')).toEqual([{ path: '(route)', message: '"finish" is not an event: post to /hooks/{connector}/{job}/start, /success or /fail' }]);
    expect(await route('')).toEqual([{ path: '(route)', message: 'no job and event: post to /hooks/{connector}/{job}/start, /success or /fail' }]);
    expect(await route('nightly')).toEqual([{ path: '(route)', message: '"nightly" is not {job}/{event}: post to /hooks/{connector}/{job}/start, /success or /fail' }]);
    expect(await route('nightly/success/now')).toEqual([{ path: '(route)', message: '"nightly/success/now" is not {job}/{event}: post to /hooks/{connector}/{job}/start, /success or /fail' }]);
    // Nothing of a refused report is recorded: the run still counts as missing.
    expect(await h.state.all()).toEqual({});
  });

  it('tells the sender to send again when the last runs cannot be read', async () => {
    const h = harness();
    h.state.get = () => Promise.reject(new Error('connection closed'));
    await expect(h.post('nightly/success')).rejects.toMatchObject({
      code: 'RECURD_ERR_ENQUEUE_FAILED',
      status: 503,
      message: 'backups: the success of nightly could not be recorded: its last runs were not read; send it again',
    });
  });

  it('leaves the run record to be stored with the alerts, never before them', async () => {
    const h = harness();
    const result = await h.connector.intake?.normalise({}, T0, 'nightly/success');
    expect(result?.stateChanges).toEqual({ 'nightly:finished': String(T0) });
    expect(await h.state.all()).toEqual({});
  });

  it('gives a decision or named errors for any body and route, never a crash', async () => {
    const h = harness({ jobs: { nightly: { period: '1m', grace: '1m' } } });
    const body = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 300 }), fc.array(fc.oneof(fc.json(), fc.string()), { maxLength: 5 }).map((lines) => lines.join('\n')));
    const route = fc.oneof(fc.constantFrom('nightly/start', 'nightly/success', 'nightly/fail'), fc.string({ maxLength: 30 }));
    let at = T0;
    await fc.assert(
      fc.asyncProperty(body, route, async (payload, path) => {
        at += S;
        const { alerts, errors } = await h.post(path, payload, at);
        expect(alerts.length > 0 || errors.length > 0 || path === 'nightly/start').toBe(true);
        for (const alert of alerts) expect(canonicalAlertSchema.parse(alert)).toEqual(alert);
        for (const error of errors) expect(error).toMatchObject({ path: '(route)', message: expect.any(String) as unknown });
      }),
      { numRuns: 300 },
    );
  });
});

describe("heartbeat connector: restic's JSON error records", () => {
  /** Runs restic with nothing of the machine's setup; as root, as nobody, so that a file can be unreadable. */
  function restic(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const binary = requireProgram('restic', 'restic');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, RESTIC_CACHE_DIR: join(dir, 'cache'), RESTIC_PASSWORD: 'recurd' };
    const [program, programArgs] =
      process.getuid?.() === 0 ? [requireProgram('setpriv', 'util-linux'), ['--reuid=65534', '--regid=65534', '--clear-groups', binary, ...args]] : [binary, args];
    return new Promise((resolve) => {
      execFile(program, programArgs, { env, timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });
  }

  it('quotes the file a real restic 0.14 backup could not read, after its warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recurd-restic-'));
    try {
      chmodSync(dir, 0o777);
      const data = join(dir, 'data');
      mkdirSync(data, { mode: 0o755 });
      chmodSync(data, 0o755);
      writeFileSync(join(data, 'readable'), 'hello\n');
      const secret = join(data, 'secret');
      writeFileSync(secret, 'not for restic\n');
      chmodSync(secret, 0o000);
      const repository = join(dir, 'repo');
      const init = await restic(dir, ['init', '-q', '-r', repository]);
      expect(init.code, init.stderr).toBe(0);
      const backup = await restic(dir, ['backup', '--json', '-r', repository, data]);
      expect(backup.code, backup.stderr).toBe(3); // 3: a snapshot, but some source data could not be read
      // What restic 0.14 prints on stderr: Go's error itself as the error, then a text warning.
      expect(backup.stderr).toContain(`{"message_type":"error","error":{"Op":"open","Path":"${secret}","Err":13},"during":"archival","item":"${secret}"}`);

      const h = harness();
      const { alerts } = await h.post('nightly/fail', `${backup.stdout}${backup.stderr}`);
      expect(alerts[0]?.message).toBe(`nightly failed: Warning: at least one source file could not be read; open ${secret}: EACCES`);
      expect(alerts[0]?.evidence.output).toContainEqual(expect.objectContaining({ message_type: 'error', item: secret }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("puts restic's exit_error first, then each error record with its path (the records of restic 0.17 and later)", async () => {
    const records = readFileSync(new URL('../fixtures/restic/backup-unreadable.json-schema.stderr.ndjson', import.meta.url), 'utf8');
    const { alerts } = await harness().post('nightly/fail', records);
    expect(alerts[0]?.message).toBe('nightly failed: Warning: at least one source file could not be read; open /srv/db/secret: permission denied');
    const [error, exit] = records.trim().split('\n');
    // The exit error comes first whatever its place among the lines, and only its first line: advice follows it.
    const advised = '{"message_type":"exit_error","code":10,"message":"Fatal: repository does not exist: unable to open config file\\nIs there a repository at the following location?"}';
    expect((await harness().post('nightly/fail', `${advised}\n${error ?? ''}`)).alerts[0]?.message).toBe(
      'nightly failed: Fatal: repository does not exist: unable to open config file; open /srv/db/secret: permission denied',
    );
    expect((await harness().post('nightly/fail', `${error ?? ''}\n${exit ?? ''}`)).alerts[0]?.message).toMatch(/^nightly failed: Warning: at least one/);
  });

  it(`quotes at most ${QUOTED_ERRORS} errors, names the item where the error does not, and counts the rest`, async () => {
    const unreadable = (item: string) => JSON.stringify({ message_type: 'error', error: { message: 'permission denied' }, during: 'archival', item });
    const body = [...['/a', '/b', '/b', '/c', '/d', '/e'].map(unreadable), '{"message_type":"error","message":"pack 1f2e is damaged"}'].join('\n');
    const { alerts } = await harness().post('nightly/fail', body);
    expect(alerts[0]?.message).toBe('nightly failed: /a: permission denied; /b: permission denied; /c: permission denied; and 3 more errors');
    expect((await harness().post('nightly/fail', '{"message_type":"error","message":"pack 1f2e is damaged"}')).alerts[0]?.message).toBe(
      'nightly failed: pack 1f2e is damaged',
    );
  });
});

describe('heartbeat connector: missed and overrunning runs', () => {
  it('fires for a job that never reported, one period and grace after it began to be watched', async () => {
    const h = harness();
    expect(await h.poll()).toEqual([]);
    h.clock.set(T0 + D + 2 * H - 1);
    expect(await h.poll()).toEqual([]);
    h.clock.set(T0 + D + 2 * H);
    expect(await h.poll()).toEqual([
      {
        id: `nightly:missed:${iso(T0 + D)}`,
        source: 'backups',
        family: 'backup',
        status: 'firing',
        observedAt: T0 + D + 2 * H,
        asset: 'nightly',
        check: 'nightly',
        message: `nightly did not report the run due at ${iso(T0 + D)} (every 1d, 2h grace)`,
        severity: 'medium',
        control: 'A.8.13',
        labels: { job: 'nightly' },
        evidence: { job: 'nightly', event: 'missed', dueAt: iso(T0 + D), period: '1d', grace: '2h', lastReportAt: null, countedFrom: iso(T0) },
      },
    ]);
    // The next polls, this replica's or another's, report it no more.
    h.clock.advance(30 * S);
    expect(await h.poll()).toEqual([]);
  });

  it('counts from the last report, and fires once per missed period with an id from its due time', async () => {
    const h = harness();
    await h.poll();
    await h.post('nightly/success', {}, T0 + H);
    h.clock.set(T0 + H + D + 2 * H - 1);
    expect(await h.poll()).toEqual([]);
    h.clock.set(T0 + H + 3 * D + 2 * H);
    const missed = await h.poll();
    expect(missed.map((alert) => [alert.id, alert.observedAt])).toEqual([1, 2, 3].map((k) => [`nightly:missed:${iso(T0 + H + k * D)}`, T0 + H + k * D + 2 * H]));
    expect(missed[0]?.evidence).toMatchObject({ lastReportAt: iso(T0 + H), countedFrom: iso(T0 + H) });
  });

  it('gives the same ids after the checkpoint is lost, so the engine drops them as duplicates', async () => {
    const h = harness();
    await h.post('nightly/success', {}, T0);
    h.clock.set(T0 + 2 * D + 2 * H);
    const first = await h.poll();
    expect(first.map((alert) => alert.id)).toEqual([`nightly:missed:${iso(T0 + D)}`, `nightly:missed:${iso(T0 + 2 * D)}`]);
    h.checkpoint = { jobs: 'not what the poller wrote' };
    expect(await h.poll()).toEqual(first);
    expect(h.warnings).toEqual(['heartbeat checkpoint unreadable; watching every job from now']);
  });

  it(`reports at most the latest ${MAX_MISSED} missed periods after a long silence`, async () => {
    const h = harness({ jobs: { minutely: { period: '1m', grace: '10s' } } });
    await h.post('minutely/success', {}, T0);
    h.clock.set(T0 + 1000 * 60 * S + 10 * S);
    const missed = await h.poll();
    expect(missed).toHaveLength(MAX_MISSED);
    expect(missed.at(-1)?.id).toBe(`minutely:missed:${iso(T0 + 1000 * 60 * S)}`);
    expect(missed[0]?.id).toBe(`minutely:missed:${iso(T0 + 901 * 60 * S)}`);
  });

  it('fires when a started run does not finish within its grace, and not when it does', async () => {
    const h = harness({ jobs: { nightly: { period: '1d', grace: '2h' }, weekly: { period: '7d', grace: '1d' } } });
    await h.poll();
    await h.post('nightly/start', {}, T0 + H);
    await h.post('weekly/start', {}, T0 + H);
    await h.post('weekly/success', {}, T0 + 20 * H);
    h.clock.set(T0 + 3 * H);
    expect(await h.poll()).toEqual([
      expect.objectContaining({
        id: `nightly:overrun:${iso(T0 + H)}`,
        status: 'firing',
        observedAt: T0 + 3 * H,
        message: `nightly started at ${iso(T0 + H)} and did not finish within its 2h grace`,
        evidence: { job: 'nightly', event: 'overrun', startedAt: iso(T0 + H), grace: '2h' },
      }),
    ]);
    h.clock.set(T0 + 8 * D);
    expect((await h.poll()).map((alert) => alert.id)).toEqual([...Array.from({ length: 7 }, (_, k) => `nightly:missed:${iso(T0 + H + (k + 1) * D)}`)]);
  });

  it('has a late run report the deadlines it missed while no poll ran, with the ids a poll would give', async () => {
    const h = harness();
    await h.post('nightly/success', {}, T0);
    const late = await h.post('nightly/success', RESTIC_BACKUP, T0 + 2 * D + 3 * H);
    expect(late.alerts.map((alert) => [alert.id, alert.status])).toEqual([
      [`nightly:missed:${iso(T0 + D)}`, 'firing'],
      [`nightly:missed:${iso(T0 + 2 * D)}`, 'firing'],
      ['nightly:success:snapshot-77dd613e', 'resolved'],
    ]);

    const polled = harness();
    await polled.post('nightly/success', {}, T0);
    polled.clock.set(T0 + 2 * D + 3 * H);
    expect((await polled.poll()).map((alert) => alert.id)).toEqual([`nightly:missed:${iso(T0 + D)}`, `nightly:missed:${iso(T0 + 2 * D)}`]);
  });

  it('has a run that finishes after its grace report the overrun before its own outcome', async () => {
    const h = harness();
    await h.post('nightly/start', {}, T0);
    const { alerts } = await h.post('nightly/success', {}, T0 + 3 * H);
    expect(alerts.map((alert) => [alert.id, alert.status, alert.observedAt])).toEqual([
      [`nightly:overrun:${iso(T0)}`, 'firing', T0 + 2 * H],
      [`nightly:success:${iso(T0 + 3 * H)}`, 'resolved', T0 + 3 * H],
    ]);
    // A report exactly at the deadline is on time.
    const onTime = harness();
    await onTime.post('nightly/start', {}, T0);
    expect((await onTime.post('nightly/fail', {}, T0 + 2 * H)).alerts.map((alert) => alert.id)).toEqual([`nightly:fail:${iso(T0 + 2 * H)}`]);
  });
});
