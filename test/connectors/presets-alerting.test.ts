import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labelsFingerprint } from '../../connectors/alertmanager.js';
import { describeAnyInput, fixture, intake, type Json } from '../helpers/presets.js';

const RECEIVED_AT = Date.parse('2026-11-23T04:00:00Z');

function read(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
}


describe('grafana preset, on Grafana’s documented payload and captured notifications', () => {
  const connector = intake('grafana', 'grafana');

  it('maps each alert of the documented webhook payload', () => {
    const group = { receiver: 'My Super Webhook', externalURL: 'https://play.grafana.org/', groupKey: '{}:{}', orgId: 1 };
    expect(connector.normalise(fixture('grafana/docs-webhook-payload.json'), RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: 'c6eadffa33fcdf37:2021-10-12T09:51:03.157076+02:00',
          source: 'grafana',
          family: 'siem',
          status: 'firing',
          observedAt: Date.parse('2021-10-12T07:51:03.157Z'),
          asset: 'team=blue,zone=us-1',
          check: 'High memory usage',
          message: 'This alert was triggered for zone us-1',
          severity: 'medium',
          control: 'A.8.16',
          labels: { alertname: 'High memory usage' },
          evidence: {
            grafanaFingerprint: 'c6eadffa33fcdf37',
            startsAt: '2021-10-12T09:51:03.157076+02:00',
            endsAt: '0001-01-01T00:00:00Z',
            labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
            annotations: {
              description: 'The system has high memory usage',
              runbook_url: 'https://myrunbook.com/runbook/1234',
              summary: 'This alert was triggered for zone us-1',
            },
            values: { B: 44.23943737541908, C: 1 },
            generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
            silenceURL: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
            dashboardURL: '',
            panelURL: '',
            ...group,
          },
        },
        expect.objectContaining({
          id: 'bc97ff14869b13e3:2021-10-12T09:56:03.157076+02:00',
          status: 'firing',
          observedAt: Date.parse('2021-10-12T07:56:03.157Z'),
          asset: 'team=blue,zone=eu-1',
          check: 'High CPU usage',
        }),
      ],
      errors: [],
    });
  });

  it('times a resolved alert by its end, under the id of its episode', () => {
    const { alerts, errors } = connector.normalise(fixture('grafana/alert-9-resolved.json'), RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts).toEqual([
      expect.objectContaining({
        id: 'd8a21484c9c25a60:2022-06-17T00:41:00.782137894Z',
        status: 'resolved',
        observedAt: Date.parse('2022-06-17T00:51:24.067Z'),
        asset: 'test=true',
        check: 'Test alert',
        message: 'This is a summary field, failure on <no value>',
      }),
    ]);
  });

  it("keeps Go's zero endsAt of a firing alert out of its time, and refuses it as a resolved alert's end", () => {
    const payload = fixture('grafana/alert_values_v11.json');
    const [firing] = payload.alerts as Json[];
    expect(firing?.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(connector.normalise(payload, RECEIVED_AT).alerts[0]?.observedAt).toBe(Date.parse('2024-03-01T02:09:00Z'));
    expect(connector.normalise({ ...payload, alerts: [{ ...firing, status: 'resolved' }] }, RECEIVED_AT).errors).toEqual([
      { path: 'alerts[0].observedAt', message: 'observedAt: is "0001-01-01T00:00:00Z" (0001-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
    ]);
  });

  it('reads Grafana 11 notifications, folder label and image included', () => {
    const [alert] = connector.normalise(fixture('grafana/alert_values_v11.json'), RECEIVED_AT).alerts;
    expect(alert).toMatchObject({
      id: 'e6349a25f5ef0e9e:2024-03-01T02:09:00Z',
      asset: 'debug=true',
      check: 'Memory (copy)',
      labels: { alertname: 'Memory (copy)', grafana_folder: 'device' },
      evidence: { imageURL: 'https://grafana.com/assets/img/blog/mixed_styles.png', values: { A: 2473545728, B: 0, C: 1, minute: 9 } },
    });
  });

  it('takes severity, family and control from labels only where they hold a valid value', () => {
    const base = fixture('grafana/alert-9-resolved.json');
    const [alert] = base.alerts as Json[];
    const labelled = (labels: Json) => ({ ...base, alerts: [{ ...alert, labels: { ...(alert?.labels as Json), ...labels } }] });
    expect(connector.normalise(labelled({ severity: 'warning', family: 'backup', control: 'A.8.13' }), RECEIVED_AT).alerts[0]).toMatchObject({
      severity: 'medium',
      family: 'backup',
      control: 'A.8.13',
      labels: { severity: 'warning' },
    });
    expect(connector.normalise(labelled({ severity: 'P1', family: 'network', control: '12.3.1' }), RECEIVED_AT).alerts[0]).toMatchObject({
      severity: 'medium',
      family: 'siem',
      control: 'A.8.16',
    });
  });

  it('stands in a labels hash for a missing fingerprint, and names a missing status by its path', () => {
    const base = fixture('grafana/alert-9-resolved.json');
    const [alert] = base.alerts as Json[];
    const [hashed] = connector.normalise({ ...base, alerts: [{ ...alert, fingerprint: undefined }] }, RECEIVED_AT).alerts;
    expect(hashed?.id).toBe(`${labelsFingerprint({ alertname: 'Test alert', test: 'true' })}:2022-06-17T00:41:00.782137894Z`);
    expect(connector.normalise({ ...base, alerts: [{ ...alert, status: undefined }] }, RECEIVED_AT)).toEqual({
      alerts: [],
      errors: [{ path: 'alerts[0].status', message: 'status: missing' }],
    });
  });
});

