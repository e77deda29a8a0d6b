/**
 * recurd under faults, as users run it: `node dist/src/cli.js start` on a generated config, a real
 * redis-server with an append-only file fsynced on every write, Alertmanager v4 and generic webhook
 * bodies sent the way their senders do (a 2xx is accepted; a 503 or no answer is sent again).
 *
 * Each scenario is a fleet of symptoms that fail, are fixed and fail again inside their window:
 * three alerts each, one NC each. Its fault strikes while the load runs; then the register in
 * Redis says how many of the accepted alerts were decided (the observations of their symptoms)
 * and how many NCs were raised. One table row per scenario; the exit status is 1 when anything
 * was lost, an NC count differs, a 5xx came that the fault does not explain, or intake took longer
 * than redis.commandTimeout (plus a margin) to answer while Redis was down.
 *
 * Usage: npm run soak [-- --only 1,2,3,4,5,6 --symptoms 1000 --seconds 12 --outage 6]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { RedisRegister } from '../src/store/redis-register.js';
import { RecurdProcess, type LogLine } from './programs/recurd.js';
import { freePort, startRedis, type TestRedis } from './programs/redis.js';
import { webhookBody, type BenchAlert } from './scenarios.js';
import { NO_ANSWER, TABLE_HEADER, tableRow, verdict, type ScenarioResult } from './soak-report.js';

const USAGE = 'usage: npm run soak [-- --only 1,2,3,4,5,6 --symptoms N (a multiple of 10) --seconds S --outage S]';
const SCENARIO_KEYS = ['1', '2', '3', '4', '5', '6'];

/** The run's options, or a message naming what is wrong with them. */
function soakOptions(argv: string[]): { only: Set<string>; symptoms: number; loadMs: number; outageMs: number } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', default: SCENARIO_KEYS.join(',') },
        symptoms: { type: 'string', default: '1000' },
        seconds: { type: 'string', default: '12' },
        outage: { type: 'string', default: '6' },
      },
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  const only = values.only.split(',').map((key) => key.trim());
  const unknown = only.filter((key) => !SCENARIO_KEYS.includes(key));
  if (unknown.length > 0) return { error: `--only: no scenario ${unknown.join(', ')} (there are ${SCENARIO_KEYS.join(', ')})` };
  const symptoms = Number(values.symptoms);
  if (!Number.isInteger(symptoms) || symptoms < 10 || symptoms % 10 !== 0) return { error: `--symptoms: ${values.symptoms} is not a multiple of 10 of at least 10` };
  const seconds = Number(values.seconds);
  if (!(seconds >= 5)) return { error: `--seconds: ${values.seconds} is not a number of seconds of at least 5` };
  const outage = Number(values.outage);
  if (!(outage > 0 && outage < seconds)) return { error: `--outage: ${values.outage} is not a number of seconds between 0 and --seconds (${seconds})` };
  return { only: new Set(only), symptoms, loadMs: seconds * 1000, outageMs: outage * 1000 };
}

const API_TOKEN = 'soak-api-token';
const WEBHOOK_TOKEN = 'soak-webhook-token';
/** redis.commandTimeout as the config states it, and what an intake answer may take beyond it. */
const REDIS_TIMEOUT_MS = 2000;
const MARGIN_MS = 500;
/** pipeline.stalledAfter: short, so that the batches of a killed daemon are taken up within the run. */
const STALLED_AFTER_MS = 4000;
const MAX_ITEMS = 1000;
/** Symptoms per notification, as Alertmanager groups them. */
const GROUP = 10;
/** Between a group's notifications (firing, resolved, firing again). */
const GAP_MS = 1000;
/** A sender gives up on a notification this long after the load ended. */
const GIVE_UP_MS = 60_000;
/** Waiting for the accepted alerts to be decided, once the senders are done. */
const SETTLE_MS = 120_000;
const MINUTE = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (ms: number): string => new Date(ms).toISOString();

/** A request body and where it goes. */
interface Post {
  connector: string;
  body: string | Buffer;
  headers: Record<string, string>;
}

/** A valid notification: the alerts it carries, as asset and stage of the symptom's story. */
interface Notification extends Post {
  alerts: Array<{ asset: string; key: string }>;
}

