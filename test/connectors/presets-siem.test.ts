import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { webhookConnector } from '../../connectors/webhook.js';
import { describeAnyInput, fixture, intake, type Json } from '../helpers/presets.js';

const RECEIVED_AT = Date.parse('2026-11-23T04:00:00Z');

function lines(path: string): Json[] {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Json);
}

describe('wazuh preset: rule level and groups, on alerts from Wazuh’s documentation', () => {
  const connector = intake('wazuh', 'wazuh');
  const [virusDetected, clamdStopped, databaseUpdate] = lines('wazuh/clamav-docs.alerts.json');
  const sshd = fixture('wazuh-indexer/wazuh-docs-agent-labels-sshd-2502.hit.json')._source;
  const fim = fixture('wazuh-indexer/wazuh-docs-fim-whodata-ebpf-550.hit.json')._source;
  const [shellshock] = lines('wazuh/alerts.json');

  it('fires a ClamAV detection as malware (A.8.7, family av), severity from its level', () => {
    expect(connector.normalise(virusDetected, RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: '1673287857.654581',
          source: 'wazuh',
          family: 'av',
          status: 'firing',
          observedAt: Date.parse('2023-01-09T18:10:57.937Z'),
          asset: 'ip-172-31-44-227',
          check: '52502',
          message: 'ClamAV: Virus detected',
          severity: 'medium',
          control: 'A.8.7',
          labels: { agentId: '016', agentIp: '172.31.44.227', manager: 'wazuh-server', decoder: 'clamd', location: '/var/log/syslog', ruleLevel: '8' },
          evidence: {
            alertId: '1673287857.654581',
            timestamp: '2023-01-09T18:10:57.937+0000',
            ruleGroups: ['clamd', 'freshclam', 'virus'],
            location: '/var/log/syslog',
          },
        },
      ],
      errors: [],
    });
    expect(connector.normalise(clamdStopped, RECEIVED_AT).alerts).toEqual([
      expect.objectContaining({ check: '52510', status: 'firing', severity: 'low', family: 'av', control: 'A.8.7' }),
    ]);
  });

  it('skips an informational alert (level 0–3): a signature update is no failure', () => {
    expect(databaseUpdate?.rule).toMatchObject({ level: 3, description: 'ClamAV database update' });
    expect(connector.normalise(databaseUpdate, RECEIVED_AT)).toEqual({ alerts: [], errors: [] });
    for (const level of [0, 1, 2, 3]) {
      expect(connector.normalise({ ...virusDetected, rule: { ...(virusDetected?.rule as Json), level } }, RECEIVED_AT)).toEqual({ alerts: [], errors: [] });
    }
    expect(connector.normalise({ ...virusDetected, rule: { ...(virusDetected?.rule as Json), level: 4 } }, RECEIVED_AT).alerts).toHaveLength(1);
  });

  it('maps failed logins to A.8.5, file integrity to A.8.9 (config-drift), and other rules to A.8.16', () => {
    const controls = [sshd, fim, shellshock].map((document) => {
      const [alert] = connector.normalise(document, RECEIVED_AT).alerts;
      return { check: alert?.check, family: alert?.family, control: alert?.control, severity: alert?.severity };
    });
    expect(controls).toEqual([
      { check: '2502', family: 'siem', control: 'A.8.5', severity: 'high' },
      { check: '550', family: 'config-drift', control: 'A.8.9', severity: 'medium' },
      { check: '31168', family: 'siem', control: 'A.8.16', severity: 'critical' },
    ]);
  });

  it('names a level the ruleset does not have, and lets the admin move the threshold', () => {
    expect(connector.normalise({ ...virusDetected, rule: { ...(virusDetected?.rule as Json), level: 17 } }, RECEIVED_AT).errors).toEqual([
      { path: 'rule.level', message: 'status: is "17", not one of "firing", "resolved" after mapping' },
      { path: 'rule.level', message: 'severity: is "17", not one of "info", "low", "medium", "high", "critical" after mapping' },
    ]);
    const everyLevel = intake('wazuh', 'wazuh', { mapping: { status: { value: 'firing' } } });
    expect(everyLevel.normalise(databaseUpdate, RECEIVED_AT).alerts).toEqual([
      expect.objectContaining({ check: '52507', status: 'firing', severity: 'info', control: 'A.8.7' }),
    ]);
  });
});

