/**
 * The compiled CLI (dist/src/cli.js, built by test/global-setup.ts) run as a child process, the way
 * an admin or a service manager runs it: exit statuses, messages, Redis checks, signals, logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/core/clock.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import type { ReceivedAlert } from '../src/core/types.js';
import { Engine } from '../src/engine.js';
import { RedisRegister } from '../src/store/redis-register.js';
import { eventually } from './helpers/daemon.js';
import { rewriteTimeline } from './helpers/timeline-store.js';
import { dropPrefix, freePort, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const EXAMPLE = join(ROOT, 'config/recurd.example.yaml');

const API_TOKEN = 'cli-api-token-7f3a91';
const WEBHOOK_TOKEN = 'cli-webhook-token-c28e04';
const REDIS_PASSWORD = 'cli-redis-password-5d6b1e';

const fixture = readFileSync(new URL('./fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8')
  .trim()
  .split('\n');
const firingBody = fixture[0] as string;

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const running = new Set<CliProcess>();

/** One `node dist/src/cli.js …` with an environment of PATH and exactly the variables given. */
class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly startedAt = Date.now();
  private readonly closed: Promise<Finished>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    // 'close' rather than 'exit': it comes after the pipes are drained, so the output is complete.
    this.closed = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        running.delete(this);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, ms: Date.now() - this.startedAt });
      });
    });
  }

  /** Resolves when the process has ended; kills it and fails if that takes longer than `timeoutMs`. */
  async finished(timeoutMs = 15_000): Promise<Finished> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`recurd did not exit within ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The JSON log lines on stdout; a line that is not JSON fails the test, since logs are JSON. */
  logs(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** The first log line with this message; fails at once if the process ends without it. */
  async waitForLog(msg: string | RegExp, timeoutMs = 15_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs().find((line) => (typeof msg === 'string' ? line.msg === msg : msg.test(line.msg)));
      if (found !== undefined) return found;
      const why = this.child.exitCode !== null ? `recurd exited (${this.child.exitCode})` : Date.now() > deadline ? `${timeoutMs} ms passed` : null;
      if (why !== null) throw new Error(`${why} before logging ${String(msg)}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<Finished> {
  return new CliProcess(args, env).finished(timeoutMs);
}

/** The variables config/recurd.example.yaml needs to run. */
function exampleEnv(redisUrl = 'redis://127.0.0.1:6379'): Record<string, string> {
  return { REDIS_URL: redisUrl, RECURD_PORT: '8080', RECURD_API_TOKEN: API_TOKEN, RECURD_WEBHOOK_TOKEN: WEBHOOK_TOKEN };
}

async function totalConnections(redis: TestRedis): Promise<number> {
  const stats = await redis.client.info('stats');
  return Number(/^total_connections_received:(\d+)/m.exec(stats)?.[1]);
}

function hook(port: number, body: string, token = WEBHOOK_TOKEN): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/hooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
    signal: AbortSignal.timeout(5000),
  });
}

/** The fixture's firing notification, moved to another asset and to now: another symptom, and another alert id. */
function firingOn(asset: string): string {
  const body = JSON.parse(firingBody) as { alerts: Array<{ labels: Record<string, string>; fingerprint: string; startsAt: string }> };
  for (const alert of body.alerts) {
    alert.labels.instance = asset;
    // Started now: the recorded time is older than maxLateness, and a late observation decides nothing.
    alert.startsAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // Alertmanager's fingerprint hashes the labels, so a changed label changes it (and recurd's alert id).
    alert.fingerprint = createHash('sha256').update(asset).digest('hex').slice(0, 16);
  }
  return JSON.stringify(body);
}

