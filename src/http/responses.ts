/**
 * What the HTTP routes answer, as zod schemas: the views of src/present.ts, the pages of lists, the
 * chain verdict, the probes and the error envelope of src/errors.ts. Nothing parses with them: they
 * describe, for the OpenAPI document (openapi.ts), and test/openapi.test.ts holds real answers
 * against them, so that a view that changes without its schema fails there.
 *
 * Each schema an operation answers with is registered in {@link responseSchemas} under a name: the
 * document lists it once under components/schemas and refers to it by that name.
 */
import { z } from 'zod';
import { CHAIN_FAILURE_REASONS } from '../core/chain.js';
import { ACTION_OUTCOMES, EFFECTIVENESS_RESULTS } from '../core/clause10-2.js';
import { ACTION_STRENGTHS } from '../core/corrective-action.js';
import { rootCauseAnalysisSchema } from '../core/root-cause-analysis.js';
import { ALERT_STATUSES, FAMILIES, FIX_KINDS, NC_STATES, SEVERITIES, SYMPTOM_STATES, VERIFY_BY, VOID_REASONS, WINDOW_WAITS } from '../core/types.js';
import { ROLES } from './roles.js';

export const responseSchemas = z.registry<{ id: string }>();

/** Registers `schema` under `id`: the document names it so, and answers refer to it by that name. */
export function named<S extends z.ZodType>(id: string, schema: S): S {
  responseSchemas.add(schema, { id });
  return schema;
}

const time = z.iso.datetime().describe('ISO 8601, UTC');
const count = z.number().int().min(0);
const record = z.record(z.string(), z.unknown());

const rootCauseAnalysis = named('RootCauseAnalysis', rootCauseAnalysisSchema);

const observationRef = named(
  'ObservationRef',
  z.object({ source: z.string(), id: z.string(), at: time, evidence: record }).describe('one observation, for an auditor to find the raw event'),
);

const correctiveAction = named(
  'CorrectiveAction',
  z.object({
    action: z.string(),
    owner: z.string(),
    rootCause: z.string().nullable(),
    dueDate: z.string().nullable().describe('YYYY-MM-DD or an ISO 8601 time, as given'),
    recordedAt: time,
    strength: z.enum(ACTION_STRENGTHS).describe('weak treats the symptom, strong removes the cause'),
    strengthReason: z.string(),
    rootCauseAnalysis: rootCauseAnalysis.nullable(),
    actor: z.string().optional().describe('the API token or CLI user that recorded it; absent on actions recorded before recurd kept it'),
    ismsChange: z.string().optional(),
  }),
);

const verification = named(
  'Verification',
  z
    .object({
      by: z.enum(VERIFY_BY),
      maxGap: z.string().nullable().describe("the longest gap allowed between reports, e.g. 1d6h; null: from the symptom's cadence"),
      waitingFor: z.enum(WINDOW_WAITS).nullable(),
      healthyReports: count,
      healthy: z.array(observationRef),
      lastHealthyAt: time.nullable(),
      lastReportAt: time.nullable(),
      longestGap: z.object({ from: time, to: time }).nullable(),
      lastFiringAt: time.nullable(),
      blocked: z.array(z.string()).nullable().describe('what the evidence lacked when the window ended'),
    })
    .describe('the evidence gathered for the corrective action'),
);

const ticket = z.object({ notifier: z.string(), system: z.string(), key: z.string(), url: z.string().nullable(), at: time });

