import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EARLIEST_EVENT_TIME } from '../../src/core/event-time.js';
import { FAMILIES, SEVERITIES, canonicalAlertSchema } from '../../src/core/types.js';
import { syncIntake, testServices, type SyncIntake } from '../helpers/connectors.js';
import { payloadPath } from '../../connectors/payload.js';
import { webhookConnector } from '../../connectors/webhook.js';

const RECEIVED_AT = Date.parse('2026-11-22T17:00:00Z');

function intake(fields: Record<string, unknown>): SyncIntake {
  return syncIntake(
    webhookConnector.create(
      webhookConnector.schema.parse({ type: 'webhook', name: 'edr', auth: { type: 'bearer', token: 't' }, family: 'av', ...fields }),
      testServices(),
    ),
  );
}

describe('webhook connector: mapping', () => {
  it('refuses a mapped control that is not an Annex A id, naming where it came from, and keeps a mapped one that is', () => {
    const connector = intake({ items: 'findings', mapping: { id: 'id', status: { value: 'firing' }, control: 'standard' } });
    const body = { findings: [{ id: 'f-1', standard: 'PCI DSS 10.2.1' }, { id: 'f-2', standard: 'A.5.15' }] };
    const { alerts, errors } = connector.normalise(body, RECEIVED_AT);
    expect(errors).toEqual([
      {
        path: 'findings[0].standard',
        message: 'control: is "PCI DSS 10.2.1", not an ISO/IEC 27001 Annex A id such as A.8.13 (2022) or A.12.3.1 (2013), a list of them, or one after its edition (2013 A.12.3.1)',
      },
    ]);
    expect(alerts.map((alert) => [alert.id, alert.control])).toEqual([['f-2', 'A.5.15']]);
  });

  it("reads Prowler's edition before the id and Wazuh's list of ids, filing the alert under the first", () => {
    const connector = intake({ items: 'findings', mapping: { id: 'id', status: { value: 'firing' }, control: 'standard' } });
    const standards = ['2013 A.12.3.1', 'A.9.2.3,A.9.4.2', 'A.5.15, A.8.2', '2022 A.8.13', '2013 A.12.4', '2022 A.12.3.1', 'A.9.2.3,PCI 8.1'];
    const { alerts, errors } = connector.normalise({ findings: standards.map((standard, index) => ({ id: `f-${index}`, standard })) }, RECEIVED_AT);
    expect(alerts.map((alert) => alert.control)).toEqual(['A.12.3.1', 'A.9.2.3', 'A.5.15', 'A.8.13']);
    // An objective of 2013 (two levels), a 2013 id called 2022, and a list with another standard's id.
    expect(errors.map((error) => error.path)).toEqual(['findings[4].standard', 'findings[5].standard', 'findings[6].standard']);
  });

  it('maps a single object by nested paths, with numeric array segments', () => {
    const connector = intake({
      control: 'A.8.7',
      mapping: {
        id: 'event.id',
        status: { path: 'event.state', map: { open: 'firing', closed: 'resolved' } },
        observedAt: 'event.time',
        asset: 'hosts.0.name',
        check: 'rule.id',
        message: 'rule.title',
        severity: { path: 'rule.level', map: { warning: 'medium', fatal: 'critical' } },
        labels: { site: 'hosts.0.site', score: 'rule.score' },
        evidence: { index: { value: 'edr-events' }, raw: 'event' },
      },
    });
    const body = {
      event: { id: 'e-1', state: 'open', time: '2026-11-22T16:04:17+01:00' },
      hosts: [{ name: 'ws-042', site: 'ber' }],
      rule: { id: 'R-77', title: 'ransomware behaviour', level: 'fatal', score: 97 },
    };
    expect(connector.normalise(body, RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: 'e-1',
          source: 'edr',
          family: 'av',
          status: 'firing',
          observedAt: Date.parse('2026-11-22T15:04:17Z'),
          asset: 'ws-042',
          check: 'R-77',
          message: 'ransomware behaviour',
          severity: 'critical',
          control: 'A.8.7',
          labels: { site: 'ber', score: '97' },
          evidence: { index: 'edr-events', raw: body.event },
        },
      ],
      errors: [],
    });
  });

  it('takes a body that is an array as one alert per element, and numbers as text', () => {
    const connector = intake({ mapping: { id: 'seq', status: { value: 'firing' }, check: 'rule' } });
    const { alerts, errors } = connector.normalise([{ seq: 4711, rule: 12 }, { seq: 4712, rule: 'x' }], RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts.map((alert) => [alert.id, alert.check])).toEqual([
      ['4711', '12'],
      ['4712', 'x'],
    ]);
  });

  it('reads the alerts at `items` and names failing items by their place in the body', () => {
    const connector = intake({ items: 'data.alerts', mapping: { id: 'id', status: 'status' } });
    const { alerts, errors } = connector.normalise(
      { data: { alerts: [{ id: 'a', status: 'firing' }, { id: 'b', status: 'resolved' }, { id: 'c', status: 'ok' }, { status: 'firing' }] } },
      RECEIVED_AT,
    );
    expect(alerts.map((alert) => alert.id)).toEqual(['a', 'b']);
    expect(errors).toEqual([
      { path: 'data.alerts[2].status', message: 'status: is "ok", not one of "firing", "resolved" (translate it with mapping.status.map)' },
      { path: 'data.alerts[3].id', message: 'id: missing' },
    ]);
  });

  it('says when the items are not there or not an array', () => {
    const connector = intake({ items: 'alerts', mapping: { id: 'id', status: 'status' } });
    expect(connector.normalise({}, RECEIVED_AT).errors).toEqual([{ path: 'alerts', message: 'missing, expected the array of alerts (items)' }]);
    expect(connector.normalise({ alerts: { id: 1 } }, RECEIVED_AT).errors).toEqual([
      { path: 'alerts', message: 'is an object, expected the array of alerts (items)' },
    ]);
    expect(connector.normalise('alerts', RECEIVED_AT).errors).toEqual([
      { path: '(body)', message: 'is "alerts", expected an object with the alerts at alerts' },
    ]);
  });

  it('names the failing field of the n-th element of an array body', () => {
    const connector = intake({ mapping: { id: 'event.id', status: { value: 'firing' } } });
    const good = { event: { id: 'x' } };
    const { alerts, errors } = connector.normalise([good, good, good, { event: {} }, 7], RECEIVED_AT);
    expect(alerts).toHaveLength(3);
    expect(errors).toEqual([
      { path: '[3].event.id', message: 'id: missing' },
      { path: '[4]', message: 'is 7, expected an object (one alert)' },
    ]);
  });

  it('uses a default where the path is absent or null, and leaves unlisted values to the map untouched', () => {
    const connector = intake({
      mapping: {
        id: 'id',
        status: { path: 'state', map: { ok: 'resolved', alert: 'firing' }, default: 'firing' },
        severity: { path: 'sev', map: { warning: 'medium' } },
        asset: { path: 'host', default: 'unknown-host' },
      },
    });
    const { alerts, errors } = connector.normalise(
      [
        { id: 1, state: 'ok', sev: 'warning' },
        { id: 2, state: null, host: 'db-1' },
        { id: 3, sev: 'high' },
        { id: 4, state: 'bad' },
      ],
      RECEIVED_AT,
    );
    expect(alerts.map(({ id, status, severity, asset }) => ({ id, status, severity, asset }))).toEqual([
      { id: '1', status: 'resolved', severity: 'medium', asset: 'unknown-host' },
      { id: '2', status: 'firing', severity: 'medium', asset: 'db-1' },
      { id: '3', status: 'firing', severity: 'high', asset: 'unknown-host' },
    ]);
    expect(errors).toEqual([{ path: '[3].state', message: 'status: is "bad", not one of "firing", "resolved" after mapping' }]);
  });

  it('reads a list at a mapped path by its first element the map lists, in the list\'s order; none listed: the default', () => {
    const connector = intake({
      control: 'A.8.16',
      mapping: {
        id: 'id',
        status: { value: 'firing' },
        control: { path: 'groups', map: { virus: 'A.8.7', syscheck: 'A.8.9' } },
        family: { path: 'groups', map: { virus: 'av', syscheck: 'config-drift' }, default: 'siem' },
        labels: { group: { path: 'groups', map: { sshd: 'ssh' } } },
      },
    });
    const { alerts, errors } = connector.normalise(
      [
        { id: 1, groups: ['ossec', 'syscheck', 'virus'] },
        { id: 2, groups: ['web', 'attack'] },
        { id: 3, groups: [] },
        { id: 4, groups: [{ virus: true }, 'virus'] },
      ],
      RECEIVED_AT,
    );
    expect(errors).toEqual([]);
    expect(alerts.map(({ id, control, family, labels }) => ({ id, control, family, labels }))).toEqual([
      { id: '1', control: 'A.8.9', family: 'config-drift', labels: {} },
      { id: '2', control: 'A.8.16', family: 'siem', labels: {} },
      { id: '3', control: 'A.8.16', family: 'siem', labels: {} },
      { id: '4', control: 'A.8.7', family: 'av', labels: {} },
    ]);
    const unmapped = intake({ mapping: { id: 'id', status: { value: 'firing' }, check: 'groups' } });
    expect(unmapped.normalise({ id: 5, groups: ['a'] }, RECEIVED_AT).errors).toEqual([
      { path: 'groups', message: 'check: is an array, expected text or a number' },
    ]);
  });

  it('drops an item whose mapped status is skip, unchecked, and refuses a payload that says skip itself', () => {
    const connector = intake({
      mapping: { id: 'id', status: { path: 'level', map: { '2': 'skip', '7': 'firing' }, default: 'skip' }, observedAt: 'time' },
    });
    const { alerts, errors } = connector.normalise(
      [
        { id: 1, level: 7, time: '2026-11-22T16:00:00Z' },
        { id: 2, level: 2, time: 'not a time' },
        { level: null },
        { id: 4, level: 'skip', time: '2026-11-22T16:00:00Z' },
      ],
      RECEIVED_AT,
    );
    expect(alerts.map(({ id, status }) => ({ id, status }))).toEqual([{ id: '1', status: 'firing' }]);
    expect(errors).toEqual([{ path: '[3].level', message: 'status: is "skip", not one of "firing", "resolved" after mapping' }]);
  });

  it("falls back to the connector's family, control and severity, and to the arrival time", () => {
    const connector = intake({ control: 'A.8.7', severity: 'high', mapping: { id: 'id', status: 'status', family: 'kind' } });
    const [alert] = connector.normalise({ id: 'a', status: 'firing' }, RECEIVED_AT).alerts;
    expect(alert).toMatchObject({ family: 'av', control: 'A.8.7', severity: 'high', observedAt: RECEIVED_AT, source: 'edr' });
    const [siem] = connector.normalise({ id: 'a', status: 'firing', kind: 'siem' }, RECEIVED_AT).alerts;
    expect(siem?.family).toBe('siem');
  });

  const timesIn = (observedAt: unknown, times: unknown[]) =>
    intake({ mapping: { id: 'id', status: { value: 'resolved' }, observedAt } }).normalise(times.map((at, id) => ({ id, at })), RECEIVED_AT);

  it('reads epoch seconds, fractions included, where the mapping says unit: s', () => {
    const { alerts, errors } = timesIn({ path: 'at', unit: 's' }, [1795363457, '1795363457', 1795363457.25, '1795363457.25']);
    expect(errors).toEqual([]);
    expect(alerts.map((alert) => alert.observedAt)).toEqual([1795363457000, 1795363457000, 1795363457250, 1795363457250]);
  });

  it('reads epoch milliseconds where the mapping says unit: ms', () => {
    const { alerts, errors } = timesIn({ path: 'at', unit: 'ms' }, [1795363457250, '1795363457250']);
    expect(errors).toEqual([]);
    expect(alerts.map((alert) => alert.observedAt)).toEqual([1795363457250, 1795363457250]);
  });

  it('reads ISO 8601 with offset whatever the unit, or without one', () => {
    for (const observedAt of ['at', { path: 'at' }, { path: 'at', unit: 's' }, { path: 'at', unit: 'ms' }]) {
      const { alerts, errors } = timesIn(observedAt, ['2026-11-22T16:04:17.250Z', '2026-11-22T17:04:17.250+01:00']);
      expect(errors).toEqual([]);
      expect(alerts.map((alert) => alert.observedAt)).toEqual([1795363457250, 1795363457250]);
    }
  });

  it('refuses a numeric time when the mapping does not say its unit, naming the path', () => {
    expect(timesIn('at', [1795363457, '1795363457250']).errors).toEqual([
      { path: '[0].at', message: "observedAt: is 1795363457: a numeric time needs unit: s or unit: ms in the mapping's observedAt" },
      { path: '[1].at', message: "observedAt: is \"1795363457250\": a numeric time needs unit: s or unit: ms in the mapping's observedAt" },
    ]);
  });

  it('refuses times before the year 2000, naming the field', () => {
    const { alerts, errors } = timesIn({ path: 'at', unit: 's' }, ['1970-01-01T00:00:00Z', 0, '1999-12-31T23:59:59Z', -5, '2000-01-01T00:00:00Z', 946684800]);
    expect(errors).toEqual([
      { path: '[0].at', message: 'observedAt: is "1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
      { path: '[1].at', message: 'observedAt: is 0 (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
      { path: '[2].at', message: 'observedAt: is "1999-12-31T23:59:59Z" (1999-12-31T23:59:59.000Z), before the year 2000: not a plausible event time' },
      { path: '[3].at', message: 'observedAt: is -5 (1969-12-31T23:59:55.000Z), before the year 2000: not a plausible event time' },
    ]);
    expect(alerts.map((alert) => alert.observedAt)).toEqual([Date.parse('2000-01-01T00:00:00Z'), Date.parse('2000-01-01T00:00:00Z')]);
  });

  it('says what else is wrong with a time', () => {
    expect(timesIn({ path: 'at', unit: 'ms' }, ['yesterday', '2026-11-22T16:04:17', true, 1e300]).errors).toEqual([
      { path: '[0].at', message: 'observedAt: is "yesterday", not an ISO 8601 time with offset or epoch milliseconds' },
      { path: '[1].at', message: 'observedAt: is "2026-11-22T16:04:17", not an ISO 8601 time with offset or epoch milliseconds' },
      { path: '[2].at', message: 'observedAt: is true, expected an ISO 8601 time with offset or a number' },
      { path: '[3].at', message: 'observedAt: is 1e+300, beyond the times a date can hold' },
    ]);
    expect(timesIn('at', ['yesterday', null]).errors).toEqual([
      { path: '[0].at', message: 'observedAt: is "yesterday", not an ISO 8601 time with offset' },
      { path: '[1].at', message: 'observedAt: missing' },
    ]);
  });

  it('refuses an arrival time before 2000 as the event time', () => {
    const connector = intake({ mapping: { id: 'id', status: 'status' } });
    expect(connector.normalise({ id: 'a', status: 'firing' }, 0).errors).toEqual([
      { path: '(body)', message: 'observedAt: is 0 (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
    ]);
  });

  it('reports every field of an item that does not fit, and objects where text belongs', () => {
    const connector = intake({ mapping: { id: 'id', status: 'status', asset: 'host', labels: { team: 'owner' } } });
    const { alerts, errors } = connector.normalise({ id: '', status: 'firing', host: { name: 'x' }, owner: ['a'] }, RECEIVED_AT);
    expect(alerts).toEqual([]);
    expect(errors).toEqual([
      { path: 'host', message: 'asset: is an object, expected text or a number' },
      { path: 'owner', message: 'labels.team: is an array, expected text or a number' },
      { path: 'id', message: 'id: is empty' },
    ]);
  });

  it('never reads inherited properties', () => {
    const connector = intake({ mapping: { id: 'constructor.name', status: { value: 'firing' } } });
    expect(connector.normalise({}, RECEIVED_AT).errors).toEqual([{ path: 'constructor.name', message: 'id: missing' }]);
  });
});

describe('webhook connector: config', () => {
  const base = { type: 'webhook', name: 'edr', auth: { type: 'bearer', token: 't' }, family: 'av' };
  const problems = (mapping: unknown): string[] => {
    const result = webhookConnector.schema.safeParse({ ...base, mapping });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('requires exactly one of path and value', () => {
    expect(problems({ id: 'id', status: { path: 'state', value: 'firing' } })).toEqual([
      'mapping.status: give exactly one of path (read from each alert) or value (a constant)',
    ]);
    expect(problems({ id: 'id', status: { map: { ok: 'resolved' } } })).toEqual([
      'mapping.status: give exactly one of path (read from each alert) or value (a constant)',
    ]);
  });

  it('checks constants and map targets against the canonical values', () => {
    expect(problems({ id: 'id', status: { path: 'state', map: { ok: 'closed' } } })).toEqual([
      'mapping.status.map.ok: is "closed", not one of firing, resolved, skip',
    ]);
    expect(problems({ id: 'id', status: 'state', severity: { value: 'urgent' } })).toEqual([
      'mapping.severity.value: is "urgent", not one of info, low, medium, high, critical',
    ]);
  });

  it('takes skip as a status only', () => {
    expect(problems({ id: 'id', status: { path: 'level', map: { '0': 'skip', '9': 'firing' } } })).toEqual([]);
    expect(problems({ id: 'id', status: { path: 'level', map: { '0': 'ignore' } } })).toEqual([
      'mapping.status.map.0: is "ignore", not one of firing, resolved, skip',
    ]);
    expect(problems({ id: 'id', status: 'state', severity: { path: 'level', map: { '0': 'skip' } } })).toEqual([
      'mapping.severity.map.0: is "skip", not one of info, low, medium, high, critical',
    ]);
  });

  it('takes unit s or ms on observedAt only', () => {
    expect(problems({ id: 'id', status: 'state', observedAt: { path: 'at', unit: 's' } })).toEqual([]);
    expect(problems({ id: 'id', status: 'state', observedAt: { path: 'at', unit: 'us' } })).toEqual([
      'mapping.observedAt.unit: is "us", not one of s, ms',
    ]);
    expect(problems({ id: 'id', status: 'state', asset: { path: 'host', unit: 's' } })).toEqual(['mapping.asset: unit applies to observedAt only']);
  });

  it('requires id and status, and rejects empty path segments and unknown keys', () => {
    expect(problems({ status: 'state' })).toHaveLength(1);
    expect(problems({ id: 'event..id', status: 'state' })).toEqual([
      'mapping.id: a dotted path such as event.id or alerts.0.labels.host, without empty segments',
    ]);
    expect(problems({ id: 'id', status: 'state', colour: 'red' })).toEqual(['mapping: Unrecognized key: "colour"']);
  });
});

describe('canonical alert: observedAt', () => {
  const alert = { id: 'a', source: 'edr', family: 'av', status: 'firing' };
  const problems = (observedAt: unknown): string[] => {
    const result = canonicalAlertSchema.safeParse({ ...alert, observedAt });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('takes ISO 8601 with offset, or a number as epoch milliseconds', () => {
    expect(canonicalAlertSchema.parse({ ...alert, observedAt: '2026-11-22T17:04:17.250+01:00' }).observedAt).toBe(1795363457250);
    expect(canonicalAlertSchema.parse({ ...alert, observedAt: 1795363457250 }).observedAt).toBe(1795363457250);
    expect(canonicalAlertSchema.parse({ ...alert, observedAt: '2000-01-01T00:00:00Z' }).observedAt).toBe(EARLIEST_EVENT_TIME);
  });

  it('refuses times before the year 2000, seconds read as milliseconds among them', () => {
    expect(problems(0)).toEqual(['observedAt: is 0 (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time']);
    expect(problems('1970-01-01T00:00:00Z')).toEqual([
      'observedAt: is "1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time',
    ]);
    expect(problems('1999-12-31T23:59:59Z')).toEqual([
      'observedAt: is "1999-12-31T23:59:59Z" (1999-12-31T23:59:59.000Z), before the year 2000: not a plausible event time',
    ]);
    expect(problems(1795363457)).toEqual(['observedAt: is 1795363457 (1970-01-21T18:42:43.457Z), before the year 2000: not a plausible event time']);
  });
});

describe('webhook connector: a canonical alert as the body', () => {
  const connector = intake({
    mapping: { id: 'id', status: 'status', observedAt: { path: 'observedAt', unit: 'ms' }, asset: 'asset', check: 'check' },
  });

  it('takes its epoch milliseconds, and refuses a time before 2000 at observedAt', () => {
    const body = { id: 'a', status: 'firing', asset: 'ws-1', check: 'eicar' };
    expect(connector.normalise({ ...body, observedAt: 1795363457250 }, RECEIVED_AT).alerts[0]?.observedAt).toBe(1795363457250);
    expect(connector.normalise([{ ...body, observedAt: 0 }, { ...body, observedAt: '1970-01-01T00:00:00Z' }], RECEIVED_AT).errors).toEqual([
      { path: '[0].observedAt', message: 'observedAt: is 0 (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' },
      {
        path: '[1].observedAt',
        message: 'observedAt: is "1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time',
      },
    ]);
  });
});

describe('payloadPath', () => {
  it('writes indexes in brackets and quotes keys that would read ambiguously', () => {
    expect(payloadPath(['alerts', 2, 'labels', 'host'])).toBe('alerts[2].labels.host');
    expect(payloadPath([3, 'event', 'id'])).toBe('[3].event.id');
    expect(payloadPath(['labels', 'a.b'])).toBe('labels["a.b"]');
    expect(payloadPath([])).toBe('(body)');
  });
});

describe('webhook connector: any input', () => {
  const simple = intake({ mapping: { id: 'id', status: 'status' } });
  const connectors = [
    simple,
    intake({
      items: 'a.0.b',
      mapping: {
        id: 'a',
        status: { path: 'b', map: { a: 'firing', '': 'resolved' }, default: 'resolved' },
        observedAt: 'c',
        family: 'd',
        asset: '0',
        check: 'a.b',
        message: { path: 'e', default: 'x' },
        severity: 'f',
        control: 'g',
        labels: { a: 'b', c: '0.1' },
        evidence: { a: 'a', b: '1' },
      },
    }),
    intake({ mapping: { id: { value: 'constant' }, status: { path: 'b', default: 'firing' }, observedAt: { path: '0', unit: 's' } } }),
  ];
  const everything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withNullPrototype: true,
    withObjectString: true,
    withSet: true,
    withSparseArray: true,
    withTypedArray: true,
  });

  for (const [name, input] of [
    ['JSON value', fc.jsonValue()],
    ['value of any kind', everything],
  ] as const) {
    it(`normalises any ${name} to valid alerts or errors with a path, without throwing`, () => {
      fc.assert(
        fc.property(input, fc.integer({ min: EARLIEST_EVENT_TIME, max: 4_102_444_800_000 }), (body, receivedAt) => {
          for (const connector of connectors) {
            const { alerts, errors } = connector.normalise(body, receivedAt);
            for (const alert of alerts) expect(canonicalAlertSchema.safeParse(alert).success).toBe(true);
            for (const error of errors) {
              expect(typeof error.path).toBe('string');
              expect(error.path).not.toBe('');
              expect(typeof error.message).toBe('string');
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('accounts for every alert-shaped item exactly once: an alert, or errors at its index', () => {
    const connector = intake({
      mapping: {
        id: 'id',
        status: { path: 'status', map: { ok: 'resolved' } },
        observedAt: { path: 'at', unit: 'ms' },
        family: 'family',
        severity: 'severity',
        control: 'control',
        asset: 'host',
        labels: { tag: 'tag' },
        evidence: { raw: 'raw' },
      },
    });
    // Mostly fitting values, so that both outcomes are common.
    const mostly = <T>(fitting: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fitting, weight: 6 }, { arbitrary: fc.jsonValue(), weight: 1 });
    // From 1999 on, so that some times fall before the floor and are refused.
    const instant = fc.date({ min: new Date('1999-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true });
    const item = fc.record(
      {
        id: mostly(fc.oneof(fc.string({ minLength: 1 }), fc.integer())),
        status: mostly(fc.constantFrom('firing', 'resolved', 'ok')),
        at: mostly(fc.oneof(instant.map((date) => date.toISOString()), instant.map((date) => date.getTime()))),
        family: mostly(fc.constantFrom(...FAMILIES)),
        severity: mostly(fc.constantFrom(...SEVERITIES)),
        control: mostly(fc.constantFrom('A.8.13', 'A.12.3.1')),
        host: mostly(fc.string()),
        tag: mostly(fc.oneof(fc.string(), fc.double(), fc.boolean())),
        raw: fc.jsonValue(),
      },
      { requiredKeys: ['id', 'status', 'at'] },
    );
    fc.assert(
      fc.property(fc.array(item), (items) => {
        const { alerts, errors } = connector.normalise(items, EARLIEST_EVENT_TIME);
        for (const alert of alerts) expect(canonicalAlertSchema.safeParse(alert).success).toBe(true);
        expect(alerts.length + new Set(errors.map((error) => error.path.replace(/\].*$/, ']'))).size).toBe(items.length);
      }),
    );
  });

  it('accepts every well-formed item of an array and names each bad one by index', () => {
    const item = fc.record({ id: fc.oneof(fc.string(), fc.integer()), status: fc.constantFrom('firing', 'resolved', 'pending') });
    fc.assert(
      fc.property(fc.array(item), (items) => {
        const { alerts, errors } = simple.normalise(items, EARLIEST_EVENT_TIME);
        const fitting = items.filter((candidate) => candidate.status !== 'pending' && String(candidate.id) !== '');
        expect(alerts.map((alert) => alert.id)).toEqual(fitting.map((candidate) => String(candidate.id)));
        expect(alerts.length + new Set(errors.map((error) => error.path.replace(/\].*$/, ']'))).size).toBe(items.length);
      }),
    );
  });
});
