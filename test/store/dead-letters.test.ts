/** The dead-letter list keeps what did not fit, bounded per entry as well as in count and age. */
import { describe, expect, it } from 'vitest';
import { DeadLetters, MAX_ERRORS } from '../../src/dead-letters.js';
import { testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';

describe('dead letters', () => {
  const redis = privateRedis();
  const prefix = testPrefix();

  it('keeps the first errors of a body with thousands of wrong items, and how many more there were', async () => {
    const letters = new DeadLetters(redis.client, prefix);
    const errors = Array.from({ length: 10_000 }, (_, index) => ({ path: `events[${index}].state`, message: 'is 7, not one of firing, resolved' }));
    const id = await letters.add('generic', Date.now(), '{"events":[]}', errors);
    const letter = await letters.get(id);
    expect(letter?.errors).toEqual(errors.slice(0, MAX_ERRORS));
    expect(letter?.errorsOmitted).toBe(10_000 - MAX_ERRORS);
    // Entries written before the cap read as complete.
    const old = await redis.client.xadd(`${prefix}:dlq`, '*', 'connector', 'generic', 'route', '', 'receivedAt', '1', 'errors', '[]', 'body', '{}', 'truncated', '0');
    expect((await letters.get(old ?? ''))?.errorsOmitted).toBe(0);
  });
});