export const nonconformity = named(
  'Nonconformity',
  z
    .object({
      id: z.string(),
      state: z.enum(NC_STATES),
      fingerprint: z.string(),
      source: z.string(),
      family: z.enum(FAMILIES),
      control: z.string().nullable().describe('the ISO/IEC 27001:2022 Annex A control'),
      controlAsReported: z.string().optional().describe('what the source said, where it differed from control'),
      controlUnknown: z.literal(true).optional(),
      check: z.string(),
      asset: z.string(),
      title: z.string(),
      severity: z.enum(SEVERITIES),
      detector: z.string(),
      reason: z.string(),
      reopenCount: count,
      occurrences: count,
      openedAt: time,
      updatedAt: time,
      lastOccurrenceAt: time,
      correctiveAction: correctiveAction.nullable(),
      windowStartsAt: time.nullable(),
      windowEndsAt: time.nullable(),
      verification: verification.nullable(),
      closedAt: time.nullable(),
      recurrenceOf: z.string().nullable(),
      assets: z.array(z.string()),
      assetCount: count,
      flapping: z.boolean(),
      elsewhere: z.array(z.object({ fingerprint: z.string(), asset: z.string(), state: z.enum(SYMPTOM_STATES), lastFiringAt: time })),
      elsewhereCount: count,
      timelineHead: z.string().nullable(),
      voided: z.object({ reason: z.enum(VOID_REASONS), note: z.string(), actor: z.string(), at: time }).nullable(),
      riskAcceptance: z.object({ approver: z.string(), reason: z.string(), until: time, actor: z.string(), at: time }).nullable(),
      overdue: z.boolean(),
      overdueSince: time.nullable(),
      owner: z.string().nullable(),
      dueDate: z.string().nullable(),
      comments: count,
      attachments: count,
      tickets: z.array(ticket).describe('the records notifiers made for it elsewhere (a Jira issue, a finding)'),
    })
    .describe('a nonconformity (ISO/IEC 27001:2022 clause 10.2)'),
);

const timelineEntry = named(
  'TimelineEntry',
  z.object({
    id: z.string().describe('the stream id'),
    at: time.nullable(),
    type: z.string(),
    event: z.string().nullable(),
    detail: record,
    hash: z.string().nullable(),
    prev: z.string().nullable(),
  }),
);

const atOrNull = time.nullable();

const clause10_2 = named(
  'Clause10_2',
  z
    .object({
      reaction: z.object({
        summary: z.string(),
        raisedAt: atOrNull,
        detector: z.string(),
        reason: z.string(),
        firstIncident: record.nullable(),
        fix: record.nullable(),
        raisedBy: record.nullable(),
      }),
      causes: z.object({
        summary: z.string(),
        rootCause: z.string().nullable(),
        rootCauseAnalysis: rootCauseAnalysis.nullable(),
        elsewhere: z.array(z.object({ fingerprint: z.string(), asset: z.string(), state: z.string(), lastFiringAt: atOrNull })),
        elsewhereCount: count,
        assets: z.array(z.string()),
        assetCount: count,
        recurrenceOf: z.string().nullable(),
      }),
      action: z.object({
        summary: z.string(),
        current: z
          .object({
            action: z.string(),
            owner: z.string(),
            dueDate: z.string().nullable(),
            recordedAt: atOrNull,
            strength: z.enum(ACTION_STRENGTHS),
            strengthReason: z.string(),
          })
          .nullable(),
        taken: z.array(z.object({ at: atOrNull, action: z.string(), owner: z.string(), strength: z.enum(ACTION_STRENGTHS).nullable(), outcome: z.enum(ACTION_OUTCOMES) })),
      }),
      effectiveness: z.object({
        summary: z.string(),
        result: z.enum(EFFECTIVENESS_RESULTS),
        verifyBy: z.string().nullable(),
        windowStartsAt: atOrNull,
        windowEndsAt: atOrNull,
        closedAt: atOrNull,
        healthyReports: count,
        lastHealthyAt: atOrNull,
        missing: z.array(z.string()),
        evidence: record.nullable(),
        reopenCount: count,
        reopenings: z.array(z.object({ at: atOrNull, alert: z.unknown(), ineffectiveAction: z.string().nullable() })),
      }),
      ismsChange: z.object({ summary: z.string(), change: z.string().nullable(), changes: z.array(z.object({ at: atOrNull, change: z.string() })) }),
      documentedInformation: z.object({
        summary: z.string(),
        entries: count,
        first: z.object({ at: atOrNull, type: z.string() }).nullable(),
        last: z.object({ at: atOrNull, type: z.string(), hash: z.string().nullable() }).nullable(),
        chainHead: z.string().nullable(),
      }),
    })
    .describe('what ISO/IEC 27001:2022 clause 10.2 asks to keep of the NC, read from it and its timeline'),
);

