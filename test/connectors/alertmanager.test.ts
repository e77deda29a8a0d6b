import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EARLIEST_EVENT_TIME } from '../../src/core/event-time.js';
import { canonicalAlertSchema } from '../../src/core/types.js';
import { syncIntake, testServices, type SyncIntake } from '../helpers/connectors.js';
import { alertmanagerConnector, labelsFingerprint } from '../../connectors/alertmanager.js';

const FIXTURE = new URL('../fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url);
const [firingNotification, resolvedNotification] = readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Record<string, unknown>);

const RECEIVED_AT = Date.parse('2026-11-22T16:05:00Z');

function intake(fields: Record<string, unknown> = {}): SyncIntake {
  return syncIntake(
    alertmanagerConnector.create(
    alertmanagerConnector.schema.parse({
      type: 'alertmanager',
      name: 'prometheus',
      auth: { type: 'bearer', token: 't' },
      family: 'backup',
      control: 'A.8.13',
      ...fields,
    }),
    testServices(),
    ),
  );
}

/** A notification of one alert, based on the real firing one, with the alert's fields replaced. */
function notificationOf(alert: Record<string, unknown>, group: Record<string, unknown> = {}): Record<string, unknown> {
  const alerts = firingNotification?.alerts as Record<string, unknown>[];
  return { ...firingNotification, ...group, alerts: [{ ...alerts[0], ...alert }] };
}

describe('alertmanager connector: the real 0.25 firing and resolved pair', () => {
  const labels = { alertname: 'BackupJobFailed', instance: 'srv-db-01', job: 'nightly-backup', severity: 'critical' };
  const common = {
    id: 'b646c92a58e6de72:2026-11-22T16:04:17Z',
    source: 'prometheus',
    family: 'backup',
    asset: 'srv-db-01',
    check: 'BackupJobFailed',
    message: 'nightly backup of srv-db-01 failed',
    severity: 'critical',
    control: 'A.8.13',
    labels,
    // The sender: an HA pair's members tell their own state changes from each other's stale copies.
    reporter: 'http://vm:19094',
  };
  const group = { externalURL: 'http://vm:19094', groupKey: '{}:{alertname="BackupJobFailed", instance="srv-db-01"}', receiver: 'cap' };

  it('maps the firing notification', () => {
    expect(intake().normalise(firingNotification, RECEIVED_AT)).toEqual({
      alerts: [
        {
          ...common,
          status: 'firing',
          observedAt: Date.parse('2026-11-22T16:04:17Z'),
          evidence: {
            alertmanagerFingerprint: 'b646c92a58e6de72',
            startsAt: '2026-11-22T16:04:17Z',
            endsAt: null,
            generatorURL: 'http://prometheus.example:9090/graph?g0.expr=backup_last_success',
            ...group,
          },
        },
      ],
      errors: [],
    });
  });

  it('maps the resolved notification to the same id, timed at endsAt', () => {
    expect(intake().normalise(resolvedNotification, RECEIVED_AT)).toEqual({
      alerts: [
        {
          ...common,
          status: 'resolved',
          observedAt: Date.parse('2026-11-22T16:04:21Z'),
          evidence: {
            alertmanagerFingerprint: 'b646c92a58e6de72',
            startsAt: '2026-11-22T16:04:17Z',
            endsAt: '2026-11-22T16:04:21Z',
            generatorURL: '',
            ...group,
          },
        },
      ],
      errors: [],
    });
  });
});

