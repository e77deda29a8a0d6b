/**
 * The API's words the console offers in its filters and forms. Only types come from the core (its
 * modules with these lists also hold zod schemas, which would triple the bundle); `every` makes
 * the compiler refuse a list that misses or adds a value, so they cannot drift apart.
 */
import type { Family, NcState, SymptomState, VoidReason } from '../../src/core/types.js';

/** The list, when it names each member of `T` and nothing else. */
function every<T extends string>() {
  return <const L extends readonly T[]>(list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> })): L => list;
}

export const NC_STATES = every<NcState>()(['open', 'reopened', 'verifying', 'closed', 'risk-accepted', 'void']);
export const FAMILIES = every<Family>()(['backup', 'av', 'siem', 'config-drift']);
export const SYMPTOM_STATES = every<SymptomState>()(['active', 'fixed', 'verified']);
export const VOID_REASONS = every<VoidReason>()(['false-positive', 'duplicate', 'test-data']);
// The server's roles module declares Fastify types, which a browser build cannot load: test/console.test.ts compares the two.
export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const SYMPTOM_STATE_LABELS: Record<SymptomState, string> = {
  active: 'firing',
  fixed: 'fixed, in window',
  verified: 'verified',
};

export function allows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}
