/**
 * The elasticsearch connector against an Elasticsearch stand-in that answers with real documents
 * (Kibana's and Wazuh's) in real response envelopes (test/fixtures/elastic-security): in process
 * through @elastic/elasticsearch-mock, and over loopback HTTP(S) where the client's own
 * connection, TLS and auth headers are under test, or where daemons build the connector themselves.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors, type BaseConnection } from '@elastic/elasticsearch';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { Queue } from 'bullmq';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createElasticsearchConnector, elasticsearchConnector, type ElasticsearchConfig } from '../../connectors/elasticsearch.js';
import { expandDottedKeys } from '../../connectors/presets/elastic-security.js';
import { presetMapper } from '../../connectors/presets/resolve.js';
import { ConnectorError, MemoryConnectorState, type Connector, type PayloadError } from '../../connectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import type { CanonicalAlert } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import { eventually, runDaemon, testConfig } from '../helpers/daemon.js';
import { requireProgram } from '../../bench/programs/installed.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';

interface MockApi {
  add(pattern: MockPattern, resolver: (params: MockPattern) => unknown): unknown;
  getConnection(): typeof BaseConnection;
}
// The package's typings declare an ES default export that its CommonJS module does not have.
const Mock = createRequire(import.meta.url)('@elastic/elasticsearch-mock') as new () => MockApi;

const FIXTURES = new URL('../fixtures/', import.meta.url);
const text = (path: string): string => readFileSync(new URL(path, FIXTURES), 'utf8');

interface StoredDocument {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

/** A Kibana es_archive data file: `{type: doc, value: {index, id, source}}` objects separated by blank lines. */
function archive(path: string): StoredDocument[] {
  return text(path)
    .trim()
    .split(/\n\n(?=\{)/)
    .map((part) => {
      const { value } = JSON.parse(part) as { value: { index: string; id: string; source: Record<string, unknown> } };
      return { _index: value.index, _id: value.id, _source: value.source };
    });
}

function indexerHit(path: string): StoredDocument {
  const { _index, _id, _source } = JSON.parse(text(path)) as StoredDocument;
  return { _index, _id, _source };
}

const THREAT_MATCH = archive('elastic-security/kibana-8.1.0-alerts.es-archive.json');
const [ENDPOINT] = archive('elastic-security/kibana-8.8.0-endpoint-query-alert.es-archive.json') as [StoredDocument];
const [LEGACY_SIGNAL] = archive('elastic-security/kibana-7.16.0-legacy-signal.es-archive.json') as [StoredDocument];
/** Five detection alerts in @timestamp order: four of one rule on three hosts (Kibana 8.1), one Endpoint alert (8.8). */
const ALERTS = [...THREAT_MATCH, ENDPOINT];
const ALERT_IDS = ALERTS.map((document) => document._id);
const WAZUH = [
  indexerHit('wazuh-indexer/wazuh-docs-agent-labels-sshd-2502.hit.json'),
  indexerHit('wazuh-indexer/wazuh-docs-fim-whodata-ebpf-550.hit.json'),
];

const OPEN_PIT = JSON.parse(text('elastic-security/elasticsearch-open-pit-response.json')) as { id: string };
const CLOSE_PIT = JSON.parse(text('elastic-security/elasticsearch-close-pit-response.json')) as unknown;
/** The search response's envelope (took, timed_out, _shards); each answer brings its own hits. */
const SEARCH_ENVELOPE = Object.fromEntries(
  Object.entries(JSON.parse(text('elastic-security/elasticsearch-search-response.json')) as Record<string, unknown>).filter(([key]) => key !== 'hits'),
);
const UNAUTHENTICATED = JSON.parse(text('elastic-security/elasticsearch-error-401-security-exception.json')) as unknown;
const ALL_SHARDS_FAILED = JSON.parse(text('elastic-security/elasticsearch-error-503-search-phase-execution-exception.json')) as unknown;

const NOW = Date.parse('2025-06-01T00:00:00Z');
const DAY = 86_400_000;
const NODE = 'http://127.0.0.1:9200';

/** A field as Elasticsearch reads it, through objects and dotted keys alike; written apart from the connector's. */
function lookup(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (let take = segments.length; take >= 1; take -= 1) {
    const key = segments.slice(0, take).join('.');
    if (Object.hasOwn(value, key)) {
      const found = lookup((value as Record<string, unknown>)[key], segments.slice(take));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
const fieldOf = (document: StoredDocument, field: string): unknown => lookup(document._source, field.split('.'));

interface FakeRequest {
  method: string;
  path: string;
  querystring: Record<string, unknown>;
  body: unknown;
  authorization?: string | undefined;
  at: number;
}
type Answer = { status: number; body: unknown } | { error: Error };

interface SearchBody {
  pit: { id: string };
  size: number;
  query: Record<string, unknown>;
  sort: Array<Record<string, unknown>>;
  search_after?: [string, number];
}

/**
 * The part of an Elasticsearch cluster the connector uses: PITs, and searches with the query
 * clauses it sends (bool, range, terms, term, ids), sorted by one date field with the PIT's
 * `_shard_doc` tiebreaker (here the document's position) as the last sort value.
 */
class FakeCluster {
  readonly documents: StoredDocument[] = [];
  readonly requests: FakeRequest[] = [];
  readonly openPits = new Set<string>();
  private opened = 0;
  private searches = 0;
  private readonly scriptedOpens: Answer[] = [];
  private readonly scriptedSearches = new Map<number, Answer>();

  index(...documents: StoredDocument[]): void {
    this.documents.push(...documents.map((document) => structuredClone(document)));
  }

  /** What Kibana's status update does to an alert: its painless script sets these two `_source` keys. */
  closeAlert(id: string, at: string): void {
    const document = this.documents.find((candidate) => candidate._id === id);
    if (document === undefined) throw new Error(`no document ${id}`);
    document._source = { ...document._source, 'kibana.alert.workflow_status': 'closed', 'kibana.alert.workflow_status_updated_at': at };
  }

  failNextOpen(answer: Answer): void {
    this.scriptedOpens.push(answer);
  }

  /** The `nth` search from now on is answered with `answer` instead of results. */
  failSearch(nth: number, answer: Answer): void {
    this.scriptedSearches.set(this.searches + nth, answer);
  }

  searchBodies(): SearchBody[] {
    return this.requests.filter((request) => request.path === '/_search').map((request) => request.body as SearchBody);
  }

  answer(request: Omit<FakeRequest, 'at'>): Answer {
    this.requests.push({ ...request, at: Date.now() });
    const { method, path } = request;
    if (method === 'POST' && path.endsWith('/_pit')) {
      const scripted = this.scriptedOpens.shift();
      if (scripted !== undefined) return scripted;
      this.opened += 1;
      const id = `${OPEN_PIT.id}${this.opened}`;
      this.openPits.add(id);
      return { status: 200, body: { ...OPEN_PIT, id } };
    }
    if (method === 'DELETE' && path === '/_pit') {
      this.openPits.delete((request.body as { id: string }).id);
      return { status: 200, body: CLOSE_PIT };
    }
    if (method === 'POST' && path === '/_search') {
      this.searches += 1;
      const scripted = this.scriptedSearches.get(this.searches);
      if (scripted !== undefined) return scripted;
      return { status: 200, body: this.search(request.body as SearchBody) };
    }
    return { status: 400, body: { error: `the stand-in does not answer ${method} ${path}` } };
  }

  private search(body: SearchBody): unknown {
    if (!this.openPits.has(body.pit.id)) throw new Error(`search on a PIT that is not open: ${body.pit.id}`);
    const field = Object.keys(body.sort[0] ?? {})[0] ?? '';
    const after = body.search_after;
    const rows = this.documents
      .map((document, shardDoc) => ({ document, shardDoc, at: Date.parse(String(fieldOf(document, field))) }))
      .filter((row) => Number.isFinite(row.at) && this.matches(body.query, row.document))
      .sort((a, b) => a.at - b.at || a.shardDoc - b.shardDoc)
      .filter((row) => after === undefined || row.at > Date.parse(after[0]) || (row.at === Date.parse(after[0]) && row.shardDoc > after[1]))
      .slice(0, body.size);
    return {
      ...SEARCH_ENVELOPE,
      pit_id: body.pit.id,
      hits: {
        max_score: null,
        hits: rows.map(({ document, shardDoc, at }) => ({
          _index: document._index,
          _id: document._id,
          _score: null,
          _source: document._source,
          sort: [new Date(at).toISOString(), shardDoc],
        })),
      },
    };
  }

  private matches(query: Record<string, unknown>, document: StoredDocument): boolean {
    const [[kind, spec]] = Object.entries(query) as [[string, Record<string, unknown>]];
    const [[field, condition]] = Object.entries(spec) as [[string, unknown]];
    switch (kind) {
      case 'bool': {
        const { filter = [], must_not: mustNot = [] } = spec as { filter?: Array<Record<string, unknown>>; must_not?: Array<Record<string, unknown>> };
        return filter.every((clause) => this.matches(clause, document)) && !mustNot.some((clause) => this.matches(clause, document));
      }
      case 'range': {
        const { gte, lte } = condition as { gte?: string; lte?: string };
        const at = Date.parse(String(fieldOf(document, field)));
        return (gte === undefined || at >= Date.parse(gte)) && (lte === undefined || at <= Date.parse(lte));
      }
      case 'terms':
        return (condition as unknown[]).includes(fieldOf(document, field));
      case 'term':
        return fieldOf(document, field) === condition;
      case 'ids':
        return (spec.values as string[]).includes(document._id);
      default:
        throw new Error(`the stand-in does not know the ${kind} query`);
    }
  }
}

function mockConnection(cluster: FakeCluster): typeof BaseConnection {
  const mock = new Mock();
  const resolve = (params: MockPattern): unknown => {
    const answer = cluster.answer({
      method: String(params.method),
      path: String(params.path),
      querystring: params.querystring ?? {},
      body: params.body ?? null,
    });
    if ('error' in answer) return answer.error;
    if (answer.status >= 400) {
      return new errors.ResponseError({ body: answer.body, statusCode: answer.status, headers: {}, warnings: null } as unknown as ConstructorParameters<
        typeof errors.ResponseError
      >[0]);
    }
    return answer.body;
  };
  mock.add({ method: 'POST', path: '/:index/_pit' }, resolve);
  mock.add({ method: 'POST', path: '/_search' }, resolve);
  mock.add({ method: 'DELETE', path: '/_pit' }, resolve);
  return mock.getConnection();
}

/** The stand-in over loopback HTTP, or HTTPS with `tls`; a scripted error drops the connection. */
async function serve(
  cluster: FakeCluster,
  tls?: { key: string; cert: string },
  product: string | null = 'Elasticsearch',
): Promise<{ url: string; close(): Promise<void> }> {
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const answer = cluster.answer({
        method: request.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        querystring: Object.fromEntries(url.searchParams),
        body: body === '' ? null : (JSON.parse(body) as unknown),
        authorization: request.headers.authorization,
      });
      if ('error' in answer) {
        request.socket.destroy();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (product !== null) headers['x-elastic-product'] = product;
      response.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
    });
  };
  const server: Server = tls === undefined ? createHttpServer(handle) : createHttpsServer(tls, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function configOf(fields: Record<string, unknown> = {}): ElasticsearchConfig {
  return elasticsearchConnector.schema.parse({
    type: 'elasticsearch',
    name: 'elastic',
    node: NODE,
    index: '.alerts-security.alerts-*',
    preset: 'elastic-security',
    pageSize: 2,
    lookback: '3650d',
    ...fields,
  });
}

function services(clock = new ManualClock(NOW)) {
  return { state: new MemoryConnectorState(), clock, logger: createLogger('silent') };
}

/** Connectors on real sockets, closed after each test; the mock's in-process connection holds none. */
const connectors: Connector[] = [];
function connect(cluster: FakeCluster, fields: Record<string, unknown> = {}): Connector {
  return createElasticsearchConnector(configOf(fields), services(), { Connection: mockConnection(cluster) });
}

/** What the pipeline gives a poll: the checkpoint read when it starts, a durable emit, the dead-letter list. */
class PollHarness {
  checkpoint: unknown = null;
  readonly batches: CanonicalAlert[][] = [];
  readonly saved: unknown[] = [];
  readonly rejected: Array<{ body: string; errors: PayloadError[] }> = [];
  onEmit: () => void = () => undefined;
  /** Emits that fail, by their number in this harness's life (1-based), as when Redis cannot take the batch. */
  readonly failingEmits = new Set<number>();
  private emits = 0;

  get emitted(): CanonicalAlert[] {
    return this.batches.flat();
  }

  async poll(connector: Connector, signal = new AbortController().signal): Promise<void> {
    const poller = connector.poller;
    if (poller === undefined) throw new Error(`${connector.name} does not poll`);
    await poller.poll({
      checkpoint: this.checkpoint,
      emit: (alerts) => {
        this.emits += 1;
        if (this.failingEmits.has(this.emits)) return Promise.reject(new Error('Redis did not take the batch'));
        if (alerts.length > 0) this.batches.push(alerts);
        this.onEmit();
        return Promise.resolve();
      },
      saveCheckpoint: (value) => {
        this.checkpoint = JSON.parse(JSON.stringify(value)) as unknown;
        this.saved.push(this.checkpoint);
        return Promise.resolve();
      },
      reject: (body, failures) => {
        this.rejected.push({ body, errors: failures });
        return Promise.resolve();
      },
      signal,
    });
  }

  async failure(connector: Connector): Promise<ConnectorError> {
    const error = await this.poll(connector).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
    return error;
  }
}

afterEach(async () => {
  await Promise.all(connectors.splice(0).map((connector) => connector.close?.() ?? Promise.resolve()));
});

describe('elasticsearch connector: the elastic-security preset on Kibana alert documents', () => {
  it('maps each alert document to a firing observation of its rule on its host, pointing back at the document', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const harness = new PollHarness();
    await harness.poll(connect(cluster));

    expect(harness.rejected).toEqual([]);
    expect(harness.emitted.map((alert) => alert.id)).toEqual(ALERT_IDS);
    expect(harness.emitted[0]).toEqual({
      id: '30a75fe46d3dbdfab55982036f77a8d60e2d1112e96f277c3b8c22f9bb57817a',
      source: 'elastic',
      family: 'siem',
      status: 'firing',
      observedAt: Date.parse('2022-03-19T02:48:12.634Z'),
      asset: 'security-linux-1',
      check: '53000028-120c-4e55-a8c0-db092e05aef4',
      message: 'event on security-linux-1 created low alert threat-match-rule.',
      severity: 'low',
      control: 'A.8.16',
      labels: { rule: 'threat-match-rule', ruleUuid: '031d5c00-a72f-11ec-a8a3-7b1c8077fc3e', ruleType: 'threat_match', riskScore: '21', space: 'default' },
      evidence: {
        originalTime: '2022-03-19T02:47:57.376Z',
        sourceEvents: [{ id: 'ahEToH8BK09aFtXZFVMq', type: 'event', index: 'events-index-000001', depth: 0 }],
        kibanaVersion: '8.1.0',
        index: '.internal.alerts-security.alerts-default-000001',
        documentId: '30a75fe46d3dbdfab55982036f77a8d60e2d1112e96f277c3b8c22f9bb57817a',
      },
    });
    expect(harness.emitted[4]).toMatchObject({
      asset: 'Host-fwarau82er',
      check: '9a1a2dae-0b5f-4c3d-8305-a268d404c306',
      message: 'malware event with process malware writer, file fake_malware.exe, on Host-fwarau82er created medium alert Endpoint Security.',
      severity: 'medium',
      labels: { rule: 'Endpoint Security', ruleType: 'query', riskScore: '47', hostId: '4260adf9-5e63-445d-92c6-e03359bcd342', user: 'user1', space: 'default' },
      evidence: {
        alertUrl:
          'http://localhost:5601/app/security/alerts/redirect/eabbdefc23da981f2b74ab58b82622a97bb9878caa11bc914e2adfacc94780f1?index=.alerts-security.alerts-default&timestamp=2023-04-27T11:03:57.906Z',
        documentId: 'eabbdefc23da981f2b74ab58b82622a97bb9878caa11bc914e2adfacc94780f1',
      },
    });
    // The same rule on the same host twice: one symptom, two observations.
    const [first, , , fourth] = harness.emitted as [CanonicalAlert, CanonicalAlert, CanonicalAlert, CanonicalAlert];
    expect([fourth.check, fourth.asset]).toEqual([first.check, first.asset]);
  });

  it('dead-letters a document that does not fit, by the failing field, and reads on past it', async () => {
    const cluster = new FakeCluster();
    // A legacy `.siem-signals` alert (Kibana 7.16) among 8.x alerts: an index pattern that reaches too far.
    cluster.index(...THREAT_MATCH, LEGACY_SIGNAL, ENDPOINT);
    const harness = new PollHarness();
    await harness.poll(connect(cluster, { index: '.alerts-security.alerts-*,.siem-signals-*' }));

    expect(harness.emitted.map((alert) => alert.id)).toEqual(ALERT_IDS);
    expect(harness.rejected).toHaveLength(1);
    const [dead] = harness.rejected as [{ body: string; errors: PayloadError[] }];
    expect(dead.errors).toEqual([{ path: 'kibana.alert.uuid', message: 'id: missing' }]);
    expect(JSON.parse(dead.body)).toMatchObject({ _index: '.siem-signals-default-000001-7.16.0', _id: LEGACY_SIGNAL._id, '@timestamp': '2022-03-23T16:50:51.493Z' });
    expect(harness.checkpoint).toEqual({ alerts: { after: '2023-04-27T11:03:57.906Z', ids: [ENDPOINT._id] } });
  });

  it('dead-letters a hit without _source (an index that keeps none) and moves on', async () => {
    const cluster = new FakeCluster();
    const { _index, _id } = ENDPOINT;
    cluster.failSearch(1, {
      status: 200,
      body: { ...SEARCH_ENVELOPE, pit_id: `${OPEN_PIT.id}1`, hits: { max_score: null, hits: [{ _index, _id, _score: null, sort: ['2023-04-27T11:03:57.906Z', 7] }] } },
    });
    const harness = new PollHarness();
    await harness.poll(connect(cluster));
    expect(harness.emitted).toEqual([]);
    expect(harness.rejected).toEqual([
      { body: JSON.stringify({ _index, _id }), errors: [{ path: '_source', message: 'missing: the index does not keep _source, so the document cannot be read' }] },
    ]);
    expect(harness.checkpoint).toEqual({ alerts: { after: '2023-04-27T11:03:57.906Z', ids: [_id] } });
  });

  it('emits a resolved observation <id>:closed when an analyst closes the alert, once', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const connector = connect(cluster);
    const harness = new PollHarness();
    await harness.poll(connector);
    expect(harness.emitted.every((alert) => alert.status === 'firing')).toBe(true);

    const closed = THREAT_MATCH[3] as StoredDocument;
    cluster.closeAlert(closed._id, '2022-03-19T09:30:00.000Z');
    harness.batches.length = 0;
    await harness.poll(connector);
    expect(harness.emitted).toHaveLength(1);
    expect(harness.emitted[0]).toMatchObject({
      id: `${closed._id}:closed`,
      status: 'resolved',
      observedAt: Date.parse('2022-03-19T09:30:00.000Z'),
      asset: 'security-linux-1',
      check: '53000028-120c-4e55-a8c0-db092e05aef4',
      evidence: { index: closed._index, documentId: closed._id },
    });
    const statusSearch = cluster.searchBodies().at(-1);
    expect(statusSearch?.query).toMatchObject({
      bool: {
        filter: [
          { terms: { 'kibana.alert.workflow_status': ['closed'] } },
          { range: { 'kibana.alert.workflow_status_updated_at': { lte: new Date(NOW - 60_000).toISOString() } } },
        ],
      },
    });
    expect(harness.checkpoint).toMatchObject({ statusChanges: { after: '2022-03-19T09:30:00.000Z', ids: [closed._id] } });

    harness.batches.length = 0;
    await harness.poll(connector);
    expect(harness.emitted).toEqual([]);
  });

  it('with statusChanges: false makes one search per page and no status-change search', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    cluster.closeAlert(ALERT_IDS[0] as string, '2022-03-19T09:30:00.000Z');
    const harness = new PollHarness();
    await harness.poll(connect(cluster, { statusChanges: false }));
    expect(harness.emitted.map((alert) => alert.status)).toEqual(['firing', 'firing', 'firing', 'firing', 'firing']);
    expect(cluster.searchBodies()).toHaveLength(3);
  });

  it('narrows the documents with the configured query', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const harness = new PollHarness();
    await harness.poll(connect(cluster, { query: { term: { 'host.name': 'security-linux-1' } } }));
    expect(harness.emitted.map((alert) => alert.id)).toEqual([ALERT_IDS[0], ALERT_IDS[3]]);
  });
});

