/** Every connector type recurd knows: adding one is one module and one line here. */
import { z } from 'zod';
import { alertmanagerConnector } from './alertmanager.js';
import { elasticsearchConnector } from './elasticsearch.js';
import { fileConnector } from './file.js';
import { heartbeatConnector } from './heartbeat.js';
import { jiraConnector } from './jira.js';
import type { Connector, ConnectorServices, ConnectorType } from './types.js';
import { webhookConnector } from './webhook.js';

export const connectorTypes = [webhookConnector, alertmanagerConnector, heartbeatConnector, fileConnector, elasticsearchConnector, jiraConnector] as const;

export const connectorConfigSchema = z.discriminatedUnion(
  'type',
  [webhookConnector.schema, alertmanagerConnector.schema, heartbeatConnector.schema, fileConnector.schema, elasticsearchConnector.schema, jiraConnector.schema],
);
export type ConnectorConfig = z.output<typeof connectorConfigSchema>;

export function createConnector(config: ConnectorConfig, services: ConnectorServices): Connector {
  const type = connectorTypes.find((candidate) => candidate.type === config.type) as ConnectorType<z.ZodType> | undefined;
  if (type === undefined) throw new Error(`unknown connector type "${config.type}"`);
  return type.create(config, services);
}
