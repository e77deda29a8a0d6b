/**
 * Posts each NC event to a Microsoft Teams Workflows webhook (the "When a Teams webhook request
 * is received" trigger that replaced the Office 365 connectors) as a message with one Adaptive
 * Card: the title, the text, the NC's key facts as a FactSet and a button to the NC.
 *
 * TextBlock text and Fact values are read as Markdown (a CommonMark subset: emphasis, lists,
 * links). Every value from an alert is therefore backslash-escaped, so `**`, `[text](url)` or a
 * line starting `- ` arrives as written; the button's title is not Markdown and stays as is.
 * The workflow answers 202 once it has accepted the request: whether its "Post card" step then
 * succeeds is in the workflow's run history, not in the answer.
 */
import { z } from 'zod';
import { clip, factValue, keyFacts, webhookUrl, type KeyFact } from './chat.js';
import { notifierBase, notifierFrom } from './base.js';
import { send } from './http.js';
import { messageFacts, renderMessage, type RenderedMessage } from './message.js';
import type { NotifierType } from './types.js';

/** Teams refuses a message of more than about 28 KB (Microsoft Teams connector, known limitations). */
export const TEAMS_MESSAGE_LIMIT = 28_000;
/** Where cutting the texts of an oversized card starts; halved until the card fits. */
const FIRST_CUT = 4000;

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('teams'),
    url: webhookUrl.describe("the HTTP POST URL of the workflow's \"When a Teams webhook request is received\" trigger: its sig parameter is the credential"),
  })
  .strict();

function card(message: RenderedMessage, facts: KeyFact[], link: string | null, id: string, max: number): object {
  const cut = (text: string): string => clip(text, max, 'markdown');
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        // The trigger's schema requires the property; a card inside the message has no URL.
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          // Microsoft's own example for Teams webhooks uses 1.2; every element here is 1.0.
          version: '1.2',
          body: [
            { type: 'TextBlock', text: cut(message.title), size: 'Large', weight: 'Bolder', wrap: true },
            // One block a line: a TextBlock needs a blank line in Markdown to break one.
            ...message.lines.map((line) => ({ type: 'TextBlock', text: cut(line), wrap: true })),
            { type: 'FactSet', facts: facts.map((fact) => ({ title: fact.label, value: factValue(fact, 'markdown', max) })) },
          ],
          ...(link === null ? {} : { actions: [{ type: 'Action.OpenUrl', title: `Open ${id}`, url: link }] }),
        },
      },
    ],
  };
}

export const teamsNotifier: NotifierType<typeof schema> = {
  type: 'teams',
  schema,
  create(config, services) {
    const base = notifierFrom(config);
    return {
      ...base,
      async deliver(event) {
        const facts = messageFacts(event, services.annexA, services.baseUrl);
        const message = renderMessage(facts, 'markdown', base.templates);
        const key = keyFacts(facts);
        let body = card(message, key, facts.nc.link, facts.nc.id, Number.POSITIVE_INFINITY);
        // A long alert text or a systemic NC's many assets: the texts are cut until the card fits.
        for (let max = FIRST_CUT; Buffer.byteLength(JSON.stringify(body)) > TEAMS_MESSAGE_LIMIT && max >= 1; max = Math.floor(max / 2)) {
          body = card(message, key, facts.nc.link, facts.nc.id, max);
        }
        await send(config.name, { url: config.url, body, timeoutMs: config.timeout, secretPath: true });
      },
    };
  },
};