/**
 * Symptom `index` of a scenario fails at t0, is fixed (resolved) at t1 and fails again at t2:
 * beyond policy.skew after the fix and inside the 30-day window, so a recurrence and one NC.
 * Four in five symptoms come from Alertmanager, the rest from a generic webhook.
 */
function groups(tag: string, symptoms: number, now: number): Notification[][] {
  const [t0, t1, t2] = [now - 40 * MINUTE, now - 30 * MINUTE, now - 10 * MINUTE];
  const result: Notification[][] = [];
  const bearer = { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` };
  for (let group = 0; group * GROUP < symptoms; group++) {
    const assets = Array.from({ length: GROUP }, (_, index) => `soak-${tag}-${String(group * GROUP + index).padStart(5, '0')}`);
    const keys = (stage: number): Notification['alerts'] => assets.map((asset) => ({ asset, key: `${asset}#${stage}` }));
    if (group % 5 !== 4) {
      const labels = assets.map((asset, index) => ({ alertname: `SoakBackupFailed${group % 7}`, instance: asset, job: 'nightly-backup', severity: index % 3 === 0 ? 'critical' : 'warning' }));
      const stage = (make: (labels: Record<string, string>) => BenchAlert): string => webhookBody(labels.map(make));
      result.push([
        { connector: 'alertmanager', headers: bearer, alerts: keys(0), body: stage((alert) => ({ labels: alert, status: 'firing', startsAt: t0, endsAt: null })) },
        { connector: 'alertmanager', headers: bearer, alerts: keys(1), body: stage((alert) => ({ labels: alert, status: 'resolved', startsAt: t0, endsAt: t1 })) },
        { connector: 'alertmanager', headers: bearer, alerts: keys(2), body: stage((alert) => ({ labels: alert, status: 'firing', startsAt: t2, endsAt: null })) },
      ]);
    } else {
      const stage = (index: number, state: string, at: number): Notification => ({
        connector: 'generic',
        headers: bearer,
        alerts: keys(index),
        body: JSON.stringify({ events: assets.map((asset) => ({ uid: `${asset}-${index}`, state, time: iso(at), host: asset, rule: 'av-signatures-outdated' })) }),
      });
      result.push([stage(0, 'bad', t0), stage(1, 'good', t1), stage(2, 'bad', t2)]);
    }
  }
  return result;
}

/** Objects `depth` deep around a string, as text: JSON.stringify cannot go thousands of levels deep. */
function nested(depth: number): string {
  return `${'{"a":['.repeat(depth)}"x"${']}'.repeat(depth)}`;
}

