/**
 * One NC through its life, as the outbox hands it to a notifier: each event carries the NC as the
 * commit that made the event left it (src/store/lua/commit-4.lua), with an id `<NC>.<timeline entry id>`.
 */
import type { Redis } from 'ioredis';
import { ManualClock } from '../../src/core/clock.js';
import type { CorrectiveAction, NcEvent, NcEventType, Nonconformity } from '../../src/core/types.js';
import { loadAnnexA } from '../../src/config/annex-a.js';
import type { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import type { NotifierServices } from '../../src/notifiers/types.js';
import { RedisTicketLinks } from '../../src/ticket-links.js';
import { metricsOf } from './daemon.js';
import { OPENED_AT, openNc } from './nc.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export 
let entry = 0;

export function eventOf(type: NcEventType, nc: Nonconformity): NcEvent {
  entry += 1;
  return { id: `${nc.id}.${nc.updatedAt}-${entry}`, type, at: nc.updatedAt, nc: structuredClone(nc) };
}

const ACTION: CorrectiveAction = {
  action: 'moved the backup target to a monitored volume with 30% headroom',
  owner: 'ops',
  rootCause: 'the target volume filled up unnoticed: no alert on its free space',
  dueDate: '2026-12-15',
  recordedAt: OPENED_AT + 2 * HOUR,
  strength: 'strong',
  strengthReason: 'changes the system: a monitored volume',
  rootCauseAnalysis: null,
};

/** The NC after each event of a life with every kind of event, in order. */
export function lifeOf(base: Nonconformity = openNc()): Record<NcEventType, Nonconformity> {
  const opened = base;
  const occurrence: Nonconformity = { ...opened, occurrences: 3, updatedAt: OPENED_AT + HOUR, lastOccurrenceAt: OPENED_AT + HOUR };
  const corrective: Nonconformity = {
    ...occurrence,
    state: 'verifying',
    owner: 'ops',
    dueDate: '2026-12-15',
    correctiveAction: ACTION,
    updatedAt: ACTION.recordedAt,
    windowStartsAt: ACTION.recordedAt,
    windowEndsAt: ACTION.recordedAt + 30 * DAY,
    verification: { by: 'evidence', maxGap: null, waitingFor: null, healthyReports: 0, healthy: [], lastHealthyAt: null, lastReportAt: null, longestGap: null, lastFiringAt: null, blocked: null },
  };
  const blocked: Nonconformity = {
    ...corrective,
    updatedAt: corrective.windowEndsAt ?? 0,
    windowStartsAt: null,
    windowEndsAt: null,
    verification: { ...(corrective.verification as NonNullable<Nonconformity['verification']>), waitingFor: 'report', blocked: ['BackupFailed did not report for 4d 2h (longest gap allowed: 1d 12h)'] },
  };
  const reopened: Nonconformity = {
    ...corrective,
    state: 'reopened',
    reopenCount: 1,
    severity: 'critical',
    occurrences: 4,
    updatedAt: OPENED_AT + 5 * DAY,
    lastOccurrenceAt: OPENED_AT + 5 * DAY,
    windowStartsAt: null,
    windowEndsAt: null,
  };
  const verified: Nonconformity = {
    ...corrective,
    state: 'closed',
    closedAt: corrective.windowEndsAt,
    updatedAt: corrective.windowEndsAt ?? 0,
    verification: { ...(corrective.verification as NonNullable<Nonconformity['verification']>), healthyReports: 30, lastHealthyAt: (corrective.windowEndsAt ?? 0) - HOUR },
  };
  const voided: Nonconformity = { ...opened, state: 'void', updatedAt: OPENED_AT + 3 * HOUR, voided: { reason: 'test-data', note: 'restore drill on the staging copy', actor: 'auditor', at: OPENED_AT + 3 * HOUR } };
  const accepted: Nonconformity = {
    ...opened,
    state: 'risk-accepted',
    updatedAt: OPENED_AT + 4 * HOUR,
    riskAcceptance: { approver: 'ciso', reason: 'legacy host retired in Q1', until: OPENED_AT + 60 * DAY, actor: 'ciso', at: OPENED_AT + 4 * HOUR },
  };
  const expired: Nonconformity = { ...accepted, state: 'open', riskAcceptance: null, updatedAt: OPENED_AT + 60 * DAY };
  const overdue: Nonconformity = { ...corrective, overdueSince: Date.parse('2026-12-16T00:00:00Z'), updatedAt: Date.parse('2026-12-16T00:00:00Z') };
  return {
    'nc.opened': opened,
    'nc.occurrence': occurrence,
    'nc.corrective-action': corrective,
    'nc.verification-blocked': blocked,
    'nc.reopened': reopened,
    'nc.verified-effective': verified,
    'nc.voided': voided,
    'nc.risk-accepted': accepted,
    'nc.risk-expired': expired,
    'nc.overdue': overdue,
  };
}

/** What a notifier gets from the daemon, with links in the test's Redis under its prefix. */
export function servicesFor(redis: Redis, prefix: string, clock = new ManualClock(OPENED_AT)): NotifierServices & { links: RedisTicketLinks; clock: ManualClock } {
  return { links: new RedisTicketLinks(redis, prefix), clock, logger: createLogger('silent'), annexA: loadAnnexA(), baseUrl: 'https://recurd.example.org' };
}

/** How often a notifier's deliveries ended `outcome`, from the daemon's metrics (0 when not counted yet). */
export async function notificationCount(daemon: Daemon, notifier: string, outcome: 'delivered' | 'retrying' | 'failed'): Promise<number> {
  const match = new RegExp(`recurd_notifications_total\\{notifier="${notifier}",outcome="${outcome}"\\} (\\d+)`).exec(await metricsOf(daemon));
  return match === null ? 0 : Number(match[1]);
}
