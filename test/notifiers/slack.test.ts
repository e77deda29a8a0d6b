/**
 * The slack notifier against a loopback Slack that checks each request against Block Kit's
 * documented blocks and limits and answers as Slack's incoming webhooks do (`ok`, or one of the
 * error strings of Slack's changelog "Improving error conditions for Incoming Webhooks"): every
 * event type, hostile alert text, templates, the answers that are retried and those that are not,
 * and delivery through a real daemon with match filters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NC_EVENT_TYPES } from '../../src/core/types.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Daemon } from '../../src/daemon.js';
import { SLACK_LIMITS, slackNotifier } from '../../src/notifiers/slack.js';
import { EVENT_LABELS } from '../../src/notifiers/message.js';
import { type Notifier } from '../../src/notifiers/types.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';
import { chatServices, deliveries, fixtureText, outboxJobs, raiseBackupNc, raiseMalwareNc, chatSuite } from '../helpers/chat-notifiers.js';
import { refusal } from '../helpers/nc.js';
import { eventually, runDaemon, testConfig } from '../helpers/daemon.js';
import { startVendorApi, type VendorAnswer, type VendorApi, type VendorRequest } from '../helpers/vendor-api.js';

// Block Kit as Slack's reference documents the blocks used here, with their length limits.
const plainText = (max: number) => z.object({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() }).strict();
const mrkdwn = (max: number) => z.object({ type: z.literal('mrkdwn'), text: z.string().min(1).max(max), verbatim: z.boolean().optional() }).strict();
const blockId = z.string().max(255).optional();
const headerBlock = z.object({ type: z.literal('header'), text: plainText(150), block_id: blockId }).strict();
const sectionBlock = z
  .object({
    type: z.literal('section'),
    text: z.union([plainText(3000), mrkdwn(3000)]).optional(),
    fields: z.array(z.union([plainText(2000), mrkdwn(2000)])).min(1).max(10).optional(),
    block_id: blockId,
  })
  .strict()
  .refine((section) => section.text !== undefined || section.fields !== undefined, 'a section needs text or fields');
const button = z
  .object({
    type: z.literal('button'),
    text: plainText(75),
    url: z.url().max(3000).optional(),
    action_id: z.string().max(255).optional(),
    value: z.string().max(2000).optional(),
    style: z.enum(['primary', 'danger']).optional(),
  })
  .strict();
const actionsBlock = z.object({ type: z.literal('actions'), elements: z.array(button).min(1).max(25), block_id: blockId }).strict();
const slackMessage = z.object({ text: z.string().min(1), blocks: z.array(z.union([headerBlock, sectionBlock, actionsBlock])).min(1).max(50) }).strict();
type SlackMessage = z.infer<typeof slackMessage>;

const TEAM = '/services/T00000000/B00000000';
const TOKEN = 'XXXXXXXXXXXXXXXXXXXXXXXX';

/** Slack's answer: `ok`, or an error string as the body (text/html, as hooks.slack.com sends them). */
function slackSays(status: number, body: string, headers: Record<string, string> = {}): VendorAnswer {
  return { status, headers: { 'content-type': status === 200 ? 'text/plain; charset=utf-8' : 'text/html', ...headers }, body };
}
const OK = slackSays(200, fixtureText('slack/ok.txt'));
const error = (status: number, name: string): VendorAnswer => slackSays(status, fixtureText(`slack/${name}.txt`));

/** A loopback hooks.slack.com with one incoming webhook per token; `times` records when each request came. */
async function startSlack(tokens: string[] = [TOKEN]): Promise<VendorApi & { times: Map<string, number[]> }> {
  const times = new Map<string, number[]>();
  const api = await startVendorApi(
    'Slack',
    tokens.map((token) => ({
      method: 'POST',
      path: `${TEAM}/${token}`,
      body: slackMessage,
      check: (request: VendorRequest) => {
        times.set(token, [...(times.get(token) ?? []), Date.now()]);
        return String(request.headers['content-type']).startsWith('application/json') ? null : `content-type is ${String(request.headers['content-type'])}, not application/json`;
      },
      answer: () => OK,
    })),
  );
  return Object.assign(api, { times });
}

