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
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs).unref()),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new RecurdError('REDIS_UNREACHABLE', `cannot reach Redis at ${safeUrl(url)}: ${(error as Error).message}`, undefined, { cause: error });
  }
  return redis;
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
