/** Every notifier type recurd knows: adding one is one module and one line here. */
import type { NotifierConfig } from '../config/schema.js';
import type { Notifier } from './types.js';
import { WebhookNotifier } from './webhook.js';

const notifierTypes: Record<NotifierConfig['type'], (config: NotifierConfig) => Notifier> = {
  webhook: (config) => new WebhookNotifier(config),
};

export function createNotifier(config: NotifierConfig): Notifier {
  return notifierTypes[config.type](config);
}
