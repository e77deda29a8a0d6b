/**
 * "Verified effective" needs evidence (issue "Closure that proves the quiet"): timelines on the
 * pure core for each rule, with a backup job (verified by evidence) and a SIEM rule (by silence).
 */
import { describe, expect, it } from 'vitest';
import { compileMatch } from '../../src/core/match.js';
import type { Policy } from '../../src/core/policy.js';
import { DAY, HOUR, MINUTE, ms, timeline, type Timeline } from '../helpers/timeline.js';

const T0 = ms('2026-03-02T02:00Z');
const iso = (at: number): string => new Date(at).toISOString();
const BACKUP = { source: 'restic', family: 'backup', check: 'nightly-backup', asset: 'srv-db-01', control: 'A.8.13', message: 'nightly backup failed' } as const;

/** A nightly backup that failed, succeeded, then failed again: NC-2026-0001 is open and the job still failing. */
async function backupNc(t: Timeline): Promise<string> {
  await t.at(T0).fire(BACKUP);
  await t.at(T0 + DAY).resolve(BACKUP);
  await t.at(T0 + 2 * DAY).fire({ ...BACKUP, id: 'proof' });
  return 'NC-2026-0001';
}

/** One success report a night, from `from` to `to` (event times). */
async function nightlySuccesses(t: Timeline, from: number, to: number): Promise<void> {
  for (let at = from; at <= to; at += DAY) await t.at(at).resolve(BACKUP);
}

const types = (t: Timeline, id: string): string[] => t.entries(id).map((entry) => entry.type);

describe('an action recorded while the symptom fires', () => {
  it('starts no window: the NC waits for the symptom to clear, and repeats of the firing keep it waiting', async () => {
    const t = timeline();
    const id = await backupNc(t);
    const nc = await t.at(T0 + 2 * DAY + HOUR).correctiveAction(id);
    expect(nc).toMatchObject({ state: 'verifying', windowStartsAt: null, windowEndsAt: null, verification: { by: 'evidence', waitingFor: 'clear' } });
    expect(t.entries(id)[1]?.detail).toMatchObject({ windowStartsAt: null, waitingFor: expect.stringContaining('firing') as string });
    // Alertmanager repeats the firing state: a duplicate, but a report that it persists.
    for (let at = T0 + 3 * DAY; at < T0 + 60 * DAY; at += 4 * HOUR) expect(await t.at(at).fire({ ...BACKUP, id: 'proof', observedAt: T0 + 2 * DAY })).toBe('duplicate');
    await t.at(T0 + 60 * DAY).tick();
    expect(t.nc(id)).toMatchObject({ state: 'verifying', windowStartsAt: null });
    expect(t.symptom(BACKUP)).toMatchObject({ state: 'active' });
    expect(t.register.events.map((event) => event.type)).not.toContain('nc.verified-effective');
  });

  it('runs the window from the healthy report that clears it, and closes after a success report and the window', async () => {
    const t = timeline();
    const id = await backupNc(t);
    await t.at(T0 + 2 * DAY + HOUR).correctiveAction(id);
    expect(await t.at(T0 + 5 * DAY).resolve({ ...BACKUP, id: 'ok-5' })).toBe('fix');
    expect(t.nc(id)).toMatchObject({ windowStartsAt: T0 + 5 * DAY, windowEndsAt: T0 + 35 * DAY, verification: { waitingFor: null, healthyReports: 1 } });
    expect(types(t, id)).toEqual(['raised', 'corrective-action', 'window-started']);
    expect(t.entries(id)[2]?.detail).toMatchObject({ observation: { id: 'ok-5', at: iso(T0 + 5 * DAY) }, windowEndsAt: iso(T0 + 35 * DAY) });
    await nightlySuccesses(t, T0 + 6 * DAY, T0 + 34 * DAY);
    await t.at(T0 + 35 * DAY - 1).tick();
    expect(t.nc(id).state).toBe('verifying');
    await t.at(T0 + 35 * DAY).tick();
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 35 * DAY });
    const closing = t.entries(id).at(-1);
    expect(closing).toMatchObject({
      type: 'verified-effective',
      at: T0 + 35 * DAY,
      detail: {
        verifyBy: 'evidence',
        windowStartedAt: iso(T0 + 5 * DAY),
        windowEndedAt: iso(T0 + 35 * DAY),
        healthyReports: 30,
        longestGap: { from: iso(T0 + 5 * DAY), to: iso(T0 + 6 * DAY), duration: '1d' },
        maxGap: '3d',
        lastFiringAt: iso(T0 + 2 * DAY),
      },
    });
    expect((closing?.detail.healthy as Array<{ id: string }>)[0]).toMatchObject({ id: 'ok-5', at: iso(T0 + 5 * DAY), evidence: {} });
  });

  it('in silence mode, starts the window when the symptom has been quiet for resolveAfter', async () => {
    const t = timeline({ defaults: { window: 30 * DAY, resolveAfter: DAY } });
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await t.at(T0 + 2 * DAY).fire({ id: 'proof' });
    await t.at(T0 + 2 * DAY + HOUR).correctiveAction('NC-2026-0001');
    await t.at(T0 + 4 * DAY).tick();
    expect(t.nc('NC-2026-0001')).toMatchObject({ windowStartsAt: T0 + 3 * DAY, windowEndsAt: T0 + 33 * DAY });
    await t.at(T0 + 33 * DAY).tick();
    expect(t.nc('NC-2026-0001').state).toBe('closed');
  });
});

