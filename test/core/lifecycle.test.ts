/**
 * Every transition of the symptom and NC lifecycles (DESIGN.md, "Semantics"), as timelines:
 * at t, this observation; then expect this state.
 */
import { describe, expect, it } from 'vitest';
import { ACTION, BASE_ALERT, DAY, HOUR, MINUTE, ms, timeline, type Timeline } from '../helpers/timeline.js';
import { EPISODES_KEPT } from '../../src/core/types.js';

const T0 = ms('2026-03-02T08:00Z');
const iso = (at: number): string => new Date(at).toISOString();

/** fire at T0, resolved an hour later, fires again two days later: NC-2026-0001 is open. */
async function raised(t: Timeline): Promise<string> {
  await t.at(T0).fire();
  await t.at(T0 + HOUR).resolve();
  await t.at(T0 + 2 * DAY).fire({ id: 'proof' });
  return 'NC-2026-0001';
}

/** raised, then the symptom clears (resolved at T0 + 2d + 1h): an action recorded now starts its window. */
async function cleared(t: Timeline): Promise<string> {
  const id = await raised(t);
  await t.at(T0 + 2 * DAY + HOUR).resolve();
  return id;
}

/** A snapshot without what a repeat of a firing state changes: when the failure was last said to persist (a write). */
function withoutRepeats(state: unknown): unknown {
  return JSON.parse(JSON.stringify(state, (key, value: unknown) => (['repeats', 'lastRepeatAt', 'version'].includes(key) ? undefined : value))) as unknown;
}

/** The register's state, for "nothing changed" checks. */
function snapshot(t: Timeline): unknown {
  return structuredClone({
    symptoms: [...t.register.symptoms],
    ncs: [...t.register.ncs],
    timelines: [...t.register.timelines],
    events: t.register.events,
  });
}

describe('symptom: (none) → active', () => {
  it('starts an episode on a first firing: an incident, not yet a nonconformity', async () => {
    const t = timeline();
    expect(await t.at(T0).fire()).toBe('episode');
    expect(t.symptom()).toMatchObject({
      state: 'active',
      episode: 1,
      occurrences: 1,
      observations: 1,
      firstSeenAt: T0,
      lastFiringAt: T0,
      lastTransitionAt: T0,
      fixedAt: null,
      nc: null,
      title: BASE_ALERT.message,
      control: 'A.8.16',
    });
    expect(t.ncs()).toEqual([]);
  });

  it('counts further firings as occurrences of the same episode', async () => {
    const t = timeline();
    await t.at(T0).fire();
    expect(await t.at(T0 + HOUR).fire()).toBe('occurrence');
    expect(t.symptom()).toMatchObject({ state: 'active', episode: 1, occurrences: 2, observations: 2, lastFiringAt: T0 + HOUR, lastTransitionAt: T0 });
  });

  it('keeps a resolved observation for a symptom it never saw firing: healthy, no episode yet', async () => {
    const t = timeline();
    expect(await t.at(T0).resolve()).toBe('report');
    expect(t.symptom()).toMatchObject({ state: 'verified', episode: 0, occurrences: 0, lastReportAt: T0, firstFiring: null });
    // Its first failure is an episode, not a return.
    expect(await t.at(T0 + HOUR).fire()).toBe('episode');
    expect(t.symptom()).toMatchObject({ state: 'active', episode: 1 });
    expect(t.ncs()).toEqual([]);
  });
});

