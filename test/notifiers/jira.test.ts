/**
 * The jira notifier against a loopback Jira (Cloud and Data Center) that checks each request
 * against Atlassian's documented request bodies and answers with documented or captured bodies:
 * the issue an NC opens, comments, reopening or following a done issue, the done transition, the
 * crash between creating an issue and keeping its key, and Jira's refusals.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { NcEvent, NcEventType, Nonconformity } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';
import { createNotifier, notifierConfigSchema } from '../../src/notifiers/registry.js';
import { adf, creationLabel, wiki, wikiEscape } from '../../src/notifiers/jira.js';
import type { Notifier } from '../../src/notifiers/types.js';
import type { TicketLink, TicketLinks } from '../../src/ticket-links.js';
import { adfText, startJira, type FakeJira } from '../helpers/jira.js';
import { openNc, refusal } from '../helpers/nc.js';
import { MemoryTicketLinks } from '../helpers/ticket-links.js';

const CLOUD_AUTH = { email: 'recurd@example.org', apiToken: 'jira-api-token' };
const DC_TOKEN = 'jira-personal-access-token';

function nc(overrides: Partial<Nonconformity> = {}): Nonconformity {
  return openNc({
    fingerprint: 'f'.repeat(16),
    title: 'nightly backup of db-1 failed',
    reason: 'the backup failed again 3 days after it was fixed',
    openedAt: Date.parse('2026-03-01T02:00:00Z'),
    updatedAt: Date.parse('2026-03-01T02:00:00Z'),
    lastOccurrenceAt: Date.parse('2026-03-01T02:00:00Z'),
    ...overrides,
  });
}

let sequence = 0;
function event(type: NcEventType, overrides: Partial<Nonconformity> = {}): NcEvent {
  sequence += 1;
  const subject = nc(overrides);
  return { id: `${subject.id}.17950000000${sequence}-0`, type, at: Date.parse('2026-03-02T00:00:00Z'), nc: subject };
}

describe('jira notifier', () => {
  const sites: FakeJira[] = [];
  afterEach(async () => {
    await Promise.all(sites.splice(0).map((site) => site.close()));
  });

  function build(jira: FakeJira, links: TicketLinks, config: Record<string, unknown> = {}): Notifier {
    const parsed = notifierConfigSchema.parse({
      name: 'jira',
      type: 'jira',
      url: jira.url,
      deployment: jira.deployment,
      auth: jira.deployment === 'cloud' ? { type: 'basic', ...CLOUD_AUTH } : { type: 'bearer', token: DC_TOKEN },
      project: 'SEC',
      transitions: { reopen: 'To Do', done: 'Done' },
      labels: ['iso27001'],
      ...config,
    });
    return createNotifier(parsed, { links, clock: systemClock, logger: createLogger('warn'), annexA: null, baseUrl: 'https://recurd.example.org' });
  }

  async function setUp(deployment: 'cloud' | 'datacenter', config: Record<string, unknown> = {}) {
    const jira = await startJira(deployment, deployment === 'cloud' ? CLOUD_AUTH : { token: DC_TOKEN });
    sites.push(jira);
    const links = new MemoryTicketLinks();
    return { jira, links, notifier: build(jira, links, config) };
  }

  async function opened(notifier: Notifier, links: TicketLinks, overrides: Partial<Nonconformity> = {}): Promise<string> {
    await notifier.deliver(event('nc.opened', overrides));
    const link = await links.get(overrides.id ?? 'NC-2026-0042', 'jira');
    expect(link).not.toBeNull();
    return (link as TicketLink).key;
  }

  it('creates one Cloud issue per NC with the mapped fields, keeps its key, and makes no second one on redelivery', async () => {
    const { jira, links, notifier } = await setUp('cloud', { fields: { components: [{ name: 'Backup' }] } });
    const first = event('nc.opened');
    await notifier.deliver(first);

    const [create] = jira.to(jira.route('POST', '/issue'));
    const fields = (create?.json as { fields: Record<string, unknown> }).fields;
    expect(fields).toMatchObject({
      project: { key: 'SEC' },
      summary: 'Nonconformity opened: NC-2026-0042 nightly backup of db-1 failed',
      issuetype: { name: 'Task' },
      priority: { name: 'High' },
      components: [{ name: 'Backup' }],
    });
    expect(fields.labels).toEqual(['recurd', 'A.8.13', 'backup', 'iso27001', creationLabel(first)]);
    const description = adfText(fields.description);
    expect(description).toContain('A symptom that was fixed came back inside its effectiveness window: the backup failed again 3 days after it was fixed');
    expect(description).toContain('Control: A.8.13 · family backup · severity high');
    expect(description).toContain('https://recurd.example.org/ui/nc/NC-2026-0042');
    // The console link is a link in the document, not only text.
    expect(JSON.stringify(fields.description)).toContain('"href":"https://recurd.example.org/ui/nc/NC-2026-0042"');

    const link = await links.get('NC-2026-0042', 'jira');
    expect(link).toMatchObject({ notifier: 'jira', system: 'jira', key: 'SEC-1', url: `${jira.url}/browse/SEC-1` });

    // The same event again (the outbox redelivers after a lost acknowledgement): no second issue.
    await notifier.deliver(first);
    expect(jira.to(jira.route('POST', '/issue'))).toHaveLength(1);
    expect(jira.problems).toEqual([]);
  });

  it('finds the issue an attempt created before it crashed, by the label of the event, instead of creating another', async () => {
    const { jira, notifier } = await setUp('cloud');
    const first = event('nc.opened');
    await notifier.deliver(first);
    // A daemon that died after Jira's answer and before keeping the key: the links are empty.
    const links = new MemoryTicketLinks();
    await build(jira, links).deliver(first);
    expect(jira.to(jira.route('POST', '/issue'))).toHaveLength(1);
    expect((await links.get('NC-2026-0042', 'jira'))?.key).toBe('SEC-1');
    const [search] = jira.to(jira.route('GET', '/search/jql'));
    expect(search?.query.get('jql')).toBe(`project = "SEC" AND labels = "${creationLabel(first)}"`);
    expect(jira.problems).toEqual([]);
  });

  it('comments each occurrence on the issue, and lets an event that comes before the issue wait', async () => {
    const { jira, links, notifier } = await setUp('cloud');
    const early = await refusal(notifier.deliver(event('nc.occurrence', { occurrences: 3 })));
    expect(early.retryable).toBe(true);
    expect(early.message).toContain('NC-2026-0042 has no Jira issue yet');
    expect(jira.requests).toHaveLength(0);

    const key = await opened(notifier, links);
    await notifier.deliver(event('nc.occurrence', { occurrences: 3 }));
    const [comment] = jira.commentTexts(key);
    expect(comment).toContain('Symptom occurred again: NC-2026-0042 nightly backup of db-1 failed');
    expect(comment).toContain('The symptom of NC-2026-0042 occurred again (3 occurrences).');
    // The title is the comment's first paragraph, in bold.
    expect(JSON.stringify(jira.issues.get(key)?.comments[0])).toMatch(/^\{"type":"doc","version":1,"content":\[\{"type":"paragraph","content":\[\{"type":"text","text":"Symptom occurred again[^"]*","marks":\[\{"type":"strong"\}\]/);
    expect(jira.problems).toEqual([]);
  });

  it('reopens a done issue when its NC is reopened (onReopen: reopen), and only comments on one still open', async () => {
    const { jira, links, notifier } = await setUp('cloud');
    const key = await opened(notifier, links);
    jira.setStatus(key, 'Done');

    await notifier.deliver(event('nc.reopened', { state: 'reopened', reopenCount: 1 }));
    const [transition] = jira.to(jira.route('POST', '/issue/:key/transitions'));
    // "To Do" is transition 11 in the site's workflow: the name is resolved to its id.
    expect(transition?.json).toEqual({ transition: { id: '11' } });
    expect(jira.issues.get(key)?.status).toBe('To Do');
    expect(jira.commentTexts(key).at(-1)).toContain('NC-2026-0042 is reopened (1 time) and needs a root-cause analysis.');

    await notifier.deliver(event('nc.reopened', { state: 'reopened', reopenCount: 2 }));
    expect(jira.to(jira.route('POST', '/issue/:key/transitions'))).toHaveLength(1);
    expect(jira.commentTexts(key)).toHaveLength(2);
    expect(jira.issues.size).toBe(1);
    expect(jira.problems).toEqual([]);
  });

  it('creates a new issue linked to the done one when its NC is reopened (onReopen: new), and follows it from then on', async () => {
    const { jira, links, notifier } = await setUp('cloud', { onReopen: 'new', linkType: 'Relates', transitions: {} });
    const old = await opened(notifier, links);
    jira.setStatus(old, 'Done');

    await notifier.deliver(event('nc.reopened', { state: 'reopened', reopenCount: 1, severity: 'critical' }));
    expect(jira.issues.size).toBe(2);
    const link = await links.get('NC-2026-0042', 'jira');
    expect(link?.key).toBe('SEC-2');
    expect(jira.links).toEqual([{ type: 'Relates', inward: 'SEC-2', outward: old }]);
    const created = jira.issues.get('SEC-2');
    expect(created?.fields).toMatchObject({ summary: 'Nonconformity reopened: NC-2026-0042 nightly backup of db-1 failed', priority: { name: 'Highest' } });
    expect(adfText(created?.fields.description)).toContain(`Follows ${old}, which was done before the NC was reopened.`);
    expect(jira.to(jira.route('POST', '/issue/:key/transitions'))).toHaveLength(0);

    // The next event goes to the new issue.
    await notifier.deliver(event('nc.corrective-action', { state: 'verifying' }));
    expect(jira.commentTexts('SEC-2')).toHaveLength(1);
    expect(jira.commentTexts(old)).toHaveLength(0);
    expect(jira.problems).toEqual([]);
  });

  it('moves the issue to done when the corrective action is verified effective, unless it is done already', async () => {
    const { jira, links, notifier } = await setUp('cloud');
    const key = await opened(notifier, links);
    await notifier.deliver(event('nc.verified-effective', { state: 'closed' }));
    expect(jira.to(jira.route('POST', '/issue/:key/transitions')).map((request) => request.json)).toEqual([{ transition: { id: '31' } }]);
    expect(jira.issues.get(key)?.status).toBe('Done');
    expect(jira.commentTexts(key).at(-1)).toContain('the corrective action of NC-2026-0042 is verified effective and the NC is closed.');

    await notifier.deliver(event('nc.verified-effective', { state: 'closed' }));
    expect(jira.to(jira.route('POST', '/issue/:key/transitions'))).toHaveLength(1);
    expect(jira.commentTexts(key)).toHaveLength(2);
    expect(jira.problems).toEqual([]);
  });

  it('only comments a reopen told after a newer event of its NC: the done issue stays done', async () => {
    const { jira, links, notifier } = await setUp('cloud', { onReopen: 'new' });
    const key = await opened(notifier, links);
    jira.setStatus(key, 'Done');
    await notifier.deliver(event('nc.reopened', { state: 'reopened', reopenCount: 1 }), { superseded: true });
    expect(jira.issues.get(key)?.status).toBe('Done');
    expect(jira.issues.size).toBe(1);
    expect(jira.to(jira.route('POST', '/issue/:key/transitions'))).toHaveLength(0);
    expect(jira.commentTexts(key).at(-1)).toContain('NC-2026-0042 is reopened (1 time)');
    expect(jira.problems).toEqual([]);
  });

  it('names the transitions the issue offers when the configured one is not among them, and does not retry', async () => {
    const { jira, links, notifier } = await setUp('cloud', { transitions: { reopen: 'Reopen issue', done: 'Done' } });
    const key = await opened(notifier, links);
    jira.setStatus(key, 'Done');
    const error = await refusal(notifier.deliver(event('nc.reopened', { state: 'reopened', reopenCount: 1 })));
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('jira: SEC-1 has no transition "Reopen issue" from its current status; it offers "To Do", "In Progress", "Done", "Kicked"');
  });

  it('writes Data Center issues and comments in wiki markup over REST v2, with a personal access token', async () => {
    const { jira, links, notifier } = await setUp('datacenter');
    const key = await opened(notifier, links, { title: 'backup *failed* on [db-1|https://evil.example] {code}' });
    const [create] = jira.to(jira.route('POST', '/issue'));
    const fields = (create?.json as { fields: Record<string, unknown> }).fields;
    expect(create?.headers.authorization).toBe(`Bearer ${DC_TOKEN}`);
    expect(fields.summary).toBe('Nonconformity opened: NC-2026-0042 backup *failed* on [db-1|https://evil.example] {code}');
    expect(typeof fields.description).toBe('string');
    expect(fields.description).toContain('NC: NC\\-2026\\-0042 \\(open\\) backup \\*failed\\* on \\[db\\-1\\|https://evil.example\\] \\{code\\}');
    // The created issue's key comes from Data Center's documented answer shape.
    expect((await links.get('NC-2026-0042', 'jira'))?.url).toBe(`${jira.url}/browse/${key}`);

    await notifier.deliver(event('nc.occurrence', { occurrences: 3 }));
    const [comment] = jira.commentTexts(key);
    expect(comment?.split('\n')[0]).toBe('*Symptom occurred again: NC\\-2026\\-0042 nightly backup of db\\-1 failed*');
    expect(jira.to(jira.route('GET', '/search'))).toHaveLength(1);
    expect(jira.problems).toEqual([]);
  });

  it('sorts Jira refusals: 401 and 404 are final, 429 waits as long as Retry-After asks, 500 is retried', async () => {
    const { jira, links, notifier } = await setUp('cloud');
    jira.queue(jira.route('POST', '/issue'), { status: 401 });
    const unauthorised = await refusal(notifier.deliver(event('nc.opened')));
    expect(unauthorised.retryable).toBe(false);
    expect(unauthorised.message).toContain('answered 401');

    jira.queue(jira.route('POST', '/issue'), { status: 400, body: JSON.parse(readFileSync(new URL('../fixtures/jira/cloud-v3-create-issue-400.json', import.meta.url), 'utf8')) as unknown });
    const invalid = await refusal(notifier.deliver(event('nc.opened')));
    expect(invalid.retryable).toBe(false);
    expect(invalid.message).toContain("Field 'priority' is required");

    jira.queue(jira.route('GET', '/search/jql'), { status: 429, headers: { 'retry-after': '30' } });
    const limited = await refusal(notifier.deliver(event('nc.opened')));
    expect(limited.retryable).toBe(true);
    expect(limited.retryAfterMs).toBe(30_000);

    jira.queue(jira.route('POST', '/issue'), { status: 500 });
    const failed = await refusal(notifier.deliver(event('nc.opened')));
    expect(failed.retryable).toBe(true);
    expect(await links.get('NC-2026-0042', 'jira')).toBeNull();

    const key = await opened(notifier, links);
    jira.issues.delete(key);
    const gone = await refusal(notifier.deliver(event('nc.occurrence')));
    expect(gone.retryable).toBe(false);
    expect(gone.message).toContain(`POST ${jira.url}/rest/api/3/issue/${key}/comment answered 404`);
    expect(jira.problems).toEqual([]);
  });

  it('keeps alert text from becoming markup: ADF text nodes and escaped wiki markup', () => {
    const hostile = 'h1. *bold* _it_ [x|http://evil.example] {noformat} !img.png! |a|b| -strike- (x) \\\\ #1';
    expect(wikiEscape(hostile)).toBe(
      'h1\\. \\*bold\\* \\_it\\_ \\[x\\|http://evil.example\\] \\{noformat\\} \\!img.png\\! \\|a\\|b\\| \\-strike\\- \\(x\\) \\\\\\\\ \\#1',
    );
    // Every special character is preceded by a backslash that is not itself escaped.
    expect(wikiEscape(hostile).replace(/\\./g, '')).not.toMatch(/[*_[\]{}!|\-()#\\]/);
    expect(wiki({ title: 'A *title*', lines: ['', 'one', 'https://recurd.example.org/ui/nc/NC-1', 'https://x.example/[a|b]'] })).toBe(
      '*A \\*title\\**\none\n[https://recurd.example.org/ui/nc/NC-1]\nhttps://x.example/\\[a\\|b\\]',
    );
    expect(adf({ title: null, lines: ['*not bold*', 'https://recurd.example.org/ui/nc/NC-1'] })).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: '*not bold*' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'https://recurd.example.org/ui/nc/NC-1', marks: [{ type: 'link', attrs: { href: 'https://recurd.example.org/ui/nc/NC-1' } }] }] },
      ],
    });
  });

  it('refuses a config that cannot work, naming the field', () => {
    const base = { name: 'jira', type: 'jira', url: 'https://example.atlassian.net', auth: { type: 'basic', email: 'a@example.org', apiToken: 't' }, project: 'SEC', onReopen: 'new' };
    const problems = (config: Record<string, unknown>) => {
      const result = notifierConfigSchema.safeParse({ ...base, ...config });
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(problems({})).toEqual([]);
    expect(problems({ auth: { type: 'bearer', token: 't' } })).toEqual(['auth: Jira Cloud signs in with { type: basic, email, apiToken }']);
    expect(problems({ deployment: 'datacenter' })).toEqual(['auth: Jira Data Center signs in with a personal access token: { type: bearer, token }']);
    expect(problems({ onReopen: 'reopen' })).toEqual(['transitions.reopen: name the transition that reopens a done issue (onReopen is reopen), or set onReopen: new']);
    expect(problems({ fields: { summary: 'x', components: [] } })).toEqual(['fields.summary: is set by recurd itself (project, summary, issuetype, description, priority, labels)']);
    expect(problems({ events: ['nc.reopened'] })).toEqual(['events: must include nc.opened: it creates the issue every later event is written to']);
    expect(problems({ labels: ['two words'] })).toEqual(['labels.0: a Jira label cannot contain spaces']);
  });
});
