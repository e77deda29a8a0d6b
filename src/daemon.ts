/** Wires the daemon together: Redis, register, engine, queues, HTTP; and takes it apart on a signal. */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createConnector } from '../connectors/registry.js';
import { intakeLimitsOf, type Connector, type NcPort } from '../connectors/types.js';
import { engineSettings } from './config/load.js';
import type { Config } from './config/schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { ConnectorStatus, type ConnectorHealth } from './connector-status.js';
import { DeadLetterCommands } from './dead-letter-commands.js';
import { DeadLetters } from './dead-letters.js';
import { Engine } from './engine.js';
import { buildServer, type ReadyReport, type RecurdServer } from './http/server.js';
import { apiTokens } from './http/roles.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { NotifierStatus, type NotifierHealth } from './notifier-status.js';
import { createNotifier } from './notifiers/registry.js';
import { RedisTicketLinks } from './ticket-links.js';
import { Pipeline } from './pipeline.js';
import { RedisHealth } from './redis-health.js';
import { DeliveryOrder } from './delivery-order.js';
import { checkRedis, closeRedis, connectRedis } from './store/redis-check.js';
import { RedisRegister } from './store/redis-register.js';

export interface Daemon {
  app: RecurdServer;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:8080. */
  address: string;
  /** This process's own metrics. */
  metrics: Registry;
  stop(): Promise<void>;
  /** What a stop under way is waiting for, named for the log when it takes too long. */
  stopWaitingFor(): string | null;
}

export interface DaemonOptions {
  logger: Logger;
  clock?: Clock;
  /** What a scrape of /metrics answers; by default this process's metrics (src/cluster.ts sums its processes'). */
  scrape?: () => Promise<string>;
}