describe('symptom: active → fixed', () => {
  it('is fixed when the source says resolved; the window starts at the fix', async () => {
    const t = timeline();
    await t.at(T0).fire();
    expect(await t.at(T0 + HOUR).resolve()).toBe('fix');
    expect(t.symptom()).toMatchObject({
      state: 'fixed',
      fixKind: 'resolved',
      fixedAt: T0 + HOUR,
      windowEndsAt: T0 + HOUR + 30 * DAY,
      lastTransitionAt: T0 + HOUR,
      lastReportAt: T0 + HOUR,
    });
  });

  it('is fixed when a person records the fix, at the time it is recorded', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + 3 * HOUR).recordFix();
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixKind: 'recorded', fixedAt: T0 + 3 * HOUR, windowEndsAt: T0 + 3 * HOUR + 30 * DAY });
  });

  it('notes a recorded fix with its actor and note on the NC of the symptom, and names who recorded it in the next return', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).recordFix({}, { actor: 'bob', note: 'restarted the agent' });
    expect(t.entries(id).map((entry) => entry.type)).toEqual(['raised', 'fix-recorded']);
    expect(t.entries(id)[1]?.detail).toMatchObject({ actor: 'bob', note: 'restarted the agent', fixedAt: iso(T0 + 2 * DAY + HOUR) });
    expect(t.symptom()?.lastFix).toEqual({ at: T0 + 2 * DAY + HOUR, actor: 'bob', note: 'restarted the agent' });
    await t.at(T0 + 3 * DAY).fire();
    expect(t.entries(id)[2]?.detail).toMatchObject({ previousEpisode: { fix: { kind: 'recorded', by: 'bob', observation: null } } });
    expect(t.symptom()?.lastFix).toMatchObject({ actor: 'bob' });
    expect(t.symptom()?.episodes.at(-1)).toMatchObject({ fixKind: 'recorded', fixedAt: T0 + 2 * DAY + HOUR, fixedBy: 'bob', note: 'restarted the agent' });
  });

  it('keeps the latest ended episodes of a symptom, oldest first, at most EPISODES_KEPT', async () => {
    const t = timeline();
    for (let episode = 0; episode < EPISODES_KEPT + 3; episode++) {
      await t.at(T0 + episode * DAY).fire();
      await t.at(T0 + episode * DAY + HOUR).resolve();
    }
    await t.at(T0 + (EPISODES_KEPT + 3) * DAY).fire();
    const { episodes } = t.symptom() ?? { episodes: [] };
    expect(episodes.map((episode) => episode.episode)).toEqual(Array.from({ length: EPISODES_KEPT }, (_, index) => index + 4));
    expect(episodes.at(-1)).toEqual({
      episode: EPISODES_KEPT + 3, firstFiringAt: T0 + (EPISODES_KEPT + 2) * DAY, lastFiringAt: T0 + (EPISODES_KEPT + 2) * DAY, occurrences: 1,
      fixedAt: T0 + (EPISODES_KEPT + 2) * DAY + HOUR, fixKind: 'resolved', fixedBy: null, note: null,
    });
  });

  it('refuses to record a fix for a symptom that is not firing, or unknown', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await expect(t.at(T0 + 2 * HOUR).recordFix()).rejects.toMatchObject({ code: 'RECURD_ERR_SYMPTOM_NOT_ACTIVE', status: 409 });
    await expect(t.at(T0 + 2 * HOUR).recordFix({ asset: 'srv-db-09' })).rejects.toMatchObject({ code: 'RECURD_ERR_SYMPTOM_NOT_FOUND', status: 404 });
  });

  it('is fixed after resolveAfter of quiet, decided lazily by the next observation at the quiet time', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + DAY).fire();
    expect(await t.at(T0 + 9 * DAY).resolve()).toBe('report');
    expect(t.symptom()).toMatchObject({
      state: 'fixed',
      fixKind: 'quiet',
      fixedAt: T0 + 8 * DAY,
      windowEndsAt: T0 + 38 * DAY,
      lastTransitionAt: T0 + 8 * DAY,
      lastReportAt: T0 + 9 * DAY,
    });
  });

  it('is fixed after resolveAfter of quiet by the sweep, at the quiet time rather than the sweep time', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + 7 * DAY - 1).tick();
    expect(t.symptom()?.state).toBe('active');
    await t.at(T0 + 10 * DAY).tick();
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixKind: 'quiet', fixedAt: T0 + 7 * DAY, windowEndsAt: T0 + 37 * DAY });
  });
});

describe('symptom: fixed → verified', () => {
  it('is verified when the window passes with no recurrence', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await t.at(T0 + HOUR + 30 * DAY - 1).tick();
    expect(t.symptom()?.state).toBe('fixed');
    await t.at(T0 + HOUR + 30 * DAY).tick();
    expect(t.symptom()).toMatchObject({ state: 'verified', lastTransitionAt: T0 + HOUR + 30 * DAY });
    expect(t.ncs()).toEqual([]);
  });

  it('starts a new episode, with no NC, when the symptom returns after its window', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    expect(await t.at(T0 + HOUR + 30 * DAY).fire()).toBe('episode');
    expect(t.symptom()).toMatchObject({ state: 'active', episode: 2, occurrences: 1, firstSeenAt: T0, lastTransitionAt: T0 + HOUR + 30 * DAY, nc: null });
    expect(t.ncs()).toEqual([]);
  });
});