export const nonconformityDetail = named(
  'NonconformityDetail',
  nonconformity.extend({ clause10_2, timeline: z.array(timelineEntry).describe('oldest first') }).describe('an NC with its clause 10.2 record and its timeline'),
);

export const nonconformityPage = named(
  'NonconformityPage',
  z.object({
    nonconformities: z.array(nonconformity),
    count: count.describe('how many match the filter in all'),
    nextCursor: z.string().nullable().describe('pass it as cursor for the next page; null on the last'),
  }),
);

export const chainVerdict = named(
  'ChainVerdict',
  z
    .object({
      id: z.string(),
      holds: z.boolean(),
      entries: count,
      checked: count,
      chainStartsAt: count.describe('the first chained entry: those before it were written before recurd chained them'),
      head: z.string().nullable(),
      recordedHead: z.string().nullable(),
      note: z.string().nullable(),
      failure: z
        .object({ index: count, entryId: z.string().nullable(), at: atOrNull, reason: z.enum(CHAIN_FAILURE_REASONS), message: z.string() })
        .nullable()
        .describe('the first entry that fails, when the chain does not hold'),
    })
    .describe("the NC's timeline hash chain, recomputed"),
);

const episode = named(
  'Episode',
  z.object({
    episode: count,
    firstFiringAt: time,
    lastFiringAt: time,
    occurrences: count,
    fixedAt: time.nullable(),
    fixKind: z.enum(FIX_KINDS).nullable(),
    fixedBy: z.string().nullable(),
    note: z.string().nullable(),
  }),
);

const recordedFix = z.object({ at: time, actor: z.string(), note: z.string().nullable() }).describe('the latest fix a person recorded');

export const symptom = named(
  'Symptom',
  z
    .object({
      fingerprint: z.string(),
      source: z.string(),
      family: z.enum(FAMILIES),
      control: z.string().nullable(),
      controlAsReported: z.string().optional(),
      controlUnknown: z.literal(true).optional(),
      check: z.string(),
      asset: z.string(),
      title: z.string(),
      severity: z.enum(SEVERITIES),
      state: z.enum(SYMPTOM_STATES),
      episode: count.describe("the current episode's number"),
      firstSeenAt: time,
      lastFiringAt: time.nullable().describe('null when it never fired'),
      lastReportAt: time,
      recentReports: z.array(time.nullable()),
      lastTransitionAt: time,
      fixedAt: time.nullable(),
      fixKind: z.enum(FIX_KINDS).nullable(),
      windowEndsAt: time.nullable(),
      occurrences: count,
      observations: count,
      lateObservations: count,
      nc: z.string().nullable(),
      recurrenceOf: z.string().nullable(),
      labels: z.record(z.string(), z.string()),
      firstFiring: observationRef.extend({ message: z.string() }).nullable(),
      fixedBy: z.object({ observation: observationRef.nullable(), by: z.string().nullable(), note: z.string().nullable().optional() }).nullable(),
      lastFix: recordedFix.nullable(),
      episodes: z.array(episode).describe('the earlier episodes kept, oldest first'),
      repeats: count,
      lastRepeatAt: time.nullable(),
      detectors: record.describe("what each detector keeps of the symptom, by the detector's name"),
      aggregate: z.string().nullable(),
    })
    .describe('the same failure across time'),
);

