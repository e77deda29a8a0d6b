/** The detectors beyond recurrence, as timelines over the real engine with their YAML configs. */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { createDetectors } from '../detectors/registry.js';
import type { Symptom } from '../src/core/types.js';
import { DAY, HOUR, MINUTE, timeline, type Timeline } from './helpers/timeline.js';

const T0 = Date.parse('2026-03-02T00:00:00Z');

/** Detectors as an admin writes them, validated by the config schema. */
function withDetectors(detectors: unknown[]): Timeline {
  const config = configSchema.parse({ redis: { url: 'redis://127.0.0.1:1' }, api: { token: 't' }, detectors });
  return timeline({ detectors: createDetectors(config.detectors) });
}

describe('chronic', () => {
  const detectors = [{ type: 'recurrence', name: 'recurrence' }, { type: 'chronic', name: 'chronic', occurrences: 3, within: '1h' }];

  it('raises an NC on the Nth firing within T with no fix', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire();
    await t.at(T0 + 20 * MINUTE).fire();
    expect(t.ncs()).toHaveLength(0);
    await t.at(T0 + 40 * MINUTE).fire();
    const [nc] = t.ncs();
    expect(nc).toMatchObject({ detector: 'chronic', state: 'open', occurrences: 3 });
    expect(nc?.reason).toMatch(/^chronic: fired 3 times within 1h/);
    // More firings in the same episode raise nothing more.
    await t.at(T0 + 50 * MINUTE).fire();
    expect(t.ncs()).toHaveLength(1);
  });

  it('raises nothing when the firings spread over more than T', async () => {
    const t = withDetectors(detectors);
    for (const hours of [0, 1, 2, 3]) await t.at(T0 + hours * HOUR).fire();
    expect(t.ncs()).toHaveLength(0);
  });

  it('watches only what its match filter takes', async () => {
    const t = withDetectors([{ type: 'chronic', name: 'chronic-backups', occurrences: 2, within: '1h', match: { family: 'backup' } }]);
    await t.at(T0).fire();
    await t.at(T0 + MINUTE).fire();
    expect(t.ncs()).toHaveLength(0);
  });
});

describe('flapping', () => {
  const detectors = [{ type: 'recurrence', name: 'recurrence' }, { type: 'flapping', name: 'flapping', cycles: 3, within: '1h' }];

  async function cycle(t: Timeline, at: number): Promise<string> {
    await t.at(at + 5 * MINUTE).resolve();
    // Ten minutes after the fix: past the default skew of five.
    return t.at(at + 15 * MINUTE).fire();
  }

  it('absorbs K fire/resolve cycles within T into one NC instead of reopening it each time', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire();
    expect(await cycle(t, T0)).toBe('recurrence');
    expect(await cycle(t, T0 + 15 * MINUTE)).toBe('recurrence');
    expect(await cycle(t, T0 + 30 * MINUTE)).toBe('flapping');
    const [nc] = t.ncs();
    expect(nc).toMatchObject({ flapping: true, state: 'open' });
    await t.at(T0 + 46 * MINUTE).correctiveAction(nc?.id as string);
    // While it flaps, a return is noise: the corrective action is not proven ineffective by it.
    expect(await cycle(t, T0 + 47 * MINUTE)).toBe('flapping');
    expect(t.ncs()).toHaveLength(1);
    expect(t.nc(nc?.id as string)).toMatchObject({ state: 'verifying', reopenCount: 0 });
    // Recorded while it fired: the window started at the next resolve.
    expect(t.entries(nc?.id as string).map((entry) => entry.type)).toEqual(['raised', 'occurrence', 'flapping', 'corrective-action', 'window-started']);
  });

  it('raises one flapping NC when the symptom had none', async () => {
    const t = withDetectors([{ type: 'flapping', name: 'flapping', cycles: 2, within: '1h' }]);
    await t.at(T0).fire();
    expect(await cycle(t, T0)).toBe('episode');
    expect(await cycle(t, T0 + 15 * MINUTE)).toBe('flapping');
    expect(t.ncs()).toEqual([expect.objectContaining({ detector: 'flapping', flapping: true })]);
  });

  it('keeps its fix times in its own part of the symptom, and reads those an earlier version kept in the record', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire();
    expect(await cycle(t, T0)).toBe('recurrence');
    expect(await cycle(t, T0 + 15 * MINUTE)).toBe('recurrence');
    const symptom = t.symptom() as Symptom & Record<string, unknown>;
    const fixes = [T0 + 5 * MINUTE, T0 + 20 * MINUTE];
    expect(symptom.detectors).toEqual({ flapping: { fixes } });
    // As a record written before detectors.<name> existed: the fix times in the record itself.
    symptom.recentFixes = fixes;
    symptom.recentFirings = [T0 + 30 * MINUTE];
    symptom.detectors = {};
    expect(await cycle(t, T0 + 30 * MINUTE)).toBe('flapping');
    const after = t.symptom() as Symptom & Record<string, unknown>;
    expect(after.detectors).toEqual({ flapping: { fixes: [...fixes, T0 + 35 * MINUTE] } });
    expect(after).not.toHaveProperty('recentFixes');
  });

  it('leaves slow cycles to the recurrence detector', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire();
    for (const day of [1, 2, 3, 4]) expect(await cycle(t, T0 + day * DAY)).toBe('recurrence');
    expect(t.ncs()[0]).toMatchObject({ detector: 'recurrence', flapping: false });
  });
});

