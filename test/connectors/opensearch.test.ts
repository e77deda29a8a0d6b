/**
 * The elasticsearch connector with `engine: opensearch` against an OpenSearch stand-in over loopback
 * HTTP: OpenSearch's PIT endpoints and envelopes (test/fixtures/opensearch, from its documentation)
 * around real Wazuh indexer hits (test/fixtures/wazuh-indexer). The stand-in behaves as OpenSearch
 * does where the dialects differ: no `x-elastic-product` header, no `_pit` endpoint, no sort `format`,
 * epoch-millisecond sort values, no tiebreaker, and Elastic's vendored media types refused.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createElasticsearchConnector, elasticsearchConnector, type ElasticsearchConfig } from '../../connectors/elasticsearch.js';
import { ConnectorError, MemoryConnectorState, type Connector, type PayloadError } from '../../connectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import type { CanonicalAlert } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const json = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8')) as T;

interface StoredDocument {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}
function indexerHit(path: string): StoredDocument {
  const { _index, _id, _source } = json<StoredDocument>(path);
  return { _index, _id, _source };
}

/** Two wazuh-alerts-4.x-* hits in `timestamp` order: sshd rule 2502 (2024), file integrity rule 550 (2025). */
const [SSHD, FIM] = [
  indexerHit('wazuh-indexer/wazuh-docs-agent-labels-sshd-2502.hit.json'),
  indexerHit('wazuh-indexer/wazuh-docs-fim-whodata-ebpf-550.hit.json'),
] as [StoredDocument, StoredDocument];
const SSHD_AT = '2024-07-12T12:59:43.612Z';
const FIM_AT = '2025-04-08T11:31:57.620Z';

const CREATE_PIT = json<{ pit_id: string }>('opensearch/opensearch-create-pit-response.json');
const DELETE_PIT = json<{ pits: Array<{ successful: boolean; pit_id: string }> }>('opensearch/opensearch-delete-pit-response.json');
/** The search response's envelope (took, timed_out, _shards); each answer brings its own hits. */
const SEARCH_ENVELOPE = Object.fromEntries(
  Object.entries(json<Record<string, unknown>>('opensearch/opensearch-search-response.json')).filter(([key]) => key !== 'hits'),
);
const ALL_SHARDS_FAILED = json<unknown>('elastic-security/elasticsearch-error-503-search-phase-execution-exception.json');

const NOW = Date.parse('2025-06-01T00:00:00Z');
const INDEX = 'wazuh-alerts-4.x-*';
/** The sort options OpenSearch's field sort knows; any other key is a parse error there. */
const FIELD_SORT_KEYS = new Set(['order', 'unmapped_type', 'numeric_type', 'missing', 'mode']);

interface StandInRequest {
  method: string;
  path: string;
  querystring: Record<string, string>;
  body: unknown;
}
type Answer = { status: number; body: unknown } | 'drop';

interface SearchBody {
  pit: { id: string; keep_alive?: string };
  size: number;
  query: Record<string, unknown>;
  sort: Array<Record<string, Record<string, unknown>>>;
  search_after?: [number];
}

const timeOf = (document: StoredDocument): number => Date.parse(String(document._source.timestamp));

/** The part of an OpenSearch 2.x cluster the connector uses, with its wire protocol's differences from Elasticsearch. */
class OpenSearchStandIn {
  readonly documents: StoredDocument[] = [];
  readonly requests: StandInRequest[] = [];
  readonly openPits = new Set<string>();
  private opened = 0;
  private searches = 0;
  private readonly scriptedSearches = new Map<number, Answer>();

  index(...documents: StoredDocument[]): void {
    this.documents.push(...documents.map((document) => structuredClone(document)));
  }

  /** The `nth` search from now on is answered with `answer` instead of results. */
  failSearch(nth: number, answer: Answer): void {
    this.scriptedSearches.set(this.searches + nth, answer);
  }

  searchBodies(): SearchBody[] {
    return this.requests.filter((request) => request.path === '/_search').map((request) => request.body as SearchBody);
  }