export const symptomDetail = named(
  'SymptomDetail',
  symptom
    .extend({
      ncState: z.enum(NC_STATES).nullable(),
      episodes: z.array(episode).describe('the earlier episodes kept and the current one, oldest first'),
      recentObservations: z
        .array(
          z.object({
            observedAt: time,
            source: z.string(),
            id: z.string(),
            status: z.enum(ALERT_STATUSES),
            outcome: z.string().describe('what recurd decided: episode, occurrence, fix, recurrence, tail, late, …'),
            message: z.string(),
            severity: z.enum(SEVERITIES),
            evidence: record,
          }),
        )
        .describe('the observations kept to decide late ones, oldest first'),
    })
    .describe('one symptom in full'),
);

export const symptomPage = named(
  'SymptomPage',
  z.object({
    symptoms: z.array(symptom),
    count: count.describe('how many match the filter in all'),
    nextCursor: z.string().nullable().describe('pass it as cursor for the next page; null on the last'),
  }),
);

export const fixRecorded = named(
  'FixRecorded',
  z.object({
    fingerprint: z.string(),
    state: z.enum(SYMPTOM_STATES).optional(),
    fixedAt: time.nullable(),
    windowEndsAt: time.nullable(),
    lastFix: recordedFix.nullable(),
  }),
);

export const replayed = named(
  'ReplayOutcomes',
  z.object({
    replayed: z.array(
      z.object({
        id: z.string(),
        connector: z.string(),
        accepted: count,
        problems: z.array(z.string()).describe('empty when the entry now fits and was queued'),
      }),
    ),
  }),
);

export const identity = named(
  'Identity',
  z.object({ name: z.string().describe("the token's name: the actor of what it records"), role: z.enum(ROLES) }).strict(),
);

const payloadError = z.object({ path: z.string(), message: z.string() });
const deadLetterFields = {
  id: z.string(),
  connector: z.string(),
  route: z.string().describe('what followed /hooks/{connector}/ in the URL; empty for the connector\'s own route'),
  receivedAt: time,
  errors: z.array(payloadError),
  errorsOmitted: count.describe('errors beyond the first 100, counted but not kept'),
  truncated: z.boolean().describe('the body was longer than 256 KiB and is kept cut'),
};

export const deadLetterList = named(
  'DeadLetters',
  z.object({ deadLetters: z.array(z.object({ ...deadLetterFields, bodyLength: count.describe('characters of the body kept') }).strict()) }).strict(),
);

export const deadLetter = named('DeadLetter', z.object({ ...deadLetterFields, body: z.string().describe('the payload as received') }).strict());

export const intakeAccepted = named(
  'IntakeAccepted',
  z
    .object({
      accepted: count.describe('alerts stored'),
      rejected: count.optional().describe('items that did not fit, kept as a dead letter'),
      deadLetter: z.string().optional(),
      errors: z.array(z.object({ path: z.string(), message: z.string() })).max(20).optional(),
    })
    .describe('the batch is stored: nothing sent was dropped'),
);

export const health = named('Health', z.object({ status: z.literal('ok') }));

export const readiness = named(
  'Readiness',
  z.object({
    status: z.enum(['ready', 'not ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
    connectors: z
      .record(z.string(), z.object({ ok: z.boolean(), lastSuccessAt: z.string().nullable(), lastErrorAt: z.string().nullable(), lastError: z.string().nullable() }))
      .optional()
      .describe('only with an API token, of any role'),
    notifiers: z
      .record(
        z.string(),
        z.object({ ok: z.boolean(), lastDeliveredAt: z.string().nullable(), lastErrorAt: z.string().nullable(), lastError: z.string().nullable(), consecutiveErrors: count }),
      )
      .optional()
      .describe('only with an API token, of any role'),
  }),
);

export const openApiDocumentSchema = named('OpenApiDocument', record.describe('this document'));

/** The body of every error answer, with the codes a route may answer at one status. */
export function errorEnvelope(codes: readonly [string, ...string[]]): z.ZodType {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string(),
      details: z.unknown().optional().describe('what exactly was wrong, where the code has more to say: the fields at fault, the role needed…'),
    }),
  });
}