describe('symptom: fixed → active by recurrence', () => {
  it('raises an NC when the symptom fires again inside its window', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    expect(await t.at(T0 + 3 * DAY).fire({ id: 'proof' })).toBe('recurrence');
    expect(t.ncs()).toEqual([
      {
        id: 'NC-2026-0001',
        state: 'open',
        fingerprint: t.fingerprint(),
        source: 'wazuh',
        family: 'siem',
        control: 'A.8.16',
        check: 'rule-5710',
        asset: 'srv-web-01',
        title: BASE_ALERT.message,
        severity: 'medium',
        reason: 'recurrence: fixed (resolved) at 2026-03-02T09:00:00.000Z, fired again at 2026-03-05T08:00:00.000Z inside its 30d effectiveness window',
        reopenCount: 0,
        occurrences: 2,
        openedAt: T0 + 3 * DAY,
        updatedAt: T0 + 3 * DAY,
        lastOccurrenceAt: T0 + 3 * DAY,
        correctiveAction: null,
        windowStartsAt: null,
        windowEndsAt: null,
        verification: null,
        closedAt: null,
        recurrenceOf: null,
        detector: 'recurrence',
        assets: [],
        assetCount: 0,
        flapping: false,
        elsewhere: [],
        elsewhereCount: 0,
        timelineHead: t.entries('NC-2026-0001')[0]?.hash,
        voided: null,
        riskAcceptance: null,
        overdueSince: null,
        owner: null,
        dueDate: null,
        comments: 0,
        attachments: 0,
      },
    ]);
    expect(t.symptom()).toMatchObject({ state: 'active', episode: 2, occurrences: 1, nc: 'NC-2026-0001', fixedAt: null, lastTransitionAt: T0 + 3 * DAY });
    expect(t.entries('NC-2026-0001')).toMatchObject([
      {
        at: T0 + 3 * DAY,
        type: 'raised',
        detail: {
          detector: 'recurrence',
          alert: { source: 'wazuh', id: 'proof', observedAt: iso(T0 + 3 * DAY) },
          episode: 2,
          fixedAt: iso(T0 + HOUR),
          fixKind: 'resolved',
          windowEndsAt: iso(T0 + HOUR + 30 * DAY),
          evidence: BASE_ALERT.evidence,
        },
      },
    ]);
  });

  it('counts a return up to just before the window end as a recurrence; at the end the window has passed', async () => {
    const inside = timeline();
    await inside.at(T0).fire();
    await inside.at(T0 + HOUR).resolve();
    expect(await inside.at(T0 + HOUR + 30 * DAY - 1).fire()).toBe('recurrence');

    const after = timeline();
    await after.at(T0).fire();
    await after.at(T0 + HOUR).resolve();
    expect(await after.at(T0 + HOUR + 30 * DAY).fire()).toBe('episode');
    expect(after.ncs()).toEqual([]);
  });

  it('raises an NC on a return after a quiet fix, the quiet fix and the return decided by one observation', async () => {
    const t = timeline();
    await t.at(T0).fire();
    expect(await t.at(T0 + 8 * DAY).fire()).toBe('recurrence');
    expect(t.ncs()).toMatchObject([{ state: 'open', openedAt: T0 + 8 * DAY }]);
    expect(t.entries('NC-2026-0001')[0]?.detail).toMatchObject({ fixKind: 'quiet', fixedAt: iso(T0 + 7 * DAY) });
  });

  it('counts the return as one report of the check, whose cadence the verification reads', async () => {
    const t = timeline();
    await raised(t);
    expect(t.symptom()?.recentReports).toEqual([T0, T0 + HOUR, T0 + 2 * DAY]);
    await t.at(T0 + 40 * DAY).fire({ id: 'late-return' });
    expect(t.symptom()?.recentReports).toEqual([T0, T0 + HOUR, T0 + 2 * DAY, T0 + 40 * DAY]);
  });

  it('treats a firing within the skew after the fix as the tail of the old episode', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    expect(await t.at(T0 + HOUR + 5 * MINUTE).fire()).toBe('tail');
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixedAt: T0 + HOUR, episode: 1, occurrences: 2 });
    expect(t.ncs()).toEqual([]);
    expect(await t.at(T0 + HOUR + 5 * MINUTE + 1).fire()).toBe('recurrence');
    expect(t.ncs()).toHaveLength(1);
  });

  it('treats a firing stamped before the fix, arriving after it, as the old episode: no NC', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    expect(await t.at(T0 + 2 * HOUR).fire({ observedAt: T0 + HOUR - MINUTE })).toBe('late');
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixedAt: T0 + HOUR, lateObservations: 1 });
    expect(t.ncs()).toEqual([]);
  });

  it('honours a configured skew', async () => {
    const t = timeline({ skew: HOUR });
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    expect(await t.at(T0 + 2 * HOUR).fire()).toBe('tail');
    expect(await t.at(T0 + 2 * HOUR + 1).fire()).toBe('recurrence');
  });
});

describe('an NC left open while its symptom keeps returning', () => {
  it('counts every return, and records the first ten and then each doubling on its timeline', async () => {
    const t = timeline();
    for (let cycle = 0; cycle < 40; cycle++) {
      await t.at(T0 + cycle * 2 * HOUR).fire();
      await t.at(T0 + cycle * 2 * HOUR + HOUR).resolve();
    }
    const [nc] = t.ncs();
    // The first failure, then 39 returns: the recurrence that raised it and 38 more.
    expect(nc?.occurrences).toBe(40);
    const occurrences = t.entries(nc?.id as string).filter((entry) => entry.type === 'occurrence');
    expect(occurrences.map((entry) => entry.detail.occurrences ?? null)).toEqual([null, null, null, null, null, null, null, null, 16, 32]);
    expect(occurrences.at(-1)?.detail.countedSinceLastEntry).toBe(15);
    expect(nc?.lastOccurrenceAt).toBe(T0 + 39 * 2 * HOUR);
  });
});

