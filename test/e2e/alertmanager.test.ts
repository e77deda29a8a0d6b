/**
 * End to end with a real Prometheus Alertmanager posting to recurd's webhook intake:
 * fire → resolve → fire opens an NC; a corrective action makes it verifying; resolve → fire
 * reopens the same NC; with a short window and no recurrence, another NC is closed as effective.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { WEBHOOK_TOKEN, api, eventually, runDaemon, testConfig } from '../helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../helpers/redis.js';

interface NcJson {
  id: string;
  state: string;
  check: string;
  reopenCount: number;
  occurrences: number;
  timeline?: Array<{ type: string }>;
}

const backup = { alertname: 'BackupJobFailed', instance: 'srv-db-01', job: 'nightly-backup', severity: 'critical' };
const antivirus = { alertname: 'AntivirusSignaturesStale', instance: 'ws-7', severity: 'warning', family: 'av', control: 'A.8.7' };

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
      body: JSON.stringify({ action: 'moved the repository to a monitored volume', owner: 'backup team', rootCause: 'full disk', dueDate: '2026-12-31' }),
    });
    expect(status).toBe(200);
    return body;
  }

  beforeAll(async () => {
    redis = await startRedis();
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        policy: { window: '30d', resolveAfter: '30d', skew: '0s', checks: { AntivirusSignaturesStale: { window: '4s' } } },
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
    let text = await metrics();
    expect(sample(text, 'recurd_recurrences_total', 'family="backup",control="A.8.13"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities_opened_total', 'family="backup",control="A.8.13"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="open"')).toBe(1);

    // 2. a corrective action: verifying, its window running.
    expect(await correctiveAction(opened.id)).toMatchObject({ id: opened.id, state: 'verifying' });
    text = await metrics();
    expect(sample(text, 'recurd_nonconformities', 'state="verifying"')).toBe(1);

    // 3. the alert resolves and fires again: the same NC, reopened.
    await nextSecond();
    await am.post([{ labels: backup, endsAt: new Date().toISOString() }]);
    await received(backup, 'resolved', 2);
    await nextSecond();
    await am.post([{ labels: backup, annotations: { summary: 'nightly backup of srv-db-01 failed' } }]);
    const reopened = await eventually(async () => {
      const nc = await ncOf('BackupJobFailed');
      return nc?.state === 'reopened' ? nc : undefined;
    }, 15_000, 'the NC to be reopened');
    expect(reopened).toMatchObject({ id: opened.id, reopenCount: 1, occurrences: 3 });
    text = await metrics();
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
    const closed = await eventually(async () => {
      const nc = await ncOf('AntivirusSignaturesStale');
      return nc?.state === 'closed' ? nc : undefined;
    }, 15_000, 'the NC to be closed as verified effective');
    const { body } = await api<NcJson>(daemon.address, `/api/v1/nonconformities/${closed.id}`);
    expect(body.timeline?.map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'verified-effective']);
    text = await metrics();
    expect(sample(text, 'recurd_nonconformities_verified_effective_total', 'family="av",control="A.8.7"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="closed"')).toBe(1);
    expect(sample(text, 'recurd_nonconformities', 'state="reopened"')).toBe(1);
  }, 120_000);
});
