/** A notifier delivers NC events somewhere; a failure says whether retrying can help. */
import type { NcEvent } from '../core/types.js';

export interface Notifier {
  readonly name: string;
  /** Attempts and first backoff for the outbox job of each event. */
  readonly attempts: number;
  readonly backoffMs: number;
  wants(type: NcEvent['type']): boolean;
  deliver(event: NcEvent): Promise<void>;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
