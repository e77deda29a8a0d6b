/**
 * What each notifier last did, kept in Redis so that every replica's /readyz tells the same story
 * whichever replica made the delivery.
 */
import type { Redis } from 'ioredis';

export interface NotifierHealth {
  lastDeliveredAt: number | null;
  lastErrorAt: number | null;
  lastError: string | null;
  consecutiveErrors: number;
}

const EMPTY: NotifierHealth = { lastDeliveredAt: null, lastErrorAt: null, lastError: null, consecutiveErrors: 0 };

export class NotifierStatus {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:notifiers`;
  }

  async all(): Promise<Record<string, NotifierHealth>> {
    const raw = await this.redis.hgetall(this.key);
    return Object.fromEntries(Object.entries(raw).map(([name, json]) => [name, { ...EMPTY, ...(JSON.parse(json) as Partial<NotifierHealth>) }]));
  }

  private async get(name: string): Promise<NotifierHealth> {
    const raw = await this.redis.hget(this.key, name);
    return raw === null ? EMPTY : { ...EMPTY, ...(JSON.parse(raw) as Partial<NotifierHealth>) };
  }

  async delivered(name: string, at: number): Promise<void> {
    const current = await this.get(name);
    await this.redis.hset(this.key, name, JSON.stringify({ ...current, lastDeliveredAt: at, consecutiveErrors: 0 }));
  }

  async failed(name: string, at: number, error: string): Promise<void> {
    const current = await this.get(name);
    await this.redis.hset(this.key, name, JSON.stringify({ ...current, lastErrorAt: at, lastError: error.slice(0, 1000), consecutiveErrors: current.consecutiveErrors + 1 }));
  }
}
