/**
 * The queues between intake and decision, and between decision and notification:
 *
 *   intake ──▶ ingest queue ──▶ detect worker ──▶ register (+ event stream, in the same Lua call)
 *   event stream ──▶ relay ──▶ outbox queue ──▶ notifiers
 *   node-cron tick ──▶ sweep queue (job id from the tick: one run per tick across replicas)
 *   node-cron tick ──▶ poll queue (the same, per connector) ──▶ poller ──▶ ingest queue, checkpoint
 *
 * Events are written to a Redis stream by the same atomic script that changes the register, and
 * moved to the outbox queue by a relay that acknowledges them only once the jobs exist: an event
 * is never lost between the decision and its notification (transactional outbox).
 */
import { randomBytes } from 'node:crypto';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import cron, { type ScheduledTask } from 'node-cron';
import type { Connector, PayloadError, PollContext } from '../connectors/types.js';
import type { Clock } from './core/clock.js';
import type { CanonicalAlert, NcEvent, Nonconformity, ReceivedAlert } from './core/types.js';
import type { ConnectorStatus } from './connector-status.js';
import type { DeadLetters } from './dead-letters.js';
import type { DeliveryOrder } from './delivery-order.js';
import type { Engine } from './engine.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { NotifierStatus } from './notifier-status.js';
import { DeliveryError, type Notifier } from './notifiers/types.js';
import type { RedisKeys } from './store/redis-register.js';

export const QUEUE_NAMES = ['ingest', 'outbox', 'sweep', 'poll'] as const;
const RELAY_GROUP = 'outbox-relay';
const WEEK_S = 7 * 24 * 3600;
/** Alerts per ingest job: a poll that finds many is split, so no job grows without bound. */
const JOB_ALERTS = 500;
/** A poll holds its connector's lock at most this long; a crashed replica's lock expires. */
const POLL_LOCK_MS = 10 * 60_000;
/** After consecutive failures a connector skips ticks: 2 s, 4 s, … up to this. */
const MAX_POLL_BACKOFF_MS = 5 * 60_000;
/** The outbox's backoff: doubling from the notifier's first delay, or what a destination's Retry-After asks. */
export const DELIVERY_BACKOFF = 'delivery';
/** The longest a Retry-After is honoured: a destination asking for days gets its answer from `recurd outbox retry`. */
const MAX_RETRY_AFTER_MS = 6 * 3600_000;

/** How long the outbox waits before attempt `attemptsMade + 1` of a delivery. */
export function deliveryBackoff(attemptsMade: number, firstDelay: number, error: unknown): number {
  const doubling = firstDelay * 2 ** Math.max(0, attemptsMade - 1);
  if (error instanceof DeliveryError && error.retryAfterMs !== null) return Math.min(Math.max(error.retryAfterMs, 1000), MAX_RETRY_AFTER_MS);
  return doubling;
}

export interface PipelineOptions {
  redis: Redis;
  keys: RedisKeys;
  engine: Engine;
  metrics: Metrics;
  logger: Logger;
  /** Where the queue workers' errors go: logged while Redis is up, counted while it is down (RedisHealth). */
  redisError: (error: Error, context: Record<string, unknown>, message?: string) => void;
  /** A batch whose worker died is taken up by another within this long (ms). */
  stalledAfter: number;
  notifiers: Notifier[];
  notifierStatus: NotifierStatus;
  deliveryOrder: DeliveryOrder;
  detectConcurrency: number;
  sweepSchedule: string;
  connectors: Connector[];
  status: ConnectorStatus;
  deadLetters: DeadLetters;
  clock: Clock;
  /** How many failed jobs are kept for inspection, and for how long. */
  keepFailed: KeepFailed;
}

/** Failed jobs kept for an admin: at most `count`, none older than `age` ms. */
export interface KeepFailed {
  count: number;
  age: number;
}

/** BullMQ's form of it: the age in seconds. */
function removeOnFail(keep: KeepFailed): { count: number; age: number } {
  return { count: keep.count, age: Math.ceil(keep.age / 1000) };
}

interface IngestJob {
  alerts: ReceivedAlert[];
}

interface PollJob {
  connector: string;
}

/** Fields of a connector's state hash to set together with the alerts they belong to. */
export interface StateChange {
  key: string;
  fields: Record<string, string>;
}

/**
 * Alerts as ingest jobs of at most JOB_ALERTS each; resolves once every job is stored. With a
 * state change, the jobs and the state go in one MULTI: a job's finish time is never stored
 * without its report (nor the report without it), whatever fails in between.
 */
