/** One failing nightly backup: the received alert the store tests decide, with overrides. */
import type { ReceivedAlert } from '../../src/core/types.js';

/** Received when it happened unless `receivedAt` says otherwise. */
export function backupAlert(overrides: Partial<ReceivedAlert> & Pick<ReceivedAlert, 'observedAt'>): ReceivedAlert {
  return {
    id: 'e1',
    source: 'restic',
    family: 'backup',
    status: 'firing',
    asset: 'srv-db-01',
    check: 'nightly-backup',
    message: 'nightly backup failed',
    severity: 'high',
    control: 'A.8.13',
    labels: {},
    evidence: {},
    ...overrides,
    receivedAt: overrides.receivedAt ?? overrides.observedAt,
  };
}
