/**
 * HTTP: webhook intake per connector, the NC API, /metrics, /healthz and /readyz.
 * An intake answers 202 only once its batch is stored as a job in Redis; until then nothing
 * counts as accepted, so a sender that sees an error can safely send again.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { verifyIntakeAuth } from '../../connectors/auth.js';
import { nestedDeeperThan, parseIntakeBody } from '../../connectors/payload.js';
import type { Connector, PayloadError } from '../../connectors/types.js';
import type { Clock } from '../core/clock.js';
import { FAMILIES, NC_STATES, type CanonicalAlert, type ReceivedAlert } from '../core/types.js';
import type { Engine } from '../engine.js';
import { RecurdError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ncView, timelineView } from '../present.js';
import type { Register } from '../register.js';

export interface ReadyReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
  connectors: Record<string, { ok: boolean; lastSuccessAt: string | null; lastErrorAt: string | null; lastError: string | null }>;
}

export interface HttpOptions {
  bodyLimit: number;
  apiToken: string;
  connectors: Map<string, Connector>;
  intake: {
    enqueue(alerts: ReceivedAlert[]): Promise<void>;
    /** Keeps a payload that did not fit in the dead-letter list; returns the entry's id. */
    reject(connector: string, receivedAt: number, body: string, errors: PayloadError[], route: string): Promise<string>;
    succeeded(connector: string): Promise<void>;
    failed(connector: string, reason: string): Promise<void>;
    readonly accepting: boolean;
  };
  register: Register;
  engine: Engine;
  metrics: Metrics;
  /** Bounds on an intake body beyond its size (http.maxDepth, http.maxItems). */
  limits: { maxDepth: number; maxItems: number };
  /** The text of a scrape of /metrics. */
  scrape: () => Promise<string>;
  logger: Logger;
  clock: Clock;
  ready(): Promise<ReadyReport>;
}

const listQuery = z
  .object({
    state: z.enum(NC_STATES).optional(),
    family: z.enum(FAMILIES).optional(),
    control: z.string().min(1).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(500),
  })
  .strict();

const correctiveActionBody = z
  .object({
    action: z.string().trim().min(1, 'describe the corrective action'),
    owner: z.string().trim().min(1, 'name who owns the corrective action'),
    rootCause: z.string().trim().min(1).optional(),
    dueDate: z.union([z.iso.date(), z.iso.datetime({ offset: true })]).optional(),
    // Checked by the core, which says exactly what is missing for the NC at hand.
    rootCauseAnalysis: z.unknown().optional(),
  })
  .strict();

function invalid(error: z.ZodError, what: string): RecurdError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return new RecurdError('REQUEST_INVALID', `${what}: ${issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')}`, issues);
}