describe('defender-endpoint preset, on alerts from the Defender for Endpoint API', () => {
  const connector = intake('mde', 'defender-endpoint');
  const [resolvedMalware, newInjection, , informationalResolved, emptyPage] = read('defender/elastic-test-defenderatp.log')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Json);

  it('maps the documented Alert resource', () => {
    expect(connector.normalise(fixture('defender/alert-resource.json'), RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: 'da637472900382838869_1364969609',
          source: 'mde',
          family: 'av',
          status: 'firing',
          observedAt: Date.parse('2021-01-26T20:31:32.956Z'),
          asset: 'temp123.middleeast.corp.microsoft.com',
          check: 'Low-reputation arbitrary code executed by signed executable',
          message: 'Low-reputation arbitrary code executed by signed executable',
          severity: 'low',
          control: 'A.8.16',
          labels: {
            category: 'Execution',
            detection_source: 'WindowsDefenderAtp',
            detector_id: '17e10bbc-3a68-474a-8aad-faef14d43952',
            machine_id: '111e6dd8c833c8a052ea231ec1b19adaf497b625',
            rbac_group: 'A',
            incident_id: '1126093',
          },
          evidence: expect.objectContaining({
            alertId: 'da637472900382838869_1364969609',
            incidentId: 1126093,
            investigationState: 'Queued',
            alertCreationTime: '2021-01-26T20:33:57.7220239Z',
            firstEventTime: '2021-01-26T20:31:32.9562661Z',
            lastUpdateTime: '2021-01-26T20:33:59.2Z',
            mitreTechniques: ['T1064', 'T1085', 'T1220'],
            evidence: expect.arrayContaining([expect.objectContaining({ entityType: 'File', fileName: 'suspicious.dll' })]) as unknown,
          }) as unknown,
        },
      ],
      errors: [],
    });
  });

  it('resolves a Resolved alert at its resolution time, as malware under A.8.7', () => {
    expect(connector.normalise(resolvedMalware, RECEIVED_AT).alerts).toEqual([
      expect.objectContaining({
        id: 'da637291085411733957_-1043898914',
        status: 'resolved',
        observedAt: Date.parse('2020-06-30T11:13:12.268Z'),
        asset: 'testserver4',
        check: "An active 'Exeselrun' malware was detected",
        severity: 'low',
        control: 'A.8.7',
      }),
    ]);
    expect(connector.normalise(informationalResolved, RECEIVED_AT).alerts[0]).toMatchObject({ status: 'resolved', severity: 'info' });
  });

  it('reads a List alerts page alert by alert, and an empty page as no alerts', () => {
    const { alerts, errors } = connector.normalise({ value: [newInjection, resolvedMalware] }, RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts.map(({ id, status, control, observedAt }) => ({ id, status, control, observedAt }))).toEqual([
      { id: 'da637291048912199236_1126926584', status: 'firing', control: 'A.8.16', observedAt: Date.parse('2020-06-30T09:04:56.849Z') },
      { id: 'da637291085411733957_-1043898914', status: 'resolved', control: 'A.8.7', observedAt: Date.parse('2020-06-30T11:13:12.268Z') },
    ]);
    expect(connector.normalise(emptyPage, RECEIVED_AT)).toEqual({ alerts: [], errors: [] });
  });

  it('names a missing status or resolution time by its place', () => {
    expect(connector.normalise({ ...resolvedMalware, status: undefined }, RECEIVED_AT).errors).toEqual([{ path: 'status', message: 'status: missing' }]);
    expect(connector.normalise({ value: [newInjection, { ...resolvedMalware, resolvedTime: null }] }, RECEIVED_AT).errors).toEqual([
      { path: '[1].observedAt', message: 'observedAt: missing' },
    ]);
  });

  it("takes the admin's fields over the preset's one by one", () => {
    const byDetector = intake('mde', 'defender-endpoint', {
      mapping: { check: 'detectorId', control: { value: 'A.8.7' }, labels: { tenant: 'aadTenantId' } },
    });
    const [alert] = byDetector.normalise(fixture('defender/alert-resource.json'), RECEIVED_AT).alerts;
    expect(alert).toMatchObject({
      check: '17e10bbc-3a68-474a-8aad-faef14d43952',
      message: 'Low-reputation arbitrary code executed by signed executable',
      control: 'A.8.7',
      labels: { category: 'Execution', tenant: 'a839b112-1253-6432-9bf6-94542403f21c' },
    });
  });
});

