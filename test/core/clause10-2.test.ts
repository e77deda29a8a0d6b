/**
 * The clause 10.2 record over a realistic lifecycle: a brute-force rule fixed by a restart comes
 * back (NC raised), a weak action is proved ineffective (reopened), a strong one with its
 * five whys and an ISMS change holds through its window (verified effective).
 */
import { describe, expect, it } from 'vitest';
import { clause10_2 } from '../../src/core/clause10-2.js';
import { configSchema } from '../../src/config/schema.js';
import { createDetectors } from '../../detectors/registry.js';
import { ACTION, DAY, HOUR, MINUTE, ms, timeline } from '../helpers/timeline.js';

const T0 = ms('2026-03-02T08:00Z');
const iso = (at: number): string => new Date(at).toISOString();
const ID = 'NC-2026-0001';

describe('clause10_2', () => {
  it('tells (a) to (g) of an NC raised, reopened after a weak action and closed after a strong one', async () => {
    const t = timeline();
    // The same rule fails on another host first: clause 10.2 b asks where else it exists.
    await t.at(T0 - DAY).fire({ asset: 'srv-web-02', id: 'other-host' });
    await t.at(T0).fire({ id: 'first' });
    await t.at(T0 + HOUR).resolve({ id: 'fixed' });
    await t.at(T0 + 2 * DAY).fire({ id: 'proof' });
    await t.at(T0 + 2 * DAY + HOUR).resolve();

    const opened = clause10_2(t.nc(ID), t.entries(ID));
    expect(opened.reaction).toMatchObject({
      raisedAt: iso(T0 + 2 * DAY),
      detector: 'recurrence',
      firstIncident: { source: 'wazuh', id: 'first', at: iso(T0), message: 'sshd: attempt to login using a non-existent user' },
      fix: { kind: 'resolved', at: iso(T0 + HOUR), observation: { id: 'fixed' } },
      raisedBy: { id: 'proof', observedAt: iso(T0 + 2 * DAY) },
    });
    expect(opened.reaction.summary).toBe(`first incident at ${iso(T0)}, fixed (resolved) at ${iso(T0 + HOUR)}; it came back inside its effectiveness window`);
    expect(opened.causes).toMatchObject({ rootCause: null, elsewhereCount: 1, elsewhere: [{ asset: 'srv-web-02', state: 'active', lastFiringAt: iso(T0 - DAY) }] });
    expect(opened.action).toEqual({ summary: 'no corrective action recorded yet', current: null, taken: [] });
    expect(opened.effectiveness).toMatchObject({ result: 'awaiting-action', missing: [], evidence: null, reopenings: [] });
    expect(opened.ismsChange).toEqual({ summary: 'no change to the ISMS recorded', change: null, changes: [] });

    await t.at(T0 + 3 * DAY).correctiveAction(ID, { action: 'restarted sshd and reminded the admins', rootCauseAnalysis: undefined });
    expect(clause10_2(t.nc(ID), t.entries(ID)).effectiveness).toMatchObject({ result: 'verifying', windowStartsAt: iso(T0 + 3 * DAY), windowEndsAt: iso(T0 + 33 * DAY) });
    await t.at(T0 + 5 * DAY).fire({ id: 'proof-2' });
    await t.at(T0 + 5 * DAY + HOUR).resolve();
    const reopened = clause10_2(t.nc(ID), t.entries(ID));
    expect(reopened.effectiveness).toMatchObject({
      result: 'reopened',
      reopenCount: 1,
      reopenings: [{ at: iso(T0 + 5 * DAY), alert: { id: 'proof-2' }, ineffectiveAction: 'restarted sshd and reminded the admins' }],
    });
    expect(reopened.action.taken).toEqual([{ at: iso(T0 + 3 * DAY), action: 'restarted sshd and reminded the admins', owner: 'secops', strength: 'weak', outcome: 'ineffective' }]);

    const ismsChange = 'access control policy: password login forbidden on every bastion; baseline check added to the SoA';
    const strong = 'password login disabled on every bastion, enforced by the configuration baseline, with an alert on drift';
    await t.at(T0 + 6 * DAY).correctiveAction(ID, { action: strong, ismsChange });
    await t.at(T0 + 20 * DAY).resolve();
    await t.at(T0 + 40 * DAY).tick();
    const nc = t.nc(ID);
    expect(nc.state).toBe('closed');
    expect(nc.correctiveAction?.ismsChange).toBe(ismsChange);
    const entries = t.entries(ID);
    const record = clause10_2(nc, entries);

    expect(record.causes).toMatchObject({
      rootCause: ACTION.rootCause,
      rootCauseAnalysis: ACTION.rootCauseAnalysis,
      summary: `${ACTION.rootCause}; five whys, cause category governance-ownership; the same check failed on 1 other asset(s)`,
    });
    expect(record.action.current).toMatchObject({ action: strong, owner: 'secops', strength: 'strong', recordedAt: iso(T0 + 6 * DAY) });
    expect(record.action.taken.map((action) => [action.strength, action.outcome])).toEqual([
      ['weak', 'ineffective'],
      ['strong', 'effective'],
    ]);
    expect(record.action.summary).toMatch(/^2 action\(s\) recorded, 1 proved ineffective; the latest is strong: enforces it by configuration/);
    expect(record.effectiveness).toMatchObject({
      result: 'verified-effective',
      closedAt: iso(T0 + 36 * DAY),
      windowStartsAt: iso(T0 + 6 * DAY),
      windowEndsAt: iso(T0 + 36 * DAY),
      missing: [],
      reopenCount: 1,
      evidence: { check: 'rule-5710', windowStartedAt: iso(T0 + 6 * DAY), windowEndedAt: iso(T0 + 36 * DAY) },
    });
    expect(record.ismsChange).toEqual({ summary: '1 change(s) to the ISMS recorded', change: ismsChange, changes: [{ at: iso(T0 + 6 * DAY), change: ismsChange }] });
    expect(entries.map((entry) => entry.type)).toEqual(['raised', 'corrective-action', 'reopened', 'corrective-action', 'verified-effective']);
    expect(record.documentedInformation).toEqual({
      summary: `5 timeline entries, chain head ${nc.timelineHead}`,
      entries: 5,
      first: { at: iso(T0 + 2 * DAY), type: 'raised' },
      last: { at: iso(T0 + 36 * DAY), type: 'verified-effective', hash: nc.timelineHead },
      chainHead: nc.timelineHead,
    });
    expect(nc.timelineHead).toMatch(/^[0-9a-f]{64}$/);
  });

  it('says what the evidence lacked when the window ended without it', async () => {
    const t = timeline({ families: { siem: { verifyBy: 'evidence' } } });
    await t.at(T0).fire();
    await t.at(T0 + HOUR).resolve();
    await t.at(T0 + 2 * DAY).fire();
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    await t.at(T0 + 3 * DAY).correctiveAction(ID);
    await t.at(T0 + 40 * DAY).tick();
    const record = clause10_2(t.nc(ID), t.entries(ID));
    expect(record.effectiveness.result).toBe('blocked');
    expect(record.effectiveness.missing.length).toBeGreaterThan(0);
    expect(record.effectiveness.evidence).toBeNull();
    expect(record.action.taken.map((action) => action.outcome)).toEqual(['pending']);
  });

  it('tells the reaction of an NC no fix came before (a chronic failure) from its reason', async () => {
    const config = configSchema.parse({ redis: { url: 'redis://127.0.0.1:1' }, api: { token: 't' }, detectors: [{ type: 'chronic', name: 'chronic', occurrences: 3, within: '1h' }] });
    const t = timeline({ detectors: createDetectors(config.detectors) });
    for (const minutes of [0, 20, 40]) await t.at(T0 + minutes * MINUTE).fire();
    const nc = t.nc(ID);
    const record = clause10_2(nc, t.entries(ID));
    expect(record.reaction).toMatchObject({ detector: 'chronic', firstIncident: null, fix: null, raisedBy: null, raisedAt: iso(T0 + 40 * MINUTE) });
    expect(record.reaction.summary).toBe(`raised by chronic at ${iso(T0 + 40 * MINUTE)}: ${nc.reason}`);
    expect(record.effectiveness.result).toBe('awaiting-action');
  });
});
