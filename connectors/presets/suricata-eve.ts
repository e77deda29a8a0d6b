/**
 * Suricata's EVE JSON (`eve.json`): one event per line, of which only `event_type: alert` is an
 * alert; flows, DNS answers, TLS handshakes and stats are skipped, not rejected. An IDS alert is a
 * discrete observation of an attack or policy violation, never a recovery, so each one fires.
 *
 * The mapping language reads one path per field, and an EVE alert has no id of its own: the
 * preset derives what it needs under `recurd` (the only field it adds to a document).
 */
import type { Severity } from '../../src/core/types.js';
import type { Preset } from './types.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalar(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** `+0100` to `+01:00`: RFC 3339 wants the extended form; anything else passes as found. */
function extendedOffset(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : value;
}

/** Suricata's priority: 1 is the most severe; rules may set any number, 4 and above are notices. */
function severityOf(priority: unknown): Severity | undefined {
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 1) return undefined;
  if (priority === 1) return 'high';
  if (priority === 2) return 'medium';
  if (priority === 3) return 'low';
  return 'info';
}

function reshape(document: unknown): unknown {
  if (!isObject(document)) return document;
  if (document.event_type !== 'alert') return [];
  const alert = isObject(document.alert) ? document.alert : {};
  const target = isObject(alert.target) ? alert.target : {};
  const gid = scalar(alert.gid);
  const sid = scalar(alert.signature_id);
  // gid:sid is how Suricata itself names a rule ([1:2013028:4] in fast.log, without the revision
  // so that a rule update keeps the symptom); flow, time and rule together name one alert.
  const check = gid !== undefined && sid !== undefined ? `${gid}:${sid}` : undefined;
  const time = scalar(document.timestamp);
  const id = check !== undefined && time !== undefined ? `${scalar(document.flow_id) ?? '-'}:${time}:${check}` : undefined;
  return {
    ...document,
    recurd: {
      id,
      check,
      observedAt: extendedOffset(document.timestamp),
      // The rule's `target` keyword names the attacked side; without it the destination is taken.
      asset: target.ip ?? document.dest_ip,
      severity: severityOf(alert.severity),
    },
  };
}

export const suricataEvePreset: Preset = {
  name: 'suricata-eve',
  description: 'Suricata EVE JSON (eve.json): event_type alert; other event types are skipped',
  family: 'siem',
  control: 'A.8.16',
  reshape,
  mapping: {
    id: 'recurd.id',
    status: { value: 'firing' },
    observedAt: 'recurd.observedAt',
    asset: 'recurd.asset',
    check: 'recurd.check',
    message: 'alert.signature',
    severity: 'recurd.severity',
    labels: {
      category: 'alert.category',
      action: 'alert.action',
      srcIp: 'src_ip',
      destIp: 'dest_ip',
      destPort: 'dest_port',
      proto: 'proto',
      appProto: 'app_proto',
      sensor: 'host',
    },
    evidence: {
      flowId: 'flow_id',
      timestamp: 'timestamp',
      signatureId: 'alert.signature_id',
      rev: 'alert.rev',
      txId: 'tx_id',
      srcPort: 'src_port',
      inIface: 'in_iface',
    },
  },
};