export async function startDaemon(config: Config, { logger, clock = systemClock, scrape }: DaemonOptions): Promise<Daemon> {
  const redis: Redis = await connectRedis(config.redis.url);
  try {
    const { warnings } = await checkRedis(redis);
    for (const warning of warnings) logger.warn(warning);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const health = new RedisHealth(logger, config.redis.commandTimeout, () => clock.now());
  // Registered before the queues exist, so it scrubs each error before BullMQ's listeners see it.
  health.watch(redis);
  // The register's own connection: BullMQ defines its scripts (some fifty) on the connection it is
  // given, and ioredis copies every script defined on a connection into each pipeline made on it,
  // which the register does several times per batch (4.5% of the daemon's time in a profile).
  const registerRedis = redis.duplicate();
  registerRedis.on('error', (error) => health.error(error));

  const register = new RedisRegister(registerRedis, config.redis.keyPrefix, config.pipeline.dedupeFor);
  const status = new ConnectorStatus(redis, config.redis.keyPrefix);
  const notifierStatus = new NotifierStatus(redis, config.redis.keyPrefix);
  const links = new RedisTicketLinks(redis, config.redis.keyPrefix);
  // The connectors' health and the heartbeats are what shows a source alive through a window.
  const settings = engineSettings(config);
  const annexA = settings.annexA ?? null;
  const engine = new Engine({ register, clock, ...settings, sourceLife: status });
  const deadLetters = new DeadLetters(redis, config.redis.keyPrefix, config.retention.deadLetters);
  let pipeline: Pipeline | null = null;
  // Read at each scrape: bounded by redis.commandTimeout, and skipped while Redis is down.
  const metrics = new Metrics({
    redisUp: () => health.up,
    countNcsByState: () => health.deadline(() => register.countNcsByState(), 'the NC counts'),
    queueJobCounts: () => health.deadline(() => pipeline?.queueJobCounts() ?? Promise.resolve({}), 'the queue counts'),
    ncStats: () => health.deadline(() => register.ncStats(), 'the NC statistics'),
    connectorLastSuccess: () =>
      health.deadline(async () => Object.fromEntries(Object.entries(await status.all()).map(([name, connector]) => [name, connector.lastSuccessAt])), 'the connector health'),
  });
  const notifiers = config.notifiers.map((notifier) => createNotifier(notifier, { links, clock, logger, annexA, baseUrl: config.ui.baseUrl ?? null }));
  // The Jira way back records through the engine as the API does, and answers through its notifier.
  const ncs: NcPort = {
    ncOf: (notifier, key) => links.ncOf(notifier, key),
    recordCorrectiveAction: async (ncId, action) => {
      const nc = await engine.recordCorrectiveAction(ncId, action);
      if (nc.correctiveAction !== null) metrics.correctiveActions.inc({ strength: nc.correctiveAction.strength });
    },
    comment: async (ncId, text, actor) => {
      await engine.recordOwnership(ncId, { kind: 'comment', text }, actor);
    },
    commentOnTicket: async (name, key, text) => {
      const notifier = notifiers.find((candidate) => candidate.name === name);
      if (notifier?.commentOnTicket === undefined) throw new Error(`notifier ${name} keeps no tickets to comment on`);
      await notifier.commentOnTicket(key, text);
    },
  };
  const connectors = new Map<string, Connector>(
    config.connectors.map((connector) => [
      connector.name,
      createConnector(connector, { state: status.state(connector.name), clock, logger: logger.child({ connector: connector.name }), ncs }),
    ]),
  );
  pipeline = new Pipeline({
    redis,
    keys: register.keys,
    engine,
    metrics,
    logger,
    redisError: (error, context, message) => health.error(error, context, message),
    stalledAfter: config.pipeline.stalledAfter,
    notifiers,
    notifierStatus,
    deliveryOrder: new DeliveryOrder(redis, config.redis.keyPrefix),
    detectConcurrency: config.pipeline.detectConcurrency,
    sweepSchedule: config.sweep.schedule,
    connectors: [...connectors.values()],
    status,
    deadLetters,
    clock,
    keepFailed: config.retention.failedJobs,
  });
  const running = pipeline;
  let accepting = true;

  const ready = async (): Promise<ReadyReport> => {
    const checks: ReadyReport['checks'] = {};
    try {
      await health.deadline(() => redis.ping(), 'the readiness check');
      checks.redis = { ok: true };
    } catch (error) {
      checks.redis = { ok: false, detail: (error as Error).message };
    }
    checks.workers = running.isRunning ? { ok: true } : { ok: false, detail: 'stopped' };
    checks.intake = accepting ? { ok: true } : { ok: false, detail: 'shutting down' };
    const ready = Object.values(checks).every((check) => check.ok);
    // A failing source is shown, not fatal: the other connectors keep running and this one retries.
    const sources = checks.redis.ok ? await health.deadline(() => status.all(), 'the connector health').catch(() => ({})) : {};
    const deliveries = checks.redis.ok ? await health.deadline(() => notifierStatus.all(), 'the notifier health').catch(() => ({})) : {};
    return {
      ready,
      checks,
      connectors: connectorReport([...connectors.keys()], sources),
      notifiers: notifierReport(
        config.notifiers.map((notifier) => notifier.name),
        deliveries,
      ),
    };
  };

  const app = buildServer({
    bodyLimit: config.http.bodyLimit,
    limits: { maxDepth: config.http.maxDepth, maxItems: config.http.maxItems },
    apiTokens: apiTokens(config.api),
    metricsToken: config.http.metricsToken,
    intakeLimits: new Map(config.connectors.map((connector) => [connector.name, intakeLimitsOf(connector)])),
    connectors,
    intake: {
      // Each bounded by redis.commandTimeout: a sender gets its 503 and sends again, instead of waiting on Redis.
      enqueue: (connector, alerts, stateChanges) =>
        health.deadline(() => running.enqueue(alerts, stateChanges && { key: status.stateKey(connector), fields: stateChanges }), 'the batch was not stored'),
      reject: (connector, receivedAt, body, errors, route) => health.deadline(() => deadLetters.add(connector, receivedAt, body, errors, route), 'the refused payload was not stored'),
      // What the connector's health shows is secondary to the answer: best effort.
      succeeded: (connector) => health.deadline(() => status.succeeded(connector, clock.now()), 'connector health').catch(() => undefined),
      failed: async (connector, reason) => {
        metrics.connectorErrors.inc({ connector });
        await health.deadline(() => status.failed(connector, clock.now(), reason), 'connector health').catch(() => undefined);
      },
      firstUse: (connector, signature, ttl) => health.deadline(() => status.firstUse(connector, signature, ttl), 'the signature was not checked for replay'),
      forget: (connector, signature) => health.deadline(() => status.forget(connector, signature), 'the signature was not released'),
      get accepting() {
        return accepting;
      },
    },
    register,
    tickets: links,
    controlTitles: annexA?.controls ?? new Map(),
    engine,
    deadLetters: new DeadLetterCommands(config, redis),
    metrics,
    scrape: scrape ?? (() => metrics.registry.metrics()),
    logger,
    clock,
    ready,
  });

  // A register written by an earlier version is brought up to this one before anything is decided.
  const { counted, listed, updated } = await register.upgrade();
  if (counted > 0) logger.info({ counted }, 'counted the NCs written before the gauges were kept by the commits');
  if (listed > 0) logger.info({ listed }, 'listed the symptoms and NCs written before the list indexes were kept');
  if (updated > 0) logger.info({ updated }, 'indexed by last change the NCs written before that index was kept');
  running.start();
  let address: string;
  try {
    address = await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await running.stop();
    redis.disconnect();
    registerRedis.disconnect();
    throw error;
  }
  logger.info({ address, connectors: [...connectors.keys()], prefix: config.redis.keyPrefix }, 'recurd started');

  let stopping: Promise<void> | null = null;
  let waitingFor: string | null = null;
  const step = (what: string): void => {
    logger.debug(`stopping: waiting for ${what}`);
    waitingFor = what;
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      accepting = false;
      step('HTTP requests in flight');
      // Closing the server waits for requests in flight: their batches are enqueued or refused.
      await app.close();
      await running.stop(step);
      step('connectors to close');
      await Promise.all([...connectors.values()].map((connector) => connector.close?.() ?? Promise.resolve()));
      health.close();
      step('the Redis connections to close');
      await Promise.all([closeRedis(redis), closeRedis(registerRedis)]);
      waitingFor = null;
      logger.info('recurd stopped');
    })();
    return stopping;
  };
  return { app, address, metrics: metrics.registry, stop, stopWaitingFor: () => waitingFor };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

