import type { Policy, WindowPolicy } from './policy.js';
import type { Family } from './types.js';

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