describe('elasticsearch connector: paging and the checkpoint', () => {
  it('pages in timestamp order through one PIT, saving the checkpoint after each enqueued page', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const connector = connect(cluster);
    const harness = new PollHarness();
    await harness.poll(connector);

    expect(harness.batches.map((batch) => batch.map((alert) => alert.id))).toEqual([ALERT_IDS.slice(0, 2), ALERT_IDS.slice(2, 4), ALERT_IDS.slice(4)]);
    expect(harness.saved).toEqual([
      { alerts: { after: '2022-03-19T02:48:12.637Z', ids: [ALERT_IDS[1]] } },
      { alerts: { after: '2022-03-19T02:48:12.646Z', ids: [ALERT_IDS[3]] } },
      { alerts: { after: '2023-04-27T11:03:57.906Z', ids: [ALERT_IDS[4]] } },
    ]);
    const opens = cluster.requests.filter((request) => request.path.endsWith('/_pit') && request.method === 'POST');
    expect(opens.map((request) => [request.path, request.querystring])).toEqual([['/.alerts-security.alerts-*/_pit', { keep_alive: '2m' }]]);
    expect(cluster.openPits.size).toBe(0);

    const [first, second] = cluster.requests.filter((request) => request.path === '/_search') as [FakeRequest, FakeRequest];
    expect(first.querystring).toEqual({ allow_partial_search_results: 'false' });
    expect(first.body).toEqual({
      pit: { id: `${OPEN_PIT.id}1`, keep_alive: '2m' },
      size: 2,
      query: {
        bool: {
          filter: [
            {
              range: {
                '@timestamp': { gte: new Date(NOW - 3650 * DAY).toISOString(), lte: new Date(NOW - 60_000).toISOString(), format: 'strict_date_optional_time_nanos' },
              },
            },
          ],
          must_not: [],
        },
      },
      sort: [{ '@timestamp': { order: 'asc', format: 'strict_date_optional_time_nanos', unmapped_type: 'date' } }],
      track_total_hits: false,
    });
    expect((second.body as SearchBody).search_after).toEqual(['2022-03-19T02:48:12.637Z', 1]);

    // The next poll starts where this one stopped: nothing new, nothing twice.
    harness.batches.length = 0;
    await harness.poll(connector);
    expect(harness.emitted).toEqual([]);
    expect(cluster.searchBodies().at(-2)?.query).toEqual({
      bool: {
        filter: [{ range: { '@timestamp': { gte: '2023-04-27T11:03:57.906Z', lte: new Date(NOW - 60_000).toISOString(), format: 'strict_date_optional_time_nanos' } } }],
        must_not: [{ ids: { values: [ALERT_IDS[4]] } }],
      },
    });
  });

  it.each([
    [
      'a 503 search_phase_execution_exception',
      { status: 503, body: ALL_SHARDS_FAILED },
      'Elasticsearch answered 503 to a search of .alerts-security.alerts-*: search_phase_execution_exception: all shards failed (no_shard_available_action_exception)',
    ],
    ['a timeout', { error: new errors.TimeoutError('Request timed out') }, `no answer from ${NODE} to a search of .alerts-security.alerts-* in time`],
  ])('loses no alert and counts none twice when page 2 fails with %s', async (_name, failure: Answer, message) => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    cluster.failSearch(2, failure);
    const connector = connect(cluster);
    const harness = new PollHarness();

    const error = await harness.failure(connector);
    expect(error.message).toBe(message);
    expect(error.retryable).toBe(true);
    expect(harness.emitted.map((alert) => alert.id)).toEqual(ALERT_IDS.slice(0, 2));
    expect(harness.checkpoint).toEqual({ alerts: { after: '2022-03-19T02:48:12.637Z', ids: [ALERT_IDS[1]] } });
    expect(cluster.openPits.size).toBe(0);

    await harness.poll(connector);
    const emitted = harness.emitted.map((alert) => alert.id);
    expect(emitted).toEqual(ALERT_IDS);
    expect(new Set(emitted).size).toBe(emitted.length);
    expect(cluster.openPits.size).toBe(0);
  });

  it('does not move the checkpoint past a page that could not be enqueued', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const connector = connect(cluster);
    const harness = new PollHarness();
    harness.failingEmits.add(2);
    await expect(harness.poll(connector)).rejects.toThrow('Redis did not take the batch');
    expect(harness.checkpoint).toEqual({ alerts: { after: '2022-03-19T02:48:12.637Z', ids: [ALERT_IDS[1]] } });
    expect(cluster.openPits.size).toBe(0);
    await harness.poll(connector);
    expect(harness.emitted.map((alert) => alert.id)).toEqual(ALERT_IDS);
  });

  it('refuses a partial page instead of reading past the documents it lacks', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    cluster.failSearch(1, { status: 200, body: { ...SEARCH_ENVELOPE, timed_out: true, pit_id: `${OPEN_PIT.id}1`, hits: { max_score: null, hits: [] } } });
    const harness = new PollHarness();
    const error = await harness.failure(connect(cluster));
    expect(error.message).toBe('Elasticsearch answered a search of .alerts-security.alerts-* with a partial page (timed out or shards failed)');
    expect(error.retryable).toBe(true);
    expect(harness.saved).toEqual([]);
  });

  it('fails a poll whose credentials are refused without retrying, the checkpoint untouched', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    cluster.failNextOpen({ status: 401, body: UNAUTHENTICATED });
    const harness = new PollHarness();
    const before = { alerts: { after: '2022-03-19T02:48:12.637Z', ids: [ALERT_IDS[1] as string] } };
    harness.checkpoint = before;

    const error = await harness.failure(connect(cluster));
    expect(error.message).toBe(
      'Elasticsearch answered 401 to open a point in time on .alerts-security.alerts-*: security_exception: failed to authenticate user [kibana] (check auth)',
    );
    expect(error.retryable).toBe(false);
    expect(harness.checkpoint).toBe(before);
    expect(harness.saved).toEqual([]);
    expect(harness.emitted).toEqual([]);
    expect(cluster.searchBodies()).toEqual([]);
  });

  it('refuses a checkpoint it did not write rather than reading from the start again', async () => {
    const cluster = new FakeCluster();
    const harness = new PollHarness();
    harness.checkpoint = { cursor: 'something else' };
    const error = await harness.failure(connect(cluster));
    expect(error.message).toMatch(/^the stored checkpoint is not one this connector wrote \(\{"cursor":"something else"\}\)/);
    expect(error.retryable).toBe(false);
  });

  it('ends a poll early when the daemon stops, keeping what was enqueued', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const harness = new PollHarness();
    const stopping = new AbortController();
    harness.onEmit = () => stopping.abort();
    await harness.poll(connect(cluster), stopping.signal);
    expect(harness.emitted.map((alert) => alert.id)).toEqual(ALERT_IDS.slice(0, 2));
    expect(harness.checkpoint).toEqual({ alerts: { after: '2022-03-19T02:48:12.637Z', ids: [ALERT_IDS[1]] } });
    expect(cluster.searchBodies()).toHaveLength(1);
    expect(cluster.openPits.size).toBe(0);
  });
});

