/**
 * A private redis-server on a free loopback port (per test suite or bench run), a random key
 * prefix per test, and a way to drop a prefix's keys. Here rather than under test/ because the
 * bench scripts run it outside vitest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { requireProgram } from './installed.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** A client for assertions; closed by stop(). */
  client: Redis;
  stop(): Promise<void>;
  /** Restart on the same port and directory (with appendOnly, the data comes back). */
  restart(): Promise<void>;
  /** Stop the server, leaving its port and directory for resume(): an outage. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** Suspend the server (SIGSTOP): connections stay open and nothing answers, as with a hung host. */
  freeze(): void;
  /** Let a frozen server go on (SIGCONT). */
  thaw(): void;
}

/**
 * `password` runs it with --requirepass; the url and the assertion client then carry it.
 * `fsyncAlways` makes the append-only file fsync each write, so that an acknowledged write
 * survives a kill of Redis too.
 */
export async function startRedis(options: { appendOnly?: boolean; fsyncAlways?: boolean; password?: string } = {}): Promise<TestRedis> {
  const binary = requireProgram('redis-server', 'redis-server');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'recurd-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no',
    '--maxmemory-policy', 'noeviction', '--dir', dir,
    ...(options.fsyncAlways ? ['--appendfsync', 'always'] : []),
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
  ];
  let child: ChildProcess = await launch(binary, args, port);
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 3, password: options.password });
  // The assertion client reconnects by itself across halt() and restart(); its errors meanwhile are expected.
  client.on('error', () => undefined);
  await client.connect();
  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // A frozen server would take the SIGTERM only once it goes on.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    url: options.password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    dir,
    client,
    async stop() {
      client.disconnect();
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopChild();
      child = await launch(binary, args, port);
    },
    halt: stopChild,
    async resume() {
      child = await launch(binary, args, port);
    },
    freeze() {
      child.kill('SIGSTOP');
    },
    thaw() {
      child.kill('SIGCONT');
    },
  };
}

async function launch(binary: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${output}`);
    if (/Ready to accept connections/.test(output)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not start within 10s: ${output}`);
}

/** A key prefix with a hash tag, unique to one test. */
export function testPrefix(): string {
  return `{t${randomBytes(6).toString('hex')}}`;
}

/** Delete every key under a prefix; returns how many there were. */
export async function dropPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[{}[\]*?\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) count += await client.del(...keys);
  } while (cursor !== '0');
  return count;
}
