/**
 * The root-cause analysis a reopened NC needs before a new corrective action is accepted: its
 * schema, and the check that names each missing or invalid part. Pure: no I/O, no clock.
 */
import { z } from 'zod';
import { CAUSE_CATEGORIES, CAUSE_CATEGORY_GROUPS, WHYS_MAX, WHYS_REQUIRED, requiresRootCauseAnalysis } from './corrective-action.js';
import type { Nonconformity } from './types.js';

const ANSWER_MAX = 2000;

const CATEGORY_CHOICES = `one of ${CAUSE_CATEGORY_GROUPS.technical.join(', ')} (technical), ${CAUSE_CATEGORY_GROUPS.organisational.join(', ')} (organisational)`;

const whySchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be text') })
  .trim()
  .min(1, 'is empty')
  .max(ANSWER_MAX, `is longer than ${ANSWER_MAX} characters`);

/**
 * The five whys, a cause category and an optional summary. Messages are predicates of their path
 * ("is empty"); {@link checkRootCauseAnalysis} turns them into sentences that name the field.
 */
export const rootCauseAnalysisSchema = z.strictObject(
  {
    // Padding a short list makes each absent answer its own issue: "the 4th why is missing".
    whys: z.preprocess(
      (value) => (Array.isArray(value) && value.length < WHYS_REQUIRED ? [...(value as unknown[]), ...new Array<undefined>(WHYS_REQUIRED - value.length).fill(undefined)] : value),
      z
        .array(whySchema, {
          error: (issue) =>
            issue.input === undefined ? `is missing: the five whys, ${WHYS_REQUIRED} answers, each asking why of the one before` : `must be a list of ${WHYS_REQUIRED} answers`,
        })
        // A refinement, not .max(): zod also runs .max() on a string given instead of a list.
        .refine((list) => list.length <= WHYS_MAX, { message: `has more than ${WHYS_MAX} answers`, when: (payload) => Array.isArray(payload.value) }),
    ),
    category: z.enum(CAUSE_CATEGORIES, {
      error: (issue) => (issue.input === undefined ? `is missing: ${CATEGORY_CHOICES}` : `is ${JSON.stringify(issue.input)}, not a cause category: ${CATEGORY_CHOICES}`),
    }),
    summary: z.string({ error: 'must be text' }).trim().max(ANSWER_MAX, `is longer than ${ANSWER_MAX} characters`).optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${issue.keys.join(', ')}: expected whys, category, summary`
        : 'must be an object { whys: the five whys, category, summary? }',
  },
);
export type RootCauseAnalysis = z.output<typeof rootCauseAnalysisSchema>;

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function fieldOf(path: readonly PropertyKey[]): string {
  let field = 'rootCauseAnalysis';
  for (const key of path) field += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  const [head, index] = path;
  if (head === 'whys' && typeof index === 'number') field += ` (the ${ordinal(index + 1)} why)`;
  return field;
}

/**
 * Validates a root-cause analysis; every problem is one sentence naming its field, e.g.
 * "rootCauseAnalysis.whys[3] (the 4th why) is empty". Absent (undefined or null) reads as an
 * empty analysis, so the answer lists each missing part rather than "it is missing".
 */
export function checkRootCauseAnalysis(rca: unknown): { ok: true; analysis: RootCauseAnalysis } | { ok: false; problems: string[] } {
  const parsed = rootCauseAnalysisSchema.safeParse(rca ?? {});
  if (parsed.success) return { ok: true, analysis: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${fieldOf(issue.path)} ${issue.message}`) };
}

/**
 * What stands between a reopened NC and a new corrective action: one sentence per missing or
 * invalid part of the root-cause analysis. Empty when no analysis is required (never reopened) or
 * when it is complete.
 */
export function missingForReopenedAction(nc: Pick<Nonconformity, 'state' | 'reopenCount'>, rca: unknown): string[] {
  if (!requiresRootCauseAnalysis(nc)) return [];
  const checked = checkRootCauseAnalysis(rca);
  return checked.ok ? [] : checked.problems;
}
