/**
 * Elastic Security detection alerts, the documents of `.alerts-security.alerts-<space>` (Kibana
 * 8.0 and later), as the `elasticsearch` connector reads them from the index.
 *
 * Kibana writes most alert fields as dotted keys at the top of `_source`
 * (`"kibana.alert.rule.name": …`) beside ECS objects (`"host": {"name": …}`); Elasticsearch reads
 * both as the same field, and so does this preset: `reshape` expands the dotted keys first.
 *
 * An alert document is one firing observation of a rule on a host. An analyst closing the alert
 * (`kibana.alert.workflow_status: closed`) is the fix; Kibana stamps the change in
 * `kibana.alert.workflow_status_updated_at`, which the connector polls as well
 * ({@link elasticSecurityStatusChanges}).
 */
import type { Preset } from './types.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own, enumerable property, even for a key such as `__proto__` that plain assignment would not create. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function place(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  const existing = Object.hasOwn(target, head) ? target[head] : undefined;
  if (rest.length === 0) {
    if (existing === undefined) define(target, head, value);
    else if (isObject(existing) && isObject(value)) for (const [key, inner] of Object.entries(value)) place(existing, [key], inner);
    return;
  }
  if (existing === undefined) {
    const branch: Record<string, unknown> = {};
    define(target, head, branch);
    place(branch, rest, value);
  } else if (isObject(existing)) {
    place(existing, rest, value);
  }
  // A leaf already stands where an object would go: Elasticsearch refuses such a document, so the
  // first value is kept rather than guessing which one was meant.
}

/**
 * A document with its dotted keys expanded into objects, as Elasticsearch reads it:
 * `{"kibana.alert.uuid": "x", "host": {"name": "h"}}` becomes `{kibana: {alert: {uuid: "x"}}, host: {name: "h"}}`.
 * Keys with an empty segment (`a..b`, `.a`) are not field paths and stay as they are.
 */
export function expandDottedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expandDottedKeys);
  if (!isObject(value)) return value;
  const expanded: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const segments = key.split('.');
    place(expanded, segments.includes('') ? [key] : segments, expandDottedKeys(inner));
  }
  return expanded;
}

/** Where Kibana keeps an alert's workflow status, and the statuses that mean the symptom was fixed. */
export const elasticSecurityStatusChanges = {
  timestampField: 'kibana.alert.workflow_status_updated_at',
  statusField: 'kibana.alert.workflow_status',
  resolvedValues: ['closed'],
} as const;

export const elasticSecurityPreset: Preset = {
  name: 'elastic-security',
  description: 'Elastic Security detection alerts (.alerts-security.alerts-* documents, Kibana 8+), read from the index',
  family: 'siem',
  control: 'A.8.16',
  reshape: expandDottedKeys,
  mapping: {
    id: 'kibana.alert.uuid',
    // Each document is a detection; its closing is polled separately as the `resolved` observation.
    status: { value: 'firing' },
    observedAt: '@timestamp',
    asset: 'host.name',
    // rule_id, not the saved object's uuid: it stays the same across spaces, exports and upgrades.
    check: 'kibana.alert.rule.rule_id',
    message: 'kibana.alert.reason',
    severity: 'kibana.alert.severity',
    labels: {
      rule: 'kibana.alert.rule.name',
      ruleUuid: 'kibana.alert.rule.uuid',
      ruleType: 'kibana.alert.rule.type',
      riskScore: 'kibana.alert.risk_score',
      space: 'kibana.space_ids.0',
      hostId: 'host.id',
      user: 'user.name',
    },
    evidence: {
      alertUrl: 'kibana.alert.url',
      originalTime: 'kibana.alert.original_time',
      sourceEvents: 'kibana.alert.ancestors',
      kibanaVersion: 'kibana.version',
    },
  },
};
