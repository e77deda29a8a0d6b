/**
 * `recurd outbox list|retry|drop`: the deliveries that gave up (every attempt failed, or the
 * destination refused them for good), and a way to send them again once the destination or the
 * config is fixed, or to let them go. A retried delivery gets its full attempts again; a running
 * daemon sends it.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config/schema.js';
import type { NcEvent } from './core/types.js';
import { RecurdError } from './errors.js';

export interface FailedDelivery {
  /** The outbox job: `<notifier>.<event id>`. */
  id: string;
  notifier: string;
  event: string;
  eventType: string;
  nc: string;
  attempts: number;
  failedAt: string | null;
  error: string;
}

interface OutboxJobData {
  notifier: string;
  event: NcEvent;
}

/** At most this many failed deliveries are read by one command. */
const MOST = 10_000;

function view(job: Job<OutboxJobData>): FailedDelivery {
  return {
    id: job.id ?? '',
    notifier: job.data.notifier,
    event: job.data.event.id,
    eventType: job.data.event.type,
    nc: job.data.event.nc.id,
    attempts: job.attemptsMade,
    failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
    error: job.failedReason,
  };
}

export class OutboxCommands {
  private readonly queue: Queue<OutboxJobData>;

  constructor(config: Config, redis: Redis) {
    this.queue = new Queue<OutboxJobData>('outbox', { connection: redis, prefix: config.redis.keyPrefix });
  }

  /** The failed deliveries, newest first, of one notifier or all. */
  async list(notifier?: string): Promise<FailedDelivery[]> {
    const jobs = (await this.queue.getFailed(0, MOST - 1)).filter((job): job is Job<OutboxJobData> => job !== undefined);
    return jobs.map(view).filter((delivery) => notifier === undefined || delivery.notifier === notifier);
  }

  private async chosen(id: string, notifier?: string): Promise<Array<Job<OutboxJobData>>> {
    if (id === 'all') {
      const jobs = (await this.queue.getFailed(0, MOST - 1)).filter((job): job is Job<OutboxJobData> => job !== undefined);
      return jobs.filter((job) => notifier === undefined || job.data.notifier === notifier);
    }
    const job = await this.queue.getJob(id);
    if (job === undefined || (await job.getState()) !== 'failed') throw new RecurdError('DELIVERY_NOT_FOUND', `no failed delivery ${id} (recurd outbox list shows them)`);
    return [job];
  }

  /** Queues the deliveries again with their full attempts; returns their ids. */
  async retry(id: string, notifier?: string): Promise<string[]> {
    const jobs = await this.chosen(id, notifier);
    for (const job of jobs) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return jobs.map((job) => job.id ?? '');
  }

  /** Forgets the deliveries; the NCs and their timelines are untouched. */
  async drop(id: string, notifier?: string): Promise<string[]> {
    const jobs = await this.chosen(id, notifier);
    for (const job of jobs) await job.remove();
    return jobs.map((job) => job.id ?? '');
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
