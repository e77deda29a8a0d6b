/**
 * Microsoft Defender for Endpoint alerts, as the Alert resource of its API
 * (`GET /api/alerts/{id}`, `GET /api/alerts`): one alert, or a List alerts page (`value`), as
 * a Logic App, Azure Function or poller relays them.
 *
 * An alert keeps its id through New, InProgress and Resolved, so a poller that sends it again
 * with the same status sends a duplicate, and Resolved is the fix of the alert's symptom: the
 * detection (its title, e.g. "'Mountsi' malware was detected") on the device. The family is
 * `av`: Defender for Endpoint is the endpoint protection whose recurring detections show that
 * a clean-up did not remove the cause. Its antivirus detections and malware alerts are A.8.7
 * (protection against malware); its EDR detections (suspicious behaviour, lateral movement)
 * are A.8.16 (monitoring activities).
 */
import { eachAlert, isRecord, present } from './microsoft-api.js';
import type { Preset } from './types.js';

function alertItem(alert: unknown): unknown {
  if (!isRecord(alert)) return alert;
  const malware = alert.detectionSource === 'WindowsDefenderAv' || alert.category === 'Malware';
  return {
    ...alert,
    // When the activity began, so that activity from before a fix stays the old episode's tail;
    // a resolved alert is timed by its resolution.
    observedAt: alert.status === 'Resolved' ? alert.resolvedTime : (present(alert.firstEventTime) ?? alert.alertCreationTime),
    // A device whose name Defender has not resolved has a null name; its id still tells it apart.
    asset: present(alert.computerDnsName) ?? alert.machineId,
    control: malware ? 'A.8.7' : 'A.8.16',
  };
}

export const defenderEndpointPreset: Preset = {
  name: 'defender-endpoint',
  description: 'Microsoft Defender for Endpoint Alert resources (one alert, or a List alerts page): Resolved resolves',
  family: 'av',
  control: 'A.8.7',
  severity: 'medium',
  reshape: eachAlert(alertItem),
  mapping: {
    id: 'id',
    // Unknown is an open alert from before the status values were fixed: still a detection.
    status: { path: 'status', map: { New: 'firing', InProgress: 'firing', Unknown: 'firing', Resolved: 'resolved' } },
    observedAt: 'observedAt',
    asset: 'asset',
    check: 'title',
    message: 'title',
    severity: { path: 'severity', map: { UnSpecified: 'medium', Informational: 'info', Low: 'low', Medium: 'medium', High: 'high' } },
    control: 'control',
    labels: {
      category: 'category',
      detection_source: 'detectionSource',
      detector_id: 'detectorId',
      threat_family: 'threatFamilyName',
      machine_id: 'machineId',
      rbac_group: 'rbacGroupName',
      incident_id: 'incidentId',
    },
    evidence: {
      alertId: 'id',
      incidentId: 'incidentId',
      investigationId: 'investigationId',
      investigationState: 'investigationState',
      classification: 'classification',
      determination: 'determination',
      assignedTo: 'assignedTo',
      alertCreationTime: 'alertCreationTime',
      firstEventTime: 'firstEventTime',
      lastEventTime: 'lastEventTime',
      lastUpdateTime: 'lastUpdateTime',
      resolvedTime: 'resolvedTime',
      mitreTechniques: 'mitreTechniques',
      evidence: 'evidence',
    },
  },
};
