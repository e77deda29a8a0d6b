/**
 * One real NC event of each type, made by the real engine over the in-memory register (as the
 * lifecycle tests do): what notifiers are given in production, without a daemon.
 */
import { NC_EVENT_TYPES, type NcEvent, type NcEventType } from '../../src/core/types.js';
import { DAY, HOUR, ms, timeline, type Timeline } from './timeline.js';

const T0 = ms('2026-03-02T02:00Z');
/** A nightly backup job: verified by its success reports, Annex A 8.13. */
export const BACKUP = { source: 'restic', family: 'backup', check: 'nightly-backup', asset: 'srv-db-01', control: 'A.8.13', message: 'nightly backup of srv-db-01 failed' } as const;

/** Failed, succeeded, failed again: NC-2026-0001 is open and the job still failing. */
async function raised(t: Timeline): Promise<string> {
  await t.at(T0).fire(BACKUP);
  await t.at(T0 + DAY).resolve(BACKUP);
  await t.at(T0 + 2 * DAY).fire({ ...BACKUP, id: 'proof' });
  return 'NC-2026-0001';
}

async function nightlySuccesses(t: Timeline, from: number, to: number): Promise<void> {
  for (let at = from; at <= to; at += DAY) await t.at(at).resolve(BACKUP);
}

/** An NC's life from opened through a reopen to verified effective. */
async function lifecycle(): Promise<Timeline> {
  const t = timeline();
  const id = await raised(t);
  await t.at(T0 + 2 * DAY + HOUR).resolve(BACKUP);
  await t.at(T0 + 2 * DAY + 2 * HOUR).fire({ ...BACKUP, id: 'again' });
  await t.at(T0 + 2 * DAY + 3 * HOUR).resolve(BACKUP);
  await t.at(T0 + 3 * DAY).correctiveAction(id, { action: 'restarted the backup agent', rootCause: null, rootCauseAnalysis: null });
  await t.at(T0 + 5 * DAY).fire({ ...BACKUP, id: 'back' });
  await t.at(T0 + 5 * DAY + HOUR).resolve(BACKUP);
  await t.at(T0 + 6 * DAY).correctiveAction(id, { action: 'moved the backup target to a monitored volume with quota alerts', dueDate: '2026-04-30' });
  await nightlySuccesses(t, T0 + 7 * DAY, T0 + 37 * DAY);
  await t.at(T0 + 37 * DAY).tick();
  return t;
}

/** The action was recorded after the job's last success, and no report came since. */
async function blocked(): Promise<Timeline> {
  const t = timeline();
  const id = await raised(t);
  await t.at(T0 + 2 * DAY + HOUR).resolve(BACKUP);
  await t.at(T0 + 3 * DAY).correctiveAction(id, { action: 'pointed the job at the new NAS share' });
  await t.at(T0 + 34 * DAY).tick();
  return t;
}

async function voided(): Promise<Timeline> {
  const t = timeline();
  const id = await raised(t);
  await t.at(T0 + 2 * DAY + HOUR).voidNc(id, { reason: 'test-data', note: 'alerts from the staging restore drill' }, 'alice');
  return t;
}

async function riskAccepted(): Promise<Timeline> {
  const t = timeline();
  const id = await raised(t);
  await t.at(T0 + 2 * DAY + HOUR).acceptRisk(id, { approver: 'CISO', reason: 'legacy host retired in April', until: '2026-03-31' }, 'bob');
  await t.at(ms('2026-04-01T01:00Z')).tick();
  return t;
}

async function overdue(): Promise<Timeline> {
  const t = timeline();
  const id = await raised(t);
  await t.at(T0 + 2 * DAY + HOUR).resolve(BACKUP);
  await t.at(T0 + 2 * DAY + 2 * HOUR).correctiveAction(id, { action: 'replace the failing backup disk', dueDate: '2026-03-06' });
  await t.at(ms('2026-03-07T01:00Z')).tick();
  return t;
}

/** The first event of each type, from timelines that between them make every one. */
export async function oneEventOfEachType(): Promise<Map<NcEventType, NcEvent>> {
  const events = new Map<NcEventType, NcEvent>();
  for (const t of await Promise.all([lifecycle(), blocked(), voided(), riskAccepted(), overdue()])) {
    for (const event of t.register.events) if (!events.has(event.type)) events.set(event.type, event);
  }
  const missing = NC_EVENT_TYPES.filter((type) => !events.has(type));
  if (missing.length > 0) throw new Error(`no ${missing.join(', ')} event came out of the timelines`);
  return events;
}
