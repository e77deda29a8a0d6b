/**
 * The teams notifier against a loopback Power Automate workflow ("When a Teams webhook request is
 * received") that checks each request against the trigger's documented body (a message with an
 * Adaptive Card attachment) and the Adaptive Card elements used, and answers as the workflow
 * endpoint does: 202 Accepted with no body, or its JSON error envelope.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ConfigInput } from '../../src/config/schema.js';
import { NC_EVENT_TYPES } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { EVENT_LABELS } from '../../src/notifiers/message.js';
import { TEAMS_MESSAGE_LIMIT, teamsNotifier } from '../../src/notifiers/teams.js';
import { type Notifier } from '../../src/notifiers/types.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';
import { chatServices, deliveries, fixtureText, outboxJobs, raiseBackupNc, chatSuite } from '../helpers/chat-notifiers.js';
import { refusal } from '../helpers/nc.js';
import { eventually, runDaemon, testConfig } from '../helpers/daemon.js';
import { startVendorApi, type VendorAnswer, type VendorApi, type VendorRequest } from '../helpers/vendor-api.js';

// The Adaptive Card elements used here, as the schema explorer (adaptivecards.io) documents them.
const textBlock = z
  .object({
    type: z.literal('TextBlock'),
    text: z.string(),
    wrap: z.boolean().optional(),
    size: z.enum(['Default', 'Small', 'Medium', 'Large', 'ExtraLarge']).optional(),
    weight: z.enum(['Default', 'Lighter', 'Bolder']).optional(),
  })
  .strict();
const factSet = z.object({ type: z.literal('FactSet'), facts: z.array(z.object({ title: z.string(), value: z.string() }).strict()).min(1) }).strict();
const openUrl = z.object({ type: z.literal('Action.OpenUrl'), title: z.string().optional(), url: z.url() }).strict();
const adaptiveCard = z
  .object({
    $schema: z.string().optional(),
    type: z.literal('AdaptiveCard'),
    version: z.string().regex(/^1\.[0-6]$/),
    body: z.array(z.union([textBlock, factSet])).min(1),
    actions: z.array(openUrl).optional(),
  })
  .strict();
// The trigger's request body: its schema requires contentUrl (null for a card carried inline).
const workflowMessage = z
  .object({
    type: z.literal('message'),
    attachments: z.array(z.object({ contentType: z.literal('application/vnd.microsoft.card.adaptive'), contentUrl: z.null(), content: adaptiveCard }).strict()).min(1),
  })
  .strict();
type Card = z.infer<typeof adaptiveCard>;

const WORKFLOW = '/workflows/8f3c5a0e6d1b4f2a9c7e0b1d2a3f4e5c/triggers/manual/paths/invoke';
const SIG = 'Xr4nd0mS1gnatureOfTheTriggerUrl_0123456789ab';
const QUERY = `api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`;
const ROUTE = `POST ${WORKFLOW}`;

/** The workflow endpoint's answers: 202 with no body (the trigger took the request), or its error envelope. */
const ACCEPTED: VendorAnswer = { status: 202 };
const schemaMismatch: VendorAnswer = { status: 400, headers: { 'content-type': 'application/json; charset=utf-8' }, body: fixtureText('teams/trigger-input-schema-mismatch.400.json') };
const authorizationRequired: VendorAnswer = { status: 401, headers: { 'content-type': 'application/json; charset=utf-8' }, body: fixtureText('teams/direct-api-authorization-required.401.json') };

function checkRequest(request: VendorRequest): string | null {
  if (request.query.get('sig') !== SIG || request.query.get('sp') !== '/triggers/manual/run' || request.query.get('sv') !== '1.0') return 'the trigger URL lost its sp, sv or sig parameter';
  // A form-encoded body is refused with 400 by the trigger.
  if (!String(request.headers['content-type']).startsWith('application/json')) return `content-type is ${String(request.headers['content-type'])}, not application/json`;
  if (Buffer.byteLength(request.text) > TEAMS_MESSAGE_LIMIT) return `the message has ${Buffer.byteLength(request.text)} bytes, more than Teams takes`;
  return null;
}

async function startWorkflow(): Promise<VendorApi> {
  return startVendorApi('Power Automate', [{ method: 'POST', path: WORKFLOW, body: workflowMessage, check: checkRequest, answer: () => ACCEPTED }]);
}

function notifierFor(api: VendorApi, config: Record<string, unknown> = {}, baseUrl?: string | null): Notifier {
  return teamsNotifier.create(teamsNotifier.schema.parse({ name: 'soc', type: 'teams', url: `${api.url}${WORKFLOW}?${QUERY}`, ...config }), chatServices(baseUrl));
}

