/**
 * HTTP: webhook intake per connector, the NC API, /metrics, /healthz, /readyz and the web console (/ui/).
 * An intake answers 202 only once its batch is stored as a job in Redis; until then nothing
 * counts as accepted, so a sender that sees an error can safely send again.
 *
 * Each connector has its own intake route, with its own body limit and rate limit. A request to a
 * connector that does not exist is answered exactly as one with wrong credentials, so that the
 * names of the connectors cannot be listed without a credential; every refusal is logged.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sameSecret, verifyIntakeAuth } from '../../connectors/auth.js';
import { nestedDeeperThan, parseIntakeBody } from '../../connectors/payload.js';
import type { Connector, PayloadError } from '../../connectors/types.js';
import { clause10_2 } from '../core/clause10-2.js';
import type { Clock } from '../core/clock.js';
import { FAMILIES, NC_STATES, SYMPTOM_STATES, VOID_REASONS, type CanonicalAlert, type Nonconformity, type ReceivedAlert } from '../core/types.js';
import type { DeadLetterCommands } from '../dead-letter-commands.js';
import type { Engine } from '../engine.js';
import { RecurdError } from '../errors.js';
import { EXPORT_FORMATS, exportArchive } from '../export.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { chainView, ncView, symptomDetailView, symptomView, timelineView } from '../present.js';
import { verifyTimeline, type Register } from '../register.js';
import type { TicketLinks } from '../ticket-links.js';
import { consoleRoutes } from './console.js';
import { RefusalLog, type Refusal } from './refusals.js';
import { allows, requires, roleNeeded, type ApiIdentity, type ApiToken } from './roles.js';

export interface ReadyReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
  connectors: Record<string, { ok: boolean; lastSuccessAt: string | null; lastErrorAt: string | null; lastError: string | null }>;
  notifiers: Record<string, { ok: boolean; lastDeliveredAt: string | null; lastErrorAt: string | null; lastError: string | null; consecutiveErrors: number }>;
}

/** A connector's own bounds on its intake: `bodyLimit` and `rateLimit` in its config. */
export interface IntakeLimits {
  bodyLimit?: number;
  rateLimit?: { requests: number; per: number };
}

export interface HttpOptions {
  bodyLimit: number;
  /** Every API token, with its name and role (src/http/roles.ts). */
  apiTokens: ApiToken[];
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  connectors: Map<string, Connector>;
  /** By connector name; a connector without an entry has the server's body limit and no rate limit. */
  intakeLimits: Map<string, IntakeLimits>;
  intake: {
    /** Stores the batch, and the connector's state changes with it in one step. */
    enqueue(connector: string, alerts: ReceivedAlert[], stateChanges?: Record<string, string>): Promise<void>;
    /** Keeps a payload that did not fit in the dead-letter list; returns the entry's id. */
    reject(connector: string, receivedAt: number, body: string, errors: PayloadError[], route: string): Promise<string>;
    succeeded(connector: string): Promise<void>;
    failed(connector: string, reason: string): Promise<void>;
    /**
     * Remembers a timestamped signature for `ttl` ms; false when it was already seen (a replay).
     * `forget` takes it back when the request it came with was not accepted after all.
     */
    firstUse(connector: string, key: string, ttl: number): Promise<boolean>;
    forget(connector: string, key: string): Promise<void>;
    readonly accepting: boolean;
  };
  register: Register;
  /** The records notifiers made for NCs elsewhere, shown with each NC. */
  tickets: TicketLinks;
  engine: Engine;
  /** Dead letters listed and shown, and run through their connector again (admin). */
  deadLetters: Pick<DeadLetterCommands, 'list' | 'show' | 'replay'>;
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
    cursor: z.string().min(1).optional(),
    overdue: z
      .enum(['true', 'false'], { message: 'overdue is true or false' })
      .transform((value) => value === 'true')
      .optional(),
  })
  .strict();

