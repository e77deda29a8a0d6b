/** The compact form of what was seen of one source event, as the register stores it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSeen, remember, serializeSeen, type SeenRecord } from '../../src/core/seen.js';

describe('seen records', () => {
  it('reads back what it wrote, with the receipt of the latest resolve', () => {
    const status = fc.constantFrom('firing' as const, 'resolved' as const);
    const alert = fc.record({ status, reporter: fc.option(fc.constantFrom('am-0', 'am-1'), { nil: undefined }), receivedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }) });
    fc.assert(
      fc.property(fc.array(alert, { minLength: 1, maxLength: 10 }), (alerts) => {
        let record: SeenRecord | null = null;
        for (const seen of alerts) record = remember(record, seen);
        if (record === null) throw new Error('remembered nothing');
        // The statuses are a set: the compact form keeps them, not their order.
        const asSet = (seen: SeenRecord | null) => seen && { ...seen, statuses: [...seen.statuses].sort() };
        expect(asSet(parseSeen(serializeSeen(record)))).toEqual(asSet(record));
      }),
    );
  });

  it('keeps the latest resolve, and reads records written before it was kept', () => {
    const record = remember(remember(remember(null, { status: 'firing', receivedAt: 1000 }), { status: 'resolved', receivedAt: 5000 }), { status: 'firing', receivedAt: 9000 });
    expect(record).toEqual({ last: 'firing', statuses: ['firing', 'resolved'], reporters: {}, resolvedReceivedAt: 5000 });
    expect(serializeSeen(record)).toBe(`fr@${(5000).toString(36)}`);
    expect(parseSeen('fr|1a2b3c4dr')).toEqual({ last: 'firing', statuses: ['firing', 'resolved'], reporters: { '1a2b3c4d': 'resolved' } });
  });
});
