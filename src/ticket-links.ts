/**
 * The records a notifier made for an NC elsewhere (a Jira issue, a Probo or CISO Assistant
 * finding), kept in Redis: by NC, so that the next event updates the same record and the API shows
 * it; and by the record's key, so that a way back (the Jira intake) finds the NC it belongs to.
 */
import type { Redis } from 'ioredis';

export interface TicketLink {
  /** The notifier that made it. */
  notifier: string;
  /** The notifier's type: jira, probo, ciso-assistant. */
  system: string;
  /** The record's key or id there (PROJ-123, a finding id). */
  key: string;
  /** Where a person opens it, where known. */
  url: string | null;
  /** When recurd made or last re-linked it (epoch ms). */
  at: number;
}

export interface TicketLinks {
  get(nc: string, notifier: string): Promise<TicketLink | null>;
  /** Links the NC to a record, replacing the notifier's earlier one (a new ticket after a reopen). */
  set(nc: string, link: TicketLink): Promise<void>;
  /** The NC a notifier's record belongs to. */
  ncOf(notifier: string, key: string): Promise<string | null>;
  /** Every NC's links, for the given NCs. */
  forNcs(ncs: readonly string[]): Promise<Map<string, TicketLink[]>>;
}

export class RedisTicketLinks implements TicketLinks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private byNc(nc: string): string {
    return `${this.prefix}:ticketlinks:${nc}`;
  }

  private byKey(notifier: string): string {
    return `${this.prefix}:tickets:${notifier}`;
  }

  async get(nc: string, notifier: string): Promise<TicketLink | null> {
    const raw = await this.redis.hget(this.byNc(nc), notifier);
    return raw === null ? null : (JSON.parse(raw) as TicketLink);
  }

  async set(nc: string, link: TicketLink): Promise<void> {
    await this.redis.multi().hset(this.byNc(nc), link.notifier, JSON.stringify(link)).hset(this.byKey(link.notifier), link.key, nc).exec();
  }

  async ncOf(notifier: string, key: string): Promise<string | null> {
    return this.redis.hget(this.byKey(notifier), key);
  }

  async forNcs(ncs: readonly string[]): Promise<Map<string, TicketLink[]>> {
    const result = new Map<string, TicketLink[]>();
    if (ncs.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const nc of ncs) pipeline.hvals(this.byNc(nc));
    const replies = (await pipeline.exec()) ?? [];
    ncs.forEach((nc, index) => {
      const [error, values] = replies[index] ?? [null, []];
      if (error) throw error;
      result.set(nc, (values as string[]).map((raw) => JSON.parse(raw) as TicketLink).sort((a, b) => a.notifier.localeCompare(b.notifier)));
    });
    return result;
  }
}