function notifierFor(api: VendorApi, config: Record<string, unknown> = {}, baseUrl?: string | null): Notifier {
  return slackNotifier.create(slackNotifier.schema.parse({ name: 'secops', type: 'slack', url: `${api.url}${TEAM}/${TOKEN}`, ...config }), chatServices(baseUrl));
}

const messages = (api: VendorApi): SlackMessage[] => api.requests.map((request) => slackMessage.parse(request.json));
const header = (message: SlackMessage): string => (message.blocks.find((block) => block.type === 'header') as z.infer<typeof headerBlock>).text.text;
const mrkdwnTexts = (message: SlackMessage): string[] =>
  message.blocks.flatMap((block) => (block.type === 'section' ? [block.text, ...(block.fields ?? [])] : [])).flatMap((text) => (text?.type === 'mrkdwn' ? [text.text] : []));
const fields = (message: SlackMessage): string[] => {
  const section = message.blocks.find((block) => block.type === 'section' && block.fields !== undefined) as z.infer<typeof sectionBlock>;
  return (section.fields ?? []).map((field) => field.text);
};
const buttons = (message: SlackMessage): Array<z.infer<typeof button>> => message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));


const HOSTILE = '<!channel> *bold* <http://x|y> & @here';

describe('slack notifier', () => {
  const { event, start: slack } = chatSuite(startSlack);

  it('posts every event type as Block Kit: header, text, key facts and a button to the NC', async () => {
    const api = await slack();
    const notifier = notifierFor(api);
    for (const type of NC_EVENT_TYPES) await notifier.deliver(event(type));
    expect(api.problems).toEqual([]);
    const posted = messages(api);
    expect(posted).toHaveLength(NC_EVENT_TYPES.length);
    for (const [index, type] of NC_EVENT_TYPES.entries()) {
      const message = posted[index] as SlackMessage;
      expect(header(message)).toBe(`${EVENT_LABELS[type]}: NC-2026-0001 nightly backup of srv-db-01 failed`);
      expect(message.text).toBe(header(message));
      expect(message.blocks.map((block) => block.type)).toEqual(['header', 'section', 'section', 'actions']);
      expect(fields(message)).toEqual([
        `*NC*\nNC-2026-0001 (${event(type).nc.state})`,
        '*Control*\nA.8.13 Information backup',
        '*Asset*\nsrv-db-01',
        `*Reopened*\n${event(type).nc.reopenCount === 1 ? '1 time' : `${event(type).nc.reopenCount} times`}`,
        expect.stringMatching(/^\*Last corrective action\*\n(none yet|weak|strong)/) as unknown,
      ]);
      expect(buttons(message)).toEqual([{ type: 'button', text: { type: 'plain_text', text: 'Open NC-2026-0001' }, url: 'https://recurd.example.org/ui/nc/NC-2026-0001' }]);
    }
    // What happened, in each type's own words, and the verdict on the action where there is one.
    expect(mrkdwnTexts(posted[NC_EVENT_TYPES.indexOf('nc.reopened')] as SlackMessage)[0]).toMatch(/^The symptom came back after its corrective action: NC-2026-0001 is reopened \(1 time\)/);
    expect(fields(posted[NC_EVENT_TYPES.indexOf('nc.corrective-action')] as SlackMessage)[4]).toBe('*Last corrective action*\nweak, symptom-only: restarts or reboots ("restarted"); nothing removes the cause');
    expect(fields(posted[NC_EVENT_TYPES.indexOf('nc.verified-effective')] as SlackMessage)[4]).toMatch(/^\*Last corrective action\*\nstrong: /);
    expect(mrkdwnTexts(posted[NC_EVENT_TYPES.indexOf('nc.voided')] as SlackMessage)[0]).toMatch(/^alice declared NC-2026-0001 void \(test-data\): alerts from the staging restore drill/);
  });

  it('delivers alert text inert: no mention, link or control sequence, the header as written', async () => {
    const api = await slack();
    const hostile = { ...event('nc.opened'), nc: { ...event('nc.opened').nc, title: HOSTILE, asset: '<@U024BE7LH>', assets: [] } };
    await notifierFor(api).deliver(hostile);
    expect(api.problems).toEqual([]);
    const [message] = messages(api) as [SlackMessage];
    expect(header(message)).toBe(`Nonconformity opened: NC-2026-0001 ${HOSTILE}`);
    expect(message.text).toBe('Nonconformity opened: NC-2026-0001 &lt;!channel&gt; *bold* &lt;http://x|y&gt; &amp; @here');
    const texts = mrkdwnTexts(message);
    expect(texts.join('\n')).toContain('NC: NC-2026-0001 (open) &lt;!channel&gt; *bold* &lt;http://x|y&gt; &amp; @here');
    expect(fields(message)[2]).toBe('*Asset*\n&lt;@U024BE7LH&gt;');
    for (const text of texts) {
      // Slack's control characters: none raw, and & only as the start of the three entities.
      expect(text).not.toMatch(/[<>]/);
      expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    }
    // verbatim: plain @here and URLs stay text rather than becoming a mention or a link.
    const verbatim = message.blocks.flatMap((block) => (block.type === 'section' ? [block.text, ...(block.fields ?? [])] : [])).map((text) => text && 'verbatim' in text && text.verbatim);
    expect(verbatim.filter((flag) => flag !== undefined)).toEqual([true, true, true, true, true, true]);
  });

  it('uses the templates of its config, and leaves out the button without ui.baseUrl', async () => {
    const api = await slack();
    const notifier = notifierFor(api, { templates: { 'nc.reopened': { title: 'Backup fix did not hold: {{ nc.id }} on {{ nc.assets | join: ", " }}', text: '*{{ nc.id }}* reopened {{ nc.reopenCount }}×' } } }, null);
    await notifier.deliver(event('nc.reopened'));
    await notifier.deliver(event('nc.opened'));
    expect(api.problems).toEqual([]);
    const [reopened, opened] = messages(api) as [SlackMessage, SlackMessage];
    expect(header(reopened)).toBe('Backup fix did not hold: NC-2026-0001 on srv-db-01');
    // The template's own mrkdwn is kept; only the values it outputs are escaped.
    expect(mrkdwnTexts(reopened)[0]).toBe('*NC-2026-0001* reopened 1×');
    expect(header(opened)).toBe('Nonconformity opened: NC-2026-0001 nightly backup of srv-db-01 failed');
    expect(buttons(reopened)).toEqual([]);
    expect(reopened.blocks.map((block) => block.type)).toEqual(['header', 'section', 'section']);
  });

  it("keeps within Block Kit's limits: a long title, text and asset list are cut with …", async () => {
    const api = await slack();
    const long = 'backup failed on a volume whose name goes on & on '.repeat(100);
    const assets = Array.from({ length: 50 }, (_, index) => `srv-db-${String(index).padStart(2, '0')}.backup.internal.example.org`);
    const nc = { ...event('nc.opened').nc, title: long, reason: long, assets, assetCount: 212 };
    await notifierFor(api).deliver({ ...event('nc.opened'), nc });
    // The loopback Slack checked every limit; the cuts keep the escaping whole.
    expect(api.problems).toEqual([]);
    const [message] = messages(api) as [SlackMessage];
    expect(header(message)).toHaveLength(SLACK_LIMITS.headerText);
    expect(header(message).endsWith('…')).toBe(true);
    const [text] = mrkdwnTexts(message) as [string];
    expect(text).toHaveLength(SLACK_LIMITS.sectionText);
    expect(text).toMatch(/(&amp;|[^&;])…$/);
    expect(fields(message)[2]).toMatch(/^\*Assets\*\nsrv-db-00\.backup\.internal\.example\.org, srv-db-01/);
    expect(fields(message)[2]).toContain('srv-db-49.backup.internal.example.org (of 212)');
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
  ])('takes %i %s as a refusal not worth retrying, with what Slack said and without the webhook path', async (status, name) => {
    const api = await slack();
    api.queue(`POST ${TEAM}/${TOKEN}`, error(status, name));
    const thrown = await refusal(notifierFor(api).deliver(event('nc.opened')));
    expect(thrown).toMatchObject({ retryable: false, retryAfterMs: null });
    expect(thrown.message).toBe(`secops: POST ${api.url}/… answered ${status}: ${name}`);
    expect(thrown.message).not.toContain(TOKEN);
    expect(api.problems).toEqual([]);
  });

  it('retries 500 rollup_error and a 429, which waits for its Retry-After', async () => {
    const api = await slack();
    api.queue(`POST ${TEAM}/${TOKEN}`, error(500, 'rollup_error'), slackSays(429, '', { 'retry-after': '30' }));
    const notifier = notifierFor(api);
    expect(await refusal(notifier.deliver(event('nc.opened')))).toMatchObject({ retryable: true, retryAfterMs: null, message: `secops: POST ${api.url}/… answered 500: rollup_error` });
    expect(await refusal(notifier.deliver(event('nc.opened')))).toMatchObject({ retryable: true, retryAfterMs: 30_000, message: `secops: POST ${api.url}/… answered 429 (retry after 30s)` });
    await notifier.deliver(event('nc.opened'));
    expect(api.requests).toHaveLength(3);
    expect(api.problems).toEqual([]);
  });

  it('refuses a config without a usable webhook URL, naming the field and not echoing it', () => {
    const parse = (url: unknown) => slackNotifier.schema.safeParse({ name: 'secops', type: 'slack', url });
    expect(parse('https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX').success).toBe(true);
    for (const url of ['', 'hooks.slack.com/services/T0/B0/secret-token', 'ftp://hooks.slack.com/services/T0/B0/secret-token']) {
      const result = parse(url);
      expect(result.success).toBe(false);
      const issues = result.error?.issues ?? [];
      expect(issues.map((issue) => issue.path.join('.'))).toEqual(['url']);
      expect(JSON.stringify(issues)).not.toContain('secret-token');
    }
    expect(parse(undefined).success).toBe(false);
    // A Slack app's webhook takes no username, icon or channel: the config has no place for them.
    expect(slackNotifier.schema.safeParse({ name: 'secops', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x', username: 'recurd' }).success).toBe(false);
  });
});

describe('slack notifier in a daemon', () => {
  const redis = privateRedis();
  let prefix: string;
  const daemons: Daemon[] = [];
  const apis: VendorApi[] = [];

  async function start(notifiers: Array<Record<string, unknown>>, controlOfAv?: string): Promise<Daemon> {
    const config = testConfig(redis.url, prefix, {
      policy: { window: '3650d', maxLateness: '3650d' },
      ui: { baseUrl: 'https://recurd.example.org' },
      notifiers: notifiers.map((notifier) => ({ type: 'slack', backoff: '100ms', ...notifier })) as ConfigInput['notifiers'],
    });
    const generic = config.connectors.find((connector) => connector.name === 'generic');
    if (generic?.type === 'webhook' && controlOfAv !== undefined) generic.control = controlOfAv;
    const daemon = await runDaemon(config);
    daemons.push(daemon);
    return daemon;
  }

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
    await Promise.all(apis.splice(0).map((api) => api.close()));
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });

  it('sends backup NCs to one channel and malware NCs (A.8.7) to another, as their match filters say', async () => {
    prefix = testPrefix();
    const api = await startSlack(['backup', 'malware']);
    apis.push(api);
    const daemon = await start(
      [
        { name: 'backup-team', url: `${api.url}${TEAM}/backup`, events: ['nc.opened'], match: { family: ['backup'] } },
        { name: 'malware-team', url: `${api.url}${TEAM}/malware`, events: ['nc.opened'], match: { control: ['A.8.7'] } },
      ],
      'A.8.7',
    );
    const backupNc = await raiseBackupNc(daemon);
    const malwareNc = await raiseMalwareNc(daemon);
    expect(malwareNc).not.toBe(backupNc);
    await eventually(async () => ((await deliveries(daemon, 'backup-team', 'delivered')) === 1 && (await deliveries(daemon, 'malware-team', 'delivered')) === 1 ? true : undefined), 15_000, 'one delivery each');
    expect(api.problems).toEqual([]);
    const to = (token: string): string[] => api.to(`POST ${TEAM}/${token}`).map((request) => header(slackMessage.parse(request.json)));
    expect(to('backup')).toEqual([expect.stringMatching(new RegExp(`^Nonconformity opened: ${backupNc} `)) as unknown]);
    expect(to('malware')).toEqual([`Nonconformity opened: ${malwareNc} eicar-test-signature`]);
    const [backupMessage] = api.to(`POST ${TEAM}/backup`).map((request) => slackMessage.parse(request.json)) as [SlackMessage];
    expect(fields(backupMessage)[1]).toBe('*Control*\nA.8.13 Information backup');
    const [malwareMessage] = api.to(`POST ${TEAM}/malware`).map((request) => slackMessage.parse(request.json)) as [SlackMessage];
    expect(fields(malwareMessage)[1]).toBe('*Control*\nA.8.7 Protection against malware');
    expect(buttons(backupMessage)[0]?.url).toBe(`https://recurd.example.org/ui/nc/${backupNc}`);
  });

  it('gives up at once on 403 and 404, retries a 500, and waits out a 429 for its Retry-After', async () => {
    prefix = testPrefix();
    const names = ['prohibited', 'gone', 'flaky', 'throttled'];
    const api = await startSlack(names);
    apis.push(api);
    api.queue(`POST ${TEAM}/prohibited`, error(403, 'action_prohibited'));
    api.queue(`POST ${TEAM}/gone`, error(404, 'channel_not_found'));
    api.queue(`POST ${TEAM}/flaky`, error(500, 'rollup_error'));
    api.queue(`POST ${TEAM}/throttled`, slackSays(429, '', { 'retry-after': '1' }));
    const daemon = await start(names.map((name) => ({ name, url: `${api.url}${TEAM}/${name}`, events: ['nc.opened'], attempts: 5 })));
    const ncId = await raiseBackupNc(daemon);

    await eventually(async () => ((await deliveries(daemon, 'flaky', 'delivered')) === 1 && (await deliveries(daemon, 'throttled', 'delivered')) === 1 ? true : undefined), 15_000, 'the retried deliveries');
    await eventually(async () => ((await deliveries(daemon, 'prohibited', 'failed')) === 1 && (await deliveries(daemon, 'gone', 'failed')) === 1 ? true : undefined), 15_000, 'the refusals');
    expect(api.problems).toEqual([]);
    for (const name of names) expect(api.to(`POST ${TEAM}/${name}`).map((request) => header(slackMessage.parse(request.json)))[0]).toMatch(new RegExp(`^Nonconformity opened: ${ncId} `));

    // Refused: one attempt, and the job stays failed (no retry is scheduled) for `recurd outbox list`.
    for (const name of ['prohibited', 'gone']) {
      expect(api.to(`POST ${TEAM}/${name}`)).toHaveLength(1);
      expect(await outboxJobs(redis.port, prefix, name)).toEqual([{ type: 'nc.opened', state: 'failed', attemptsMade: 1 }]);
      expect(await deliveries(daemon, name, 'retrying')).toBe(0);
    }
    expect(api.to(`POST ${TEAM}/flaky`)).toHaveLength(2);
    expect(await deliveries(daemon, 'flaky', 'retrying')).toBe(1);
    // The outbox's own backoff is 100 ms: a second attempt a second later is the Retry-After's.
    const [first, second] = api.times.get('throttled') as [number, number];
    expect(api.times.get('throttled')).toHaveLength(2);
    expect(second - first).toBeGreaterThanOrEqual(1000);
    expect(await deliveries(daemon, 'throttled', 'retrying')).toBe(1);
  });
});
