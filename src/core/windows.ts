import type { Policy, WindowPolicy } from './policy.js';
import type { Family, VerifyBy } from './types.js';

type Subject = { family: Family; control: string | null | undefined; check: string };

function layersOf(policy: Policy, subject: Subject): Array<Partial<WindowPolicy> | undefined> {
  return [policy.checks[subject.check], subject.control ? policy.controls[subject.control] : undefined, policy.families[subject.family], policy.defaults];
}

/** The most specific setting wins, field by field: check, then control, then family, then default. */
export function windowPolicyFor(policy: Policy, subject: Subject): { window: number; resolveAfter: number } {
  const layers = layersOf(policy, subject);
  const pick = (field: 'window' | 'resolveAfter'): number => layers.find((layer) => layer?.[field] !== undefined)?.[field] ?? policy.defaults[field];
  return { window: pick('window'), resolveAfter: pick('resolveAfter') };
}

/** SIEM rules only speak when something fails; backup, antivirus and drift checks report success too. */
const DEFAULT_VERIFY_BY: Record<Family, VerifyBy> = { siem: 'silence', backup: 'evidence', av: 'evidence', 'config-drift': 'evidence' };

/** How an NC of this subject is verified: `verifyBy` and `maxGap`, by the same layers as the windows. */
export function verificationPolicyFor(policy: Policy, subject: Subject): { verifyBy: VerifyBy; maxGap: number | null } {
  const layers = layersOf(policy, subject);
  return {
    verifyBy: layers.find((layer) => layer?.verifyBy !== undefined)?.verifyBy ?? DEFAULT_VERIFY_BY[subject.family],
    maxGap: layers.find((layer) => layer?.maxGap !== undefined)?.maxGap ?? null,
  };
}