describe('duplicates and late observations', () => {
  it('changes nothing on a repeated firing (same source and id), in a later batch or the same one, but that it persists', async () => {
    const t = timeline();
    await t.at(T0).fire({ id: 'a1' });
    const before = snapshot(t);
    expect(await t.at(T0 + HOUR).fire({ id: 'a1', observedAt: T0 })).toBe('duplicate');
    // A repeat says the failure persists: no occurrence, but the symptom is not quiet.
    expect(t.symptom()).toMatchObject({ repeats: 1, lastRepeatAt: T0 + HOUR, occurrences: 1, lastFiringAt: T0 });
    expect(withoutRepeats(snapshot(t))).toEqual(withoutRepeats(before));
    expect(await t.at(T0 + 2 * HOUR).ingest({ status: 'firing', id: 'b1' }, { status: 'firing', id: 'b1' })).toEqual(['occurrence', 'duplicate']);
    expect(t.symptom()).toMatchObject({ observations: 2, occurrences: 2 });
  });

  it('changes nothing on a repeated resolved', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve({ id: 'r1' });
    const before = snapshot(t);
    expect(await t.at(T0 + 2 * HOUR).resolve({ id: 'r1', observedAt: T0 + HOUR })).toBe('duplicate');
    expect(snapshot(t)).toEqual(before);
  });

  it('adds no occurrence, timeline entry or event when the proof of a recurrence is delivered again', async () => {
    const t = timeline();
    const id = await raised(t);
    const before = snapshot(t);
    expect(await t.at(T0 + 2 * DAY + MINUTE).fire({ id: 'proof', observedAt: T0 + 2 * DAY })).toBe('duplicate');
    expect(withoutRepeats(snapshot(t))).toEqual(withoutRepeats(before));
    expect(t.nc(id).occurrences).toBe(2);
  });

  it('changes nothing when a resolved that came before any firing is delivered again', async () => {
    const t = timeline();
    expect(await t.at(T0 + HOUR).resolve({ id: 'r0' })).toBe('report');
    // Stamped before the resolve: decided in its place, so the resolve fixes the episode it starts.
    expect(await t.at(T0 + HOUR).fire({ observedAt: T0 })).toBe('late');
    expect(t.symptom()).toMatchObject({ state: 'fixed', episode: 1, fixedAt: T0 + HOUR });
    const before = snapshot(t);
    expect(await t.at(T0 + 2 * HOUR).resolve({ id: 'r0', observedAt: T0 + HOUR })).toBe('duplicate');
    expect(snapshot(t)).toEqual(before);
  });

  it('tells duplicates by source and id together: the same id from another source is another observation', async () => {
    const t = timeline();
    await t.at(T0).fire({ id: 'x' });
    expect(await t.at(T0).fire({ id: 'x', source: 'wazuh-dr' })).toBe('episode');
    expect(t.symptom({ source: 'wazuh-dr' })?.state).toBe('active');
  });

  it('times an Alertmanager re-fire (same id, firing after resolved, old startsAt, from the same sender) at its receipt', async () => {
    const t = timeline();
    const am = { id: 'am-1', reporter: 'http://am-0:9093' };
    await t.at(T0).fire(am);
    await t.at(T0 + HOUR).resolve(am);
    expect(await t.at(T0 + 2 * DAY).fire({ ...am, observedAt: T0 })).toBe('recurrence');
    expect(t.ncs()).toMatchObject([{ id: 'NC-2026-0001', openedAt: T0 + 2 * DAY }]);
    expect(t.entries('NC-2026-0001')[0]?.detail).toMatchObject({ alert: { id: 'am-1', observedAt: iso(T0 + 2 * DAY) } });
    // The next repeat of that notification is the same state again: a duplicate.
    expect(await t.at(T0 + 2 * DAY + 4 * HOUR).fire({ ...am, observedAt: T0 })).toBe('duplicate');
    expect(t.nc('NC-2026-0001').occurrences).toBe(2);
  });

  it('takes a firing received before the resolve but decided after it (a batch delivered again after kill -9) as a duplicate', async () => {
    const t = timeline();
    const am = { id: 'am-1', reporter: 'http://am-0:9093', observedAt: T0 };
    await t.at(T0).fire(am);
    await t.at(T0 + HOUR).resolve(am);
    // The dead worker's batch held a copy of the first firing, received at T0 + 1 s.
    expect(await t.at(T0 + HOUR + 30_000).fire({ ...am, receivedAt: T0 + 1000 })).toBe('duplicate');
    expect(t.ncs()).toEqual([]);
    expect(t.symptom()).toMatchObject({ state: 'fixed', observations: 2 });
    // Received after the resolve, the same firing is Alertmanager's re-fire: new.
    expect(await t.at(T0 + 2 * DAY).fire(am)).toBe('recurrence');
  });

  it('takes the stale firing that the other member of an HA pair repeats after the resolve as a duplicate', async () => {
    const t = timeline();
    const alert = { id: 'am-1', observedAt: T0 };
    await t.at(T0).fire({ ...alert, reporter: 'http://am-0:9093' });
    expect(await t.at(T0 + 10_000).fire({ ...alert, reporter: 'http://am-1:9093' })).toBe('duplicate');
    await t.at(T0 + HOUR).resolve({ ...alert, reporter: 'http://am-0:9093', observedAt: T0 + HOUR });
    // am-1 had not heard of the resolve yet: its firing is stale, whenever it arrives.
    expect(await t.at(T0 + 2 * DAY).fire({ ...alert, reporter: 'http://am-1:9093' })).toBe('duplicate');
    expect(await t.at(T0 + 2 * DAY + MINUTE).resolve({ ...alert, reporter: 'http://am-1:9093', observedAt: T0 + HOUR })).toBe('duplicate');
    expect(t.ncs()).toEqual([]);
    // Only am-1's copy while it fired counts as a report that the failure persisted.
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixedAt: T0 + HOUR, repeats: 1, lastRepeatAt: T0 + 10_000 });
    // Without a sender, any state already seen under the id is a duplicate too.
    await t.at(T0 + 2 * DAY).fire({ id: 'plain', observedAt: T0 + 2 * DAY });
    await t.at(T0 + 2 * DAY + HOUR).resolve({ id: 'plain' });
    expect(await t.at(T0 + 4 * DAY).fire({ id: 'plain', observedAt: T0 + 2 * DAY })).toBe('duplicate');
  });

  it('decides an observation that arrives late in its event-time place', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + DAY).resolve();
    expect(await t.at(T0 + 2 * DAY).resolve({ observedAt: T0 + 12 * HOUR })).toBe('late');
    // The symptom was fixed by the earlier resolve; the later one is a report that it stayed healthy.
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixedAt: T0 + 12 * HOUR, windowEndsAt: T0 + 12 * HOUR + 30 * DAY, lateObservations: 1 });
    expect(await t.at(T0 + 2 * DAY).fire({ observedAt: T0 + 6 * HOUR })).toBe('late');
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixedAt: T0 + 12 * HOUR, occurrences: 2, observations: 4, lateObservations: 2, lastFiringAt: T0 + 6 * HOUR });
    expect(t.ncs()).toEqual([]);
  });

  it('raises the NC that a late resolve between two firings implies: a failure, its fix and its return', async () => {
    const t = timeline();
    await t.at(T0).fire({ id: 'f1' });
    await t.at(T0 + 2 * HOUR).fire({ id: 'f2' });
    expect(await t.at(T0 + 3 * HOUR).resolve({ id: 'r1', observedAt: T0 + HOUR })).toBe('late');
    expect(t.ncs()).toMatchObject([{ id: 'NC-2026-0001', state: 'open', occurrences: 2, lastOccurrenceAt: T0 + 2 * HOUR }]);
    expect(t.entries('NC-2026-0001')[0]).toMatchObject({ type: 'raised', at: T0 + 2 * HOUR, detail: { alert: { id: 'f2' }, fixedAt: iso(T0 + HOUR) } });
    expect(t.symptom()).toMatchObject({ state: 'active', episode: 2, nc: 'NC-2026-0001' });
  });

  it('raises the NC whatever the order of arrival: resolved, firing (later), firing (earlier)', async () => {
    const t = timeline();
    expect(await t.at(T0 + 2 * DAY).ingest({ status: 'resolved', id: 'r', observedAt: T0 + HOUR }, { status: 'firing', id: 'late-return', observedAt: T0 + DAY })).toEqual(['report', 'episode']);
    expect(t.ncs()).toEqual([]);
    expect(await t.at(T0 + 2 * DAY).fire({ id: 'first', observedAt: T0 })).toBe('late');
    expect(t.ncs()).toMatchObject([{ id: 'NC-2026-0001', state: 'open' }]);
    expect(t.entries('NC-2026-0001')[0]?.detail).toMatchObject({ alert: { id: 'late-return' }, fixedAt: iso(T0 + HOUR), previousEpisode: { firstIncident: { id: 'first' } } });
  });

  it('keeps an NC that a late observation contradicts, and notes the contradiction on it', async () => {
    const t = timeline({ defaults: { window: 30 * DAY, resolveAfter: DAY } });
    await t.at(T0).fire({ id: 'f1' });
    await t.at(T0 + DAY + HOUR).tick();
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixKind: 'quiet', fixedAt: T0 + DAY });
    expect(await t.at(T0 + 26 * HOUR).fire({ id: 'f3' })).toBe('recurrence');
    // A firing the source sent at 23h arrives now: the symptom was never quiet for a day.
    expect(await t.at(T0 + 27 * HOUR).fire({ id: 'f2', observedAt: T0 + 23 * HOUR })).toBe('late');
    expect(t.symptom()).toMatchObject({ state: 'active', episode: 1, nc: 'NC-2026-0001' });
    expect(t.nc('NC-2026-0001').state).toBe('open');
    expect(t.entries('NC-2026-0001').map((entry) => entry.type)).toEqual(['raised', 'contradicted']);
    expect(t.entries('NC-2026-0001')[1]?.detail).toMatchObject({
      observation: { id: 'f2', status: 'firing', at: iso(T0 + 23 * HOUR) },
      contradicts: { id: 'f3', was: 'recurrence', now: 'occurrence' },
    });
  });
});