describe('elasticsearch connector: Wazuh alert documents with the wazuh preset', () => {
  // Documents of wazuh-alerts-4.x-* as Wazuh's documentation shows them; the same documents when shipped to Elasticsearch.
  it('orders by the alerts\' `timestamp` and maps each alert of the rule on its agent', async () => {
    const cluster = new FakeCluster();
    cluster.index(...WAZUH);
    const harness = new PollHarness();
    await harness.poll(connect(cluster, { index: 'wazuh-alerts-4.x-*', preset: 'wazuh', pageSize: 10 }));

    expect(harness.rejected).toEqual([]);
    expect(harness.emitted).toMatchObject([
      {
        id: '1720789183.17423',
        family: 'siem',
        status: 'firing',
        observedAt: Date.parse('2024-07-12T12:59:43.612Z'),
        asset: 'Ubuntu-24.04',
        check: '2502',
        message: 'syslog: User missed the password more than one time',
        severity: 'high',
        evidence: { index: 'wazuh-alerts-4.x-2024.07.12', documentId: 'i74Hp5ABO7i5Oz0kQ5QV' },
      },
      {
        id: '1744111917.26911',
        observedAt: Date.parse('2025-04-08T11:31:57.620Z'),
        asset: 'Ubuntu-22',
        check: '550',
        message: 'Integrity checksum changed.',
        severity: 'medium',
        evidence: { index: 'wazuh-alerts-4.x-2025.04.08', documentId: 'SR0rFZYBmHj4HFa46tcz' },
      },
    ]);
    // Wazuh records no fix on its alerts: one search, sorted on `timestamp`.
    expect(cluster.searchBodies().map((body) => body.sort)).toEqual([
      [{ timestamp: { order: 'asc', format: 'strict_date_optional_time_nanos', unmapped_type: 'date' } }],
    ]);
  });
});

