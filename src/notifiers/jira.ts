/**
 * Jira: one issue per NC, in Jira Cloud (REST v3, text in the Atlassian Document Format) or Jira
 * Data Center (REST v2, text in wiki markup). `nc.opened` creates the issue with its project,
 * issue type, priority (from the NC's severity) and labels (`recurd`, the control, the family);
 * every later event is a comment on it; `nc.reopened` reopens a done issue (`onReopen: reopen`)
 * or opens a new one linked to it (`onReopen: new`); `nc.verified-effective` moves it to done.
 * The issue's key is kept as the NC's ticket link (the API shows it; the Jira intake reads it).
 *
 * Redelivery never makes a second issue: each issue carries a label made of the id of the event
 * that created it, searched for before creating, so a crash between Jira's answer and the link
 * being stored is repaired on the next attempt. Jira's search index may lag a just-created issue
 * by seconds; the outbox's backoff (5 s, doubling) is longer than that in practice.
 */
import { z } from 'zod';
import { secret } from '../config/fields.js';
import { SEVERITIES, type NcEvent, type Severity } from '../core/types.js';
import type { TicketLink } from '../ticket-links.js';
import { notifierBase, notifierFrom } from './base.js';
import { send, type DestinationAnswer } from './http.js';
import { messageFacts, renderMessage } from './message.js';
import { DeliveryError, recordNotMadeYet, type Delivery, type NotifierServices, type NotifierType } from './types.js';

/** Jira's own default priority scheme. */
const DEFAULT_PRIORITIES: Record<Severity, string> = { critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low', info: 'Lowest' };

/** The fields recurd fills on every issue it creates: `fields` may add others, not replace these. */
const OWN_FIELDS = ['project', 'summary', 'issuetype', 'description', 'priority', 'labels'];

/** Jira refuses a summary longer than this. */
const SUMMARY_MAX = 255;

const label = z.string().regex(/^\S+$/, 'a Jira label cannot contain spaces').max(255);

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('jira'),
    url: z.url({ protocol: /^https?$/ }).describe('the Jira site: https://example.atlassian.net, or the base URL of Jira Data Center'),
    deployment: z
      .enum(['cloud', 'datacenter'])
      .default('cloud')
      .describe('cloud: REST v3, Atlassian Document Format, e-mail and API token; datacenter: REST v2, wiki markup, personal access token'),
    auth: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('basic'), email: z.string().min(1), apiToken: secret }).strict().describe('Jira Cloud: the account e-mail and an API token'),
        z.object({ type: z.literal('bearer'), token: secret }).strict().describe('Jira Data Center: a personal access token'),
      ])
      .describe('how recurd signs in to Jira'),
    project: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a Jira project key such as SEC').describe('the project the issues are created in'),
    issueType: z.string().min(1).default('Task').describe('the issue type, by name'),
    priorities: z
      .partialRecord(z.enum(SEVERITIES), z.string().min(1))
      .optional()
      .describe('Jira priority name per NC severity; default critical Highest, high High, medium Medium, low Low, info Lowest'),
    labels: z.array(label).default([]).describe('labels added to every issue, beside recurd, the control and the family'),
    transitions: z
      .object({
        reopen: z.string().min(1).optional().describe('the transition, by name, that reopens a done issue when its NC is reopened'),
        done: z.string().min(1).optional().describe('the transition, by name, taken when the corrective action is verified effective'),
      })
      .strict()
      .prefault({}),
    onReopen: z
      .enum(['reopen', 'new'])
      .default('reopen')
      .describe("an NC reopened while its issue is done: reopen the issue, or create a new one linked to it"),
    linkType: z.string().min(1).default('Relates').describe('the issue link type between a new issue and the done one it follows (onReopen: new)'),
    fields: z.record(z.string(), z.unknown()).optional().describe('further fields set on each created issue, as Jira takes them (components: [{ name: Backup }])'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.deployment === 'cloud' && config.auth.type !== 'basic') {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'Jira Cloud signs in with { type: basic, email, apiToken }' });
    }
    if (config.deployment === 'datacenter' && config.auth.type !== 'bearer') {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'Jira Data Center signs in with a personal access token: { type: bearer, token }' });
    }
    if (config.onReopen === 'reopen' && config.transitions.reopen === undefined) {
      ctx.addIssue({ code: 'custom', path: ['transitions', 'reopen'], message: 'name the transition that reopens a done issue (onReopen is reopen), or set onReopen: new' });
    }
    if (config.events !== undefined && !config.events.includes('nc.opened')) {
      ctx.addIssue({ code: 'custom', path: ['events'], message: 'must include nc.opened: it creates the issue every later event is written to' });
    }
    for (const field of Object.keys(config.fields ?? {})) {
      if (OWN_FIELDS.includes(field)) ctx.addIssue({ code: 'custom', path: ['fields', field], message: `is set by recurd itself (${OWN_FIELDS.join(', ')})` });
    }
  });

