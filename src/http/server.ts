/**
 * HTTP: webhook intake per connector, the NC API, its OpenAPI description, /metrics, /healthz and
 * /readyz. Each route is registered from its operation (operations.ts), which the OpenAPI document
 * describes; a route without one is refused.
 * An intake answers 202 only once its batch is stored as a job in Redis; until then nothing
 * counts as accepted, so a sender that sees an error can safely send again.
 *
 * Each connector has its own intake route, with its own body limit and rate limit. A request to a
 * connector that does not exist is answered exactly as one with wrong credentials, so that the
 * names of the connectors cannot be listed without a credential; every refusal is logged.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { z } from 'zod';
import { sameSecret, verifyIntakeAuth } from '../../connectors/auth.js';
import { nestedDeeperThan, parseIntakeBody } from '../../connectors/payload.js';
import type { Connector, PayloadError } from '../../connectors/types.js';
import { clause10_2 } from '../core/clause10-2.js';
import type { Clock } from '../core/clock.js';
import type { CanonicalAlert, Nonconformity, ReceivedAlert } from '../core/types.js';
import type { DeadLetterCommands } from '../dead-letter-commands.js';
import type { Engine } from '../engine.js';
import { RecurdError } from '../errors.js';
import { exportArchive } from '../export.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { chainView, ncView, symptomDetailView, symptomView, timelineView } from '../present.js';
import { verifyTimeline, type Register } from '../register.js';
import type { TicketLinks } from '../ticket-links.js';
import { referencePage } from './docs-page.js';
import { openApiDocument } from './openapi.js';
import { OPERATIONS, fastifyUrl, operationConfig, operations, type Operation, type Parsed } from './operations.js';
import { consoleRoutes } from './console.js';
import { RefusalLog, type Refusal } from './refusals.js';
import { answerReview } from './review-routes.js';
import { allows, roleNeeded, type ApiIdentity, type ApiToken } from './roles.js';

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
  /** The Annex A controls' titles (the catalogue the daemon read at start), for the review. */
  controlTitles: ReadonlyMap<string, string>;
  /** The records notifiers made for NCs elsewhere, shown with each NC. */
  tickets: TicketLinks;
  engine: Engine;
  /** Dead letters run through their connector again (admin). */
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

function invalid(error: z.ZodError, what: string): RecurdError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return new RecurdError('REQUEST_INVALID', `${what}: ${issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')}`, issues);
}

/** What `schema` makes of `input`, or the 400 naming each field at fault in the `what`. */
function parsed<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw invalid(result.error, what);
  return result.data;
}

/** API bodies are small JSON documents, parsed here, after the raw intake parser. An empty body reads as `{}`. */
function jsonBody(request: FastifyRequest): unknown {
  const raw = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new RecurdError('REQUEST_INVALID', `the body is not JSON (${(error as Error).message})`);
  }
}

/**
 * Registers the route of an operation (operations.ts) on `scope`: at its path, needing its role,
 * its query and body validated with its schemas, and the handler given what they parsed.
 */
