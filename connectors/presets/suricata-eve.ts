/**
 * Suricata's EVE JSON (`eve.json`): one event per line, of which only `event_type: alert` is an
 * alert; flows, DNS answers, TLS handshakes and stats are skipped, not rejected. An IDS alert is a
 * discrete observation of an attack or policy violation, never a recovery, so each one fires.
 *
 * The mapping language reads one path per field, and an EVE alert has no id of its own: the
 * preset derives what it needs under `recurd` (the only field it adds to a document).
 *
 * The asset is the home side of the flow: an alert on an outbound request names the internal
 * client, not the server it called. `src_ip`/`dest_ip` are those of the packet that fired the
 * rule, so the flow's own sides come from `flow.src_ip`/`flow.dest_ip` (Suricata 7), else from
 * `direction` (`to_client`: the packet came from the server), else the packet is taken as
 * client to server.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type { Severity } from '../../src/core/types.js';
import { describeValue } from '../payload.js';
import { presetOptions, type Preset } from './types.js';

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

/** Suricata's own default HOME_NET, with the IPv6 unique local addresses. */
const DEFAULT_HOME_NET = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];

interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8` as BlockList takes it; the address is judged by node:net, not by hand. */
function networkOf(cidr: string): Network | undefined {
  const slash = cidr.lastIndexOf('/');
  const address = cidr.slice(0, slash);
  const prefix = cidr.slice(slash + 1);
  const version = isIP(address);
  if (slash < 0 || version === 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix: Number(prefix), family: version === 4 ? 'ipv4' : 'ipv6' };
}

const cidr = z.string().refine((value) => networkOf(value) !== undefined, {
  error: (issue) => `is ${describeValue(issue.input)}, not a network in CIDR notation such as 10.0.0.0/8 or fc00::/7`,
});

const options = {
  homeNet: z
    .array(cidr)
    .min(1)
    .optional()
    .describe(`suricata-eve: the networks of the organisation, in CIDR notation; the side of a flow inside them is the asset (default ${DEFAULT_HOME_NET.join(', ')})`),
};

function homeNetOf(networks: readonly string[]): (ip: unknown) => boolean {
  const list = new BlockList();
  for (const network of networks.map(networkOf)) if (network !== undefined) list.addSubnet(network.address, network.prefix, network.family);
  return (ip) => {
    if (typeof ip !== 'string') return false;
    const version = isIP(ip);
    return version !== 0 && list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The internal side of the flow: the one inside the home net; when both or neither are, the
 * server (the target of the flow), as a rule without `target` is read.
 */
function assetOf(document: Json, inHomeNet: (ip: unknown) => boolean): unknown {
  const flow = isObject(document.flow) ? document.flow : {};
  const [client, server] =
    flow.src_ip !== undefined && flow.dest_ip !== undefined
      ? [flow.src_ip, flow.dest_ip]
      : document.direction === 'to_client'
        ? [document.dest_ip, document.src_ip]
        : [document.src_ip, document.dest_ip];
  return inHomeNet(client) && !inHomeNet(server) ? client : server;
}

function reshape(document: unknown, inHomeNet: (ip: unknown) => boolean): unknown {
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
      // The rule's `target` keyword names the attacked side; without it, the home side of the flow.
      asset: target.ip ?? assetOf(document, inHomeNet),
      severity: severityOf(alert.severity),
    },
  };
}

export const suricataEvePreset: Preset = {
  name: 'suricata-eve',
  description: 'Suricata EVE JSON (eve.json): event_type alert; other event types are skipped',
  family: 'siem',
  control: 'A.8.16',
  options: presetOptions(options, ({ homeNet }) => {
    const inHomeNet = homeNetOf(homeNet ?? DEFAULT_HOME_NET);
    return (document) => reshape(document, inHomeNet);
  }),
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
