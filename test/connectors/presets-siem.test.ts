import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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

describeAnyInput('siem presets', ['wazuh'], [
  ['wazuh', lines('wazuh/clamav-docs.alerts.json')[0] ?? {}],
], RECEIVED_AT);
