/**
 * What recurd needs of Redis before it touches anything: reachable, never evicting keys (BullMQ
 * and the register would silently lose data), and preferably persistent.
 */
import { Redis } from 'ioredis';
import { RecurdError } from '../errors.js';
import { safeUrl } from '../log.js';

export interface RedisCheck {
  /** Things that work but put accepted alerts at risk, to be logged as warnings. */
  warnings: string[];
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Connects (failing fast, with the address in the message) and checks the server's settings. */
export async function connectRedis(url: string, connectTimeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    // BullMQ blocks on its connections; it requires commands to wait rather than fail.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  // ioredis tells why a connection failed (ECONNREFUSED, WRONGPASS) only in an 'error' event:
  // connect() rejects with a bare "Connection is closed.", and an unheard event is printed as noise.
  let reason: Error | undefined;
  const onError = (error: Error): void => {
    reason ??= error;
  };
  redis.on('error', onError);
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs).unref()),
    ]);
  } catch (error) {
    redis.disconnect();
    const cause = reason ?? (error as Error);
    throw new RecurdError('REDIS_UNREACHABLE', `cannot reach Redis at ${safeUrl(url)}: ${cause.message}`, undefined, { cause });
  }
  // Connected: later errors belong to the caller's own listener.
  redis.off('error', onError);
  return redis;
}

/**
 * Closes a connection at shutdown: QUIT lets its last replies arrive; a connection that is down
 * or reconnecting would hold QUIT until it is back (or fail it), so past `timeoutMs` it is dropped.
 */
export async function closeRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.quit(),
      new Promise<void>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('QUIT unanswered')), timeoutMs);
      }),
    ]);
  } catch {
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * ioredis puts the failed command on a reply error, so a refused AUTH or HELLO (a password
 * rotated while recurd runs) carries the password in `command.args`: blank it in place, before
 * anything that prints the error (BullMQ's queues write unheard errors to stderr) sees it.
 */
export function hideCredentials(error: unknown): void {
  const command = (error as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (typeof command?.name === 'string' && ['auth', 'hello'].includes(command.name.toLowerCase())) command.args = ['[redacted]'];
}

export async function checkRedis(redis: Redis): Promise<RedisCheck> {
  const info = await redis.info();
  const warnings: string[] = [];
  const policy = infoField(info, 'maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    throw new RecurdError(
      'REDIS_MISCONFIGURED',
      `Redis maxmemory-policy is "${policy}": it must be "noeviction", or Redis may evict queued alerts and register entries (set it with CONFIG SET maxmemory-policy noeviction)`,
    );
  }
  const aof = infoField(info, 'aof_enabled') === '1';
  let rdb: boolean | null = null;
  try {
    const [, save] = (await redis.config('GET', 'save')) as [string, string];
    rdb = save.trim() !== '';
  } catch {
    // Managed Redis services often disable CONFIG: then only the append-only flag is known.
  }
  if (!aof && rdb === false) {
    warnings.push('Redis persistence is off (no append-only file, no RDB snapshots): a Redis restart loses queued alerts and the NC register');
  } else if (!aof) {
    warnings.push('Redis append-only file is off: a crash can lose alerts accepted since the last snapshot (enable appendonly yes)');
  }
  return { warnings };
}
