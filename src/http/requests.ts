/**
 * What the HTTP routes take: path parameters, queries and bodies. The routes validate with these
 * schemas and the OpenAPI document (openapi.ts) describes them from the same schemas, on their
 * input side, so that what is documented is what is checked.
 */
import { z } from 'zod';
import { rootCauseAnalysisSchema } from '../core/root-cause-analysis.js';
import { FAMILIES, NC_STATES, SYMPTOM_STATES, VOID_REASONS } from '../core/types.js';
import { EXPORT_FORMATS } from '../export.js';

const DATE_OR_TIME = 'a date (YYYY-MM-DD: the end of that day, UTC) or an ISO 8601 time with an offset';

/** A path parameter's description; path parameters are taken as they come, as text. */
const segment = (description: string) => z.string().describe(description);

export const ncParams = z.object({ id: segment('the NC id, e.g. NC-2026-0042') });
export const symptomParams = z.object({ fingerprint: segment("the symptom's fingerprint") });
export const deadLetterParams = z.object({ id: segment('a dead letter id (see `recurd dlq list`), or `all` for every one, oldest first') });
export const deadLetterIdParams = z.object({ id: segment('a dead letter id, as `GET /api/v1/dead-letters` lists them') });
export const deadLetterQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(1000).default(100).describe('at most this many, newest first') })
  .strict();
export const consoleParams = z.object({ path: segment('a page of the console (nc/NC-2026-0042, symptoms, review…) or one of its files (assets/…)') });
export const intakeParams = z.object({ connector: segment('the name of a connector in the config') });
export const heartbeatParams = intakeParams.extend({
  job: segment('a job of the heartbeat connector'),
  event: segment('`start`, `success` or `fail`'),
});

const limit = z.coerce.number().int().min(1).max(10_000).default(500).describe('items per page');
const cursor = z.string().min(1).optional().describe('the `nextCursor` of the previous page, with the same filter');

export const listQuery = z
  .object({
    state: z.enum(NC_STATES).optional(),
    family: z.enum(FAMILIES).optional(),
    control: z.string().min(1).optional().describe('an Annex A control, e.g. A.8.13'),
    since: z.iso.datetime({ offset: true }).optional().describe('only NCs opened at or after this time'),
    limit,
    cursor,
    overdue: z
      .enum(['true', 'false'], { message: 'overdue is true or false' })
      .transform((value) => value === 'true')
      .optional()
      .describe('true: only the NCs overdue now; false: only those that are not; with the other filters as well'),
  })
  .strict();

export const symptomQuery = z
  .object({
    state: z.enum(SYMPTOM_STATES).optional(),
    family: z.enum(FAMILIES).optional(),
    // Empty is a value: the symptoms whose alerts named no check, or no asset.
    check: z.string().max(512).optional().describe('empty: the symptoms whose alerts named no check'),
    asset: z.string().max(512).optional().describe('empty: the symptoms whose alerts named no asset'),
    limit,
    cursor,
  })
  .strict();

export const exportQuery = z
  .object({
    state: z.enum(NC_STATES).optional(),
    control: z.string().min(1).optional().describe('an Annex A control, e.g. A.8.13'),
    since: z.iso.datetime({ offset: true }).optional().describe('only NCs opened at or after this time'),
    format: z.enum(EXPORT_FORMATS).default('zip'),
  })
  .strict();

/** The core's own schema of a root-cause analysis, as the document shows it. */
function documentedAs(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return json;
}

export const correctiveActionBody = z
  .object({
    action: z.string().trim().min(1, 'describe the corrective action'),
    owner: z.string().trim().min(1, 'name who owns the corrective action'),
    rootCause: z.string().trim().min(1).optional(),
    dueDate: z.union([z.iso.date(), z.iso.datetime({ offset: true })]).optional().describe(`${DATE_OR_TIME}; not in the past`),
    // Checked by the core, which says exactly what is missing for the NC at hand.
    rootCauseAnalysis: z
      .unknown()
      .optional()
      .meta({ ...documentedAs(rootCauseAnalysisSchema), description: 'the five whys and a cause category: required for a reopened NC' }),
    ismsChange: z.string().trim().min(1).optional().describe('what changes in the ISMS with this action (clause 10.2 e)'),
  })
  .strict();

export const fixBody = z
  .object({ note: z.string().trim().min(1, 'say what was done, or leave note out').max(4000).optional() })
  .strict();

export const voidBody = z
  .object({
    reason: z.enum(VOID_REASONS, { message: `reason is one of ${VOID_REASONS.join(', ')}` }),
    note: z.string().trim().min(1, 'say why the NC is void').max(4096),
  })
  .strict();

export const acceptRiskBody = z
  .object({
    approver: z.string().trim().min(1, 'name who approved accepting the risk').max(256),
    reason: z.string().trim().min(1, 'say why the risk is accepted').max(4096),
    until: z
      .union([z.iso.date(), z.iso.datetime({ offset: true })], { message: 'until is a date (YYYY-MM-DD) or an ISO 8601 time with offset' })
      .describe(`${DATE_OR_TIME}; ahead of now`),
  })
  .strict();

export const ownerBody = z.object({ owner: z.string().trim().min(1, 'name who owns the handling of the NC') }).strict();

export const dueDateBody = z
  .object({
    dueDate: z
      .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be a date (YYYY-MM-DD) or an ISO 8601 time with an offset' })
      .describe(`${DATE_OR_TIME}; not in the past`),
  })
  .strict();

export const commentBody = z.object({ text: z.string().trim().min(1, 'write the comment').max(10_000, 'is longer than 10000 characters') }).strict();

// A reference to evidence kept elsewhere: recurd does not fetch it, the SHA-256 pins what it was.
export const attachmentBody = z
  .object({
    url: z.url({ error: 'must be a URL' }).optional(),
    path: z.string().trim().min(1, 'is empty').optional(),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the SHA-256 of the file, 64 hex characters'),
    name: z.string().trim().min(1, 'is empty').max(200, 'is longer than 200 characters').optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.url === undefined) === (body.path === undefined)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either url or path, not both and not neither' });
  })
  .describe('give either url or path, not both');
