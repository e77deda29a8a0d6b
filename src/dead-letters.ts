/**
 * The dead-letter list: payloads (or items of a poll) that did not fit their connector, kept with
 * the failing field paths so that nothing sent is silently dropped. A capped Redis stream: the
 * oldest entries go once the count or the age of `retention.deadLetters` is reached; each entry can be shown, replayed or dropped by id.
 */
import type { Redis } from 'ioredis';
import type { PayloadError } from '../connectors/types.js';

export interface DeadLetter {
  id: string;
  connector: string;
  /** What followed /hooks/{connector}/ in the URL, for intakes with routes below their own. */
  route: string;
  receivedAt: number;
  errors: PayloadError[];
  /** Errors beyond MAX_ERRORS, counted but not kept: a replay names them all again. */
  errorsOmitted: number;
  /** The payload as received (text), cut at the size limit. */
  body: string;
  truncated: boolean;
}

/** Bodies longer than this are kept cut: the entry says so, and the errors still name the paths. */
const MAX_BODY = 256 * 1024;
/** Errors kept per entry: a hostile body of 10,000 wrong items would otherwise be written 30 times over. */
export const MAX_ERRORS = 100;

export class DeadLetters {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    /** At most `count` entries, none older than `age` ms: the oldest go first. */
    private readonly keep: { count: number; age: number } = { count: 10_000, age: 90 * 86_400_000 },
  ) {
    this.key = `${prefix}:dlq`;
  }

  async add(connector: string, receivedAt: number, body: string, errors: PayloadError[], route = ''): Promise<string> {
    const truncated = body.length > MAX_BODY;
    const id = await this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      this.keep.count,
      '*',
      'connector',
      connector,
      'route',
      route,
      'receivedAt',
      String(receivedAt),
      'errors',
      JSON.stringify(errors.slice(0, MAX_ERRORS)),
      'errorsOmitted',
      String(Math.max(0, errors.length - MAX_ERRORS)),
      'body',
      truncated ? body.slice(0, MAX_BODY) : body,
      'truncated',
      truncated ? '1' : '0',
    );
    // Stream ids start with their time in ms: those older than the age go.
    await this.redis.xtrim(this.key, 'MINID', '~', Math.max(0, receivedAt - this.keep.age));
    return id ?? '';
  }

  /** Newest first. */
  async list(limit = 100): Promise<DeadLetter[]> {
    const entries = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', limit);
    return entries.map(([id, fields]) => parse(id, fields));
  }

  async get(id: string): Promise<DeadLetter | null> {
    const [entry] = await this.redis.xrange(this.key, id, id);
    return entry === undefined ? null : parse(entry[0], entry[1]);
  }

  async drop(id: string): Promise<boolean> {
    return (await this.redis.xdel(this.key, id)) === 1;
  }

  async count(): Promise<number> {
    return this.redis.xlen(this.key);
  }
}

function parse(id: string, fields: string[]): DeadLetter {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index] as string] = fields[index + 1] as string;
  return {
    id,
    connector: record.connector ?? '',
    route: record.route ?? '',
    receivedAt: Number(record.receivedAt),
    errors: JSON.parse(record.errors ?? '[]') as PayloadError[],
    errorsOmitted: Number(record.errorsOmitted ?? 0),
    body: record.body ?? '',
    truncated: record.truncated === '1',
  };
}
