/**
 * What each connector last did, kept in Redis so that every replica's /readyz and /metrics tell
 * the same story whichever replica ran the poll; and each connector's checkpoint and small state.
 */
import type { Redis } from 'ioredis';
import type { ConnectorState } from '../connectors/types.js';
import type { Span } from './core/types.js';
import type { Liveness, SourceLiveness } from './core/verification.js';
import type { SourceLife } from './engine.js';
import { LuaScript } from './store/scripts.js';

export interface ConnectorHealth {
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  lastError: string | null;
  consecutiveErrors: number;
  /** When the current run of errors began, or null while the connector works. */
  errorSince: number | null;
  /** The latest runs of errors that ended, oldest first: evidence for NCs verified by silence. */
  errorSpells: Span[];
}

const EMPTY: ConnectorHealth = { lastSuccessAt: null, lastErrorAt: null, lastError: null, consecutiveErrors: 0, errorSince: null, errorSpells: [] };
/** How many error spells and heartbeat gaps are kept per source: enough to judge any window. */
const SPELLS = 50;
const heartbeatScript = new LuaScript('heartbeat-2');

export class ConnectorStatus implements SourceLife {
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
    const errorSpells = current.errorSince === null ? current.errorSpells : [...current.errorSpells, { from: current.errorSince, to: at }].slice(-SPELLS);
    await this.redis.hset(this.key, name, JSON.stringify({ ...current, lastSuccessAt: at, consecutiveErrors: 0, errorSince: null, errorSpells }));
  }

  async failed(name: string, at: number, error: string): Promise<void> {
    const current = await this.get(name);
    await this.redis.hset(
      this.key,
      name,
      JSON.stringify({
        ...current,
        lastErrorAt: at,
        lastError: error.slice(0, 1000),
        consecutiveErrors: current.consecutiveErrors + 1,
        errorSince: current.errorSince ?? at,
      }),
    );
  }

  async heartbeat(source: string, at: number, maxGap: number): Promise<void> {
    await heartbeatScript.run(this.redis, [`${this.prefix}:heartbeats`, `${this.prefix}:heartbeat:${source}:gaps`], [source, at, maxGap, SPELLS]);
  }

  /** Each source's error spells (the current one open) and, where it sends any, its heartbeats. */
  async liveness(sources: string[]): Promise<Liveness> {
    const pipeline = this.redis.pipeline();
    for (const source of sources) {
      pipeline.hget(this.key, source);
      pipeline.hget(`${this.prefix}:heartbeats`, source);
      pipeline.lrange(`${this.prefix}:heartbeat:${source}:gaps`, 0, -1);
    }
    const replies = (await pipeline.exec()) ?? [];
    const result = new Map<string, SourceLiveness>();
    sources.forEach((source, index) => {
      const [health, lastBeat, gaps] = [0, 1, 2].map((offset) => {
        const [error, value] = replies[index * 3 + offset] ?? [null, null];
        if (error) throw error;
        return value;
      }) as [string | null, string | null, string[]];
      const current = health === null ? { ...EMPTY } : { ...EMPTY, ...(JSON.parse(health) as Partial<ConnectorHealth>) };
      const errorSpells: SourceLiveness['errorSpells'] = [...current.errorSpells, ...(current.errorSince === null ? [] : [{ from: current.errorSince, to: null }])];
      const heartbeat =
        lastBeat === null && gaps.length === 0
          ? null
          : {
              lastAt: lastBeat === null ? null : Number(lastBeat),
              gaps: gaps.map((gap) => {
                const [from, to] = gap.split(':').map(Number) as [number, number];
                return { from, to };
              }),
            };
      result.set(source, { errorSpells, heartbeat });
    });
    return result;
  }

  private async get(name: string): Promise<ConnectorHealth> {
    const json = await this.redis.hget(this.key, name);
    return json === null ? { ...EMPTY } : { ...EMPTY, ...(JSON.parse(json) as Partial<ConnectorHealth>) };
  }

  /** The Redis hash of a connector's small state; an intake's changes to it go in with its alerts. */
  stateKey(name: string): string {
    return `${this.prefix}:connector:${name}:state`;
  }

  state(name: string): ConnectorState {
    const key = this.stateKey(name);
    return { get: (field) => this.redis.hget(key, field), all: () => this.redis.hgetall(key) };
  }

  /** Takes a timestamped signature once: false when it was already taken within `ttl` ms. */
  async firstUse(name: string, signature: string, ttl: number): Promise<boolean> {
    return (await this.redis.set(this.signatureKey(name, signature), '1', 'PX', ttl, 'NX')) === 'OK';
  }

  async forget(name: string, signature: string): Promise<void> {
    await this.redis.del(this.signatureKey(name, signature));
  }

  private signatureKey(name: string, signature: string): string {
    return `${this.prefix}:connector:${name}:signature:${signature}`;
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