export async function enqueueAlerts(queue: Queue, alerts: ReceivedAlert[], keepFailed: KeepFailed, state?: StateChange): Promise<void> {
  const options = {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
    // A batch that keeps failing stays in the failed set for an admin to inspect and retry, within the retention.
    removeOnFail: removeOnFail(keepFailed),
  };
  const batches: IngestJob[] = [];
  for (let start = 0; start < alerts.length; start += JOB_ALERTS) batches.push({ alerts: alerts.slice(start, start + JOB_ALERTS) });
  if (state !== undefined) {
    const transaction = (await queue.backend.client).multi();
    for (const batch of batches) await new Job(queue, 'batch', batch, options).addJob(transaction);
    transaction.hset(state.key, state.fields);
    const failure = ((await transaction.exec()) ?? []).find(([error]: [Error | null, unknown]) => error !== null)?.[0];
    if (failure) throw failure;
    return;
  }
  if (batches.length === 0) return;
  if (batches.length === 1 && batches[0] !== undefined) {
    await queue.add('batch', batches[0], options);
    return;
  }
  await queue.addBulk(batches.map((data) => ({ name: 'batch', data, opts: options })));
}

interface OutboxJob {
  notifier: string;
  event: NcEvent;
}

export class Pipeline {
  private readonly queues: Record<(typeof QUEUE_NAMES)[number], Queue>;
  private readonly workers: Worker[] = [];
  private readonly cronTasks: ScheduledTask[] = [];
  private readonly polling = new AbortController();
  private relayReader: Redis | null = null;
  private relayDone: Promise<void> = Promise.resolve();
  private running = false;
  private readonly consumer = `relay-${randomBytes(6).toString('hex')}`;