describe('absence', () => {
  const detectors = [{ type: 'recurrence', name: 'recurrence' }, { type: 'absence', name: 'missing-backup', period: '26h', match: { check: 'nightly-*' } }];

  it('raises an NC when a watched symptom stops reporting for longer than its period', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).resolve({ check: 'nightly-db' });
    await t.at(T0).fire({ check: 'nightly-db' });
    await t.at(T0 + HOUR).resolve({ check: 'nightly-db' });
    await t.at(T0 + 26 * HOUR).tick();
    expect(t.ncs()).toHaveLength(0);
    await t.at(T0 + 27 * HOUR + MINUTE).tick();
    const [nc] = t.ncs();
    // Opened when recurd decided it; the timeline says when the report was missed.
    expect(nc).toMatchObject({ detector: 'missing-backup', occurrences: 1, openedAt: T0 + 27 * HOUR + MINUTE });
    expect(t.entries(nc?.id ?? '')[0]).toMatchObject({ type: 'raised', at: T0 + 27 * HOUR });
    expect(nc?.reason).toContain('has not reported for 1d2h');
    // Silent on: no second NC, and a report ends the absence.
    await t.at(T0 + 80 * HOUR).tick();
    expect(t.ncs()).toHaveLength(1);
    await t.at(T0 + 81 * HOUR).resolve({ check: 'nightly-db' });
    expect(t.symptom({ check: 'nightly-db' })?.detectors['missing-backup']).toEqual({ silentAfter: T0 + HOUR });
    // Silent again a period after that report: one more occurrence on the same NC.
    await t.at(T0 + 106 * HOUR).tick();
    expect(t.ncs()[0]?.occurrences).toBe(1);
    await t.at(T0 + 108 * HOUR).tick();
    expect(t.ncs()).toEqual([expect.objectContaining({ occurrences: 2 })]);
  });

  it('leaves symptoms its filter does not take alone', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire({ check: 'weekly-archive' });
    await t.at(T0 + 10 * DAY).tick();
    expect(t.ncs().filter((nc) => nc.detector === 'missing-backup')).toHaveLength(0);
  });
});

describe('spread', () => {
  const detectors = [{ type: 'recurrence', name: 'recurrence' }, { type: 'spread', name: 'systemic', assets: 3, within: '1h' }];

  it('raises one systemic NC listing the assets when one check fails on M assets within T', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire({ asset: 'ws-1' });
    await t.at(T0 + 10 * MINUTE).fire({ asset: 'ws-2' });
    expect(t.ncs()).toHaveLength(0);
    await t.at(T0 + 20 * MINUTE).fire({ asset: 'ws-3' });
    const [nc] = t.ncs();
    expect(nc).toMatchObject({ detector: 'systemic', assets: ['ws-1', 'ws-2', 'ws-3'], occurrences: 3, asset: '' });
    await t.at(T0 + 30 * MINUTE).fire({ asset: 'ws-4' });
    expect(t.ncs()).toHaveLength(1);
    expect(t.nc(nc?.id as string).assets).toEqual(['ws-1', 'ws-2', 'ws-3', 'ws-4']);
    // The per-asset symptoms go on as usual beside it.
    expect(t.symptom({ asset: 'ws-1' })?.state).toBe('active');
  });

  it('counts only failures within T, and each asset once', async () => {
    const t = withDetectors(detectors);
    await t.at(T0).fire({ asset: 'ws-1' });
    await t.at(T0 + 5 * MINUTE).fire({ asset: 'ws-1' });
    await t.at(T0 + 2 * HOUR).fire({ asset: 'ws-2' });
    await t.at(T0 + 2 * HOUR + MINUTE).fire({ asset: 'ws-3' });
    expect(t.ncs()).toHaveLength(0);
  });

  it('reopens the systemic NC when the spread returns after its corrective action', async () => {
    const t = withDetectors(detectors);
    for (const [index, asset] of ['ws-1', 'ws-2', 'ws-3'].entries()) await t.at(T0 + index * MINUTE).fire({ asset });
    const id = t.ncs()[0]?.id as string;
    await t.at(T0 + HOUR).correctiveAction(id);
    for (const [index, asset] of ['ws-5', 'ws-6', 'ws-7'].entries()) await t.at(T0 + 2 * HOUR + index * MINUTE).fire({ asset });
    expect(t.nc(id)).toMatchObject({ state: 'reopened', reopenCount: 1 });
  });
});