describe('defender-graph preset, on alerts of the Microsoft Graph security API (alerts_v2)', () => {
  const connector = intake('xdr', 'defender-graph');
  const page = fixture('defender/graph-list-alerts_v2.json');
  const [documented] = page.value as Json[];
  const alertWith = (fields: Json): Json => ({ ...documented, ...fields });
  const evidence = (documented?.evidence ?? []) as Json[];
  const [device] = evidence;

  it('maps the documented List alerts_v2 page: asset from the device evidence, antivirus as malware under A.8.7', () => {
    expect(connector.normalise(page, RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: 'da637551227677560813_-961444813',
          source: 'xdr',
          family: 'av',
          status: 'firing',
          observedAt: Date.parse('2021-04-26T07:45:50.116Z'),
          asset: 'tempDns',
          check: 'Suspicious execution of hidden file',
          message: 'Suspicious execution of hidden file',
          severity: 'low',
          control: 'A.8.7',
          labels: {
            category: 'DefenseEvasion',
            service_source: 'microsoftDefenderForEndpoint',
            detection_source: 'antivirus',
            detector_id: 'e0da400f-affd-43ef-b1d5-afc2eb6f2756',
            incident_id: '28282',
            tenant_id: 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c',
          },
          evidence: expect.objectContaining({
            alertId: 'da637551227677560813_-961444813',
            providerAlertId: 'da637551227677560813_-961444813',
            alertWebUrl: 'https://security.microsoft.com/alerts/da637551227677560813_-961444813?tid=b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c',
            classification: 'unknown',
            determination: 'unknown',
            createdDateTime: '2021-04-27T12:19:27.7211305Z',
            mitreTechniques: ['T1564.001'],
            evidence: expect.arrayContaining([expect.objectContaining({ '@odata.type': '#microsoft.graph.security.fileEvidence' })]) as unknown,
          }) as unknown,
        },
      ],
      errors: [],
    });
    expect(connector.normalise(documented, RECEIVED_AT).alerts).toHaveLength(1);
    expect(connector.normalise({ value: [] }, RECEIVED_AT)).toEqual({ alerts: [], errors: [] });
  });

  it('resolves a resolved alert at its resolution time, and puts non-malware detections under A.8.16', () => {
    // The documented alert as Defender returns it once an analyst resolves it.
    const resolved = alertWith({ status: 'resolved', resolvedDateTime: '2021-05-03T09:00:00Z', detectionSource: 'microsoftDefenderForEndpoint' });
    expect(connector.normalise(resolved, RECEIVED_AT).alerts).toEqual([
      expect.objectContaining({ status: 'resolved', observedAt: Date.parse('2021-05-03T09:00:00Z'), check: 'Suspicious execution of hidden file', control: 'A.8.16' }),
    ]);
    expect(connector.normalise(alertWith({ status: 'inProgress', severity: 'informational', category: 'Malware', detectionSource: 'smartScreen' }), RECEIVED_AT).alerts[0]).toMatchObject({
      status: 'firing',
      severity: 'info',
      control: 'A.8.7',
    });
  });

  it('takes the device id where Defender has not named the device, else a user account', () => {
    const unnamed = { ...device, deviceDnsName: null };
    expect(connector.normalise(alertWith({ evidence: [unnamed, ...evidence.slice(1)] }), RECEIVED_AT).alerts[0]?.asset).toBe('73e7e2de709dff64ef64b1d0c30e67fab63279db');
    const processEvidence = evidence[2] as Json;
    const user = { '@odata.type': '#microsoft.graph.security.userEvidence', userAccount: processEvidence.userAccount };
    expect(connector.normalise(alertWith({ evidence: [user] }), RECEIVED_AT).alerts[0]?.asset).toBe('SYSTEM');
  });

  it('names a missing status or resolution time by its place', () => {
    expect(connector.normalise({ value: [alertWith({ status: undefined })] }, RECEIVED_AT).errors).toEqual([{ path: '[0].status', message: 'status: missing' }]);
    expect(connector.normalise({ value: [documented, alertWith({ status: 'resolved' })] }, RECEIVED_AT).errors).toEqual([
      { path: '[1].recurd.observedAt', message: 'observedAt: missing' },
    ]);
  });
});

describeAnyInput('alerting presets', ['grafana', 'defender-endpoint', 'defender-graph'], [
  ['grafana', fixture('grafana/docs-webhook-payload.json')],
  ['defender-endpoint', fixture('defender/alert-resource.json')],
  ['defender-graph', fixture('defender/graph-list-alerts_v2.json')],
], RECEIVED_AT);