/** Bodies as broken or hostile senders post them; none carries an alert of the scenario's symptoms. */
function hostile(now: number): Post[] {
  const json = { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` };
  const alert = (asset: string): BenchAlert => ({ labels: { alertname: 'SoakOneOff', instance: asset, job: 'fuzz' }, status: 'firing', startsAt: now - MINUTE, endsAt: null });
  const valid = JSON.parse(webhookBody([alert('soak-fuzz-oneoff')])) as { alerts: Array<Record<string, unknown>> };
  const wrong = (fields: Record<string, unknown>): string => JSON.stringify({ ...valid, alerts: [{ ...valid.alerts[0], ...fields }] });
  return [
    { connector: 'alertmanager', headers: json, body: `{"version":"4","alerts":[${nested(5000)}]}` },
    { connector: 'generic', headers: json, body: `{"events":${nested(2000)}}` },
    { connector: 'alertmanager', headers: json, body: `{"version":"4","alerts":[${'1,'.repeat(10_000)}1]}` },
    { connector: 'alertmanager', headers: json, body: webhookBody(Array.from({ length: MAX_ITEMS + 1 }, (_, index) => alert(`soak-fuzz-bulk-${index}`))) },
    { connector: 'generic', headers: json, body: `{"events":[${'0'.repeat(1_100_000)}]}` },
    { connector: 'alertmanager', headers: json, body: JSON.stringify({ ...valid, alerts: 'all of them' }) },
    { connector: 'alertmanager', headers: json, body: wrong({ labels: 5, startsAt: 12, status: 'maybe' }) },
    { connector: 'alertmanager', headers: json, body: wrong({ startsAt: '0001-01-01T00:00:00Z', annotations: [null] }) },
    { connector: 'generic', headers: json, body: JSON.stringify({ events: { uid: 1 } }) },
    { connector: 'generic', headers: json, body: JSON.stringify({ events: [{ uid: [], state: 'unknown', time: {}, host: null, rule: 7 }] }) },
    { connector: 'alertmanager', headers: json, body: '{"version":"4","alerts":[{"status":"firing","labels":{' },
    { connector: 'generic', headers: json, body: Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]) },
    { connector: 'alertmanager', headers: json, body: '' },
    { connector: 'alertmanager', headers: { ...json, 'content-type': 'text/plain' }, body: 'nightly backup of srv-db-01 failed' },
    { connector: 'generic', headers: { ...json, 'content-type': 'application/x-www-form-urlencoded' }, body: 'uid=1&state=bad&host=srv-db-01' },
    { connector: 'alertmanager', headers: { ...json, 'content-type': 'application/xml' }, body: '<alerts><alert status="firing"/></alerts>' },
    { connector: 'alertmanager', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) },
    { connector: 'generic', headers: { ...json, authorization: 'Bearer not-the-token' }, body: JSON.stringify(valid) },
    { connector: 'no-such-connector', headers: json, body: JSON.stringify(valid) },
  ];
}

/** Every request of a scenario: its answers by status, and when each was made and answered. */
class Traffic {
  readonly statuses: Record<string, number> = {};
  private readonly spans: Array<[number, number]> = [];
  /** When Redis was down or frozen: from the fault until it answered again. */
  readonly redisDown: Array<[number, number]> = [];

  constructor(private readonly base: string) {}

  async post(post: Post): Promise<{ status: number | null; message: string }> {
    const started = performance.now();
    let status: number | null = null;
    let message = '';
    try {
      const response = await fetch(`${this.base}/hooks/${post.connector}`, { method: 'POST', headers: post.headers, body: post.body, signal: AbortSignal.timeout(30_000) });
      status = response.status;
      message = await response.text();
    } catch (error) {
      message = (error as Error).message;
    }
    this.spans.push([started, performance.now()]);
    let answer = status === null ? NO_ANSWER : String(status);
    if (status !== null && status >= 500) answer += ` ${/"code":"(RECURD_ERR_[A-Z_]+)"/.exec(message)?.[1] ?? '(no error code)'}`;
    this.statuses[answer] = (this.statuses[answer] ?? 0) + 1;
    return { status, message };
  }

  longest(): number {
    return Math.max(0, ...this.spans.map(([from, to]) => to - from));
  }

  /** The longest answer to a request that was open while Redis was down; null if it never was. */
  longestWhileRedisDown(): number | null {
    if (this.redisDown.length === 0) return null;
    const overlapping = this.spans.filter(([from, to]) => this.redisDown.some(([down, up]) => from < up && to > down));
    return Math.max(0, ...overlapping.map(([from, to]) => to - from));
  }
}

interface Run {
  redis: TestRedis;
  dir: string;
  daemons: RecurdProcess[];
}

/** What a scenario's fault works with. */
interface FaultContext {
  run: Run;
  traffic: Traffic;
  ingest: Queue;
  outageMs: number;
  /** The daemon answering now. */
  daemon: () => RecurdProcess;
  startDaemon: () => Promise<RecurdProcess>;
  problems: string[];
  notes: string[];
}

interface Scenario {
  key: string;
  title: string;
  /** How many times each notification is sent, at once. */
  copies: number;
  hostile: boolean;
  expected5xx: string[];
  fault(context: FaultContext): Promise<void>;
}

const noFault = (): Promise<void> => Promise.resolve();

const SCENARIOS: Scenario[] = [
  {
    key: '1',
    title: 'kill -9 of the daemon under load, then start again',
    copies: 1,
    hostile: false,
    expected5xx: [],
    async fault({ daemon, startDaemon, ingest, notes }) {
      // Killed while it decides: batches held by the dead worker must be taken up by the next one.
      const deadline = Date.now() + 3000;
      while (((await ingest.getJobCounts('active')).active ?? 0) === 0 && Date.now() < deadline) await sleep(10);
      const held = (await ingest.getJobCounts('active')).active ?? 0;
      await daemon().stop('SIGKILL');
      notes.push(`killed with ${held} batch(es) being decided`);
      await startDaemon();
    },
  },
  {
    key: '2',
    title: 'Redis restart (SHUTDOWN, start from its AOF) under load',
    copies: 1,
    hostile: false,
    expected5xx: ['503 RECURD_ERR_REDIS_UNREACHABLE'],
    async fault({ run, traffic }) {
      const down = performance.now();
      await run.redis.restart();
      traffic.redisDown.push([down, performance.now()]);
    },
  },
  {
    key: '3',
    title: 'Redis outage (SIGSTOP for --outage seconds, then SIGCONT) under load',
    copies: 1,
    hostile: false,
    expected5xx: ['503 RECURD_ERR_REDIS_UNREACHABLE'],
    async fault({ run, traffic, outageMs }) {
      const down = performance.now();
      run.redis.freeze();
      try {
        await sleep(outageMs);
      } finally {
        run.redis.thaw();
      }
      traffic.redisDown.push([down, performance.now()]);
    },
  },
  { key: '4', title: 'duplicate storm: each notification sent 3 times at once', copies: 3, hostile: false, expected5xx: [], fault: noFault },
  { key: '5', title: 'fuzz: malformed and hostile bodies among the valid ones', copies: 1, hostile: true, expected5xx: [], fault: noFault },
  {
    key: '6',
    title: 'SIGTERM under load (graceful stop), then start again',
    copies: 1,
    hostile: false,
    expected5xx: ['503 RECURD_ERR_NOT_READY'],
    async fault({ daemon, startDaemon, problems, notes }) {
      const started = performance.now();
      const exit = await daemon().stop('SIGTERM');
      notes.push(`stopped in ${Math.round(performance.now() - started)} ms`);
      if (exit.code !== 0) problems.push(`recurd exited with ${exit.code ?? exit.signal} on SIGTERM, not 0`);
      await startDaemon();
    },
  },
];

function configFile(run: Run, key: string, port: number): { path: string; prefix: string } {
  const prefix = `{soak-${key}}`;
  const path = join(run.dir, `recurd-${key}.yaml`);
  const bearer = { type: 'bearer', token: WEBHOOK_TOKEN };
  writeFileSync(
    path,
    stringify({
      redis: { url: run.redis.url, keyPrefix: prefix, commandTimeout: `${REDIS_TIMEOUT_MS}ms` },
      http: { host: '127.0.0.1', port, maxItems: MAX_ITEMS },
      api: { token: API_TOKEN },
      log: { level: 'info' },
      pipeline: { stalledAfter: `${STALLED_AFTER_MS}ms`, shutdownTimeout: '15s' },
      connectors: [
        { name: 'alertmanager', type: 'alertmanager', family: 'backup', control: 'A.8.13', auth: bearer },
        {
          name: 'generic',
          type: 'webhook',
          family: 'av',
          control: 'A.8.7',
          auth: bearer,
          items: 'events',
          mapping: { id: 'uid', status: { path: 'state', map: { bad: 'firing', good: 'resolved' } }, observedAt: 'time', asset: 'host', check: 'rule' },
        },
      ],
    }),
  );
  return { path, prefix };
}

/** Observations of each of the scenario's symptoms, by asset, as the register in Redis holds them. */
async function observations(register: RedisRegister, redis: TestRedis): Promise<Map<string, number>> {
  const start = register.keys.symptom('');
  const fingerprints: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${start.replace(/[{}[\]*?\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    fingerprints.push(...keys.map((key) => key.slice(start.length)));
  } while (cursor !== '0');
  const byAsset = new Map<string, number>();
  for (let from = 0; from < fingerprints.length; from += 500) {
    const { symptoms } = await register.load(fingerprints.slice(from, from + 500));
    for (const { symptom } of symptoms.values()) if (symptom !== null) byAsset.set(symptom.asset, symptom.observations);
  }
  return byAsset;
}

/** The error-level lines of the scenario's daemons, by message, with how often each came. */
function errorLines(daemons: RecurdProcess[]): string[] {
  const counts = new Map<string, number>();
  for (const line of daemons.flatMap((daemon) => daemon.logs()).filter((line: LogLine) => line.level >= 50)) {
    counts.set(line.msg, (counts.get(line.msg) ?? 0) + 1);
  }
  return [...counts].map(([msg, count]) => `"${msg}" ×${count}`);
}

async function runScenario(run: Run, scenario: Scenario, options: { symptoms: number; loadMs: number; outageMs: number }): Promise<{ result: ScenarioResult; notes: string[] }> {
  const port = await freePort();
  const { path, prefix } = configFile(run, scenario.key, port);
  const mine: RecurdProcess[] = [];
  const startDaemon = async (): Promise<RecurdProcess> => {
    const daemon = await RecurdProcess.start({ config: path, port, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, output: 'capture' });
    mine.push(daemon);
    run.daemons.push(daemon);
    return daemon;
  };
  await startDaemon();
  const traffic = new Traffic(`http://127.0.0.1:${port}`);
  const ingest = new Queue('ingest', { connection: run.redis.client, prefix });
  const register = new RedisRegister(run.redis.client, prefix, 35 * 24 * 3600_000);
  const problems: string[] = [];
  const notes: string[] = [];
  try {
    const chains = groups(scenario.key, options.symptoms, Date.now());
    const sent = new Map<string, number>();
    const acceptedKeys = new Set<string>();
    const refused = new Map<string, number>();
    for (const alert of chains.flat(2).flatMap((notification) => notification.alerts)) sent.set(alert.asset, (sent.get(alert.asset) ?? 0) + 1);

    const loadStarted = performance.now();
    const giveUpAt = loadStarted + options.loadMs + GIVE_UP_MS;
    /** Sends until a 2xx, as Alertmanager does: a 503 or no answer is sent again after a backoff. */
    const deliver = async (notification: Notification): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        const { status, message } = await traffic.post(notification);
        if (status !== null && status < 300) {
          for (const alert of notification.alerts) acceptedKeys.add(alert.key);
          return;
        }
        if ((status !== null && status !== 503) || performance.now() > giveUpAt) {
          const why = `${status ?? NO_ANSWER}: ${message.slice(0, 200)}`;
          refused.set(why, (refused.get(why) ?? 0) + 1);
          return;
        }
        await sleep(Math.min(100 * 2 ** attempt, 2000) * (0.5 + Math.random() / 2));
      }
    };
    const spread = Math.max(0, options.loadMs - 2 * GAP_MS) / chains.length;
    const senders = chains.map(async (chain, index) => {
      await sleep(index * spread);
      for (const [stage, notification] of chain.entries()) {
        if (stage > 0) await sleep(GAP_MS);
        await Promise.all(Array.from({ length: scenario.copies }, () => deliver(notification)));
      }
    });
    let loading = true;
    const fuzz = (async () => {
      if (!scenario.hostile) return;
      const bodies = hostile(Date.now());
      for (let index = 0; loading; index++) {
        await traffic.post(bodies[index % bodies.length] as Post);
        await sleep(20);
      }
    })();
    const fault = (async () => {
      await sleep(options.loadMs * 0.4);
      await scenario.fault({ run, traffic, ingest, outageMs: options.outageMs, daemon: () => mine.at(-1) as RecurdProcess, startDaemon, problems, notes });
    })();
    try {
      await Promise.all([...senders, fault]);
    } finally {
      loading = false;
      await fuzz;
    }
    for (const [why, count] of refused) problems.push(`a valid notification was answered ${why} (×${count})`);

    const acceptedBy = new Map<string, number>();
    for (const key of acceptedKeys) {
      const asset = key.slice(0, key.lastIndexOf('#'));
      acceptedBy.set(asset, (acceptedBy.get(asset) ?? 0) + 1);
    }
    const tally = (observed: Map<string, number>): { decided: number; extra: number } => {
      let decided = 0;
      let extra = 0;
      for (const [asset, count] of acceptedBy) decided += Math.min(count, observed.get(asset) ?? 0);
      for (const [asset, count] of sent) extra += Math.max(0, (observed.get(asset) ?? 0) - count);
      return { decided, extra };
    };
    // Until every accepted alert is decided, or the queue has stood idle with nothing new decided.
    const settleBy = performance.now() + SETTLE_MS;
    let decided = tally(await observations(register, run.redis));
    let idleSince = performance.now();
    while (decided.decided < acceptedKeys.size && performance.now() < settleBy) {
      await sleep(250);
      const now = tally(await observations(register, run.redis));
      const counts = await ingest.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const pending = Object.values(counts).reduce((sum, count) => sum + count, 0);
      if (now.decided !== decided.decided || pending > 0) idleSince = performance.now();
      decided = now;
      if (performance.now() - idleSince > 2 * STALLED_AFTER_MS) break;
    }
    const observed = await observations(register, run.redis);
    const twice = [...sent].filter(([asset, count]) => (observed.get(asset) ?? 0) > count).map(([asset]) => asset);
    if (twice.length > 0) notes.push(`more observations than alerts sent on ${twice.length} symptom(s): ${twice.slice(0, 5).join(', ')}${twice.length > 5 ? ', …' : ''}`);
    const failed = (await ingest.getJobCounts('failed')).failed ?? 0;
    if (failed > 0) problems.push(`${failed} ingest batch(es) failed for good (kept in the failed set)`);
    const ncs = (await register.listNcs({})).filter((nc) => nc.asset.startsWith(`soak-${scenario.key}-`));
    const errors = errorLines(mine);
    if (errors.length > 0) notes.push(`logged at error: ${errors.join(', ')}`);
    return {
      result: {
        scenario: `(${scenario.key}) ${scenario.title}`,
        accepted: acceptedKeys.size,
        decided: decided.decided,
        unaccepted: [...sent.values()].reduce((sum, count) => sum + count, 0) - acceptedKeys.size,
        extra: decided.extra,
        ncsExpected: options.symptoms,
        ncsFound: ncs.length,
        statuses: traffic.statuses,
        expected5xx: scenario.expected5xx,
        longestMs: traffic.longest(),
        longestWhileRedisDownMs: traffic.longestWhileRedisDown(),
        problems,
      },
      notes,
    };
  } finally {
    await ingest.close();
    for (const daemon of mine) {
      const exit = await daemon.stop('SIGTERM');
      if (daemon === mine.at(-1) && exit.code !== 0) problems.push(`recurd exited with ${exit.code ?? exit.signal} when the scenario ended`);
    }
  }
}

