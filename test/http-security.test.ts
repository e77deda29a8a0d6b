/**
 * Security as users of a security tool expect (issue "Holds under faults", 3): timestamped
 * signatures taken once, per-connector rate and size limits, unknown connectors answered as wrong
 * credentials, /metrics behind an optional token, /readyz naming connectors only to the API token,
 * and an audit line for every refused request, without the credential.
 */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { startDaemon, type Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { REFUSALS_LOGGED_PER_MINUTE } from '../src/http/refusals.js';
import { API_TOKEN, WEBHOOK_TOKEN, eventually } from './helpers/daemon.js';
import { dropPrefix, testPrefix } from '../bench/programs/redis.js';
import { privateRedis } from './helpers/suites.js';

const METRICS_TOKEN = 'metrics-token-for-tests';
const SIGNING_SECRET = 'signing-secret-for-tests';

function event(uid: string): string {
  return JSON.stringify({ events: [{ uid, state: 'bad', time: new Date().toISOString(), host: 'srv-1', rule: 'av-scan' }] });
}

/** Signed as recurd's own webhook notifier signs: HMAC of "<timestamp>.<body>". */
function signed(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-recurd-timestamp': String(timestamp),
    'x-recurd-signature': `sha256=${createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
  };
}

interface LogLine {
  level: number;
  msg: string;
  audit?: string;
  [field: string]: unknown;
}

describe('http security', () => {
  const redis = privateRedis();
  let daemon: Daemon | null = null;
  let prefix = testPrefix();
  let lines: string[] = [];
  const logs = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);

  async function start(overrides: Record<string, unknown> = {}): Promise<Daemon> {
    prefix = testPrefix();
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
        done();
      },
    });
    const config = configSchema.parse({
      redis: { url: redis.url, keyPrefix: prefix },
      http: { port: 0, bodyLimit: '64kb', metricsToken: METRICS_TOKEN },
      api: { token: API_TOKEN },
      log: { level: 'warn' },
      connectors: [
        { name: 'alertmanager', type: 'alertmanager', family: 'backup', control: 'A.8.13', auth: { type: 'bearer', token: WEBHOOK_TOKEN }, rateLimit: { requests: 3, per: '1m' } },
        {
          name: 'signed',
          type: 'webhook',
          family: 'av',
          auth: { type: 'hmac', secret: SIGNING_SECRET, timestamp: { tolerance: '2m' } },
          bodyLimit: '1kb',
          items: 'events',
          mapping: { id: 'uid', status: { path: 'state', map: { bad: 'firing', good: 'resolved' } }, observedAt: 'time', asset: 'host', check: 'rule' },
        },
      ],
      ...overrides,
    });
    daemon = await startDaemon(config, { logger: createLogger('warn', sink) });
    return daemon;
  }

  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    await dropPrefix(redis.client, prefix);
  });

  it('listens on 127.0.0.1 unless told otherwise', () => {
    const config = configSchema.parse({ redis: { url: 'redis://127.0.0.1:6379' }, api: { token: API_TOKEN }, connectors: [] });
    expect(config.http.host).toBe('127.0.0.1');
  });

  it('takes a timestamped signature once, refuses it again and when too old, and frees it when the batch was not taken', async () => {
    const running = await start();
    const post = (body: string, headers: Record<string, string>) => fetch(`${running.address}/hooks/signed`, { method: 'POST', headers, body });
    const body = event('e-1');
    const headers = signed(body);
    expect((await post(body, headers)).status).toBe(202);
    const replayed = await post(body, headers);
    expect(replayed.status).toBe(401);

    const stale = event('e-2');
    expect((await post(stale, signed(stale, Math.floor(Date.now() / 1000) - 180))).status).toBe(401);

    // Refused for its content after the signature was checked: the sender may fix nothing and send the same again.
    const unfit = JSON.stringify({ events: [{ uid: 'e-3', state: 'bad' }] });
    const unfitHeaders = signed(unfit);
    expect((await post(unfit, unfitHeaders)).status).toBe(400);
    expect((await post(unfit, unfitHeaders)).status).toBe(400);

    const reasons = logs().filter((line) => line.audit === 'request-refused').map((line) => line.detail);
    expect(reasons).toEqual(['this signature was already used: a replayed request', expect.stringMatching(/^x-recurd-timestamp is 18\d s from now, beyond the tolerance of 120 s$/)]);
    expect(lines.join('\n')).not.toContain(headers['x-recurd-signature']?.slice('sha256='.length));
  });

  it('answers an unknown connector exactly as wrong credentials, and logs both without the credential', async () => {
    const running = await start();
    const post = (connector: string, authorization?: string) =>
      fetch(`${running.address}/hooks/${connector}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: '{}',
      });
    const answers = [await post('nope', `Bearer ${WEBHOOK_TOKEN}`), await post('alertmanager', 'Bearer not-the-token'), await post('alertmanager'), await post('signed/deeper')];
    const seen = await Promise.all(answers.map(async (answer) => `${answer.status} ${await answer.text()}`));
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toMatch(/^401 .*RECURD_ERR_UNAUTHORIZED/);

    const refused = logs().filter((line) => line.audit === 'request-refused');
    expect(refused.map((line) => [line.route, line.connector, line.detail])).toEqual([
      ['/hooks/nope', 'nope', 'no connector named "nope"'],
      ['/hooks/alertmanager', 'alertmanager', 'bearer token does not match'],
      ['/hooks/alertmanager', 'alertmanager', 'missing Authorization header'],
      ['/hooks/signed/deeper', 'signed', 'credentials not checked for this URL'],
    ]);
    expect(refused.every((line) => line.level === 40 && line.remoteAddress === '127.0.0.1' && line.status === 401)).toBe(true);
    expect(lines.join('\n')).not.toContain(WEBHOOK_TOKEN);
    expect(lines.join('\n')).not.toContain('not-the-token');
  });

  it('tells a caller with valid credentials what is wrong with the URL', async () => {
    const running = await start();
    const answer = await fetch(`${running.address}/hooks/alertmanager/extra`, { method: 'POST', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, body: '{}' });
    expect(answer.status).toBe(404);
    expect(await answer.text()).toContain('alertmanager takes POST /hooks/alertmanager only');
  });

  it('limits requests per connector and sender, with Retry-After, and each connector bodies to its own size', async () => {
    const running = await start();
    const notification = JSON.stringify({ version: '4', status: 'firing', receiver: 'recurd', groupKey: '{}', alerts: [] });
    const post = () => fetch(`${running.address}/hooks/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' }, body: notification });
    const statuses = [];
    for (let request = 0; request < 4; request += 1) statuses.push((await post()).status);
    expect(statuses.slice(0, 3).every((status) => status !== 429)).toBe(true);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RECURD_ERR_RATE_LIMITED');
    expect(logs().filter((line) => line.audit === 'request-refused' && line.reason === 'rate_limited').length).toBe(2);

    const large = JSON.stringify({ events: [{ uid: 'x'.repeat(2000), state: 'bad' }] });
    const tooLarge = await fetch(`${running.address}/hooks/signed`, { method: 'POST', headers: signed(large), body: large });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.text()).toContain('the limit of 1024 bytes');
  });

  it('puts /metrics behind its token, shows connectors in /readyz only to the API token, and counts every refusal', async () => {
    const running = await start();
    expect((await fetch(`${running.address}/metrics`)).status).toBe(401);
    expect((await fetch(`${running.address}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const probe = (await (await fetch(`${running.address}/readyz`)).json()) as Record<string, unknown>;
    expect(probe).toMatchObject({ status: 'ready' });
    expect(probe).not.toHaveProperty('connectors');
    const full = (await (await fetch(`${running.address}/readyz`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as Record<string, unknown>;
    expect(Object.keys(full.connectors as object)).toEqual(['alertmanager', 'signed']);
    expect((await fetch(`${running.address}/api/v1/nonconformities`)).status).toBe(401);

    const metrics = await (await fetch(`${running.address}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toContain('recurd_http_requests_refused_total{reason="unauthorized"} 3');
  });

  it('logs a flood of refusals as a burst and then one line with the count', async () => {
    const running = await start();
    const flood = REFUSALS_LOGGED_PER_MINUTE + 30;
    for (let request = 0; request < flood; request += 1) await fetch(`${running.address}/hooks/scan-${request}`, { method: 'POST', body: '{}' });
    expect(logs().filter((line) => line.audit === 'request-refused').length).toBe(REFUSALS_LOGGED_PER_MINUTE);
    await running.stop();
    daemon = null;
    // Stopping writes what the minute held back.
    const summary = await eventually(() => logs().find((line) => line.audit === 'requests-refused'), 5000, 'the summary line');
    expect(summary).toMatchObject({ remoteAddress: '127.0.0.1', count: 30, reasons: ['unauthorized'] });
  });
});
