/**
 * recurd beside Prometheus Alertmanager 0.25 on the same load, as users run it: the example config
 * (every shipped detector on), Alertmanager v4 webhook bodies in batches of 100 from 8 clients.
 * For each scenario: recurd's end-to-end alerts/s (first request → every decision stored),
 * Alertmanager's alerts/s for the same alerts (POST /api/v2/alerts), the ratio, and how long
 * recurd's decisions took to catch up after the load ended. Then the latency at a fixed
 * 1,000 alerts/s, and Redis memory after a long run. The aims are printed, never asserted.
 *
 * recurd runs each scenario once for each `--processes` value (pipeline.processes), one after the
 * other in the same run, so that what the second core buys is measured on the same machine state.
 *
 * Usage: npm run bench [-- --only a,b,c,d,e --processes 1,2 --memory-alerts N --seconds S]
 */
import { parseArgs } from 'node:util';
import { startAlertmanager } from './programs/alertmanager.js';
import { RecurdProcess } from './programs/recurd.js';
import { freePort, startRedis, type TestRedis } from './programs/redis.js';
import { batches, postableBody, scenarios, steady, webhookBody, type Scenario } from './scenarios.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'a,b,c,d,e' },
    'memory-alerts': { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '20' },
    processes: { type: 'string', default: '1,2' },
  },
});
const ONLY = new Set(values.only.split(','));
const PROCESSES = values.processes.split(',').map(Number);
const BATCH = 100;
const CLIENTS = 8;
const API_TOKEN = 'bench-api-token';
const WEBHOOK_TOKEN = 'bench-webhook-token';

/** recurd as `npm start` runs it: the example config, its variables from the environment. */
async function startDaemon(redis: TestRedis, processes: number): Promise<RecurdProcess> {
  const port = await freePort();
  const profile = process.env.RECURD_BENCH_PROFILE;
  return RecurdProcess.start({
    config: 'config/recurd.example.yaml',
    port,
    nodeArgs: profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [],
    output: 'inherit',
    env: { ...process.env, REDIS_URL: redis.url, RECURD_PORT: String(port), RECURD_HTTP_HOST: '127.0.0.1', RECURD_API_TOKEN: API_TOKEN, RECURD_WEBHOOK_TOKEN: WEBHOOK_TOKEN, RECURD_LOG_LEVEL: 'error', RECURD_PROCESSES: String(processes) },
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function metric(base: string, pattern: RegExp): Promise<string> {
  return (await (await fetch(`${base}/metrics`)).text()).match(pattern)?.[1] ?? '0';
}

async function decidedCount(base: string): Promise<number> {
  return Number(await metric(base, /^recurd_detect_latency_seconds_count (\S+)/m));
}

async function buckets(base: string): Promise<Array<[number, number]>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(/^recurd_detect_latency_seconds_bucket\{le="([^"]+)"\} (\S+)/gm)].map((match) => [
    match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]),
    Number(match[2]),
  ]);
}

/** histogram_quantile over the difference of two readings of the cumulative buckets. */
function quantile(q: number, before: Array<[number, number]>, after: Array<[number, number]>): number {
  const counts = after.map(([le, total], index) => [le, total - (before[index]?.[1] ?? 0)] as [number, number]);
  const rank = q * (counts.at(-1)?.[1] ?? 0);
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, cumulative] of counts) {
    if (cumulative >= rank) {
      if (!Number.isFinite(le)) return lowerBound;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / Math.max(1, cumulative - lowerCount);
    }
    lowerBound = le;
    lowerCount = cumulative;
  }
  return lowerBound;
}

async function post(url: string, body: string, headers: Record<string, string>, expected: number): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  if (response.status !== expected) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** Every body sent by CLIENTS concurrent clients, each one request at a time; ms taken. */
async function send(bodies: string[], url: string, headers: Record<string, string>, expected: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) await post(url, bodies[next++] as string, headers, expected);
    }),
  );
  return performance.now() - started;
}

async function waitDecided(base: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const decided = await decidedCount(base);
    if (decided >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${decided} of ${count} alerts decided after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** A corrective action on every open NC, through the API as a person would record it. */
async function actOnNcs(base: string): Promise<number> {
  const headers = { authorization: `Bearer ${API_TOKEN}` };
  const list = (await (await fetch(`${base}/api/v1/nonconformities?state=open&limit=10000`, { headers })).json()) as { nonconformities: Array<{ id: string }> };
  const ids = list.nonconformities.map((nc) => nc.id);
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const body = JSON.stringify({ action: 'Replaced the failing disk and added SMART monitoring to the fleet baseline', owner: 'bench', rootCause: 'worn disk' });
        await post(`${base}/api/v1/nonconformities/${id}/corrective-action`, body, headers, 200);
      }
    }),
  );
  return ids.length;
}

