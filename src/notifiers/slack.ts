/**
 * Posts each NC event to a Slack incoming webhook as a Block Kit message: a header with the title,
 * the text in mrkdwn, the NC's key facts as section fields, and a button to the NC in the console.
 *
 * Alert text is never markup here: mrkdwn gets Slack's escaping of `&`, `<` and `>` (so no
 * `<!channel>` or disguised `<url|link>` survives) and `verbatim`, which stops Slack from turning
 * plain `@here` or URLs into mentions and links; the header and button are plain_text.
 * Webhooks of Slack apps post to the channel chosen when the app was installed, under the app's
 * name and icon: the payload cannot change them, so there is nothing to configure but the URL.
 */
import { z } from 'zod';
import { clip, factValue, keyFacts, webhookUrl } from './chat.js';
import { notifierBase, notifierFrom } from './base.js';
import { send } from './http.js';
import { messageFacts, renderMessage } from './message.js';
import type { NotifierType } from './types.js';

/** Block Kit's documented limits (Slack's Block Kit reference: header, section, button). */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  buttonText: 75,
  buttonUrl: 3000,
} as const;

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('slack'),
    url: webhookUrl.describe('the incoming-webhook URL of a Slack app (https://hooks.slack.com/services/…): its path is the credential'),
  })
  .strict();

export const slackNotifier: NotifierType<typeof schema> = {
  type: 'slack',
  schema,
  create(config, services) {
    const base = notifierFrom(config);
    return {
      ...base,
      async deliver(event) {
        const facts = messageFacts(event, services.annexA, services.baseUrl);
        const plain = renderMessage(facts, 'plain', base.templates);
        const mrkdwn = renderMessage(facts, 'slack', base.templates);
        const blocks: object[] = [
          { type: 'header', text: { type: 'plain_text', text: clip(plain.title, SLACK_LIMITS.headerText, 'plain'), emoji: false } },
        ];
        if (mrkdwn.lines.length > 0) {
          blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn.lines.join('\n'), SLACK_LIMITS.sectionText, 'slack'), verbatim: true } });
        }
        blocks.push({
          type: 'section',
          fields: keyFacts(facts).map((fact) => ({
            type: 'mrkdwn',
            // The label leaves room for the value within the field's limit.
            text: `*${fact.label}*\n${factValue(fact, 'slack', SLACK_LIMITS.fieldText - fact.label.length - 3)}`,
            verbatim: true,
          })),
        });
        const link = facts.nc.link;
        // A URL cut to fit would lead elsewhere: past the limit the NC id in the text has to do.
        if (link !== null && link.length <= SLACK_LIMITS.buttonUrl) {
          blocks.push({
            type: 'actions',
            elements: [{ type: 'button', text: { type: 'plain_text', text: clip(`Open ${facts.nc.id}`, SLACK_LIMITS.buttonText, 'plain') }, url: link }],
          });
        }
        await send(config.name, {
          url: config.url,
          // `text` is what notifications and screen readers show in place of the blocks.
          body: { text: clip(mrkdwn.title, SLACK_LIMITS.sectionText, 'slack'), blocks },
          timeoutMs: config.timeout,
          secretPath: true,
        });
      },
    };
  },
};
