/** What notifier tests start from: an NC with every field set, and the DeliveryError a delivery ends in. */
import { expect } from 'vitest';
import type { Nonconformity } from '../../src/core/types.js';
import { DeliveryError } from '../../src/notifiers/types.js';

export const OPENED_AT = Date.parse('2026-11-23T02:36:02.135Z');

/** A backup NC on db-1 under A.8.13, open. */
export function openNc(overrides: Partial<Nonconformity> = {}): Nonconformity {
  return {
    id: 'NC-2026-0042',
    state: 'open',
    fingerprint: '9f86d081884c7d65',
    source: 'alertmanager',
    family: 'backup',
    control: 'A.8.13',
    check: 'BackupFailed',
    asset: 'db-1',
    title: 'backup of db-1 failed: target volume full',
    severity: 'high',
    detector: 'recurrence',
    reason: 'BackupFailed on db-1 failed again 3 days after it was fixed (window 30d)',
    reopenCount: 0,
    occurrences: 2,
    openedAt: OPENED_AT,
    updatedAt: OPENED_AT,
    lastOccurrenceAt: OPENED_AT,
    correctiveAction: null,
    windowStartsAt: null,
    windowEndsAt: null,
    verification: null,
    closedAt: null,
    recurrenceOf: null,
    assets: [],
    assetCount: 0,
    flapping: false,
    elsewhere: [],
    elsewhereCount: 0,
    timelineHead: null,
    voided: null,
    riskAcceptance: null,
    overdueSince: null,
    owner: null,
    dueDate: null,
    comments: 0,
    attachments: 0,
    ...overrides,
  };
}

/** The DeliveryError a delivery fails with; the test fails if it succeeds or fails otherwise. */
export async function refusal(delivery: Promise<unknown>): Promise<DeliveryError> {
  const error = await delivery.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}