async function main(): Promise<number> {
  const options = soakOptions(process.argv.slice(2));
  if ('error' in options) {
    console.error(`${options.error}\n${USAGE}`);
    return 2;
  }
  const run: Run = { redis: await startRedis({ appendOnly: true, fsyncAlways: true }), dir: mkdtempSync(join(tmpdir(), 'recurd-soak-')), daemons: [] };
  // Whatever ends the run, the processes it started end with it (by their PIDs) and its files go.
  let cleaned: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await Promise.all(run.daemons.map((daemon) => daemon.stop('SIGKILL')));
      await run.redis.stop();
      rmSync(run.dir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the daemons and Redis this run started`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const rows: string[] = [];
  const notes: string[] = [];
  let failed = false;
  console.log(
    `soak: ${options.symptoms} symptoms per scenario (3 alerts each: failing, fixed, failing again → 1 NC each), load over ${options.loadMs / 1000} s, ` +
      `redis.commandTimeout ${REDIS_TIMEOUT_MS} ms, pipeline.stalledAfter ${STALLED_AFTER_MS} ms, Redis with appendfsync always`,
  );
  try {
    for (const scenario of SCENARIOS.filter((candidate) => options.only.has(candidate.key))) {
      const started = performance.now();
      const { result, notes: found } = await runScenario(run, scenario, options);
      const row = tableRow(result, REDIS_TIMEOUT_MS, MARGIN_MS);
      failed ||= verdict(result, REDIS_TIMEOUT_MS, MARGIN_MS).length > 0;
      rows.push(row);
      notes.push(...found.map((note) => `(${scenario.key}) ${note}`));
      // Each result as it comes: a long run shows what it has so far.
      console.log(`  ${row} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await cleanup();
  }
  console.log(['', ...TABLE_HEADER, ...rows, '', ...notes].join('\n'));
  return failed ? 1 : 0;
}

main().then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
