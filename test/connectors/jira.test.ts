/**
 * The Jira intake, the way back: a real `jira:issue_updated` webhook (Zulip's captured fixture,
 * its issue key, status change and fields set per test) read by the connector against a port
 * that records what it was asked; then the whole loop through a real daemon and a loopback Jira:
 * an NC opens an issue, the issue moved to Done records the corrective action, the NC's return
 * reopens the issue, and the next Done without a root-cause analysis is refused in a comment.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { jiraConnector } from '../../connectors/jira.js';
import { MemoryConnectorState, type Connector, type NcPort } from '../../connectors/types.js';
import { configSchema } from '../../src/config/schema.js';
import type { CorrectiveActionInput } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { RecurdError } from '../../src/errors.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';
import { testServices } from '../helpers/connectors.js';
import { WEBHOOK_TOKEN, api, eventually, metricsOf, runDaemon, testConfig, ingestSettled } from '../helpers/daemon.js';
import { startJira, type FakeJira } from '../helpers/jira.js';

const WEBHOOK = readFileSync(new URL('../fixtures/jira/zulip-webhook-issue-updated-status.json', import.meta.url), 'utf8');
const JIRA_SECRET = 'jira-webhook-secret-for-tests';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const CLOUD_AUTH = { email: 'recurd@example.org', apiToken: 'jira-api-token' };
const FIELDS = { action: 'customfield_10049', owner: 'assignee', rootCause: 'customfield_10050', dueDate: 'duedate', fiveWhys: 'customfield_10051', causeCategory: 'customfield_10052' };

let changes = 10000;

/** Zulip's captured webhook, about `key`, moved from `from` to `to`, with these fields set: a change of its own, as Jira numbers them. */
function webhook(key: string, from: string, to: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const body = JSON.parse(WEBHOOK) as { issue: { key: string; fields: Record<string, unknown> }; changelog: { id: string; items: Array<Record<string, unknown>> } };
  body.issue.key = key;
  Object.assign(body.issue.fields, fields);
  Object.assign(body.changelog.items[0] ?? {}, { fromString: from, toString: to });
  body.changelog.id = String(++changes);
  return body;
}

/** What the intake answers for a change it acted on: nothing queued, the change remembered. */
const taken = { alerts: [], errors: [], stateChanges: { 'changelogs-taken': expect.any(String) as unknown } };

const WHYS = 'Why did the backup fail?\n1. the volume was full\n2. old snapshots were never pruned\n3. pruning was a manual step\n4. nobody owned it\n5. the runbook predates the new volume';
const ANALYSED = { customfield_10051: WHYS, customfield_10052: { self: 'https://zulipp.atlassian.net/rest/api/2/customFieldOption/10100', value: 'process-gap', id: '10100' } };

interface Asked {
  actions: Array<{ nc: string; action: CorrectiveActionInput & { actor: string } }>;
  comments: Array<{ nc: string; text: string; actor: string }>;
  written: Array<{ notifier: string; key: string; text: string }>;
}

function port(tickets: Record<string, string>, refuse?: () => Error): NcPort & Asked {
  const asked: Asked = { actions: [], comments: [], written: [] };
  return {
    ...asked,
    ncOf: (notifier, key) => Promise.resolve(notifier === 'tickets' ? (tickets[key] ?? null) : null),
    recordCorrectiveAction: (nc, action) => {
      const error = refuse?.();
      if (error !== undefined) return Promise.reject(error);
      asked.actions.push({ nc, action });
      return Promise.resolve();
    },
    comment: (nc, text, actor) => {
      asked.comments.push({ nc, text, actor });
      return Promise.resolve();
    },
    commentOnTicket: (notifier, key, text) => {
      asked.written.push({ notifier, key, text });
      return Promise.resolve();
    },
  };
}

function intake(ncs: NcPort | undefined, config: Record<string, unknown> = {}) {
  const parsed = jiraConnector.schema.parse({ type: 'jira', name: 'jira-back', notifier: 'tickets', auth: { type: 'hmac', secret: JIRA_SECRET }, fields: FIELDS, ...config });
  const connector = jiraConnector.create(parsed, { ...testServices(), ncs });
  return { intake: connector.intake as NonNullable<typeof connector.intake>, config: parsed };
}

