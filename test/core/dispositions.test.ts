/**
 * Dispositions beyond closed (void, risk-accepted) and overdue corrective actions, as timelines
 * over the real engine with a manual clock: at t, this act or this sweep; then expect this state.
 */
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/core/chain.js';
import { dueDateEnds as deadline, dueDateProblem } from '../../src/core/ownership.js';
import { RecurdError } from '../../src/errors.js';
import { DAY, HOUR, ms, timeline, type Timeline } from '../helpers/timeline.js';

const T0 = ms('2026-03-02T08:00Z');

/** fire at T0, resolved an hour later, fires again two days later: NC-2026-0001 is open. */
async function raised(t: Timeline): Promise<string> {
  await t.at(T0).fire();
  await t.at(T0 + HOUR).resolve();
  await t.at(T0 + 2 * DAY).fire({ id: 'proof' });
  return 'NC-2026-0001';
}

async function chainHolds(t: Timeline, id: string): Promise<void> {
  const verdict = verifyChain(await t.register.storedTimeline(id), t.nc(id).timelineHead);
  expect(verdict.failure).toBeNull();
  expect(verdict.holds).toBe(true);
}

async function refusal(promise: Promise<unknown>): Promise<RecurdError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RecurdError);
  return error as RecurdError;
}

describe('dates that must lie ahead', () => {
  it('reads a date as lasting to the end of its day in UTC, a time as that instant', () => {
    expect(deadline('2026-03-02')).toBe(ms('2026-03-03T00:00Z'));
    expect(deadline('2026-03-02T10:00:00+02:00')).toBe(ms('2026-03-02T08:00Z'));
    expect(deadline('next week')).toBeNull();
    expect(dueDateProblem('2026-03-02', T0)).toBeNull();
    expect(dueDateProblem('2026-03-01', T0)).toEqual({ reason: 'past', message: '2026-03-01 is in the past (it is now 2026-03-02T08:00:00.000Z)' });
    expect(dueDateProblem('next week', T0)).toMatchObject({ reason: 'invalid' });
  });
});

describe('void', () => {
  it('records who voided the NC, why and when; a later recurrence raises a new NC that names it', async () => {
    const t = timeline();
    const id = await raised(t);
    const voided = await t.at(T0 + 2 * DAY + HOUR).voidNc(id, { reason: 'test-data', note: 'alerts from the staging restore drill' }, 'alice');
    expect(voided).toMatchObject({ state: 'void', voided: { reason: 'test-data', note: 'alerts from the staging restore drill', actor: 'alice', at: T0 + 2 * DAY + HOUR } });
    expect(t.entries(id).at(-1)).toMatchObject({
      at: T0 + 2 * DAY + HOUR,
      type: 'voided',
      event: 'nc.voided',
      detail: { actor: 'alice', reason: 'test-data', note: 'alerts from the staging restore drill', previousState: 'open' },
    });
    expect(t.register.events.map((event) => event.type)).toContain('nc.voided');

    // Still firing: the same episode, no NC. Cleared, then back inside its window: a recurrence.
    expect(await t.at(T0 + 2 * DAY + 2 * HOUR).fire()).toBe('occurrence');
    await t.at(T0 + 2 * DAY + 3 * HOUR).resolve();
    expect(await t.at(T0 + 3 * DAY).fire()).toBe('recurrence');
    const [, next] = t.ncs();
    expect(next).toMatchObject({ id: 'NC-2026-0002', state: 'open', recurrenceOf: id });
    expect(t.nc(id).state).toBe('void');
    await chainHolds(t, id);
    await chainHolds(t, 'NC-2026-0002');
  });

  it('is refused on a closed or already void NC, naming its state', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).voidNc(id, { reason: 'duplicate', note: 'same as NC-2026-0007' });
    const again = await refusal(t.at(T0 + 2 * DAY + 2 * HOUR).voidNc(id, { reason: 'duplicate', note: 'twice' }));
    expect(again).toMatchObject({ code: 'RECURD_ERR_NC_VOID', status: 409, message: `${id} is void (duplicate): nothing more can be recorded on it` });
    const action = await refusal(t.at(T0 + 2 * DAY + 2 * HOUR).correctiveAction(id));
    expect(action.code).toBe('RECURD_ERR_NC_VOID');
    const unknown = await refusal(t.at(T0 + 3 * DAY).voidNc('NC-2026-0099', { reason: 'duplicate', note: 'x' }));
    expect(unknown).toMatchObject({ code: 'RECURD_ERR_NC_NOT_FOUND', status: 404 });
  });

  it('leaves the effectiveness figures: a voided NC with an action counts as neither acted nor reopened', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    await t.at(T0 + 2 * DAY + 2 * HOUR).correctiveAction(id, { action: 'restarted sshd' });
    expect(await t.register.ncStats()).toEqual([{ family: 'siem', control: 'A.8.16', acted: 1, reopened: 0, closed: 0, blocked: 0, overdue: 0 }]);
    await t.at(T0 + 2 * DAY + 3 * HOUR).voidNc(id, { reason: 'false-positive', note: 'the scanner of the red team' });
    expect(await t.register.ncStats()).toEqual([{ family: 'siem', control: 'A.8.16', acted: 0, reopened: 0, closed: 0, blocked: 0, overdue: 0 }]);
    expect(await t.register.countNcsByState()).toMatchObject({ open: 0, verifying: 0, void: 1 });
  });
});

