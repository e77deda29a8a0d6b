/**
 * Elasticsearch (7.10 or later: it needs the point in time API) or, with `engine: opensearch`,
 * OpenSearch (2.4 or later) and so the Wazuh indexer: polls an index pattern on a schedule and reads
 * each document through a preset or a mapping, like the webhook intake does.
 *
 * The engine is configured, not detected: a server that answers otherwise fails with a clear error
 * instead of being read in a dialect it does not speak. Both engines share the paging, checkpoint,
 * error classification and dead-lettering; they differ on the wire in three places only. OpenSearch
 * opens and deletes its PIT at `/<index>/_search/point_in_time`, sends no `x-elastic-product` header
 * (the client's product check is off for it), and neither formats sort values nor adds a tiebreaker
 * to a PIT search: its pages are read by running the query again from the moved checkpoint rather
 * than with `search_after`, which would skip documents sharing the last hit's timestamp.
 *
 * Each poll opens one point in time (PIT), pages through the documents newer than the checkpoint
 * in timestamp order (with `search_after` on Elasticsearch), and closes the PIT, also when it
 * fails. The checkpoint moves only after a page's alerts are enqueued, so a failure in the middle
 * of paging loses nothing and the next poll resumes after the last page that was enqueued.
 *
 * The checkpoint is the timestamp of the last document enqueued plus the ids of the documents
 * enqueued at exactly that timestamp, rather than the hit's sort values: those end with the PIT's
 * `_shard_doc` tiebreaker, which means nothing to the next poll's PIT.
 *
 * Where a source records the fix on the document itself (Elastic Security's workflow status), a
 * second search reads the documents whose status changed since its own checkpoint and emits a
 * `resolved` observation `<id>:<status>` for each.
 */
import { Client, Transport, errors, type ClientOptions, type TransportOptions, type estypes } from '@elastic/elasticsearch';
import { z } from 'zod';
import { caFile, cronSchedule, duration, secret } from '../src/config/fields.js';
import { canonicalAlertSchema, type CanonicalAlert } from '../src/core/types.js';
import { parseEventTime } from '../src/core/event-time.js';
import { describeValue, payloadIssueMessage, payloadPath } from './payload.js';
import { elasticSecurityStatusChanges, expandDottedKeys } from './presets/elastic-security.js';
import { checkPresetConfig, presetFields, presetMapper } from './presets/resolve.js';
import { ConnectorError, connectorBase } from './types.js';
import type { Connector, ConnectorServices, ConnectorType, PayloadError, PollContext } from './types.js';

/** Digits in a string count as a number: `${VAR}` interpolation always yields text. */
const wholeNumber = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z.number().int().min(min).max(max),
  );


const fieldName = z.string().min(1, 'is empty: name a field of the documents');

const auth = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('apiKey'),
      apiKey: secret.describe('the encoded API key (base64 of id:api_key), as Kibana and the create API key response show it'),
    })
    .strict()
    .describe('Authorization: ApiKey <key>'),
  z
    .object({ type: z.literal('basic'), username: z.string().min(1).describe('the user name'), password: secret })
    .strict()
    .describe('a user name and password (Authorization: Basic)'),
  z
    .object({ type: z.literal('bearer'), token: secret.describe('an Elasticsearch access token or a JWT') })
    .strict()
    .describe('Authorization: Bearer <token>'),
]);

const statusChanges = z
  .object({
    timestampField: fieldName.describe('the time of the last status change, e.g. kibana.alert.workflow_status_updated_at'),
    statusField: fieldName.describe('the status, e.g. kibana.alert.workflow_status'),
    resolvedValues: z.array(z.string().min(1)).min(1).describe('the statuses that mean fixed, e.g. [closed]'),
  })
  .strict();
type StatusChanges = z.output<typeof statusChanges>;