describe('a window without the evidence', () => {
  it('ends verification-blocked, not closed, when no healthy report came after the action, and closes once one does', async () => {
    const t = timeline();
    const id = await backupNc(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve(BACKUP);
    // Recorded when the job already succeeded once: that success came before the action.
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    for (let at = T0 + 3 * DAY + HOUR; at < T0 + 33 * DAY; at += DAY) expect(await t.at(at).fire({ ...BACKUP, id: 'proof', observedAt: T0 + 2 * DAY })).toBe('duplicate');
    await t.at(T0 + 34 * DAY).tick();
    expect(t.nc(id)).toMatchObject({ state: 'verifying', verification: { blocked: [expect.stringContaining('no healthy report') as string, expect.stringContaining('no report of nightly-backup') as string] } });
    expect(types(t, id)).toEqual(['raised', 'corrective-action', 'verification-blocked']);
    expect(t.entries(id)[2]).toMatchObject({ at: T0 + 33 * DAY, detail: { missing: [`no healthy report of the symptom since the corrective action at ${iso(T0 + 3 * DAY)}`, expect.any(String) as string] } });
    expect(t.register.events.map((event) => event.type)).toEqual(['nc.opened', 'nc.corrective-action', 'nc.verification-blocked']);
    // Sweeps after that add nothing: the same finding is not written twice.
    await t.at(T0 + 40 * DAY).tick();
    expect(types(t, id)).toHaveLength(3);
    // Reports come back: the watch runs again from the first one, and a full window of them closes it.
    await nightlySuccesses(t, T0 + 41 * DAY, T0 + 72 * DAY);
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 71 * DAY });
    expect(types(t, id)).toEqual(['raised', 'corrective-action', 'verification-blocked', 'window-started', 'verified-effective']);
  });

  it('names a gap in the reports longer than maxGap, and watches again from its end', async () => {
    const t = timeline();
    const id = await backupNc(t);
    await t.at(T0 + 2 * DAY + HOUR).correctiveAction(id);
    await nightlySuccesses(t, T0 + 3 * DAY, T0 + 10 * DAY);
    // Five nights without a report: the job did not run, or its reports were lost.
    await nightlySuccesses(t, T0 + 15 * DAY, T0 + 40 * DAY);
    expect(t.nc(id).state).toBe('verifying');
    const blocked = t.entries(id).find((entry) => entry.type === 'verification-blocked');
    expect(blocked).toMatchObject({
      at: T0 + 33 * DAY,
      detail: { missing: [`a gap in the reports of nightly-backup from ${iso(T0 + 10 * DAY)} to ${iso(T0 + 15 * DAY)} (5d, longer than the 3d allowed)`], watchingAgainFrom: iso(T0 + 15 * DAY) },
    });
    expect(t.nc(id)).toMatchObject({ windowStartsAt: T0 + 15 * DAY, windowEndsAt: T0 + 45 * DAY });
    await nightlySuccesses(t, T0 + 41 * DAY, T0 + 45 * DAY);
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 45 * DAY });
  });

  it('takes a configured maxGap over the cadence', async () => {
    const t = timeline({ checks: { 'nightly-backup': { maxGap: 6 * DAY } } });
    const id = await backupNc(t);
    await t.at(T0 + 2 * DAY + HOUR).correctiveAction(id);
    await nightlySuccesses(t, T0 + 3 * DAY, T0 + 10 * DAY);
    await nightlySuccesses(t, T0 + 15 * DAY, T0 + 33 * DAY);
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 33 * DAY });
  });

  it('counts the counter of unverifiable NCs and their event once per finding', async () => {
    const t = timeline();
    const id = await backupNc(t);
    await t.at(T0 + 2 * DAY + HOUR).correctiveAction(id);
    await t.at(T0 + 3 * DAY).resolve(BACKUP);
    const { effects } = await t.at(T0 + 40 * DAY).tick();
    expect(effects.filter((effect) => effect.kind === 'nc-verification-blocked')).toEqual([{ kind: 'nc-verification-blocked', family: 'backup', control: 'A.8.13', source: 'restic' }]);
  });
});