describe('jira intake: reading the webhook', () => {
  const receivedAt = Date.parse('2026-03-02T10:00:00Z');

  it("records the corrective action from the ticket's fields when it moves to Done, as the person who moved it", async () => {
    const ncs = port({ 'SEC-7': 'NC-2026-0042' });
    const { intake: jira } = intake(ncs);
    const body = webhook('SEC-7', 'In Progress', 'Done', {
      customfield_10049: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Automated snapshot pruning ' }, { type: 'text', text: 'in the backup job' }] }] },
      assignee: { displayName: 'Dana Ops', accountId: '5b10a2844c20165700ede21g' },
      customfield_10050: 'snapshots filled the volume',
      duedate: '2099-01-31',
      ...ANALYSED,
    });
    expect(await jira.normalise(body, receivedAt, '')).toEqual(taken);
    expect(ncs.actions).toEqual([
      {
        nc: 'NC-2026-0042',
        action: {
          action: 'Automated snapshot pruning in the backup job',
          owner: 'Dana Ops',
          rootCause: 'snapshots filled the volume',
          dueDate: '2099-01-31',
          rootCauseAnalysis: {
            whys: ['Why did the backup fail?', 'the volume was full', 'old snapshots were never pruned', 'pruning was a manual step', 'nobody owned it', 'the runbook predates the new volume'],
            category: 'process-gap',
          },
          actor: 'jira:James Williams',
        },
      },
    ]);
    expect(ncs.written).toEqual([]);
  });

  it('takes the person who moved an unassigned ticket as the owner, and the status names in any case', async () => {
    const ncs = port({ 'SEC-7': 'NC-2026-0042' });
    const { intake: jira } = intake(ncs, { fields: { action: 'customfield_10049' } });
    await jira.normalise(webhook('SEC-7', 'In Progress', 'DONE', { customfield_10049: 'replaced the disk' }), receivedAt, '');
    expect(ncs.actions.map(({ action }) => [action.action, action.owner, action.rootCause, action.dueDate, action.rootCauseAnalysis])).toEqual([['replaced the disk', 'James Williams', null, null, undefined]]);
  });

  it("writes back to the ticket why the register refused the action, and answers Jira as taken", async () => {
    const refusal = new RecurdError('ROOT_CAUSE_ANALYSIS_REQUIRED', 'NC-2026-0042 cannot take this corrective action: rootCauseAnalysis.whys is missing');
    const ncs = port({ 'SEC-7': 'NC-2026-0042' }, () => refusal);
    const { intake: jira } = intake(ncs);
    expect(await jira.normalise(webhook('SEC-7', 'In Progress', 'Done', { customfield_10049: 'pruned by hand' }), receivedAt, '')).toEqual(taken);
    expect(ncs.written).toEqual([
      { notifier: 'tickets', key: 'SEC-7', text: 'recurd did not record the corrective action on NC-2026-0042: NC-2026-0042 cannot take this corrective action: rootCauseAnalysis.whys is missing' },
    ]);

    // An empty action field is refused the same way, naming the field.
    const empty = port({ 'SEC-7': 'NC-2026-0042' });
    await intake(empty).intake.normalise(webhook('SEC-7', 'In Progress', 'Done'), receivedAt, '');
    expect(empty.actions).toEqual([]);
    expect(empty.written.map((entry) => entry.text)).toEqual(['recurd did not record a corrective action on NC-2026-0042: the field customfield_10049 of SEC-7 is empty, and it says what was done.']);
  });

  it('acts once on a change that Jira sends again, and remembers the latest 500 changes', async () => {
    const ncs = port({ 'SEC-7': 'NC-2026-0042' });
    const state = new MemoryConnectorState();
    const services = { ...testServices(), state, ncs };
    const parsed = jiraConnector.schema.parse({ type: 'jira', name: 'jira-back', notifier: 'tickets', auth: { type: 'hmac', secret: JIRA_SECRET }, fields: FIELDS });
    const jira = jiraConnector.create(parsed, services).intake as NonNullable<Connector['intake']>;
    // As the pipeline does: an accepted result's state changes are stored before the next request.
    const deliver = async (body: unknown) => {
      const result = await jira.normalise(body, receivedAt, '');
      if (result.stateChanges !== undefined) state.apply(result.stateChanges);
      return result;
    };
    const done = webhook('SEC-7', 'In Progress', 'Done', { customfield_10049: 'pruning automated' });
    expect(await deliver(done)).toEqual(taken);
    expect(await deliver(done)).toEqual({ alerts: [], errors: [] });
    const reopened = webhook('SEC-7', 'Done', 'In Progress');
    await deliver(reopened);
    await deliver(reopened);
    expect(ncs.actions).toHaveLength(1);
    expect(ncs.comments).toHaveLength(1);
    expect(ncs.written).toEqual([]);

    for (let n = 0; n < 500; n += 1) await deliver(webhook('SEC-7', 'Done', 'In Progress'));
    const kept = JSON.parse((await state.get('changelogs-taken')) ?? '[]') as string[];
    expect(kept).toHaveLength(500);
    expect(kept).not.toContain((done.changelog as { id: string }).id);
  });

  it('lets a failure of recurd itself through, so that Jira sends the webhook again', async () => {
    const ncs = port({ 'SEC-7': 'NC-2026-0042' }, () => new RecurdError('REDIS_UNREACHABLE', 'Redis cannot be reached'));
    await expect(intake(ncs).intake.normalise(webhook('SEC-7', 'In Progress', 'Done', { customfield_10049: 'x' }), receivedAt, '')).rejects.toThrow('Redis cannot be reached');
    expect(ncs.written).toEqual([]);
  });

  it('notes a ticket moved from Done back to an open status on the NC, and nothing else', async () => {
    const ncs = port({ 'SEC-7': 'NC-2026-0042' });
    const { intake: jira } = intake(ncs);
    await jira.normalise(webhook('SEC-7', 'Done', 'In Progress'), receivedAt, '');
    expect(ncs.comments).toEqual([{ nc: 'NC-2026-0042', text: 'SEC-7 was moved from Done back to In Progress in Jira by James Williams.', actor: 'jira:James Williams' }]);

    // The fixture as captured (To Do to In Progress), another event type, another notifier's ticket: nothing.
    await jira.normalise(JSON.parse(WEBHOOK), receivedAt, '');
    await jira.normalise({ ...webhook('SEC-7', 'In Progress', 'Done'), webhookEvent: 'comment_created' }, receivedAt, '');
    await jira.normalise(webhook('OPS-1', 'In Progress', 'Done', { customfield_10049: 'x' }), receivedAt, '');
    expect(ncs.comments).toHaveLength(1);
    expect(ncs.actions).toEqual([]);
  });

  it('names what does not fit, and refuses to act where no daemon is behind it (replay)', async () => {
    const { intake: jira } = intake(port({}));
    const body = webhook('SEC-7', 'In Progress', 'Done') as { issue: Record<string, unknown> };
    delete body.issue.key;
    expect(await jira.normalise(body, receivedAt, '')).toEqual({ alerts: [], errors: [{ path: 'issue.key', message: 'Invalid input: expected string, received undefined' }] });
    expect((await intake(undefined).intake.normalise(webhook('SEC-7', 'In Progress', 'Done'), receivedAt, '')).errors).toEqual([
      { path: '(body)', message: 'the jira intake records on NCs: only a running daemon can take it' },
    ]);
  });

  it("checks Jira's X-Hub-Signature by default, and only follows a jira notifier", () => {
    expect(intake(port({})).config.auth).toEqual({ type: 'hmac', secret: JIRA_SECRET, header: 'x-hub-signature', prefix: 'sha256=', encoding: 'hex' });
    const config = (notifiers: unknown[]) =>
      configSchema.safeParse({
        redis: { url: 'redis://127.0.0.1:6379' },
        api: { token: 't' },
        connectors: [{ type: 'jira', name: 'jira-back', notifier: 'tickets', auth: { type: 'hmac', secret: 's' } }],
        notifiers,
      });
    const problems = (notifiers: unknown[]) => {
      const result = config(notifiers);
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    const jira = { name: 'tickets', type: 'jira', url: 'https://example.atlassian.net', auth: { type: 'basic', email: 'a@example.org', apiToken: 't' }, project: 'SEC', onReopen: 'new' };
    expect(problems([jira])).toEqual([]);
    expect(problems([{ ...jira, name: 'other' }])).toEqual(['connectors.0.notifier: must name a jira notifier: no notifier is named "tickets"; the jira notifiers are other']);
    expect(problems([{ name: 'tickets', type: 'webhook', url: 'https://example.org/hook', secret: 's' }])).toEqual([
      'connectors.0.notifier: must name a jira notifier: "tickets" is a webhook notifier; the config has no jira notifier',
    ]);
  });
});

describe('jira notifier and intake through a daemon', () => {
  const redis = privateRedis();
  let prefix: string;
  let daemon: Daemon | null = null;
  let jira: FakeJira | null = null;

  afterEach(async () => {
    await daemon?.stop();
    await jira?.close();
    daemon = null;
    jira = null;
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });

  /** One backup check on db-1, failing (bad) or passing (good), `offset` ms from now; waits until it is decided. */
  async function post(uid: string, state: 'bad' | 'good', offset: number): Promise<void> {
    const body = JSON.stringify({ events: [{ uid, state, time: new Date(Date.now() + offset).toISOString(), host: 'db-1', rule: 'nightly-backup' }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const response = await fetch(`${(daemon as Daemon).address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
    expect(response.status).toBe(202);
    await ingestSettled(daemon as Daemon);
  }

  function postJira(body: unknown, secret = JIRA_SECRET): Promise<Response> {
    const text = JSON.stringify(body);
    const signature = `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
    return fetch(`${(daemon as Daemon).address}/hooks/jira-back`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature': signature }, body: text });
  }

  async function nc(id: string): Promise<{ state: string; reopenCount: number; correctiveAction: { action: string; owner: string } | null; tickets: unknown[]; timeline: Array<{ type: string; detail: Record<string, unknown> }> }> {
    const { status, body } = await api<Awaited<ReturnType<typeof nc>>>((daemon as Daemon).address, `/api/v1/nonconformities/${id}`);
    expect(status).toBe(200);
    return body;
  }

  it('opens an issue for the NC, records the action when it is done, reopens it on recurrence and refuses the next action without its root-cause analysis', async () => {
    prefix = testPrefix();
    jira = await startJira('cloud', CLOUD_AUTH);
    const site = jira;
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        // A return a few seconds after the fix is a recurrence here, not the tail of the old episode.
        policy: { skew: '1s' },
        connectors: [
          {
            name: 'generic',
            type: 'webhook',
            family: 'backup',
            control: 'A.8.13',
            auth: { type: 'hmac', secret: WEBHOOK_TOKEN },
            items: 'events',
            mapping: { id: 'uid', status: { path: 'state', map: { bad: 'firing', good: 'resolved' } }, observedAt: 'time', asset: 'host', check: 'rule' },
          },
          { name: 'jira-back', type: 'jira', notifier: 'tickets', auth: { type: 'hmac', secret: JIRA_SECRET }, fields: FIELDS },
        ],
        notifiers: [
          { name: 'tickets', type: 'jira', url: site.url, auth: { type: 'basic', ...CLOUD_AUTH }, project: 'SEC', transitions: { reopen: 'To Do', done: 'Done' }, backoff: '100ms' },
        ],
      }),
    );
    const running = daemon;

    // Failed, fixed, failed again: the symptom came back after its fix, and an NC opens.
    await post('a', 'bad', -60 * MINUTE);
    await post('b', 'good', -50 * MINUTE);
    await post('c', 'bad', -40 * MINUTE);
    const id = await eventually(async () => (await api<{ nonconformities: Array<{ id: string }> }>(running.address, '/api/v1/nonconformities?state=open')).body.nonconformities[0]?.id, 10_000, 'an open NC');

    const key = await eventually(() => [...site.issues.keys()][0], 10_000, 'the Jira issue');
    expect(site.issues.get(key)?.fields).toMatchObject({ project: { key: 'SEC' }, issuetype: { name: 'Task' }, labels: expect.arrayContaining(['recurd', 'A.8.13', 'backup']) as unknown });
    await eventually(async () => ((await metricsOf(running)).includes('recurd_notifications_total{notifier="tickets",outcome="delivered"} 1') ? true : undefined));
    expect((await nc(id)).tickets).toEqual([{ notifier: 'tickets', system: 'jira', key, url: `${site.url}/browse/${key}`, at: expect.any(String) as unknown }]);

    // A webhook that is not signed with the secret is refused, and records nothing.
    const forged = await postJira(webhook(key, 'In Progress', 'Done', { customfield_10049: 'forged' }), 'not-the-secret');
    expect(forged.status).toBe(401);
    expect((await nc(id)).correctiveAction).toBeNull();

    // Someone moves the issue to Done in Jira: the corrective action is recorded from its fields.
    site.setStatus(key, 'Done');
    const moved = webhook(key, 'In Progress', 'Done', { customfield_10049: 'moved the backup target to a monitored volume', assignee: { displayName: 'Dana Ops' } });
    const done = await postJira(moved);
    expect(done.status).toBe(202);
    expect(await done.json()).toEqual({ accepted: 0 });
    const acted = await nc(id);
    expect(acted.state).toBe('verifying');
    expect(acted.correctiveAction).toMatchObject({ action: 'moved the backup target to a monitored volume', owner: 'Dana Ops', actor: `jira:James Williams` });
    await eventually(() => (site.commentTexts(key).some((text) => text.includes('Dana Ops recorded a')) ? true : undefined), 10_000, 'the corrective action as a comment');
    // Jira sends the same change again (it saw no answer in time): taken once, no refusal on the ticket.
    expect((await postJira(moved)).status).toBe(202);
    expect(site.commentTexts(key).filter((text) => text.startsWith('recurd did not record'))).toEqual([]);

    // The symptom clears after the action and comes back: the NC is reopened, and so is the done issue.
    await post('d', 'good', 2 * SECOND);
    await post('e', 'bad', 10 * SECOND);
    await eventually(async () => ((await nc(id)).state === 'reopened' ? true : undefined), 10_000, 'the NC reopened');
    await eventually(() => (site.issues.get(key)?.status === 'To Do' ? true : undefined), 10_000, 'the issue reopened');
    expect(site.to(site.route('POST', '/issue/:key/transitions')).map((request) => request.json)).toEqual([{ transition: { id: '11' } }]);

    // Done again, without the five whys a reopened NC needs: refused, and Jira is told why.
    site.setStatus(key, 'Done');
    const again = await postJira(webhook(key, 'To Do', 'Done', { customfield_10049: 'moved it again' }));
    expect(again.status).toBe(202);
    const refusal = site.commentTexts(key).find((text) => text.startsWith(`recurd did not record the corrective action on ${id}`));
    expect(refusal).toContain('rootCauseAnalysis.whys is missing');
    expect((await nc(id)).state).toBe('reopened');

    // Moved back to an open status: a comment on the NC's timeline.
    site.setStatus(key, 'In Progress');
    expect((await postJira(webhook(key, 'Done', 'In Progress'))).status).toBe(202);
    const noted = (await nc(id)).timeline.filter((entry) => entry.type === 'comment');
    expect(noted.map((entry) => entry.detail)).toEqual([{ actor: 'jira:James Williams', text: `${key} was moved from Done back to In Progress in Jira by James Williams.` }]);

    // With the analysis, the action is taken.
    site.setStatus(key, 'Done');
    expect((await postJira(webhook(key, 'In Progress', 'Done', { customfield_10049: 'pruning automated in the backup job', ...ANALYSED }))).status).toBe(202);
    expect((await nc(id)).correctiveAction).toMatchObject({ action: 'pruning automated in the backup job', rootCauseAnalysis: { category: 'process-gap' } });
    expect(site.problems).toEqual([]);
  });
});
