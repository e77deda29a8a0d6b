/**
 * The /metrics page of a running daemon after traffic that moves every recurd metric: the names and
 * label names dashboards and alert rules depend on, their types, and promtool's lint.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { WEBHOOK_TOKEN, api, eventually } from './helpers/daemon.js';
import { daemonSuite } from './helpers/suites.js';
import { requireProgram } from '../bench/programs/installed.js';

/** The issue fixes these names and label names exactly. */
const EXPECTED: Record<string, { type: string; labels: string[] }> = {
  recurd_alerts_received_total: { type: 'counter', labels: ['source', 'family', 'status'] },
  recurd_recurrences_total: { type: 'counter', labels: ['family', 'control'] },
  recurd_nonconformities_opened_total: { type: 'counter', labels: ['family', 'control'] },
  recurd_nonconformities_reopened_total: { type: 'counter', labels: ['family', 'control'] },
  recurd_nonconformities_verified_effective_total: { type: 'counter', labels: ['family', 'control'] },
  recurd_nonconformities: { type: 'gauge', labels: ['state'] },
  recurd_nonconformities_unverifiable: { type: 'gauge', labels: ['family', 'control'] },
  recurd_detect_latency_seconds: { type: 'histogram', labels: [] },
  recurd_queue_jobs: { type: 'gauge', labels: ['queue', 'state'] },
  recurd_redis_up: { type: 'gauge', labels: [] },
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Page {
  types: Map<string, string>;
  samples: Sample[];
}

/** Text exposition format 0.0.4: `# TYPE name type` lines and `name{l="v",...} value` samples. */
function parseExposition(text: string): Page {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`unreadable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

function post(daemon: Daemon, events: Array<{ uid: string; state: 'bad' | 'good'; time: number; rule: string }>): Promise<Response> {
  const body = JSON.stringify({ events: events.map((event) => ({ ...event, time: new Date(event.time).toISOString(), host: 'ws-7' })) });
  const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
  return fetch(`${daemon.address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
}

async function openNcFor(daemon: Daemon, rule: string): Promise<string> {
  return eventually(async () => {
    const { body } = await api<{ nonconformities: Array<{ id: string; check: string }> }>(daemon.address, '/api/v1/nonconformities');
    return body.nonconformities.find((nc) => nc.check === rule)?.id;
  }, 10_000, `an NC for ${rule}`);
}

describe('metrics', () => {
  const suite = daemonSuite();
  const redis = suite.redis;
  let daemon: Daemon | null = null;

  it('exposes every metric the issue names, with its labels and type, and passes promtool', async () => {
    const promtool = requireProgram('promtool', 'prometheus');
    daemon = await suite.start({
      // `verified` and `unverifiable` end their windows quickly so a sweep judges them; `reopened` keeps the default.
      policy: { window: '1h', skew: '0s', checks: { verified: { window: '2s' }, unverifiable: { window: '2s' } } },
      sweep: { schedule: '* * * * * *' },
    });
    const running = daemon;
    const now = Date.now();
    // Each symptom's fire → resolve → fire in one batch: decided in order, before any sweep can intervene.
    const recur = (rule: string) => [
      { uid: `${rule}-1`, state: 'bad' as const, time: now - 30_000, rule },
      { uid: `${rule}-2`, state: 'good' as const, time: now - 29_500, rule },
      { uid: `${rule}-3`, state: 'bad' as const, time: now - 29_000, rule },
    ];
    const rules = ['reopened', 'verified', 'unverifiable'];
    expect((await post(running, rules.flatMap(recur))).status).toBe(202);
    const ncs = await Promise.all(rules.map((rule) => openNcFor(running, rule)));
    // Each check reports healthy again, so that an action recorded now starts its window.
    expect((await post(running, rules.map((rule) => ({ uid: `${rule}-ok`, state: 'good' as const, time: now - 28_000, rule })))).status).toBe(202);
    await eventually(async () => {
      const documents = await Promise.all((await redis.client.keys(`${suite.prefix}:sym:*`)).map((key) => redis.client.hget(key, 'd')));
      const states = documents.map((document) => (JSON.parse(document ?? '{}') as { state?: string }).state);
      return states.length === 3 && states.every((state) => state === 'fixed') ? true : undefined;
    }, 10_000, 'every symptom to be fixed');
    for (const id of ncs) {
      const action = await api(running.address, `/api/v1/nonconformities/${id}/corrective-action`, {
        method: 'POST',
        body: JSON.stringify({ action: 'fix the cause', owner: 'ops' }),
      });
      expect(action.status).toBe(200);
    }
    // Back after the corrective action, inside its window: the action was ineffective. `verified`
    // is seen healthy after its action; `unverifiable` never reports again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(
      (
        await post(running, [
          { uid: 'reopened-4', state: 'bad', time: Date.now(), rule: 'reopened' },
          { uid: 'verified-5', state: 'good', time: Date.now(), rule: 'verified' },
        ])
      ).status,
    ).toBe(202);

    // Wait for the reopen, and for a sweep to judge the other two once their 2 s windows have passed.
    const text = await eventually(async () => {
      const page = await (await fetch(`${running.address}/metrics`)).text();
      return page.includes('recurd_nonconformities_reopened_total{family="av",control=') &&
        page.includes('recurd_nonconformities_verified_effective_total{family="av",control=') &&
        page.includes('recurd_nonconformities_unverifiable{family="av",control=')
        ? page
        : undefined;
    }, 15_000, 'a reopen, a verified-effective close and an unverifiable NC');

    const { types, samples } = parseExposition(text);
    for (const [name, expected] of Object.entries(EXPECTED)) {
      expect(types.get(name), `# TYPE of ${name}`).toBe(expected.type);
      const own = samples.filter((sample) =>
        expected.type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(sample.name) : sample.name === name,
      );
      expect(own.length, `samples of ${name}`).toBeGreaterThan(0);
      for (const sample of own) {
        const labels = Object.keys(sample.labels).sort();
        const wanted = sample.name.endsWith('_bucket') ? [...expected.labels, 'le'].sort() : [...expected.labels].sort();
        expect(labels, `label names of ${sample.name}`).toEqual(wanted);
      }
    }
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))?.value;
    expect(value('recurd_alerts_received_total', { source: 'generic', family: 'av', status: 'firing' })).toBe(7);
    expect(value('recurd_alerts_received_total', { source: 'generic', family: 'av', status: 'resolved' })).toBe(7);
    expect(value('recurd_recurrences_total', { family: 'av' })).toBe(4);
    expect(value('recurd_nonconformities_opened_total', { family: 'av' })).toBe(3);
    expect(value('recurd_nonconformities_reopened_total', { family: 'av' })).toBe(1);
    expect(value('recurd_nonconformities_verified_effective_total', { family: 'av' })).toBe(1);
    expect(value('recurd_nonconformities', { state: 'reopened' })).toBe(1);
    expect(value('recurd_nonconformities', { state: 'closed' })).toBe(1);
    expect(value('recurd_nonconformities', { state: 'verifying' })).toBe(1);
    expect(value('recurd_nonconformities_unverifiable', { family: 'av' })).toBe(1);
    expect(value('recurd_detect_latency_seconds_count', {})).toBeGreaterThanOrEqual(2);
    expect(value('recurd_detect_latency_seconds_bucket', { le: '+Inf' })).toBe(value('recurd_detect_latency_seconds_count', {}));
    for (const queue of ['ingest', 'outbox', 'sweep']) expect(value('recurd_queue_jobs', { queue, state: 'waiting' })).toBeDefined();
    // Default process and Node.js metrics come along.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(types.has(name), name).toBe(true);
    }

    const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
