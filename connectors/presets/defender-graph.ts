/**
 * Microsoft Graph security alerts (v2): the `alert` resource of `GET /security/alerts_v2` and
 * `GET /security/alerts_v2/{id}`, one alert or a page (`value`), as a Logic App, Azure Function
 * or poller relays them. Defender XDR's alerts from every service (Defender for Endpoint, for
 * Office 365, for Identity, for Cloud Apps) arrive in this one shape.
 *
 * Read as the defender-endpoint preset reads its API's alerts, so that a detection keeps its
 * symptom whichever API relays it: the check is the title (e.g. "Suspicious execution of hidden
 * file"), the same on every alert of that detection, where `detectorId` names only the rule
 * behind it, which may raise many detections; `resolved` is the fix; antivirus detections and
 * malware are A.8.7, the others A.8.16.
 */
import { eachAlert, isRecord, present, type Json } from './microsoft-api.js';
import type { Preset } from './types.js';

const EVIDENCE = '#microsoft.graph.security.';

/**
 * What the alert is about, from its evidence: the first device (its DNS name; a device Defender
 * has not named keeps its id), else the first user account, mailbox or IP address.
 */
function assetOf(evidence: unknown): unknown {
  const items = Array.isArray(evidence) ? evidence.filter(isRecord) : [];
  const ofType = (type: string): Json[] => items.filter((item) => item['@odata.type'] === `${EVIDENCE}${type}`);
  const account = (item: Json): Json => (isRecord(item.userAccount) ? item.userAccount : {});
  const candidates = [
    ...ofType('deviceEvidence').flatMap((item) => [item.deviceDnsName, item.mdeDeviceId, item.azureAdDeviceId]),
    ...ofType('userEvidence').flatMap((item) => [account(item).userPrincipalName, account(item).accountName]),
    ...ofType('mailboxEvidence').map((item) => item.primaryAddress),
    ...ofType('ipEvidence').map((item) => item.ipAddress),
  ];
  return candidates.map(present).find((candidate) => typeof candidate === 'string');
}

function alertItem(alert: unknown): unknown {
  if (!isRecord(alert)) return alert;
  const malware = alert.detectionSource === 'antivirus' || alert.category === 'Malware';
  return {
    ...alert,
    recurd: {
      // When the activity began, so that activity from before a fix stays the old episode's tail;
      // a resolved alert is timed by its resolution.
      observedAt: alert.status === 'resolved' ? alert.resolvedDateTime : (present(alert.firstActivityDateTime) ?? alert.createdDateTime),
      asset: assetOf(alert.evidence),
      control: malware ? 'A.8.7' : 'A.8.16',
    },
  };
}

export const defenderGraphPreset: Preset = {
  name: 'defender-graph',
  description: 'Microsoft Graph security alerts v2 (alerts_v2: one alert, or a List alerts_v2 page): resolved resolves',
  family: 'av',
  control: 'A.8.7',
  severity: 'medium',
  reshape: eachAlert(alertItem),
  mapping: {
    id: 'id',
    // unknownFutureValue is Graph's placeholder for values added later: still an open alert.
    status: { path: 'status', map: { new: 'firing', inProgress: 'firing', unknownFutureValue: 'firing', resolved: 'resolved' } },
    observedAt: 'recurd.observedAt',
    asset: 'recurd.asset',
    check: 'title',
    message: 'title',
    severity: { path: 'severity', map: { informational: 'info', low: 'low', medium: 'medium', high: 'high', unknownFutureValue: 'medium' } },
    control: 'recurd.control',
    labels: {
      category: 'category',
      service_source: 'serviceSource',
      detection_source: 'detectionSource',
      detector_id: 'detectorId',
      incident_id: 'incidentId',
      tenant_id: 'tenantId',
    },
    evidence: {
      alertId: 'id',
      providerAlertId: 'providerAlertId',
      alertWebUrl: 'alertWebUrl',
      incidentId: 'incidentId',
      classification: 'classification',
      determination: 'determination',
      assignedTo: 'assignedTo',
      description: 'description',
      createdDateTime: 'createdDateTime',
      firstActivityDateTime: 'firstActivityDateTime',
      lastActivityDateTime: 'lastActivityDateTime',
      lastUpdateDateTime: 'lastUpdateDateTime',
      resolvedDateTime: 'resolvedDateTime',
      mitreTechniques: 'mitreTechniques',
      evidence: 'evidence',
    },
  },
};
