/** Every preset recurd ships: adding one is one module beside this file and one line here. */
import type { Preset } from './types.js';
import { aidePreset } from './aide.js';
import { awsConfigPreset } from './aws-config.js';
import { defenderEndpointPreset } from './defender-endpoint.js';
import { defenderGraphPreset } from './defender-graph.js';
import { grafanaPreset } from './grafana.js';
import { terraformPlanPreset } from './terraform-plan.js';
import { wazuhPreset } from './wazuh.js';
import { suricataEvePreset } from './suricata-eve.js';
import { clamavPreset } from './clamav.js';
import { elasticSecurityPreset } from './elastic-security.js';

export const presets: readonly Preset[] = [
  wazuhPreset,
  suricataEvePreset,
  clamavPreset,
  aidePreset,
  terraformPlanPreset,
  awsConfigPreset,
  grafanaPreset,
  defenderEndpointPreset,
  defenderGraphPreset,
  elasticSecurityPreset,
];

export function findPreset(name: string): Preset | undefined {
  return presets.find((preset) => preset.name === name);
}
