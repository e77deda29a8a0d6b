/**
 * The set-ups that many test files share, each registering its own vitest hooks: a private
 * redis-server for a describe block, and on top of it one daemon per test on a fresh key prefix.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import { testConfig } from './daemon.js';

/**
 * A redis-server started before the tests of the calling describe block and stopped after them.
 * The object stands for the server of the moment, so that it can be taken before the server runs.
 */
export function privateRedis(): TestRedis {
  let current: TestRedis | undefined;
  beforeAll(async () => {
    current = await startRedis();
  });
  afterAll(async () => {
    await current?.stop();
  });
  return new Proxy({} as TestRedis, {
    get(_target, property) {
      if (current === undefined) throw new Error('the private Redis runs only during the tests of the describe block that asked for it');
      const value: unknown = Reflect.get(current, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}

export interface DaemonSuite {
  readonly redis: TestRedis;
  /** This test's key prefix: the daemon's keys, and nothing else, are under it. */
  readonly prefix: string;
  /** The test config on this test's prefix. */
  config(overrides?: Partial<ConfigInput>): Config;
  /** Starts a daemon that is stopped after the test. */
  start(overrides?: Partial<ConfigInput>): Promise<Daemon>;
  run(config: Config, options?: Partial<DaemonOptions>): Promise<Daemon>;
}

/**
 * For a describe block whose tests each run a daemon: after each test the daemon is stopped, its
 * prefix dropped, and the Redis must then be empty (the daemon wrote nowhere else).
 */
export function daemonSuite(): DaemonSuite {
  const redis = privateRedis();
  let prefix = '';
  const running: Daemon[] = [];
  beforeEach(() => {
    prefix = testPrefix();
  });
  afterEach(async () => {
    for (const daemon of running.splice(0)) await daemon.stop();
    await dropPrefix(redis.client, prefix);
    expect(await redis.client.dbsize()).toBe(0);
  });
  const suite: DaemonSuite = {
    redis,
    get prefix() {
      return prefix;
    },
    config: (overrides = {}) => testConfig(redis.url, prefix, overrides),
    start: (overrides = {}) => suite.run(suite.config(overrides)),
    async run(config, options = {}) {
      const daemon = await startDaemon(config, { logger: createLogger(config.log.level), ...options });
      running.push(daemon);
      return daemon;
    },
  };
  return suite;
}