const cards = (api: VendorApi): Card[] => api.requests.map((request) => workflowMessage.parse(request.json).attachments[0]?.content as Card);
const texts = (card: Card): string[] => card.body.flatMap((element) => (element.type === 'TextBlock' ? [element.text] : []));
const facts = (card: Card): Array<{ title: string; value: string }> => card.body.flatMap((element) => (element.type === 'FactSet' ? element.facts : []));
/** What a CommonMark renderer shows for text with backslash escapes: the escaped character itself. */
const shown = (markdown: string): string => markdown.replace(/\\([!-/:-@[-`{-~])/g, '$1');
/** Markdown syntax characters left unescaped (after dropping every escape pair). */
const unescaped = (markdown: string): string[] => markdown.replace(/\\[!-/:-@[-`{-~]/g, '').match(/[*_[\]()<>&{}~`#!|\\]/g) ?? [];


describe('teams notifier', () => {
  const { event, start: workflow } = chatSuite(startWorkflow);

  it('posts every event type as one Adaptive Card: title, text, key facts and a button to the NC', async () => {
    const api = await workflow();
    const notifier = notifierFor(api);
    for (const type of NC_EVENT_TYPES) await notifier.deliver(event(type));
    expect(api.problems).toEqual([]);
    const posted = cards(api);
    expect(posted).toHaveLength(NC_EVENT_TYPES.length);
    for (const [index, type] of NC_EVENT_TYPES.entries()) {
      const card = posted[index] as Card;
      expect(card.body[0]).toEqual({ type: 'TextBlock', text: expect.any(String) as unknown, size: 'Large', weight: 'Bolder', wrap: true });
      expect(shown(texts(card)[0] as string)).toBe(`${EVENT_LABELS[type]}: NC-2026-0001 nightly backup of srv-db-01 failed`);
      expect(shown(texts(card).slice(1).join('\n'))).toContain(`NC: NC-2026-0001 (${event(type).nc.state}) nightly backup of srv-db-01 failed`);
      expect(facts(card).map((fact) => [fact.title, shown(fact.value)])).toEqual([
        ['NC', `NC-2026-0001 (${event(type).nc.state})`],
        ['Control', 'A.8.13 Information backup'],
        ['Asset', 'srv-db-01'],
        ['Reopened', event(type).nc.reopenCount === 1 ? '1 time' : `${event(type).nc.reopenCount} times`],
        ['Last corrective action', expect.stringMatching(/^(none yet|weak|strong)/) as unknown],
      ]);
      expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open NC-2026-0001', url: 'https://recurd.example.org/ui/nc/NC-2026-0001' }]);
    }
    expect(shown(texts(posted[NC_EVENT_TYPES.indexOf('nc.risk-accepted')] as Card)[1] as string)).toBe('CISO accepted the risk of NC-2026-0001 until 2026-04-01T00:00:00.000Z: legacy host retired in April');
  });

  it('delivers Markdown in alert text literally: escaped, so nothing becomes bold, a link or a list', async () => {
    const api = await workflow();
    const hostile = '**urgent** _now_ [open](http://phish.example) <b>x</b> &amp; {{DATE(2017-02-14T06:00:00Z, SHORT)}} \\*';
    const base = event('nc.opened');
    await notifierFor(api).deliver({ ...base, nc: { ...base.nc, title: hostile, asset: '- 1. host_[a]', assets: [] } });
    expect(api.problems).toEqual([]);
    const [card] = cards(api) as [Card];
    const [title] = texts(card) as [string];
    expect(shown(title)).toBe(`Nonconformity opened: NC-2026-0001 ${hostile}`);
    expect(title).toContain('\\*\\*urgent\\*\\* \\_now\\_ \\[open\\]\\(http://phish\\.example\\)');
    const asset = facts(card)[2] as { title: string; value: string };
    expect(asset).toEqual({ title: 'Asset', value: '\\- 1\\. host\\_\\[a\\]' });
    // Every value is escaped; what stays markup is the template's own text (`NC: … (open)`).
    for (const text of [title, ...facts(card).map((fact) => fact.value)]) expect(unescaped(text)).toEqual([]);
    expect(texts(card)[2]).toBe(`NC: NC\\-2026\\-0001 (open) ${title.slice('Nonconformity opened: NC\\-2026\\-0001 '.length)}`);
  });

  it('uses the templates of its config, and leaves out the button without ui.baseUrl', async () => {
    const api = await workflow();
    const notifier = notifierFor(api, { templates: { 'nc.overdue': { title: 'Overdue since {{ nc.dueDate }}: {{ nc.id }}', text: '**{{ nc.action.owner }}**, the action is late' } } }, null);
    await notifier.deliver(event('nc.overdue'));
    expect(api.problems).toEqual([]);
    const [card] = cards(api) as [Card];
    expect(texts(card)).toEqual(['Overdue since 2026\\-03\\-06: NC\\-2026\\-0001', '**secops**, the action is late']);
    expect(card.actions).toBeUndefined();
  });

  it('cuts the texts of a card that would pass the 28 KB Teams takes, keeping every escape whole', async () => {
    const api = await workflow();
    const base = event('nc.opened');
    const long = 'the backup volume on [host] ran *out* of space; '.repeat(400);
    const assets = Array.from({ length: 50 }, (_, index) => `srv-db-${String(index).padStart(2, '0')}.backup.internal.example.org`);
    await notifierFor(api).deliver({ ...base, nc: { ...base.nc, title: long, reason: long, assets, assetCount: 50 } });
    // The loopback refused anything over the limit: an empty problems list is the proof.
    expect(api.problems).toEqual([]);
    const [card] = cards(api) as [Card];
    const [title] = texts(card) as [string];
    expect(title.endsWith('…')).toBe(true);
    expect(title.length).toBeLessThan(long.length);
    for (const text of [title, ...facts(card).map((fact) => fact.value)]) expect(unescaped(text)).toEqual([]);
  });

  it.each([
    ['400 TriggerInputSchemaMismatch', schemaMismatch, 400, 'TriggerInputSchemaMismatch'],
    ['401 DirectApiAuthorizationRequired', authorizationRequired, 401, 'DirectApiAuthorizationRequired'],
  ])('takes %s as a refusal, with what the workflow said and without the trigger URL', async (_name, answer, status, code) => {
    const api = await workflow();
    api.queue(ROUTE, answer);
    const thrown = await refusal(notifierFor(api).deliver(event('nc.opened')));
    expect(thrown).toMatchObject({ retryable: false, retryAfterMs: null });
    expect(thrown.message).toMatch(new RegExp(`^soc: POST ${api.url}/… answered ${status}: \\{.*"code": ?"${code}"`));
    expect(thrown.message).not.toContain(SIG);
    expect(thrown.message).not.toContain('workflows');
  });

  it('refuses a config without a usable trigger URL, naming the field and not echoing it', () => {
    const parse = (url: unknown) => teamsNotifier.schema.safeParse({ name: 'soc', type: 'teams', url });
    expect(parse(`https://prod-12.westeurope.logic.azure.com:443${WORKFLOW}?${QUERY}`).success).toBe(true);
    for (const url of ['', `prod-12.westeurope.logic.azure.com${WORKFLOW}?sig=${SIG}`]) {
      const result = parse(url);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['url']);
      expect(JSON.stringify(result.error?.issues)).not.toContain(SIG);
    }
  });
});

describe('teams notifier in a daemon', () => {
  const redis = privateRedis();
  let prefix: string;
  let daemon: Daemon | null = null;
  let api: VendorApi | null = null;

  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    await api?.close();
    api = null;
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });

  it('delivers to the workflow (202), and gives up at once on a workflow that wants OAuth (401)', async () => {
    prefix = testPrefix();
    api = await startVendorApi('Power Automate', [
      { method: 'POST', path: WORKFLOW, body: workflowMessage, check: checkRequest, answer: () => ACCEPTED },
      { method: 'POST', path: '/workflows/tenant-only/triggers/manual/paths/invoke', body: workflowMessage, answer: () => authorizationRequired },
    ]);
    const notifiers = [
      { name: 'soc', type: 'teams', url: `${api.url}${WORKFLOW}?${QUERY}`, backoff: '100ms' },
      { name: 'tenant-only', type: 'teams', url: `${api.url}/workflows/tenant-only/triggers/manual/paths/invoke?api-version=1`, backoff: '100ms', attempts: 5, events: ['nc.opened'] },
    ] as ConfigInput['notifiers'];
    daemon = await runDaemon(testConfig(redis.url, prefix, { policy: { window: '3650d', maxLateness: '3650d' }, ui: { baseUrl: 'https://recurd.example.org' }, notifiers }));
    const ncId = await raiseBackupNc(daemon);

    await eventually(async () => ((await deliveries(daemon!, 'soc', 'delivered')) === 1 && (await deliveries(daemon!, 'tenant-only', 'failed')) === 1 ? true : undefined), 15_000, 'the delivery and the refusal');
    expect(api.problems).toEqual([]);
    const [card] = cards({ ...api, requests: api.to(ROUTE) }) as [Card];
    expect(shown(texts(card)[0] as string)).toMatch(new RegExp(`^Nonconformity opened: ${ncId} `));
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: `Open ${ncId}`, url: `https://recurd.example.org/ui/nc/${ncId}` }]);
    expect(api.to('POST /workflows/tenant-only/triggers/manual/paths/invoke')).toHaveLength(1);
    expect(await outboxJobs(redis.port, prefix, 'tenant-only')).toEqual([{ type: 'nc.opened', state: 'failed', attemptsMade: 1 }]);
    expect(await deliveries(daemon, 'tenant-only', 'retrying')).toBe(0);
  });
});