const rate = (alerts: number, ms: number): number => Math.round(alerts / (ms / 1000));
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;

interface Row {
  scenario: string;
  recurd: number;
  alertmanager: number;
  catchUpMs: number;
  /** Share of the run's wall time each part spent on a CPU (1.0: one core busy throughout). */
  cpu: { recurd: number; redis: number; load: number } | null;
}

interface CpuReading {
  recurd: number;
  redis: number;
  load: number;
}

/** CPU seconds so far: recurd's (every process, from its metrics), Redis's, and this generator's. */
async function cpuSeconds(base: string, redis: TestRedis): Promise<CpuReading> {
  const info = await redis.client.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? 0);
  const own = process.cpuUsage();
  return {
    recurd: Number(await metric(base, /^process_cpu_seconds_total (\S+)/m)),
    redis: field('used_cpu_user') + field('used_cpu_sys'),
    load: (own.user + own.system) / 1e6,
  };
}

async function alertmanagerRate(scenario: Scenario): Promise<number> {
  const alertmanager = await startAlertmanager(null, '');
  try {
    let ms = 0;
    let alerts = 0;
    for (const phase of scenario.phases) {
      ms += await send(batches(phase.alerts, BATCH).map(postableBody), `${alertmanager.url}/api/v2/alerts`, {}, 200);
      alerts += phase.alerts.length;
    }
    return rate(alerts, ms);
  } finally {
    await alertmanager.stop();
  }
}

/** Redis memory and keys on a fresh Redis, then after the scenario, once its queue has drained. */
async function usedMemory(redis: TestRedis): Promise<number> {
  const info = await redis.client.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
}

/** Keys by kind (the part after the prefix), with their memory estimated from up to 200 of each. */
async function keysByKind(redis: TestRedis): Promise<string> {
  const kinds = new Map<string, { count: number; sampled: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'COUNT', 5000);
    cursor = next;
    for (const key of keys) {
      const name = key.replace(/^\{[^}]*\}:?/, '').split(':')[0] || key;
      const kind = kinds.get(name) ?? { count: 0, sampled: 0, bytes: 0 };
      kind.count += 1;
      if (kind.sampled < 200) {
        kind.sampled += 1;
        kind.bytes += Number(await redis.client.memory('USAGE', key, 'SAMPLES', 0));
      }
      kinds.set(name, kind);
    }
  } while (cursor !== '0');
  const estimate = (kind: { count: number; sampled: number; bytes: number }): number => (kind.bytes / Math.max(1, kind.sampled)) * kind.count;
  return [...kinds]
    .sort((a, b) => estimate(b[1]) - estimate(a[1]))
    .map(([name, kind]) => `${name} ${kind.count} (~${(estimate(kind) / 1024 / 1024).toFixed(1)} MiB)`)
    .join(', ');
}

async function recurdRun(redis: TestRedis, scenario: Scenario, processes: number): Promise<{ row: Row; memory: string | null }> {
  await redis.client.flushall();
  const baseline = await usedMemory(redis);
  const daemon = await startDaemon(redis, processes);
  const hook = `${daemon.base}/hooks/alertmanager`;
  const headers = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
  try {
    let ms = 0;
    let sent = 0;
    let catchUpMs = 0;
    // Over the phases only: the corrective actions recorded between them are not intake.
    const cpu = { recurd: 0, redis: 0, load: 0 };
    for (const phase of scenario.phases) {
      const bodies = batches(phase.alerts, BATCH).map(webhookBody);
      const cpuBefore = await cpuSeconds(daemon.base, redis);
      const started = performance.now();
      await send(bodies, hook, headers, 202);
      const accepted = performance.now();
      sent += phase.alerts.length;
      await waitDecided(daemon.base, sent, 600_000);
      const decided = performance.now();
      const cpuAfter = await cpuSeconds(daemon.base, redis);
      for (const part of ['recurd', 'redis', 'load'] as const) cpu[part] += cpuAfter[part] - cpuBefore[part];
      ms += decided - started;
      catchUpMs = Math.max(catchUpMs, decided - accepted);
      if (phase.thenActOnNcs) console.log(`    (${await actOnNcs(daemon.base)} corrective actions recorded through the API between the phases)`);
    }
    for (const part of ['recurd', 'redis', 'load'] as const) cpu[part] /= ms / 1000;
    let memory: string | null = null;
    if (scenario.key === 'e') {
      await sleep(2000);
      const used = (await usedMemory(redis)) - baseline;
      const keys = await redis.client.dbsize();
      const aims = `aims: ≤ 1 KiB per idle symptom, ≤ 16 B per alert`;
      memory = `Redis used_memory +${(used / 1024 / 1024).toFixed(1)} MiB, ${keys} keys: ${kib(used / scenario.symptoms)} per symptom, ${(used / sent).toFixed(1)} B per alert (${aims})\n    keys: ${await keysByKind(redis)}`;
    }
    return { row: { scenario: `(${scenario.key}) ${scenario.title}${named(processes)}`, recurd: rate(sent, ms), alertmanager: 0, catchUpMs, cpu }, memory };
  } finally {
    await daemon.stop();
  }
}

