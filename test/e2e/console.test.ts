/**
 * The web console at /ui/ against a real daemon on a real redis-server, in Debian's headless
 * Chromium: sign-in, the register's filters, one NC with its record, a corrective action refused
 * until its root-cause analysis is filled in, a void by an admin, the write forms refused to a
 * read token, connectors and dead letters. Each browser test saves a screenshot under
 * test-artifacts/, and every request any page made must have stayed on loopback.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';
import { CONSOLE_CSP } from '../../src/http/console.js';
import { ROLES as SERVER_ROLES } from '../../src/http/roles.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { FAMILIES, NC_STATES, SYMPTOM_STATES, VOID_REASONS, type Family } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { RedisTicketLinks } from '../../src/ticket-links.js';
import * as words from '../../ui/src/words.js';
import { chromiumMissing, offLoopback, screenshot, startBrowser, type Browser } from '../helpers/browser.js';
import { API_TOKEN, WEBHOOK_TOKEN, api, eventually, postAlertmanager, runDaemon, testConfig, ingestSettled } from '../helpers/daemon.js';

const TOKENS = {
  alice: 'alice-writes-token',
  grafana: 'grafana-reads-token',
  lead: 'isms-lead-admin-token',
};

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const fixture = readFileSync(new URL('../fixtures/alertmanager/alertmanager-0.25-webhook-v4.ndjson', import.meta.url), 'utf8').trim().split('\n');
const [firingBody, resolvedBody] = fixture as [string, string];

interface NcJson {
  id: string;
  state: string;
  family: string;
  asset: string;
  comments: number;
  owner: string | null;
  correctiveAction: { action: string; actor?: string; strength: string; rootCauseAnalysis: { whys: string[]; category: string } | null } | null;
  voided: { reason: string; actor: string } | null;
  timeline: Array<{ type: string; detail: Record<string, unknown> }>;
}

type ConnectorInput = NonNullable<ConfigInput['connectors']>[number];

/** A signed webhook intake mapping `{events: [{uid, state: bad|good, time, host, rule}]}`, as the test config's `generic`. */
function webhook(name: string, family: Family, control: string): ConnectorInput {
  return {
    name,
    type: 'webhook',
    family,
    control,
    auth: { type: 'hmac', secret: WEBHOOK_TOKEN },
    items: 'events',
    mapping: { id: 'uid', status: { path: 'state', map: { bad: 'firing', good: 'resolved' } }, observedAt: 'time', asset: 'host', check: 'rule' },
  };
}

const CONNECTORS: ConnectorInput[] = [
  { name: 'alertmanager', type: 'alertmanager', family: 'backup', control: 'A.8.13', auth: { type: 'bearer', token: WEBHOOK_TOKEN } },
  webhook('generic', 'av', 'A.8.7'),
  webhook('siem', 'siem', 'A.8.16'),
  webhook('drift', 'config-drift', 'A.8.9'),
];

describe('the console lists', () => {
  it('offers exactly the API words', () => {
    expect([...words.NC_STATES].sort()).toEqual([...NC_STATES].sort());
    expect([...words.FAMILIES].sort()).toEqual([...FAMILIES].sort());
    expect([...words.SYMPTOM_STATES].sort()).toEqual([...SYMPTOM_STATES].sort());
    expect([...words.VOID_REASONS].sort()).toEqual([...VOID_REASONS].sort());
    expect(words.ROLES).toEqual(SERVER_ROLES);
  });
});