describe('alertmanager connector: mapping', () => {
  it('times a resolved alert without an end at receipt', () => {
    for (const endsAt of ['0001-01-01T00:00:00Z', undefined]) {
      const [alert] = intake().normalise(notificationOf({ status: 'resolved', endsAt }), RECEIVED_AT).alerts;
      expect(alert?.observedAt).toBe(RECEIVED_AT);
      expect(alert?.evidence.endsAt).toBeNull();
    }
  });

  it('computes a stable fingerprint from the labels when Alertmanager sends none', () => {
    const [alert] = intake().normalise(notificationOf({ fingerprint: undefined }), RECEIVED_AT).alerts;
    const labels = { alertname: 'BackupJobFailed', instance: 'srv-db-01', job: 'nightly-backup', severity: 'critical' };
    expect(alert?.id).toBe(`${labelsFingerprint(labels)}:2026-11-22T16:04:17Z`);
    expect(alert?.evidence.alertmanagerFingerprint).toBeNull();
    expect(labelsFingerprint({ severity: 'critical', job: 'nightly-backup', instance: 'srv-db-01', alertname: 'BackupJobFailed' })).toBe(
      labelsFingerprint(labels),
    );
  });

  it('keeps label sets that would concatenate alike apart', () => {
    expect(labelsFingerprint({ a: 'bc' })).not.toBe(labelsFingerprint({ ab: 'c' }));
    expect(labelsFingerprint({ a: '1:b' })).not.toBe(labelsFingerprint({ a: '1', b: '' }));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), fc.dictionary(fc.string(), fc.string()), (left, right) => {
        const same = JSON.stringify(Object.entries(left).sort()) === JSON.stringify(Object.entries(right).sort());
        expect(labelsFingerprint(left) === labelsFingerprint(right)).toBe(same);
      }),
    );
  });

  it('reads family, control, severity and asset from the configured labels, with fallbacks', () => {
    const connector = intake({ assetLabels: ['host', 'instance'], severityMap: { page: 'critical' } });
    const read = (labels: Record<string, string>) =>
      connector.normalise(notificationOf({ labels: { alertname: 'X', ...labels } }), RECEIVED_AT).alerts[0];
    expect(read({ family: 'siem', control: 'A.8.16', severity: 'page', host: 'h1', instance: 'i1' })).toMatchObject({
      family: 'siem',
      control: 'A.8.16',
      severity: 'critical',
      asset: 'h1',
    });
    expect(read({ family: 'monitoring', control: 'ISO 27001', severity: 'low', host: '', instance: 'i1' })).toMatchObject({
      family: 'backup',
      control: 'A.8.13',
      severity: 'low',
      asset: 'i1',
    });
    expect(read({ severity: 'whatever' })).toMatchObject({ severity: 'medium', asset: '' });
    expect(intake().normalise(notificationOf({ labels: { alertname: 'X', severity: 'warning' } }), RECEIVED_AT).alerts[0]?.severity).toBe('medium');
  });

  it('takes the message from summary, then description, then the check', () => {
    const message = (annotations: Record<string, string> | undefined) =>
      intake().normalise(notificationOf({ annotations }), RECEIVED_AT).alerts[0]?.message;
    expect(message({ summary: 's', description: 'd' })).toBe('s');
    expect(message({ description: 'd' })).toBe('d');
    expect(message(undefined)).toBe('BackupJobFailed');
  });
});

