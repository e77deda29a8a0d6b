/**
 * AWS Config's "Config Rules Compliance Change" events as Amazon EventBridge delivers them (an
 * API destination or any forwarder that posts the event as it is), one event per request; and
 * the same evaluations as an Amazon SNS HTTP/S subscription posts them: an SNS envelope whose
 * `Message` holds Config's own `ComplianceChangeNotification` (the `detail` of the EventBridge
 * event), or a whole EventBridge event where an EventBridge rule targets the topic. SNS sends
 * `Message` as text; AWS's documentation shows it as an object, and both are read.
 *
 * The SNS notification is brought to the EventBridge event's shape (`detail`, `id` from
 * `MessageId`, `time` from `Timestamp`), so that one mapping reads both and an evaluation keeps
 * its symptom whichever way it came. What else Config sends to its topic (configuration item
 * changes, snapshot and history deliveries, evaluation started) is no evaluation and is skipped.
 * SNS's own `SubscriptionConfirmation` and `UnsubscribeConfirmation` are refused at `Type`, so
 * that they are kept as dead letters, where the admin finds the `SubscribeURL` to confirm.
 *
 * A rule evaluating one resource is the symptom (check: the rule's name, asset: the resource
 * id). NON_COMPLIANT fires; COMPLIANT resolves, and so does NOT_APPLICABLE: the resource left the
 * rule's scope or was deleted, so the failure can no longer be observed. INSUFFICIENT_DATA says
 * nothing either way and is refused with its path: leave it out of the EventBridge rule's
 * pattern. Resource ids repeat across accounts and regions (a log group `dev1` in each), so both
 * are labels: add `labels.account` and `labels.region` to `fingerprint.fields` when one
 * connector receives from several.
 */
import { describeValue } from '../payload.js';
import { PayloadRejection, type Preset } from './types.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * AWS's own wording ("AWS::Logs::LogGroup dev1 is NON_COMPLIANT with rule-name", as in its
 * notifications' subject) and the rule's annotation when it gives one: many managed rules give
 * none, and the first failure's message becomes the nonconformity's title.
 */
function summary(detail: Json): string | undefined {
  const evaluation = isRecord(detail.newEvaluationResult) ? detail.newEvaluationResult : {};
  const { resourceType, resourceId, configRuleName } = detail;
  const { complianceType, annotation } = evaluation;
  if (typeof configRuleName !== 'string' || typeof complianceType !== 'string') return undefined;
  const subject = [resourceType, resourceId].filter((part) => typeof part === 'string').join(' ');
  const sentence = `${subject} is ${complianceType} with ${configRuleName}`;
  return typeof annotation === 'string' && annotation.trim() !== '' ? `${sentence}: ${annotation.trim()}` : sentence;
}

/** The event as the mapping reads it: its own paths, and the composed message beside them. */
function withSummary(event: Json): Json {
  return isRecord(event.detail) ? { ...event, message: summary(event.detail) } : event;
}

function rejected(path: string, message: string): PayloadRejection {
  return new PayloadRejection([{ path, message }]);
}

/** An SNS delivery: its Config notification (or EventBridge event) in EventBridge's shape. */
function fromSns(envelope: Json): unknown {
  const { Type: type, Message: body } = envelope;
  if (type === 'SubscriptionConfirmation' || type === 'UnsubscribeConfirmation') {
    return rejected('Type', `is "${type}", which carries no evaluation: recurd does not confirm SNS subscriptions; open its SubscribeURL, kept in this dead letter, to confirm`);
  }
  if (type !== 'Notification') return rejected('Type', `is ${describeValue(type)}, not "Notification"`);
  let message: unknown = body;
  if (typeof body === 'string') {
    try {
      message = JSON.parse(body) as unknown;
    } catch (error) {
      return rejected('Message', `is not JSON (${(error as Error).message}), expected the AWS Config notification as text`);
    }
  }
  if (!isRecord(message)) {
    return rejected('Message', `${body === undefined || body === null ? 'missing' : `is ${describeValue(message)}`}, expected the AWS Config notification (an object, or one as JSON text)`);
  }
  const sns = { TopicArn: envelope.TopicArn, MessageId: envelope.MessageId, Timestamp: envelope.Timestamp };
  // An EventBridge rule whose target is the topic: the event itself, as an API destination posts it.
  if (isRecord(message.detail)) return { ...withSummary(message), ...sns };
  // Config's other notifications on the same topic report no evaluation: nothing to observe.
  if (typeof message.messageType === 'string' && message.messageType !== 'ComplianceChangeNotification') return [];
  return { ...sns, id: envelope.MessageId, time: envelope.Timestamp, detail: message, message: summary(message) };
}

export const awsConfigPreset: Preset = {
  name: 'aws-config',
  description: 'AWS Config rule compliance changes from Amazon EventBridge or an SNS HTTP/S subscription: NON_COMPLIANT fires, COMPLIANT resolves',
  family: 'config-drift',
  control: 'A.8.9',
  severity: 'medium',
  // The event keeps its own paths; only the message is composed, under a key EventBridge does not use.
  // SNS's envelope is told apart by `Type`, which EventBridge events do not have.
  reshape: (document) => {
    if (!isRecord(document)) return document;
    return typeof document.Type === 'string' ? fromSns(document) : withSummary(document);
  },
  mapping: {
    id: 'id',
    status: {
      path: 'detail.newEvaluationResult.complianceType',
      map: { NON_COMPLIANT: 'firing', COMPLIANT: 'resolved', NOT_APPLICABLE: 'resolved' },
    },
    // When the evaluated configuration was recorded: evaluations are ordered by it.
    observedAt: 'detail.newEvaluationResult.evaluationResultIdentifier.orderingTimestamp',
    asset: 'detail.resourceId',
    check: 'detail.configRuleName',
    message: 'message',
    labels: { account: 'detail.awsAccountId', region: 'detail.awsRegion', resource_type: 'detail.resourceType' },
    evidence: {
      eventId: 'id',
      eventTime: 'time',
      configRuleArn: 'detail.configRuleARN',
      annotation: 'detail.newEvaluationResult.annotation',
      resultRecordedTime: 'detail.newEvaluationResult.resultRecordedTime',
      previousComplianceType: 'detail.oldEvaluationResult.complianceType',
      notificationCreationTime: 'detail.notificationCreationTime',
      snsTopicArn: 'TopicArn',
      snsMessageId: 'MessageId',
      snsTimestamp: 'Timestamp',
    },
  },
};
