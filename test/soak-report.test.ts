/** The soak's verdict on a scenario: what makes `npm run soak` exit non-zero, and the row it prints. */
import { describe, expect, it } from 'vitest';
import { lost, tableRow, verdict, type ScenarioResult } from '../bench/soak-report.js';

const passing: ScenarioResult = {
  scenario: '(3) Redis outage',
  accepted: 3000,
  decided: 3000,
  unaccepted: 0,
  extra: 0,
  ncsExpected: 1000,
  ncsFound: 1000,
  statuses: { '202': 300, '503 RECURD_ERR_REDIS_UNREACHABLE': 40 },
  expected5xx: ['503 RECURD_ERR_REDIS_UNREACHABLE'],
  longestMs: 2100,
  longestWhileRedisDownMs: 2100,
  problems: [],
};

describe('soak verdict', () => {
  it('passes a scenario where every accepted alert was decided, the NCs match and the only 5xx is the expected one, in time', () => {
    expect(verdict(passing, 2000, 500)).toEqual([]);
    expect(tableRow(passing, 2000, 500)).toBe(
      '| (3) Redis outage | 3000 | 3000 | 0 | 1000 / 1000 | 202×300, 503 RECURD_ERR_REDIS_UNREACHABLE×40 | 2100 ms | 2100 ms | pass |',
    );
  });

  it('fails on each thing that can go wrong, naming it', () => {
    const failing: ScenarioResult = {
      ...passing,
      decided: 2990,
      unaccepted: 3,
      extra: 10,
      ncsFound: 1001,
      statuses: { ...passing.statuses, '500 RECURD_ERR_INTERNAL': 2, '503 RECURD_ERR_NOT_READY': 1 },
      longestWhileRedisDownMs: 4100,
      problems: ['recurd exited with 1 on SIGTERM, not 0'],
    };
    expect(lost(failing)).toBe(10);
    expect(verdict(failing, 2000, 500)).toEqual([
      'recurd exited with 1 on SIGTERM, not 0',
      '10 accepted alert(s) never decided',
      '3 valid alert(s) never accepted',
      '10 observation(s) more than the distinct alerts sent: a duplicate decided again',
      '1001 NCs found where the scenario raises 1000',
      'answered 500 RECURD_ERR_INTERNAL ×2',
      'answered 503 RECURD_ERR_NOT_READY ×1',
      'an intake answer took 4100 ms while Redis was down (redis.commandTimeout 2000 ms + 500 ms)',
    ]);
    expect(tableRow(failing, 2000, 500)).toMatch(/\| FAIL: recurd exited with 1 on SIGTERM, not 0; 10 accepted alert\(s\) never decided; .* \|$/);
  });

  it('takes a 4xx or no answer as the sender’s business, and an answer just within the margin as in time', () => {
    const refused = { ...passing, statuses: { '202': 300, '400': 50, '413': 4, 'no answer': 12 }, longestWhileRedisDownMs: 2500 };
    expect(verdict(refused, 2000, 500)).toEqual([]);
    expect(verdict({ ...refused, longestWhileRedisDownMs: 2501 }, 2000, 500)).toHaveLength(1);
  });
});
