/**
 * AWS Config's "Config Rules Compliance Change" events as Amazon EventBridge delivers them (an
 * API destination or any forwarder that posts the event as it is), one event per request.
 *
 * A rule evaluating one resource is the symptom (check: the rule's name, asset: the resource
 * id). NON_COMPLIANT fires; COMPLIANT resolves, and so does NOT_APPLICABLE: the resource left the
 * rule's scope or was deleted, so the failure can no longer be observed. INSUFFICIENT_DATA says
 * nothing either way and is refused with its path: leave it out of the EventBridge rule's
 * pattern. Resource ids repeat across accounts and regions (a log group `dev1` in each), so both
 * are labels: add `labels.account` and `labels.region` to `fingerprint.fields` when one
 * connector receives from several.
 */
import type { Preset } from './types.js';

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

export const awsConfigPreset: Preset = {
  name: 'aws-config',
  description: 'AWS Config "Config Rules Compliance Change" events from Amazon EventBridge: NON_COMPLIANT fires, COMPLIANT resolves',
  family: 'config-drift',
  control: 'A.8.9',
  severity: 'medium',
  // The event keeps its own paths; only the message is composed, under a key EventBridge does not use.
  reshape: (document) => {
    if (!isRecord(document) || !isRecord(document.detail)) return document;
    return { ...document, message: summary(document.detail) };
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
    },
  },
};