describe('recurd CLI', () => {
  let redis: TestRedis;
  let dir: string;
  let prefix: string;

  /** A config for this test's prefix; secrets come from the environment, as the example config advises. */
  function writeConfig(port = 8080, extra: string[] = []): string {
    const file = join(dir, `${prefix.replace(/[{}]/g, '')}.yaml`);
    writeFileSync(
      file,
      [
        'redis:',
        '  url: ${REDIS_URL}',
        `  keyPrefix: '${prefix}'`,
        'http:',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        'api:',
        '  token: ${RECURD_API_TOKEN}',
        'log:',
        '  level: ${RECURD_LOG_LEVEL:-info}',
        'connectors:',
        '  - name: alertmanager',
        '    type: alertmanager',
        '    family: backup',
        '    control: A.8.13',
        '    auth:',
        '      type: bearer',
        '      token: ${RECURD_WEBHOOK_TOKEN}',
        ...extra,
        '',
      ].join('\n'),
    );
    return file;
  }

  function daemonEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
    return { REDIS_URL: redisUrl, RECURD_API_TOKEN: API_TOKEN, RECURD_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ...extra };
  }

  /** A daemon on a free port of the suite's Redis, once it answers /readyz with 200. */
  async function startDaemonProcess(extra: Record<string, string> = {}, redisUrl = redis.url): Promise<{ daemon: CliProcess; port: number }> {
    const port = await freePort();
    const daemon = new CliProcess(['start', '--config', writeConfig(port)], daemonEnv(redisUrl, extra));
    await daemon.waitForLog('recurd started');
    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200 ? true : undefined),
      10_000,
      '/readyz 200',
    );
    return { daemon, port };
  }

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'recurd-cli-'));
  });
  afterEach(async () => {
    // A test that failed half-way must not leave a daemon behind; only ours are in the set.
    await Promise.all(
      [...running].map((started) => {
        started.child.kill('SIGKILL');
        return started.finished(5000);
      }),
    );
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('validate', () => {
    it('says OK for the example config with its four variables set', async () => {
      prefix = testPrefix();
      const result = await run(['validate', EXAMPLE], exampleEnv());
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/recurd\.example\.yaml: OK \(2 connector\(s\), 0 notifier\(s\)\)/);
      expect(result.code).toBe(0);
    });

    it('names the unset variable and the YAML path that needs it', async () => {
      prefix = testPrefix();
      const env = exampleEnv();
      delete env.RECURD_API_TOKEN;
      const result = await run(['validate', EXAMPLE], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/api\.token \(line \d+\): environment variable RECURD_API_TOKEN is not set/);
      expect(result.stdout).not.toContain('OK');
    });

    it('reports every problem as `path (line N): message`', async () => {
      prefix = testPrefix();
      const file = join(dir, 'bad.yaml');
      writeFileSync(
        file,
        ['redis:', '  url: redis://127.0.0.1:6379', 'api:', '  token: t', 'policy:', '  window: 30 days', '  resolveAfter: 7d', '  colour: blue', ''].join('\n'),
      );
      const result = await run(['validate', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toMatch(/policy\.window \(line 6\): "30 days" is not a duration/);
      expect(result.stderr).toContain('policy.colour (line 8): unknown key');
      expect(result.stdout).toBe('');
    });

    it('names a file that does not exist', async () => {
      prefix = testPrefix();
      const missing = join(dir, 'nowhere', 'recurd.yaml');
      const result = await run(['validate', missing]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(missing);
      expect(result.stderr).toMatch(/cannot read the file: no such file or directory \(ENOENT\)/);
    });

    it('exits 2 on wrong usage', async () => {
      prefix = testPrefix();
      const unknown = await run(['frobnicate']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command "frobnicate"');
      expect((await run(['validate', '--nope'])).code).toBe(2);
      expect((await run([])).code).toBe(2);
    });

    it('lists the outbox with nothing failed, and refuses a notifier the config does not have before connecting', async () => {
      prefix = testPrefix();
      const env = daemonEnv(redis.url);
      const listed = await run(['outbox', 'list', '--json', '--config', writeConfig()], env);
      expect(listed.stderr).toBe('');
      expect(JSON.parse(listed.stdout)).toEqual({ deliveries: [], count: 0 });
      const before = await totalConnections(redis);
      const unknown = await run(['outbox', 'retry', 'all', '--notifier', 'pager', '--config', writeConfig()], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('--notifier pager: the config has no such notifier (none)');
      expect(await totalConnections(redis)).toBe(before);
      const missing = await run(['outbox', 'drop', '--config', writeConfig()], env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('recurd outbox drop needs a delivery id (recurd outbox list) or all');
    });
  });

  describe('start', () => {
    it('exits 2 on an invalid config without ever connecting to Redis', async () => {
      prefix = testPrefix();
      const file = join(dir, 'invalid-start.yaml');
      // A valid Redis URL that is reachable: only the order of checks keeps recurd away from it.
      writeFileSync(file, ['redis:', `  url: ${redis.url}`, 'api:', '  token: t', 'pipeline:', '  shutdownTimeout: soon', ''].join('\n'));
      const before = await totalConnections(redis);
      const result = await run(['start', '--config', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/pipeline\.shutdownTimeout \(line 6\): "soon" is not a duration/);
      expect(await totalConnections(redis)).toBe(before);
    });

    it('exits 1 quickly when Redis is unreachable, naming the address with its password masked', async () => {
      prefix = testPrefix();
      const port = await freePort();
      const result = await run(['start', '--config', writeConfig()], daemonEnv(`redis://:secretpw@127.0.0.1:${port}`));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('RECURD_ERR_REDIS_UNREACHABLE');
      expect(result.stderr).toContain(`redis://:***@127.0.0.1:${port}`);
      // The reason, not ioredis's "Connection is closed.", and no stray unhandled-error noise.
      expect(result.stderr).toContain('ECONNREFUSED');
      expect(result.stderr).not.toContain('Unhandled error event');
      expect(`${result.stdout}${result.stderr}`).not.toContain('secretpw');
      // It gives up instead of retrying forever; the bound leaves room for a busy machine.
      expect(result.ms).toBeLessThan(20_000);
    });

    it('exits 1 when something listens on the Redis port but never answers', async () => {
      prefix = testPrefix();
      // A black hole: accepts TCP connections and says nothing, like a hung or firewalled Redis.
      const sockets = new Set<Socket>();
      const server: Server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      try {
        const result = await run(['start', '--config', writeConfig()], daemonEnv(`redis://127.0.0.1:${port}`), 20_000);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('RECURD_ERR_REDIS_UNREACHABLE');
        expect(result.stderr).toContain(`127.0.0.1:${port}`);
        expect(result.stderr).toMatch(/no answer within \d+ ms/);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    }, 30_000);

    it('refuses a Redis that may evict keys, before writing anything to it', async () => {
      prefix = testPrefix();
      const evicting = await startRedis();
      try {
        await evicting.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const result = await run(['start', '--config', writeConfig(await freePort())], daemonEnv(evicting.url));
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('RECURD_ERR_REDIS_MISCONFIGURED');
        expect(result.stderr).toContain('"allkeys-lru"');
        expect(result.stderr).toContain('noeviction');
        expect(await evicting.client.dbsize()).toBe(0);
      } finally {
        await evicting.stop();
      }
    });

    it('starts on a Redis without persistence with a warning, and stops on SIGINT with status 0', async () => {
      prefix = testPrefix();
      const { daemon } = await startDaemonProcess();
      const warning = daemon.logs().find((line) => line.level === 40 && /persistence is off/.test(line.msg));
      expect(warning, daemon.stdout).toBeDefined();
      expect(daemon.child.kill('SIGINT')).toBe(true);
      const result = await daemon.finished(15_000);
      expect(result).toMatchObject({ code: 0, signal: null });
      expect(daemon.logs().find((line) => line.msg === 'recurd stopped')).toBeDefined();
      expect(daemon.logs().find((line) => /^stopping/.test(line.msg))).toMatchObject({ signal: 'SIGINT' });
      expect(result.stderr).toBe('');
    });

    it('on SIGTERM finishes the batches it is deciding, loses none it accepted, and exits 0', async () => {
      prefix = testPrefix();
      const { daemon, port } = await startDaemonProcess();
      const assets = Array.from({ length: 40 }, (_, index) => `srv-drain-${index}`);
      // In parallel, so that the signal lands while batches are queued and being decided.
      const responses = await Promise.all(assets.map((asset) => hook(port, firingOn(asset))));
      expect(responses.map((response) => response.status)).toEqual(assets.map(() => 202));
      daemon.child.kill('SIGTERM');
      const result = await daemon.finished(20_000);
      expect(result, result.stderr).toMatchObject({ code: 0, signal: null });
      expect(daemon.logs().find((line) => /^stopping/.test(line.msg))).toMatchObject({ signal: 'SIGTERM' });
      expect(daemon.logs().at(-1)?.msg).toBe('recurd stopped');

      const ingest = new Queue('ingest', { connection: redis.client, prefix });
      const decided = async (): Promise<number> => (await redis.client.keys(`${prefix}:sym:*`)).length;
      try {
        // Nothing was abandoned half-decided or failed; what was not started is still queued.
        const counts = await ingest.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
        expect(counts).toMatchObject({ active: 0, delayed: 0, failed: 0 });
        expect(daemon.logs().filter((line) => line.level >= 50)).toEqual([]);
        expect((await decided()) + (counts.waiting ?? 0) + (counts.prioritized ?? 0)).toBe(assets.length);

        // The next daemon decides whatever the last one left queued.
        const next = await startDaemonProcess();
        await eventually(async () => ((await decided()) === assets.length ? true : undefined), 15_000, 'every accepted alert to be decided');
        // A batch's decision is stored just before BullMQ marks its job completed.
        await eventually(async () => {
          const counts = await ingest.getJobCounts('waiting', 'active', 'failed');
          return counts.waiting === 0 && counts.active === 0 ? counts : undefined;
        }, 15_000, 'the queue to be empty');
        expect((await ingest.getJobCounts('failed')).failed).toBe(0);
        next.daemon.child.kill('SIGTERM');
        expect((await next.daemon.finished(20_000)).code).toBe(0);
      } finally {
        await ingest.close();
      }
    }, 60_000);

    it('keeps tokens and the Redis password out of its output, even at debug level and on Redis auth errors', async () => {
      prefix = testPrefix();
      const secured = await startRedis({ password: REDIS_PASSWORD });
      try {
        const { daemon, port } = await startDaemonProcess({ RECURD_LOG_LEVEL: 'debug' }, secured.url);
        expect((await hook(port, firingOn('srv-redact'))).status).toBe(202);
        expect((await hook(port, firingOn('srv-redact'), `${WEBHOOK_TOKEN}-wrong`)).status).toBe(401);
        const api = (token: string): Promise<Response> =>
          fetch(`http://127.0.0.1:${port}/api/v1/nonconformities`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
        expect((await api(API_TOKEN)).status).toBe(200);
        expect((await api(`${API_TOKEN}x`)).status).toBe(401);
        await eventually(async () => ((await secured.client.keys(`${prefix}:sym:*`)).length === 1 ? true : undefined), 10_000, 'the alert to be decided');

        // The password is rotated under a running daemon: its reconnections fail AUTH, and ioredis
        // puts the failed command, password included, on the error it reports.
        await secured.client.config('SET', 'requirepass', `${REDIS_PASSWORD}-rotated`);
        await secured.client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        expect(await daemon.waitForLog(/^Redis connection lost/)).toMatchObject({ level: 50 });
        await eventually(async () => (/errorstat_WRONGPASS/.test(await secured.client.info('errorstats')) ? true : undefined), 15_000, 'a refused reconnection');
        await secured.client.config('SET', 'requirepass', REDIS_PASSWORD);
        await eventually(
          async () => ((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) })).status === 200 ? true : undefined),
          15_000,
          '/readyz 200 after the password is restored',
        );
        // The refused reconnections were counted, and the first one named, without the password.
        expect(await daemon.waitForLog('Redis connection restored')).toMatchObject({ firstError: expect.stringContaining('WRONGPASS') as unknown });

        // And it still decides what comes in.
        expect((await hook(port, firingOn('srv-redact-after'))).status).toBe(202);
        await eventually(async () => ((await secured.client.keys(`${prefix}:sym:*`)).length === 2 ? true : undefined), 20_000, 'the alert after the rotation to be decided');
        daemon.child.kill('SIGTERM');
        // Past its shutdownTimeout (30 s) the daemon exits 1 and logs what it was waiting for.
        const result = await daemon.finished(40_000);
        expect(result.code, `${result.stderr}\n${result.stdout.slice(-4000)}`).toBe(0);
        for (const secret of [API_TOKEN, WEBHOOK_TOKEN, REDIS_PASSWORD]) {
          expect(result.stdout).not.toContain(secret);
          expect(result.stderr).not.toContain(secret);
        }
      } finally {
        await dropPrefix(secured.client, prefix);
        await secured.stop();
      }
    }, 90_000);
  });

  describe('start after another daemon was killed with -9', () => {
    it('takes up the batches the dead daemon held within pipeline.stalledAfter, and says so', async () => {
      prefix = testPrefix();
      const stalledAfter = ['pipeline:', '  stalledAfter: 4s', '  detectConcurrency: 4'];
      const first = new CliProcess(['start', '--config', writeConfig(await freePort(), stalledAfter)], daemonEnv(redis.url));
      await first.waitForLog('recurd started');
      const port = Number(/:(\d+)$/.exec(String(first.logs().find((line) => line.msg === 'recurd started')?.address))?.[1]);
      const ingest = new Queue('ingest', { connection: redis.client, prefix });
      try {
        // Bodies of many alerts each, so that batches are still being decided when the daemon dies.
        const body = (index: number): string => {
          const parsed = JSON.parse(firingOn(`srv-stall-${index}`)) as { alerts: Array<Record<string, unknown> & { labels: Record<string, string> }> };
          const template = parsed.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
          parsed.alerts = Array.from({ length: 50 }, (_, n) => ({ ...template, labels: { ...template.labels, instance: `srv-stall-${index}-${n}` }, fingerprint: `${index}-${n}` }));
          return JSON.stringify(parsed);
        };
        // A request cut off by the kill has no answer: 0, not an unhandled rejection.
        const posted = Array.from({ length: 40 }, (_, index) =>
          hook(port, body(index)).then(
            (response) => response.status,
            () => 0,
          ),
        );
        await eventually(async () => (((await ingest.getJobCounts('active')).active ?? 0) > 0 ? true : undefined), 10_000, 'a batch being decided');
        first.child.kill('SIGKILL');
        await first.finished();
        const accepted = (await Promise.all(posted)).filter((status) => status === 202).length;
        const held = (await ingest.getJobCounts('active')).active ?? 0;
        expect(held).toBeGreaterThan(0);

        const killedAt = Date.now();
        const second = new CliProcess(['start', '--config', writeConfig(await freePort(), stalledAfter)], daemonEnv(redis.url));
        await second.waitForLog(/^took up a job whose worker stopped answering/, 15_000);
        const decided = async (): Promise<number> => (await redis.client.keys(`${prefix}:sym:*`)).length;
        await eventually(async () => ((await decided()) >= accepted * 50 ? true : undefined), 15_000, 'every accepted alert decided');
        expect(Date.now() - killedAt).toBeLessThan(4000 + 6000);
        expect((await ingest.getJobCounts('failed')).failed).toBe(0);
        second.child.kill('SIGTERM');
        expect((await second.finished(20_000)).code).toBe(0);
      } finally {
        await ingest.close();
      }
    }, 60_000);
  });

  describe('start with pipeline.processes', () => {
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const sample = (metrics: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);

    it('runs that many daemons on one port, sums their metrics in every scrape, replaces one that dies, and stops them all on SIGTERM', async () => {
      prefix = testPrefix();
      const port = await freePort();
      const daemon = new CliProcess(['start', '--config', writeConfig(port, ['pipeline:', '  processes: 2'])], daemonEnv(redis.url));
      await daemon.waitForLog('all daemon processes running');
      const pids = (): number[] => [...new Set(daemon.logs().filter((line) => line.msg === 'recurd started').map((line) => line.process as number))];
      expect(pids()).toHaveLength(2);

      const assets = Array.from({ length: 40 }, (_, index) => `srv-cluster-${index}`);
      const responses = await Promise.all(assets.map((asset) => hook(port, firingOn(asset))));
      expect(responses.map((response) => response.status)).toEqual(assets.map(() => 202));
      const perBody = (JSON.parse(firingBody) as { alerts: unknown[] }).alerts.length;
      await eventually(async () => ((await redis.client.keys(`${prefix}:sym:*`)).length === assets.length ? true : undefined), 15_000, 'every alert decided');
      // Requests went to both processes; each scrape, whichever answers, counts them all, and a
      // gauge read from Redis is taken once, not added up.
      for (let scrape = 0; scrape < 4; scrape += 1) {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(sample(metrics, 'recurd_alerts_received_total\\{source="alertmanager",family="backup",status="firing"\\}')).toBe(assets.length * perBody);
        expect(Math.abs(sample(metrics, 'recurd_connector_last_success_timestamp_seconds\\{connector="alertmanager"\\}') - Date.now() / 1000)).toBeLessThan(60);
      }

      const [killed, kept] = pids() as [number, number];
      process.kill(killed, 'SIGKILL');
      await daemon.waitForLog(/^a daemon process exited on SIGKILL; starting another$/);
      await eventually(() => Promise.resolve(pids().length === 3 ? true : undefined), 15_000, 'a replacement process');
      expect((await hook(port, firingOn('srv-cluster-after'))).status).toBe(202);

      daemon.child.kill('SIGTERM');
      const result = await daemon.finished(20_000);
      expect(result, result.stderr).toMatchObject({ code: 0, signal: null });
      expect(daemon.logs().filter((line) => line.msg === 'recurd stopped')).toHaveLength(2);
      expect(alive(kept)).toBe(false);
      expect(pids().some(alive)).toBe(false);
    }, 60_000);

    it('exits 1 with the reason when its processes cannot start, instead of starting them again and again', async () => {
      prefix = testPrefix();
      const port = await freePort();
      const result = await run(['start', '--config', writeConfig(await freePort(), ['pipeline:', '  processes: 2'])], daemonEnv(`redis://127.0.0.1:${port}`), 30_000);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('RECURD_ERR_REDIS_UNREACHABLE');
      expect(result.stdout).toMatch(/a daemon process exited with status 1 while starting; stopping/);
    }, 40_000);
  });

  describe('nc', () => {
    const DAY = 86_400_000;

    /** fire, resolve, fire again inside the default 30-day window: one open NC, made by the real engine. */
    async function raiseNc(): Promise<string> {
      const now = Date.now();
      const alert = (id: string, status: ReceivedAlert['status'], at: number): ReceivedAlert => ({
        id,
        source: 'alertmanager',
        family: 'backup',
        status,
        observedAt: at,
        receivedAt: at,
        asset: 'srv-db-01',
        check: 'BackupJobFailed',
        message: 'nightly backup of srv-db-01 failed',
        severity: 'critical',
        control: 'A.8.13',
        labels: {},
        evidence: {},
      });
      const register = new RedisRegister(redis.client, prefix, 35 * DAY);
      const engine = new Engine({ register, policy: DEFAULT_POLICY, clock: systemClock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
      const result = await engine.ingest([alert('a', 'firing', now - 3 * DAY), alert('b', 'resolved', now - 2 * DAY), alert('c', 'firing', now - DAY)]);
      const [id] = [...result.created.values()];
      expect(id).toMatch(/^NC-\d{4}-\d{4}$/);
      return id as string;
    }

    function nc(args: string[]): Promise<Finished> {
      return run(['nc', ...args, '--config', writeConfig()], daemonEnv(redis.url));
    }

    interface NcJson {
      id: string;
      state: string;
      occurrences: number;
      correctiveAction: { action: string; owner: string; rootCause: string | null } | null;
      timeline?: Array<{ type: string }>;
    }

    it('lists, shows and fixes an NC, and refuses what it must', async () => {
      prefix = testPrefix();
      const id = await raiseNc();

      const table = await nc(['list']);
      expect(table.code).toBe(0);
      const [header, row, ...more] = table.stdout.trim().split('\n');
      expect(header).toMatch(/^ID\s+STATE\s+FAMILY\s+CONTROL\s+REOPENED\s+OCCURRENCES\s+OPENED\s+TITLE$/);
      expect(row).toMatch(new RegExp(`^${id}\\s+open\\s+backup\\s+A\\.8\\.13\\s+0\\s+2\\s+\\S+\\s+nightly backup of srv-db-01 failed$`));
      expect(more).toEqual([]);

      const listed = await nc(['list', '--json']);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toMatchObject({ nonconformities: [{ id, state: 'open', occurrences: 2, family: 'backup', control: 'A.8.13' }], count: 1, nextCursor: null });

      const bogus = await nc(['list', '--state', 'bogus']);
      expect(bogus.code).toBe(2);
      expect(bogus.stderr).toContain('--state must be one of open, verifying, reopened, closed');

      const shown = await nc(['show', id]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
      expect(shown.stdout).toMatch(/^state\s+open$/m);
      expect(shown.stdout).toMatch(/^timeline:\n {2}\S+Z {2}raised /m);

      const shownJson = await nc(['show', id, '--json']);
      expect(shownJson.code).toBe(0);
      const view = JSON.parse(shownJson.stdout) as NcJson;
      expect(view).toMatchObject({ id, state: 'open', correctiveAction: null });
      expect(view.timeline?.map((entry) => entry.type)).toEqual(['raised']);

      const missing = await nc(['show', 'NC-2099-0001']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('RECURD_ERR_NC_NOT_FOUND');
      expect(missing.stderr).toContain('NC-2099-0001');

      const noOwner = await nc(['fix', id, '--action', 'rotate the backup repository key']);
      expect(noOwner.code).toBe(2);
      expect(noOwner.stderr).toContain('--owner');

      const fixed = await nc(['fix', id, '--action', 'recreate the restic repository and monitor its init', '--owner', 'backup-team', '--root-cause', 'repository deleted by a cleanup job']);
      expect(fixed.stderr).toBe('');
      expect(fixed.code).toBe(0);
      expect(fixed.stdout).toMatch(new RegExp(`^${id} is verifying; its effectiveness window ends \\d{4}-\\d\\d-\\d\\dT`));

      const again = await nc(['fix', id, '--action', 'something else', '--owner', 'someone-else']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('RECURD_ERR_NC_VERIFYING');

      const after = JSON.parse((await nc(['show', id, '--json'])).stdout) as NcJson;
      expect(after).toMatchObject({
        state: 'verifying',
        correctiveAction: { action: 'recreate the restic repository and monitor its init', owner: 'backup-team', rootCause: 'repository deleted by a cleanup job' },
      });
      expect(after.timeline?.map((entry) => entry.type)).toEqual(['raised', 'corrective-action']);

      expect(JSON.parse((await nc(['list', '--state', 'verifying', '--json'])).stdout)).toMatchObject({ nonconformities: [{ id, state: 'verifying' }], count: 1 });
      expect((await nc(['list', '--state', 'open'])).stdout.trim()).toBe('no nonconformities');
    }, 60_000);

    it('changes owner and due date, adds comments and attachments, each a chained entry with its actor', async () => {
      prefix = testPrefix();
      const id = await raiseNc();
      const osUser = userInfo().username;
      const owner = await nc(['owner', id, 'alice', '--actor', 'carol']);
      expect(owner.stderr).toBe('');
      expect(owner.stdout.trim()).toBe(`${id}: owner set by carol; owner alice, due none, 0 comment(s), 0 attachment(s)`);
      expect((await nc(['owner', id, 'bob'])).code).toBe(0);
      const dueDate = new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10);
      expect((await nc(['due', id, dueDate, '--actor', 'carol'])).code).toBe(0);
      const past = await nc(['due', id, '2020-01-01']);
      expect(past.code).toBe(1);
      expect(past.stderr).toContain('RECURD_ERR_DATE_IN_PAST: dueDate: 2020-01-01 is in the past');
      expect((await nc(['comment', id, 'the repository was deleted by a cleanup job', '--actor', 'carol'])).code).toBe(0);
      const sha = createHash('sha256').update('evidence').digest('hex');
      expect((await nc(['attach', id, '--path', '/srv/evidence/restic.log', '--sha256', sha, '--actor', 'carol'])).code).toBe(0);
      const noHash = await nc(['attach', id, '--url', 'https://wiki.example/x']);
      expect(noHash.code).toBe(2);
      expect(noHash.stderr).toContain('--sha256 HEX');
      const pastAction = await nc(['fix', id, '--action', 'monitor the repository', '--owner', 'dave', '--due', '2020-01-01']);
      expect(pastAction.code).toBe(1);
      expect(pastAction.stderr).toContain('RECURD_ERR_DATE_IN_PAST');
      expect((await nc(['fix', id, '--action', 'monitor the repository with an alert', '--owner', 'dave', '--actor', 'erin'])).code).toBe(0);

      const view = JSON.parse((await nc(['show', id, '--json'])).stdout) as Omit<NcJson, 'timeline'> & { owner: string; dueDate: string; comments: number; attachments: number; timeline: Array<{ type: string; detail: Record<string, unknown> }> };
      expect(view).toMatchObject({ owner: 'dave', dueDate, comments: 1, attachments: 1 });
      expect(view.timeline.map((entry) => [entry.type, entry.detail.actor, entry.detail.previous])).toEqual([
        ['raised', undefined, undefined],
        ['owner-changed', 'carol', null],
        ['owner-changed', osUser, 'alice'],
        ['due-date-changed', 'carol', null],
        ['comment', 'carol', undefined],
        ['attachment', 'carol', undefined],
        ['corrective-action', 'erin', undefined],
      ]);
      const holds = await nc(['verify', id]);
      expect(holds.code).toBe(0);
      expect(holds.stdout).toContain('the chain holds: 7 of 7 entries checked');
    }, 60_000);

    it('verifies an NC\'s hash chain, and exits 1 naming the entry edited in Redis', async () => {
      prefix = testPrefix();
      const id = await raiseNc();
      expect((await nc(['fix', id, '--action', 'recreate the restic repository', '--owner', 'backup-team'])).code).toBe(0);
      const head = (JSON.parse((await nc(['show', id, '--json'])).stdout) as { timelineHead: string }).timelineHead;

      const holds = await nc(['verify', id]);
      expect(holds.stderr).toBe('');
      expect(holds.code).toBe(0);
      expect(holds.stdout.trim()).toBe(`${id}: the chain holds: 2 of 2 entries checked, head ${head}`);

      const [first] = await redis.client.xrange(`${prefix}:tl:${id}`, '-', '+');
      const firstId = first?.[0] as string;
      await rewriteTimeline(redis.client, `${prefix}:tl:${id}`, (entryId, fields) => {
        if (entryId === firstId) fields.type = 'occurrence';
      });
      const broken = await nc(['verify', id]);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(new RegExp(`^${id}: the chain is broken at entry 0 \\(${firstId}, \\d{4}-\\d\\d-\\d\\dT[^)]+\\): hash-mismatch: its content hashes to [0-9a-f]{64}, but it records [0-9a-f]{64}\n$`));
      const json = await nc(['verify', id, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ id, holds: false, entries: 2, checked: 0, head: null, recordedHead: head, failure: { index: 0, entryId: firstId, reason: 'hash-mismatch' } });

      const missing = await nc(['verify', 'NC-2099-0001']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('RECURD_ERR_NC_NOT_FOUND: no nonconformity NC-2099-0001');
    }, 60_000);

    function symptoms(args: string[], env: Record<string, string> = {}): Promise<Finished> {
      return run(['symptoms', ...args, '--config', writeConfig()], { ...daemonEnv(redis.url), ...env });
    }

    it('lists symptoms page by page, shows one with its episodes, and records who fixed it and why', async () => {
      prefix = testPrefix();
      const id = await raiseNc();
      const engine = new Engine({ register: new RedisRegister(redis.client, prefix, 35 * DAY), policy: DEFAULT_POLICY, clock: systemClock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
      const now = Date.now();
      const hosts = ['srv-app-01', 'srv-app-02', 'srv-app-03'];
      await engine.ingest(
        hosts.map((asset) => ({ id: asset, source: 'alertmanager', family: 'backup', status: 'firing', observedAt: now - DAY, receivedAt: now - DAY, asset, check: 'BackupJobFailed', message: `backup of ${asset} failed`, severity: 'high', labels: {}, evidence: {} })),
      );

      const first = await symptoms(['list', '--check', 'BackupJobFailed', '--limit', '2']);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const lines = first.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^FINGERPRINT\s+STATE\s+FAMILY\s+EPISODE\s+NC\s+LAST FIRING\s+CHECK @ ASSET$/);
      expect(lines).toHaveLength(4);
      const cursor = /^2 of 4 shown; the next page: --cursor (\S+)$/.exec(lines[3] ?? '')?.[1];
      expect(cursor).toBeDefined();
      const rest = JSON.parse((await symptoms(['list', '--check', 'BackupJobFailed', '--limit', '2', '--cursor', cursor ?? '', '--json'])).stdout) as { symptoms: Array<{ asset: string; fingerprint: string; nc: string | null }>; count: number; nextCursor: string | null };
      expect(rest).toMatchObject({ count: 4, nextCursor: null });
      const listed = [...lines.slice(1, 3).map((line) => /@ (\S+)$/.exec(line)?.[1]), ...rest.symptoms.map((symptom) => symptom.asset)];
      expect(listed.sort()).toEqual([...hosts, 'srv-db-01'].sort());

      const bad = await symptoms(['list', '--state', 'open']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--state must be one of active, fixed, verified');
      const badCursor = await symptoms(['list', '--cursor', 'garbage']);
      expect(badCursor.code).toBe(1);
      expect(badCursor.stderr).toMatch(/RECURD_ERR_REQUEST_INVALID: cursor: /);

      const all = JSON.parse((await symptoms(['list', '--asset', 'srv-db-01', '--json'])).stdout) as typeof rest;
      const withNc = all.symptoms[0];
      expect(withNc?.nc).toBe(id);
      const shown = await symptoms(['show', withNc?.fingerprint ?? '']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^ncState\\s+open$`, 'm'));
      expect(shown.stdout).toMatch(/^episodes:\n +1 {2}\S+Z {2}1 firing {2}fixed \S+Z \(resolved\)\n +2 {2}\S+Z {2}1 firing {2}not fixed$/m);
      expect(shown.stdout).toMatch(/^recent observations:\n(.*\n){2}.*firing\s+recurrence\s+alertmanager\/c$/m);

      const fixed = await symptoms(['fix', withNc?.fingerprint ?? '', '--note', 'rotated the repository key', '--json']);
      expect(fixed.stderr).toBe('');
      const fixedView = JSON.parse(fixed.stdout) as { state: string; lastFix: { actor: string; note: string } };
      expect(fixedView).toMatchObject({ state: 'fixed', lastFix: { note: 'rotated the repository key' } });
      // The OS user who ran the command, unless --actor names someone.
      expect(fixedView.lastFix.actor).toBe(userInfo().username);
      const timeline = await new RedisRegister(redis.client, prefix, 35 * DAY).timeline(id);
      expect(timeline.find((entry) => entry.type === 'fix-recorded')?.detail).toMatchObject({ actor: userInfo().username, note: 'rotated the repository key' });

      const app = (JSON.parse((await symptoms(['list', '--asset', 'srv-app-01', '--json'])).stdout) as typeof rest).symptoms[0];
      const byActor = await symptoms(['fix', app?.fingerprint ?? '', '--actor', 'dana']);
      expect(byActor.stderr).toBe('');
      expect(byActor.stdout).toMatch(/^lastFix\s+\{.*"actor":"dana","note":null\}$/m);
      expect(byActor.stdout).toMatch(/^state\s+fixed$/m);
      const notFound = await symptoms(['show', '0123']);
      expect(notFound.code).toBe(1);
      expect(notFound.stderr).toContain('RECURD_ERR_SYMPTOM_NOT_FOUND');
    }, 60_000);
  });
});