describe('elasticsearch connector: config', () => {
  const parse = (fields: Record<string, unknown>) =>
    elasticsearchConnector.schema.safeParse({ type: 'elasticsearch', name: 'elastic', node: NODE, index: 'x-*', preset: 'elastic-security', ...fields });
  const issues = (fields: Record<string, unknown>) => {
    const result = parse(fields);
    return result.success ? [] : result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recurd-es-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('has defaults for everything but the node, the index and what the alerts are', () => {
    const result = parse({});
    expect(result.success).toBe(true);
    expect(result.data).toMatchObject({ pageSize: 500, schedule: '0 * * * * *', delay: 60_000, lookback: DAY, timeout: 30_000 });
    expect(parse({ pageSize: '250' }).data?.pageSize).toBe(250);
  });

  it('names the CA file it cannot use, at validation', () => {
    const notPem = join(dir, 'ca.txt');
    writeFileSync(notPem, 'not a certificate\n');
    expect(issues({ node: 'https://127.0.0.1:9200', caFile: join(dir, 'missing.pem') })).toEqual([
      { path: 'caFile', message: expect.stringMatching(new RegExp(`^cannot read ${join(dir, 'missing.pem')}: ENOENT`)) as unknown },
    ]);
    expect(issues({ node: 'https://127.0.0.1:9200', caFile: notPem })).toEqual([{ path: 'caFile', message: `${notPem} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` }]);
  });

  it('refuses what cannot work, each problem at its path', () => {
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
    expect(issues({ caFile: pem })).toEqual([{ path: 'caFile', message: `applies to https:// nodes only, and node is ${NODE}` }]);
    expect(issues({ node: 'ftp://es' })[0]?.path).toBe('node');
    expect(issues({ schedule: 'every minute' })[0]).toMatchObject({ path: 'schedule', message: expect.stringMatching(/^"every minute" is not a cron expression/) as unknown });
    expect(issues({ auth: { type: 'apiKey', apiKey: '' } })).toEqual([{ path: 'auth.apiKey', message: 'is empty: is the environment variable it comes from set?' }]);
    expect(issues({ pageSize: 20_000 })[0]?.path).toBe('pageSize');
    expect(issues({ indexPattern: 'x-*' })[0]).toMatchObject({ path: '', message: expect.stringMatching(/indexPattern/) as unknown });
    expect(issues({ preset: undefined })).toEqual([
      { path: 'mapping.id', message: 'is required (map it, or choose a preset that does)' },
      { path: 'mapping.status', message: 'is required (map it, or choose a preset that does)' },
      { path: 'family', message: 'is required (set it, or choose a preset that does)' },
    ]);
  });
});

describe('elasticsearch connector: connection, TLS and credentials over loopback', () => {
  let dir: string;
  let certificates: { ca: string; key: string; cert: string };
  beforeAll(() => {
    const openssl = requireProgram('openssl', 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'recurd-es-tls-'));
    const file = (name: string) => join(dir, name);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    execFileSync(openssl, ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=recurd test CA'], { stdio: 'pipe' });
    execFileSync(openssl, ['req', ...ec, '-keyout', file('node.key'), '-out', file('node.csr'), '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
    writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    execFileSync(
      openssl,
      ['x509', '-req', '-in', file('node.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('node.pem'), '-days', '1', '-extfile', file('san.ext')],
      { stdio: 'pipe' },
    );
    certificates = { ca: file('ca.pem'), key: readFileSync(file('node.key'), 'utf8'), cert: readFileSync(file('node.pem'), 'utf8') };
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const realConnector = (fields: Record<string, unknown>): Connector => {
    const connector = createElasticsearchConnector(configOf(fields), services());
    connectors.push(connector);
    return connector;
  };

  it('trusts the node through the CA file and sends the API key', async () => {
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const node = await serve(cluster, certificates);
    try {
      const harness = new PollHarness();
      await harness.poll(realConnector({ node: node.url, caFile: certificates.ca, auth: { type: 'apiKey', apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' } }));
      expect(harness.emitted.map((alert) => alert.id)).toEqual(ALERT_IDS);
      expect(new Set(cluster.requests.map((request) => request.authorization))).toEqual(new Set(['ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==']));

      const untrusted = await new PollHarness().failure(realConnector({ node: node.url }));
      expect(untrusted.message).toMatch(new RegExp(`^cannot reach ${node.url} to open a point in time on \\.alerts-security\\.alerts-\\*: `));
      expect(untrusted.retryable).toBe(true);
    } finally {
      await node.close();
    }
  });

  it.each([
    [{ type: 'basic', username: 'recurd', password: 'pa:ss' }, `Basic ${Buffer.from('recurd:pa:ss').toString('base64')}`],
    [{ type: 'bearer', token: 'dGhpcyBpcyBub3QgYSByZWFsIHRva2Vu' }, 'Bearer dGhpcyBpcyBub3QgYSByZWFsIHRva2Vu'],
  ])('sends %o as %s', async (auth, header) => {
    const cluster = new FakeCluster();
    const node = await serve(cluster);
    try {
      await new PollHarness().poll(realConnector({ node: node.url, auth }));
      expect(cluster.requests.length).toBeGreaterThan(0);
      for (const request of cluster.requests) expect(request.authorization).toBe(header);
    } finally {
      await node.close();
    }
  });

  it('refuses a server that does not answer as Elasticsearch, naming why', async () => {
    const cluster = new FakeCluster();
    const node = await serve(cluster, undefined, null);
    try {
      const error = await new PollHarness().failure(realConnector({ node: node.url }));
      expect(error.message).toBe(
        `${node.url} did not answer as Elasticsearch (no x-elastic-product header): for OpenSearch and servers built on it, such as the Wazuh indexer, set engine: opensearch`,
      );
      expect(error.retryable).toBe(false);
    } finally {
      await node.close();
    }
  });

  it('reports a node that is not listening as retryable', async () => {
    const cluster = new FakeCluster();
    const node = await serve(cluster);
    await node.close();
    const error = await new PollHarness().failure(realConnector({ node: node.url }));
    expect(error.message).toMatch(new RegExp(`^cannot reach ${node.url} to open a point in time`));
    expect(error.retryable).toBe(true);
  });
});

describe('elasticsearch connector: two daemons on one Redis', () => {
  const redis = privateRedis();
  let prefix: string;
  let daemons: Daemon[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    daemons = [];
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });

  async function received(daemon: Daemon): Promise<number> {
    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    return metrics
      .split('\n')
      .filter((line) => line.startsWith('recurd_alerts_received_total{') && line.includes('source="elastic"'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  it('runs each scheduled poll once per tick, though both daemons schedule it, and enqueues each document once', async () => {
    prefix = testPrefix();
    const cluster = new FakeCluster();
    cluster.index(...ALERTS);
    const node = await serve(cluster);
    const add = vi.spyOn(Queue.prototype, 'add');
    try {
      const config = testConfig(redis.url, prefix, {
        sweep: { schedule: '0 0 1 1 *' },
        connectors: [
          {
            name: 'elastic',
            type: 'elasticsearch',
            node: node.url,
            index: '.alerts-security.alerts-*',
            preset: 'elastic-security',
            auth: { type: 'apiKey', apiKey: 'a2V5' },
            schedule: '* * * * * *',
            pageSize: 2,
            lookback: '3650d',
          },
        ],
      });
      daemons = [await runDaemon(config), await runDaemon(config)];
      await new Promise((resolve) => setTimeout(resolve, 4200));
      const total = await eventually(async () => {
        const sum = (await received(daemons[0] as Daemon)) + (await received(daemons[1] as Daemon));
        return sum === ALERTS.length ? sum : undefined;
      }, 5000, 'every document enqueued');
      expect(total).toBe(ALERTS.length);
      const checkpoint = JSON.parse((await redis.client.get(`${prefix}:connector:elastic:checkpoint`)) ?? 'null') as unknown;
      expect(checkpoint).toEqual({ alerts: { after: '2023-04-27T11:03:57.906Z', ids: [ALERT_IDS[4]] } });
      await Promise.all(daemons.map((daemon) => daemon.stop()));

      // Both daemons' crons asked for the same ticks …
      const requested = new Map<object, Set<string>>();
      add.mock.calls.forEach(([name, , options], index) => {
        if (name !== 'poll') return;
        const queue = add.mock.contexts[index] as object;
        requested.set(queue, (requested.get(queue) ?? new Set<string>()).add(String(options?.jobId)));
      });
      expect(requested.size).toBe(2);
      const [fromA, fromB] = [...requested.values()] as [Set<string>, Set<string>];
      expect([...fromA].filter((id) => fromB.has(id)).length).toBeGreaterThanOrEqual(3);

      // … and each tick was polled once: one job per tick, one PIT per job, never two in one second.
      const queue = new Queue('poll', { connection: { host: '127.0.0.1', port: redis.port }, prefix });
      try {
        const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed']);
        const ids = jobs.map((job) => String(job.id));
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(new Set([...fromA, ...fromB]));
        const ran = await queue.getJobs(['completed', 'failed']);
        const opens = cluster.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/_pit'));
        expect(ran.length).toBeGreaterThanOrEqual(3);
        // A tick that finds the previous poll still holding the lock (a slow, busy machine) skips.
        expect(opens.length).toBeGreaterThanOrEqual(3);
        expect(opens.length).toBeLessThanOrEqual(ran.length);
        const seconds = opens.map((request) => Math.floor(request.at / 1000));
        expect(new Set(seconds).size).toBe(seconds.length);
        expect(cluster.openPits.size).toBe(0);
      } finally {
        await queue.close();
      }
    } finally {
      await node.close();
    }
  });
});

describe('elastic-security preset: any document', () => {
  const map = presetMapper({ name: 'elastic', preset: 'elastic-security' });
  const dottedKey = fc.stringMatching(/^[a-z@_]{1,6}(\.[a-z_]{1,6}){0,3}$/);
  const documentLike = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(dottedKey, fc.jsonValue()),
    fc.record({ 'kibana.alert.uuid': fc.jsonValue(), '@timestamp': fc.jsonValue(), host: fc.jsonValue(), 'kibana.alert.severity': fc.jsonValue() }),
  );

  it('gives alerts or named errors for any JSON, never a crash', () => {
    fc.assert(
      fc.property(documentLike, (document) => {
        const { alerts, errors: failures } = map(document, NOW);
        for (const failure of failures) {
          expect(typeof failure.path).toBe('string');
          expect(failure.message).toMatch(/^[a-zA-Z]/);
        }
        for (const alert of alerts) expect(alert.source).toBe('elastic');
      }),
    );
  });

  it('reads dotted keys and objects as the same fields, as Elasticsearch does', () => {
    expect(expandDottedKeys({ 'kibana.alert.uuid': 'u', kibana: { version: '8.1.0' }, 'host.os': { name: 'Debian' }, host: { name: 'h' } })).toEqual({
      kibana: { alert: { uuid: 'u' }, version: '8.1.0' },
      host: { os: { name: 'Debian' }, name: 'h' },
    });
    expect(expandDottedKeys([{ 'a.b': 1 }, 'x'])).toEqual([{ a: { b: 1 } }, 'x']);
    // A key that is no field path stays as it is; the first of two conflicting values is kept.
    expect(expandDottedKeys({ 'a..b': 1, '.c': 2, 'd.e': 3, d: 4 })).toEqual({ 'a..b': 1, '.c': 2, d: { e: 3 } });
    const hostile = expandDottedKeys(JSON.parse('{"__proto__.polluted": true}')) as Record<string, unknown>;
    expect(Object.hasOwn(hostile, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