describe('silence: the source shown alive', () => {
  const heartbeats: Policy['heartbeats'] = [{ source: 'alertmanager', maxGap: 10 * MINUTE, matches: compileMatch({ source: 'alertmanager', labels: { alertname: 'Watchdog' } }) }];
  const RULE = { source: 'alertmanager', family: 'siem', check: 'BruteForce', labels: { alertname: 'BruteForce' } } as const;
  const WATCHDOG = { source: 'alertmanager', family: 'siem', check: 'Watchdog', labels: { alertname: 'Watchdog' } } as const;

  async function siemNc(t: Timeline): Promise<string> {
    await t.at(T0).fire(RULE);
    await t.at(T0 + HOUR).resolve(RULE);
    await t.at(T0 + DAY).fire({ ...RULE, id: 'proof' });
    await t.at(T0 + DAY + HOUR).resolve(RULE);
    await t.at(T0 + 2 * DAY).correctiveAction('NC-2026-0001');
    return 'NC-2026-0001';
  }

  /** Watchdog every five minutes (Alertmanager repeats it), at receipt. */
  async function watchdog(t: Timeline, from: number, to: number): Promise<void> {
    for (let at = from; at <= to; at += 5 * MINUTE) expect(await t.at(at).fire({ ...WATCHDOG, id: 'watchdog', observedAt: T0 })).toBe('heartbeat');
  }

  it('never makes a heartbeat a symptom', async () => {
    const t = timeline({ heartbeats });
    await watchdog(t, T0, T0 + HOUR);
    expect(t.register.symptoms.size).toBe(0);
  });

  it('closes when the window passed with no recurrence and the heartbeat kept arriving', async () => {
    const t = timeline({ heartbeats, defaults: { window: 2 * DAY, resolveAfter: 7 * DAY } });
    const id = await siemNc(t);
    await watchdog(t, T0 + 2 * DAY - HOUR, T0 + 4 * DAY);
    await t.at(T0 + 4 * DAY).tick();
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 4 * DAY });
    expect(t.entries(id).at(-1)?.detail).toMatchObject({ verifyBy: 'silence', lastHeartbeatAt: iso(T0 + 4 * DAY) });
  });

  it('stays verifying when the heartbeat stopped, and says from when to when', async () => {
    const t = timeline({ heartbeats, defaults: { window: 2 * DAY, resolveAfter: 7 * DAY } });
    const id = await siemNc(t);
    await watchdog(t, T0 + 2 * DAY - HOUR, T0 + 3 * DAY);
    await watchdog(t, T0 + 3 * DAY + 2 * HOUR, T0 + 4 * DAY + HOUR);
    await t.at(T0 + 4 * DAY + HOUR).tick();
    expect(t.nc(id).state).toBe('verifying');
    expect(t.entries(id).at(-1)).toMatchObject({
      type: 'verification-blocked',
      detail: { missing: [`no heartbeat from alertmanager from ${iso(T0 + 3 * DAY)} to ${iso(T0 + 3 * DAY + 2 * HOUR)} (longer than the 10m allowed)`] },
    });
  });

  it('says so when no heartbeat was ever received from a source that should send one', async () => {
    const t = timeline({ heartbeats, defaults: { window: 2 * DAY, resolveAfter: 7 * DAY } });
    const id = await siemNc(t);
    await t.at(T0 + 5 * DAY).tick();
    expect(t.nc(id).verification?.blocked).toEqual(['no heartbeat from alertmanager was ever received']);
  });

  it('stays verifying when the connector was failing for longer than maxGap in the window', async () => {
    const t = timeline({ defaults: { window: 2 * DAY, resolveAfter: 7 * DAY } });
    const id = await siemNc(t);
    t.sources.failed('alertmanager', T0 + 3 * DAY);
    t.sources.succeeded('alertmanager', T0 + 3 * DAY + 3 * HOUR);
    await t.at(T0 + 4 * DAY).tick();
    expect(t.nc(id)).toMatchObject({ state: 'verifying', windowStartsAt: T0 + 3 * DAY + 3 * HOUR });
    expect(t.nc(id).verification?.blocked).toEqual([
      `the connector alertmanager was failing from ${iso(T0 + 3 * DAY)} to ${iso(T0 + 3 * DAY + 3 * HOUR)} (3h, longer than the 1h allowed)`,
    ]);
    await t.at(T0 + 6 * DAY).tick();
    expect(t.nc(id).state).toBe('closed');
  });
});

describe('the timeline keeps the whole story', () => {
  it('shows on a raised NC the first incident, the fix that ended it, and how often it fired and was repeated', async () => {
    const t = timeline();
    await t.at(T0).fire({ ...BACKUP, id: 'job-1', evidence: { file: '/var/log/restic.log', offset: 120 } });
    await t.at(T0 + HOUR).fire({ ...BACKUP, id: 'job-1', observedAt: T0 });
    await t.at(T0 + 2 * HOUR).fire({ ...BACKUP, id: 'job-2' });
    await t.at(T0 + DAY).resolve({ ...BACKUP, id: 'ok-1', evidence: { file: '/var/log/restic.log', offset: 480 } });
    await t.at(T0 + 2 * DAY).fire({ ...BACKUP, id: 'job-3' });
    expect(t.entries('NC-2026-0001')[0]?.detail).toMatchObject({
      alert: { id: 'job-3', observedAt: iso(T0 + 2 * DAY) },
      previousEpisode: {
        firstIncident: { source: 'restic', id: 'job-1', at: iso(T0), message: 'nightly backup failed', evidence: { file: '/var/log/restic.log', offset: 120 } },
        fix: { kind: 'resolved', at: iso(T0 + DAY), observation: { id: 'ok-1', evidence: { offset: 480 } }, by: null },
        occurrences: 2,
        repeats: 1,
      },
    });
  });
});
