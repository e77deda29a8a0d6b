/**
 * End to end with a real Prometheus Alertmanager posting to recurd's webhook intake:
 * fire → resolve → fire opens an NC; a corrective action recorded while the alert fires waits for
 * it to resolve before its window runs; resolve → fire reopens the same NC; a short window with a
 * healthy report after the action closes another NC as effective, and one without stays
 * verification-blocked; an HA pair's stale firing after the resolve raises nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startAlertmanager, type TestAlertmanager } from '../../bench/programs/alertmanager.js';
import { WEBHOOK_TOKEN, api, eventually, runDaemon, testConfig } from '../helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

interface NcJson {
  id: string;
  state: string;
  check: string;
  reopenCount: number;
  occurrences: number;
  windowStartsAt: string | null;
  verification: { waitingFor: string | null; blocked: string[] | null } | null;
  timeline?: Array<{ type: string; detail: Record<string, unknown> }>;
}

const backup = { alertname: 'BackupJobFailed', instance: 'srv-db-01', job: 'nightly-backup', severity: 'critical' };
const antivirus = { alertname: 'AntivirusSignaturesStale', instance: 'ws-7', severity: 'warning', family: 'av', control: 'A.8.7' };
const drift = { alertname: 'ConfigDrift', instance: 'fw-1', severity: 'warning', family: 'config-drift', control: 'A.8.9' };
const replicated = { alertname: 'BackupJobFailed', instance: 'srv-files-02', job: 'nightly-backup', severity: 'critical' };

/** Alertmanager's webhook times have one-second precision: wait past the next second. */
const nextSecond = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));

