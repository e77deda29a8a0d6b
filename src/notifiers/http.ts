/**
 * One HTTP request to a destination, with the answer sorted the way the outbox needs: delivered,
 * worth retrying (network, timeout, 408, 429, 5xx, honouring Retry-After), or refused for good
 * (any other 4xx: the same request will be refused again).
 */
import { DeliveryError } from './types.js';

export interface DestinationRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON when it is not a string. */
  body?: unknown;
  timeoutMs: number;
  /** The URL's path is a secret (a Slack or Teams webhook URL): errors show only its origin. */
  secretPath?: boolean;
}

export interface DestinationAnswer {
  status: number;
  headers: Headers;
  /** The body as text ('' when there was none). */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * A destination's answer other than 2xx, with what it said: a notifier that knows the destination's
 * error format (a DRF field error, a GraphQL error list) reads it to say what exactly was refused.
 */
export class DestinationRefusal extends DeliveryError {
  constructor(
    message: string,
    retryable: boolean,
    retryAfterMs: number | null,
    readonly status: number,
    readonly text: string,
    readonly json: unknown,
  ) {
    super(message, retryable, retryAfterMs);
    this.name = 'DestinationRefusal';
  }
}

/** How long a Retry-After header asks to wait: seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A short excerpt of what the destination said, for the error a person reads. */
function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/**
 * Sends the request and returns a 2xx answer; anything else throws a DeliveryError that names
 * the notifier, the request and what came back. Credentials in the URL are never shown.
 */
export async function send(notifier: string, request: DestinationRequest): Promise<DestinationAnswer> {
  const method = request.method ?? 'POST';
  const shown = `${method} ${redactUrl(request.url, request.secretPath)}`;
  const json = request.body !== undefined && typeof request.body !== 'string';
  let response: Response;
  try {
    response = await fetch(request.url, {
      method,
      headers: { 'user-agent': 'recurd', ...(json ? { 'content-type': 'application/json' } : {}), ...request.headers },
      body: request.body === undefined ? undefined : json ? JSON.stringify(request.body) : (request.body as string),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    throw new DeliveryError(`${notifier}: ${shown} failed: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new DeliveryError(`${notifier}: ${shown}: the answer broke off: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.ok) return { status: response.status, headers: response.headers, text, json: parsed };
  const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
  const wait = retryable ? retryAfterMs(response.headers.get('retry-after')) : null;
  const said = excerpt(text);
  throw new DestinationRefusal(
    `${notifier}: ${shown} answered ${response.status}${said === '' ? '' : `: ${said}`}${wait === null ? '' : ` (retry after ${Math.ceil(wait / 1000)}s)`}`,
    retryable,
    wait,
    response.status,
    text,
    parsed,
  );
}

/** A URL fit for a log: no user or password, and no path beyond the host for secret-bearing webhook URLs. */
export function redactUrl(url: string, hidePath = false): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    if (hidePath) return `${parsed.origin}/…`;
    parsed.search = parsed.search === '' ? '' : '?…';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}
