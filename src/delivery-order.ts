/**
 * The newest event of each NC that a record-keeping notifier (a ticket, a finding) has delivered.
 * The outbox runs deliveries side by side and retries each on its own clock, so an event can be
 * delivered after a newer one of the same NC: a retry after a backoff, or `recurd outbox retry`
 * days later. Written over a ticket or finding, it would put the NC's older state back; told that
 * it is superseded, the notifier keeps the newer state.
 */
import type { Redis } from 'ioredis';
import type { NcEvent } from './core/types.js';

/** Keeps the greater of the stored order and ARGV[2] (both fixed-width, so compared as strings). */
const KEEP_NEWEST = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or current < ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0`;

/**
 * An event's place among its NC's events: its id is `<NC>.<timeline entry id>`, a Redis stream id
 * `<ms>-<seq>` that grows with each entry. Padded so that strings sort as the ids do; null for an
 * id of another shape, which is then never taken as superseded.
 */
export function eventOrder(eventId: string): string | null {
  const match = /\.(\d{1,16})-(\d{1,20})$/.exec(eventId);
  if (match === null) return null;
  return `${(match[1] as string).padStart(16, '0')}-${(match[2] as string).padStart(20, '0')}`;
}

export class DeliveryOrder {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(notifier: string): string {
    return `${this.prefix}:delivered:${notifier}`;
  }

  /** Whether the notifier has already delivered a newer event of this event's NC. */
  async superseded(notifier: string, event: NcEvent): Promise<boolean> {
    const order = eventOrder(event.id);
    if (order === null) return false;
    const newest = await this.redis.hget(this.key(notifier), event.nc.id);
    return newest !== null && newest > order;
  }

  async delivered(notifier: string, event: NcEvent): Promise<void> {
    const order = eventOrder(event.id);
    if (order === null) return;
    await this.redis.eval(KEEP_NEWEST, 1, this.key(notifier), event.nc.id, order);
  }
}
