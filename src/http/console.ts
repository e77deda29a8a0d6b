/**
 * The web console at /ui/: the files `npm run build` writes to dist/ui (ui/ in the sources),
 * served from memory. Read once at start, so a request can only ever get one of those files:
 * nothing in a URL reaches the file system.
 *
 * The console holds no data of its own and no credential: it calls /api/v1 with the API token the
 * person signs in with (Authorization: Bearer, kept in the tab's sessionStorage), so the API's
 * own checks decide everything. With no cookie, a page elsewhere cannot make the browser send a
 * credential: there is nothing to forge across sites (CSRF).
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles, images and API calls
 * from this origin only, no inline script or style, no framing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { operationConfig, operations } from './operations.js';

export const CONSOLE_PATH = '/ui/';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // For browsers that predate frame-ancestors.
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface ConsoleFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Named by its content's hash (assets/): it never changes, so browsers keep it. */
  immutable: boolean;
}

/**
 * dist/ui of this installation: two folders above dist/src/http once built, and the package's
 * dist/ui when run from the sources (tests), which `npm run build` writes.
 */
export function consoleDirectory(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('recurd: no package.json above its own code: the installation is incomplete');
    folder = parent;
  }
  return join(folder, 'dist', 'ui');
}

function readTree(root: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const name = relative(root, path).split(sep).join('/');
        const body = readFileSync(path);
        files.set(name, {
          body,
          type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          immutable: name.startsWith('assets/'),
        });
      }
    }
  };
  walk(root);
  return files;
}

export interface ConsoleOptions {
  /** Where the built console is; dist/ui of this installation unless given. */
  directory?: string;
}

/** Registers GET /ui and /ui/*; one line in server.ts. */
export function consoleRoutes(app: FastifyInstance, options: ConsoleOptions, done: (error?: Error) => void): void {
  const directory = options.directory ?? consoleDirectory();
  const files = existsSync(join(directory, 'index.html')) ? readTree(directory) : null;
  if (files === null) app.log.warn({ directory }, 'the web console is not built (no index.html): /ui/ answers 404 until `npm run build` has run');

  const send = (request: FastifyRequest, reply: FastifyReply, file: ConsoleFile, status = 200): FastifyReply => {
    reply.headers(SECURITY_HEADERS).header('etag', file.etag).header('content-type', file.type);
    // The page itself is revalidated each time, so that a new version's assets are picked up at once.
    reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (status === 200 && request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.code(status).send(file.body);
  };

  const notBuilt = (reply: FastifyReply): FastifyReply =>
    reply
      .headers(SECURITY_HEADERS)
      .code(404)
      .header('content-type', 'text/plain; charset=utf-8')
      .send('The recurd web console is not built in this installation: run `npm run build`.\n');

  app.get('/ui', { config: operationConfig(operations.consoleRoot) }, (_request, reply) => reply.headers(SECURITY_HEADERS).redirect(CONSOLE_PATH, 308));

  app.get('/ui/*', { config: operationConfig(operations.consolePage) }, (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    if (files === null) return notBuilt(reply);
    const name = request.params['*'];
    const file = files.get(name);
    if (file !== undefined) return send(request, reply, file);
    // A missing asset is a 404: the page it would fall back to is no script or style sheet.
    if (name.startsWith('assets/') || extname(name) !== '') {
      return reply.headers(SECURITY_HEADERS).code(404).header('content-type', 'text/plain; charset=utf-8').send(`no such file in the console: ${name}\n`);
    }
    // Every other path is a view of the console (/ui/nc/NC-2026-0042): the page routes it.
    return send(request, reply, files.get('index.html') as ConsoleFile);
  });
  done();
}
