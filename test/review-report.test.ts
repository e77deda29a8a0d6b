/**
 * The management review as a file: its markup (escaped, self-contained, accessible), the reading
 * of a register page by page in Redis, and `recurd report` run as a user runs it against NCs the
 * engine made, its file opened in Debian's headless chromium with every request recorded.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import { ReviewTally, reviewPeriod, type ReviewPeriod } from '../src/core/review.js';
import type { CorrectiveActionInput, Family, ReceivedAlert } from '../src/core/types.js';
import { Engine } from '../src/engine.js';
import { readReview, REVIEW_PAGE, type ReadReview } from '../src/review/read.js';
import { reviewDocument, reviewFragment } from '../src/review/render.js';
import { RedisRegister } from '../src/store/redis-register.js';
import { ACTION } from './helpers/timeline.js';
import { measured } from './helpers/measured-redis.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const DAY = 86_400_000;
const t = (iso: string): number => Date.parse(iso);

function period(from: string, to: string): ReviewPeriod {
  const made = reviewPeriod({ from, to }, t('2026-06-15T00:00:00Z'));
  if ('problem' in made) throw new Error(made.problem);
  return made;
}

/** A review of hand-built NCs, one with a control id and title a hostile source could send. */
function handBuilt(): ReadReview {
  const tally = new ReviewTally(period('2026-01', '2026-03'));
  const hostile = '<script>alert(1)</script>';
  tally.add({ state: 'open', control: hostile, openedAt: t('2026-01-10T00:00:00Z'), updatedAt: t('2026-02-01T00:00:00Z'), voided: null }, [
    { at: t('2026-01-11T00:00:00Z'), type: 'corrective-action', detail: { strength: 'weak' } },
    { at: t('2026-02-01T00:00:00Z'), type: 'reopened', detail: {} },
  ]);
  tally.add({ state: 'closed', control: 'A.8.13', openedAt: t('2026-02-01T00:00:00Z'), updatedAt: t('2026-03-03T00:00:00Z'), voided: null }, [
    { at: t('2026-03-03T00:00:00Z'), type: 'verified-effective', detail: {} },
  ]);
  const titles = new Map([[hostile, 'Title "quoted" & <b>bold</b>'], ['A.8.13', 'Information backup']]);
  return { ...tally.review(titles), generatedAt: t('2026-04-01T08:00:00Z'), read: { ncs: 2, timelines: 2 } };
}

