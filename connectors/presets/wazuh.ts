/**
 * Wazuh alerts, one JSON document each: the lines of the manager's `alerts.json`, and the same
 * documents as the Wazuh indexer stores them (`wazuh-alerts-*`), so that a file tail and an index
 * search read them alike. Every Wazuh alert is a failure observation: the manager writes no
 * "recovered" alerts, so symptoms are fixed by quiet time or by a person.
 *
 * Wazuh writes its times with a basic offset (`2021-02-01T20:58:44.830+0000`); they are rewritten
 * with a colon under `recurd.observedAt`, the one field the preset adds to a document.
 */
import type { Preset } from './types.js';

/** `+0000` to `+00:00`: RFC 3339 wants the extended form; anything else passes as found. */
function extendedOffset(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : value;
}

function reshape(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return document;
  const alert = document as Record<string, unknown>;
  // Indexer documents carry `timestamp` too; `@timestamp` only where a pipeline dropped it.
  return { ...alert, recurd: { observedAt: extendedOffset(alert.timestamp ?? alert['@timestamp']) } };
}

/** Wazuh's rule levels (0–16) in the words of its rules classification table. */
const LEVELS: Record<string, 'info' | 'low' | 'medium' | 'high' | 'critical'> = {
  // 0 ignored, 1–3 notifications and successful or authorised events
  '0': 'info', '1': 'info', '2': 'info', '3': 'info',
  // low-priority system and user errors, low-relevance attacks
  '4': 'low', '5': 'low', '6': 'low',
  // "bad word" matches, first-time-seen events, errors from invalid sources
  '7': 'medium', '8': 'medium', '9': 'medium',
  // multiple user errors, integrity warnings, high-importance events and unusual errors
  '10': 'high', '11': 'high', '12': 'high', '13': 'high',
  // high-importance security events and severe attacks
  '14': 'critical', '15': 'critical', '16': 'critical',
};

export const wazuhPreset: Preset = {
  name: 'wazuh',
  description: "Wazuh alerts: lines of the manager's alerts.json, or the same documents from the Wazuh indexer",
  family: 'siem',
  control: 'A.8.16',
  reshape,
  mapping: {
    id: 'id',
    status: { value: 'firing' },
    observedAt: 'recurd.observedAt',
    asset: 'agent.name',
    check: 'rule.id',
    message: 'rule.description',
    severity: { path: 'rule.level', map: LEVELS },
    labels: {
      agentId: 'agent.id',
      agentIp: 'agent.ip',
      manager: 'manager.name',
      decoder: 'decoder.name',
      location: 'location',
      ruleLevel: 'rule.level',
    },
    evidence: { alertId: 'id', timestamp: 'timestamp', ruleGroups: 'rule.groups', location: 'location' },
  },
};
