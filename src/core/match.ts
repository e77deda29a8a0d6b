/** Which alerts or symptoms a rule applies to, as admins write it in YAML. */
import type { Family } from './types.js';

/** Every given field must match; `*` matches any run of characters; labels are matched by name. */
export interface Match {
  source?: string;
  family?: string;
  check?: string;
  control?: string;
  labels?: Record<string, string>;
}

export interface MatchSubject {
  source: string;
  family: Family;
  check: string;
  control?: string | null | undefined;
  labels: Record<string, string>;
}

const REGEX_SPECIAL = /[.+?^${}()|[\]\\]/g;

export function globMatcher(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return (value) => value === pattern;
  const body = pattern
    .split('*')
    .map((part) => part.replace(REGEX_SPECIAL, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${body}$`, 's');
  return (value) => regex.test(value);
}

export function compileMatch(match: Match = {}): (subject: MatchSubject) => boolean {
  const tests: Array<(subject: MatchSubject) => boolean> = [];
  for (const field of ['source', 'family', 'check', 'control'] as const) {
    const pattern = match[field];
    if (pattern === undefined) continue;
    const test = globMatcher(pattern);
    tests.push((subject) => test(subject[field] ?? ''));
  }
  for (const [name, pattern] of Object.entries(match.labels ?? {})) {
    const test = globMatcher(pattern);
    tests.push((subject) => subject.labels[name] !== undefined && test(subject.labels[name]));
  }
  return (subject) => tests.every((test) => test(subject));
}