describe('the review as HTML', () => {
  const review = handBuilt();
  const document = reviewDocument(review);
  const fragment = reviewFragment(review);

  it('escapes every value: a control id or title never becomes markup', () => {
    expect(document).not.toContain('<script');
    expect(document).not.toContain('<b>');
    expect(document).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Title &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
  });

  it('references nothing outside itself: no URL, no script, no external style, image or font', () => {
    expect(document).not.toMatch(/https?:\/\//);
    expect(document).not.toMatch(/<script|<link|<img|<iframe|<object|@import|url\(/i);
    expect(document).not.toMatch(/\s(src|href)=/);
  });

  it('allows its own <style> by hash and nothing else', () => {
    const style = /<style>([\s\S]*)<\/style>/.exec(document)?.[1] ?? '';
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(document)?.[1];
    expect(policy).toBe(`default-src 'none'; style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  });

  it('is the fragment the console shows, inside a page, and the fragment has no inline style', () => {
    expect(document).toContain(fragment);
    expect(fragment.startsWith('<section class="recurd-review"')).toBe(true);
    expect(fragment).not.toMatch(/<style|\sstyle=/);
  });

  it('names each chart and labels each table for screen readers', () => {
    const charts = [...fragment.matchAll(/<svg [^>]*aria-labelledby="([^"]+)"[^>]*>\n<title id="([^"]+)">([^<]+)<\/title>\n<desc id="([^"]+)">/g)];
    expect(charts.map((chart) => chart[3])).toEqual([
      'Nonconformities per month, January 2026 to March 2026',
      'Reopen ratio per month, January 2026 to March 2026',
      'Corrective actions per month by strength, January 2026 to March 2026',
    ]);
    for (const chart of charts) expect(chart[1]).toBe(`${chart[2]} ${chart[4]}`);
    expect(fragment.match(/<svg /g)).toHaveLength(3);
    // Every table has column headers and row headers.
    const tables = fragment.split('<table').slice(1);
    expect(tables).toHaveLength(4);
    for (const table of tables) {
      expect(table).toMatch(/<thead><tr><th scope="col">/);
      expect(table).toMatch(/<tbody>\n<tr><th scope="row">/);
      expect(table).toMatch(/<caption>|^ aria-labelledby="review-control-\d+"/);
    }
  });

  it('says "nothing" rather than drawing an empty period as data', () => {
    const empty = reviewFragment({ ...new ReviewTally(period('2026-01', '2026-02')).review(), generatedAt: 0, read: { ncs: 0, timelines: 0 } });
    expect(empty).toContain('no nonconformity in the period');
    expect(empty).toContain('No nonconformity and no corrective action in the period.');
    // Bars carry their value as a tooltip; the legend's swatches do not.
    expect(empty).not.toMatch(/<rect [^>]*><title>/);
  });
});

/** Alerts of one symptom, as the engine receives them. */
interface SymptomOf {
  family: Family;
  asset: string;
  check: string;
  control?: string;
}

describe('reading the review from Redis', () => {
  let redis: TestRedis;
  let prefix: string;
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'recurd-review-'));
  });
  afterEach(async () => {
    await dropPrefix(redis.client, prefix);
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The real engine over the Redis register, on a clock the test moves. */
  function engineAt(): { engine: Engine; clock: ManualClock; observe: (at: string, status: ReceivedAlert['status'], symptoms: SymptomOf[]) => Promise<void> } {
    const clock = new ManualClock();
    const engine = new Engine({ register: new RedisRegister(redis.client, prefix, 35 * DAY), policy: DEFAULT_POLICY, clock, fingerprintFields: ['family', 'source', 'check', 'asset'] });
    let sequence = 0;
    const observe = async (at: string, status: ReceivedAlert['status'], symptoms: SymptomOf[]): Promise<void> => {
      clock.set(t(at));
      const alerts = symptoms.map(({ control, ...symptom }): ReceivedAlert => ({
        id: `evt-${++sequence}`,
        source: 'review-test',
        status,
        observedAt: t(at),
        receivedAt: t(at),
        message: `${symptom.check} on ${symptom.asset}`,
        severity: 'high',
        ...(control === undefined ? {} : { control }),
        labels: {},
        evidence: {},
        ...symptom,
      }));
      await engine.ingest(alerts);
    };
    return { engine, clock, observe };
  }

  /** firing, resolved, firing again four days later: an NC each, opened at the last firing. */
  async function raise(observe: ReturnType<typeof engineAt>['observe'], day: string, symptoms: SymptomOf[]): Promise<void> {
    const at = t(`${day}T00:00:00Z`);
    await observe(new Date(at - 5 * DAY).toISOString(), 'firing', symptoms);
    await observe(new Date(at - 4 * DAY).toISOString(), 'resolved', symptoms);
    await observe(new Date(at).toISOString(), 'firing', symptoms);
  }

  it('reads only the NCs changed since the period began and opened before it ended, 500 at a time, and the same figures from a register written before that index', async () => {
    prefix = testPrefix();
    const { observe } = engineAt();
    const many = (count: number, asset: string): SymptomOf[] => Array.from({ length: count }, (_each, index) => ({ family: 'backup', asset: `${asset}-${index}`, check: 'BackupJobFailed', control: 'A.8.13' }));
    // Each batch is decided at one instant: its NCs share their openedAt, and the first page ends among them.
    await raise(observe, '2024-11-10', many(40, 'old'));
    await raise(observe, '2025-01-10', many(300, 'jan'));
    await raise(observe, '2025-02-10', many(450, 'feb'));
    await raise(observe, '2025-04-10', many(30, 'apr'));

    const client = measured(redis.url);
    try {
      const register = new RedisRegister(client.client, prefix, 35 * DAY);
      const january = period('2025-01', '2025-03');
      const june = t('2025-06-01T00:00:00Z');
      // As a version that did not keep the index by change left it, and before a daemon upgrades it,
      // the register cannot tell which NCs changed when: it is listed from the period's end back,
      // through NCs opened in the same millisecond.
      await client.client.del(`${prefix}:ncs:updated`);
      const listed = await readReview(register, january, june);
      expect(listed.months.map((month) => month.opened)).toEqual([300, 450, 0]);
      // The NCs opened after March are not read; those last updated before January are read but not their timelines.
      expect(listed.read).toEqual({ ncs: 790, timelines: 750 });
      expect(await register.upgrade()).toMatchObject({ updated: 820 });

      await client.client.ping();
      client.reset();
      const review = await readReview(register, january, june);
      expect({ ...review, read: listed.read, generatedAt: 0 }).toEqual({ ...listed, generatedAt: 0 });
      // Neither the NCs last changed before January nor those opened after March are read.
      expect(review.read).toEqual({ ncs: 750, timelines: 750 });
      // One command per NC and per timeline, and a few per REVIEW_PAGE: nothing grows faster.
      expect(client.commands()).toBeLessThanOrEqual(750 + 750 + 4 * Math.ceil(750 / REVIEW_PAGE) + 2);
      expect(await register.upgrade()).toMatchObject({ updated: 0 });
    } finally {
      client.client.disconnect();
    }
  }, 120_000);

  it('`recurd report` writes one HTML file that chromium shows without a single request, with the figures of the engine\'s NCs', async () => {
    prefix = testPrefix();
    const { engine, clock, observe } = engineAt();
    const act = async (at: string, id: string, action: Partial<CorrectiveActionInput>): Promise<string> => {
      clock.set(t(at));
      const nc = await engine.recordCorrectiveAction(id, { ...ACTION, rootCauseAnalysis: undefined, actor: 'alice', ...action });
      return nc.correctiveAction?.strength ?? 'none';
    };
    const idOf = async (asset: string): Promise<string> => {
      const ncs = await new RedisRegister(redis.client, prefix, 35 * DAY).listNcs({});
      const id = ncs.find((nc) => nc.asset === asset)?.id;
      if (id === undefined) throw new Error(`no NC on ${asset}`);
      return id;
    };
    const web1: SymptomOf = { family: 'siem', asset: 'srv-web-01', check: 'rule-5710', control: 'A.8.16' };
    const web2: SymptomOf = { family: 'siem', asset: 'srv-web-02', check: 'rule-5710', control: 'A.8.16' };
    const db: SymptomOf = { family: 'backup', asset: 'srv-db-01', check: 'BackupJobFailed', control: 'A.8.13' };
    const laptop: SymptomOf = { family: 'av', asset: 'laptop-17', check: 'EICAR-Test-File' };
    const later: SymptomOf = { family: 'av', asset: 'laptop-18', check: 'EICAR-Test-File' };

    // January: opened, a weak action; February: reopened, a strong action after the five whys;
    // verified effective when its window ends on 5 March (a SIEM rule: by silence).
    await raise(observe, '2025-01-10', [web1]);
    await observe('2025-01-11T00:00:00Z', 'resolved', [web1]);
    expect(await act('2025-01-12T00:00:00Z', await idOf('srv-web-01'), { action: 'restarted sshd on srv-web-01' })).toBe('weak');
    await observe('2025-02-01T00:00:00Z', 'firing', [web1]);
    await observe('2025-02-02T00:00:00Z', 'resolved', [web1]);
    expect(await act('2025-02-03T00:00:00Z', await idOf('srv-web-01'), { action: 'enforced key-only SSH login through the configuration management baseline, with an alert on drift', rootCauseAnalysis: ACTION.rootCauseAnalysis })).toBe('strong');
    // February: opened, then voided in March: it counts as voided only.
    await raise(observe, '2025-02-15', [web2]);
    clock.set(t('2025-03-01T00:00:00Z'));
    await engine.voidNc(await idOf('srv-web-02'), { reason: 'false-positive', note: 'the yearly penetration test' }, 'auditor');
    // March: opened, a weak action due on the 20th, overdue from the 21st.
    await raise(observe, '2025-03-08', [db]);
    await observe('2025-03-09T00:00:00Z', 'resolved', [db]);
    expect(await act('2025-03-10T00:00:00Z', await idOf('srv-db-01'), { action: 're-ran the backup job by hand', dueDate: '2025-03-20' })).toBe('weak');
    clock.set(t('2025-03-25T00:00:00Z'));
    await engine.sweep();
    // April: an NC without a control; July: one after the period.
    await raise(observe, '2025-04-07', [laptop]);
    await raise(observe, '2025-07-07', [later]);
    const states = (await new RedisRegister(redis.client, prefix, 35 * DAY).listNcs({})).map((nc) => [nc.asset, nc.state, nc.overdueSince === null ? null : new Date(nc.overdueSince).toISOString()]);
    expect(states).toEqual([
      ['laptop-18', 'open', null],
      ['laptop-17', 'open', null],
      ['srv-db-01', 'verifying', '2025-03-21T00:00:00.000Z'],
      ['srv-web-02', 'void', null],
      ['srv-web-01', 'closed', null],
    ]);

    const config = join(dir, 'recurd.yaml');
    writeFileSync(
      config,
      ['redis:', '  url: ${REDIS_URL}', `  keyPrefix: '${prefix}'`, 'api:', '  token: ${RECURD_API_TOKEN}', 'connectors:', '  - name: alertmanager', '    type: alertmanager', '    family: backup', '    auth:', '      type: bearer', '      token: ${RECURD_WEBHOOK_TOKEN}', ''].join('\n'),
    );
    const out = join(dir, 'review.html');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', REDIS_URL: redis.url, RECURD_API_TOKEN: 'review-api-token', RECURD_WEBHOOK_TOKEN: 'review-webhook-token' };
    const wrong = await cli(['report', '--out', out, '--from', '2025-07', '--to', '2025-06', '--config', config], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--from: 2025-07 is after 2025-06');
    expect(existsSync(out)).toBe(false);

    const made = await cli(['report', '--out', out, '--from', '2025-01', '--to', '2025-06', '--config', config], env);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout.trim()).toBe(`wrote the management review of 2025-01 to 2025-06 to ${out} (4 NCs read, 4 timelines)`);
    expect(readFileSync(out, 'utf8')).not.toMatch(/https?:\/\//);

    if (!existsSync(CHROMIUM)) {
      // Never skipped in CI: .ci/run installs Debian's chromium.
      expect.fail(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
    }
    const profile = mkdtempSync(join(tmpdir(), 'recurd-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      viewport: { width: 1200, height: 900 },
    });
    try {
      const url = pathToFileURL(out).href;
      const requests: string[] = [];
      const refused: string[] = [];
      await browser.route('**/*', (route) => {
        if (route.request().url() === url) return route.continue();
        refused.push(route.request().url());
        return route.abort();
      });
      const page = await browser.newPage();
      page.on('request', (request) => requests.push(request.url()));
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(url);

      expect(requests).toEqual([url]);
      expect(refused).toEqual([]);
      // A style the CSP refused would be logged here; the table's collapsed borders show the style applied.
      expect(problems).toEqual([]);
      expect(await page.evaluate('getComputedStyle(document.querySelector("table")).borderCollapse')).toBe('collapse');

      expect(await page.locator('.figures div').allInnerTexts()).toEqual([
        'Opened\n3\nNCs raised',
        'Reopened\n1\ncorrective actions proven ineffective',
        'Reopen ratio\n33%\nreopened ÷ opened',
        'Verified effective\n1\nNCs closed on evidence',
        'Mean time to verified effective\n54.0 d\nfrom opened to verified',
        'Voided\n1\nfalse positives, duplicates, test data',
        'Corrective actions\n3\n67% weak, 33% strong',
        'Overdue\n1\nactions past their due date',
      ]);
      const rows = async (table: string): Promise<string[][]> => {
        const found = page.locator('table').filter({ has: page.locator(`caption:text-is("${table}")`) }).locator('tbody tr, tfoot tr');
        return Promise.all((await found.all()).map((row) => row.locator('th, td').allInnerTexts()));
      };
      // Month, opened, reopened, ratio, verified, mean time, voided, weak, strong, weak share, overdue.
      expect(await rows('All controls, per month')).toEqual([
        ['January 2025', '1', '0', '0%', '0', '–', '0', '1', '0', '100%', '0'],
        ['February 2025', '0', '1', '–', '0', '–', '0', '0', '1', '0%', '0'],
        ['March 2025', '1', '0', '0%', '1', '54.0 d', '1', '1', '0', '100%', '1'],
        ['April 2025', '1', '0', '0%', '0', '–', '0', '0', '0', '–', '0'],
        ['May 2025', '0', '0', '–', '0', '–', '0', '0', '0', '–', '0'],
        ['June 2025', '0', '0', '–', '0', '–', '0', '0', '0', '–', '0'],
        ['Period', '3', '1', '33%', '1', '54.0 d', '1', '2', '1', '67%', '1'],
      ]);
      expect((await rows('Period totals per Annex A control')).map((row) => row.slice(0, 4))).toEqual([
        ['A.8.13 Information backup', '1', '0', '0%'],
        ['A.8.16 Monitoring activities', '1', '1', '100%'],
        ['No Annex A control', '1', '0', '0%'],
        ['Period', '3', '1', '33%'],
      ]);
      expect(await page.locator('svg.chart').count()).toBe(3);

      mkdirSync(ARTIFACTS, { recursive: true });
      const screenshot = join(ARTIFACTS, 'review-report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot of the report: ${screenshot}`);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});

/** `node dist/src/cli.js …` with exactly the environment given; its status and output. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
