/**
 * The audit trail of refused requests: who was turned away, from where, and why, never with the
 * credential they sent. Each refusal is counted; the log takes a burst per remote address and
 * minute, and the rest of a flood as one line per address at the end of the minute, so that a
 * scanner cannot drown the lines that matter.
 */
import type { Counter } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../log.js';

export const REFUSAL_REASONS = ['unauthorized', 'forbidden', 'replayed', 'rate_limited'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface Refusal {
  reason: RefusalReason;
  status: number;
  method: string;
  route: string;
  remoteAddress: string;
  /** The connector named in the URL, for an intake, whether or not it exists. */
  connector?: string;
  /** The name of the token whose role was too low, for a 403: never the token itself. */
  actor?: string;
  /** What was wrong, for the admin: never the credential itself. */
  detail: string;
}

/** Lines per remote address and minute before the rest are summed up. */
export const REFUSALS_LOGGED_PER_MINUTE = 20;
const MINUTE_MS = 60_000;

export class RefusalLog {
  private windowStart: number;
  private readonly logged = new Map<string, number>();
  private readonly suppressed = new Map<string, { count: number; reasons: Set<RefusalReason> }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly counter: Counter<'reason'>,
  ) {
    this.windowStart = clock.now();
  }

  refused(refusal: Refusal): void {
    this.counter.inc({ reason: refusal.reason });
    this.roll();
    const seen = this.logged.get(refusal.remoteAddress) ?? 0;
    if (seen < REFUSALS_LOGGED_PER_MINUTE) {
      this.logged.set(refusal.remoteAddress, seen + 1);
      this.logger.warn({ audit: 'request-refused', ...refusal }, `refused ${refusal.method} ${refusal.route} from ${refusal.remoteAddress}: ${refusal.detail}`);
      return;
    }
    const held = this.suppressed.get(refusal.remoteAddress) ?? { count: 0, reasons: new Set<RefusalReason>() };
    held.count += 1;
    held.reasons.add(refusal.reason);
    this.suppressed.set(refusal.remoteAddress, held);
  }

  /** Starts a new minute once one has passed; called on each refusal and by the server's timer. */
  roll(): void {
    if (this.clock.now() - this.windowStart >= MINUTE_MS) this.flush();
  }

  /** Writes what the current minute held back, and starts a new one. */
  flush(): void {
    for (const [remoteAddress, held] of this.suppressed) {
      this.logger.warn(
        { audit: 'requests-refused', remoteAddress, count: held.count, reasons: [...held.reasons], since: new Date(this.windowStart).toISOString() },
        `refused ${held.count} more requests from ${remoteAddress} that were not logged one by one`,
      );
    }
    this.suppressed.clear();
    this.logged.clear();
    this.windowStart = this.clock.now();
  }
}