function mount<Log extends FastifyBaseLogger, Path extends string, Query extends z.ZodType, Body extends z.ZodType>(
  scope: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Log>,
  declared: Operation<Path, Query, Body>,
  handler: (input: Parsed<Path, Query, Body>, request: FastifyRequest, reply: FastifyReply) => unknown,
): void {
  scope.route({
    method: declared.method,
    url: fastifyUrl(declared.path),
    config: operationConfig(declared),
    handler: async (request, reply) => {
      const query = declared.query === undefined ? undefined : parsed(declared.query, request.query, 'query');
      const body = declared.body === undefined ? undefined : parsed(declared.body.schema, jsonBody(request), declared.body.what);
      const input = { params: request.params, query, body } as Parsed<Path, Query, Body>;
      return handler(input, request, reply);
    },
  });
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
  // A route that names no operation would be missing from the OpenAPI document: it is refused.
  app.addHook('onRoute', (route) => {
    if (route.config?.operation === undefined) {
      throw new Error(`${String(route.method)} ${route.url} names no operation: declare one in src/http/operations.ts, which says how`);
    }
  });
  // Built once, as the server starts: a document that cannot be built stops it there.
  const document = openApiDocument(OPERATIONS);
  const reference = referencePage(document);
  const reviewOptions = { register: options.register, clock: options.clock, titles: options.controlTitles };

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
      const rateLimited =
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
            };
      const bodyLimit = limits.bodyLimit ?? options.bodyLimit;
      const handler = (request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => intake(connector, request, reply);
      hooks.post(fastifyUrl(operations.intake.path, { connector: connector.name }), { bodyLimit, config: { ...rateLimited, ...operationConfig(operations.intake) } }, handler);
      // The connector reads {job}/{event} from the rest of the path, and names what is wrong with it.
      if (connector.intake.subroutes) hooks.post(`/hooks/${connector.name}/*`, { bodyLimit, config: { ...rateLimited, ...operationConfig(operations.heartbeat) } }, handler);
    }
    // Any other intake URL: answered as wrong credentials are, unless the caller proves it may post
    // to the connector it names, who is then told what is wrong with the URL. The document has it
    // as the intake of a connector whatever its name.
    hooks.post('/hooks/*', { config: operationConfig(operations.intake) }, (request: FastifyRequest<{ Params: { '*': string } }>) => {
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

  // The API's own scope: its hook asks every route in it for an API token of the route's role.
  app.register((api, _opts, done) => {
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

    mount(api, operations.listNonconformities, async ({ query }) => {
      const { since, limit, cursor, overdue, ...filter } = query;
      const from = since === undefined ? {} : { since: Date.parse(since) };
      const page = await options.register.pageNcs({ ...filter, ...from, ...(overdue === undefined ? {} : { overdue }) }, { limit, ...(cursor === undefined ? {} : { cursor }) });
      return { nonconformities: await ncViews(page.items), count: page.count, nextCursor: page.nextCursor };
    });

    mount(api, operations.listSymptoms, async ({ query }) => {
      const { limit, cursor, ...filter } = query;
      const page = await options.register.pageSymptoms(filter, { limit, ...(cursor === undefined ? {} : { cursor }) });
      return { symptoms: page.items.map((symptom) => symptomView(symptom, options.engine.detectors)), count: page.count, nextCursor: page.nextCursor };
    });

    mount(api, operations.getSymptom, async ({ params: { fingerprint } }) => {
      const loaded = (await options.register.load([fingerprint], new Map(), new Set([fingerprint]))).symptoms.get(fingerprint);
      if (loaded?.symptom == null) throw new RecurdError('SYMPTOM_NOT_FOUND', `no symptom has fingerprint ${fingerprint}`);
      return symptomDetailView(loaded.symptom, loaded.nc?.state ?? null, options.engine.detectors);
    });

    mount(api, operations.getNonconformity, async ({ params }) => {
      const nc = await options.register.getNc(params.id);
      if (nc === null) throw new RecurdError('NC_NOT_FOUND', `no nonconformity ${params.id}`);
      const timeline = await options.register.timeline(nc.id);
      return { ...(await ncViewOf(nc)), clause10_2: clause10_2(nc, timeline), timeline: timelineView(timeline) };
    });

    mount(api, operations.exportRegister, async ({ query }, _request, reply) => {
      const { since, state, control, format } = query;
      const now = options.clock.now();
      const stream = await exportArchive(options.register, { since: since === undefined ? undefined : Date.parse(since), state, control }, now, format);
      const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      return reply
        .header('content-type', format === 'zip' ? 'application/zip' : 'application/gzip')
        .header('content-disposition', `attachment; filename="recurd-export-${stamp}.${format}"`)
        .send(stream);
    });

    mount(api, operations.verifyNonconformity, async ({ params }) => chainView(params.id, await verifyTimeline(options.register, params.id)));

    mount(api, operations.recordCorrectiveAction, async ({ params, body }, request) => {
      const nc = await options.engine.recordCorrectiveAction(params.id, {
        action: body.action,
        owner: body.owner,
        rootCause: body.rootCause ?? null,
        dueDate: body.dueDate ?? null,
        rootCauseAnalysis: body.rootCauseAnalysis,
        actor: actorOf(request),
        ismsChange: body.ismsChange ?? null,
      });
      if (nc.correctiveAction !== null) options.metrics.correctiveActions.inc({ strength: nc.correctiveAction.strength });
      return ncViewOf(nc);
    });

    mount(api, operations.voidNonconformity, async ({ params, body }, request) => ncViewOf(await options.engine.voidNc(params.id, body, actorOf(request))));

    mount(api, operations.acceptRisk, async ({ params, body }, request) => ncViewOf(await options.engine.acceptRisk(params.id, body, actorOf(request))));

    mount(api, operations.changeOwner, async ({ params, body }, request) =>
      ncViewOf(await options.engine.recordOwnership(params.id, { kind: 'owner', owner: body.owner }, actorOf(request))),
    );

    mount(api, operations.changeDueDate, async ({ params, body }, request) =>
      ncViewOf(await options.engine.recordOwnership(params.id, { kind: 'due-date', dueDate: body.dueDate }, actorOf(request))),
    );

    mount(api, operations.addComment, async ({ params, body }, request, reply) => {
      const nc = await options.engine.recordOwnership(params.id, { kind: 'comment', text: body.text }, actorOf(request));
      return reply.code(201).send(await ncViewOf(nc));
    });

    mount(api, operations.addAttachment, async ({ params, body }, request, reply) => {
      const nc = await options.engine.recordOwnership(params.id, { kind: 'attachment', ...body }, actorOf(request));
      return reply.code(201).send(await ncViewOf(nc));
    });

    mount(api, operations.review, ({ query }, _request, reply) => answerReview(reviewOptions, query, reply));

    mount(api, operations.whoami, (_input, request) => request.identity as ApiIdentity);

    mount(api, operations.listDeadLetters, async ({ query }) => {
      // The bodies stay out of the list: up to 256 KiB each; GET /dead-letters/{id} shows one.
      const letters = await options.deadLetters.list(query.limit);
      return { deadLetters: letters.map(({ body, ...letter }) => ({ ...letter, receivedAt: new Date(letter.receivedAt).toISOString(), bodyLength: body.length })) };
    });

    mount(api, operations.getDeadLetter, async ({ params }) => {
      const letter = await options.deadLetters.show(params.id);
      return { ...letter, receivedAt: new Date(letter.receivedAt).toISOString() };
    });

    mount(api, operations.replayDeadLetter, async ({ params }) => ({ replayed: await options.deadLetters.replay(params.id) }));

    mount(api, operations.recordFix, async ({ params: { fingerprint }, body }, request) => {
      await options.engine.recordFix(fingerprint, { actor: actorOf(request), note: body.note ?? null });
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
  });

  // Readable without a token: the document and its page describe the API and hold no data of the
  // register, nor the names of the connectors (their intakes are one path with {connector}).
  mount(app, operations.openApiDocument, () => document);
  mount(app, operations.apiReference, (_input, _request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', reference.contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(reference.html),
  );

  mount(app, operations.metrics, async (_input, request, reply) => {
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

  mount(app, operations.health, (_input, _request, reply) => reply.send({ status: 'ok' }));

  // Probes send no credential: the connectors (their names and last errors) are shown only with an API token, of any role.
  mount(app, operations.readiness, async (_input, request, reply) => {
    const report = await options.ready();
    const body = { status: report.ready ? 'ready' : 'not ready', checks: report.checks };
    return reply.code(report.ready ? 200 : 503).send(identify(options.apiTokens, bearerToken(request)) !== null ? { ...body, connectors: report.connectors, notifiers: report.notifiers } : body);
  });

  return app;
}

export type RecurdServer = ReturnType<typeof buildServer>;