describe('NC: open → verifying → closed', () => {
  it('starts the NC window when a corrective action is recorded; the symptom counts as fixed from then', async () => {
    const t = timeline();
    const id = await cleared(t);
    const nc = await t.at(T0 + 3 * DAY).correctiveAction(id);
    expect(nc).toMatchObject({
      id,
      state: 'verifying',
      windowEndsAt: T0 + 33 * DAY,
      correctiveAction: { ...ACTION, recordedAt: T0 + 3 * DAY },
    });
    expect(t.nc(id)).toEqual(nc);
    expect(t.entries(id).map((entry) => entry.type)).toEqual(['raised', 'corrective-action']);
    expect(t.entries(id)[1]).toMatchObject({
      at: T0 + 3 * DAY,
      detail: { action: ACTION.action, owner: 'secops', recordedAt: iso(T0 + 3 * DAY), windowEndsAt: iso(T0 + 33 * DAY) },
    });
    // Already fixed by the source; a return inside the action's window proves the action ineffective.
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixKind: 'resolved', fixedAt: T0 + 2 * DAY + HOUR, windowEndsAt: T0 + 33 * DAY });
  });

  it('takes the corrective-action window from the most specific policy', async () => {
    const t = timeline({ checks: { 'rule-5710': { window: 14 * DAY } } });
    const id = await cleared(t);
    expect(await t.at(T0 + 3 * DAY).correctiveAction(id)).toMatchObject({ windowEndsAt: T0 + 17 * DAY });
  });

  it('closes the NC as verified effective when its window passes, with the evidence on its timeline', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    // The check kept reporting success while the window ran.
    await t.at(T0 + 20 * DAY).resolve();
    await t.at(T0 + 33 * DAY - 1).tick();
    expect(t.nc(id).state).toBe('verifying');
    await t.at(T0 + 34 * DAY).tick();
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 33 * DAY, reopenCount: 0 });
    expect(t.entries(id).map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'verified-effective']);
    // A SIEM rule only speaks on failure: verified by silence, its connector never failing.
    expect(t.entries(id)[2]).toMatchObject({
      at: T0 + 33 * DAY,
      detail: {
        verifyBy: 'silence',
        windowStartedAt: iso(T0 + 3 * DAY),
        windowEndedAt: iso(T0 + 33 * DAY),
        lastOccurrenceAt: iso(T0 + 2 * DAY),
        lastFiringAt: iso(T0 + 2 * DAY),
        check: 'rule-5710',
        connector: { name: 'wazuh', errorSpellsInWindow: 0 },
      },
    });
    expect(t.symptom()?.state).toBe('verified');
  });

  it('closes the NC lazily when the next observation comes after its window', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    expect(await t.at(T0 + 40 * DAY).resolve()).toBe('report');
    expect(t.nc(id)).toMatchObject({ state: 'closed', closedAt: T0 + 33 * DAY });
  });

  it('refuses a corrective action on a verifying, a closed or an unknown NC', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    await expect(t.at(T0 + 4 * DAY).correctiveAction(id)).rejects.toMatchObject({ code: 'RECURD_ERR_NC_VERIFYING', status: 409 });
    expect(t.nc(id).correctiveAction?.recordedAt).toBe(T0 + 3 * DAY);
    await expect(t.at(T0 + 40 * DAY).correctiveAction(id)).rejects.toMatchObject({ code: 'RECURD_ERR_NC_CLOSED', status: 409 });
    expect(t.nc(id).state).toBe('closed');
    await expect(t.at(T0 + 40 * DAY).correctiveAction('NC-2026-0404')).rejects.toMatchObject({ code: 'RECURD_ERR_NC_NOT_FOUND', status: 404 });
  });
});