const symptomQuery = z
  .object({
    state: z.enum(SYMPTOM_STATES).optional(),
    family: z.enum(FAMILIES).optional(),
    // Empty is a value: the symptoms whose alerts named no check, or no asset.
    check: z.string().max(512).optional(),
    asset: z.string().max(512).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(500),
    cursor: z.string().min(1).optional(),
  })
  .strict();

const deadLetterQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

const exportQuery = z
  .object({
    state: z.enum(NC_STATES).optional(),
    control: z.string().min(1).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    format: z.enum(EXPORT_FORMATS).default('zip'),
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
    ismsChange: z.string().trim().min(1).optional(),
  })
  .strict();

const fixBody = z
  .object({ note: z.string().trim().min(1, 'say what was done, or leave note out').max(4000).optional() })
  .strict();

const voidBody = z
  .object({
    reason: z.enum(VOID_REASONS, { message: `reason is one of ${VOID_REASONS.join(', ')}` }),
    note: z.string().trim().min(1, 'say why the NC is void').max(4096),
  })
  .strict();

const acceptRiskBody = z
  .object({
    approver: z.string().trim().min(1, 'name who approved accepting the risk').max(256),
    reason: z.string().trim().min(1, 'say why the risk is accepted').max(4096),
    until: z.union([z.iso.date(), z.iso.datetime({ offset: true })], { message: 'until is a date (YYYY-MM-DD) or an ISO 8601 time with offset' }),
  })
  .strict();

const ownerBody = z.object({ owner: z.string().trim().min(1, 'name who owns the handling of the NC') }).strict();

const dueDateBody = z.object({ dueDate: z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be a date (YYYY-MM-DD) or an ISO 8601 time with an offset' }) }).strict();

const commentBody = z.object({ text: z.string().trim().min(1, 'write the comment').max(10_000, 'is longer than 10000 characters') }).strict();

// A reference to evidence kept elsewhere: recurd does not fetch it, the SHA-256 pins what it was.
const attachmentBody = z
  .object({
    url: z.url({ error: 'must be a URL' }).optional(),
    path: z.string().trim().min(1, 'is empty').optional(),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the SHA-256 of the file, 64 hex characters'),
    name: z.string().trim().min(1, 'is empty').max(200, 'is longer than 200 characters').optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.url === undefined) === (body.path === undefined)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either url or path, not both and not neither' });
  });

function invalid(error: z.ZodError, what: string): RecurdError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return new RecurdError('REQUEST_INVALID', `${what}: ${issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')}`, issues);
}

/** How many items of a body its errors concern: `alerts[3].startsAt` and `alerts[3].labels` are one. */
function rejectedItems(errors: PayloadError[]): number {
  return new Set(errors.map((error) => /^[^[\].]*\[\d+\]/.exec(error.path)?.[0] ?? error.path)).size;
}

/** The token of `Authorization: Bearer <token>`, or null. */
function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice('Bearer '.length) : null;
}

/** Who holds `token`, or null; every token is compared, so the time taken does not tell which one matched. */
function identify(tokens: readonly ApiToken[], token: string | null): ApiIdentity | null {
  let found: ApiIdentity | null = null;
  for (const candidate of tokens) {
    if (token !== null && sameSecret(token, candidate.token) && found === null) found = { name: candidate.name, role: candidate.role };
  }
  return found;
}

/** What a caller without valid credentials is told, whichever intake it asked for and whatever was wrong. */
const INTAKE_REFUSED = 'the request is not authorised for this intake; the recurd log says why';

