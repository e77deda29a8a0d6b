/** Ticket links in memory, as RedisTicketLinks keeps them: for notifier tests without a Redis. */
import type { TicketLink, TicketLinks } from '../../src/ticket-links.js';

export class MemoryTicketLinks implements TicketLinks {
  readonly byNc = new Map<string, Map<string, TicketLink>>();
  get(nc: string, notifier: string): Promise<TicketLink | null> {
    return Promise.resolve(this.byNc.get(nc)?.get(notifier) ?? null);
  }
  set(nc: string, link: TicketLink): Promise<void> {
    const links = this.byNc.get(nc) ?? new Map<string, TicketLink>();
    links.set(link.notifier, link);
    this.byNc.set(nc, links);
    return Promise.resolve();
  }
  ncOf(notifier: string, key: string): Promise<string | null> {
    for (const [nc, links] of this.byNc) if (links.get(notifier)?.key === key) return Promise.resolve(nc);
    return Promise.resolve(null);
  }
  forNcs(ncs: readonly string[]): Promise<Map<string, TicketLink[]>> {
    return Promise.resolve(new Map(ncs.map((nc) => [nc, [...(this.byNc.get(nc)?.values() ?? [])]])));
  }
}