describe('risk-accepted', () => {
  it('counts occurrences while accepted and returns to open at expiry, found by the sweep', async () => {
    const t = timeline();
    const id = await raised(t);
    const at = T0 + 2 * DAY + HOUR;
    const accepted = await t.at(at).acceptRisk(id, { approver: 'CISO', reason: 'legacy host retired in April', until: '2026-03-31' }, 'bob');
    const until = ms('2026-04-01T00:00Z');
    expect(accepted).toMatchObject({ state: 'risk-accepted', riskAcceptance: { approver: 'CISO', reason: 'legacy host retired in April', until, actor: 'bob', at } });
    expect(t.entries(id).at(-1)).toMatchObject({ type: 'risk-accepted', event: 'nc.risk-accepted', detail: { actor: 'bob', approver: 'CISO', until: '2026-04-01T00:00:00.000Z', previousState: 'open' } });

    // A return while accepted: one more occurrence, the NC stays accepted.
    await t.at(at + HOUR).resolve();
    expect(await t.at(T0 + 4 * DAY).fire()).toBe('recurrence');
    expect(t.nc(id)).toMatchObject({ state: 'risk-accepted', occurrences: 3 });
    expect(t.ncs()).toHaveLength(1);

    await t.at(until - 1).tick();
    expect(t.nc(id).state).toBe('risk-accepted');
    await t.at(until + HOUR).tick();
    expect(t.nc(id)).toMatchObject({ state: 'open', riskAcceptance: null });
    expect(t.entries(id).at(-1)).toMatchObject({ at: until, type: 'risk-expired', event: 'nc.risk-expired', detail: { approver: 'CISO', acceptedBy: 'bob', until: '2026-04-01T00:00:00.000Z', state: 'open' } });
    expect(t.register.events.filter((event) => event.type === 'nc.risk-expired')).toHaveLength(1);
    await t.at(until + 2 * HOUR).tick();
    expect(t.register.events.filter((event) => event.type === 'nc.risk-expired')).toHaveLength(1);
    await chainHolds(t, id);
  });

  it('refuses an expiry in the past, naming until, and a verifying NC', async () => {
    const t = timeline();
    const id = await raised(t);
    const past = await refusal(t.at(T0 + 2 * DAY + HOUR).acceptRisk(id, { approver: 'CISO', reason: 'r', until: '2026-03-01' }));
    expect(past).toMatchObject({ code: 'RECURD_ERR_DATE_IN_PAST', status: 422, details: [{ path: 'until' }] });
    expect(past.message).toMatch(/^until: 2026-03-01 is in the past/);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    await t.at(T0 + 2 * DAY + 2 * HOUR).correctiveAction(id);
    const verifying = await refusal(t.at(T0 + 2 * DAY + 3 * HOUR).acceptRisk(id, { approver: 'CISO', reason: 'r', until: '2026-12-31' }));
    expect(verifying.code).toBe('RECURD_ERR_NC_VERIFYING');
  });
});

