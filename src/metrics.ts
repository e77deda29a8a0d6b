/** Prometheus metrics, all named `recurd_*`; dashboards and alert rules depend on these names. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Effect } from './core/lifecycle.js';
import { NC_STATES, type NcState } from './core/types.js';
import type { NcStat } from './register.js';

export interface MetricsSources {
  /** Whether Redis answers now (RedisHealth): while it does not, what it holds is not read. */
  redisUp(): boolean;
  countNcsByState(): Promise<Record<NcState, number>>;
  queueJobCounts(): Promise<Record<string, Record<string, number>>>;
  /** Last successful poll or intake request by connector (epoch ms), shared by every replica. */
  connectorLastSuccess(): Promise<Record<string, number | null>>;
  /** Counts of NCs by family, control and what is true of them, kept by the register's commits. */
  ncStats(): Promise<NcStat[]>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly alertsReceived = new Counter({
    name: 'recurd_alerts_received_total',
    help: 'Alerts accepted by an intake or poller, after normalisation.',
    labelNames: ['source', 'family', 'status'] as const,
    registers: [this.registry],
  });
  readonly payloadsRejected = new Counter({
    name: 'recurd_payload_items_rejected_total',
    help: 'Items of a payload rejected because they do not fit the connector.',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  readonly recurrences = new Counter({
    name: 'recurd_recurrences_total',
    help: 'Fixed symptoms that fired again inside their effectiveness window.',
    labelNames: ['family', 'control'] as const,
    registers: [this.registry],
  });
  readonly opened = new Counter({
    name: 'recurd_nonconformities_opened_total',
    help: 'Nonconformities raised.',
    labelNames: ['family', 'control'] as const,
    registers: [this.registry],
  });
  readonly reopened = new Counter({
    name: 'recurd_nonconformities_reopened_total',
    help: 'Nonconformities reopened because the symptom returned inside the corrective action window.',
    labelNames: ['family', 'control'] as const,
    registers: [this.registry],
  });
  readonly verifiedEffective = new Counter({
    name: 'recurd_nonconformities_verified_effective_total',
    help: 'Nonconformities closed because their corrective action window passed with no recurrence.',
    labelNames: ['family', 'control'] as const,
    registers: [this.registry],
  });
  readonly detectLatency = new Histogram({
    name: 'recurd_detect_latency_seconds',
    help: 'Time from receipt of an alert to its decision being stored.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly connectorErrors = new Counter({
    name: 'recurd_connector_errors_total',
    help: 'Failures of a connector: a poll that failed (auth, network, parse) or an intake request refused for its credentials.',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  readonly requestsRefused = new Counter({
    name: 'recurd_http_requests_refused_total',
    help: 'Requests refused before anything was read: missing or wrong credentials, an unknown intake, a replayed signature, a rate limit.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly correctiveActions = new Counter({
    name: 'recurd_corrective_actions_total',
    help: 'Corrective actions recorded through the API, by strength: weak (treats the symptom) or strong (removes the cause).',
    labelNames: ['strength'] as const,
    registers: [this.registry],
  });
  readonly clockSkew = new Counter({
    name: 'recurd_clock_skew_total',
    help: 'Observations stamped further in the future than policy.maxFuture, timed at receipt instead.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'recurd_notifications_total',
    help: 'NC event deliveries by notifier and outcome (delivered, retrying, failed).',
    labelNames: ['notifier', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `_total`, which `promtool check metrics` rejects (only counters
    // may end in _total); they repeat the sums of nodejs_active_{handles,requests,resources}.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    // The gauges below are read from Redis: every process of a cluster (src/cluster.ts) reads the
    // same values, so its summed scrape takes the first instead of adding them up. While Redis
    // does not answer they are left out, and the scrape still answers with what the process knows.
    const fromRedis = async <T>(read: () => Promise<T>): Promise<T | null> => {
      if (!sources.redisUp()) return null;
      try {
        return await read();
      } catch {
        return null;
      }
    };
    new Gauge({
      name: 'recurd_nonconformities',
      aggregator: 'first',
      help: 'Nonconformities in the register, by state.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = await fromRedis(() => sources.countNcsByState());
        if (counts !== null) for (const state of NC_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'recurd_connector_last_success_timestamp_seconds',
      aggregator: 'first',
      help: 'When a connector last polled or received successfully (Unix time).',
      labelNames: ['connector'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [connector, at] of Object.entries((await fromRedis(() => sources.connectorLastSuccess())) ?? {})) {
          if (at !== null) this.set({ connector }, at / 1000);
        }
      },
    });
    // A scrape collects every gauge at once: those that derive from the register's counts share
    // one read while it is in flight, and the next scrape reads afresh.
    let reading: Promise<NcStat[]> | null = null;
    const stats = (): Promise<NcStat[]> => {
      reading ??= fromRedis(() => sources.ncStats()).then((read) => read ?? []).finally(() => {
        reading = null;
      });
      return reading;
    };
    new Gauge({
      name: 'recurd_corrective_action_reopen_ratio',
      aggregator: 'first',
      help: 'Of the NCs with a corrective action, the share reopened at least once (the action did not hold).',
      labelNames: ['family', 'control'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const stat of await stats()) if (stat.acted > 0) this.set({ family: stat.family, control: stat.control }, stat.reopened / stat.acted);
      },
    });
    new Gauge({
      name: 'recurd_corrective_action_verified_effective_ratio',
      aggregator: 'first',
      help: 'Of the NCs with a corrective action, the share closed as verified effective.',
      labelNames: ['family', 'control'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const stat of await stats()) if (stat.acted > 0) this.set({ family: stat.family, control: stat.control }, stat.closed / stat.acted);
      },
    });
    new Gauge({
      name: 'recurd_nonconformities_unverifiable',
      aggregator: 'first',
      help: 'NCs whose effectiveness window ended without the evidence to close them (still verifying; the timeline says what is missing).',
      labelNames: ['family', 'control'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const stat of await stats()) if (stat.blocked > 0) this.set({ family: stat.family, control: stat.control }, stat.blocked);
      },
    });
    new Gauge({
      name: 'recurd_corrective_actions_overdue',
      aggregator: 'first',
      help: 'NCs still open, verifying or reopened after the due date of their corrective action.',
      labelNames: ['family', 'control'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const stat of await stats()) this.set({ family: stat.family, control: stat.control }, stat.overdue);
      },
    });
    new Gauge({
      name: 'recurd_redis_up',
      help: 'Whether Redis answers this process (1) or not (0); while it does not, the gauges read from Redis are left out.',
      aggregator: 'min',
      registers: [this.registry],
      collect() {
        this.set(sources.redisUp() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'recurd_queue_jobs',
      aggregator: 'first',
      help: 'Jobs in recurd queues, by queue and state.',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [queue, counts] of Object.entries((await fromRedis(() => sources.queueJobCounts())) ?? {})) {
          for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
        }
      },
    });
  }

  /** Count what a decided batch did. */
  record(effects: Effect[]): void {
    for (const effect of effects) {
      const labels = { family: effect.family, control: effect.control };
      if (effect.kind === 'recurrence') this.recurrences.inc(labels);
      else if (effect.kind === 'nc-opened') this.opened.inc(labels);
      else if (effect.kind === 'nc-reopened') this.reopened.inc(labels);
      else if (effect.kind === 'nc-verified-effective') this.verifiedEffective.inc(labels);
      else if (effect.kind === 'clock-skew') this.clockSkew.inc({ source: effect.source });
    }
  }
}
