/**
 * The console's one way to the daemon: /api/v1 with `Authorization: Bearer <token>`, as every
 * other client calls it. The token lives in this tab's sessionStorage only: it goes when the tab
 * closes, and no cookie ever carries it, so no other site can make the browser use it.
 */
import type { Role } from './words.js';

const TOKEN_KEY = 'recurd.console.token';

export interface Identity {
  name: string;
  role: Role;
}

/** The API's refusal as it sent it: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function keepToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized: (error: ApiError) => void = () => undefined;

/** What to do when the API no longer takes the token (it was removed from the config): sign in again. */
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown }; message?: string };
    if (body.error?.code !== undefined) return new ApiError(response.status, body.error.code, body.error.message ?? '', body.error.details ?? null);
    // Fastify's own answer, for a route this daemon does not have.
    return new ApiError(response.status, `HTTP ${response.status}`, body.message ?? response.statusText, null);
  } catch {
    return new ApiError(response.status, `HTTP ${response.status}`, text.trim() || response.statusText, null);
  }
}

/** Calls the API; a refusal throws its ApiError. */
export async function request(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Response> {
  const token = init.token ?? storedToken() ?? '';
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `recurd did not answer: ${(error as Error).message}`, null);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && init.token === undefined) onUnauthorized(error);
    throw error;
  }
  return response;
}

export async function getJson<T>(path: string, token?: string): Promise<T> {
  return (await (await request(path, token === undefined ? {} : { token })).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await request(path, { method: 'POST', body })).json()) as T;
}

/** A query string of the values given, leaving out the empty ones. */
export function query(values: Record<string, string | number | boolean | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '' && value !== false) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** GET /readyz with the token: 200 or 503, and with a token its connectors and notifiers either way. */
export async function readiness<T>(): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/readyz', { headers: { authorization: `Bearer ${storedToken() ?? ''}` }, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `recurd did not answer: ${(error as Error).message}`, null);
  }
  if (response.status !== 200 && response.status !== 503) throw await errorOf(response);
  return (await response.json()) as T;
}