  answer(request: StandInRequest, contentType: string | undefined): Answer {
    this.requests.push(request);
    const { method, path } = request;
    if (request.body !== null && !(contentType ?? '').startsWith('application/json')) {
      return { status: 406, body: { error: `Content-Type header [${contentType ?? ''}] is not supported`, status: 406 } };
    }
    if (method === 'POST' && path.endsWith('/_search/point_in_time')) {
      if (request.querystring.keep_alive === undefined) return { status: 400, body: { error: 'keep_alive is required', status: 400 } };
      this.opened += 1;
      const id = `${CREATE_PIT.pit_id}${this.opened}`;
      this.openPits.add(id);
      return { status: 200, body: { ...CREATE_PIT, pit_id: id } };
    }
    if (method === 'DELETE' && path === '/_search/point_in_time') {
      const ids = (request.body as { pit_id: string[] }).pit_id;
      const [deleted] = DELETE_PIT.pits as [{ successful: boolean; pit_id: string }];
      return { status: 200, body: { pits: ids.map((id) => ({ ...deleted, successful: this.openPits.delete(id), pit_id: id })) } };
    }
    if (method === 'POST' && path === '/_search') {
      this.searches += 1;
      return this.scriptedSearches.get(this.searches) ?? this.search(request.body as SearchBody);
    }
    return { status: 400, body: { error: `no handler found for uri [${path}] and method [${method}]`, status: 400 } };
  }

  private search(body: SearchBody): Answer {
    if (!this.openPits.has(body.pit.id)) return { status: 404, body: { error: { type: 'search_context_missing_exception', reason: 'no such PIT' }, status: 404 } };
    const [[field, options]] = Object.entries(body.sort[0] ?? {}) as [[string, Record<string, unknown>]];
    const unknown = Object.keys(options).find((key) => !FIELD_SORT_KEYS.has(key));
    if (unknown !== undefined) {
      const reason = `[field_sort] unknown field [${unknown}]`;
      return { status: 400, body: { error: { root_cause: [{ type: 'x_content_parse_exception', reason }], type: 'x_content_parse_exception', reason }, status: 400 } };
    }
    if (field !== 'timestamp') throw new Error(`the stand-in sorts Wazuh alerts on timestamp, not ${field}`);
    const after = body.search_after?.[0];
    // Sorted on the time alone: OpenSearch adds no tiebreaker to a PIT search.
    const rows = this.documents
      .filter((document) => this.matches(body.query, document))
      .sort((a, b) => timeOf(a) - timeOf(b))
      .filter((document) => after === undefined || timeOf(document) > after)
      .slice(0, body.size);
    return {
      status: 200,
      body: {
        ...SEARCH_ENVELOPE,
        hits: {
          max_score: null,
          hits: rows.map((document) => ({ ...document, _score: null, sort: [timeOf(document)] })),
        },
      },
    };
  }

  private matches(query: Record<string, unknown>, document: StoredDocument): boolean {
    const [[kind, spec]] = Object.entries(query) as [[string, Record<string, unknown>]];
    switch (kind) {
      case 'bool': {
        const { filter = [], must_not: mustNot = [] } = spec as { filter?: Array<Record<string, unknown>>; must_not?: Array<Record<string, unknown>> };
        return filter.every((clause) => this.matches(clause, document)) && !mustNot.some((clause) => this.matches(clause, document));
      }
      case 'range': {
        const { gte, lte } = spec.timestamp as { gte: string; lte: string };
        return timeOf(document) >= Date.parse(gte) && timeOf(document) <= Date.parse(lte);
      }
      case 'ids':
        return (spec.values as string[]).includes(document._id);
      default:
        throw new Error(`the stand-in does not know the ${kind} query`);
    }
  }
}