  constructor(private readonly options: PipelineOptions) {
    const connection = options.redis;
    const prefix = options.keys.prefix;
    this.queues = {
      ingest: new Queue('ingest', { connection, prefix }),
      outbox: new Queue('outbox', { connection, prefix }),
      sweep: new Queue('sweep', { connection, prefix }),
      poll: new Queue('poll', { connection, prefix }),
    };
    // Without a listener BullMQ prints Redis errors to stderr, past the log and its redaction.
    for (const queue of Object.values(this.queues)) {
      queue.on('error', (error) => options.redisError(error, { queue: queue.name }, 'queue error'));
    }
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Resolves once the batch (and the state change that goes with it) is stored in Redis: only then may an intake answer 202. */
  async enqueue(alerts: ReceivedAlert[], state?: StateChange): Promise<void> {
    await enqueueAlerts(this.queues.ingest, alerts, this.options.keepFailed, state);
  }

  async queueJobCounts(): Promise<Record<string, Record<string, number>>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const name of QUEUE_NAMES) {
      counts[name] = await this.queues[name].getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    }
    return counts;
  }

  start(): void {
    const { redis, keys, logger, stalledAfter } = this.options;
    // A worker renews its lock every half lockDuration; a dead one's lock runs out within
    // lockDuration, and the next stalled check (every stalledInterval) takes its job up.
    const shared = { connection: redis, prefix: keys.prefix, lockDuration: Math.ceil(stalledAfter / 2), stalledInterval: Math.ceil(stalledAfter / 2) };
    this.running = true;
    const pollers = this.options.connectors.filter((connector) => connector.poller !== undefined);
    this.workers.push(
      new Worker<IngestJob>('ingest', (job) => this.detect(job), { ...shared, concurrency: this.options.detectConcurrency }),
      new Worker<OutboxJob>('outbox', (job) => this.notify(job), {
        ...shared,
        concurrency: 4,
        settings: {
          backoffStrategy: (attemptsMade, _type, error, job) => {
            const notifier = this.options.notifiers.find((candidate) => candidate.name === (job?.data as OutboxJob | undefined)?.notifier);
            return deliveryBackoff(attemptsMade, notifier?.backoffMs ?? 5000, error);
          },
        },
      }),
      new Worker('sweep', () => this.sweep(), { ...shared, concurrency: 1 }),
    );
    if (pollers.length > 0) {
      this.workers.push(new Worker<PollJob>('poll', (job) => this.poll(job.data.connector), { ...shared, concurrency: pollers.length }));
    }
    for (const worker of this.workers) {
      worker.on('error', (error) => this.options.redisError(error, { queue: worker.name }, 'queue worker error'));
      worker.on('failed', (job, error) => logger.warn({ err: error, queue: worker.name, job: job?.id, attempts: job?.attemptsMade }, 'job failed'));
      worker.on('stalled', (job) => logger.warn({ queue: worker.name, job }, 'took up a job whose worker stopped answering (a daemon killed or cut off)'));
    }
    // node-cron writes its own coloured lines to the console: its warnings go to the JSON log instead.
    const cronLogger = {
      info: (message: string) => logger.debug({ component: 'node-cron' }, message),
      warn: (message: string) => logger.warn({ component: 'node-cron' }, message),
      error: (message: string | Error, error?: Error) => logger.error({ component: 'node-cron', err: message instanceof Error ? message : error }, String(message)),
      debug: (message: string | Error) => logger.debug({ component: 'node-cron' }, String(message)),
    };
    this.cronTasks.push(cron.schedule(this.options.sweepSchedule, (context) => this.scheduleSweep(context.date), { name: 'recurd-sweep', noOverlap: true, logger: cronLogger }));
    for (const connector of pollers) {
      const schedule = connector.poller?.schedule ?? '';
      this.cronTasks.push(cron.schedule(schedule, (context) => this.schedulePoll(connector.name, context.date), { name: `recurd-poll-${connector.name}`, logger: cronLogger }));
    }
    this.relayDone = this.relay();
  }

  /** Like the sweep: one poll per connector and tick across replicas. */
  async schedulePoll(connector: string, tick: Date): Promise<void> {
    try {
      await this.queues.poll.add('poll', { connector } satisfies PollJob, {
        jobId: `poll-${connector}-${tick.getTime()}`,
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 86_400 },
      });
    } catch (error) {
      this.options.redisError(error as Error, { connector }, 'could not schedule a poll');
    }
  }

  /**
   * One poll of one connector, holding its lock so that a slow poll and the next tick never run
   * side by side; a failure is recorded and the next ticks back off, the checkpoint untouched.
   */
  private async poll(name: string): Promise<void> {
    const { redis, keys, status, deadLetters, metrics, logger, clock } = this.options;
    const connector = this.options.connectors.find((candidate) => candidate.name === name);
    if (connector?.poller === undefined) return;
    const health = (await status.all())[name];
    if (health !== undefined && health.consecutiveErrors > 0 && health.lastErrorAt !== null) {
      const backoff = Math.min(2 ** health.consecutiveErrors * 1000, MAX_POLL_BACKOFF_MS);
      if (clock.now() < health.lastErrorAt + backoff) return;
    }
    const lock = `${keys.prefix}:connector:${name}:lock`;
    const token = randomBytes(8).toString('hex');
    if ((await redis.set(lock, token, 'PX', POLL_LOCK_MS, 'NX')) === null) return;
    const context: PollContext = {
      checkpoint: await status.checkpoint(name),
      emit: async (alerts: CanonicalAlert[]) => {
        if (alerts.length === 0) return;
        const receivedAt = clock.now();
        await enqueueAlerts(this.queues.ingest, alerts.map((alert) => ({ ...alert, receivedAt })), this.options.keepFailed);
        for (const alert of alerts) metrics.alertsReceived.inc({ source: alert.source, family: alert.family, status: alert.status });
      },
      saveCheckpoint: (value: unknown) => status.saveCheckpoint(name, value),
      reject: async (body: string, errors: PayloadError[]) => {
        metrics.payloadsRejected.inc({ connector: name }, errors.length);
        await deadLetters.add(name, clock.now(), body, errors);
      },
      signal: this.polling.signal,
    };
    try {
      await connector.poller.poll(context);
      await status.succeeded(name, clock.now());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      metrics.connectorErrors.inc({ connector: name });
      await status.failed(name, clock.now(), message);
      logger.error({ err: error, connector: name }, 'poll failed; the checkpoint stays where it was');
    } finally {
      // Released only if still ours: a lock that expired may belong to another replica by now.
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lock, token);
    }
  }

  /** Every replica's cron fires; the job id from the tick lets only the first one through. */
  async scheduleSweep(tick: Date): Promise<void> {
    try {
      await this.queues.sweep.add('sweep', {}, { jobId: `sweep-${tick.getTime()}`, removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } });
    } catch (error) {
      this.options.redisError(error as Error, {}, 'could not schedule the window sweep');
    }
  }

  private async detect(job: Job<IngestJob>): Promise<void> {
    const result = await this.options.engine.ingest(job.data.alerts);
    const decidedAt = Date.now();
    const { metrics } = this.options;
    for (const decision of result.decisions) metrics.detectLatency.observe(Math.max(0, decidedAt - decision.alert.receivedAt) / 1000);
    metrics.record(result.effects);
    if (result.created.size > 0) this.options.logger.info({ created: Object.fromEntries(result.created) }, 'nonconformity raised');
  }

  private async sweep(): Promise<void> {
    const result = await this.options.engine.sweepTick();
    this.options.metrics.record(result.effects);
  }

  private async notify(job: Job<OutboxJob>): Promise<void> {
    const notifier = this.options.notifiers.find((candidate) => candidate.name === job.data.notifier);
    if (notifier === undefined) throw new UnrecoverableError(`notifier ${job.data.notifier} is no longer configured`);
    const { metrics, notifierStatus, deliveryOrder, clock, logger } = this.options;
    const { event } = job.data;
    // What /readyz shows, and the delivery order, are secondary to the delivery: best effort.
    const note = (update: Promise<void>, what = 'the notifier status'): Promise<void> =>
      update.catch((error: unknown) => logger.warn({ err: error, notifier: notifier.name }, `could not store ${what}`));
    try {
      if (notifier.keepsRecord) {
        const superseded = await deliveryOrder.superseded(notifier.name, event);
        if (superseded) logger.info({ notifier: notifier.name, nc: event.nc.id, event: event.id }, `${event.type} of ${event.nc.id} comes after a newer event of it: ${notifier.name} keeps the newer state`);
        await notifier.deliver(event, { superseded });
        // Lost, it only leaves a later stale retry free to write an older state: not worth a redelivery.
        await note(deliveryOrder.delivered(notifier.name, event), 'the newest event delivered');
      } else {
        await notifier.deliver(event);
      }
      metrics.deliveries.inc({ notifier: notifier.name, outcome: 'delivered' });
      await note(notifierStatus.delivered(notifier.name, clock.now()));
    } catch (error) {
      const final = !(error instanceof DeliveryError && error.retryable) || job.attemptsMade + 1 >= notifier.attempts;
      metrics.deliveries.inc({ notifier: notifier.name, outcome: final ? 'failed' : 'retrying' });
      await note(notifierStatus.failed(notifier.name, clock.now(), error instanceof Error ? error.message : String(error)));
      if (error instanceof DeliveryError && !error.retryable) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  /** Move events from the stream written by the commit script to the outbox queue. */
  private async relay(): Promise<void> {
    const { keys, logger } = this.options;
    const reader = this.options.redis.duplicate();
    reader.on('error', (error) => this.options.redisError(error, {}, 'outbox relay connection error'));
    this.relayReader = reader;
    try {
      await reader.xgroup('CREATE', keys.events, RELAY_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) logger.error({ err: error }, 'could not create the outbox relay group');
    }
    while (this.running) {
      try {
        // Entries a crashed replica read but never acknowledged come back after a minute.
        const [, claimed] = (await reader.xautoclaim(keys.events, RELAY_GROUP, this.consumer, 60_000, '0', 'COUNT', 100)) as [string, Array<[string, string[]]>];
        const reply = (await reader.xreadgroup('GROUP', RELAY_GROUP, this.consumer, 'COUNT', 100, 'BLOCK', 1000, 'STREAMS', keys.events, '>')) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        const entries = [...claimed, ...(reply?.[0]?.[1] ?? [])];
        if (entries.length > 0) await this.forward(entries);
      } catch (error) {
        if (!this.running) break;
        this.options.redisError(error as Error, {}, 'outbox relay failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async forward(entries: Array<[string, string[]]>): Promise<void> {
    const jobs = [];
    for (const [, fields] of entries) {
      const record: Record<string, string> = {};
      for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index] as string] = fields[index + 1] as string;
      const event: NcEvent = {
        id: record.id ?? '',
        type: record.type as NcEvent['type'],
        at: Number(record.at),
        nc: JSON.parse(record.nc ?? '{}') as Nonconformity,
      };
      for (const notifier of this.options.notifiers) {
        if (!notifier.wants(event)) continue;
        jobs.push({
          name: event.type,
          data: { notifier: notifier.name, event } satisfies OutboxJob,
          opts: {
            jobId: `${notifier.name}.${event.id}`,
            attempts: notifier.attempts,
            backoff: { type: DELIVERY_BACKOFF, delay: notifier.backoffMs },
            removeOnComplete: { age: WEEK_S },
            removeOnFail: removeOnFail(this.options.keepFailed),
          },
        });
      }
    }
    if (jobs.length > 0) await this.queues.outbox.addBulk(jobs);
    const ids = entries.map(([id]) => id);
    await this.options.redis.multi().xack(this.options.keys.events, RELAY_GROUP, ...ids).xdel(this.options.keys.events, ...ids).exec();
  }

  /** Stop taking work, let in-flight jobs finish, and close every queue connection. */
  async stop(step: (what: string) => void = () => undefined): Promise<void> {
    this.running = false;
    this.polling.abort();
    step('scheduled tasks to end');
    await Promise.all(this.cronTasks.map(async (task) => task.destroy()));
    step('the jobs being decided or delivered');
    await Promise.all(this.workers.map((worker) => worker.close()));
    step('the outbox relay');
    // Rather than wait out its blocking read: what it was reading stays pending in the group, and
    // the next relay claims it after a minute (forwarding runs on other connections and finishes).
    this.relayReader?.disconnect();
    await this.relayDone;
    step('the queues to close');
    await Promise.all(Object.values(this.queues).map((queue) => queue.close()));
  }
}