const schema = z
  .object({
    type: z.literal('elasticsearch').describe('polls an Elasticsearch or OpenSearch index pattern on a schedule'),
    ...connectorBase,
    ...presetFields,
    engine: z
      .enum(['elasticsearch', 'opensearch'])
      .default('elasticsearch')
      .describe('what the node runs: elasticsearch (7.10 or later), or opensearch (2.4 or later, also the Wazuh indexer)'),
    node: z.url({ protocol: /^https?$/ }).describe('the node URL, e.g. https://es.example.org:9200'),
    index: z.string().min(1).describe('the index pattern to search, e.g. .alerts-security.alerts-*; several separated by commas'),
    query: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('a Query DSL query that documents must also match, e.g. {term: {kibana.space_ids: default}}'),
    timestampField: fieldName
      .optional()
      .describe('the date field that orders the documents and carries the checkpoint; absent: the preset\'s, else @timestamp'),
    statusChanges: z
      .union([z.literal(false), statusChanges])
      .optional()
      .describe('documents whose status changes to a fixed one are read again as resolved; absent: the preset\'s; false: none'),
    pageSize: wholeNumber(1, 10_000).prefault(500).describe('documents per search request'),
    schedule: cronSchedule.default('0 * * * * *').describe('when to poll: a cron expression, six fields (with seconds) allowed'),
    delay: duration
      .prefault('1m')
      .describe('how far behind now a poll stops, so that documents still being written are read by the next poll, not skipped'),
    lookback: duration.prefault('1d').describe('how far back the first poll reads, before there is a checkpoint'),
    timeout: duration.prefault('30s').describe('the longest wait for one answer from the node'),
    auth: auth.optional().describe('how recurd authenticates: apiKey, basic or bearer; absent: no credentials'),
    caFile: caFile.optional().describe('a PEM file of the certificate authority that signed the node\'s certificate (for https:// nodes)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkPresetConfig(config, ctx);
    if (config.caFile !== undefined && URL.canParse(config.node) && new URL(config.node).protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', path: ['caFile'], message: `applies to https:// nodes only, and node is ${config.node}` });
    }
  });

export type ElasticsearchConfig = z.output<typeof schema>;

/** What searching a preset's documents needs that a mapping cannot say. */
const PRESET_SEARCH: Record<string, { timestampField: string; statusChanges?: StatusChanges }> = {
  'elastic-security': {
    timestampField: '@timestamp',
    statusChanges: { ...elasticSecurityStatusChanges, resolvedValues: [...elasticSecurityStatusChanges.resolvedValues] },
  },
  // Wazuh's alert documents keep the alert time in `timestamp` and may have no `@timestamp`.
  wazuh: { timestampField: 'timestamp' },
};

/** How long the node keeps a poll's PIT between two requests; each search renews it. */
const KEEP_ALIVE = '2m';
/** Sort values as ISO 8601 text, whether the field is a date or a date_nanos. */
const TIME_FORMAT = 'strict_date_optional_time_nanos';

const cursorSchema = z.object({ after: z.union([z.string(), z.number()]), ids: z.array(z.string()) }).strict();
type Cursor = z.output<typeof cursorSchema>;
const checkpointSchema = z.object({ alerts: cursorSchema.optional(), statusChanges: cursorSchema.optional() }).strict();
type Checkpoint = z.output<typeof checkpointSchema>;

const openPitSchema = z.object({ id: z.string().min(1) });
const openOpenSearchPitSchema = z.object({ pit_id: z.string().min(1) });
const hitSchema = z.object({
  _index: z.string(),
  _id: z.string(),
  _source: z.record(z.string(), z.unknown()).optional(),
  sort: z.array(z.union([z.string(), z.number(), z.null()])).min(1),
});
type Hit = z.output<typeof hitSchema>;
const searchSchema = z.object({
  pit_id: z.string().optional(),
  timed_out: z.boolean().optional(),
  _shards: z.object({ failed: z.number().optional() }).optional(),
  hits: z.object({ hits: z.array(hitSchema) }),
});

type Engine = ElasticsearchConfig['engine'];
const PRODUCT: Record<Engine, string> = { elasticsearch: 'Elasticsearch', opensearch: 'OpenSearch' };

/**
 * The client's transport for OpenSearch: no product check, which needs Elastic's response header,
 * and plain JSON media types, as OpenSearch refuses Elastic's vendored `compatible-with` ones.
 */
class OpenSearchTransport extends Transport {
  constructor(options: TransportOptions) {
    super({
      ...options,
      productCheck: undefined,
      vendoredHeaders: { jsonContentType: 'application/json', ndjsonContentType: 'application/x-ndjson', accept: 'application/json, text/plain' },
    });
  }
}

function parsed<T>(schemaOf: z.ZodType<T>, value: unknown, what: string, engine: Engine): T {
  const result = schemaOf.safeParse(value, { error: payloadIssueMessage });
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((issue) => `${payloadPath(issue.path)}: ${issue.message}`);
  throw new ConnectorError(`${PRODUCT[engine]} answered ${what} with something recurd cannot read: ${problems.join('; ')}`, false);
}

const errorBodySchema = z.object({
  error: z.union([
    z.string(),
    z.object({
      type: z.string(),
      reason: z.string().nullish(),
      root_cause: z.array(z.object({ type: z.string(), reason: z.string().nullish() })).optional(),
    }),
  ]),
});

/** The `type: reason` of an error body, Elasticsearch's or OpenSearch's alike (with its root cause where that differs), or its status. */
function reasonOf(error: errors.ResponseError): string {
  const body = errorBodySchema.safeParse(error.body);
  if (!body.success) return `HTTP ${String(error.statusCode)}`;
  const detail = body.data.error;
  if (typeof detail === 'string') return detail;
  const root = detail.root_cause?.[0];
  const cause = root === undefined || root.type === detail.type ? '' : ` (${root.type}${root.reason ? `: ${root.reason}` : ''})`;
  return `${detail.type}: ${detail.reason ?? 'no reason given'}${cause}`;
}

/**
 * A failed request as a ConnectorError, retryable when the next tick may do better: network
 * trouble, timeouts, 5xx, 408, 429 and an expired PIT; not a refused credential or a bad query.
 */
function connectorError(error: unknown, what: string, node: string, engine: Engine): unknown {
  const notElasticsearch = (): ConnectorError =>
    new ConnectorError(
      `${node} did not answer as Elasticsearch (no x-elastic-product header): for OpenSearch and servers built on it, such as the Wazuh indexer, set engine: opensearch`,
      false,
      { cause: error },
    );
  if (error instanceof errors.ProductNotSupportedError) return notElasticsearch();
  if (error instanceof errors.ResponseError) {
    // Elasticsearch sends the header on every answer; OpenSearch answers its unknown PIT endpoint with a bare 400 or 405.
    const fromElasticsearch = error.headers?.['x-elastic-product'] !== undefined;
    if (engine === 'elasticsearch' && !fromElasticsearch && [400, 404, 405].includes(error.statusCode ?? 0)) return notElasticsearch();
    const status = error.statusCode ?? 0;
    const reason = reasonOf(error);
    const hint = status === 401 ? ' (check auth)' : status === 403 ? ' (the credentials lack the read privilege on the index)' : '';
    const retryable = status >= 500 || status === 408 || status === 429 || reason.startsWith('search_context_missing_exception');
    return new ConnectorError(`${PRODUCT[engine]} answered ${status} to ${what}: ${reason}${hint}`, retryable, { cause: error });
  }
  if (error instanceof errors.TimeoutError) return new ConnectorError(`no answer from ${node} to ${what} in time`, true, { cause: error });
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError) {
    return new ConnectorError(`cannot reach ${node} to ${what}: ${error.message}`, true, { cause: error });
  }
  if (error instanceof errors.DeserializationError) {
    return new ConnectorError(`${node} answered ${what} with something that is not JSON`, false, { cause: error });
  }
  return error;
}

