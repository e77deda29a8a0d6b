/**
 * The OpenAPI document of a real daemon: valid OpenAPI 3.1, describing exactly the routes Fastify
 * serves, and every answer of a session through intake, the API, the probes and the errors fitting
 * the schema documented for its route and status (test/helpers/openapi.ts).
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPrefix } from '../bench/programs/redis.js';
import { privateRedis } from './helpers/suites.js';
import { systemClock } from '../src/core/clock.js';
import type { Daemon } from '../src/daemon.js';
import { OPERATIONS } from '../src/http/operations.js';
import { buildServer, type HttpOptions } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { Metrics } from '../src/metrics.js';
import { API_TOKEN, WEBHOOK_TOKEN, api, eventually, runDaemon, testConfig, resolvesDecided } from './helpers/daemon.js';
import { OpenApiCheck, fastifyRoutes, type Exchange } from './helpers/openapi.js';

const [firingBody, resolvedBody] = readFileSync(new URL('./fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8')
  .trim()
  .split('\n') as [string, string];

const READER = 'reader-token-for-openapi';
const WRITER = 'writer-token-for-openapi';
const SHA256 = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

interface Call {
  /** The API token to send; null for none. */
  token?: string | null;
  /** A JSON body, sent as it is serialised. */
  json?: unknown;
  /** A body sent as it is. */
  raw?: string;
}