// The return type is inferred: it carries pino's Logger type, which Fastify's default does not accept.
export function buildServer(options: HttpOptions) {
  const ncViews = async (ncs: readonly Nonconformity[]): Promise<Array<Record<string, unknown>>> => {
    const tickets = await options.tickets.forNcs(ncs.map((nc) => nc.id));
    return ncs.map((nc) => ncView(nc, tickets.get(nc.id) ?? []));
  };
  const ncViewOf = async (nc: Nonconformity): Promise<Record<string, unknown>> => (await ncViews([nc]))[0] ?? ncView(nc, []);
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
      // Nor is each request turned away while the daemon stops: that is the answer meant for it.
      const expected = error.code === 'RECURD_ERR_REDIS_UNREACHABLE' || error.code === 'RECURD_ERR_NOT_READY';
      if (error.status >= 500 && !expected) request.log.error({ err: error }, error.message);
      return reply.code(error.status).send({ error: { code: error.code, message: error.message, details: error.details } });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? options.bodyLimit;
      return reply.code(413).send({ error: { code: 'RECURD_ERR_PAYLOAD_TOO_LARGE', message: `the body is larger than the limit of ${limit} bytes` } });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: 'RECURD_ERR_REQUEST_INVALID', message: error.message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'RECURD_ERR_INTERNAL', message: 'internal error; see the recurd log' } });
  });

  const refusals = new RefusalLog(options.logger, options.clock, options.metrics.requestsRefused);
  // A flood that stops still gets its summary line.
  const rollRefusals = setInterval(() => refusals.roll(), 10_000).unref();
  app.addHook('onClose', (_instance, done) => {
    clearInterval(rollRefusals);
    refusals.flush();
    done();
  });
  const refuse = (request: FastifyRequest, refusal: Omit<Refusal, 'method' | 'route' | 'remoteAddress'>): void => {
    refusals.refused({ ...refusal, method: request.method, route: request.url.split('?')[0] ?? request.url, remoteAddress: request.ip });
  };

  const intake = async (connector: Connector, request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
    const receivedAt = options.clock.now();
    const route = request.params['*'] ?? '';
    const intake = connector.intake;
    if (intake === undefined) throw new Error(`${connector.name} has an intake route but no intake`);
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const auth = verifyIntakeAuth(intake.auth, request.headers, raw, receivedAt);
    if (!auth.ok) {
      refuse(request, { reason: 'unauthorized', status: 401, connector: connector.name, detail: auth.reason });
      await options.intake.failed(connector.name, `refused a request: ${auth.reason}`);
      throw new RecurdError('UNAUTHORIZED', INTAKE_REFUSED);
    }
    if (!options.intake.accepting) throw new RecurdError('NOT_READY', 'recurd is shutting down and takes no more alerts; send again later');
    if (auth.replay !== undefined && !(await options.intake.firstUse(connector.name, auth.replay.key, auth.replay.ttl))) {
      refuse(request, { reason: 'replayed', status: 401, connector: connector.name, detail: 'this signature was already used: a replayed request' });
      throw new RecurdError('UNAUTHORIZED', INTAKE_REFUSED);
    }
    try {
      return await accept(connector, intake, raw, receivedAt, route, reply);
    } catch (error) {
      // Not taken: the sender may send the same signed request again.
      if (auth.replay !== undefined) await options.intake.forget(connector.name, auth.replay.key).catch(() => undefined);
      throw error;
    }
  };

  const accept = async (connector: Connector, intake: NonNullable<Connector['intake']>, raw: Buffer, receivedAt: number, route: string, reply: FastifyReply) => {
    const text = raw.toString('utf8');
    let alerts: CanonicalAlert[] = [];
    let errors: PayloadError[];
    let stateChanges: Record<string, string> | undefined;
    const body = parseIntakeBody(text, intake.subroutes);
    if ('error' in body) errors = [{ path: '(body)', message: `not JSON (${body.error})` }];
    else if (nestedDeeperThan(body.value, options.limits.maxDepth)) {
      throw new RecurdError('PAYLOAD_TOO_DEEP', `${connector.name}: the body nests arrays and objects deeper than http.maxDepth (${options.limits.maxDepth})`);
    } else ({ alerts, errors, stateChanges } = await intake.normalise(body.value, receivedAt, route));
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
    if (alerts.length > 0 || stateChanges !== undefined) {
      try {
        await options.intake.enqueue(connector.name, alerts.map((alert) => ({ ...alert, receivedAt })), stateChanges);
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
  // Registered after the rate limiter, so that its hooks see the intake routes.
  app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new RecurdError('RATE_LIMITED', `more than ${context.max} requests to this intake from this address; send again in ${context.after}`),
  });
  app.register((hooks, _opts, done) => {
    for (const connector of options.connectors.values()) {
      if (connector.intake === undefined) continue;
      const limits = options.intakeLimits.get(connector.name) ?? {};
      const routeOptions = {
        bodyLimit: limits.bodyLimit ?? options.bodyLimit,
        config:
          limits.rateLimit === undefined
            ? {}
            : {
                rateLimit: {
                  max: limits.rateLimit.requests,
                  timeWindow: limits.rateLimit.per,
                  onExceeded: (request: FastifyRequest) =>
                    refuse(request, {
                      reason: 'rate_limited', status: 429, connector: connector.name,
                      detail: `more than ${limits.rateLimit?.requests} requests in ${limits.rateLimit?.per} ms`,
                    }),
                },
              },
      };
      const handler = (request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => intake(connector, request, reply);
      hooks.post(`/hooks/${connector.name}`, routeOptions, handler);
      if (connector.intake.subroutes) hooks.post(`/hooks/${connector.name}/*`, routeOptions, handler);
    }
    // Any other intake URL: answered as wrong credentials are, unless the caller proves it may post
    // to the connector it names, who is then told what is wrong with the URL.
    hooks.post('/hooks/*', (request: FastifyRequest<{ Params: { '*': string } }>) => {
      const [name = ''] = request.params['*'].split('/');
      const connector = options.connectors.get(name);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (connector?.intake !== undefined && verifyIntakeAuth(connector.intake.auth, request.headers, raw, options.clock.now()).ok) {
        throw new RecurdError('NOT_FOUND', `${connector.name} takes POST /hooks/${connector.name} only, not /hooks/${request.params['*']}`);
      }
      refuse(request, { reason: 'unauthorized', status: 401, connector: name, detail: connector === undefined ? `no connector named "${name}"` : 'credentials not checked for this URL' });
      throw new RecurdError('UNAUTHORIZED', INTAKE_REFUSED);
    });
    done();
  });

  app.register(
    (api, _opts, done) => {
      api.decorateRequest('identity', null);
      api.addHook('onRequest', (request, _reply, next) => {
        const identity = identify(options.apiTokens, bearerToken(request));
        if (identity === null) {
          const detail = request.headers.authorization === undefined ? 'missing Authorization: Bearer header' : 'the API token is not valid';
          refuse(request, { reason: 'unauthorized', status: 401, detail });
          next(new RecurdError('UNAUTHORIZED', detail));
          return;
        }
        const needed = roleNeeded(request.method, request.routeOptions.config.role);
        if (!allows(identity.role, needed)) {
          const detail = `${request.method} ${request.routeOptions.url ?? request.url} needs the role ${needed}; the token "${identity.name}" has the role ${identity.role}`;
          refuse(request, { reason: 'forbidden', status: 403, actor: identity.name, detail });
          next(new RecurdError('FORBIDDEN', detail, { needed, role: identity.role }));
          return;
        }
        request.identity = identity;
        next();
      });
      /** The name of the token a request came with: the actor of what it records. */
      const actorOf = (request: FastifyRequest): string => (request.identity as ApiIdentity).name;
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
        const { since, limit, cursor, overdue, ...filter } = query.data;
        const from = since === undefined ? {} : { since: Date.parse(since) };
        // The NCs overdue now page as any list; overdue with other filters, or overdue=false, is one page.
        const paged = overdue === undefined || (overdue && filter.state === undefined && filter.family === undefined && filter.control === undefined);
        if (!paged) {
          if (cursor !== undefined) throw new RecurdError('REQUEST_INVALID', 'query: cursor: overdue with other filters is one page; leave cursor out', [{ path: 'cursor', message: 'not with overdue and other filters' }]);
          const ncs = await options.register.listNcs({ ...filter, ...from, overdue, limit });
          return { nonconformities: await ncViews(ncs), count: ncs.length, nextCursor: null };
        }
        const page = await options.register.pageNcs({ ...filter, ...from, ...(overdue === undefined ? {} : { overdue }) }, { limit, ...(cursor === undefined ? {} : { cursor }) });
        return { nonconformities: await ncViews(page.items), count: page.count, nextCursor: page.nextCursor };
      });

      api.get('/symptoms', async (request) => {
        const query = symptomQuery.safeParse(request.query);
        if (!query.success) throw invalid(query.error, 'query');
        const { limit, cursor, ...filter } = query.data;
        const page = await options.register.pageSymptoms(filter, { limit, ...(cursor === undefined ? {} : { cursor }) });
        return { symptoms: page.items.map((symptom) => symptomView(symptom, options.engine.detectors)), count: page.count, nextCursor: page.nextCursor };
      });

      api.get('/symptoms/:fingerprint', async (request: FastifyRequest<{ Params: { fingerprint: string } }>) => {
        const { fingerprint } = request.params;
        const loaded = (await options.register.load([fingerprint], new Map(), new Set([fingerprint]))).symptoms.get(fingerprint);
        if (loaded?.symptom == null) throw new RecurdError('SYMPTOM_NOT_FOUND', `no symptom has fingerprint ${fingerprint}`);
        return symptomDetailView(loaded.symptom, loaded.nc?.state ?? null, options.engine.detectors);
      });

      api.get('/nonconformities/:id', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const nc = await options.register.getNc(request.params.id);
        if (nc === null) throw new RecurdError('NC_NOT_FOUND', `no nonconformity ${request.params.id}`);
        const timeline = await options.register.timeline(nc.id);
        return { ...(await ncViewOf(nc)), clause10_2: clause10_2(nc, timeline), timeline: timelineView(timeline) };
      });

      api.get('/export', async (request, reply) => {
        const query = exportQuery.safeParse(request.query);
        if (!query.success) throw invalid(query.error, 'query');
        const { since, state, control, format } = query.data;
        const now = options.clock.now();
        const stream = await exportArchive(options.register, { since: since === undefined ? undefined : Date.parse(since), state, control }, now, format);
        const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
        return reply
          .header('content-type', format === 'zip' ? 'application/zip' : 'application/gzip')
          .header('content-disposition', `attachment; filename="recurd-export-${stamp}.${format}"`)
          .send(stream);
      });

      api.get('/nonconformities/:id/verify', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        return chainView(request.params.id, await verifyTimeline(options.register, request.params.id));
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
          actor: actorOf(request),
          ismsChange: body.data.ismsChange ?? null,
        });
        if (nc.correctiveAction !== null) options.metrics.correctiveActions.inc({ strength: nc.correctiveAction.strength });
        return ncViewOf(nc);
      });

      api.post('/nonconformities/:id/void', requires('admin'), async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const body = voidBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'void');
        return ncViewOf(await options.engine.voidNc(request.params.id, body.data, actorOf(request)));
      });

      api.post('/nonconformities/:id/accept-risk', requires('admin'), async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const body = acceptRiskBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'risk acceptance');
        return ncViewOf(await options.engine.acceptRisk(request.params.id, body.data, actorOf(request)));
      });

      api.post('/nonconformities/:id/owner', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const body = ownerBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'owner');
        return ncViewOf(await options.engine.recordOwnership(request.params.id, { kind: 'owner', owner: body.data.owner }, actorOf(request)));
      });

      api.post('/nonconformities/:id/due-date', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const body = dueDateBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'due date');
        return ncViewOf(await options.engine.recordOwnership(request.params.id, { kind: 'due-date', dueDate: body.data.dueDate }, actorOf(request)));
      });

      api.post('/nonconformities/:id/comments', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
        const body = commentBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'comment');
        return reply.code(201).send(await ncViewOf(await options.engine.recordOwnership(request.params.id, { kind: 'comment', text: body.data.text }, actorOf(request))));
      });

      api.post('/nonconformities/:id/attachments', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
        const body = attachmentBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'attachment');
        const nc = await options.engine.recordOwnership(request.params.id, { kind: 'attachment', ...body.data }, actorOf(request));
        return reply.code(201).send(await ncViewOf(nc));
      });

      api.get('/whoami', (request) => request.identity as ApiIdentity);

      api.get('/dead-letters', async (request) => {
        const query = deadLetterQuery.safeParse(request.query);
        if (!query.success) throw invalid(query.error, 'query');
        // The bodies stay out of the list: up to 256 KiB each; GET /dead-letters/{id} shows one.
        const letters = await options.deadLetters.list(query.data.limit);
        return { deadLetters: letters.map(({ body, ...letter }) => ({ ...letter, receivedAt: new Date(letter.receivedAt).toISOString(), bodyLength: body.length })) };
      });

      api.get('/dead-letters/:id', async (request: FastifyRequest<{ Params: { id: string } }>) => {
        // Redis refuses anything but a stream id: that is an unknown entry, not a failure.
        if (!/^\d+-\d+$/.test(request.params.id)) throw new RecurdError('NOT_FOUND', `no dead letter ${request.params.id}`);
        const letter = await options.deadLetters.show(request.params.id);
        return { ...letter, receivedAt: new Date(letter.receivedAt).toISOString() };
      });

      api.post('/dead-letters/:id/replay', requires('admin'), async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const outcomes = await options.deadLetters.replay(request.params.id);
        return { replayed: outcomes };
      });

      api.post('/symptoms/:fingerprint/fix', async (request: FastifyRequest<{ Params: { fingerprint: string } }>) => {
        const { fingerprint } = request.params;
        const body = fixBody.safeParse(jsonBody(request));
        if (!body.success) throw invalid(body.error, 'fix');
        await options.engine.recordFix(fingerprint, { actor: actorOf(request), note: body.data.note ?? null });
        const { symptoms } = await options.register.load([fingerprint]);
        const symptom = symptoms.get(fingerprint)?.symptom;
        return {
          fingerprint,
          state: symptom?.state,
          fixedAt: symptom?.fixedAt ? new Date(symptom.fixedAt).toISOString() : null,
          windowEndsAt: symptom?.windowEndsAt ? new Date(symptom.windowEndsAt).toISOString() : null,
          lastFix: symptom?.lastFix ? { ...symptom.lastFix, at: new Date(symptom.lastFix.at).toISOString() } : null,
        };
      });
      done();
    },
    { prefix: '/api/v1' },
  );

  app.get('/metrics', async (request, reply) => {
    if (options.metricsToken !== undefined) {
      const token = bearerToken(request);
      if (token === null || !sameSecret(token, options.metricsToken)) {
        const detail = token === null ? 'missing Authorization: Bearer header' : 'the metrics token is not valid';
        refuse(request, { reason: 'unauthorized', status: 401, detail });
        throw new RecurdError('UNAUTHORIZED', `${detail} (http.metricsToken is set)`);
      }
    }
    const text = await options.scrape();
    return reply.header('content-type', options.metrics.registry.contentType).send(text);
  });

  app.register(consoleRoutes);

  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));

  // Probes send no credential: the connectors (their names and last errors) are shown only with an API token, of any role.
  app.get('/readyz', async (request, reply) => {
    const report = await options.ready();
    const body = { status: report.ready ? 'ready' : 'not ready', checks: report.checks };
    return reply.code(report.ready ? 200 : 503).send(identify(options.apiTokens, bearerToken(request)) !== null ? { ...body, connectors: report.connectors, notifiers: report.notifiers } : body);
  });

  return app;
}

export type RecurdServer = ReturnType<typeof buildServer>;
