/**
 * Whether Redis answers, as the daemon's connections see it. While it does not, intake answers
 * 503 at once instead of waiting on a queue of commands, /readyz says so, /metrics answers from
 * the process with `recurd_redis_up 0`, and the log gets one line when the connection is lost and
 * one when it is back (with how many errors came in between), not one per error or request.
 * A Redis that keeps the connection open but stops answering (paused, swapping, stuck in a slow
 * command) counts as down from the first request it leaves unanswered past commandTimeout, and as
 * back when it answers a PING again.
 */
import type { Redis } from 'ioredis';
import { RecurdError } from './errors.js';
import type { Logger } from './log.js';
import { hideCredentials } from './store/redis-check.js';

export class RedisHealth {
  private down: { since: number; reason: string; errors: number; firstError: string | null } | null = null;
  private closing = false;
  private connection: Redis | null = null;
  private probe: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    /** The longest wait for Redis on a request's path (redis.commandTimeout). */
    readonly commandTimeout: number,
    private readonly now: () => number = Date.now,
  ) {}

  get up(): boolean {
    return this.down === null;
  }

  /** Follow the daemon's main connection: its errors, its loss and its reconnection move the state. */
  watch(connection: Redis): void {
    this.connection = connection;
    connection.on('error', (error: Error) => this.error(error));
    connection.on('close', () => this.lost('the connection closed'));
    connection.on('ready', () => this.restored());
  }

  /** The daemon closes its connections: that is not an outage. */
  close(): void {
    this.closing = true;
    this.stopProbe();
  }

  /** An error of any Redis user (a connection, a queue worker): logged while Redis is up, counted while it is down. */
  error(error: Error, context: Record<string, unknown> = {}, message = 'Redis error'): void {
    hideCredentials(error);
    if (this.down !== null) {
      this.down.errors += 1;
      this.down.firstError ??= error.message;
      return;
    }
    if (isConnectionError(error)) {
      this.lost(error.message);
      return;
    }
    this.logger.error({ err: error, ...context }, message);
  }

  /** Rejects with a 503 when Redis is known down, or does not answer within commandTimeout. */
  async deadline<T>(work: () => Promise<T>, what: string): Promise<T> {
    if (this.down !== null) throw this.unavailable(what);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const reason = `no answer within ${this.commandTimeout} ms`;
        this.lost(reason);
        this.startProbe();
        reject(this.unavailable(what, reason));
      }, this.commandTimeout);
    });
    try {
      return await Promise.race([work(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(what: string, reason = this.down?.reason ?? 'the connection is down'): RecurdError {
    return new RecurdError('REDIS_UNREACHABLE', `Redis is not answering (${reason}): ${what}; send it again later`);
  }

  private lost(reason: string): void {
    if (this.down !== null || this.closing) return;
    this.down = { since: this.now(), reason, errors: 0, firstError: null };
    this.logger.error({ reason }, 'Redis connection lost: intake answers 503 until it is back');
  }

  /** While Redis is down with the connection open, nothing else would notice it answering again. */
  private startProbe(): void {
    const connection = this.connection;
    if (this.probe !== null || connection === null || this.closing) return;
    this.probe = setInterval(() => {
      connection.ping().then(
        () => this.restored(),
        () => undefined,
      );
    }, Math.min(1000, this.commandTimeout)).unref();
  }

  private stopProbe(): void {
    if (this.probe !== null) clearInterval(this.probe);
    this.probe = null;
  }

  private restored(): void {
    this.stopProbe();
    if (this.down === null) return;
    const { since, errors, firstError } = this.down;
    this.down = null;
    this.logger.warn({ downForMs: this.now() - since, errors, firstError }, 'Redis connection restored');
  }
}

/** Errors that mean the connection is gone, not that a command was wrong. */
function isConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) ||
    /Connection is closed|connect ETIMEDOUT|Stream isn't writeable|Command timed out/i.test(error.message)
  );
}
