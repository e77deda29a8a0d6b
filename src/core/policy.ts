import type { Family } from './types.js';

export interface WindowPolicy {
  /** Effectiveness window after a fix, ms. */
  window: number;
  /** Quiet time after which a firing symptom counts as fixed, ms. */
  resolveAfter: number;
}

export interface Policy {
  defaults: WindowPolicy;
  families: Partial<Record<Family, Partial<WindowPolicy>>>;
  controls: Record<string, Partial<WindowPolicy>>;
  checks: Record<string, Partial<WindowPolicy>>;
  /** A firing stamped up to this long after a fix is the tail of the old episode, ms. */
  skew: number;
  /** A symptom returning after its window: link the new episode to the old NC, or ignore the old NC. */
  lateRecurrence: 'link' | 'ignore';
}

export const DEFAULT_POLICY: Policy = {
  defaults: { window: 30 * 86_400_000, resolveAfter: 7 * 86_400_000 },
  families: {},
  controls: {},
  checks: {},
  skew: 5 * 60_000,
  lateRecurrence: 'link',
};

/** The most specific setting wins, field by field: check, then control, then family, then default. */
export function windowPolicyFor(
  policy: Policy,
  subject: { family: Family; control: string | null | undefined; check: string },
): WindowPolicy {
  const layers = [
    policy.checks[subject.check],
    subject.control ? policy.controls[subject.control] : undefined,
    policy.families[subject.family],
  ];
  const pick = (field: keyof WindowPolicy): number =>
    layers.find((layer) => layer?.[field] !== undefined)?.[field] ?? policy.defaults[field];
  return { window: pick('window'), resolveAfter: pick('resolveAfter') };
}