describe('recurd behind a real Alertmanager', () => {
  let redis: TestRedis;
  let daemon: Daemon;
  let am: TestAlertmanager;
  const prefix = testPrefix();

  async function metrics(): Promise<string> {
    return (await fetch(`${daemon.address}/metrics`)).text();
  }

  function sample(text: string, name: string, labels: string): number {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  /** The metrics once a counter has reached `value`: a decision is counted just after it is stored, so after the API shows it. */
  async function metricsOnce(name: string, labels: string, value: number): Promise<string> {
    return eventually(async () => {
      const text = await metrics();
      return sample(text, name, labels) === value ? text : undefined;
    }, 10_000, `${name}{${labels}} to reach ${value}`);
  }

  /** Waits until recurd received `count` notifications of this status for the alert and decided all it received. */
  async function received(labels: Record<string, string>, status: 'firing' | 'resolved', count: number): Promise<void> {
    const family = labels.family ?? 'backup';
    await eventually(
      async () => {
        const text = await metrics();
        const got = sample(text, 'recurd_alerts_received_total', `source="alertmanager",family="${family}",status="${status}"`);
        const total = text
          .split('\n')
          .filter((line) => line.startsWith('recurd_alerts_received_total{'))
          .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
        const decided = Number(/^recurd_detect_latency_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
        return got >= count && decided === total ? true : undefined;
      },
      15_000,
      `${count} ${status} notification(s) of ${labels.alertname}`,
    );
  }

  async function ncOf(check: string): Promise<NcJson | undefined> {
    const { body } = await api<{ nonconformities: NcJson[] }>(daemon.address, '/api/v1/nonconformities');
    return body.nonconformities.find((nc) => nc.check === check);
  }

  async function correctiveAction(id: string): Promise<NcJson> {
    const { status, body } = await api<NcJson>(daemon.address, `/api/v1/nonconformities/${id}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({ action: 'moved the repository to a monitored volume', owner: 'backup team', rootCause: 'full disk', dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10) }),
    });
    expect(status).toBe(200);
    return body;
  }

  beforeAll(async () => {
    redis = await startRedis();
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        policy: { window: '30d', resolveAfter: '30d', skew: '0s', checks: { AntivirusSignaturesStale: { window: '4s' }, ConfigDrift: { window: '4s' } } },
      }),
    );
    am = await startAlertmanager(`${daemon.address}/hooks/alertmanager`, WEBHOOK_TOKEN);
  });

  afterAll(async () => {
    await am?.stop();
    await daemon?.stop();
    await dropPrefix(redis.client, prefix);
    await redis?.stop();
  });

  it('opens, verifies, reopens and closes nonconformities as the alerts come and go', async () => {
    // 1. fire, resolve, fire again inside the window: one NC, open.
    await am.post([{ labels: backup, annotations: { summary: 'nightly backup of srv-db-01 failed' } }]);
    await received(backup, 'firing', 1);
    await nextSecond();
    await am.post([{ labels: backup, endsAt: new Date().toISOString() }]);
    await received(backup, 'resolved', 1);
    expect(await ncOf('BackupJobFailed')).toBeUndefined();
    await nextSecond();
    await am.post([{ labels: backup, annotations: { summary: 'nightly backup of srv-db-01 failed' } }]);
    const opened = await eventually(() => ncOf('BackupJobFailed'), 15_000, 'an NC for BackupJobFailed');
    expect(opened).toMatchObject({ state: 'open', reopenCount: 0, occurrences: 2 });
    let text = await metricsOnce('recurd_recurrences_total', 'family="backup",control="A.8.13"', 1);
    expect(sample(text, 'recurd_recurrences_total', 'family="backup",control="A.8.13"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities_opened_total', 'family="backup",control="A.8.13"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="open"')).toBe(1);

    // 2. a corrective action while the alert still fires: verifying, but no window until it resolves.
    expect(await correctiveAction(opened.id)).toMatchObject({ id: opened.id, state: 'verifying', windowStartsAt: null, verification: { waitingFor: 'clear' } });
    text = await metrics();
    expect(sample(text, 'recurd_nonconformities', 'state="verifying"')).toBe(1);

    // 3. the alert resolves and fires again: the same NC, reopened.
    await nextSecond();
    await am.post([{ labels: backup, endsAt: new Date().toISOString() }]);
    await received(backup, 'resolved', 2);
    const waited = await ncOf('BackupJobFailed');
    expect(waited).toMatchObject({ state: 'verifying', verification: { waitingFor: null } });
    expect(waited?.windowStartsAt).not.toBeNull();
    await nextSecond();
    await am.post([{ labels: backup, annotations: { summary: 'nightly backup of srv-db-01 failed' } }]);
    const reopened = await eventually(async () => {
      const nc = await ncOf('BackupJobFailed');
      return nc?.state === 'reopened' ? nc : undefined;
    }, 15_000, 'the NC to be reopened');
    expect(reopened).toMatchObject({ id: opened.id, reopenCount: 1, occurrences: 3 });
    text = await metricsOnce('recurd_nonconformities_reopened_total', 'family="backup",control="A.8.13"', 1);
    expect(sample(text, 'recurd_nonconformities_reopened_total', 'family="backup",control="A.8.13"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="reopened"')).toBe(1);

    // 4. another symptom with a 4-second window: its NC, once corrected, is closed as verified effective.
    await am.post([{ labels: antivirus, annotations: { summary: 'signatures on ws-7 are 3 days old' } }]);
    await received(antivirus, 'firing', 1);
    await nextSecond();
    await am.post([{ labels: antivirus, endsAt: new Date().toISOString() }]);
    await received(antivirus, 'resolved', 1);
    await nextSecond();
    await am.post([{ labels: antivirus, annotations: { summary: 'signatures on ws-7 are 3 days old' } }]);
    const second = await eventually(() => ncOf('AntivirusSignaturesStale'), 15_000, 'an NC for AntivirusSignaturesStale');
    expect(second).toMatchObject({ state: 'open' });
    await correctiveAction(second.id);
    // Recorded while it fired: the resolve is the healthy report that starts the window.
    await nextSecond();
    await am.post([{ labels: antivirus, endsAt: new Date().toISOString() }]);
    const closed = await eventually(async () => {
      const nc = await ncOf('AntivirusSignaturesStale');
      return nc?.state === 'closed' ? nc : undefined;
    }, 15_000, 'the NC to be closed as verified effective');
    const { body } = await api<NcJson>(daemon.address, `/api/v1/nonconformities/${closed.id}`);
    expect(body.timeline?.map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'window-started', 'verified-effective']);
    expect(body.timeline?.at(-1)?.detail).toMatchObject({ verifyBy: 'evidence', healthyReports: 1 });
    text = await metricsOnce('recurd_nonconformities_verified_effective_total', 'family="av",control="A.8.7"', 1);
    expect(sample(text, 'recurd_nonconformities_verified_effective_total', 'family="av",control="A.8.7"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="closed"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="reopened"')).toBe(1);

    // 5. a drift NC corrected after it resolved, with no healthy report since: its window ends blocked.
    await am.post([{ labels: drift, annotations: { summary: 'firewall rules differ from the baseline' } }]);
    await received(drift, 'firing', 1);
    await nextSecond();
    await am.post([{ labels: drift, endsAt: new Date().toISOString() }]);
    await received(drift, 'resolved', 1);
    await nextSecond();
    await am.post([{ labels: drift, annotations: { summary: 'firewall rules differ from the baseline' } }]);
    const third = await eventually(() => ncOf('ConfigDrift'), 15_000, 'an NC for ConfigDrift');
    await nextSecond();
    await am.post([{ labels: drift, endsAt: new Date().toISOString() }]);
    await received(drift, 'resolved', 2);
    await correctiveAction(third.id);
    const blocked = await eventually(async () => {
      const nc = await ncOf('ConfigDrift');
      return nc?.verification?.blocked ? nc : undefined;
    }, 15_000, 'the drift NC to be verification-blocked');
    expect(blocked.state).toBe('verifying');
    expect(blocked.verification?.blocked?.[0]).toMatch(/^no healthy report of the symptom since the corrective action at /);
    text = await metrics();
    expect(sample(text, 'recurd_nonconformities_unverifiable', 'family="config-drift",control="A.8.9"')).toBe(1);
  }, 120_000);

  it('takes the stale firing that the other member of an HA pair keeps repeating after the resolve as a duplicate', async () => {
    // Two Alertmanagers sending to recurd, as an HA pair does; the second one has not heard of the resolve yet.
    const other = await startAlertmanager(`${daemon.address}/hooks/alertmanager`, WEBHOOK_TOKEN, { repeatInterval: '2s' });
    try {
      const before = await metrics();
      const count = (status: string): number => sample(before, 'recurd_alerts_received_total', `source="alertmanager",family="backup",status="${status}"`);
      const startsAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
      const alert = { labels: replicated, annotations: { summary: 'nightly backup of srv-files-02 failed' }, startsAt };
      await Promise.all([am.post([alert]), other.post([alert])]);
      await received(replicated, 'firing', count('firing') + 2);
      await nextSecond();
      await am.post([{ ...alert, endsAt: new Date().toISOString() }]);
      await received(replicated, 'resolved', count('resolved') + 1);
      // The other member repeats its firing every two seconds, long after the resolve.
      await received(replicated, 'firing', count('firing') + 4);
      expect(await ncOf('BackupJobFailed')).toMatchObject({ asset: 'srv-db-01' });
      const { body } = await api<{ nonconformities: Array<{ asset: string }> }>(daemon.address, '/api/v1/nonconformities');
      expect(body.nonconformities.filter((nc) => nc.asset === 'srv-files-02')).toEqual([]);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
