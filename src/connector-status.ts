/**
 * What each connector last did, kept in Redis so that every replica's /readyz and /metrics tell
 * the same story whichever replica ran the poll; and each connector's checkpoint and small state.
 */
import type { Redis } from 'ioredis';
import type { ConnectorState } from '../connectors/types.js';

export interface ConnectorHealth {
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  lastError: string | null;
  consecutiveErrors: number;
}

const EMPTY: ConnectorHealth = { lastSuccessAt: null, lastErrorAt: null, lastError: null, consecutiveErrors: 0 };

export class ConnectorStatus {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.key = `${prefix}:connectors`;
  }

  async all(): Promise<Record<string, ConnectorHealth>> {
    const raw = await this.redis.hgetall(this.key);
    return Object.fromEntries(Object.entries(raw).map(([name, json]) => [name, { ...EMPTY, ...(JSON.parse(json) as Partial<ConnectorHealth>) }]));
  }

  async succeeded(name: string, at: number): Promise<void> {
    const current = await this.get(name);
    await this.redis.hset(this.key, name, JSON.stringify({ ...current, lastSuccessAt: at, consecutiveErrors: 0 }));
  }

  async failed(name: string, at: number, error: string): Promise<void> {
    const current = await this.get(name);
    await this.redis.hset(
      this.key,
      name,
      JSON.stringify({ ...current, lastErrorAt: at, lastError: error.slice(0, 1000), consecutiveErrors: current.consecutiveErrors + 1 }),
    );
  }

  private async get(name: string): Promise<ConnectorHealth> {
    const json = await this.redis.hget(this.key, name);
    return json === null ? { ...EMPTY } : { ...EMPTY, ...(JSON.parse(json) as Partial<ConnectorHealth>) };
  }

  /** A connector's small state, as a Redis hash. */
  state(name: string): ConnectorState {
    const key = `${this.prefix}:connector:${name}:state`;
    return {
      get: (field) => this.redis.hget(key, field),
      set: async (field, value) => {
        await this.redis.hset(key, field, value);
      },
      all: () => this.redis.hgetall(key),
    };
  }

  checkpointKey(name: string): string {
    return `${this.prefix}:connector:${name}:checkpoint`;
  }

  async checkpoint(name: string): Promise<unknown> {
    const json = await this.redis.get(this.checkpointKey(name));
    return json === null ? null : (JSON.parse(json) as unknown);
  }

  async saveCheckpoint(name: string, value: unknown): Promise<void> {
    await this.redis.set(this.checkpointKey(name), JSON.stringify(value));
  }
}
