/**
 * The default fingerprint fields suit every preset: on each product's real documents, every alert
 * names its check (so no masked message has to stand in), and the symptom's identity depends on
 * the check and the asset only, never on what changes between two occurrences of one failure.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FINGERPRINT_FIELDS, fingerprint } from '../../src/core/fingerprint.js';
import type { CanonicalAlert } from '../../src/core/types.js';
import { fixture, intake } from '../helpers/presets.js';

const RECEIVED_AT = Date.parse('2026-11-23T04:00:00Z');

function lines(path: string): unknown[] {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

const documents: Array<[string, unknown[]]> = [
  ['wazuh', [...lines('wazuh/alerts.json'), ...lines('wazuh/clamav-docs.alerts.json')]],
  ['suricata-eve', [...lines('suricata/eve-alerts.log'), ...lines('suricata/eve-small.log'), fixture('suricata/docs-eve-alert-to-client.json')]],
  ['grafana', ['grafana/docs-webhook-payload.json', 'grafana/alert-9-resolved.json', 'grafana/alert_values_v11.json'].map(fixture)],
  ['defender-endpoint', [fixture('defender/alert-resource.json'), ...lines('defender/elastic-test-defenderatp.log')]],
  ['defender-graph', [fixture('defender/graph-list-alerts_v2.json')]],
  ['terraform-plan', ['terraform/drift_simple.plan.json', 'terraform/drift_relevant_attributes.plan.json', 'terraform/basic_list_update.plan.json'].map(fixture)],
  ['aws-config', ['aws-config/non-compliant.eventbridge.json', 'aws-config/compliant.eventbridge.json', 'aws-config/non-compliant.eventbridge-via-sns.json', 'aws-config/compliant.sns-docs.json'].map(fixture)],
];

describe('default fingerprint fields over every preset', () => {
  it.each(documents)('%s: each alert names its check, and only the check and the asset make its identity', (preset, docs) => {
    const connector = intake(preset, preset);
    const alerts: CanonicalAlert[] = docs.flatMap((document) => connector.normalise(document, RECEIVED_AT).alerts);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      expect(alert.check).not.toBe('');
      // Another occurrence of the same failure: another id, time, status, message, severity and labels.
      const again: CanonicalAlert = {
        ...alert,
        id: `${alert.id}-again`,
        observedAt: alert.observedAt + 86_400_000,
        status: alert.status === 'firing' ? 'resolved' : 'firing',
        message: `${alert.message} (again)`,
        severity: alert.severity === 'high' ? 'low' : 'high',
        labels: {},
        evidence: {},
      };
      expect(fingerprint(again, DEFAULT_FINGERPRINT_FIELDS)).toBe(fingerprint(alert, DEFAULT_FINGERPRINT_FIELDS));
    }
    const byIdentity = new Map<string, string>();
    for (const alert of alerts) {
      const identity = JSON.stringify([alert.check, alert.asset]);
      const known = byIdentity.get(fingerprint(alert, DEFAULT_FINGERPRINT_FIELDS));
      if (known !== undefined) expect(known).toBe(identity);
      byIdentity.set(fingerprint(alert, DEFAULT_FINGERPRINT_FIELDS), identity);
    }
  });
});
