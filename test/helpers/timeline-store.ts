/** Editing a stored timeline the way someone with access to Redis could, for the chain's tests. */
import type { Redis } from 'ioredis';

/**
 * Rewrites a timeline stream with `edit` applied to each entry's fields, keeping every entry's id:
 * a stream entry cannot be changed in place, so the stream is deleted and its entries added again.
 */
export async function rewriteTimeline(redis: Redis, key: string, edit: (entryId: string, fields: Record<string, string | undefined>) => void): Promise<void> {
  const entries = await redis.xrange(key, '-', '+');
  const multi = redis.multi().del(key);
  for (const [entryId, list] of entries) {
    const fields: Record<string, string | undefined> = {};
    for (let index = 0; index + 1 < list.length; index += 2) fields[list[index] as string] = list[index + 1];
    edit(entryId, fields);
    const flat = Object.entries(fields).flatMap(([name, value]) => (value === undefined ? [] : [name, value]));
    multi.xadd(key, entryId, ...flat);
  }
  await multi.exec();
}
