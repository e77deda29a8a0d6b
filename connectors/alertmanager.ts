/**
 * Prometheus Alertmanager's webhook (payload version 4), as sent by a `webhook_configs` receiver.
 *
 * Alertmanager sends no event ids, so an alert's id is its fingerprint and `startsAt`: a repeated
 * notification of the same state is then a duplicate, and recurd's core times a firing that
 * follows a resolved under the same id at receipt (DESIGN.md, "Prometheus Alertmanager sends no
 * event ids"). A body that is not an object is reported at the path `(body)`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ALERT_STATUSES, ANNEX_A_ID, FAMILIES, SEVERITIES, canonicalAlertSchema } from '../src/core/types.js';
import type { CanonicalAlert, Family, Severity } from '../src/core/types.js';
import { connectorBase, intakeFields } from './types.js';
import type { ConnectorType, IntakeResult, PayloadError } from './types.js';
import { parseEventTime, type EventTime } from '../src/core/event-time.js';
import { describeValue, payloadIssueMessage, payloadPath } from './payload.js';

const labelName = z.string().min(1).describe('a Prometheus label name');

const schema = z
  .object({
    type: z.literal('alertmanager').describe('Prometheus Alertmanager webhook_configs receiver (payload version 4)'),
    ...connectorBase,
    ...intakeFields,
    checkLabel: labelName.default('alertname').describe('the label that names the failing check'),
    assetLabels: z
      .array(labelName)
      .default(['instance', 'job'])
      .describe(
        'labels that name the affected asset; the first one present wins; with none present, the identifying labels (all but the check, severity, family and control labels and alertname) name it, as name=value sorted by name',
      ),
    familyLabel: labelName
      .default('family')
      .describe("label that may carry the family (siem, backup, av, config-drift); any other value gives the connector's family"),
    controlLabel: labelName
      .default('control')
      .describe("label that may carry the Annex A control (A.8.13); a value of another form gives the connector's control"),
    severityLabel: labelName.default('severity').describe('label that carries the severity'),
    severityMap: z
      .record(z.string(), z.enum(SEVERITIES))
      .default({ critical: 'critical', error: 'high', warning: 'medium', info: 'info', none: 'info' })
      .describe(
        "translates the severity label; a value not listed that is already a canonical severity is kept, any other gives the connector's severity",
      ),
  })
  .strict();

type AlertmanagerConfig = z.output<typeof schema>;

const rfc3339 = z.iso.datetime({ offset: true });

/** The parts of a notification recurd reads; other fields are ignored. */
const notificationSchema = z.object({
  version: z.literal('4'),
  alerts: z.array(z.unknown()),
  receiver: z.string().optional(),
  externalURL: z.string().optional(),
  groupKey: z.string().optional(),
});

const alertSchema = z.object({
  status: z.enum(ALERT_STATUSES),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).optional(),
  startsAt: rfc3339,
  endsAt: rfc3339.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});
type AmAlert = z.output<typeof alertSchema>;


/** Go's zero time (`0001-01-01T00:00:00Z`): Alertmanager's endsAt of an alert that has not ended. */
const NOT_ENDED = Date.parse('0001-01-01T00:00:00Z');

/** An end time, or null where the alert has not ended; any other time must be a real one. */
function endOf(text: string | undefined): EventTime | null {
  return text === undefined || Date.parse(text) === NOT_ENDED ? null : parseEventTime(text);
}

/**
 * A stand-in for Alertmanager's fingerprint when an alert lacks one: the labels sorted by name,
 * each length-prefixed so that no two label sets serialise alike, hashed with SHA-256.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name] ?? '';
    hash.update(`${Buffer.byteLength(name)}:${name}${Buffer.byteLength(value)}:${value}`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** A label that Prometheus treats as set: present and not empty. */
function labelValue(labels: Readonly<Record<string, string>>, name: string): string | undefined {
  const value = Object.hasOwn(labels, name) ? labels[name] : undefined;
  return value === undefined || value === '' ? undefined : value;
}

