/** The dead-letter list keeps what did not fit, bounded per entry as well as in count and age. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetters, MAX_ERRORS } from '../../src/dead-letters.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';

describe('dead letters', () => {
  let redis: TestRedis;
  const prefix = testPrefix();

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await dropPrefix(redis.client, prefix);
    await redis.stop();
  });

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