/** Which run of a scenario a row is, when the bench compares process counts. */
function named(processes: number): string {
  return PROCESSES.length === 1 ? '' : `, ${processes} process${processes === 1 ? '' : 'es'}`;
}

async function latency(redis: TestRedis, seconds: number, processes: number): Promise<string> {
  await redis.client.flushall();
  const daemon = await startDaemon(redis, processes);
  const hook = `${daemon.base}/hooks/alertmanager`;
  const headers = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
  try {
    const bodies = batches(steady(Date.now(), seconds * 1000), BATCH).map(webhookBody);
    const before = await buckets(daemon.base);
    const started = performance.now();
    const inFlight: Array<Promise<void>> = [];
    for (let tick = 0; tick < bodies.length; tick++) {
      // 1,000 alerts/s: a batch of 100 every 100 ms, each scheduled from the start so as not to drift.
      await sleep(Math.max(0, started + tick * 100 - performance.now()));
      inFlight.push(post(hook, bodies[tick] as string, headers, 202));
    }
    await Promise.all(inFlight);
    await waitDecided(daemon.base, bodies.length * BATCH, 60_000);
    const after = await buckets(daemon.base);
    const ms = (value: number): string => (value * 1000).toFixed(1);
    return `(d${named(processes)}) fixed 1,000 alerts/s for ${seconds} s: p50 ${ms(quantile(0.5, before, after))} ms, p99 ${ms(quantile(0.99, before, after))} ms receipt → decision stored (aim: p99 < 100 ms)`;
  } finally {
    await daemon.stop();
  }
}

const HEADER = [
  '| scenario | recurd alerts/s | Alertmanager alerts/s | ratio (aim ≥ 0.5, goal 1.0) | backlog caught up after the load (aim ≤ 2 s) | cores busy: recurd / Redis / load generator |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
];

function rowText(row: Row): string {
  const ratio = row.alertmanager === 0 ? '–' : (row.recurd / row.alertmanager).toFixed(2);
  const cpu = row.cpu === null ? '–' : `${row.cpu.recurd.toFixed(2)} / ${row.cpu.redis.toFixed(2)} / ${row.cpu.load.toFixed(2)}`;
  return `| ${row.scenario} | ${row.recurd} | ${row.alertmanager || '–'} | ${ratio} | ${(row.catchUpMs / 1000).toFixed(2)} s | ${cpu} |`;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const scenario of scenarios(Date.now(), { memoryAlerts: Number(values['memory-alerts']) })) {
      if (!ONLY.has(scenario.key)) continue;
      const alertmanager = scenario.key === 'e' ? 0 : await alertmanagerRate(scenario);
      // Memory depends on what is stored, not on how many processes stored it: measured once.
      for (const processes of scenario.key === 'e' ? PROCESSES.slice(0, 1) : PROCESSES) {
        const { row, memory } = await recurdRun(redis, scenario, processes);
        rows.push({ ...row, alertmanager });
        // Each result as it comes: a long run shows what it has so far.
        console.log(`  ${rowText({ ...row, alertmanager })}`);
        if (memory !== null) notes.push(`(e) ${memory}`);
      }
    }
    if (ONLY.has('d')) {
      const latencies: string[] = [];
      for (const processes of PROCESSES) latencies.push(await latency(redis, Number(values.seconds), processes));
      notes.unshift(...latencies);
    }
  } finally {
    await redis.stop();
  }
  console.log(['', ...HEADER, ...rows.map(rowText), '', ...notes].join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
