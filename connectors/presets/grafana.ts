/**
 * Grafana Alerting's webhook contact point (unified alerting, payload `version: "1"`), whose
 * alerts are Alertmanager's: one item per entry of `alerts`, firing or resolved.
 *
 * Like Alertmanager, Grafana sends no event ids and repeats notifications: an alert's id is its
 * fingerprint and `startsAt`, so a repeat is a duplicate and a firing after a resolved is a new
 * observation (see the alertmanager connector). Grafana's fingerprint hashes every label and is
 * kept as evidence, never as recurd's identity. The symptom is the rule (`alertname`) on what
 * the alert is about: its `instance` or `job` label, else its other labels written out
 * (`team=blue,zone=us-1`), since one multi-dimensional rule fires once per label set.
 */
import { labelsFingerprint } from '../alertmanager.js';
import { ANNEX_A_ID, FAMILIES, SEVERITIES } from '../../src/core/types.js';
import type { Preset } from './types.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Labels that name the rule or its folder, not the thing it watches. */
const RULE_LABELS = new Set(['alertname', 'grafana_folder']);

/** The severity label's usual words, as the alertmanager connector reads them. */
const SEVERITY_WORDS: Record<string, string> = { critical: 'critical', error: 'high', warning: 'medium', info: 'info', none: 'info' };


function textLabels(labels: unknown): Record<string, string> {
  if (!isRecord(labels)) return {};
  return Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** The first value that is set: Prometheus and Grafana treat an empty label as absent. */
function firstSet(...values: (string | undefined)[]): string | undefined {
  return values.find((value) => value !== undefined && value !== '');
}

function assetOf(labels: Record<string, string>): string {
  const named = firstSet(labels.instance, labels.job);
  if (named !== undefined) return named;
  return Object.keys(labels)
    .filter((name) => !RULE_LABELS.has(name) && labels[name] !== '')
    .sort()
    .map((name) => `${name}=${labels[name]}`)
    .join(',');
}

/** A label value where it is one of the canonical words, else nothing (the connector's default). */
function known(value: string | undefined, words: readonly string[]): string | undefined {
  return value !== undefined && words.includes(value) ? value : undefined;
}

function alertItem(notification: Json, alert: unknown): unknown {
  if (!isRecord(alert)) return alert;
  const labels = textLabels(alert.labels);
  const annotations = textLabels(alert.annotations);
  const { startsAt, endsAt, fingerprint } = alert;
  const word = labels.severity;
  const severity = word !== undefined && Object.hasOwn(SEVERITY_WORDS, word) ? SEVERITY_WORDS[word] : known(word, SEVERITIES);
  return {
    ...alert,
    id:
      typeof startsAt === 'string' && isRecord(alert.labels)
        ? `${typeof fingerprint === 'string' && fingerprint !== '' ? fingerprint : labelsFingerprint(labels)}:${startsAt}`
        : undefined,
    // A firing alert's endsAt is Go's zero time: only a resolved one ends.
    observedAt: alert.status === 'resolved' ? endsAt : startsAt,
    asset: assetOf(labels),
    message: firstSet(annotations.summary, annotations.description, labels.alertname),
    severity,
    family: known(labels.family, FAMILIES),
    control: labels.control !== undefined && ANNEX_A_ID.test(labels.control) ? labels.control : undefined,
    receiver: notification.receiver,
    externalURL: notification.externalURL,
    groupKey: notification.groupKey,
    orgId: notification.orgId,
  };
}

export const grafanaPreset: Preset = {
  name: 'grafana',
  description: "Grafana Alerting's webhook contact point: one observation per alert, ids from fingerprint and startsAt",
  family: 'siem',
  control: 'A.8.16',
  severity: 'medium',
  items: 'alerts',
  // Each alert keeps its own fields where they are, with the few recurd derives beside them.
  reshape: (document) =>
    isRecord(document) && Array.isArray(document.alerts)
      ? { ...document, alerts: document.alerts.map((alert) => alertItem(document, alert)) }
      : document,
  mapping: {
    id: 'id',
    status: 'status',
    observedAt: 'observedAt',
    asset: 'asset',
    check: 'labels.alertname',
    message: 'message',
    severity: 'severity',
    family: 'family',
    control: 'control',
    labels: {
      alertname: 'labels.alertname',
      grafana_folder: 'labels.grafana_folder',
      instance: 'labels.instance',
      job: 'labels.job',
      severity: 'labels.severity',
    },
    evidence: {
      grafanaFingerprint: 'fingerprint',
      startsAt: 'startsAt',
      endsAt: 'endsAt',
      labels: 'labels',
      annotations: 'annotations',
      values: 'values',
      valueString: 'valueString',
      generatorURL: 'generatorURL',
      silenceURL: 'silenceURL',
      dashboardURL: 'dashboardURL',
      panelURL: 'panelURL',
      imageURL: 'imageURL',
      receiver: 'receiver',
      externalURL: 'externalURL',
      groupKey: 'groupKey',
      orgId: 'orgId',
    },
  },
};
