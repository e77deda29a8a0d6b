/**
 * End-to-end speed of recurd: a daemon (its own process) on a private Redis, alerts sent over HTTP
 * in batches of 100 from this process.
 *   1. throughput: as fast as the daemon takes them; alerts/s from the first request until every
 *      decision is stored (recurd_detect_latency_seconds_count reaches the number sent);
 *   2. latency: a fixed 1,000 alerts/s; p50/p99 of receipt → decision stored, interpolated from
 *      recurd_detect_latency_seconds buckets as Prometheus' histogram_quantile does.
 * Usage: npm run bench [-- --alerts N --seconds S]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startRedis } from '../test/helpers/redis.js';

const { values } = parseArgs({
  options: { alerts: { type: 'string', default: '200000' }, seconds: { type: 'string', default: '20' }, symptoms: { type: 'string', default: '5000' } },
});
const TOTAL = Number(values.alerts);
const LATENCY_SECONDS = Number(values.seconds);
const SYMPTOMS = Number(values.symptoms);
const BATCH = 100;
const IN_FLIGHT = 16;
const TOKEN = 'bench-token';

let sequence = 0;
function batch(): string {
  const now = Date.now();
  const events = Array.from({ length: BATCH }, () => {
    const n = sequence++;
    const symptom = n % SYMPTOMS;
    // Each symptom alternates firing and resolved, so recurrences and NCs happen along the way.
    const round = Math.floor(n / SYMPTOMS);
    return { uid: `e${n}`, state: round % 2 === 0 ? 'bad' : 'good', time: now - 60_000 + round, host: `srv-${symptom % 500}`, rule: `check-${Math.floor(symptom / 500)}` };
  });
  return JSON.stringify({ events });
}

async function decided(base: string): Promise<{ count: number; buckets: Array<[number, number]> }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const count = Number(/^recurd_detect_latency_seconds_count (\S+)/m.exec(text)?.[1] ?? 0);
  const buckets: Array<[number, number]> = [];
  for (const match of text.matchAll(/^recurd_detect_latency_seconds_bucket\{le="([^"]+)"\} (\S+)/gm)) {
    buckets.push([match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]), Number(match[2])]);
  }
  return { count, buckets };
}

function quantile(q: number, before: Array<[number, number]>, after: Array<[number, number]>): number {
  const counts = after.map(([le, total], index) => [le, total - (before[index]?.[1] ?? 0)] as [number, number]);
  const total = counts.at(-1)?.[1] ?? 0;
  const rank = q * total;
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

async function post(base: string, body: string): Promise<void> {
  const response = await fetch(`${base}/hooks/bench`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
  if (response.status !== 202) throw new Error(`intake answered ${response.status}: ${await response.text()}`);
}

async function waitFor(base: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await decided(base)).count < count) {
    if (Date.now() > deadline) throw new Error(`only ${(await decided(base)).count} of ${count} alerts decided after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'recurd-bench-'));
  const port = await freePort();
  const config = join(dir, 'recurd.yaml');
  writeFileSync(
    config,
    [
      `redis: { url: "${redis.url}" }`,
      `http: { host: 127.0.0.1, port: ${port}, bodyLimit: 1mb }`,
      `api: { token: ${TOKEN} }`,
      'log: { level: warn }',
      'connectors:',
      '  - name: bench',
      '    type: webhook',
      '    family: siem',
      `    auth: { type: bearer, token: ${TOKEN} }`,
      '    items: events',
      '    mapping: { id: uid, status: { path: state, map: { bad: firing, good: resolved } }, observedAt: { path: time, unit: ms }, asset: host, check: rule }',
      '',
    ].join('\n'),
  );
  const daemon = spawn(process.execPath, [...(process.env.RECURD_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.RECURD_BENCH_PROFILE] : []), 'dist/src/cli.js', 'start', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let tries = 0; ; tries++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {
        if (tries > 200) throw new Error('recurd did not become ready');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const requests = Math.ceil(TOTAL / BATCH);
    const bodies = Array.from({ length: requests }, batch);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < bodies.length) await post(base, bodies[next++] as string);
      }),
    );
    const accepted = performance.now();
    await waitFor(base, requests * BATCH, 300_000);
    const finished = performance.now();
    const sent = requests * BATCH;
    console.log(`throughput: ${sent} alerts in ${((finished - started) / 1000).toFixed(2)} s`);
    console.log(`  accepted (HTTP 202): ${Math.round(sent / ((accepted - started) / 1000))} alerts/s`);
    console.log(`  end to end (received → decision stored): ${Math.round(sent / ((finished - started) / 1000))} alerts/s`);

    const before = await decided(base);
    const ticks = LATENCY_SECONDS * 10;
    const inFlight: Array<Promise<void>> = [];
    const latencyStarted = performance.now();
    for (let tick = 0; tick < ticks; tick++) {
      // 1,000 alerts/s: one batch of 100 every 100 ms, each tick scheduled from the start to avoid drift.
      const due = latencyStarted + tick * 100;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      inFlight.push(post(base, batch()));
    }
    await Promise.all(inFlight);
    await waitFor(base, before.count + ticks * BATCH, 60_000);
    const after = await decided(base);
    const ms = (seconds: number): string => (seconds * 1000).toFixed(1);
    console.log(`latency at 1,000 alerts/s for ${LATENCY_SECONDS} s (${after.count - before.count} alerts):`);
    console.log(`  p50 ${ms(quantile(0.5, before.buckets, after.buckets))} ms, p99 ${ms(quantile(0.99, before.buckets, after.buckets))} ms (receipt → decision stored)`);
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
