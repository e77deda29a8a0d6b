/**
 * Each atomic Redis operation is a Lua file named `<name>-<numKeys>.lua` beside this module,
 * read once and run by its SHA1, sent in full only when Redis does not have it yet.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export class LuaScript {
  private readonly source: string;
  private readonly sha: string;
  readonly numberOfKeys: number;

  constructor(readonly name: string) {
    const match = /-(\d+)$/.exec(name);
    if (match === null) throw new Error(`script name ${name} must end in -<numKeys>`);
    this.numberOfKeys = Number(match[1]);
    this.source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