describe('NC: recurrence while open, verifying or reopened', () => {
  it('counts a further recurrence of an open NC as an occurrence of the same NC', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    expect(await t.at(T0 + 4 * DAY).fire()).toBe('recurrence');
    expect(t.ncs()).toHaveLength(1);
    expect(t.nc(id)).toMatchObject({ state: 'open', occurrences: 3, reopenCount: 0, severity: 'medium', lastOccurrenceAt: T0 + 4 * DAY });
    expect(t.entries(id).map((entry) => entry.type)).toEqual(['raised', 'occurrence']);
  });

  it('reopens a verifying NC under the same id, escalated, when the symptom returns inside its window', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    expect(await t.at(T0 + 5 * DAY).fire({ id: 'proof-2' })).toBe('recurrence');
    expect(t.ncs()).toHaveLength(1);
    expect(t.nc(id)).toMatchObject({
      state: 'reopened',
      reopenCount: 1,
      severity: 'high',
      occurrences: 3,
      windowEndsAt: null,
      lastOccurrenceAt: T0 + 5 * DAY,
      correctiveAction: { ...ACTION, recordedAt: T0 + 3 * DAY },
    });
    expect(t.entries(id).map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'reopened']);
    expect(t.entries(id)[2]).toMatchObject({
      at: T0 + 5 * DAY,
      detail: {
        alert: { id: 'proof-2', observedAt: iso(T0 + 5 * DAY) },
        reopenCount: 1,
        severity: 'high',
        ineffectiveAction: { ...ACTION, recordedAt: T0 + 3 * DAY },
      },
    });
    expect(t.symptom()).toMatchObject({ state: 'active', nc: id, episode: 3 });
  });

  it('counts a recurrence of a reopened NC as an occurrence, without escalating again', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    await t.at(T0 + 5 * DAY).fire();
    await t.at(T0 + 5 * DAY + HOUR).resolve();
    expect(await t.at(T0 + 6 * DAY).fire()).toBe('recurrence');
    expect(t.nc(id)).toMatchObject({ state: 'reopened', reopenCount: 1, severity: 'high', occurrences: 4 });
    expect(t.entries(id).map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'reopened', 'occurrence']);
  });

  it('verifies a new corrective action after a reopen, and reopens again if that one fails too', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    await t.at(T0 + 5 * DAY).fire();
    await t.at(T0 + 5 * DAY + HOUR).resolve();
    const second = await t.at(T0 + 6 * DAY).correctiveAction(id, { action: 'moved sshd behind the VPN' });
    expect(second).toMatchObject({ state: 'verifying', windowEndsAt: T0 + 36 * DAY, correctiveAction: { action: 'moved sshd behind the VPN', recordedAt: T0 + 6 * DAY } });
    expect(await t.at(T0 + 7 * DAY).fire()).toBe('recurrence');
    expect(t.nc(id)).toMatchObject({ state: 'reopened', reopenCount: 2, severity: 'critical', occurrences: 4 });
  });

  it('keeps counting the return of a never-corrected NC after the symptom window as an occurrence', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    expect(await t.at(T0 + 40 * DAY).fire()).toBe('episode');
    expect(t.ncs()).toHaveLength(1);
    expect(t.nc(id)).toMatchObject({ state: 'open', occurrences: 3 });
    expect(t.entries(id)[1]).toMatchObject({ type: 'occurrence', at: T0 + 40 * DAY, detail: { afterWindow: true } });
    expect(t.symptom()).toMatchObject({ state: 'active', nc: id });
  });
});