type JiraConfig = z.output<typeof schema>;

/** What a comment or a description says: a first line, and the lines after it. */
export interface JiraText {
  title: string | null;
  lines: string[];
}

/** A line that is only a link (the NC in the console): made a link, in either format. */
const URL_LINE = /^https?:\/\/[^\s[\]|{}]+$/;

/** Atlassian Document Format: one paragraph per line, the title in bold, a bare URL as a link. */
export function adf(text: JiraText): Record<string, unknown> {
  const paragraph = (content: Array<Record<string, unknown>>) => ({ type: 'paragraph', content });
  const content = text.lines
    .filter((line) => line.trim() !== '')
    .map((line) => paragraph([URL_LINE.test(line) ? { type: 'text', text: line, marks: [{ type: 'link', attrs: { href: line } }] } : { type: 'text', text: line }]));
  if (text.title !== null && text.title !== '') content.unshift(paragraph([{ type: 'text', text: text.title, marks: [{ type: 'strong' }] }]));
  return { type: 'doc', version: 1, content };
}

/**
 * Jira wiki markup taken literally: a backslash before each character that starts an effect
 * (bold, italics, links, macros, tables, lists, emoticons), and before the dot of a heading or
 * quote at the start of a line. Applied to the whole rendered text: recurd's templates carry no
 * markup of their own, so nothing from an alert or a person can become markup.
 */
