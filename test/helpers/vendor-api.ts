/**
 * A vendor's API on loopback, for destinations that cannot run here (Slack, Teams, Jira, Probo,
 * CISO Assistant). Each route checks every request against the shape the vendor documents (a zod
 * schema of its body, and any header rules) and answers as the vendor does, with response bodies
 * taken from the vendor's documentation (test/fixtures). A request that fits no route, or whose
 * body or headers do not fit, is answered 400 or 404 and recorded in `problems`: a test that
 * expects none asserts `problems` is empty.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { z } from 'zod';

export interface VendorRequest {
  method: string;
  path: string;
  /** The `:name` parts of the route's path. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

export interface VendorAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string. */
  body?: unknown;
}

export interface VendorRoute {
  method: string;
  /** A path with `:name` parts, e.g. `/rest/api/3/issue/:key/comment`. */
  path: string;
  /** The request body the vendor documents for this route. */
  body?: z.ZodType;
  /** Other rules (headers, query): a problem in words, or null. */
  check?: (request: VendorRequest) => string | null;
  answer: (request: VendorRequest) => VendorAnswer;
}

export interface VendorApi {
  /** Base URL, without a trailing slash. */
  url: string;
  requests: VendorRequest[];
  problems: string[];
  /** Answers the next requests to `METHOD /path-pattern` with these, in order, before its route's own answer. */
  queue(route: string, ...answers: VendorAnswer[]): void;
  /** The requests that went to `METHOD /path-pattern`. */
  to(route: string): VendorRequest[];
  close(): Promise<void>;
}

function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let index = 0; index < want.length; index += 1) {
    const part = want[index] as string;
    const value = got[index] as string;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return null;
  }
  return params;
}

export async function startVendorApi(vendor: string, routes: VendorRoute[]): Promise<VendorApi> {
  const requests: VendorRequest[] = [];
  const problems: string[] = [];
  const queued = new Map<string, VendorAnswer[]>();
  const routed = new Map<string, VendorRequest[]>();
  const send = (response: ServerResponse, answer: VendorAnswer): void => {
    const json = answer.body !== undefined && typeof answer.body !== 'string';
    response.writeHead(answer.status, { ...(json ? { 'content-type': 'application/json' } : {}), ...answer.headers });
    response.end(answer.body === undefined ? undefined : json ? JSON.stringify(answer.body) : (answer.body as string));
  };
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://vendor.invalid');
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      const base = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, text, json };
      for (const route of routes) {
        if (route.method !== base.method) continue;
        const params = matchPath(route.path, base.path);
        if (params === null) continue;
        const request: VendorRequest = { ...base, params };
        requests.push(request);
        const key = `${route.method} ${route.path}`;
        routed.set(key, [...(routed.get(key) ?? []), request]);
        const parsed = route.body?.safeParse(json);
        const problem = parsed && !parsed.success ? `${key}: the body does not fit ${vendor}'s documented shape: ${parsed.error.message}` : route.check?.(request);
        if (problem) {
          problems.push(problem);
          send(response, { status: 400, body: { error: problem } });
          return;
        }
        const next = queued.get(key)?.shift();
        send(response, next ?? route.answer(request));
        return;
      }
      requests.push({ ...base, params: {} });
      problems.push(`${base.method} ${base.path}: no such ${vendor} endpoint`);
      send(response, { status: 404, body: { error: 'not found' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    problems,
    queue: (route, ...answers) => queued.set(route, [...(queued.get(route) ?? []), ...answers]),
    to: (route) => routed.get(route) ?? [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
