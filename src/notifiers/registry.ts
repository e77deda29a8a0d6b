/** Every notifier type recurd knows: adding one is one module and one line here. */
import { z } from 'zod';
import { controlPattern } from '../core/annex-a.js';
import { cisoAssistantNotifier } from './ciso-assistant.js';
import { emailNotifier } from './email.js';
import { jiraNotifier } from './jira.js';
import { proboNotifier } from './probo.js';
import { slackNotifier } from './slack.js';
import { teamsNotifier } from './teams.js';
import type { Notifier, NotifierServices, NotifierType } from './types.js';
import { webhookNotifier } from './webhook.js';

export const notifierTypes = [webhookNotifier, emailNotifier, slackNotifier, teamsNotifier, jiraNotifier, proboNotifier, cisoAssistantNotifier] as const;

export const notifierConfigSchema = z.discriminatedUnion('type', [
  webhookNotifier.schema,
  emailNotifier.schema,
  slackNotifier.schema,
  teamsNotifier.schema,
  jiraNotifier.schema,
  proboNotifier.schema,
  cisoAssistantNotifier.schema,
]);
export type NotifierConfig = z.output<typeof notifierConfigSchema>;

export function createNotifier(config: NotifierConfig, services: NotifierServices): Notifier {
  const type = notifierTypes.find((candidate) => candidate.type === config.type) as NotifierType<z.ZodType> | undefined;
  if (type === undefined) throw new Error(`unknown notifier type "${config.type}"`);
  // NCs carry 2022 ids: a 2013 id in the filter means its 2022 control.
  const { annexA } = services;
  const control = config.match?.control;
  if (annexA === null || control === undefined) return type.create(config, services);
  return type.create({ ...config, match: { ...config.match, control: control.map((pattern) => controlPattern(annexA, pattern)) } }, services);
}