export function wikiEscape(line: string): string {
  return line.replace(/[\\*_?\-+^~{}[\]!|#()]/g, '\\$&').replace(/^(\s*(?:h[1-6]|bq))\./, '$1\\.');
}

export function wiki(text: JiraText): string {
  const lines = text.lines.filter((line) => line.trim() !== '').map((line) => (URL_LINE.test(line) ? `[${line}]` : wikiEscape(line)));
  return (text.title !== null && text.title !== '' ? [`*${wikiEscape(text.title)}*`, ...lines] : lines).join('\n');
}

/** The label that marks the issue an event created, so that its redelivery finds it. */
export function creationLabel(event: Pick<NcEvent, 'id'>): string {
  return `recurd-${event.id.replace(/\s+/g, '_')}`;
}

const createdIssue = z.object({ key: z.string().min(1) });
const foundIssues = z.object({ issues: z.array(z.object({ key: z.string().min(1) })) });
const issueStatus = z.object({ fields: z.object({ status: z.object({ name: z.string().optional(), statusCategory: z.object({ key: z.string() }) }) }) });
const transitionList = z.object({ transitions: z.array(z.object({ id: z.string(), name: z.string() })) });

/** Jira's REST API as this notifier uses it: the calls, their paths and bodies per deployment. */
class JiraClient {
  private readonly api: string;
  private readonly headers: Record<string, string>;
  readonly cloud: boolean;

  constructor(private readonly config: JiraConfig) {
    this.cloud = config.deployment === 'cloud';
    this.api = `${config.url.replace(/\/+$/, '')}/rest/api/${this.cloud ? 3 : 2}`;
    const auth = config.auth;
    this.headers = {
      accept: 'application/json',
      authorization: auth.type === 'basic' ? `Basic ${Buffer.from(`${auth.email}:${auth.apiToken}`).toString('base64')}` : `Bearer ${auth.token}`,
    };
  }

  /** Where a person opens an issue. */
  browse(key: string): string {
    return `${this.config.url.replace(/\/+$/, '')}/browse/${encodeURIComponent(key)}`;
  }

  private call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<DestinationAnswer> {
    return send(this.config.name, { method, url: `${this.api}${path}`, headers: this.headers, body, timeoutMs: this.config.timeout });
  }

  /** What Jira answered, read with `shape`; an answer of another shape will not change on retry. */
  private read<T>(answer: DestinationAnswer, shape: z.ZodType<T>, what: string): T {
    const parsed = shape.safeParse(answer.json);
    if (!parsed.success) throw new DeliveryError(`${this.config.name}: Jira answered ${answer.status} without ${what}`, false);
    return parsed.data;
  }

  text(text: JiraText): unknown {
    return this.cloud ? adf(text) : wiki(text);
  }

  async create(fields: Record<string, unknown>): Promise<string> {
    return this.read(await this.call('POST', '/issue', { fields }), createdIssue, 'the key of the created issue').key;
  }

  /** The key of the project's issue with this label, or null. */
  async findByLabel(label: string): Promise<string | null> {
    const jql = `project = "${this.config.project}" AND labels = "${label.replace(/["\\]/g, '\\$&')}"`;
    const query = new URLSearchParams({ jql, fields: 'key', maxResults: '1' });
    // Jira Cloud retired GET /search for /search/jql; Data Center has only the former.
    const answer = await this.call('GET', `${this.cloud ? '/search/jql' : '/search'}?${query.toString()}`);
    return this.read(answer, foundIssues, 'a list of issues').issues[0]?.key ?? null;
  }

  async comment(key: string, text: JiraText): Promise<void> {
    await this.call('POST', `/issue/${encodeURIComponent(key)}/comment`, { body: this.text(text) });
  }

  /** The key of the issue's status category: new, indeterminate or done. */
  async statusCategory(key: string): Promise<string> {
    const answer = await this.call('GET', `/issue/${encodeURIComponent(key)}?fields=status`);
    return this.read(answer, issueStatus, "the issue's status").fields.status.statusCategory.key;
  }

  /** Takes the transition named `name` (transition ids differ between workflows; names are what admins see). */
  async transition(key: string, name: string): Promise<void> {
    const path = `/issue/${encodeURIComponent(key)}/transitions`;
    const { transitions } = this.read(await this.call('GET', path), transitionList, 'a list of transitions');
    const wanted = transitions.find((transition) => transition.name.toLowerCase() === name.toLowerCase());
    if (wanted === undefined) {
      const offered = transitions.map((transition) => `"${transition.name}"`).join(', ') || 'none';
      throw new DeliveryError(`${this.config.name}: ${key} has no transition "${name}" from its current status; it offers ${offered}`, false);
    }
    await this.call('POST', path, { transition: { id: wanted.id } });
  }

  /** Links `inward` to `outward` with the link type named `type`. */
  async link(type: string, inward: string, outward: string): Promise<void> {
    await this.call('POST', '/issueLink', { type: { name: type }, inwardIssue: { key: inward }, outwardIssue: { key: outward } });
  }
}

function create(config: JiraConfig, services: NotifierServices) {
  const base = notifierFrom(config);
  const client = new JiraClient(config);
  const priorities = { ...DEFAULT_PRIORITIES, ...config.priorities };
  const message = (event: NcEvent): JiraText => {
    const rendered = renderMessage(messageFacts(event, services.annexA, services.baseUrl), 'plain', base.templates);
    return { title: rendered.title, lines: rendered.lines };
  };

  /** Finds the issue `event` created on an earlier attempt, or creates it; `follows` is the done issue a new one follows. */
  const issueFor = async (event: NcEvent, text: JiraText, follows: string | null): Promise<string> => {
    const marker = creationLabel(event);
    const found = await client.findByLabel(marker);
    if (found !== null) return found;
    const { nc } = event;
    const labels = [...new Set(['recurd', ...(nc.control === null ? [] : [nc.control]), nc.family, ...config.labels, marker])];
    const description = { title: null, lines: [...text.lines, ...(follows === null ? [] : [`Follows ${follows}, which was done before the NC was reopened.`])] };
    return client.create({
      ...config.fields,
      project: { key: config.project },
      summary: (text.title ?? nc.title).slice(0, SUMMARY_MAX),
      issuetype: { name: config.issueType },
      description: client.text(description),
      priority: { name: priorities[nc.severity] },
      labels,
    });
  };

  const keep = (event: NcEvent, key: string): Promise<void> =>
    services.links.set(event.nc.id, { notifier: config.name, system: 'jira', key, url: client.browse(key), at: services.clock.now() });

  const reopened = async (event: NcEvent, text: JiraText, link: TicketLink): Promise<void> => {
    if ((await client.statusCategory(link.key)) !== 'done') return client.comment(link.key, text);
    if (config.onReopen === 'reopen') {
      // The state first: a retry after a failed comment finds the issue open and only comments.
      await client.transition(link.key, config.transitions.reopen as string);
      return client.comment(link.key, text);
    }
    const key = await issueFor(event, text, link.key);
    // Linked before the NC points at it: a retry still reads the old issue as done and comes back here.
    await client.link(config.linkType, key, link.key);
    await keep(event, key);
  };

  const verified = async (text: JiraText, link: TicketLink): Promise<void> => {
    const done = config.transitions.done;
    if (done !== undefined && (await client.statusCategory(link.key)) !== 'done') await client.transition(link.key, done);
    await client.comment(link.key, text);
  };

  return {
    ...base,
    keepsRecord: true,
    async deliver(event: NcEvent, delivery?: Delivery) {
      const text = message(event);
      const link = await services.links.get(event.nc.id, config.name);
      if (event.type === 'nc.opened') {
        if (link === null) await keep(event, await issueFor(event, text, null));
        return;
      }
      if (link === null) throw recordNotMadeYet(config.name, event, 'Jira issue');
      // Told late, an event is still worth its comment, but moving the issue would undo newer news.
      if (delivery?.superseded) return client.comment(link.key, text);
      if (event.type === 'nc.reopened') return reopened(event, text, link);
      if (event.type === 'nc.verified-effective') return verified(text, link);
      await client.comment(link.key, text);
    },
    commentOnTicket: (key: string, text: string) => client.comment(key, { title: null, lines: text.split('\n') }),
  };
}

export const jiraNotifier: NotifierType<typeof schema> = { type: 'jira', schema, create };