/** The value of a field as Elasticsearch reads it, through nested objects and dotted keys alike. */
function fieldValue(source: Record<string, unknown>, field: string): unknown {
  let current: unknown = expandDottedKeys(source);
  for (const segment of field.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function authOf(config: ElasticsearchConfig['auth']): ClientOptions['auth'] {
  switch (config?.type) {
    case undefined:
      return undefined;
    case 'apiKey':
      return { apiKey: config.apiKey };
    case 'basic':
      return { username: config.username, password: config.password };
    case 'bearer':
      return { bearer: config.token };
  }
}

interface Rejected {
  body: string;
  errors: PayloadError[];
}

interface PageResult {
  alerts: CanonicalAlert[];
  rejected: Rejected[];
}

/** One of a poll's two searches: the new documents, or the documents whose status changed. */
interface Stream {
  key: keyof Checkpoint;
  timestampField: string;
  filters: estypes.QueryDslQueryContainer[];
  read(hits: readonly Hit[], receivedAt: number): PageResult;
}

/**
 * The connector, with `clientOptions` laid over the client's settings: tests pass an in-process
 * `Connection` there; the config never does.
 */
export function createElasticsearchConnector(
  config: ElasticsearchConfig,
  services: ConnectorServices,
  clientOptions: Partial<ClientOptions> = {},
): Connector {
  const { clock, logger } = services;
  const nodeName = new URL(config.node).origin;
  const client = new Client({
    node: config.node,
    auth: authOf(config.auth),
    tls: config.caFile === undefined ? undefined : { ca: config.caFile.pem },
    // A failed request fails the poll: the pipeline backs off and the next tick resumes from the checkpoint.
    maxRetries: 0,
    requestTimeout: config.timeout,
    ...(config.engine === 'opensearch' ? { Transport: OpenSearchTransport } : {}),
    ...clientOptions,
  });
  const product = PRODUCT[config.engine];
  const preset = config.preset === undefined ? undefined : PRESET_SEARCH[config.preset];
  const timestampField = config.timestampField ?? preset?.timestampField ?? '@timestamp';
  const changes = config.statusChanges === false ? undefined : (config.statusChanges ?? preset?.statusChanges);
  const map = presetMapper(config);

  /** A document as the mapping reads it: its source, with `_index` and `_id` (never source fields) beside. */
  const documentOf = (hit: Hit): Record<string, unknown> => ({ _index: hit._index, _id: hit._id, ...hit._source });

  const pointer = (alert: CanonicalAlert, hit: Hit): CanonicalAlert => ({
    ...alert,
    evidence: { ...alert.evidence, index: hit._index, documentId: hit._id },
  });

  /** Maps a page's hits, `change` turning each alert into what this stream emits (or into errors). */
  const readPage = (
    hits: readonly Hit[],
    receivedAt: number,
    change: (alert: CanonicalAlert, hit: Hit) => CanonicalAlert | PayloadError[],
  ): PageResult => {
    const result: PageResult = { alerts: [], rejected: [] };
    for (const hit of hits) {
      if (hit._source === undefined) {
        result.rejected.push({
          body: JSON.stringify({ _index: hit._index, _id: hit._id }),
          errors: [{ path: '_source', message: 'missing: the index does not keep _source, so the document cannot be read' }],
        });
        continue;
      }
      const document = documentOf(hit);
      const mapped = map(document, receivedAt);
      const failures = [...mapped.errors];
      for (const alert of mapped.alerts) {
        const changed = change(alert, hit);
        if (Array.isArray(changed)) failures.push(...changed);
        else result.alerts.push(changed);
      }
      if (failures.length > 0) result.rejected.push({ body: JSON.stringify(document), errors: failures });
    }
    return result;
  };

  const streams: Stream[] = [
    {
      key: 'alerts',
      timestampField,
      filters: [],
      read: (hits, receivedAt) => readPage(hits, receivedAt, pointer),
    },
  ];
  if (changes !== undefined) {
    streams.push({
      key: 'statusChanges',
      timestampField: changes.timestampField,
      filters: [{ terms: { [changes.statusField]: changes.resolvedValues } }],
      read: (hits, receivedAt) =>
        readPage(hits, receivedAt, (alert, hit) => {
          const status = fieldValue(hit._source ?? {}, changes.statusField);
          if (typeof status !== 'string' || !changes.resolvedValues.includes(status)) {
            return [{ path: changes.statusField, message: `is ${describeValue(status)}, not one of ${changes.resolvedValues.join(', ')}` }];
          }
          // The sort value is the change time as the engine parsed it, whatever the source's format:
          // ISO 8601 from Elasticsearch, epoch milliseconds from OpenSearch (see the query's sort).
          const sorted = hit.sort[0];
          const changedAt =
            typeof sorted === 'string' || typeof sorted === 'number' ? parseEventTime(sorted, 'ms') : { problem: `is ${describeValue(sorted)}, not a time` };
          if ('problem' in changedAt) return [{ path: changes.timestampField, message: changedAt.problem }];
          const resolved = canonicalAlertSchema.safeParse(
            { ...pointer(alert, hit), id: `${alert.id}:${status}`, status: 'resolved', observedAt: changedAt.ms },
            { error: payloadIssueMessage },
          );
          if (resolved.success) return resolved.data;
          return resolved.error.issues.map((issue) => ({ path: '(body)', message: `${payloadPath(issue.path)}: ${issue.message}` }));
        }),
    });
  }

  const request = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw connectorError(error, what, nodeName, config.engine);
    }
  };

  const checkpointOf = (value: unknown): Checkpoint => {
    if (value === null) return {};
    const result = checkpointSchema.safeParse(value);
    if (result.success) return result.data;
    throw new ConnectorError(`the stored checkpoint is not one this connector wrote (${JSON.stringify(value).slice(0, 200)}); delete it to read from lookback again`, false);
  };

  /** Pages through one stream from its checkpoint, saving the checkpoint after each enqueued page. */
  const pageThrough = async (
    context: PollContext,
    stream: Stream,
    pit: { id: string },
    checkpoint: Checkpoint,
    window: { from: string; until: string },
  ): Promise<Checkpoint> => {
    let cursor: Cursor = checkpoint[stream.key] ?? { after: window.from, ids: [] };
    const queryFrom = (from: Cursor): estypes.QueryDslQueryContainer => ({
      bool: {
        filter: [
          ...(config.query === undefined ? [] : [config.query as estypes.QueryDslQueryContainer]),
          ...stream.filters,
          { range: { [stream.timestampField]: { gte: from.after, lte: window.until, format: TIME_FORMAT } } },
        ],
        must_not: from.ids.length === 0 ? [] : [{ ids: { values: from.ids } }],
      },
    });
    // On Elasticsearch the query stays the same on every page of a search_after walk; only the cursor behind it moves.
    let query = queryFrom(cursor);
    // OpenSearch knows no sort `format`; `numeric_type: date` gives epoch milliseconds for date_nanos fields too.
    const sort: estypes.Sort =
      config.engine === 'opensearch'
        ? [{ [stream.timestampField]: { order: 'asc', unmapped_type: 'date', numeric_type: 'date' } }]
        : [{ [stream.timestampField]: { order: 'asc', format: TIME_FORMAT, unmapped_type: 'date' } }];
    let searchAfter: estypes.SortResults | undefined;
    let current = checkpoint;
    for (;;) {
      if (context.signal.aborted) return current;
      const answer = await request(`a search of ${config.index}`, () =>
        client.search(
          {
            pit: { id: pit.id, keep_alive: KEEP_ALIVE },
            size: config.pageSize,
            query,
            sort,
            search_after: searchAfter,
            track_total_hits: false,
            // A partial page would let the checkpoint pass documents that were never read.
            allow_partial_search_results: false,
          },
          { signal: context.signal },
        ),
      );
      const page = parsed(searchSchema, answer, 'a search', config.engine);
      if (page.timed_out === true || (page._shards?.failed ?? 0) > 0) {
        throw new ConnectorError(`${product} answered a search of ${config.index} with a partial page (timed out or shards failed)`, true);
      }
      pit.id = page.pit_id ?? pit.id;
      const hits = page.hits.hits;
      const last = hits.at(-1);
      if (last === undefined) return current;
      const { alerts, rejected } = stream.read(hits, clock.now());
      await context.emit(alerts);
      for (const { body, errors: failures } of rejected) await context.reject(body, failures);
      for (const hit of hits) {
        const sorted = hit.sort[0] ?? null;
        if (sorted === null) continue;
        // OpenSearch's sort values are epoch milliseconds; the range query reads them back as ISO 8601.
        const at = typeof sorted === 'number' && config.engine === 'opensearch' ? new Date(sorted).toISOString() : sorted;
        cursor = at === cursor.after ? { after: at, ids: [...cursor.ids, hit._id] } : { after: at, ids: [hit._id] };
      }
      current = { ...current, [stream.key]: cursor };
      await context.saveCheckpoint(current);
      logger.debug({ stream: stream.key, documents: hits.length, alerts: alerts.length, rejected: rejected.length }, 'page enqueued');
      if (hits.length < config.pageSize) return current;
      // Elasticsearch's PIT adds the `_shard_doc` tiebreaker that search_after needs; OpenSearch's does not,
      // so there the next page is the query again from the moved cursor, past the ids read at its timestamp.
      if (config.engine === 'opensearch') query = queryFrom(cursor);
      else searchAfter = last.sort as estypes.SortResults;
    }
  };

  const pollOnce = async (context: PollContext): Promise<void> => {
    let checkpoint = checkpointOf(context.checkpoint);
    const now = clock.now();
    const window = { from: new Date(now - config.lookback).toISOString(), until: new Date(now - config.delay).toISOString() };
    if (context.signal.aborted) return;
    // Not abortable: a PIT the server opened while the daemon stopped would have no id to close it by.
    const opened = await request(`open a point in time on ${config.index}`, () =>
      config.engine === 'opensearch'
        ? client.transport.request({ method: 'POST', path: `/${encodeURIComponent(config.index)}/_search/point_in_time`, querystring: { keep_alive: KEEP_ALIVE } })
        : client.openPointInTime({ index: config.index, keep_alive: KEEP_ALIVE }),
    );
    const what = 'the opening of a point in time';
    const pit = {
      id:
        config.engine === 'opensearch'
          ? parsed(openOpenSearchPitSchema, opened, what, config.engine).pit_id
          : parsed(openPitSchema, opened, what, config.engine).id,
    };
    try {
      for (const stream of streams) checkpoint = await pageThrough(context, stream, pit, checkpoint, window);
    } finally {
      try {
        if (config.engine === 'opensearch') {
          await client.transport.request({ method: 'DELETE', path: '/_search/point_in_time', body: { pit_id: [pit.id] } });
        } else {
          await client.closePointInTime({ id: pit.id });
        }
      } catch (error) {
        // An unclosed PIT expires by itself after KEEP_ALIVE; it must not hide the poll's own outcome.
        logger.warn({ err: connectorError(error, 'close the point in time', nodeName, config.engine) }, 'could not close the point in time');
      }
    }
  };

  const poll = async (context: PollContext): Promise<void> => {
    try {
      await pollOnce(context);
    } catch (error) {
      // Stopping the daemon aborts the request in flight; what was enqueued stays enqueued.
      if (context.signal.aborted && error instanceof errors.RequestAbortedError) return;
      throw error;
    }
  };

  return {
    name: config.name,
    type: 'elasticsearch',
    poller: { schedule: config.schedule, poll },
    close: () => client.close(),
  };
}

export const elasticsearchConnector: ConnectorType<typeof schema> = {
  type: 'elasticsearch',
  schema,
  create: (config, services) => createElasticsearchConnector(config, services),
};
