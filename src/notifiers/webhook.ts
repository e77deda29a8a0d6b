/**
 * POSTs each NC event as JSON, signed so the receiver can trust it:
 * `X-Recurd-Signature: sha256=HEX(HMAC-SHA256(secret, "<timestamp>.<body>"))`, with the timestamp
 * in `X-Recurd-Timestamp` so that a captured request cannot be replayed later unnoticed.
 * `X-Recurd-Event-Id` stays the same across redeliveries: receivers deduplicate on it.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { secret } from '../config/fields.js';
import type { NcEvent } from '../core/types.js';
import { ncView } from '../present.js';
import { notifierBase, notifierFrom } from './base.js';
import { send } from './http.js';
import type { NotifierType } from './types.js';

export function signature(secretKey: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secretKey).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The JSON a receiver gets. */
export function eventBody(event: NcEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, at: new Date(event.at).toISOString(), nonconformity: ncView(event.nc) });
}

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }).describe('where each NC event is POSTed as JSON'),
    secret: secret.describe('HMAC-SHA256 key for the X-Recurd-Signature header'),
  })
  .strict();

export const webhookNotifier: NotifierType<typeof schema> = {
  type: 'webhook',
  schema,
  create(config) {
    return {
      ...notifierFrom(config),
      async deliver(event) {
        const body = eventBody(event);
        const timestamp = String(Math.floor(Date.now() / 1000));
        await send(config.name, {
          url: config.url,
          headers: {
            'content-type': 'application/json',
            'x-recurd-event': event.type,
            'x-recurd-event-id': event.id,
            'x-recurd-timestamp': timestamp,
            'x-recurd-signature': signature(config.secret, timestamp, body),
          },
          body,
          timeoutMs: config.timeout,
        });
      },
    };
  },
};