describe('alertmanager connector: the asset of an alert without instance or job', () => {
  // Zulip's Alertmanager fixture: a rule aggregated `avg by (host)` keeps neither instance nor job.
  const zulip = JSON.parse(
    readFileSync(new URL('../fixtures/alertmanager/zulip-alert-without-instance-job.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

  it('names the asset by the identifying labels of the real notification, the same for both alerts', () => {
    const { alerts, errors } = intake().normalise(zulip, RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts.map((alert) => [alert.check, alert.asset, alert.severity])).toEqual([
      ['High CPU Temperature', 'host=andromeda', 'critical'],
      ['High CPU Temperature', 'host=andromeda', 'critical'],
    ]);
  });

  it('keeps clusters apart: labels of an alert aggregated by cluster, sorted whatever their order', () => {
    // kubernetes-mixin's KubeCPUOvercommit in multi-cluster mode is `sum by(cluster) (...)`: its
    // alerts carry alertname, severity and cluster, and Prometheus adds its external labels.
    const asset = (labels: Record<string, string>) => intake().normalise(notificationOf({ labels }), RECEIVED_AT).alerts[0]?.asset;
    const prod = asset({ alertname: 'KubeCPUOvercommit', severity: 'warning', prometheus: 'monitoring/k8s', cluster: 'prod' });
    const staging = asset({ cluster: 'staging', prometheus: 'monitoring/k8s', severity: 'warning', alertname: 'KubeCPUOvercommit' });
    expect(prod).toBe('cluster=prod,prometheus=monitoring/k8s');
    expect(staging).toBe('cluster=staging,prometheus=monitoring/k8s');
    expect(asset({ prometheus: 'monitoring/k8s', cluster: 'prod', alertname: 'KubeCPUOvercommit', severity: 'critical' })).toBe(prod);
  });

  it('leaves out the check, family, control and severity labels as configured, and empty labels', () => {
    const connector = intake({ checkLabel: 'rule', severityLabel: 'level', familyLabel: 'kind', controlLabel: 'annex' });
    const labels = { alertname: 'X', rule: 'r1', level: 'page', kind: 'siem', annex: 'A.8.16', env: 'prod', team: '', severity: 'high' };
    expect(connector.normalise(notificationOf({ labels }), RECEIVED_AT).alerts[0]?.asset).toBe('env=prod,severity=high');
  });

  it('still prefers the configured asset labels, and is empty when no label identifies anything', () => {
    const asset = (labels: Record<string, string>) => intake().normalise(notificationOf({ labels }), RECEIVED_AT).alerts[0]?.asset;
    expect(asset({ alertname: 'X', cluster: 'prod', job: 'node' })).toBe('node');
    expect(asset({ alertname: 'X', severity: 'critical', family: 'av', control: 'A.8.7' })).toBe('');
  });

  it('renders label sets that would read alike apart', () => {
    const asset = (labels: Record<string, string>) => intake().normalise(notificationOf({ labels }), RECEIVED_AT).alerts[0]?.asset;
    expect(asset({ a: '1,b=2' })).not.toBe(asset({ a: '1', b: '2' }));
    expect(asset({ a: '1,b=2' })).toBe('a="1,b=2"');
    const ignored = new Set(['alertname', 'instance', 'job', 'severity', 'family', 'control']);
    const labels = fc.dictionary(fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('severity', 'cluster', 'env')).filter((name) => name !== 'instance' && name !== 'job'), fc.string({ minLength: 1 }));
    fc.assert(
      fc.property(labels, labels, (left, right) => {
        const identifying = (set: Record<string, string>) => JSON.stringify(Object.entries(set).filter(([name]) => !ignored.has(name)).sort());
        const [l, r] = [asset({ ...left }), asset({ ...right })];
        if (l === undefined || r === undefined || l.length >= 512 || r.length >= 512) return;
        expect(l === r).toBe(identifying(left) === identifying(right));
      }),
    );
  });
});

describe('alertmanager connector: bodies that do not fit', () => {
  it('names the failing field of the failing alert, and lets the others through', () => {
    const alerts = firingNotification?.alerts as Record<string, unknown>[];
    const good = alerts[0];
    const body = { ...firingNotification, alerts: [{ ...good, startsAt: undefined }, good, { ...good, status: 'pending' }, { ...good, labels: { a: 1 } }, 'x'] };
    const { alerts: accepted, errors } = intake().normalise(body, RECEIVED_AT);
    expect(accepted).toHaveLength(1);
    expect(errors).toEqual([
      { path: 'alerts[0].startsAt', message: 'missing' },
      { path: 'alerts[2].status', message: 'is "pending", not one of "firing", "resolved"' },
      { path: 'alerts[3].labels.a', message: 'is 1, expected string' },
      { path: 'alerts[4]', message: 'is "x", expected object' },
    ]);
  });

  it('rejects a start that is not a time, or the zero time', () => {
    expect(intake().normalise(notificationOf({ startsAt: 'soon' }), RECEIVED_AT).errors).toEqual([
      { path: 'alerts[0].startsAt', message: 'is "soon", not an RFC 3339 time with offset' },
    ]);
    expect(intake().normalise(notificationOf({ startsAt: '0001-01-01T00:00:00Z' }), RECEIVED_AT).errors).toEqual([
      { path: 'alerts[0].startsAt', message: 'is "0001-01-01T00:00:00Z" (0001-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
    ]);
  });

  it('rejects start and end times before the year 2000, naming each', () => {
    const errors = (alert: Record<string, unknown>) => intake().normalise(notificationOf(alert), RECEIVED_AT).errors;
    expect(errors({ startsAt: '1970-01-01T00:00:00Z' })).toEqual([
      { path: 'alerts[0].startsAt', message: 'is "1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
    ]);
    expect(errors({ status: 'resolved', startsAt: '1999-12-31T23:59:59Z', endsAt: '1970-01-01T00:00:00Z' })).toEqual([
      { path: 'alerts[0].startsAt', message: 'is "1999-12-31T23:59:59Z" (1999-12-31T23:59:59.000Z), before the year 2000: not a plausible event time' },
      { path: 'alerts[0].endsAt', message: 'is "1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
    ]);
    const [alert] = intake().normalise(notificationOf({ startsAt: '2000-01-01T00:00:00Z' }), RECEIVED_AT).alerts;
    expect(alert?.observedAt).toBe(Date.parse('2000-01-01T00:00:00Z'));
  });

  it("takes Go's zero endsAt of a firing alert as not ended", () => {
    const { alerts, errors } = intake().normalise(notificationOf({ status: 'firing', endsAt: '0001-01-01T00:00:00Z' }), RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts[0]).toMatchObject({ observedAt: Date.parse('2026-11-22T16:04:17Z'), evidence: { endsAt: null } });
  });

  it('rejects another payload version, a missing alerts array, and a body that is not an object', () => {
    expect(intake().normalise({ ...firingNotification, version: '3' }, RECEIVED_AT)).toEqual({
      alerts: [],
      errors: [{ path: 'version', message: 'is "3", not "4"' }],
    });
    expect(intake().normalise({ version: '4', alerts: {} }, RECEIVED_AT).errors).toEqual([{ path: 'alerts', message: 'is an object, expected array' }]);
    expect(intake().normalise({ version: '4' }, RECEIVED_AT).errors).toEqual([{ path: 'alerts', message: 'missing' }]);
    for (const body of [null, 'x', 4, [firingNotification]]) {
      const { alerts, errors } = intake().normalise(body, RECEIVED_AT);
      expect(alerts).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.path).toBe('(body)');
    }
  });

  it('names the source of an oversized field', () => {
    const { errors } = intake().normalise(notificationOf({ annotations: { summary: 'x'.repeat(9000) } }), RECEIVED_AT);
    expect(errors).toEqual([{ path: 'alerts[0].annotations.summary', message: 'message: Too big: expected string to have <=8192 characters' }]);
  });
});

describe('alertmanager connector: any input', () => {
  const connector = intake();
  const check = (body: unknown, receivedAt: number): void => {
    const { alerts, errors } = connector.normalise(body, receivedAt);
    for (const alert of alerts) expect(canonicalAlertSchema.safeParse(alert).success).toBe(true);
    for (const error of errors) {
      expect(typeof error.path).toBe('string');
      expect(error.path).not.toBe('');
    }
  };
  const moment = fc.integer({ min: EARLIEST_EVENT_TIME, max: 4_102_444_800_000 });

  it('never throws on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), moment, check), { numRuns: 500 });
  });

  it('never throws on a value of any kind', () => {
    const anything = fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withNullPrototype: true, withSet: true, withSparseArray: true });
    fc.assert(fc.property(anything, moment, check), { numRuns: 500 });
  });

  it('accounts for every alert of a notification exactly once: an alert, or errors at its index', () => {
    // Mostly fitting values, so that both outcomes are common.
    const mostly = <T>(fitting: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fitting, weight: 8 }, { arbitrary: fc.jsonValue(), weight: 1 });
    const instant = fc.date({ min: new Date('1969-12-31T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true });
    const time = mostly(fc.oneof(instant.map((date) => date.toISOString()), fc.constantFrom('0001-01-01T00:00:00Z', '2026-11-22T16:04:17.123456789+01:00')));
    const labels = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('alertname', 'instance', 'job', 'severity', 'family', 'control')), fc.string());
    const alert = fc.record(
      {
        status: mostly(fc.constantFrom('firing', 'resolved')),
        labels: mostly(labels),
        annotations: mostly(fc.dictionary(fc.constantFrom('summary', 'description', 'runbook'), fc.string())),
        startsAt: time,
        endsAt: time,
        generatorURL: mostly(fc.webUrl()),
        fingerprint: mostly(fc.stringMatching(/^[0-9a-f]{16}$/)),
      },
      { requiredKeys: ['status', 'labels', 'startsAt'] },
    );
    const notification = fc.record({ version: fc.constant('4'), alerts: fc.array(alert), receiver: fc.string(), groupKey: fc.string() });
    fc.assert(
      fc.property(notification, moment, (body, receivedAt) => {
        check(body, receivedAt);
        const { alerts, errors } = connector.normalise(body, receivedAt);
        const failing = new Set(errors.map((error) => /^alerts\[\d+\]/.exec(error.path)?.[0]));
        expect(alerts.length + failing.size).toBe(body.alerts.length);
      }),
      { numRuns: 300 },
    );
  });

  it('gives firing and resolved of one alert the same id', () => {
    const labels = fc.dictionary(fc.string({ minLength: 1 }), fc.string());
    const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });
    fc.assert(
      fc.property(labels, instant, fc.option(fc.string({ minLength: 1, maxLength: 16 })), (alertLabels, start, fingerprint) => {
        const startsAt = start.toISOString();
        const alert = { labels: alertLabels, startsAt, ...(fingerprint === null ? {} : { fingerprint }) };
        const endsAt = new Date(start.getTime() + 60_000).toISOString();
        const [firing] = connector.normalise({ version: '4', alerts: [{ ...alert, status: 'firing', endsAt: '0001-01-01T00:00:00Z' }] }, RECEIVED_AT).alerts;
        const [resolved] = connector.normalise({ version: '4', alerts: [{ ...alert, status: 'resolved', endsAt }] }, RECEIVED_AT).alerts;
        expect(firing?.id).toBeDefined();
        expect(resolved?.id).toBe(firing?.id);
        expect(firing?.observedAt).toBe(start.getTime());
        expect(resolved?.observedAt).toBe(start.getTime() + 60_000);
      }),
    );
  });
});