describe('the OpenAPI document', () => {
  const redis = privateRedis();
  const prefix = testPrefix();
  let daemon: Daemon;
  let check: OpenApiCheck;

  beforeAll(async () => {
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        api: {
          token: API_TOKEN,
          tokens: [
            { name: 'reader', token: READER, role: 'read' },
            { name: 'writer', token: WRITER, role: 'write' },
          ],
        },
        // The fixture's times are fixed and the re-fire is timed at receipt: the window must reach today.
        policy: { window: '3650d', maxLateness: '3650d' },
        connectors: [
          { name: 'alertmanager', type: 'alertmanager', family: 'backup', control: 'A.8.13', auth: { type: 'bearer', token: WEBHOOK_TOKEN } },
          { name: 'backups', type: 'heartbeat', family: 'backup', auth: { type: 'bearer', token: WEBHOOK_TOKEN }, jobs: { nightly: { period: '1d', grace: '1h' } } },
        ],
      }),
    );
    check = await OpenApiCheck.of(daemon.address);
  });
  afterAll(async () => {
    await daemon.stop();
  });

  /** Sends a request and holds its answer against the document; a JSON body the server took must fit the documented request too. */
  async function call(method: string, url: string, { token = API_TOKEN, json, raw }: Call = {}): Promise<Exchange> {
    const body = raw ?? (json === undefined ? undefined : JSON.stringify(json));
    const response = await fetch(`${daemon.address}${url}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    });
    const contentType = response.headers.get('content-type');
    const text = await response.text();
    const exchange = { method, url, status: response.status, contentType, body: contentType?.startsWith('application/json') ? (JSON.parse(text) as unknown) : text };
    expect(check.problems(exchange)).toEqual([]);
    if (json !== undefined && response.status < 300) expect(check.requestProblems(method, url, json)).toEqual([]);
    return exchange;
  }

  const codeOf = (exchange: Exchange): unknown => (exchange.body as { error?: { code?: string } }).error?.code;

  it('is valid OpenAPI 3.1, its schemas valid JSON Schema 2020-12, readable without a token', async () => {
    const response = await fetch(`${daemon.address}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // OpenApiCheck compiled every component schema with ajv in strict mode; a broken one throws there.
    expect(Object.keys(check.document.components.schemas)).toEqual(expect.arrayContaining(['Nonconformity', 'NonconformityDetail', 'Symptom', 'ChainVerdict', 'NonconformityPage']));
    // The role each API operation needs is its security requirement.
    expect(check.document.paths['/api/v1/nonconformities/{id}/void']?.post?.security).toEqual([{ apiToken: ['admin'] }]);
    expect(check.document.paths['/api/v1/nonconformities/{id}/owner']?.post?.security).toEqual([{ apiToken: ['write'] }]);
    expect(check.document.paths['/api/v1/symptoms']?.get?.security).toEqual([{ apiToken: ['read'] }]);
    // The connectors' names are not in it: their intakes are one templated path.
    expect(JSON.stringify(document)).not.toContain('alertmanager"');
    expect(Object.keys(check.document.paths).filter((path) => path.startsWith('/hooks/'))).toEqual(['/hooks/{connector}', '/hooks/{connector}/{job}/{event}']);
  });

  it('describes every route Fastify serves, and nothing else', () => {
    const served = fastifyRoutes(daemon.app.printRoutes()).map((route) =>
      route
        .replace(/:([A-Za-z]+)/g, '{$1}')
        // Intakes are served per connector, and for any other name; the document has them once.
        .replace(/^POST \/hooks\/(alertmanager|backups|\*)$/, 'POST /hooks/{connector}')
        .replace(/^POST \/hooks\/backups\/\*$/, 'POST /hooks/{connector}/{job}/{event}')
        .replace(/^GET \/ui\/\*$/, 'GET /ui/{path}'),
    );
    const documented = Object.entries(check.document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(new Set(served)).toEqual(new Set(documented));
    expect(served).toContain('POST /api/v1/nonconformities/{id}/corrective-action');
  });

  it('refuses a route that names no operation', async () => {
    const server = buildServer({
      bodyLimit: 1024,
      apiTokens: [],
      connectors: new Map(),
      intakeLimits: new Map(),
      limits: { maxDepth: 8, maxItems: 8 },
      logger: createLogger('silent'),
      clock: systemClock,
      metrics: new Metrics({ redisUp: () => true, countNcsByState: () => Promise.reject(new Error('unused')), queueJobCounts: () => Promise.resolve({}), connectorLastSuccess: () => Promise.resolve({}), ncStats: () => Promise.resolve([]) }),
    } as Partial<HttpOptions> as HttpOptions);
    expect(() => server.get('/undocumented', () => 'hidden')).toThrow('GET /undocumented names no operation: declare one in src/http/operations.ts');
    await server.close();
  });

  it('documents every answer of a session: intake, API, probes and errors', async () => {
    // API description and probes, without a token.
    const page = await call('GET', '/api/v1/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.body).toContain('POST</span> <code>/api/v1/nonconformities/{id}/corrective-action</code>');
    expect(page.body).not.toMatch(/<script|<link|\ssrc=/);
    const docsHeaders = (await fetch(`${daemon.address}/api/v1/docs`)).headers;
    expect(docsHeaders.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /);
    await call('GET', '/api/v1/openapi.json', { token: null });
    await call('GET', '/healthz', { token: null });
    await call('GET', '/metrics', { token: null });
    const ready = await call('GET', '/readyz', { token: READER });
    expect(ready.body).toHaveProperty('connectors');
    await call('GET', '/readyz', { token: null });

    // Intake: refused, not JSON, the wrong path, a heartbeat; then firing, resolved, firing raises an NC.
    expect((await call('POST', '/hooks/alertmanager', { token: 'not-the-token', raw: firingBody })).status).toBe(401);
    expect((await call('POST', '/hooks/nowhere', { token: WEBHOOK_TOKEN, raw: firingBody })).status).toBe(401);
    expect((await call('POST', '/hooks/alertmanager/nightly/success', { token: WEBHOOK_TOKEN, raw: firingBody })).status).toBe(404);
    const notJson = await call('POST', '/hooks/alertmanager', { token: WEBHOOK_TOKEN, raw: '{"alerts": [' });
    expect([notJson.status, codeOf(notJson)]).toEqual([400, 'RECURD_ERR_PAYLOAD_INVALID']);
    expect((await call('POST', '/hooks/backups/nightly/start', { token: WEBHOOK_TOKEN })).status).toBe(202);
    // Two symptoms, on two servers: one NC takes a corrective action, the other has its risk accepted.
    const bodies = [firingBody, resolvedBody].map((body) => [body, body.replaceAll('srv-db-01', 'srv-db-02').replaceAll('b646c92a58e6de72', 'b646c92a58e6de73')]);
    const [firing = [], resolved = []] = bodies;
    for (const raw of [...firing, ...resolved]) expect((await call('POST', '/hooks/alertmanager', { token: WEBHOOK_TOKEN, raw })).status).toBe(202);
    // The resolves must be decided before the re-fires, or the re-fires are just the same episodes.
    await resolvesDecided(daemon, 2);
    for (const raw of firing) expect((await call('POST', '/hooks/alertmanager', { token: WEBHOOK_TOKEN, raw })).status).toBe(202);
    await eventually(async () => {
      const { body } = await api<{ count: number }>(daemon.address, '/api/v1/nonconformities?state=open');
      return body.count === 2 ? true : undefined;
    }, 10_000, 'two open NCs');
    const open = (await call('GET', '/api/v1/nonconformities?state=open')).body as { nonconformities: Array<{ id: string; asset: string }> };
    const idOn = (asset: string): string => open.nonconformities.find((nc) => nc.asset === asset)?.id ?? `no NC on ${asset}`;
    const [id, other] = [idOn('srv-db-01'), idOn('srv-db-02')];

    // Reading, with a read token; refusals.
    const nc = await call('GET', `/api/v1/nonconformities/${id}`, { token: READER });
    expect(nc.status).toBe(200);
    expect((await call('GET', '/api/v1/nonconformities?overdue=true')).status).toBe(200);
    expect((await call('GET', `/api/v1/nonconformities/${id}/verify`)).status).toBe(200);
    expect((await call('GET', '/api/v1/nonconformities/NC-1999-0001')).status).toBe(404);
    expect((await call('GET', '/api/v1/nonconformities/NC-1999-0001/verify')).status).toBe(404);
    expect((await call('GET', '/api/v1/nonconformities?limit=0')).status).toBe(400);
    expect((await call('GET', '/api/v1/nonconformities', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/nonconformities', { token: 'not-a-token' })).status).toBe(401);
    const exported = await call('GET', '/api/v1/export?format=tar.gz');
    expect([exported.status, exported.contentType]).toEqual([200, 'application/gzip']);
    await call('GET', '/api/v1/export');

    // What people record on the NC.
    const action = {
      action: 'moved backups to a monitored volume',
      owner: 'backup team',
      dueDate: '2099-12-31',
      rootCause: 'the volume filled up unseen',
      rootCauseAnalysis: { whys: ['the backup failed', 'the disk was full', 'nobody saw it fill', 'no alert on it', 'no one owned the volume'], category: 'governance-ownership' },
      ismsChange: 'volumes have owners',
    };
    expect((await call('POST', `/api/v1/nonconformities/${id}/corrective-action`, { token: READER, json: action })).status).toBe(403);
    const recorded = await call('POST', `/api/v1/nonconformities/${id}/corrective-action`, { token: WRITER, json: action });
    expect(recorded.status).toBe(200);
    expect(recorded.body).toMatchObject({ correctiveAction: { actor: 'writer', rootCauseAnalysis: { category: 'governance-ownership' } } });
    const again = await call('POST', `/api/v1/nonconformities/${id}/corrective-action`, { token: WRITER, json: action });
    expect([again.status, codeOf(again)]).toEqual([409, 'RECURD_ERR_NC_VERIFYING']);
    expect((await call('POST', `/api/v1/nonconformities/${id}/owner`, { token: WRITER, json: { owner: 'storage team' } })).status).toBe(200);
    expect((await call('POST', `/api/v1/nonconformities/${id}/due-date`, { token: WRITER, json: { dueDate: '2099-06-30' } })).status).toBe(200);
    const past = await call('POST', `/api/v1/nonconformities/${id}/due-date`, { token: WRITER, json: { dueDate: '2001-01-01' } });
    expect([past.status, codeOf(past)]).toEqual([422, 'RECURD_ERR_DATE_IN_PAST']);
    expect((await call('POST', `/api/v1/nonconformities/${id}/comments`, { token: WRITER, json: { text: 'checked with the storage team' } })).status).toBe(201);
    expect((await call('POST', `/api/v1/nonconformities/${id}/attachments`, { token: WRITER, json: { path: '/srv/evidence/df.log', sha256: SHA256 } })).status).toBe(201);
    // A body the server refuses is refused by the documented schema as well.
    const empty = { owner: '' };
    expect((await call('POST', `/api/v1/nonconformities/${id}/owner`, { token: WRITER, json: empty })).status).toBe(400);
    expect(check.requestProblems('POST', `/api/v1/nonconformities/${id}/owner`, empty)).not.toEqual([]);
    expect((await call('POST', `/api/v1/nonconformities/${id}/comments`, { token: WRITER, raw: '{"text": ' })).status).toBe(400);
    const large = await call('POST', `/api/v1/nonconformities/${id}/comments`, { token: WRITER, json: { text: 'x'.repeat(70_000) } });
    expect([large.status, codeOf(large)]).toEqual([413, 'RECURD_ERR_PAYLOAD_TOO_LARGE']);
    expect((await call('POST', `/api/v1/nonconformities/NC-1999-0001/owner`, { token: WRITER, json: { owner: 'nobody' } })).status).toBe(404);

    // Symptoms: list, show, a fix recorded, refused when it is not firing.
    const symptoms = await call('GET', '/api/v1/symptoms?limit=10', { token: READER });
    const fingerprint = (symptoms.body as { symptoms: Array<{ fingerprint: string; state: string }> }).symptoms.find((symptom) => symptom.state === 'active')?.fingerprint;
    expect(fingerprint).toBeDefined();
    expect((await call('GET', `/api/v1/symptoms/${fingerprint}`)).status).toBe(200);
    expect((await call('GET', '/api/v1/symptoms/unknown-fingerprint')).status).toBe(404);
    expect((await call('POST', `/api/v1/symptoms/${fingerprint}/fix`, { token: WRITER, json: { note: 'freed space' } })).status).toBe(200);
    expect((await call('POST', `/api/v1/symptoms/${fingerprint}/fix`, { token: WRITER, json: {} })).status).toBe(409);

    // Who the token is; the dead letters listed and shown, an id that is not one refused.
    expect((await call('GET', '/api/v1/whoami', { token: READER })).body).toEqual({ name: 'reader', role: 'read' });
    const letters = await call('GET', '/api/v1/dead-letters?limit=5', { token: READER });
    const letterId = (letters.body as { deadLetters: Array<{ id: string }> }).deadLetters[0]?.id;
    expect(letterId).toBeDefined();
    expect((await call('GET', `/api/v1/dead-letters/${letterId}`, { token: READER })).status).toBe(200);
    expect((await call('GET', '/api/v1/dead-letters/not-an-id', { token: READER })).status).toBe(404);

    // The console: its page for any view, a missing file, and the redirect to it.
    const consolePage = await call('GET', '/ui/review', { token: null });
    expect([consolePage.status, consolePage.contentType]).toEqual([200, 'text/html; charset=utf-8']);
    expect((await call('GET', '/ui/missing.js', { token: null })).status).toBe(404);
    const redirect = await fetch(`${daemon.address}/ui`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([308, '/ui/']);
    const redirectBody = await redirect.text();
    expect(check.problems({ method: 'GET', url: '/ui', status: 308, contentType: redirect.headers.get('content-type'), body: redirectBody })).toEqual([]);

    // The management review, as figures and as the console's fragment; a backwards period refused.
    const review = await call('GET', '/api/v1/review', { token: READER });
    expect((review.body as { total: { opened: number } }).total.opened).toBeGreaterThan(0);
    const fragment = await call('GET', '/api/v1/review?format=html', { token: READER });
    expect([fragment.status, fragment.contentType]).toEqual([200, 'text/html; charset=utf-8']);
    expect((await call('GET', '/api/v1/review?from=2026-06&to=2026-01', { token: READER })).status).toBe(400);

    // Admin: void (refused to a writer), then risk cannot be accepted on a void NC; dead letters.
    const voidBody = { reason: 'test-data', note: 'raised by the OpenAPI test' };
    expect((await call('POST', `/api/v1/nonconformities/${id}/void`, { token: WRITER, json: voidBody })).status).toBe(403);
    const voided = await call('POST', `/api/v1/nonconformities/${id}/void`, { json: voidBody });
    expect(voided.body).toMatchObject({ state: 'void', voided: { reason: 'test-data', actor: 'admin' } });
    const acceptance = { approver: 'ciso', reason: 'the old server is retired next month', until: '2099-01-01' };
    const risk = await call('POST', `/api/v1/nonconformities/${id}/accept-risk`, { json: acceptance });
    expect([risk.status, codeOf(risk)]).toEqual([409, 'RECURD_ERR_NC_VOID']);
    const accepted = await call('POST', `/api/v1/nonconformities/${other}/accept-risk`, { json: acceptance });
    expect(accepted.body).toMatchObject({ state: 'risk-accepted', riskAcceptance: { approver: 'ciso', actor: 'admin' } });
    const replayed = await call('POST', '/api/v1/dead-letters/all/replay');
    expect((replayed.body as { replayed: Array<{ problems: string[] }> }).replayed[0]?.problems).not.toEqual([]);
    expect((await call('POST', '/api/v1/dead-letters/1-0/replay')).status).toBe(404);
    expect((await call('POST', '/api/v1/dead-letters/not-an-id/replay')).status).toBe(404);

    // Every operation was exercised at least once with an answer that is not an error.
    const succeeded = new Set([...check.seen].filter((seen) => Number(seen.split(' ')[1]) < 400).map((seen) => seen.split(' ')[0]));
    expect(OPERATIONS.map((declared) => declared.id).filter((operation) => !succeeded.has(operation))).toEqual([]);

    // The check itself fails on what the document does not say.
    expect(check.problems({ ...nc, body: { ...(nc.body as object), state: 'forgotten' } })).not.toEqual([]);
    expect(check.problems({ ...nc, body: { ...(nc.body as object), undocumented: true } })).not.toEqual([]);
    const { timeline: _timeline, ...withoutTimeline } = nc.body as Record<string, unknown>;
    expect(check.problems({ ...nc, body: withoutTimeline })).not.toEqual([]);
    expect(check.problems({ ...nc, status: 418 })).not.toEqual([]);
    expect(check.problems({ ...nc, url: '/api/v1/elsewhere' })).not.toEqual([]);
  });
});