interface Health {
  lastErrorAt: number | null;
  lastError: string | null;
  consecutiveErrors: number;
}

/** Each named part's health for /readyz, ok until it fails; `more` adds what the kind of part tells besides. */
function healthReport<Entry extends Health, Shown>(names: string[], health: Record<string, Entry>, more: (entry: Entry | undefined) => Shown) {
  return Object.fromEntries(
    names.map((name) => {
      const entry = health[name];
      return [name, { ok: entry === undefined || entry.consecutiveErrors === 0, lastErrorAt: iso(entry?.lastErrorAt ?? null), lastError: entry?.lastError ?? null, ...more(entry) }];
    }),
  );
}

/** A notifier failing is shown, not fatal: its deliveries wait in the outbox. */
function notifierReport(names: string[], health: Record<string, NotifierHealth>): ReadyReport['notifiers'] {
  return healthReport(names, health, (entry) => ({ lastDeliveredAt: iso(entry?.lastDeliveredAt ?? null), consecutiveErrors: entry?.consecutiveErrors ?? 0 }));
}

function connectorReport(names: string[], health: Record<string, ConnectorHealth>): ReadyReport['connectors'] {
  return healthReport(names, health, (entry) => ({ lastSuccessAt: iso(entry?.lastSuccessAt ?? null) }));
}
