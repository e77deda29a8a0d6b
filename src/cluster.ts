/**
 * `pipeline.processes`: the daemon as several processes on one machine (node:cluster), so that
 * intake parsing and decisions use every core. Each worker is a whole daemon, a replica on the
 * same Redis (README, "Running several replicas"): they share the listening port, the queues
 * spread the batches, and Redis keeps one decision per symptom. The primary only starts,
 * replaces and stops them, and sums their metrics so that one scrape of /metrics sees them all.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from './log.js';

const SCRAPE = 'recurd:scrape';
const READY = 'recurd:ready';
/** A worker that exits this often within a minute is failing, not crashing once: give up. */
const RESTARTS_PER_MINUTE = 5;
/** How long a worker waits for the primary to sum a scrape (prom-client itself gives up at 5 s). */
const SCRAPE_TIMEOUT_MS = 8_000;

interface ScrapeMessage {
  type: typeof SCRAPE;
  id: number;
  text?: string;
  error?: string;
}

function isMessage(message: unknown, type: string): message is { type: string } {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

export function processCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * Runs in the primary: forks `count` workers running the same command, replaces one that dies
 * once the daemon runs, and stops them all on SIGTERM or SIGINT. Resolves with the exit status.
 */
export function runPrimary(count: number, logger: Logger, shutdownTimeout: number): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const ready = new Set<number>();
  const live = new Set<number>();
  const restarts: number[] = [];
  let stopping = false;
  let running = false;
  let status = 0;

  return new Promise((resolve) => {
    const fork = (): Worker => {
      const worker = cluster.fork();
      live.add(worker.id);
      worker.on('message', (message: unknown) => {
        if (isMessage(message, READY)) {
          ready.add(worker.id);
          if (ready.size === count && !running) logger.info({ processes: count }, 'all daemon processes running');
          running ||= ready.size === count;
        } else if (isMessage(message, SCRAPE)) {
          const { id } = message as ScrapeMessage;
          aggregator.clusterMetrics().then(
            (text) => worker.send({ type: SCRAPE, id, text } satisfies ScrapeMessage),
            (error: unknown) => worker.send({ type: SCRAPE, id, error: (error as Error).message } satisfies ScrapeMessage),
          );
        }
      });
      return worker;
    };

    const stop = (reason: string, exitStatus: number): void => {
      status = Math.max(status, exitStatus);
      if (stopping) return;
      stopping = true;
      logger.info({ reason }, 'stopping every daemon process');
      if (live.size === 0) resolve(status);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      // Each worker bounds its own drain by shutdownTimeout; this is the backstop for one that hangs.
      setTimeout(() => {
        logger.error(`daemon processes did not stop within ${shutdownTimeout} ms; exiting`);
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        resolve(1);
      }, shutdownTimeout + 5_000).unref();
    };

    cluster.on('exit', (worker, code, signal) => {
      const wasReady = ready.delete(worker.id);
      live.delete(worker.id);
      if (stopping) {
        if (code !== 0) status = 1;
        if (live.size === 0) resolve(status);
        return;
      }
      const how = signal === null ? `with status ${code}` : `on ${signal}`;
      // A worker that never got its daemon running (Redis unreachable, port taken) would fail again.
      if (!wasReady) {
        logger.error({ pid: worker.process.pid }, `a daemon process exited ${how} while starting; stopping`);
        stop('a process failed to start', code === 0 ? 1 : code);
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while ((restarts[0] ?? now) < now - 60_000) restarts.shift();
      if (restarts.length > RESTARTS_PER_MINUTE) {
        logger.error({ pid: worker.process.pid }, `a daemon process exited ${how}, the ${restarts.length}th time within a minute; stopping`);
        stop('processes keep failing', 1);
        return;
      }
      logger.error({ pid: worker.process.pid }, `a daemon process exited ${how}; starting another`);
      fork();
    });

    process.on('SIGTERM', () => stop('SIGTERM', 0));
    process.on('SIGINT', () => stop('SIGINT', 0));
    for (let index = 0; index < count; index += 1) fork();
  });
}

/** In a worker: tell the primary the daemon runs, and let it read this process's metrics. */
export function announceWorker(registry: Registry): void {
  // prom-client answers the primary's requests for this registry once an AggregatorRegistry exists here.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  process.send?.({ type: READY });
}

let scrapes = 0;

/** In a worker: the metrics of every process, summed by the primary (gauges read from Redis are taken once). */
export function clusterScrape(): Promise<string> {
  const id = (scrapes += 1);
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isMessage(message, SCRAPE) || (message as ScrapeMessage).id !== id) return;
      done();
      const { text, error } = message as ScrapeMessage;
      if (text === undefined) reject(new Error(`the primary process could not sum the metrics: ${error ?? 'no answer'}`));
      else resolve(text);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the primary process did not sum the metrics within ${SCRAPE_TIMEOUT_MS} ms`));
    }, SCRAPE_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send?.({ type: SCRAPE, id });
  });
}
