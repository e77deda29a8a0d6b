import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { NOTIFY_SECRET, WEBHOOK_TOKEN, api, eventually, postAlertmanager, startReceiver, verifySignature, ingestSettled } from './helpers/daemon.js';
import { daemonSuite } from './helpers/suites.js';

const fixture = readFileSync(new URL('./fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8')
  .trim()
  .split('\n');
const [firingBody, resolvedBody] = fixture as [string, string];

interface NcJson {
  id: string;
  state: string;
  family: string;
  control: string;
  fingerprint: string;
  reopenCount: number;
  occurrences: number;
  openedAt: string;
  title: string;
  timeline?: Array<{ type: string }>;
}

function hook(daemon: Daemon, connector: string, body: string, headers: Record<string, string> = { authorization: `Bearer ${WEBHOOK_TOKEN}` }): Promise<Response> {
  return fetch(`${daemon.address}/hooks/${connector}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('daemon', () => {
  const suite = daemonSuite();
  const redis = suite.redis;
  let daemon: Daemon | null = null;

  it('turns the real Alertmanager firing → resolved → firing into one NC, notified with a valid signature', async () => {
    const receiver = await startReceiver();
    // The fixture was recorded on 2026-11-22; the re-fire is timed at receipt, so the window must reach today.
    daemon = await suite.start({
      policy: { window: '3650d', maxLateness: '3650d' },
      notifiers: [{ name: 'soc', type: 'webhook', url: receiver.url, secret: NOTIFY_SECRET }],
    });
    expect((await hook(daemon, 'alertmanager', firingBody)).status).toBe(202);
    // Alertmanager repeats notifications; a repeat of the same state is a duplicate.
    expect((await hook(daemon, 'alertmanager', firingBody)).status).toBe(202);
    expect((await hook(daemon, 'alertmanager', resolvedBody)).status).toBe(202);
    await eventually(async () => ((await api<{ count: number }>(daemon!.address, '/api/v1/nonconformities')).body.count === 0 ? true : undefined));
    // Wait until the resolve is decided before the re-fire, as it would be in real time.
    await ingestSettled(daemon);
    expect((await hook(daemon, 'alertmanager', firingBody)).status).toBe(202);

    const list = await eventually(async () => {
      const { body } = await api<{ nonconformities: NcJson[] }>(daemon!.address, '/api/v1/nonconformities?state=open');
      return body.nonconformities.length > 0 ? body.nonconformities : undefined;
    });
    expect(list).toHaveLength(1);
    const nc = list[0] as NcJson;
    expect(nc).toMatchObject({ state: 'open', family: 'backup', control: 'A.8.13', reopenCount: 0, occurrences: 2, title: 'nightly backup of srv-db-01 failed' });
    expect(nc.id).toMatch(/^NC-\d{4}-\d{4}$/);

    const shown = await api<NcJson>(daemon.address, `/api/v1/nonconformities/${nc.id}`);
    expect(shown.body.timeline?.map((entry) => entry.type)).toEqual(['raised']);

    const notification = await eventually(() => receiver.received[0]);
    expect(notification.json).toMatchObject({ type: 'nc.opened', nonconformity: { id: nc.id, state: 'open' } });
    expect(notification.headers['x-recurd-event-id']).toBe(notification.json.id);
    expect(verifySignature(notification)).toBe(true);

    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metrics).toContain('recurd_alerts_received_total{source="alertmanager",family="backup",status="firing"} 3');
    expect(metrics).toContain('recurd_recurrences_total{family="backup",control="A.8.13"} 1');
    expect(metrics).toContain('recurd_nonconformities_opened_total{family="backup",control="A.8.13"} 1');
    expect(metrics).toContain('recurd_nonconformities{state="open"} 1');
    expect(metrics).toMatch(/recurd_detect_latency_seconds_count \d+/);
    expect(metrics).toContain('process_cpu_seconds_total');
    await receiver.close();
  });

  it('takes the alerts of a notification that fit, keeps the body with what did not, and says which', async () => {
    daemon = await suite.start();
    const notification = JSON.parse(firingBody) as { alerts: Array<Record<string, unknown> & { labels: Record<string, string> }> };
    const [template] = notification.alerts as [Record<string, unknown> & { labels: Record<string, string> }];
    const startsAt = new Date().toISOString();
    notification.alerts = [
      { ...template, startsAt, labels: { ...template.labels, instance: 'srv-fits-1' }, fingerprint: 'fits1' },
      { ...template, startsAt: 'yesterday', labels: { ...template.labels, instance: 'srv-broken' }, fingerprint: 'broken' },
      { ...template, startsAt, labels: { ...template.labels, instance: 'srv-fits-2' }, fingerprint: 'fits2' },
    ];
    const response = await hook(daemon, 'alertmanager', JSON.stringify(notification));
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { accepted: number; rejected: number; deadLetter: string; errors: Array<{ path: string }> };
    expect(answer).toMatchObject({ accepted: 2, rejected: 1, deadLetter: expect.any(String) as string });
    expect(answer.errors.map((error) => error.path)).toEqual(['alerts[1].startsAt']);
    await eventually(async () => ((await redis.client.keys(`${suite.prefix}:sym:*`)).length === 2 ? true : undefined), 10_000, 'the two alerts that fit decided');
    // The whole body is kept, for `recurd dlq replay` once the sender is fixed (the two that fit are then duplicates).
    const [letter] = await redis.client.xrange(`${suite.prefix}:dlq`, answer.deadLetter, answer.deadLetter);
    expect(letter?.[1].join(' ')).toContain('srv-broken');
  });

  it('refuses a body with more alerts than http.maxItems, naming the limit', async () => {
    daemon = await suite.start({ http: { host: '127.0.0.1', port: 0, bodyLimit: '64kb', maxItems: 2 } });
    const notification = JSON.parse(firingBody) as { alerts: Array<Record<string, unknown> & { labels: Record<string, string> }> };
    const [template] = notification.alerts as [Record<string, unknown> & { labels: Record<string, string> }];
    notification.alerts = [1, 2, 3].map((n) => ({ ...template, labels: { ...template.labels, instance: `srv-${n}` }, fingerprint: `f${n}` }));
    const response = await hook(daemon, 'alertmanager', JSON.stringify(notification));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'RECURD_ERR_PAYLOAD_TOO_MANY_ITEMS',
      message: expect.stringContaining('http.maxItems (2)') as unknown,
    });
    expect(await redis.client.keys(`${suite.prefix}:sym:*`)).toEqual([]);
  });

  it('refuses what it must refuse, each with a specific error', async () => {
    daemon = await suite.start();
    // An unknown connector is answered as wrong credentials are: names cannot be listed without one.
    const answers = [await hook(daemon, 'nope', firingBody), await hook(daemon, 'alertmanager', firingBody, {}), await hook(daemon, 'alertmanager', firingBody, { authorization: 'Bearer wrong' })];
    const bodies = await Promise.all(answers.map(async (answer) => ({ status: answer.status, body: await answer.text() })));
    expect(new Set(bodies.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(bodies[0]).toMatchObject({ status: 401, body: expect.stringContaining('RECURD_ERR_UNAUTHORIZED') as unknown });

    const notJson = await hook(daemon, 'alertmanager', '{"version":');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('RECURD_ERR_PAYLOAD_INVALID');

    const broken = JSON.parse(firingBody) as { alerts: Array<Record<string, unknown>> };
    delete broken.alerts[0]?.startsAt;
    const badField = await hook(daemon, 'alertmanager', JSON.stringify(broken));
    expect(badField.status).toBe(400);
    const details = ((await badField.json()) as { error: { details: Array<{ path: string }> } }).error.details;
    expect(details.map((detail) => detail.path)).toContain('alerts[0].startsAt');

    const tooLarge = await hook(daemon, 'alertmanager', JSON.stringify({ padding: 'x'.repeat(70_000) }));
    expect(tooLarge.status).toBe(413);

    // Annotations nested far deeper than any source sends: a named 400 before anything tries to queue it.
    // Written as text: JSON.stringify itself cannot go five thousand levels deep.
    const deep = `${'{"a":'.repeat(5000)}"bottom"${'}'.repeat(5000)}`;
    const poisoned = firingBody.replace('"annotations":{', `"annotations":{"nested":${deep},`);
    expect(poisoned).not.toBe(firingBody);
    const tooDeep = await hook(daemon, 'alertmanager', poisoned);
    expect(tooDeep.status).toBe(400);
    expect(((await tooDeep.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'RECURD_ERR_PAYLOAD_TOO_DEEP',
      message: expect.stringContaining('http.maxDepth (64)') as unknown,
    });

    expect((await fetch(`${daemon.address}/api/v1/nonconformities`)).status).toBe(401);
    expect((await api(daemon.address, '/api/v1/nonconformities?state=broken')).status).toBe(400);
    expect((await api(daemon.address, '/api/v1/nonconformities/NC-2026-9999')).status).toBe(404);
    const badAction = await api<{ error: { message: string } }>(daemon.address, '/api/v1/nonconformities/NC-2026-9999/corrective-action', {
      method: 'POST',
      body: JSON.stringify({ owner: 'ops' }),
    });
    expect(badAction.status).toBe(400);
    expect(badAction.body.error.message).toContain('action');
    const unknownSymptom = await api(daemon.address, '/api/v1/symptoms/0123/fix', { method: 'POST' });
    expect(unknownSymptom.status).toBe(404);

    // Nothing refused reached the queue.
    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metrics).not.toMatch(/recurd_alerts_received_total\{/);
  });

  it('takes a signed generic webhook, maps it, and lets a person fix a symptom through the API', async () => {
    daemon = await suite.start();
    const now = Date.now();
    const body = JSON.stringify({ events: [{ uid: 'scan-1', state: 'bad', time: new Date(now - 60_000).toISOString(), host: 'ws-7', rule: 'Eicar-Signature' }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    expect((await hook(daemon, 'generic', body, { 'x-recurd-signature': 'sha256=00' })).status).toBe(401);
    const accepted = await hook(daemon, 'generic', body, { 'x-recurd-signature': signature });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ accepted: 1 });

    const metrics = await eventually(async () => {
      const text = await (await fetch(`${daemon!.address}/metrics`)).text();
      return /recurd_detect_latency_seconds_count 1/.test(text) ? text : undefined;
    });
    expect(metrics).toContain('recurd_alerts_received_total{source="generic",family="av",status="firing"} 1');
    const keys = await redis.client.keys(`${suite.prefix}:sym:*`);
    expect(keys).toHaveLength(1);
    const fingerprint = (keys[0] as string).split(':sym:')[1] as string;
    const fixed = await api<{ state: string }>(daemon.address, `/api/v1/symptoms/${fingerprint}/fix`, { method: 'POST' });
    expect(fixed).toMatchObject({ status: 200, body: { state: 'fixed' } });
    const again = await api<{ error: { code: string } }>(daemon.address, `/api/v1/symptoms/${fingerprint}/fix`, { method: 'POST' });
    expect(again.body.error.code).toBe('RECURD_ERR_SYMPTOM_NOT_ACTIVE');
  });

  it('classifies corrective actions and asks a reopened NC for its root-cause analysis through the API', async () => {
    // A return must come after the skew and within maxFuture of now: a skew shorter than maxFuture.
    daemon = await suite.start({ policy: { skew: '1m' } });
    const base = Date.now() - 60 * 60_000;
    const post = async (uid: string, state: 'bad' | 'good', minutes: number): Promise<void> => {
      const body = JSON.stringify({ events: [{ uid, state, time: new Date(base + minutes * 60_000).toISOString(), host: 'srv-db-01', rule: 'nightly-backup' }] });
      const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
      expect((await hook(daemon!, 'generic', body, { 'x-recurd-signature': signature })).status).toBe(202);
      await ingestSettled(daemon!);
    };
    await post('a', 'bad', 0);
    await post('b', 'good', 10);
    await post('c', 'bad', 20);
    const [nc] = (await api<{ nonconformities: Array<{ id: string }> }>(daemon.address, '/api/v1/nonconformities')).body.nonconformities;
    const id = nc?.id as string;
    const weak = await api<{ state: string; correctiveAction: { strength: string; strengthReason: string } }>(daemon.address, `/api/v1/nonconformities/${id}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({ action: 'Restarted the backup agent', owner: 'ops' }),
    });
    expect(weak.body).toMatchObject({ state: 'verifying', correctiveAction: { strength: 'weak' } });
    // The corrective action starts the window now: the symptom's return is stamped after it.
    const now = (Date.now() - base) / 60_000;
    await post('d', 'good', now + 1);
    await post('e', 'bad', now + 3);
    const reopened = await api<{ state: string; timeline: Array<{ type: string; detail: { note?: string } }> }>(daemon.address, `/api/v1/nonconformities/${id}`);
    expect(reopened.body.state).toBe('reopened');
    expect(reopened.body.timeline.find((entry) => entry.type === 'reopened')?.detail.note).toMatch(/weak/);

    const refused = await api<{ error: { code: string; message: string; details: { missing: string[] } } }>(daemon.address, `/api/v1/nonconformities/${id}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({ action: 'Automated the backup check and added an alert on failure', owner: 'ops', rootCauseAnalysis: { whys: ['a', 'b'] } }),
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('RECURD_ERR_ROOT_CAUSE_ANALYSIS_REQUIRED');
    expect(refused.body.error.details.missing.join('\n')).toMatch(/whys\[2\] \(the 3rd why\) is missing[\s\S]*category is missing/);

    const accepted = await api<{ correctiveAction: { strength: string } }>(daemon.address, `/api/v1/nonconformities/${id}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({
        action: 'Automated the backup check and added an alert on failure',
        owner: 'ops',
        rootCauseAnalysis: { whys: ['failed', 'disk full', 'no alert on disk', 'no monitoring standard', 'no owner'], category: 'governance-ownership' },
      }),
    });
    expect(accepted).toMatchObject({ status: 200, body: { correctiveAction: { strength: 'strong' } } });
    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metrics).toContain('recurd_corrective_actions_total{strength="weak"} 1');
    expect(metrics).toContain('recurd_corrective_actions_total{strength="strong"} 1');
    expect(metrics).toContain('recurd_corrective_action_reopen_ratio{family="av",control=""} 1');
    expect(metrics).toContain('recurd_corrective_action_verified_effective_ratio{family="av",control=""} 0');
  });

  it('times a 2030 event at its receipt and refuses a 1970 one: neither raises nor strands anything', async () => {
    daemon = await suite.start();
    const send = async (uid: string, time: string): Promise<Response> => {
      const body = JSON.stringify({ events: [{ uid, state: 'bad', time, host: 'ws-9', rule: 'Clock-Test' }] });
      return hook(daemon!, 'generic', body, { 'x-recurd-signature': `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}` });
    };
    const before = Date.now();
    expect((await send('future', '2030-01-01T00:00:00Z')).status).toBe(202);
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${daemon!.address}/metrics`)).text();
      return text.includes('recurd_clock_skew_total{source="generic"} 1') ? text : undefined;
    });
    expect(metrics).toContain('recurd_detect_latency_seconds_count 1');
    const [key] = await redis.client.keys(`${suite.prefix}:sym:*`);
    const symptom = JSON.parse((await redis.client.hget(key as string, 'd')) ?? '{}') as { lastFiringAt: number; fingerprint: string };
    expect(symptom.lastFiringAt).toBeGreaterThanOrEqual(before);
    expect(symptom.lastFiringAt).toBeLessThanOrEqual(Date.now());
    // Due for its quiet fix a week from now, not in 2030.
    const due = Number(await redis.client.zscore(`${suite.prefix}:due`, symptom.fingerprint));
    expect(due).toBeLessThan(Date.now() + 8 * 86_400_000);

    const epoch = await send('epoch', '1970-01-01T00:00:00Z');
    expect(epoch.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(await epoch.json())).toContain('before the year 2000');
    expect((await api<{ nonconformities: unknown[] }>(daemon.address, '/api/v1/nonconformities')).body.nonconformities).toEqual([]);
    expect(await redis.client.keys(`${suite.prefix}:ncseq:*`)).toEqual([]);
  });

  it('verifies by silence only while the Watchdog heartbeat arrives: blocked without it, closed with it', async () => {
    daemon = await suite.start({
      policy: {
        skew: '0s',
        checks: { BackupJobFailed: { verifyBy: 'silence', window: '3s' } },
        heartbeats: [{ source: 'alertmanager', match: { labels: { alertname: 'Watchdog' } }, maxGap: '2s' }],
      },
    });
    const running = daemon;
    const second = (offset: number): string => new Date(Math.floor(Date.now() / 1000) * 1000 + offset).toISOString().replace('.000Z', 'Z');
    /** The real notification, moved to now: `status` for BackupJobFailed, or the Watchdog. */
    const notification = (status: 'firing' | 'resolved', labels: Record<string, string> = {}, startsAt = second(0), endsAt = second(0)): string => {
      const body = JSON.parse(status === 'firing' ? firingBody : resolvedBody) as { alerts: Array<Record<string, unknown>> };
      for (const alert of body.alerts) {
        Object.assign(alert.labels as Record<string, string>, labels);
        alert.startsAt = startsAt;
        if (status === 'resolved') alert.endsAt = endsAt;
        if (labels.alertname !== undefined) alert.fingerprint = 'feedfacefeedface';
      }
      return JSON.stringify(body);
    };
    const decided = async (): Promise<void> => {
      await eventually(async () => {
        const text = await (await fetch(`${running.address}/metrics`)).text();
        const received = [...text.matchAll(/^recurd_alerts_received_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
        return Number(/^recurd_detect_latency_seconds_count (\d+)/m.exec(text)?.[1] ?? -1) === received ? true : undefined;
      });
    };
    const first = second(-60_000);
    // Failed a minute ago, resolved two seconds ago, failed again now, inside the 3 s window: an NC.
    for (const body of [notification('firing', {}, first), notification('resolved', {}, first, second(-2000)), notification('firing', { job: 'nightly-backup-2' })]) {
      expect((await postAlertmanager(running, body)).status).toBe(202);
      await decided();
    }
    const [nc] = (await api<{ nonconformities: Array<{ id: string }> }>(running.address, '/api/v1/nonconformities')).body.nonconformities;
    expect(nc).toBeDefined();
    expect((await postAlertmanager(running, notification('resolved', { job: 'nightly-backup-2' }))).status).toBe(202);
    await decided();
    const action = await api<{ state: string; windowStartsAt: string | null }>(running.address, `/api/v1/nonconformities/${nc!.id}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({ action: 'moved the repository to a monitored volume', owner: 'ops' }),
    });
    expect(action.body).toMatchObject({ state: 'verifying' });
    expect(action.body.windowStartsAt).not.toBeNull();

    // No heartbeat yet: the window ends without proof that the source was alive.
    const blocked = await eventually(async () => {
      const { body } = await api<{ state: string; verification: { blocked: string[] | null } }>(running.address, `/api/v1/nonconformities/${nc!.id}`);
      return body.verification.blocked ? body : undefined;
    }, 15_000, 'the NC to be verification-blocked');
    expect(blocked).toMatchObject({ state: 'verifying', verification: { blocked: ['no heartbeat from alertmanager was ever received'] } });
    const metrics = await (await fetch(`${running.address}/metrics`)).text();
    expect(metrics).toContain('recurd_nonconformities_unverifiable{family="backup",control="A.8.13"} 1');

    // The Watchdog, repeated while we wait: the watch runs again, and a full window of it closes the NC.
    const watchdogStartsAt = second(0);
    const closed = await eventually(async () => {
      expect((await postAlertmanager(running, notification('firing', { alertname: 'Watchdog' }, watchdogStartsAt))).status).toBe(202);
      const { body } = await api<{ state: string; timeline: Array<{ type: string; detail: Record<string, unknown> }> }>(running.address, `/api/v1/nonconformities/${nc!.id}`);
      return body.state === 'closed' ? body : undefined;
    }, 20_000, 'the NC to be closed as verified effective');
    expect(closed.timeline.map((entry) => entry.type).slice(-2)).toEqual(['verification-blocked', 'verified-effective']);
    expect(closed.timeline.at(-1)?.detail).toMatchObject({ verifyBy: 'silence', lastHeartbeatAt: expect.stringMatching(/^20\d\d-/) as string });
    // A heartbeat is never a symptom.
    expect((await redis.client.keys(`${suite.prefix}:sym:*`)).length).toBe(1);
  }, 60_000);

  it('takes AWS Config through an SNS HTTPS subscription with basic credentials, and keeps a subscription confirmation for the admin', async () => {
    const sns = { name: 'aws', type: 'webhook', preset: 'aws-config', family: 'config-drift', auth: { type: 'basic', username: 'sns', password: WEBHOOK_TOKEN } } as const;
    // The documented notification is years old: late enough to decide nothing under the default maxLateness.
    daemon = await suite.start({ connectors: [sns], policy: { maxLateness: '3650d' } });
    // As SNS posts: text/plain, the credentials of the subscription URL as basic authentication.
    const post = (file: string, password = WEBHOOK_TOKEN) =>
      fetch(`${daemon?.address}/hooks/aws`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=UTF-8', authorization: `Basic ${Buffer.from(`sns:${password}`).toString('base64')}` },
        body: readFileSync(new URL(`./fixtures/aws-config/${file}`, import.meta.url), 'utf8'),
      });
    expect((await post('non-compliant.eventbridge-via-sns.json', 'wrong')).status).toBe(401);
    const taken = await post('non-compliant.eventbridge-via-sns.json');
    expect(taken.status).toBe(202);
    expect(await taken.json()).toEqual({ accepted: 1 });
    await eventually(async () => ((await redis.client.keys(`${suite.prefix}:sym:*`)).length === 1 ? true : undefined), 10_000, 'the SNS notification decided');
    const confirmation = await post('subscription-confirmation.sns.json');
    expect(confirmation.status).toBe(400);
    const [letter] = await redis.client.xrange(`${suite.prefix}:dlq`, '-', '+');
    expect(letter?.[1].join(' ')).toContain('SubscribeURL');
  });

  it('answers /healthz and /readyz, and stops cleanly', async () => {
    daemon = await suite.start();
    expect((await fetch(`${daemon.address}/healthz`)).status).toBe(200);
    const ready = await fetch(`${daemon.address}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: { ok: true } } });
  });

  it('answers intake that arrives while it stops with its own 503 NOT_READY, also on a connection already open', async () => {
    daemon = await suite.start();
    const { hostname, port } = new URL(daemon.address);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await new Promise((resolve) => socket.once('connect', resolve));
    const request = (body: string): string =>
      `POST /hooks/alertmanager HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${WEBHOOK_TOKEN}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // The first request is still arriving when the stop begins; the second follows it on the same connection.
    const first = request(firingBody);
    socket.write(first.slice(0, first.length - 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = daemon.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(first.slice(first.length - 10) + request(firingBody));
    await stopped;
    daemon = null;
    await new Promise((resolve) => (socket.closed ? resolve(null) : socket.once('close', resolve)));
    const answers = [...received.matchAll(/HTTP\/1\.1 (\d+)[^]*?\r\n\r\n(\{.*?\})(?=HTTP|$)/g)].map((match) => [match[1], (JSON.parse(match[2] as string) as { error?: { code: string } }).error?.code]);
    expect(answers).toEqual([
      ['503', 'RECURD_ERR_NOT_READY'],
      ['503', 'RECURD_ERR_NOT_READY'],
    ]);
  });
});