describe('detectors config', () => {
  it('defaults to the recurrence detector alone, and refuses unknown types and duplicate names', () => {
    const base = { redis: { url: 'redis://127.0.0.1:1' }, api: { token: 't' } };
    expect(configSchema.parse(base).detectors).toEqual([{ type: 'recurrence', name: 'recurrence', match: {} }]);
    expect(configSchema.safeParse({ ...base, detectors: [{ type: 'psychic', name: 'x' }] }).success).toBe(false);
    const twice = configSchema.safeParse({ ...base, detectors: [{ type: 'recurrence', name: 'r' }, { type: 'chronic', name: 'r', occurrences: 3, within: '1h' }] });
    expect(twice.success).toBe(false);
  });
});

describe('corrective-action quality', () => {
  async function reopened(t: Timeline): Promise<string> {
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await t.at(T0 + 2 * HOUR).fire();
    const id = t.ncs()[0]?.id as string;
    await t.at(T0 + 3 * HOUR).correctiveAction(id, { action: 'Restarted the backup agent', rootCauseAnalysis: undefined });
    await t.at(T0 + 4 * HOUR).resolve();
    await t.at(T0 + 5 * HOUR).fire();
    return id;
  }

  it('classifies the recorded action and says so when a weak one is proven ineffective', async () => {
    const t = timeline();
    const id = await reopened(t);
    const nc = t.nc(id);
    expect(nc.state).toBe('reopened');
    expect(nc.correctiveAction).toMatchObject({ strength: 'weak', rootCauseAnalysis: null });
    const reopen = t.entries(id).find((entry) => entry.type === 'reopened');
    expect(String(reopen?.detail.note)).toMatch(/weak/);
    const event = t.register.events.find((candidate) => candidate.type === 'nc.reopened');
    expect(event?.nc.correctiveAction?.strength).toBe('weak');
  });

  it('refuses a new action on a reopened NC until the five whys and a cause category are given, naming what is missing', async () => {
    const t = timeline();
    const id = await reopened(t);
    const attempt = t.at(T0 + 6 * HOUR).correctiveAction(id, {
      action: 'Automated the backup check and added an alert on failure',
      rootCauseAnalysis: { whys: ['a', 'b', 'c', ' '], category: undefined },
    });
    await expect(attempt).rejects.toMatchObject({ code: 'RECURD_ERR_ROOT_CAUSE_ANALYSIS_REQUIRED' });
    await expect(attempt).rejects.toThrow(/whys\[3\] \(the 4th why\) is empty/);
    await expect(attempt).rejects.toThrow(/category is missing/);
    const recorded = await t.at(T0 + 7 * HOUR).correctiveAction(id, { action: 'Automated the backup check and added an alert on failure' });
    expect(recorded.correctiveAction).toMatchObject({ strength: 'strong', rootCauseAnalysis: { category: 'governance-ownership' } });
    expect(recorded.state).toBe('verifying');
  });
});

describe('elsewhere (clause 10.2 b)', () => {
  it('lists the same check on other assets on an NC when it is raised', async () => {
    const t = timeline();
    await t.at(T0).fire({ asset: 'ws-2' });
    await t.at(T0).fire({ asset: 'ws-3' });
    await t.at(T0).fire({ asset: 'ws-1' });
    await t.at(T0 + HOUR).resolve({ asset: 'ws-1' });
    await t.at(T0 + 2 * HOUR).fire({ asset: 'ws-1' });
    const [nc] = t.ncs();
    expect(nc?.elsewhere.map((similar) => [similar.asset, similar.state]).sort()).toEqual([
      ['ws-2', 'active'],
      ['ws-3', 'active'],
    ]);
  });
});
