/**
 * The sources' life as the daemon keeps it in Redis (ConnectorStatus): its connectors' error spells
 * and its heartbeats, the evidence for NCs verified by silence.
 */
import { describe, expect, it } from 'vitest';
import { ConnectorStatus } from '../../src/connector-status.js';
import { testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');

describe('connector status as proof of life', () => {
  const redis = privateRedis();
  const prefix = testPrefix();

  it('keeps each run of errors as a spell, the current one open', async () => {
    const status = new ConnectorStatus(redis.client, prefix);
    await status.succeeded('siem', T0);
    await status.failed('siem', T0 + MINUTE, 'connect ECONNREFUSED');
    await status.failed('siem', T0 + 2 * MINUTE, 'connect ECONNREFUSED');
    await status.succeeded('siem', T0 + 30 * MINUTE);
    await status.failed('siem', T0 + 40 * MINUTE, 'index_not_found_exception');
    const life = (await status.liveness(['siem', 'never-heard'])).get('siem');
    expect(life).toEqual({
      errorSpells: [
        { from: T0 + MINUTE, to: T0 + 30 * MINUTE },
        { from: T0 + 40 * MINUTE, to: null },
      ],
      heartbeat: null,
    });
    expect((await status.all()).siem).toMatchObject({ consecutiveErrors: 1, lastError: 'index_not_found_exception', errorSince: T0 + 40 * MINUTE });
  });

  it('records a heartbeat gap longer than its maxGap, and never moves the latest heartbeat back', async () => {
    const status = new ConnectorStatus(redis.client, prefix);
    for (const minutes of [0, 5, 10, 40, 45]) await status.heartbeat('alertmanager', T0 + minutes * MINUTE, 10 * MINUTE);
    // Two replicas may record one heartbeat late: it changes nothing.
    await status.heartbeat('alertmanager', T0 + 42 * MINUTE, 10 * MINUTE);
    expect((await status.liveness(['alertmanager'])).get('alertmanager')).toEqual({
      errorSpells: [],
      heartbeat: { lastAt: T0 + 45 * MINUTE, gaps: [{ from: T0 + 10 * MINUTE, to: T0 + 40 * MINUTE }] },
    });
    expect((await status.liveness(['quiet'])).get('quiet')).toEqual({ errorSpells: [], heartbeat: null });
  });
});
