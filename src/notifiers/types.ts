/**
 * The contract every notifier fulfils: deliver NC events somewhere, and say whether a failure can
 * be helped by retrying. Its config schema is part of the config schema, so one registry line
 * (registry.ts) makes a new type usable in YAML.
 */
import type { z } from 'zod';
import type { AnnexA } from '../core/annex-a.js';
import type { Clock } from '../core/clock.js';
import type { NcEvent } from '../core/types.js';
import type { Logger } from '../log.js';
import type { TicketLinks } from '../ticket-links.js';

export interface Notifier {
  readonly name: string;
  /** Attempts and first backoff for the outbox job of each event. */
  readonly attempts: number;
  readonly backoffMs: number;
  /** Whether this event is for it: its event types and its `match` filters (base.ts). */
  wants(event: NcEvent): boolean;
  /**
   * Set by a notifier that keeps one record per NC elsewhere (a ticket, a finding) and writes the
   * NC's state into it: the outbox then tells each delivery whether a newer event of the NC was
   * delivered already (src/delivery-order.ts).
   */
  readonly keepsRecord?: boolean;
  deliver(event: NcEvent, delivery?: Delivery): Promise<void>;
  /**
   * For notifiers that keep tickets (jira): writes a comment on one of them, for a way back that
   * must answer there (the Jira intake telling why a corrective action was refused).
   */
  commentOnTicket?(key: string, text: string): Promise<void>;
}

export interface Delivery {
  /** A newer event of the same NC was delivered before this one: the record holds a newer state. */
  superseded: boolean;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** How long the destination asked to wait (a 429's or 503's Retry-After), in ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/**
 * An event of an NC whose record (ticket, finding) is not made yet. Events of one NC may arrive in
 * any order and only nc.opened makes the record, so that no two are made: the others wait for it.
 */
export function recordNotMadeYet(notifier: string, event: NcEvent, record: string): DeliveryError {
  return new DeliveryError(`${notifier}: ${event.nc.id} has no ${record} yet: ${event.type} waits for nc.opened to create it`, true);
}

/** What a notifier may use besides its config. */
export interface NotifierServices {
  /** The tickets, findings and other records a notifier created for an NC, by NC and notifier. */
  links: TicketLinks;
  clock: Clock;
  logger: Logger;
  /** The Annex A catalogue: control titles for messages. */
  annexA: AnnexA | null;
  /** `ui.baseUrl`: messages link to the NC there when it is set. */
  baseUrl: string | null;
}

export interface NotifierType<Schema extends z.ZodType> {
  type: string;
  schema: Schema;
  create(config: z.output<Schema>, services: NotifierServices): Notifier;
}