describe('return after a closed NC', () => {
  async function closedThenBack(t: Timeline): Promise<void> {
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    await t.at(T0 + 34 * DAY).tick();
    expect(await t.at(T0 + 50 * DAY).fire()).toBe('episode');
    await t.at(T0 + 50 * DAY + HOUR).resolve();
    expect(await t.at(T0 + 52 * DAY).fire()).toBe('recurrence');
  }

  it('links the next NC to the old one with lateRecurrence: link', async () => {
    const t = timeline({ lateRecurrence: 'link' });
    await closedThenBack(t);
    expect(t.ncs().map((nc) => [nc.id, nc.state, nc.recurrenceOf])).toEqual([
      ['NC-2026-0001', 'closed', null],
      ['NC-2026-0002', 'open', 'NC-2026-0001'],
    ]);
    expect(t.entries('NC-2026-0001').map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'verified-effective', 'late-recurrence']);
    expect(t.symptom()).toMatchObject({ nc: 'NC-2026-0002', recurrenceOf: null, episode: 4 });
  });

  it('keeps the link on the symptom between the return and the next recurrence', async () => {
    const t = timeline();
    const id = await cleared(t);
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    await t.at(T0 + 50 * DAY).fire();
    expect(t.symptom()).toMatchObject({ state: 'active', nc: null, recurrenceOf: id, episode: 3 });
  });

  it('does not link them with lateRecurrence: ignore', async () => {
    const t = timeline({ lateRecurrence: 'ignore' });
    await closedThenBack(t);
    expect(t.ncs().map((nc) => [nc.id, nc.state, nc.recurrenceOf])).toEqual([
      ['NC-2026-0001', 'closed', null],
      ['NC-2026-0002', 'open', null],
    ]);
    expect(t.entries('NC-2026-0001').map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'verified-effective']);
  });
});

describe('window policy', () => {
  const policy = {
    families: { siem: { window: 10 * DAY, resolveAfter: 2 * DAY } },
    controls: { 'A.8.16': { window: 5 * DAY } },
    checks: { 'rule-5710': { window: 2 * DAY } },
  };

  it.each([
    ['the check', {}, 2 * DAY, 2 * DAY],
    ['the control', { check: 'rule-5712' }, 5 * DAY, 2 * DAY],
    ['the family', { check: 'rule-5712', control: 'A.8.15' }, 10 * DAY, 2 * DAY],
    ['the defaults', { family: 'av' as const, check: 'sig-update', control: 'A.8.7' }, 30 * DAY, 7 * DAY],
  ])('takes each setting from the most specific layer that has it: %s', async (_layer, overrides, window, resolveAfter) => {
    const t = timeline(policy);
    await t.at(T0).fire(overrides);
    await t.at(T0 + 60 * DAY).tick();
    const symptom = t.symptom(overrides);
    expect(symptom?.fixKind).toBe('quiet');
    expect((symptom?.fixedAt ?? 0) - T0).toBe(resolveAfter);
    expect((symptom?.windowEndsAt ?? 0) - (symptom?.fixedAt ?? 0)).toBe(window);
  });
});

