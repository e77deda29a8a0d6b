/**
 * POSTs each NC event as JSON, signed so the receiver can trust it:
 * `X-Recurd-Signature: sha256=HEX(HMAC-SHA256(secret, "<timestamp>.<body>"))`, with the timestamp
 * in `X-Recurd-Timestamp` so that a captured request cannot be replayed later unnoticed.
 * `X-Recurd-Event-Id` stays the same across redeliveries: receivers deduplicate on it.
 */
import { createHmac } from 'node:crypto';
import type { NotifierConfig } from '../config/schema.js';
import type { NcEvent } from '../core/types.js';
import { ncView } from '../present.js';
import { DeliveryError, type Notifier } from './types.js';

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The JSON a receiver gets. */
export function eventBody(event: NcEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, at: new Date(event.at).toISOString(), nonconformity: ncView(event.nc) });
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  readonly attempts: number;
  readonly backoffMs: number;

  constructor(private readonly config: NotifierConfig) {
    this.name = config.name;
    this.attempts = config.attempts;
    this.backoffMs = config.backoff;
  }

  wants(type: NcEvent['type']): boolean {
    return this.config.events === undefined || this.config.events.includes(type);
  }

  async deliver(event: NcEvent): Promise<void> {
    const body = eventBody(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    let response: Response;
    try {
      response = await fetch(this.config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'recurd',
          'x-recurd-event': event.type,
          'x-recurd-event-id': event.id,
          'x-recurd-timestamp': timestamp,
          'x-recurd-signature': signature(this.config.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (error) {
      throw new DeliveryError(`${this.name}: POST ${this.config.url} failed: ${error instanceof Error ? error.message : String(error)}`, true);
    }
    await response.body?.cancel();
    if (response.ok) return;
    // A 4xx other than timeout or rate limit will not change by retrying: the request itself is refused.
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new DeliveryError(`${this.name}: POST ${this.config.url} answered ${response.status}`, retryable);
  }
}
