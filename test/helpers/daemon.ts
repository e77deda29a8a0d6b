/** A real daemon in the test process, on a private Redis and a free port, with a webhook receiver for its notifications. */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { configSchema, type Config, type ConfigInput } from '../../src/config/schema.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';

export const API_TOKEN = 'api-token-for-tests';
export const WEBHOOK_TOKEN = 'webhook-token-for-tests';
export const NOTIFY_SECRET = 'notify-secret-for-tests';

export function testConfig(redisUrl: string, prefix: string, overrides: Partial<ConfigInput> = {}): Config {
  return configSchema.parse({
    redis: { url: redisUrl, keyPrefix: prefix },
    http: { host: '127.0.0.1', port: 0, bodyLimit: '64kb' },
    api: { token: API_TOKEN },
    log: { level: 'warn' },
    sweep: { schedule: '* * * * * *' },
    connectors: [
      { name: 'alertmanager', type: 'alertmanager', family: 'backup', control: 'A.8.13', auth: { type: 'bearer', token: WEBHOOK_TOKEN } },
      {
        name: 'generic',
        type: 'webhook',
        family: 'av',
        auth: { type: 'hmac', secret: WEBHOOK_TOKEN },
        items: 'events',
        mapping: { id: 'uid', status: { path: 'state', map: { bad: 'firing', good: 'resolved' } }, observedAt: 'time', asset: 'host', check: 'rule' },
      },
    ],
    ...overrides,
  });
}

export async function runDaemon(config: Config): Promise<Daemon> {
  return startDaemon(config, { logger: createLogger(config.log.level) });
}

export interface ReceivedNotification {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: { id: string; type: string; nonconformity: { id: string; state: string; reopenCount: number } };
}

/** One request a notifier made, whatever the receiver answered: retries are visible here. */
export interface DeliveryAttempt {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** When it arrived (epoch ms). */
  at: number;
}

/** What the receiver answers: a status, or a status with headers (a 429's Retry-After). */
export type ReceiverAnswer = number | { status: number; headers: Record<string, string> };

/**
 * A local HTTP endpoint that records what notifiers POST, answering with `answer()`: `received`
 * holds the accepted notifications, `attempts` every request including refused ones, with the time
 * it arrived.
 */
export async function startReceiver(
  answer: () => ReceiverAnswer = () => 204,
): Promise<{ url: string; received: ReceivedNotification[]; attempts: DeliveryAttempt[]; close(): Promise<void> }> {
  const received: ReceivedNotification[] = [];
  const attempts: DeliveryAttempt[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const given = answer();
      const { status: code, headers } = typeof given === 'number' ? { status: given, headers: {} } : given;
      attempts.push({ status: code, headers: request.headers, body, at: Date.now() });
      if (code < 300) received.push({ headers: request.headers, body, json: JSON.parse(body) as ReceivedNotification['json'] });
      response.writeHead(code, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/recurd`,
    received,
    attempts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function verifySignature(notification: Pick<ReceivedNotification, 'headers' | 'body'>, secret = NOTIFY_SECRET): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(`${String(notification.headers['x-recurd-timestamp'])}.${notification.body}`).digest('hex')}`;
  return notification.headers['x-recurd-signature'] === expected;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

export async function api<T = unknown>(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

/** POSTs an Alertmanager webhook body to the daemon's `alertmanager` intake, with its token. */
export function postAlertmanager(daemon: Daemon, body: string): Promise<Response> {
  return fetch(`${daemon.address}/hooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    body,
  });
}

export async function metricsOf(daemon: Daemon): Promise<string> {
  return (await fetch(`${daemon.address}/metrics`)).text();
}

const alertmanagerFixture = readFileSync(new URL('../fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8').trim().split('\n');

/** Waits until the daemon has decided every batch it queued: none waiting, none being decided. */
export async function ingestSettled(daemon: Daemon): Promise<void> {
  await eventually(async () => {
    const text = await metricsOf(daemon);
    return /recurd_queue_jobs\{queue="ingest",state="waiting"\} 0/.test(text) && /recurd_queue_jobs\{queue="ingest",state="active"\} 0/.test(text) ? true : undefined;
  });
}

/** Waits until `resolved` resolved alerts came in and are decided: a re-fire after them is a new episode. */
export async function resolvesDecided(daemon: Daemon, resolved = 1): Promise<void> {
  const received = new RegExp(`recurd_alerts_received_total\\{[^}]*status="resolved"\\} ${resolved}\n`);
  await eventually(async () => (received.test(await metricsOf(daemon)) ? true : undefined));
  await ingestSettled(daemon);
}

/** firing → resolved → firing of the Alertmanager fixture through a daemon's intake; returns the NC id. */
export async function raiseNc(daemon: Daemon): Promise<string> {
  const [firing, resolved] = alertmanagerFixture as [string, string];
  if ((await postAlertmanager(daemon, firing)).status !== 202) throw new Error('the firing notification was refused');
  if ((await postAlertmanager(daemon, resolved)).status !== 202) throw new Error('the resolved notification was refused');
  // The resolve must be decided before the re-fire, or the re-fire is just the same episode.
  await resolvesDecided(daemon);
  if ((await postAlertmanager(daemon, firing)).status !== 202) throw new Error('the second firing notification was refused');
  return eventually(async () => {
    const { body } = await api<{ nonconformities: Array<{ id: string }> }>(daemon.address, '/api/v1/nonconformities?state=open');
    return body.nonconformities[0]?.id;
  }, 10_000, 'an open NC');
}
