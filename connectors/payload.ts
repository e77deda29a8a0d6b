/**
 * Naming the part of a payload that does not fit, in words an admin can act on: every connector
 * reports its errors through these, so that paths and messages read alike whatever the source.
 */
import type { z } from 'zod';

/**
 * A payload path as people read it: `alerts[2].labels.host`. The whole body is `(body)` rather
 * than an empty string, so that every error points somewhere a reader can see.
 */
export function payloadPath(segments: readonly PropertyKey[]): string {
  if (segments.length === 0) return '(body)';
  return segments
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (!/^[^.[\]\s"]+$/.test(key)) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join('');
}

/** What a payload value is, echoing at most a short scalar of it (payloads may carry secrets). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 64 ? `a ${value.length}-character string` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return 'an object';
    case 'undefined':
      return 'undefined';
    default:
      return `a ${typeof value}`;
  }
}

function quoted(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** zod's messages rewritten to say what the payload held: `missing`, `is "ok", not one of …`. */
export const payloadIssueMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined) return 'missing';
  switch (issue.code) {
    case 'invalid_value':
      return issue.values.length === 1
        ? `is ${describeValue(issue.input)}, not ${quoted(issue.values[0])}`
        : `is ${describeValue(issue.input)}, not one of ${issue.values.map(quoted).join(', ')}`;
    case 'invalid_type':
      return `is ${describeValue(issue.input)}, expected ${issue.expected}`;
    case 'invalid_format':
      return issue.format === 'datetime'
        ? `is ${describeValue(issue.input)}, not an RFC 3339 time with offset`
        : undefined;
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1 ? 'is empty' : undefined;
    default:
      return undefined;
  }
};

/**
 * A body that is not JSON is a payload error like any other, except where routes carry the
 * meaning (cron-monitor style intakes): there an empty body is `{}`, and one that is not JSON (a
 * job's NDJSON output or its stderr) is passed on as its text.
 */
export function parseIntakeBody(text: string, subroutes: boolean): { value: unknown } | { error: string } {
  if (subroutes && text.trim() === '') return { value: {} };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return subroutes ? { value: text } : { error: (error as Error).message };
  }
}

/**
 * Whether a parsed body nests arrays and objects deeper than `max`. Walked with a stack of its own:
 * a body nested ten thousand deep must get its 400 here, not overflow the call stack of whatever
 * serialises it later.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > max) return true;
    for (const child of Array.isArray(next.value) ? next.value : Object.values(next.value)) stack.push({ value: child, depth });
  }
  return false;
}