/** The stand-in over loopback HTTP; a dropped answer closes the connection. */
async function serve(standIn: OpenSearchStandIn): Promise<{ url: string; close(): Promise<void> }> {
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const answer = standIn.answer(
        {
          method: request.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          querystring: Object.fromEntries(url.searchParams),
          body: body === '' ? null : (JSON.parse(body) as unknown),
        },
        request.headers['content-type'],
      );
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(answer.body));
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function configOf(fields: Record<string, unknown>): ElasticsearchConfig {
  return elasticsearchConnector.schema.parse({
    type: 'elasticsearch',
    name: 'wazuh-indexer',
    engine: 'opensearch',
    index: INDEX,
    preset: 'wazuh',
    pageSize: 1,
    lookback: '3650d',
    ...fields,
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function connect(standIn: OpenSearchStandIn, fields: Record<string, unknown> = {}): Promise<Connector> {
  const node = await serve(standIn);
  const connector = createElasticsearchConnector(configOf({ node: node.url, ...fields }), {
    state: new MemoryConnectorState(),
    clock: new ManualClock(NOW),
    logger: createLogger('silent'),
  });
  cleanups.push(async () => {
    await connector.close?.();
    await node.close();
  });
  return connector;
}

/** What the pipeline gives a poll: the checkpoint read when it starts, a durable emit, the dead-letter list. */
class PollHarness {
  checkpoint: unknown = null;
  readonly batches: CanonicalAlert[][] = [];
  readonly saved: unknown[] = [];
  readonly rejected: Array<{ body: string; errors: PayloadError[] }> = [];

  get emitted(): CanonicalAlert[] {
    return this.batches.flat();
  }

  async poll(connector: Connector): Promise<void> {
    const poller = connector.poller;
    if (poller === undefined) throw new Error(`${connector.name} does not poll`);
    await poller.poll({
      checkpoint: this.checkpoint,
      emit: (alerts) => {
        if (alerts.length > 0) this.batches.push(alerts);
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
      signal: new AbortController().signal,
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

const documentIds = (alerts: readonly CanonicalAlert[]): unknown[] => alerts.map((alert) => alert.evidence?.documentId);

describe('elasticsearch connector, engine: opensearch: Wazuh indexer alerts with the wazuh preset', () => {
  it('emits each alert of the rule on its agent, a page at a time through one PIT, saving the checkpoint after each', async () => {
    const standIn = new OpenSearchStandIn();
    standIn.index(SSHD, FIM);
    const connector = await connect(standIn);
    const harness = new PollHarness();
    await harness.poll(connector);

    expect(harness.rejected).toEqual([]);
    expect(harness.batches).toMatchObject([
      [
        {
          id: '1720789183.17423',
          family: 'siem',
          status: 'firing',
          observedAt: Date.parse(SSHD_AT),
          asset: 'Ubuntu-24.04',
          check: '2502',
          severity: 'high',
          evidence: { index: 'wazuh-alerts-4.x-2024.07.12', documentId: SSHD._id },
        },
      ],
      [{ id: '1744111917.26911', observedAt: Date.parse(FIM_AT), asset: 'Ubuntu-22', check: '550', evidence: { index: 'wazuh-alerts-4.x-2025.04.08', documentId: FIM._id } }],
    ]);
    expect(harness.saved).toEqual([{ alerts: { after: SSHD_AT, ids: [SSHD._id] } }, { alerts: { after: FIM_AT, ids: [FIM._id] } }]);

    const pitRequests = standIn.requests.filter((request) => request.path.endsWith('/point_in_time'));
    expect(pitRequests.map(({ method, path, querystring }) => [method, path, querystring])).toEqual([
      ['POST', `/${INDEX}/_search/point_in_time`, { keep_alive: '2m' }],
      ['DELETE', '/_search/point_in_time', {}],
    ]);
    expect(pitRequests[1]?.body).toEqual({ pit_id: [`${CREATE_PIT.pit_id}1`] });
    expect(standIn.openPits.size).toBe(0);

    // Without a tiebreaker, each next page is the query from the moved cursor, not a search_after.
    const [first, second] = standIn.searchBodies() as [SearchBody, SearchBody];
    expect(first).toMatchObject({ pit: { id: `${CREATE_PIT.pit_id}1`, keep_alive: '2m' }, size: 1, sort: [{ timestamp: { order: 'asc', unmapped_type: 'date', numeric_type: 'date' } }] });
    expect(second.search_after).toBeUndefined();
    expect(second.query).toEqual({
      bool: {
        filter: [{ range: { timestamp: { gte: SSHD_AT, lte: new Date(NOW - 60_000).toISOString(), format: 'strict_date_optional_time_nanos' } } }],
        must_not: [{ ids: { values: [SSHD._id] } }],
      },
    });

    // The next poll starts where this one stopped: nothing new, nothing twice.
    harness.batches.length = 0;
    await harness.poll(connector);
    expect(harness.emitted).toEqual([]);
    expect(standIn.openPits.size).toBe(0);
  });

  it.each<[string, Answer, string | RegExp]>([
    [
      'a 503 search_phase_execution_exception',
      { status: 503, body: ALL_SHARDS_FAILED },
      'OpenSearch answered 503 to a search of wazuh-alerts-4.x-*: search_phase_execution_exception: all shards failed (no_shard_available_action_exception)',
    ],
    ['a dropped connection', 'drop', /^cannot reach http:\/\/127\.0\.0\.1:\d+ to a search of wazuh-alerts-4\.x-\*: /],
  ])('loses no alert and counts none twice when page 2 fails with %s, and deletes the PIT', async (_name, failure, message) => {
    const standIn = new OpenSearchStandIn();
    standIn.index(SSHD, FIM);
    standIn.failSearch(2, failure);
    const connector = await connect(standIn);
    const harness = new PollHarness();

    const error = await harness.failure(connector);
    expect(error.message).toMatch(message);
    expect(error.retryable).toBe(true);
    expect(documentIds(harness.emitted)).toEqual([SSHD._id]);
    expect(harness.checkpoint).toEqual({ alerts: { after: SSHD_AT, ids: [SSHD._id] } });
    expect(standIn.openPits.size).toBe(0);

    await harness.poll(connector);
    expect(documentIds(harness.emitted)).toEqual([SSHD._id, FIM._id]);
    expect(standIn.openPits.size).toBe(0);
  });

  it('reads every document that shares the last hit\'s timestamp, across a page boundary', async () => {
    const standIn = new OpenSearchStandIn();
    // The sshd hit indexed a second time under another id: two documents at one millisecond.
    standIn.index(SSHD, { ...SSHD, _id: `${SSHD._id}-again` }, FIM);
    const harness = new PollHarness();
    await harness.poll(await connect(standIn));

    expect(documentIds(harness.emitted)).toEqual([SSHD._id, `${SSHD._id}-again`, FIM._id]);
    expect(harness.saved[1]).toEqual({ alerts: { after: SSHD_AT, ids: [SSHD._id, `${SSHD._id}-again`] } });
  });

  it('with engine: elasticsearch fails with a clear, non-retryable error naming the setting', async () => {
    const standIn = new OpenSearchStandIn();
    standIn.index(SSHD);
    const connector = await connect(standIn, { engine: 'elasticsearch' });
    const error = await new PollHarness().failure(connector);
    expect(error.message).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+ did not answer as Elasticsearch \(no x-elastic-product header\): for OpenSearch and servers built on it, such as the Wazuh indexer, set engine: opensearch$/,
    );
    expect(error.retryable).toBe(false);
  });

  it('takes elasticsearch as the engine unless told, and knows no other', () => {
    const parse = (fields: Record<string, unknown>) =>
      elasticsearchConnector.schema.safeParse({ type: 'elasticsearch', name: 'es', node: 'http://127.0.0.1:9200', index: INDEX, preset: 'wazuh', ...fields });
    expect(parse({}).data?.engine).toBe('elasticsearch');
    expect(parse({ engine: 'opensearch' }).data?.engine).toBe('opensearch');
    expect(parse({ engine: 'solr' }).error?.issues[0]?.path).toEqual(['engine']);
  });
});
