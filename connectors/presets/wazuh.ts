/**
 * Wazuh alerts, one JSON document each: the lines of the manager's `alerts.json`, and the same
 * documents as the Wazuh indexer stores them (`wazuh-alerts-*`), so that a file tail and an index
 * search read them alike. A Wazuh alert of level 4 or above is a failure observation: the manager
 * writes no "recovered" alerts, so symptoms are fixed by quiet time or by a person. Levels 0–3 are
 * notifications and successful events (a signature update, a login): no failure, so they are
 * skipped by the mapping's status, where an admin can move the threshold.
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

type Level = { severity: 'info' | 'low' | 'medium' | 'high' | 'critical'; status: 'firing' | 'skip' };

/** Wazuh's rule levels (0–16) in the words of its rules classification table. */
const LEVELS: Record<string, Level> = {
  // 0 ignored, 1–3 notifications and successful or authorised events: no failure, so no alert
  '0': { severity: 'info', status: 'skip' }, '1': { severity: 'info', status: 'skip' },
  '2': { severity: 'info', status: 'skip' }, '3': { severity: 'info', status: 'skip' },
  // low-priority system and user errors, low-relevance attacks
  '4': { severity: 'low', status: 'firing' }, '5': { severity: 'low', status: 'firing' }, '6': { severity: 'low', status: 'firing' },
  // "bad word" matches, first-time-seen events, errors from invalid sources
  '7': { severity: 'medium', status: 'firing' }, '8': { severity: 'medium', status: 'firing' }, '9': { severity: 'medium', status: 'firing' },
  // multiple user errors, integrity warnings, high-importance events and unusual errors
  '10': { severity: 'high', status: 'firing' }, '11': { severity: 'high', status: 'firing' },
  '12': { severity: 'high', status: 'firing' }, '13': { severity: 'high', status: 'firing' },
  // high-importance security events and severe attacks
  '14': { severity: 'critical', status: 'firing' }, '15': { severity: 'critical', status: 'firing' }, '16': { severity: 'critical', status: 'firing' },
};

function byLevel<K extends keyof Level>(key: K): Record<string, Level[K]> {
  return Object.fromEntries(Object.entries(LEVELS).map(([level, meaning]) => [level, meaning[key]]));
}

/**
 * `rule.groups` as Wazuh's ruleset names them, to the Annex A control and family they belong to;
 * an alert takes the first of its groups listed here, else the preset's siem and A.8.16.
 * Malware (A.8.7, family av): the antivirus rules (`virus`: ClamAV, McAfee, Symantec, Trend Micro;
 * `clamd`, `freshclam`; `windows_defender`), VirusTotal's (`virustotal`), the malicious-IOC hash
 * rules (`malware`), rootkit and trojan detection (`rootcheck`; osquery's `ossec_rootkit`) and the
 * documented YARA rules (`yara`). File integrity monitoring (`syscheck`) is A.8.9 (configuration
 * management: configurations monitored for change), family config-drift, as the aide preset.
 * Failed logins are A.8.5 (secure authentication).
 */
const GROUPS: Record<string, { control: string; family?: 'av' | 'config-drift' }> = {
  virus: { control: 'A.8.7', family: 'av' },
  clamd: { control: 'A.8.7', family: 'av' },
  freshclam: { control: 'A.8.7', family: 'av' },
  windows_defender: { control: 'A.8.7', family: 'av' },
  virustotal: { control: 'A.8.7', family: 'av' },
  malware: { control: 'A.8.7', family: 'av' },
  rootcheck: { control: 'A.8.7', family: 'av' },
  ossec_rootkit: { control: 'A.8.7', family: 'av' },
  yara: { control: 'A.8.7', family: 'av' },
  syscheck: { control: 'A.8.9', family: 'config-drift' },
  authentication_failed: { control: 'A.8.5' },
  authentication_failures: { control: 'A.8.5' },
  invalid_login: { control: 'A.8.5' },
  login_denied: { control: 'A.8.5' },
};

const controlOfGroup = Object.fromEntries(Object.entries(GROUPS).map(([group, { control }]) => [group, control]));
const familyOfGroup = Object.fromEntries(
  Object.entries(GROUPS).flatMap(([group, { family }]) => (family === undefined ? [] : [[group, family]])),
);

export const wazuhPreset: Preset = {
  name: 'wazuh',
  description: "Wazuh alerts: lines of the manager's alerts.json, or the same documents from the Wazuh indexer",
  family: 'siem',
  control: 'A.8.16',
  reshape,
  mapping: {
    id: 'id',
    // Wazuh writes no recovery: level 4 and above fire, 0–3 (notifications, successful events) are skipped.
    status: { path: 'rule.level', map: byLevel('status'), default: 'firing' },
    observedAt: 'recurd.observedAt',
    family: { path: 'rule.groups', map: familyOfGroup },
    asset: 'agent.name',
    check: 'rule.id',
    message: 'rule.description',
    severity: { path: 'rule.level', map: byLevel('severity') },
    control: { path: 'rule.groups', map: controlOfGroup },
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