/** How many items of a body its errors concern: `alerts[3].startsAt` and `alerts[3].labels` are one. */
function rejectedItems(errors: PayloadError[]): number {
  return new Set(errors.map((error) => /^[^[\].]*\[\d+\]/.exec(error.path)?.[0] ?? error.path)).size;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// The return type is inferred: it carries pino's Logger type, which Fastify's default does not accept.
export function buildServer(options: HttpOptions) {
  const app = Fastify({
    bodyLimit: options.bodyLimit, loggerInstance: options.logger,
    // One log line per intake request would drown the log at thousands of alerts a second.
    logController: new LogController({ disableRequestLogging: true }),
    // While it stops, a request on a connection still open reaches the routes, so that intake
    // answers with its own 503 RECURD_ERR_NOT_READY rather than Fastify's body without a code.
    return503OnClosing: false,
  });

  // Intakes verify signatures over the exact bytes received, so bodies stay raw until then.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError | RecurdError, request, reply) => {
    if (error instanceof RecurdError) {
      // An outage of Redis is logged once by RedisHealth, not once per refused request.
      if (error.status >= 500 && error.code !== 'RECURD_ERR_REDIS_UNREACHABLE') request.log.error({ err: error }, error.message);
      return reply.code(error.status).send({ error: { code: error.code, message: error.message, details: error.details } });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: { code: 'RECURD_ERR_PAYLOAD_TOO_LARGE', message: `the body is larger than the limit of ${options.bodyLimit} bytes` } });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: 'RECURD_ERR_REQUEST_INVALID', message: error.message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'RECURD_ERR_INTERNAL', message: 'internal error; see the recurd log' } });
  });

  const intake = async (request: FastifyRequest<{ Params: { connector: string; '*'?: string } }>, reply: FastifyReply) => {
    const receivedAt = options.clock.now();
    const name = request.params.connector;
    const route = request.params['*'] ?? '';
    const connector = options.connectors.get(name);
    const intake = connector?.intake;
    if (connector === undefined || intake === undefined || (route !== '' && !intake.subroutes)) {
      throw new RecurdError('CONNECTOR_NOT_FOUND', `no connector takes POST /hooks/${name}${route === '' ? '' : `/${route}`}`);
    }
    if (!options.intake.accepting) throw new RecurdError('NOT_READY', 'recurd is shutting down and takes no more alerts; send again later');
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const auth = verifyIntakeAuth(intake.auth, request.headers, raw);
    if (!auth.ok) {
      await options.intake.failed(connector.name, `refused a request: ${auth.reason}`);
      throw new RecurdError('UNAUTHORIZED', `${connector.name}: ${auth.reason}`);
    }
    const text = raw.toString('utf8');
    let alerts: CanonicalAlert[] = [];
    let errors: PayloadError[];
    const body = parseIntakeBody(text, intake.subroutes);
    if ('error' in body) errors = [{ path: '(body)', message: `not JSON (${body.error})` }];
    else if (nestedDeeperThan(body.value, options.limits.maxDepth)) {
      throw new RecurdError('PAYLOAD_TOO_DEEP', `${connector.name}: the body nests arrays and objects deeper than http.maxDepth (${options.limits.maxDepth})`);
    } else ({ alerts, errors } = await intake.normalise(body.value, receivedAt, route));
    if (alerts.length > options.limits.maxItems) {
      throw new RecurdError('PAYLOAD_TOO_MANY_ITEMS', `${connector.name}: the body has ${alerts.length} alerts, more than http.maxItems (${options.limits.maxItems}); send them in smaller batches`);
    }
    let letter: string | null = null;
    if (errors.length > 0) {
      options.metrics.payloadsRejected.inc({ connector: connector.name }, errors.length);
      // Kept whole, so that an admin can fix the mapping and replay it: nothing sent is dropped unseen.
      letter = await options.intake.reject(connector.name, receivedAt, text, errors, route);
      if (!intake.partial || alerts.length === 0) {
        const listed = errors.slice(0, 5).map((error) => `${error.path}: ${error.message}`).join('; ');
        throw new RecurdError('PAYLOAD_INVALID', `${connector.name}: ${errors.length} field(s) do not fit (dead letter ${letter}): ${listed}`, errors);
      }
    }
    if (alerts.length > 0) {
      try {
        await options.intake.enqueue(alerts.map((alert) => ({ ...alert, receivedAt })));
      } catch (error) {
        if (error instanceof RecurdError) throw error;
        // Not Redis being away (that is a RecurdError): this batch cannot be queued, and sending it
        // again would fail the same way. It is kept for an admin, and the sender told to stop.
        const problem = [{ path: '(body)', message: `could not be queued: ${(error as Error).message}` }];
        const kept = await options.intake.reject(connector.name, receivedAt, text, problem, route);
        throw new RecurdError('PAYLOAD_UNPROCESSABLE', `${connector.name}: the batch fitted but could not be queued (dead letter ${kept}): ${(error as Error).message}`, problem, {
          cause: error,
        });
      }
      for (const alert of alerts) options.metrics.alertsReceived.inc({ source: alert.source, family: alert.family, status: alert.status });
    }
    await options.intake.succeeded(connector.name);
    if (letter === null) return reply.code(202).send({ accepted: alerts.length });
    return reply.code(202).send({ accepted: alerts.length, rejected: rejectedItems(errors), deadLetter: letter, errors: errors.slice(0, 20) });
  };
  app.post('/hooks/:connector', intake);
  app.post('/hooks/:connector/*', intake);

  app.register(
    (api, _opts, done) => {
      api.addHook('onRequest', (request, _reply, next) => {
        const header = request.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
        if (sameSecret(token, options.apiToken)) next();
        else next(new RecurdError('UNAUTHORIZED', header === '' ? 'missing Authorization: Bearer header' : 'the API token is not valid'));
      });
      // API bodies are small JSON documents; parse them here, after the raw intake parser.
      const jsonBody = (request: FastifyRequest): unknown => {
        const raw = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
        if (raw.trim() === '') return {};
        try {
          return JSON.parse(raw);
        } catch (error) {
          throw new RecurdError('REQUEST_INVALID', `the body is not JSON (${(error as Error).message})`);
        }
      };

      api.get('/nonconformities', async (request) => {
        const query = listQuery.safeParse(request.query);
        if (!query.success) throw invalid(query.error, 'query');
        const { since, ...filter } = query.data;
        const ncs = await options.register.listNcs({ ...filter, since: since === undefined ? undefined : Date.parse(since) });
        return { nonconformities: ncs.map(ncView), count: ncs.length };
      });

      api.get('/nonconformities/:id', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const nc = await options.register.getNc(request.params.id);
        if (nc === null) throw new RecurdError('NC_NOT_FOUND', `no nonconformity ${request.params.id}`);
        return { ...ncView(nc), timeline: timelineView(await options.register.timeline(nc.id)) };
      });

      api.post('/nonconformities/:id/corrective-action', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const body = correctiveActionBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'corrective action');
        const nc = await options.engine.recordCorrectiveAction(request.params.id, {
          action: body.data.action,
          owner: body.data.owner,
          rootCause: body.data.rootCause ?? null,
          dueDate: body.data.dueDate ?? null,
          rootCauseAnalysis: body.data.rootCauseAnalysis,
        });
        if (nc.correctiveAction !== null) options.metrics.correctiveActions.inc({ strength: nc.correctiveAction.strength });
        return ncView(nc);
      });

      api.post('/symptoms/:fingerprint/fix', async (request: FastifyRequest<{ Params: { fingerprint: string } }>) => {
        const { fingerprint } = request.params;
        await options.engine.recordFix(fingerprint);
        const { symptoms } = await options.register.load([fingerprint]);
        const symptom = symptoms.get(fingerprint)?.symptom;
        return {
          fingerprint,
          state: symptom?.state,
          fixedAt: symptom?.fixedAt ? new Date(symptom.fixedAt).toISOString() : null,
          windowEndsAt: symptom?.windowEndsAt ? new Date(symptom.windowEndsAt).toISOString() : null,
        };
      });
      done();
    },
    { prefix: '/api/v1' },
  );

  app.get('/metrics', async (_request, reply) => {
    const text = await options.scrape();
    return reply.header('content-type', options.metrics.registry.contentType).send(text);
  });

  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const report = await options.ready();
    return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', checks: report.checks, connectors: report.connectors });
  });

  return app;
}

export type RecurdServer = ReturnType<typeof buildServer>;