describe('suricata-eve preset: the asset is the home side of the flow', () => {
  const connector = intake('suricata', 'suricata-eve');
  const [curlOutbound] = lines('suricata/eve-alerts.log');
  const trojanInbound = fixture('suricata/docs-eve-alert-to-client.json');
  const assetOf = (document: Json, fields: Json = {}): string | undefined =>
    intake('suricata', 'suricata-eve', fields).normalise(document, RECEIVED_AT).alerts[0]?.asset;

  it('names the internal client of an outbound request, not the server it called', () => {
    expect(curlOutbound).toMatchObject({ src_ip: '192.168.1.146', dest_ip: '93.184.216.34' });
    expect(connector.normalise(curlOutbound, RECEIVED_AT).alerts).toEqual([
      expect.objectContaining({ check: '1:2013028', asset: '192.168.1.146', labels: expect.objectContaining({ destIp: '93.184.216.34' }) as unknown }),
    ]);
  });

  it('reads the flow’s own sides (Suricata 7), not the packet’s, on an answer to the client', () => {
    expect(trojanInbound).toMatchObject({ direction: 'to_client', src_ip: '142.11.240.191', flow: { src_ip: '192.168.100.237', dest_ip: '142.11.240.191' } });
    expect(assetOf(trojanInbound)).toBe('192.168.100.237');
    // A server the organisation runs itself is the home side, whichever packet fired the rule.
    expect(assetOf(trojanInbound, { options: { homeNet: ['142.11.240.0/24'] } })).toBe('142.11.240.191');
    // Both sides inside, or neither: the server, the target of the flow.
    expect(assetOf(trojanInbound, { options: { homeNet: ['0.0.0.0/0'] } })).toBe('142.11.240.191');
    expect(assetOf(trojanInbound, { options: { homeNet: ['fc00::/7'] } })).toBe('142.11.240.191');
  });

  it('falls back on direction where the alert has no flow addresses, then on the packet as client to server', () => {
    const { flow: _flow, ...withoutFlow } = trojanInbound;
    expect(assetOf(withoutFlow, { options: { homeNet: ['0.0.0.0/0'] } })).toBe('142.11.240.191');
    const { direction: _direction, ...withoutDirection } = withoutFlow;
    expect(assetOf(withoutDirection, { options: { homeNet: ['0.0.0.0/0'] } })).toBe('192.168.100.237');
    expect(assetOf(withoutDirection)).toBe('192.168.100.237');
  });

  it('matches IPv6 home networks by CIDR', () => {
    const v6 = { ...trojanInbound, flow: { src_ip: 'fd00:0000:0000:0000:0000:0000:0000:0001', dest_ip: '2001:0db8:0000:0000:0000:0000:0000:0001' } };
    expect(assetOf(v6)).toBe('fd00:0000:0000:0000:0000:0000:0000:0001');
    expect(assetOf(v6, { options: { homeNet: ['2001:db8::/32'] } })).toBe('2001:0db8:0000:0000:0000:0000:0000:0001');
  });

  it('names an invalid network, and an option the chosen preset does not take', () => {
    const problems = (fields: Json): string[] => {
      const result = webhookConnector.schema.safeParse({ type: 'webhook', name: 'ids', auth: { type: 'bearer', token: 't' }, ...fields });
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(problems({ preset: 'suricata-eve', options: { homeNet: ['10.0.0.0/8', '192.168.0/16', '10.0.0.0/33', 'fc00::/129', 'fc00::'] } })).toEqual([
      'options.homeNet.1: is "192.168.0/16", not a network in CIDR notation such as 10.0.0.0/8 or fc00::/7',
      'options.homeNet.2: is "10.0.0.0/33", not a network in CIDR notation such as 10.0.0.0/8 or fc00::/7',
      'options.homeNet.3: is "fc00::/129", not a network in CIDR notation such as 10.0.0.0/8 or fc00::/7',
      'options.homeNet.4: is "fc00::", not a network in CIDR notation such as 10.0.0.0/8 or fc00::/7',
    ]);
    expect(problems({ preset: 'suricata-eve', options: { homeNet: [] } })).toHaveLength(1);
    expect(problems({ preset: 'suricata-eve', options: { homenet: ['10.0.0.0/8'] } })).toEqual(['options: Unrecognized key: "homenet"']);
    expect(problems({ preset: 'grafana', options: { homeNet: ['10.0.0.0/8'] } })).toEqual(['options.homeNet: is a setting of the suricata-eve preset, not of grafana']);
  });
});

describeAnyInput('siem presets', ['wazuh', 'suricata-eve'], [
  ['wazuh', lines('wazuh/clamav-docs.alerts.json')[0] ?? {}],
  ['suricata-eve', fixture('suricata/docs-eve-alert-to-client.json')],
], RECEIVED_AT);