/** A label name or value as it appears in an asset: bare, or JSON-quoted where it holds `,`, `=`, `"` or `\\`, so that no two label sets render alike. */
function assetPart(text: string): string {
  return /[,="\\]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * The asset of an alert that carries none of `assetLabels`: its identifying labels, sorted by
 * name (`cluster=prod,namespace=db`). An alert aggregated `by (cluster)` keeps no instance or job,
 * and without this prod and staging would be one symptom. The check, alertname and the labels
 * the connector reads as severity, family and control say what failed and how badly, not where.
 */
function identifyingAsset(config: AlertmanagerConfig, labels: Readonly<Record<string, string>>): string {
  const notIdentity = new Set(['alertname', config.checkLabel, config.severityLabel, config.familyLabel, config.controlLabel]);
  return Object.keys(labels)
    .filter((name) => !notIdentity.has(name) && labelValue(labels, name) !== undefined)
    .sort()
    .map((name) => `${assetPart(name)}=${assetPart(labels[name] ?? '')}`)
    .join(',');
}

function severityOf(config: AlertmanagerConfig, value: string | undefined): Severity {
  if (value === undefined) return config.severity;
  if (Object.hasOwn(config.severityMap, value)) return config.severityMap[value] ?? config.severity;
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : config.severity;
}

function familyOf(config: AlertmanagerConfig, value: string | undefined): Family {
  return value !== undefined && (FAMILIES as readonly string[]).includes(value) ? (value as Family) : config.family;
}

type Notification = z.output<typeof notificationSchema>;
type AlertResult = { alert: CanonicalAlert } | { errors: PayloadError[] };

function normaliseAlert(
  config: AlertmanagerConfig,
  notification: Notification,
  raw: unknown,
  index: number,
  receivedAt: number,
): AlertResult {
  const at = ['alerts', index];
  const errorsOf = (issues: readonly z.core.$ZodIssue[]): AlertResult => ({
    errors: issues.map((issue) => ({ path: payloadPath([...at, ...issue.path]), message: issue.message })),
  });

  const shape = alertSchema.safeParse(raw, { error: payloadIssueMessage });
  if (!shape.success) return errorsOf(shape.error.issues);
  const alert: AmAlert = shape.data;

  // Every alert has started: a zero startsAt is as wrong as any other time before 2000.
  const start = parseEventTime(alert.startsAt);
  const end = endOf(alert.endsAt);
  if ('problem' in start || (end !== null && 'problem' in end)) {
    const timeError = (field: string, time: EventTime | null): PayloadError[] =>
      time !== null && 'problem' in time ? [{ path: payloadPath([...at, field]), message: time.problem }] : [];
    return { errors: [...timeError('startsAt', start), ...timeError('endsAt', end)] };
  }
  const startsAt = start.ms;
  const endsAt = end === null ? null : end.ms;
  const check = labelValue(alert.labels, config.checkLabel);
  const assetLabel = config.assetLabels.find((name) => labelValue(alert.labels, name) !== undefined);
  const summary = labelValue(alert.annotations ?? {}, 'summary');
  const description = labelValue(alert.annotations ?? {}, 'description');
  const control = labelValue(alert.labels, config.controlLabel);
  const alertmanagerFingerprint = alert.fingerprint === undefined || alert.fingerprint === '' ? null : alert.fingerprint;

  const candidate = {
    id: `${alertmanagerFingerprint ?? labelsFingerprint(alert.labels)}:${alert.startsAt}`,
    source: config.name,
    family: familyOf(config, labelValue(alert.labels, config.familyLabel)),
    status: alert.status,
    // A resolved alert without an end time is timed at receipt: the source says it is over now.
    observedAt: alert.status === 'firing' ? startsAt : (endsAt ?? receivedAt),
    asset: assetLabel === undefined ? identifyingAsset(config, alert.labels) : (alert.labels[assetLabel] ?? ''),
    check: check ?? '',
    message: summary ?? description ?? check ?? '',
    severity: severityOf(config, labelValue(alert.labels, config.severityLabel)),
    control: control !== undefined && ANNEX_A_ID.test(control) ? control : config.control,
    labels: alert.labels,
    // Each member of an HA pair names itself by its external URL: its own resolved → firing is a
    // re-fire, another member's stale copy of a state already seen is a duplicate.
    ...(notification.externalURL === undefined || notification.externalURL === '' ? {} : { reporter: notification.externalURL }),
    evidence: {
      alertmanagerFingerprint,
      startsAt: alert.startsAt,
      endsAt: endsAt === null ? null : alert.endsAt,
      generatorURL: alert.generatorURL ?? null,
      externalURL: notification.externalURL ?? null,
      groupKey: notification.groupKey ?? null,
      receiver: notification.receiver ?? null,
    },
  };

  // Where each canonical field came from, so that an oversized value is named in the payload.
  const origins: Record<string, PropertyKey[]> = {
    id: alertmanagerFingerprint === null ? ['labels'] : ['fingerprint'],
    asset: assetLabel === undefined ? ['labels'] : ['labels', assetLabel],
    check: ['labels', config.checkLabel],
    message: summary !== undefined ? ['annotations', 'summary'] : description !== undefined ? ['annotations', 'description'] : ['labels', config.checkLabel],
  };
  const parsed = canonicalAlertSchema.safeParse(candidate, { error: payloadIssueMessage });
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => {
        const field = String(issue.path[0]);
        const origin = field === 'labels' ? issue.path : (origins[field] ?? []);
        return { path: payloadPath([...at, ...origin]), message: `${field}: ${issue.message}` };
      }),
    };
  }
  return { alert: parsed.data };
}

export const alertmanagerConnector: ConnectorType<typeof schema> = {
  type: 'alertmanager',
  schema,
  create(config) {
    return {
      name: config.name,
      type: 'alertmanager',
      // Alertmanager does not retry a 4xx: refusing a whole group for one alert would leave the rest waiting in the dead letters.
      intake: { auth: config.auth, subroutes: false, partial: config.partial ?? true, normalise: (body, receivedAt) => normaliseNotification(config, body, receivedAt) },
    };
  },
};

function normaliseNotification(config: AlertmanagerConfig, body: unknown, receivedAt: number): IntakeResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      alerts: [],
      errors: [{ path: payloadPath([]), message: `is ${describeValue(body)}, expected an Alertmanager webhook object (version 4)` }],
    };
  }
  const notification = notificationSchema.safeParse(body, { error: payloadIssueMessage });
  if (!notification.success) {
    return {
      alerts: [],
      errors: notification.error.issues.map((issue) => ({ path: payloadPath(issue.path), message: issue.message })),
    };
  }
  const result: IntakeResult = { alerts: [], errors: [] };
  notification.data.alerts.forEach((raw, index) => {
    const outcome = normaliseAlert(config, notification.data, raw, index, receivedAt);
    if ('alert' in outcome) result.alerts.push(outcome.alert);
    else result.errors.push(...outcome.errors);
  });
  return result;
}