describe('NC ids', () => {
  it('numbers NCs NC-YYYY-NNNN from a counter per year of opening', async () => {
    const t = timeline();
    const recur = async (asset: string, at: number): Promise<void> => {
      await t.at(at).fire({ asset });
      await t.at(at + HOUR).resolve({ asset });
      expect(await t.at(at + DAY).fire({ asset })).toBe('recurrence');
    };
    await recur('srv-a', T0);
    await recur('srv-b', T0 + 5 * DAY);
    await recur('srv-c', ms('2026-12-31T20:00Z'));
    await recur('srv-d', ms('2026-12-30T20:00Z'));
    expect(t.ncs().map((nc) => [nc.id, nc.asset])).toEqual([
      ['NC-2026-0001', 'srv-a'],
      ['NC-2026-0002', 'srv-b'],
      ['NC-2026-0003', 'srv-d'],
      ['NC-2027-0001', 'srv-c'],
    ]);
  });
});

describe('outbox', () => {
  it('produces one event per NC transition, each with a stable id, and none for duplicates or idle sweeps', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    await t.at(T0 + 2 * DAY + 2 * HOUR).fire();
    await t.at(T0 + 2 * DAY + 3 * HOUR).resolve();
    await t.at(T0 + 3 * DAY).correctiveAction(id);
    await t.at(T0 + 5 * DAY).fire();
    await t.at(T0 + 5 * DAY + HOUR).resolve();
    await t.at(T0 + 6 * DAY).correctiveAction(id);
    await t.at(T0 + 37 * DAY).tick();
    const events = t.register.events.map((event) => ({ id: event.id, type: event.type, at: event.at, nc: event.nc.id }));
    expect(events.map((event) => [event.type, event.at])).toEqual([
      ['nc.opened', T0 + 2 * DAY],
      ['nc.occurrence', T0 + 2 * DAY + 2 * HOUR],
      ['nc.corrective-action', T0 + 3 * DAY],
      ['nc.reopened', T0 + 5 * DAY],
      ['nc.corrective-action', T0 + 6 * DAY],
      ['nc.verified-effective', T0 + 36 * DAY],
    ]);
    expect(events.every((event) => event.nc === id)).toBe(true);
    // An event's id is its NC's id and its timeline entry's id: a redelivered event keeps it.
    expect(events.map((event) => event.id)).toEqual(t.entries(id).map((entry) => `${id}.${entry.id}`));
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);

    await t.at(T0 + 38 * DAY).fire({ id: 'proof', observedAt: T0 + 2 * DAY });
    await t.at(T0 + 39 * DAY).tick();
    expect(t.register.events.map((event) => event.id)).toEqual(events.map((event) => event.id));
  });
});

describe('time sanity', () => {
  it('times an observation stamped beyond maxFuture at its receipt, and notes it on the NC', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await t.at(T0 + 2 * DAY).fire({ id: 'proof' });
    // A firing stamped in 2030 would leave the symptom active until then.
    expect(await t.at(T0 + 2 * DAY + HOUR).resolve({ observedAt: '2030-01-01T00:00Z' })).toBe('fix');
    expect(t.symptom()).toMatchObject({ state: 'fixed', fixedAt: T0 + 2 * DAY + HOUR });
    expect(t.entries('NC-2026-0001').map((entry) => entry.type)).toEqual(['raised', 'clock-skew']);
    expect(t.entries('NC-2026-0001')[1]?.detail).toMatchObject({ stampedAt: '2030-01-01T00:00:00.000Z', receivedAt: iso(T0 + 2 * DAY + HOUR) });
  });

  it('keeps maxFuture: a time just inside it is the source’s own', async () => {
    const t = timeline();
    expect(await t.at(T0).fire({ observedAt: T0 + 5 * MINUTE })).toBe('episode');
    expect(t.symptom()?.lastFiringAt).toBe(T0 + 5 * MINUTE);
    expect(await t.at(T0).fire({ asset: 'srv-web-02', observedAt: T0 + 5 * MINUTE + 1 })).toBe('episode');
    expect(t.symptom({ asset: 'srv-web-02' })?.lastFiringAt).toBe(T0);
  });

  it('records an observation older than maxLateness as late: it raises nothing', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    expect(await t.at(T0 + 20 * DAY).fire({ observedAt: T0 + 2 * HOUR + 1, id: 'old' })).toBe('late');
    expect(t.ncs()).toEqual([]);
    expect(t.symptom()).toMatchObject({ state: 'fixed', lateObservations: 1 });
  });

  it('opens an NC at the decision time, whatever the source clock says', async () => {
    const t = timeline();
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await t.at(T0 + 3 * DAY).fire({ observedAt: T0 + 2 * DAY });
    expect(t.nc('NC-2026-0001')).toMatchObject({ openedAt: T0 + 3 * DAY, lastOccurrenceAt: T0 + 2 * DAY });
    expect(t.entries('NC-2026-0001')[0]).toMatchObject({ type: 'raised', at: T0 + 2 * DAY });
  });
});
