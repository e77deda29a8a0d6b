/**
 * Dispositions (void, risk-accepted) and overdue corrective actions through the daemon and the CLI
 * as users run them, on a real Redis: the daemon's clock is a manual one, so that an expiry or a
 * due date passes when the test says, and the sweep the daemon schedules finds it.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import type { ReceivedAlert } from '../src/core/types.js';
import { startDaemon, type Daemon } from '../src/daemon.js';
import { Engine } from '../src/engine.js';
import { createLogger } from '../src/log.js';
import { RedisRegister } from '../src/store/redis-register.js';
import { API_TOKEN, NOTIFY_SECRET, WEBHOOK_TOKEN, api, eventually, metricsOf, startReceiver, testConfig, ingestSettled } from './helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface EntryJson {
  type: string;
  event: string | null;
  at: string;
  detail: Record<string, unknown>;
}

interface NcJson {
  id: string;
  state: string;
  occurrences: number;
  recurrenceOf: string | null;
  overdue: boolean;
  voided: Record<string, unknown> | null;
  riskAcceptance: Record<string, unknown> | null;
  timeline: EntryJson[];
}

interface ErrorJson {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

/** The date `ms` falls on, as YYYY-MM-DD in UTC. */
function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

describe('dispositions and overdue actions through the daemon', () => {
  let redis: TestRedis;
  let prefix: string;
  let daemon: Daemon | null = null;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | null = null;
  const clock = new ManualClock();

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    await receiver?.close();
    receiver = null;
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });
  afterAll(async () => {
    await redis.stop();
  });

  async function start(): Promise<Daemon> {
    receiver = await startReceiver();
    clock.set(Date.now());
    const config = testConfig(redis.url, prefix, {
      policy: { skew: '1m' },
      notifiers: [{ name: 'audit', type: 'webhook', url: receiver.url, secret: NOTIFY_SECRET, backoff: '100ms' }],
    });
    daemon = await startDaemon(config, { logger: createLogger(config.log.level), clock });
    return daemon;
  }

  /** Posts one event to the generic intake, `minutes` from the clock's now, and waits until it is decided. */
  async function post(uid: string, state: 'bad' | 'good', minutes: number): Promise<void> {
    const body = JSON.stringify({ events: [{ uid, state, time: new Date(clock.now() + minutes * MINUTE).toISOString(), host: 'srv-db-01', rule: 'nightly-backup' }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const response = await fetch(`${daemon!.address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
    expect(response.status).toBe(202);
    await ingestSettled(daemon!);
  }

  /** Failed, fixed, failed again inside the window: the id of the NC the daemon raised. */
  async function raised(): Promise<string> {
    await post('a', 'bad', -60);
    await post('b', 'good', -50);
    await post('c', 'bad', -40);
    const listed = (await api<{ nonconformities: Array<{ id: string }> }>(daemon!.address, '/api/v1/nonconformities')).body.nonconformities;
    expect(listed).toHaveLength(1);
    return listed[0]?.id as string;
  }

  function show(id: string): Promise<NcJson> {
    return api<NcJson>(daemon!.address, `/api/v1/nonconformities/${id}`).then((answer) => answer.body);
  }

  function send(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    return api(daemon!.address, path, { method: 'POST', body: JSON.stringify(body) });
  }

  async function chainHolds(id: string): Promise<void> {
    const verified = await api<{ holds: boolean; failure: unknown }>(daemon!.address, `/api/v1/nonconformities/${id}/verify`);
    expect(verified.body).toMatchObject({ holds: true, failure: null });
  }

  function received(type: string): string[] {
    return (receiver?.received ?? []).filter((notification) => notification.json.type === type).map((notification) => notification.json.nonconformity.id);
  }

  it('refuses a past due date, sends nc.overdue once and counts it, voids with an actor, and raises a new NC on a recurrence after void', async () => {
    prefix = testPrefix();
    await start();
    const id = await raised();

    const past = await send(`/api/v1/nonconformities/${id}/corrective-action`, { action: 'moved the repository to a monitored volume', owner: 'backup team', dueDate: '2020-01-31' });
    expect(past.status).toBe(422);
    expect((past.body as ErrorJson).error).toMatchObject({ code: 'RECURD_ERR_DATE_IN_PAST', details: [{ path: 'dueDate' }] });
    expect((past.body as ErrorJson).error.message).toMatch(/^dueDate: 2020-01-31 is in the past/);

    await post('d', 'good', -30);
    const due = dateOf(clock.now() + DAY);
    const action = await send(`/api/v1/nonconformities/${id}/corrective-action`, { action: 'moved the repository to a monitored volume', owner: 'backup team', dueDate: due });
    expect(action).toMatchObject({ status: 200, body: { state: 'verifying', overdue: false } });
    expect(await metricsOf(daemon!)).toContain('recurd_corrective_actions_overdue{family="av",control=""} 0');

    // The due date ends at midnight UTC after it; the daemon's sweep, every second, finds it.
    clock.set(Date.parse(`${due}T00:00:00Z`) + DAY + MINUTE);
    await eventually(() => (received('nc.overdue').length > 0 ? true : undefined), 15_000, 'nc.overdue');
    // Several sweeps later, still once.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(received('nc.overdue')).toEqual([id]);
    const overdue = await show(id);
    expect(overdue).toMatchObject({ state: 'verifying', overdue: true });
    expect(overdue.timeline.filter((entry) => entry.type === 'overdue')).toEqual([
      expect.objectContaining({ event: 'nc.overdue', at: `${dateOf(Date.parse(`${due}T00:00:00Z`) + DAY)}T00:00:00.000Z`, detail: expect.objectContaining({ dueDate: due, owner: 'backup team', state: 'verifying' }) as unknown }),
    ]);
    expect(await metricsOf(daemon!)).toContain('recurd_corrective_actions_overdue{family="av",control=""} 1');
    const listed = await api<{ nonconformities: Array<{ id: string }>; count: number }>(daemon!.address, '/api/v1/nonconformities?overdue=true');
    expect(listed.body).toMatchObject({ count: 1, nonconformities: [{ id }], nextCursor: null });
    const bogus = await api<ErrorJson>(daemon!.address, '/api/v1/nonconformities?overdue=yes');
    expect(bogus.status).toBe(400);
    expect(bogus.body.error.message).toContain('overdue: overdue is true or false');

    const badReason = await send(`/api/v1/nonconformities/${id}/void`, { reason: 'not-needed', note: 'x' });
    expect(badReason.status).toBe(400);
    expect((badReason.body as ErrorJson).error).toMatchObject({ code: 'RECURD_ERR_REQUEST_INVALID', details: [{ path: 'reason', message: 'reason is one of false-positive, duplicate, test-data' }] });
    const noNote = await send(`/api/v1/nonconformities/${id}/void`, { reason: 'test-data' });
    expect((noNote.body as ErrorJson).error.details).toEqual([expect.objectContaining({ path: 'note' })]);

    const voided = await send(`/api/v1/nonconformities/${id}/void`, { reason: 'test-data', note: 'alerts of the restore drill' });
    expect(voided).toMatchObject({ status: 200, body: { state: 'void', overdue: false, voided: { reason: 'test-data', note: 'alerts of the restore drill', actor: 'admin' } } });
    await eventually(() => (received('nc.voided').length > 0 ? true : undefined), 10_000, 'nc.voided');
    const metrics = await metricsOf(daemon!);
    expect(metrics).toContain('recurd_corrective_actions_overdue{family="av",control=""} 0');
    expect(metrics).toContain('recurd_nonconformities{state="void"} 1');
    expect(metrics).toContain('recurd_nonconformities{state="verifying"} 0');
    expect(metrics).not.toMatch(/recurd_corrective_action_reopen_ratio\{/);
    expect((await show(id)).timeline.at(-1)).toMatchObject({ type: 'voided', event: 'nc.voided', detail: { actor: 'admin', reason: 'test-data', previousState: 'verifying' } });
    const again = await send(`/api/v1/nonconformities/${id}/void`, { reason: 'duplicate', note: 'again' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'RECURD_ERR_NC_VOID' } } });

    // The symptom comes back inside the window of the action: a new NC, which names the void one.
    await post('e', 'bad', 0);
    const all = (await api<{ nonconformities: Array<{ id: string; state: string; recurrenceOf: string | null }> }>(daemon!.address, '/api/v1/nonconformities')).body.nonconformities;
    expect(all).toHaveLength(2);
    expect(all.find((nc) => nc.id !== id)).toMatchObject({ state: 'open', recurrenceOf: id });
    await chainHolds(id);
  }, 90_000);

  it('accepts a risk until a date, counts occurrences meanwhile, and returns the NC to open at expiry', async () => {
    prefix = testPrefix();
    await start();
    const id = await raised();

    const past = await send(`/api/v1/nonconformities/${id}/accept-risk`, { approver: 'CISO', reason: 'host retired soon', until: dateOf(clock.now() - DAY) });
    expect(past.status).toBe(422);
    expect((past.body as ErrorJson).error).toMatchObject({ code: 'RECURD_ERR_DATE_IN_PAST', details: [{ path: 'until' }] });
    const missing = await send(`/api/v1/nonconformities/${id}/accept-risk`, { reason: 'host retired soon', until: 'soon' });
    expect((missing.body as ErrorJson).error.details.map((detail) => detail.path)).toEqual(['approver', 'until']);

    const until = new Date(clock.now() + 2 * DAY).toISOString();
    const ok = await send(`/api/v1/nonconformities/${id}/accept-risk`, { approver: 'CISO', reason: 'host retired soon', until });
    expect(ok).toMatchObject({ status: 200, body: { state: 'risk-accepted', riskAcceptance: { approver: 'CISO', reason: 'host retired soon', actor: 'admin', until } } });
    await eventually(() => (received('nc.risk-accepted').length > 0 ? true : undefined), 10_000, 'nc.risk-accepted');

    // A return while accepted: one more occurrence; the NC stays accepted.
    await post('d', 'good', -30);
    await post('e', 'bad', -20);
    expect(await show(id)).toMatchObject({ state: 'risk-accepted', occurrences: 3 });
    expect(await metricsOf(daemon!)).toContain('recurd_nonconformities{state="risk-accepted"} 1');

    clock.set(Date.parse(until) + MINUTE);
    await eventually(async () => ((await show(id)).state === 'open' ? true : undefined), 15_000, 'the NC back to open');
    await eventually(() => (received('nc.risk-expired').length > 0 ? true : undefined), 10_000, 'nc.risk-expired');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(received('nc.risk-expired')).toEqual([id]);
    const reopened = await show(id);
    expect(reopened).toMatchObject({ state: 'open', riskAcceptance: null });
    expect(reopened.timeline.at(-1)).toMatchObject({ type: 'risk-expired', event: 'nc.risk-expired', at: until, detail: { approver: 'CISO', acceptedBy: 'admin', state: 'open' } });
    await chainHolds(id);
  }, 90_000);
});

describe('dispositions through the CLI', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  let redis: TestRedis;
  let prefix: string;
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'recurd-dispositions-'));
  });
  afterEach(async () => {
    await dropPrefix(redis.client, prefix);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis.stop();
  });

  function nc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const file = join(dir, `${prefix.replace(/[{}]/g, '')}.yaml`);
    writeFileSync(file, ['redis:', `  url: ${redis.url}`, `  keyPrefix: '${prefix}'`, 'api:', `  token: ${API_TOKEN}`, 'connectors: []', ''].join('\n'));
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli.js'), 'nc', ...args, '--config', file], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** An engine on the register, as the daemon runs it, with its own clock: to raise NCs and sweep. */
  function engineAt(clock: ManualClock): Engine {
    return new Engine({ register: new RedisRegister(redis.client, prefix, 35 * DAY), policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
  }

  async function raiseNc(asset: string): Promise<string> {
    const now = Date.now();
    const alert = (id: string, status: ReceivedAlert['status'], at: number): ReceivedAlert => ({
      id: `${asset}-${id}`,
      source: 'alertmanager',
      family: 'backup',
      status,
      observedAt: at,
      receivedAt: at,
      asset,
      check: 'BackupJobFailed',
      message: 'nightly backup failed',
      severity: 'critical',
      control: 'A.8.13',
      labels: {},
      evidence: {},
    });
    const result = await engineAt(new ManualClock(now)).ingest([alert('a', 'firing', now - 3 * DAY), alert('b', 'resolved', now - 2 * DAY), alert('c', 'firing', now - DAY), alert('d', 'resolved', now - DAY / 2)]);
    return [...result.created.values()][0] as string;
  }

  it('voids and accepts risk with an actor, refuses what it must, and lists overdue NCs', async () => {
    prefix = testPrefix();
    const first = await raiseNc('srv-db-01');
    const second = await raiseNc('srv-db-02');

    const badReason = await nc(['void', first, '--reason', 'boring', '--note', 'x']);
    expect(badReason.code).toBe(2);
    expect(badReason.stderr).toContain('recurd nc void needs --reason false-positive|duplicate|test-data');
    const voided = await nc(['void', first, '--reason', 'duplicate', '--note', 'same as the other host', '--json']);
    expect(voided.code).toBe(0);
    expect(JSON.parse(voided.stdout)).toMatchObject({ id: first, state: 'void', voided: { reason: 'duplicate', note: 'same as the other host', actor: userInfo().username } });

    const pastDue = await nc(['fix', second, '--action', 'added a disk-usage alert', '--owner', 'ops', '--due', '2020-01-31']);
    expect(pastDue.code).toBe(1);
    expect(pastDue.stderr).toContain('RECURD_ERR_DATE_IN_PAST: dueDate: 2020-01-31 is in the past');
    const due = dateOf(Date.now() + DAY);
    expect((await nc(['fix', second, '--action', 'added a disk-usage alert', '--owner', 'ops', '--due', due])).code).toBe(0);
    expect((await nc(['list', '--overdue'])).stdout.trim()).toBe('no nonconformities');
    // The daemon's sweep, two days on.
    await engineAt(new ManualClock(Date.now() + 2 * DAY)).sweep();
    const overdue = await nc(['list', '--overdue', '--json']);
    expect(JSON.parse(overdue.stdout)).toMatchObject({ nonconformities: [{ id: second, state: 'verifying', overdue: true }], count: 1, nextCursor: null });

    const verifying = await nc(['accept-risk', second, '--approver', 'CISO', '--reason', 'r', '--until', dateOf(Date.now() + 30 * DAY)]);
    expect(verifying.code).toBe(1);
    expect(verifying.stderr).toContain('RECURD_ERR_NC_VERIFYING');
    const third = await raiseNc('srv-db-03');
    const notDate = await nc(['accept-risk', third, '--approver', 'CISO', '--reason', 'r', '--until', 'soon']);
    expect(notDate.code).toBe(2);
    expect(notDate.stderr).toContain('--until "soon" is not a date');
    const until = dateOf(Date.now() + 30 * DAY);
    const accepted = await nc(['accept-risk', third, '--approver', 'CISO', '--reason', 'retired in a month', '--until', until, '--actor', 'bob']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout.trim()).toBe(`${third} is risk-accepted until ${new Date(Date.parse(`${until}T00:00:00Z`) + DAY).toISOString()}; it returns to open then`);
    const shown = JSON.parse((await nc(['show', third, '--json'])).stdout) as NcJson;
    expect(shown.timeline.at(-1)).toMatchObject({ type: 'risk-accepted', event: 'nc.risk-accepted', detail: { actor: 'bob', approver: 'CISO', reason: 'retired in a month' } });
    for (const id of [first, second, third]) expect((await nc(['verify', id])).code).toBe(0);
  }, 60_000);
});
