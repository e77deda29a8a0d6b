/** Wires the daemon together: Redis, register, engine, queues, HTTP; and takes it apart on a signal. */
import type { Redis } from 'ioredis';
import { createConnector } from '../connectors/registry.js';
import type { PushConnector } from '../connectors/types.js';
import { policyFromConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { Engine } from './engine.js';
import { buildServer, type ReadyReport, type RecurdServer } from './http/server.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { createNotifier } from './notifiers/registry.js';
import { Pipeline } from './pipeline.js';
import { checkRedis, connectRedis } from './store/redis-check.js';
import { RedisRegister } from './store/redis-register.js';

export interface Daemon {
  app: RecurdServer;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:8080. */
  address: string;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  logger: Logger;
  clock?: Clock;
}

export async function startDaemon(config: Config, { logger, clock = systemClock }: DaemonOptions): Promise<Daemon> {
  const redis: Redis = await connectRedis(config.redis.url);
  try {
    const { warnings } = await checkRedis(redis);
    for (const warning of warnings) logger.warn(warning);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  redis.on('error', (error) => logger.error({ err: error }, 'Redis connection error'));

  const register = new RedisRegister(redis, config.redis.keyPrefix, config.pipeline.dedupeFor);
  const engine = new Engine({ register, policy: policyFromConfig(config), clock, fingerprintFields: config.fingerprint.fields });
  const connectors = new Map<string, PushConnector>(config.connectors.map((connector) => [connector.name, createConnector(connector)]));
  let pipeline: Pipeline | null = null;
  const metrics = new Metrics({
    countNcsByState: () => register.countNcsByState(),
    queueJobCounts: () => pipeline?.queueJobCounts() ?? Promise.resolve({}),
  });
  pipeline = new Pipeline({
    redis,
    keys: register.keys,
    engine,
    metrics,
    logger,
    notifiers: config.notifiers.map(createNotifier),
    detectConcurrency: config.pipeline.detectConcurrency,
    sweepSchedule: config.sweep.schedule,
  });
  const running = pipeline;
  let accepting = true;

  const ready = async (): Promise<ReadyReport> => {
    const checks: ReadyReport['checks'] = {};
    try {
      await Promise.race([redis.ping(), new Promise((_resolve, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref())]);
      checks.redis = { ok: true };
    } catch (error) {
      checks.redis = { ok: false, detail: (error as Error).message };
    }
    checks.workers = running.isRunning ? { ok: true } : { ok: false, detail: 'stopped' };
    checks.intake = accepting ? { ok: true } : { ok: false, detail: 'shutting down' };
    return { ready: Object.values(checks).every((check) => check.ok), checks };
  };

  const app = buildServer({
    bodyLimit: config.http.bodyLimit,
    apiToken: config.api.token,
    connectors,
    intake: {
      enqueue: (alerts) => running.enqueue(alerts),
      get accepting() {
        return accepting;
      },
    },
    register,
    engine,
    metrics,
    logger,
    clock,
    ready,
  });

  running.start();
  let address: string;
  try {
    address = await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await running.stop();
    redis.disconnect();
    throw error;
  }
  logger.info({ address, connectors: [...connectors.keys()], prefix: config.redis.keyPrefix }, 'recurd started');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      accepting = false;
      // Closing the server waits for requests in flight: their batches are enqueued or refused.
      await app.close();
      await running.stop();
      await redis.quit();
      logger.info('recurd stopped');
    })();
    return stopping;
  };
  return { app, address, stop };
}
