/**
 * Bad input never costs more than a 4xx (issue "Holds under faults", 1): any body posted to any
 * intake, each preset's included, is taken (2xx) or refused with a named error (4xx), never
 * answered 5xx, and the daemon keeps answering.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presets } from '../connectors/presets/index.js';
import type { Daemon } from '../src/daemon.js';
import { runDaemon, testConfig, WEBHOOK_TOKEN } from './helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const bearer = { type: 'bearer', token: WEBHOOK_TOKEN } as const;

/** Every intake recurd ships: Alertmanager, a generic webhook, a heartbeat, and a webhook per preset. */
const connectors = [
  { name: 'alertmanager', type: 'alertmanager', family: 'siem', auth: bearer },
  {
    name: 'generic',
    type: 'webhook',
    family: 'av',
    auth: bearer,
    items: 'events',
    mapping: { id: 'uid', status: { path: 'state', map: { bad: 'firing', good: 'resolved' } }, observedAt: 'time', asset: 'host', check: 'rule' },
  },
  { name: 'backups', type: 'heartbeat', family: 'backup', auth: bearer, jobs: { nightly: { period: '1d', grace: '1h', asset: 'fileserver' } } },
  ...presets.map((preset) => ({ name: `preset-${preset.name}`, type: 'webhook', auth: bearer, preset: preset.name })),
];

/** Objects `depth` deep around a string, as text: JSON.stringify cannot go thousands of levels deep. */
function nested(depth: number): string {
  return `${'{"a":['.repeat(depth)}"x"${']}'.repeat(depth)}`;
}

/** The firing notification of the real Alertmanager pair. */
const alertmanagerBody = JSON.parse(readFileSync(new URL('./fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8').split('\n')[0] as string) as {
  alerts: object[];
};

/** Bodies as senders get them wrong: any JSON, not JSON at all, deep nesting, real shapes with odd values. */
const bodies: fc.Arbitrary<string> = fc.oneof(
  fc.json({ depthSize: 'medium' }),
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((value) => JSON.stringify({ version: '4', alerts: [value, value] })),
  fc.jsonValue().map((value) => JSON.stringify({ events: [{ uid: 'x', state: 'bad', time: value, host: value, rule: value }] })),
  fc.integer({ min: 50, max: 5000 }).map((depth) => `{"version":"4","alerts":[${nested(depth)}]}`),
  fc.jsonValue().map((value) => JSON.stringify({ ...alertmanagerBody, alerts: [{ ...alertmanagerBody.alerts[0], startsAt: value, labels: value }, alertmanagerBody.alerts[0]] })),
);

describe('any body posted to any intake', () => {
  let redis: TestRedis;
  let daemon: Daemon;
  const prefix = testPrefix();

  beforeAll(async () => {
    redis = await startRedis();
    daemon = await runDaemon(testConfig(redis.url, prefix, { connectors: connectors as never }));
  });
  afterAll(async () => {
    await daemon.stop();
    await dropPrefix(redis.client, prefix);
    await redis.stop();
  });

  it('is taken (2xx) or refused with a named error (4xx), never a 5xx', async () => {
    const routes = connectors.map((connector) => (connector.type === 'heartbeat' ? `${connector.name}/nightly/finish` : connector.name));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), bodies, async (route, body) => {
        const response = await fetch(`${daemon.address}/hooks/${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
          body,
        });
        const answer = (await response.json()) as { accepted?: number; error?: { code: string } };
        expect(response.status, `${route}: ${JSON.stringify(answer)}`).toBeLessThan(500);
        if (response.status >= 400) expect(answer.error?.code).toMatch(/^RECURD_ERR_[A-Z_]+$/);
        else expect(response.status).toBe(202);
      }),
      { numRuns: 400 },
    );
    expect((await fetch(`${daemon.address}/readyz`)).status).toBe(200);
  }, 120_000);
});
