/**
 * The alerts of each bench scenario, as Prometheus would raise them: one label set per symptom,
 * firing with a `startsAt`, resolved with an `endsAt`. The same events become Alertmanager v4
 * webhook bodies for recurd and `POST /api/v2/alerts` bodies for Alertmanager itself.
 */
import { labelsFingerprint } from '../connectors/alertmanager.js';

export interface BenchAlert {
  labels: Record<string, string>;
  status: 'firing' | 'resolved';
  /** Epoch ms. */
  startsAt: number;
  endsAt: number | null;
}

/** A stretch of load; between phases the bench may act (record corrective actions). */
export interface Phase {
  alerts: BenchAlert[];
  /** After this phase, a corrective action on every NC that can take one. */
  thenActOnNcs?: boolean;
}

export interface Scenario {
  key: string;
  title: string;
  phases: Phase[];
  /** Symptoms the scenario's alerts fall into. */
  symptoms: number;
}

/** Rounds of one symptom are this far apart: beyond policy.skew, so a firing after a resolve is a return. */
const ROUND_MS = 10 * 60_000;

/** Symptom `index` of a fleet whose checks run on `assets` hosts each. */
function labelsOf(index: number, assets: number): Record<string, string> {
  const check = Math.floor(index / assets);
  return {
    alertname: `BenchCheck${check}`,
    instance: `host-${String(index % assets).padStart(5, '0')}:9100`,
    job: 'node',
    severity: index % 7 === 0 ? 'critical' : 'warning',
  };
}

/**
 * `rounds` rounds over `symptoms` symptoms: in round r every symptom fires (r even) or resolves
 * (r odd). A fire after a resolve inside the 30-day window is a recurrence; four fixes within an
 * hour make a symptom flap. Times end a few minutes before `now`.
 */
function rounds(symptoms: number, assets: number, from: number, to: number, now: number, total: number): BenchAlert[] {
  const start = now - total * ROUND_MS - 5 * 60_000;
  const labels = Array.from({ length: symptoms }, (_, index) => labelsOf(index, assets));
  const alerts: BenchAlert[] = [];
  for (let round = from; round < to; round++) {
    // A symptom fires at the start of its round and resolves at the start of the next.
    const firedAt = start + (round - (round % 2)) * ROUND_MS;
    for (let index = 0; index < symptoms; index++) {
      const jitter = index % 1000;
      alerts.push(
        round % 2 === 0
          ? { labels: labels[index] as Record<string, string>, status: 'firing', startsAt: firedAt + jitter, endsAt: null }
          : { labels: labels[index] as Record<string, string>, status: 'resolved', startsAt: firedAt + jitter, endsAt: firedAt + ROUND_MS + jitter },
      );
    }
  }
  return alerts;
}

export function scenarios(now: number, options: { memoryAlerts: number }): Scenario[] {
  const memoryRounds = Math.max(2, Math.round(options.memoryAlerts / 10_000));
  return [
    { key: 'a', title: '10,000 distinct symptoms firing and resolving', symptoms: 10_000, phases: [{ alerts: rounds(10_000, 100, 0, 2, now, 2) }] },
    { key: 'b', title: 'fleet-wide: one check failing on 10,000 assets, then clearing', symptoms: 10_000, phases: [{ alerts: rounds(10_000, 10_000, 0, 2, now, 2) }] },
    {
      key: 'c',
      title: 'recurrence-heavy: 5,000 NCs raised, corrected, then reopened',
      symptoms: 5_000,
      phases: [{ alerts: rounds(5_000, 100, 0, 4, now, 5), thenActOnNcs: true }, { alerts: rounds(5_000, 100, 4, 5, now, 5) }],
    },
    {
      key: 'e',
      title: `${(memoryRounds * 10_000).toLocaleString('en')} alerts over 10,000 symptoms (memory)`,
      symptoms: 10_000,
      phases: [{ alerts: rounds(10_000, 100, 0, memoryRounds, now, memoryRounds) }],
    },
  ];
}

/** The steady load of the latency scenario: symptoms firing and resolving at their own pace. */
export function steady(now: number, count: number): BenchAlert[] {
  return rounds(Math.min(count, 2_000), 100, 0, Math.ceil(count / 2_000), now, Math.ceil(count / 2_000)).slice(0, count);
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const NOT_ENDED = '0001-01-01T00:00:00Z';
const EXTERNAL_URL = 'http://alertmanager.bench:9093';

/** One Alertmanager v4 webhook notification, as a `webhook_configs` receiver gets it. */
export function webhookBody(alerts: BenchAlert[]): string {
  const firing = alerts.some((alert) => alert.status === 'firing');
  return JSON.stringify({
    receiver: 'recurd',
    status: firing ? 'firing' : 'resolved',
    alerts: alerts.map((alert) => ({
      status: alert.status,
      labels: alert.labels,
      annotations: { summary: `${alert.labels.alertname} failed on ${alert.labels.instance}` },
      startsAt: iso(alert.startsAt),
      endsAt: alert.endsAt === null ? NOT_ENDED : iso(alert.endsAt),
      generatorURL: `http://prometheus.bench:9090/graph?g0.expr=${encodeURIComponent(`up{job="node"} == 0`)}`,
      fingerprint: labelsFingerprint(alert.labels).slice(0, 16),
    })),
    groupLabels: { job: 'node' },
    commonLabels: { job: 'node' },
    commonAnnotations: {},
    externalURL: EXTERNAL_URL,
    version: '4',
    groupKey: '{}:{job="node"}',
    truncatedAlerts: 0,
  });
}

/** The same alerts as Prometheus posts them to Alertmanager (`POST /api/v2/alerts`). */
export function postableBody(alerts: BenchAlert[]): string {
  return JSON.stringify(
    alerts.map((alert) => ({
      labels: alert.labels,
      annotations: { summary: `${alert.labels.alertname} failed on ${alert.labels.instance}` },
      startsAt: iso(alert.startsAt),
      ...(alert.endsAt === null ? {} : { endsAt: iso(alert.endsAt) }),
      generatorURL: `http://prometheus.bench:9090/graph?g0.expr=${encodeURIComponent(`up{job="node"} == 0`)}`,
    })),
  );
}

export function batches<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}