describe('web console', () => {
  let redis: TestRedis;
  let prefix: string;
  let daemon: Daemon;
  let browser: Browser | null = null;
  const ncs: Record<'backup' | 'reopened' | 'elsewhere' | 'accepted' | 'verifying', string> = { backup: '', reopened: '', elsewhere: '', accepted: '', verifying: '' };
  let deadLetter = '';

  /** Waits until the daemon has decided everything it took in. */

  async function post(connector: string, host: string, rule: string, uid: string, state: 'bad' | 'good', at: number): Promise<void> {
    const body = JSON.stringify({ events: [{ uid: `${host}-${uid}`, state, time: new Date(at).toISOString(), host, rule }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const response = await fetch(`${daemon.address}/hooks/${connector}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
    expect(response.status).toBe(202);
    await ingestSettled(daemon);
  }

  /** Failed, fixed, failed again inside the window: the id of the NC the daemon raised. */
  async function raise(connector: string, host: string, rule: string, base: number): Promise<string> {
    await post(connector, host, rule, 'a', 'bad', base);
    await post(connector, host, rule, 'b', 'good', base + 10 * MINUTE);
    await post(connector, host, rule, 'c', 'bad', base + 20 * MINUTE);
    const listed = await api<{ nonconformities: Array<{ id: string; asset: string }> }>(daemon.address, '/api/v1/nonconformities?limit=100');
    const nc = listed.body.nonconformities.find((candidate) => candidate.asset === host);
    expect(nc, `an NC on ${host}`).toBeDefined();
    return nc?.id as string;
  }

  function send(path: string, body: unknown, token = API_TOKEN): Promise<{ status: number; body: unknown }> {
    return api(daemon.address, path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}` } });
  }

  const show = async (id: string): Promise<NcJson> => (await api<NcJson>(daemon.address, `/api/v1/nonconformities/${id}`)).body;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = testPrefix();
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        api: {
          token: API_TOKEN,
          tokens: [
            { name: 'alice', token: TOKENS.alice, role: 'write' },
            { name: 'grafana', token: TOKENS.grafana, role: 'read' },
            { name: 'isms-lead', token: TOKENS.lead, role: 'admin' },
          ],
        },
        // The Alertmanager fixture's times are fixed: the window and lateness must reach today.
        policy: { window: '3650d', maxLateness: '3650d', skew: '1m' },
        connectors: CONNECTORS,
      }),
    );

    // A failing nightly backup through the Alertmanager intake: firing, resolved, firing again.
    expect((await postAlertmanager(daemon, firingBody)).status).toBe(202);
    expect((await postAlertmanager(daemon, resolvedBody)).status).toBe(202);
    await ingestSettled(daemon);
    expect((await postAlertmanager(daemon, firingBody)).status).toBe(202);
    ncs.backup = await eventually(async () => (await api<{ nonconformities: Array<{ id: string }> }>(daemon.address, '/api/v1/nonconformities?family=backup')).body.nonconformities[0]?.id);
    await new RedisTicketLinks(redis.client, prefix).set(ncs.backup, { notifier: 'jira', system: 'jira', key: 'SEC-101', url: 'https://jira.example.com/browse/SEC-101', at: Date.now() });

    const base0 = Date.now() - 60 * MINUTE;
    // Real-time protection off on one workstation: raised, given a symptom-only action, back again.
    ncs.reopened = await raise('generic', 'ws-0042', 'defender-realtime', base0);
    await post('generic', 'ws-0042', 'defender-realtime', 'd', 'good', base0 + 25 * MINUTE);
    expect((await send(`/api/v1/nonconformities/${ncs.reopened}/corrective-action`, { action: 'Re-enabled real-time protection', owner: 'desktop team' })).status).toBe(200);
    await post('generic', 'ws-0042', 'defender-realtime', 'e', 'good', Date.now() + MINUTE);
    await post('generic', 'ws-0042', 'defender-realtime', 'f', 'bad', Date.now() + 3 * MINUTE);
    // The same check on a second workstation: its NC lists the first as "elsewhere".
    ncs.elsewhere = await raise('generic', 'ws-0043', 'defender-realtime', base0 + 2 * MINUTE);
    ncs.accepted = await raise('siem', 'siem-01', 'audit-log-shipping', base0 + 4 * MINUTE);
    expect((await send(`/api/v1/nonconformities/${ncs.accepted}/accept-risk`, { approver: 'CISO', reason: 'replacement SIEM goes live next quarter', until: new Date(Date.now() + 90 * DAY).toISOString().slice(0, 10) })).status).toBe(200);
    ncs.verifying = await raise('drift', 'web-01', 'sshd-config', base0 + 6 * MINUTE);
    await post('drift', 'web-01', 'sshd-config', 'd', 'good', base0 + 30 * MINUTE);
    const enforced = { action: 'Enforced the sshd settings with Ansible on every run and added an alert on drift', owner: 'platform team' };
    expect((await send(`/api/v1/nonconformities/${ncs.verifying}/corrective-action`, enforced)).status).toBe(200);

    // A payload that does not fit the generic connector (no time): kept as a dead letter.
    const letter = JSON.stringify({ events: [{ uid: 'x1', state: 'bad', host: 'ws-0099', rule: 'defender-realtime' }] });
    const refused = await fetch(`${daemon.address}/hooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-recurd-signature': `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(letter).digest('hex')}` },
      body: letter,
    });
    const refusal = (await refused.json()) as { error: { message: string } };
    deadLetter = /dead letter (\S+?)\)/.exec(refusal.error.message)?.[1] ?? '';
    expect(deadLetter).toMatch(/^\d+-\d+$/);

    const states = await Promise.all(Object.values(ncs).map(async (id) => (await show(id)).state));
    expect(states).toEqual(['open', 'reopened', 'open', 'risk-accepted', 'verifying']);
  }, 120_000);

  afterEach(async () => {
    if (browser === null) return;
    // No page went anywhere but this machine, and the policy blocked nothing the console needs.
    expect(offLoopback(browser.requests)).toEqual([]);
    expect(browser.errors.filter((error) => /Content Security Policy|uncaught/i.test(error))).toEqual([]);
    await browser.close();
    browser = null;
  });

  afterAll(async () => {
    await daemon?.stop();
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
    await redis.stop();
  });

  describe('over HTTP', () => {
    it('serves the console with a strict Content-Security-Policy, cache headers and a fallback to the page', async () => {
      const bare = await fetch(`${daemon.address}/ui`, { redirect: 'manual' });
      expect(bare.status).toBe(308);
      expect(bare.headers.get('location')).toBe('/ui/');

      const index = await fetch(`${daemon.address}/ui/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(index.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
        expect(CONSOLE_CSP).toContain(directive);
      }
      expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(index.headers.get('x-frame-options')).toBe('DENY');
      expect(index.headers.get('x-content-type-options')).toBe('nosniff');
      expect(index.headers.get('cache-control')).toBe('no-cache');
      const html = await index.text();
      // No inline script or style: each script and style sheet is a file of the console's own.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=/);
      const assets = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((match) => match[1] as string);
      expect(assets.some((asset) => asset.endsWith('.js'))).toBe(true);
      expect(assets.some((asset) => asset.endsWith('.css'))).toBe(true);
      for (const asset of assets) {
        const answer = await fetch(`${daemon.address}${asset}`);
        expect(answer.status).toBe(200);
        expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(answer.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
        expect(answer.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
        const body = await answer.text();
        // Nothing in the bundle names a host to load from.
        expect(body).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\//i);
      }

      const view = await fetch(`${daemon.address}/ui/nc/${ncs.backup}`);
      expect(view.status).toBe(200);
      expect(await view.text()).toBe(html);
      const etag = view.headers.get('etag') as string;
      expect((await fetch(`${daemon.address}/ui/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      const missing = await fetch(`${daemon.address}/ui/assets/index-missing.js`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect((await fetch(`${daemon.address}/ui/..%2f..%2fpackage.json`)).status).toBe(404);
    });

    it('tells a token who it is, and lists dead letters without their bodies', async () => {
      const read = { authorization: `Bearer ${TOKENS.grafana}` };
      expect(await api(daemon.address, '/api/v1/whoami', { headers: read })).toEqual({ status: 200, body: { name: 'grafana', role: 'read' } });
      expect((await fetch(`${daemon.address}/api/v1/whoami`)).status).toBe(401);

      const listed = await api<{ deadLetters: Array<Record<string, unknown>> }>(daemon.address, '/api/v1/dead-letters', { headers: read });
      expect(listed.status).toBe(200);
      expect(listed.body.deadLetters).toHaveLength(1);
      expect(listed.body.deadLetters[0]).toMatchObject({ id: deadLetter, connector: 'generic', route: '', truncated: false, errorsOmitted: 0 });
      expect(listed.body.deadLetters[0]).not.toHaveProperty('body');
      expect(listed.body.deadLetters[0]?.bodyLength).toBeGreaterThan(20);
      expect(String(listed.body.deadLetters[0]?.receivedAt)).toMatch(/^\d{4}-\d{2}-\d{2}T/);

      const one = await api<{ id: string; body: string }>(daemon.address, `/api/v1/dead-letters/${deadLetter}`, { headers: read });
      expect(one.status).toBe(200);
      expect(JSON.parse(one.body.body)).toMatchObject({ events: [{ host: 'ws-0099' }] });
      expect(await api(daemon.address, '/api/v1/dead-letters/not-an-id', { headers: read })).toMatchObject({ status: 404, body: { error: { code: 'RECURD_ERR_NOT_FOUND' } } });
      expect((await api(daemon.address, '/api/v1/dead-letters?limit=0', { headers: read })).status).toBe(400);
    });
  });

  describe.skipIf(chromiumMissing)('in Chromium', () => {
    async function signIn(token: string): Promise<Page> {
      browser ??= await startBrowser();
      const page = await browser.page();
      await page.goto(`${daemon.address}/ui/`);
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('who').waitFor();
      return page;
    }

    const rows = (page: Page) => page.getByTestId('register').locator('tbody tr[data-nc]');

    async function rowIds(page: Page): Promise<string[]> {
      return Promise.all((await rows(page).all()).map(async (row) => (await row.getAttribute('data-nc')) ?? ''));
    }

    async function openNc(page: Page, id: string): Promise<void> {
      await page.goto(`${daemon.address}/ui/nc/${id}`);
      await page.getByTestId('chain').waitFor();
    }

    it('refuses a wrong token with the API message, signs in, and filters and sorts the register', async () => {
      browser = await startBrowser();
      const page = await browser.page();
      const response = await page.goto(`${daemon.address}/ui/`);
      expect(response?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
      await page.getByLabel('API token').fill('not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.locator('.refusal').innerText()).toContain('RECURD_ERR_UNAUTHORIZED');
      expect(await page.locator('.refusal').innerText()).toContain('the API token is not valid');
      expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);

      await page.getByLabel('API token').fill(TOKENS.alice);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByTestId('who').innerText()).toBe('alice');
      // Kept for this tab only, and never as a cookie.
      expect(await page.evaluate<string | null>("sessionStorage.getItem('recurd.console.token')")).toBe(TOKENS.alice);
      expect(await browser.context.cookies()).toEqual([]);

      await expect.poll(() => rowIds(page)).toHaveLength(5);
      const count = (state: string) => page.locator(`.count[data-state="${state}"] .count-number`).innerText();
      await expect.poll(() => count('all')).toBe('5');
      expect(await count('open')).toBe('2');
      expect(await count('reopened')).toBe('1');
      expect(await count('verifying')).toBe('1');
      expect(await count('risk-accepted')).toBe('1');
      expect(await count('void')).toBe('0');
      await screenshot(page, 'console-register', { fullPage: false });

      await page.locator('select[name="family"]').selectOption('av');
      await expect.poll(async () => (await rowIds(page)).sort()).toEqual([ncs.reopened, ncs.elsewhere].sort());
      expect(page.url()).toContain('family=av');
      await expect.poll(() => count('all')).toBe('2');

      await page.locator('.count[data-state="reopened"]').click();
      await expect.poll(() => rowIds(page)).toEqual([ncs.reopened]);
      await page.locator('select[name="state"]').selectOption('');
      await page.locator('select[name="family"]').selectOption('');
      await expect.poll(() => rowIds(page)).toHaveLength(5);

      await page.getByLabel('Annex A control').fill('A.8.16');
      await page.getByLabel('Annex A control').press('Enter');
      await expect.poll(() => rowIds(page)).toEqual([ncs.accepted]);
      await page.getByLabel('Annex A control').fill('');
      await page.getByLabel('Annex A control').press('Enter');
      await expect.poll(() => rowIds(page)).toHaveLength(5);

      await page.getByLabel(/^Text/).fill('ws-0043');
      await expect.poll(() => rowIds(page)).toEqual([ncs.elsewhere]);
      await page.getByLabel(/^Text/).fill('');

      await page.getByRole('button', { name: /^Asset/ }).click();
      await expect.poll(() => rowIds(page)).toEqual([ncs.backup, ncs.accepted, ncs.verifying, ncs.reopened, ncs.elsewhere].sort((a, b) => assetOf(a).localeCompare(assetOf(b))));
      await page.getByRole('button', { name: /^Asset/ }).click();
      expect(await rowIds(page)).toEqual([ncs.backup, ncs.accepted, ncs.verifying, ncs.reopened, ncs.elsewhere].sort((a, b) => assetOf(b).localeCompare(assetOf(a))));
      expect(page.url()).toContain('sort=asset%3Adesc');

      await page.getByLabel('Overdue only').check();
      await expect.poll(() => page.getByTestId('register-summary').innerText()).toContain('0 of 0 loaded');
    });

    const assets: Record<string, string> = {};
    function assetOf(id: string): string {
      return assets[id] ?? '';
    }
    beforeAll(async () => {
      for (const id of Object.values(ncs)) assets[id] = (await show(id)).asset;
    });

    it('opens an NC: its record, timeline with actors and evidence, chain status, ticket and where else the check fails', async () => {
      const page = await signIn(TOKENS.grafana);
      await page.getByRole('link', { name: ncs.backup }).click();
      await page.getByTestId('chain').waitFor();
      expect(page.url()).toBe(`${daemon.address}/ui/nc/${ncs.backup}`);
      expect(await page.getByTestId('chain').innerText()).toMatch(/Hash chain holds: (\d+) of \1 entr(y|ies) checked/);
      const ticket = page.getByTestId('tickets').getByRole('link', { name: 'SEC-101' });
      expect(await ticket.getAttribute('href')).toBe('https://jira.example.com/browse/SEC-101');
      expect(await ticket.getAttribute('rel')).toBe('noopener noreferrer');

      const nc = await show(ncs.backup);
      await expect.poll(() => page.getByTestId('timeline').locator('li.entry').count()).toBe(nc.timeline.length);
      expect(await page.getByTestId('timeline').locator('li.entry').first().getAttribute('data-type')).toBe('raised');
      // The pointer back to the raw Alertmanager event, for the auditor.
      expect(await page.getByTestId('timeline').locator('.pair.evidence').count()).toBeGreaterThan(0);
      const record = page.getByTestId('clause10_2');
      for (const part of ['10.2 a', '10.2 b', '10.2 c', '10.2 d', '10.2 e', '10.2 f, g']) await expect.poll(() => record.innerText()).toContain(part);
      await record.locator('summary', { hasText: 'Reaction' }).click();
      expect(await record.locator('.clause-part[open] .clause-body').innerText()).toContain('firstIncident');
      await screenshot(page, 'console-nc');

      await openNc(page, ncs.elsewhere);
      expect(await page.getByTestId('elsewhere').innerText()).toContain('ws-0042');
      // Actions a person recorded name their token: admin recorded the first action on this symptom's sibling.
      await openNc(page, ncs.reopened);
      expect(await page.locator('li.entry[data-type="corrective-action"] .entry-actor').innerText()).toBe('by admin');
      expect(await page.locator('li.entry[data-type="reopened"]').count()).toBe(1);
    });

    it('refuses a corrective action on a reopened NC until its root-cause analysis is filled in, with the verdict shown as it is typed', async () => {
      const page = await signIn(TOKENS.alice);
      await openNc(page, ncs.reopened);
      const form = page.getByTestId('form-corrective-action');
      expect(await form.locator('.rca-note').innerText()).toContain('Required: this NC was reopened');

      await form.getByLabel('Action').fill('Restarted the Defender service');
      await expect.poll(() => form.getByTestId('verdict').getAttribute('data-strength')).toBe('weak');
      expect(await form.getByTestId('verdict').innerText()).toContain('restarts or reboots');
      await screenshot(page, 'console-nc-weak-action', { fullPage: false });
      const action = 'Enforced real-time protection by Intune policy on every workstation, with an alert when it is off';
      await form.getByLabel('Action').fill(action);
      await expect.poll(() => form.getByTestId('verdict').getAttribute('data-strength')).toBe('strong');
      await form.getByLabel('Owner', { exact: true }).fill('desktop team');
      await form.getByRole('button', { name: 'Record corrective action' }).click();
      const refusal = form.locator('.refusal');
      await expect.poll(() => refusal.innerText()).toContain('RECURD_ERR_ROOT_CAUSE_ANALYSIS_REQUIRED');
      expect(await refusal.innerText()).toContain('HTTP 422');
      expect(await refusal.innerText()).toContain('whys');
      expect((await show(ncs.reopened)).correctiveAction?.action).toBe('Re-enabled real-time protection');
      await screenshot(page, 'console-rca-refused');

      const whys = [
        'Real-time protection was off on ws-0042',
        'A user with local admin rights turned it off',
        'Local admin rights were never removed after the pilot',
        'The pilot had no end date or owner',
        'Workstation exceptions are not reviewed',
      ];
      for (const [index, why] of whys.entries()) await form.getByLabel(`Why ${index + 1}`).fill(why);
      await form.getByLabel('Cause category').selectOption('governance-ownership');
      await form.getByRole('button', { name: 'Record corrective action' }).click();
      await expect.poll(() => form.getByRole('status').innerText()).toBe('The corrective action is recorded.');
      expect(await form.locator('.refusal').count()).toBe(0);

      const recorded = await show(ncs.reopened);
      expect(recorded.correctiveAction).toMatchObject({ action, actor: 'alice', strength: 'strong', rootCauseAnalysis: { whys, category: 'governance-ownership' } });
      await expect.poll(() => page.locator('li.entry[data-type="corrective-action"]').count()).toBe(2);
      expect(await page.locator('li.entry[data-type="corrective-action"]').last().locator('.entry-actor').innerText()).toBe('by alice');
      await screenshot(page, 'console-corrective-action');
    });

    it('voids an NC with an admin token', async () => {
      const page = await signIn(TOKENS.lead);
      await openNc(page, ncs.elsewhere);
      const form = page.getByTestId('form-void');
      await form.getByLabel('Reason').selectOption('duplicate');
      await form.getByLabel('Note').fill(`the same Defender policy gap as ${ncs.reopened}`);
      await form.getByRole('button', { name: 'Declare the NC void' }).click();
      await expect.poll(() => form.getByRole('status').innerText()).toBe('The NC is void.');
      await expect.poll(() => page.locator('.nc-head .badge-void').count()).toBe(1);
      expect(await page.locator('.notice').first().innerText()).toContain('Void (duplicate) by isms-lead');
      expect((await show(ncs.elsewhere)).voided).toMatchObject({ reason: 'duplicate', actor: 'isms-lead' });
      await screenshot(page, 'console-void');
    });

    it("refuses the write forms to a read token with the API's message", async () => {
      const page = await signIn(TOKENS.grafana);
      await openNc(page, ncs.backup);
      const comment = page.getByTestId('form-comment');
      expect(await comment.locator('.role-note').innerText()).toContain('Needs the role write; your token “grafana” has read');
      await comment.getByLabel('Text').fill('looked at it');
      await comment.getByRole('button', { name: 'Add comment' }).click();
      await expect.poll(() => comment.locator('.refusal').innerText()).toContain('RECURD_ERR_FORBIDDEN');
      expect(await comment.locator('.refusal').innerText()).toContain(`POST /api/v1/nonconformities/:id/comments needs the role write; the token "grafana" has the role read`);

      const action = page.getByTestId('form-corrective-action');
      await action.getByLabel('Action').fill('Moved the repository to a monitored volume with an alert at 80% full');
      await action.getByLabel('Owner', { exact: true }).fill('backup team');
      await action.getByRole('button', { name: 'Record corrective action' }).click();
      await expect.poll(() => action.locator('.refusal').innerText()).toContain('RECURD_ERR_FORBIDDEN');

      const owner = page.getByTestId('form-owner');
      await owner.getByLabel(/New owner/).fill('someone else');
      await owner.getByRole('button', { name: 'Change owner' }).click();
      await expect.poll(() => owner.locator('.refusal').innerText()).toContain('RECURD_ERR_FORBIDDEN');
      const unchanged = await show(ncs.backup);
      expect(unchanged).toMatchObject({ comments: 0, owner: null, correctiveAction: null });
      await screenshot(page, 'console-read-refused');

      // A write token is refused what only an admin may do.
      const writer = await signIn(TOKENS.alice);
      await openNc(writer, ncs.backup);
      const voiding = writer.getByTestId('form-void');
      await voiding.getByLabel('Note').fill('not ours');
      await voiding.getByRole('button', { name: 'Declare the NC void' }).click();
      await expect.poll(() => voiding.locator('.refusal').innerText()).toContain('needs the role admin; the token "alice" has the role write');
      expect((await show(ncs.backup)).state).toBe('open');
    });

    it('lists symptoms by state, filtered, with a link to their NC', async () => {
      const page = await signIn(TOKENS.grafana);
      await page.getByRole('link', { name: 'Symptoms' }).click();
      const table = page.getByTestId('symptoms');
      const symptomRows = table.locator('tbody tr[data-fingerprint]');
      await expect.poll(() => symptomRows.count()).toBe(5);
      const count = (label: string) => page.locator('.count', { hasText: label }).locator('.count-number').innerText();
      await expect.poll(() => count('all')).toBe('5');
      expect(await count('firing')).toBe('4');
      expect(await count('fixed, in window')).toBe('1');
      expect(await count('verified')).toBe('0');

      await page.locator('.count', { hasText: 'fixed, in window' }).click();
      await expect.poll(() => symptomRows.count()).toBe(1);
      expect(await symptomRows.first().innerText()).toContain('web-01');
      expect(page.url()).toContain('state=fixed');
      await page.locator('select[name="state"]').selectOption('');
      await page.getByLabel('Asset (exact)').fill('ws-0043');
      await page.getByLabel('Asset (exact)').press('Enter');
      await expect.poll(() => symptomRows.count()).toBe(1);
      await screenshot(page, 'console-symptoms');
      await symptomRows.first().getByRole('link', { name: ncs.elsewhere }).click();
      await page.getByTestId('chain').waitFor();
      expect(page.url()).toBe(`${daemon.address}/ui/nc/${ncs.elsewhere}`);
    });

    it('shows connector health and replays a dead letter (admin)', async () => {
      const page = await signIn(TOKENS.lead);
      await page.getByRole('link', { name: 'Connectors' }).click();
      const connectors = page.getByTestId('connectors');
      await connectors.waitFor();
      const alertmanager = connectors.locator('tr[data-name="alertmanager"]');
      expect(await alertmanager.innerText()).toContain('healthy');
      expect(await alertmanager.locator('td').nth(2).innerText()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
      expect(await page.getByTestId('readiness').innerText()).toContain('ready');

      const letter = page.locator(`tr[data-letter="${deadLetter}"]`);
      expect(await letter.innerText()).toContain('generic');
      await letter.getByRole('button', { name: 'Payload' }).click();
      await expect.poll(() => page.locator('pre.payload').innerText()).toContain('ws-0099');
      await letter.getByRole('button', { name: 'Replay' }).click();
      await expect.poll(() => page.getByTestId('replay-outcomes').innerText()).toContain('still does not fit');
      await screenshot(page, 'console-connectors');
    });
    it('shows the management review of a period: figures, charts and a table per control, styled under its own CSP', async () => {
      const page = await signIn(TOKENS.grafana);
      await page.getByRole('link', { name: 'Review' }).click();
      const review = page.getByTestId('review').locator('.recurd-review');
      await review.waitFor();
      // Five NCs were raised today, so the default period (the last twelve months) counts them: as
      // opened, or as voided for one that an earlier test voided.
      const figure = async (name: string): Promise<number> => Number(await review.locator('.figures div', { hasText: name }).locator('.value').first().innerText());
      expect((await figure('Opened')) + (await figure('Voided'))).toBe(5);
      expect(await review.locator('svg.chart').count()).toBeGreaterThan(0);
      expect(await review.locator('section.control').count()).toBeGreaterThan(0);
      // The review's own style sheet reached the page: its figures are laid out as a grid.
      expect(await page.evaluate<string>('getComputedStyle(document.querySelector("[data-testid=review] .recurd-review .figures")).display')).toBe('grid');
      await screenshot(page, 'console-review', { fullPage: false });

      // A period with nothing in it says so.
      await page.locator('input[name="from"]').fill('2020-01');
      await page.locator('input[name="to"]').fill('2020-03');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect.poll(() => page.getByTestId('review').innerText()).toContain('No nonconformity and no corrective action in the period.');
      expect(page.url()).toContain('from=2020-01');
    });
  });
});
