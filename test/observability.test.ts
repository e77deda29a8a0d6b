/**
 * The Prometheus alert rules and the Grafana dashboard shipped in config/: valid for promtool, and
 * every recurd metric they read is one recurd exports under that name.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.js';
import { requireProgram } from '../bench/programs/installed.js';

const dir = fileURLToPath(new URL('../config/', import.meta.url));
const rules = readFileSync(`${dir}prometheus/recurd-rules.yml`, 'utf8');
const dashboard = JSON.parse(readFileSync(`${dir}grafana/recurd-dashboard.json`, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };

const exported = new Set(
  new Metrics({
    redisUp: () => true,
    countNcsByState: () => Promise.resolve({ open: 0, verifying: 0, reopened: 0, closed: 0, void: 0, 'risk-accepted': 0 }),
    queueJobCounts: () => Promise.resolve({}),
    connectorLastSuccess: () => Promise.resolve({}),
    ncStats: () => Promise.resolve([]),
  }).registry
    .getMetricsAsArray()
    .map((metric) => metric.name),
);

function metricsIn(text: string): string[] {
  return [...text.matchAll(/\brecurd_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, ''));
}

describe('shipped Prometheus rules and Grafana dashboard', () => {
  it('rules pass promtool check and their unit tests', () => {
    const promtool = requireProgram('promtool', 'prometheus');
    execFileSync(promtool, ['check', 'rules', 'recurd-rules.yml'], { cwd: `${dir}prometheus` });
    execFileSync(promtool, ['test', 'rules', 'recurd-rules.test.yml'], { cwd: `${dir}prometheus` });
  });

  it('read only metrics recurd exports', () => {
    const used = [...metricsIn(rules), ...dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricsIn(target.expr)))];
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});

describe('a scrape', () => {
  it('reads the NC register once for every gauge derived from it, and again at the next scrape', async () => {
    let reads = 0;
    const metrics = new Metrics({
      redisUp: () => true,
      countNcsByState: () => Promise.resolve({ open: 0, verifying: 0, reopened: 0, closed: 0, void: 0, 'risk-accepted': 0 }),
      queueJobCounts: () => Promise.resolve({}),
      connectorLastSuccess: () => Promise.resolve({}),
      ncStats: () => {
        reads += 1;
        return Promise.resolve([]);
      },
    });
    await metrics.registry.metrics();
    expect(reads).toBe(1);
    await metrics.registry.metrics();
    expect(reads).toBe(2);
  });
});