describe('overdue corrective actions', () => {
  it('refuses a due date in the past, naming dueDate', async () => {
    const t = timeline();
    const id = await raised(t);
    const error = await refusal(t.at(T0 + 2 * DAY + HOUR).correctiveAction(id, { dueDate: '2020-01-31' }));
    expect(error).toMatchObject({ code: 'RECURD_ERR_DATE_IN_PAST', status: 422, details: [{ path: 'dueDate', message: expect.stringContaining('2020-01-31 is in the past') as unknown }] });
    expect(t.nc(id).state).toBe('open');
  });

  it('sends nc.overdue once when the due date passes with the NC not closed, and counts it until it closes', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    await t.at(T0 + 2 * DAY + 2 * HOUR).correctiveAction(id, { dueDate: '2026-03-06' });
    const dueAt = ms('2026-03-07T00:00Z');
    await t.at(dueAt - 1).tick();
    expect(t.register.events.filter((event) => event.type === 'nc.overdue')).toEqual([]);
    await t.at(dueAt + HOUR).tick();
    await t.at(dueAt + 2 * HOUR).tick();
    await t.at(dueAt + DAY).resolve();
    const overdue = t.register.events.filter((event) => event.type === 'nc.overdue');
    expect(overdue).toHaveLength(1);
    expect(overdue[0]).toMatchObject({ at: dueAt, nc: { id, state: 'verifying', overdueSince: dueAt } });
    expect(t.entries(id).filter((entry) => entry.type === 'overdue')).toEqual([
      expect.objectContaining({ at: dueAt, event: 'nc.overdue', detail: { dueDate: '2026-03-06', dueAt: '2026-03-07T00:00:00.000Z', owner: 'secops', action: expect.any(String) as unknown, state: 'verifying' } }),
    ]);
    expect(await t.register.ncStats()).toEqual([expect.objectContaining({ overdue: 1 })]);
    expect((await t.register.listNcs({ overdue: true })).map((nc) => nc.id)).toEqual([id]);
    expect(await t.register.pageNcs({ overdue: true }, { limit: 10 })).toMatchObject({ items: [{ id }], count: 1, nextCursor: null });

    // The window passes with the evidence: closed, no longer overdue.
    await t.at(T0 + 40 * DAY).tick();
    expect(t.nc(id).state).toBe('closed');
    expect(await t.register.ncStats()).toEqual([expect.objectContaining({ overdue: 0, closed: 1 })]);
    expect(await t.register.listNcs({ overdue: true })).toEqual([]);
    await chainHolds(t, id);
  });

  it('is not overdue once void, and a new action clears it', async () => {
    const t = timeline();
    const id = await raised(t);
    await t.at(T0 + 2 * DAY + HOUR).resolve();
    await t.at(T0 + 2 * DAY + 2 * HOUR).correctiveAction(id, { dueDate: '2026-03-05' });
    await t.at(T0 + 5 * DAY).tick();
    expect(t.nc(id).overdueSince).toBe(ms('2026-03-06T00:00Z'));
    await t.at(T0 + 6 * DAY).fire();
    expect(t.nc(id)).toMatchObject({ state: 'reopened', overdueSince: ms('2026-03-06T00:00Z') });
    await t.at(T0 + 6 * DAY + HOUR).resolve();
    await t.at(T0 + 6 * DAY + 2 * HOUR).correctiveAction(id, { dueDate: '2026-03-20' });
    expect(t.nc(id)).toMatchObject({ state: 'verifying', overdueSince: null });
    expect(await t.register.listNcs({ overdue: true })).toEqual([]);
    await t.at(T0 + 7 * DAY).voidNc(id, { reason: 'false-positive', note: 'a pen test' });
    await t.at(ms('2026-03-22T00:00Z')).tick();
    expect(t.register.events.filter((event) => event.type === 'nc.overdue')).toHaveLength(1);
  });
});
