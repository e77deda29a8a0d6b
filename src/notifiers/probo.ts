/**
 * Each NC as a finding in Probo's register, through its console GraphQL API
 * (`/api/console/v1/graphql`, `Authorization: Bearer <API key>`): `createFinding` on `nc.opened`,
 * `updateFinding` on every later event, with kind, description, root cause, corrective action,
 * effectiveness check, owner, due date, status and priority.
 *
 * Probo cannot change a finding's kind (UpdateFindingInput has none). When a reopen proves the
 * correction ineffective and `kinds.reopened` differs from the kind of the NC's finding, a new
 * finding of that kind follows it up, the earlier one is closed with a pointer to it, and the NC
 * links to the new one: the way an auditor raises a major nonconformity over a minor one whose
 * correction failed.
 *
 * Before creating, the latest findings of the organisation are searched for this NC's `source`
 * (`recurd NC-…`), so that a create whose answer was lost (a timeout, a crash before the link was
 * kept) is found again instead of made twice.
 */
import { z } from 'zod';
import { secret } from '../config/fields.js';
import { NC_STATES, SEVERITIES, type NcEvent, type NcState, type Nonconformity, type Severity } from '../core/types.js';
import { notifierBase, notifierFrom } from './base.js';
import { correctiveActionText, effectivenessText, findingDescription, findingText, ownerFor, rootCauseText } from './finding-text.js';
import { DestinationRefusal, send } from './http.js';
import { DeliveryError, recordNotMadeYet, type NotifierType } from './types.js';

export const ENDPOINT = '/api/console/v1/graphql';

export const FINDING_KINDS = ['MINOR_NONCONFORMITY', 'MAJOR_NONCONFORMITY', 'OBSERVATION', 'EXCEPTION'] as const;
export const FINDING_STATUSES = ['OPEN', 'IN_PROGRESS', 'CLOSED', 'RISK_ACCEPTED', 'MITIGATED', 'FALSE_POSITIVE'] as const;
export const FINDING_PRIORITIES = ['LOW', 'MEDIUM', 'HIGH'] as const;
type FindingKind = (typeof FINDING_KINDS)[number];
type FindingStatus = (typeof FINDING_STATUSES)[number];
type FindingPriority = (typeof FINDING_PRIORITIES)[number];

/** Probo's entity types, the bytes 8–9 of its ids (pkg/coredata/entity_type_reg.go). */
export const ENTITY_TYPES = { organization: 0, risk: 15, profile: 51, finding: 67 } as const;

/** The entity type of a Probo id (24 bytes, base64url without padding), or null when it is none. */
export function entityTypeOf(id: string): number | null {
  if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return null;
  const bytes = Buffer.from(id, 'base64url');
  return bytes.length === 24 ? bytes.readUInt16BE(8) : null;
}

const proboId = (entity: keyof typeof ENTITY_TYPES, where: string) =>
  z.string().refine((id) => entityTypeOf(id) === ENTITY_TYPES[entity], `is not the id of a Probo ${entity} (32 characters; copy it from ${where})`);

const DEFAULT_STATUSES: Record<NcState, FindingStatus> = {
  open: 'OPEN',
  reopened: 'OPEN',
  verifying: 'MITIGATED',
  closed: 'CLOSED',
  void: 'FALSE_POSITIVE',
  'risk-accepted': 'RISK_ACCEPTED',
};

const DEFAULT_PRIORITIES: Record<Severity, FindingPriority> = { info: 'LOW', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'HIGH' };

/** Probo refuses text with HTML tags, control or invisible characters, or over 5000 bytes (pkg/validator SafeText). */
const TEXT_MAX_BYTES = 5000;

/** Text as Probo's validator accepts it, the same to a reader: a tag-like `<x` gets a space, invisible characters go. */
export function proboText(text: string | null): string | null {
  if (text === null) return null;
  const cleaned = text
    .replace(/\t/g, ' ')
    // Exactly what Probo refuses: C0 and C1 controls but line breaks, invisible and private-use characters.
    .replace(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\ufffd\ue000-\uf8ff]|[\udb80-\udbff][\udc00-\udfff]/g, '')
    .replace(/<(?=[A-Za-z/!])/g, '< ');
  if (cleaned.trim() === '') return null;
  if (Buffer.byteLength(cleaned) <= TEXT_MAX_BYTES) return cleaned;
  let cut = cleaned.slice(0, TEXT_MAX_BYTES - 3);
  while (Buffer.byteLength(cut) > TEXT_MAX_BYTES - 3) cut = cut.slice(0, -1);
  // A cut between the halves of a surrogate pair would leave half a character.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('probo'),
    url: z
      .url({ protocol: /^https?$/ })
      .refine((url) => !/\/api(\/|$)/.test(new URL(url).pathname), `is Probo's address without the API's path: recurd adds ${ENDPOINT}`)
      .describe(`Probo's address, e.g. https://us.probo.com; the API is ${ENDPOINT} there`),
    token: secret.describe("a Probo API key (Settings → API keys), sent as Authorization: Bearer; its user needs the organisation's finding permissions"),
    organizationId: proboId('organization', 'the address of the organisation in Probo, /organizations/<id>').describe('the organisation whose register gets the findings'),
    ownerId: proboId('profile', 'the address of the person in Probo, /organizations/<organizationId>/people/<id>')
      .optional()
      .describe("the person who owns a finding when the NC's owner is not in `owners`; none when absent"),
    owners: z
      .record(z.string().min(1), proboId('profile', 'the address of the person in Probo, /organizations/<organizationId>/people/<id>'))
      .optional()
      .describe("Probo's people by recurd owner: the NC's owner (set with its corrective action or an owner change) → a person's id in Probo"),
    riskId: proboId('risk', 'the address of the risk in Probo')
      .optional()
      .describe('the risk that a RISK_ACCEPTED finding names: Probo requires one; without it risk-accepted NCs stay OPEN'),
    kinds: z
      .object({
        opened: z.enum(FINDING_KINDS).default('MINOR_NONCONFORMITY').describe('the kind of the finding an NC opens'),
        reopened: z.enum(FINDING_KINDS).default('MAJOR_NONCONFORMITY').describe('the kind once a reopen proved the correction ineffective; a new finding when it differs'),
      })
      .strict()
      .prefault({})
      .describe('the finding kind by the NC’s history'),
    statuses: z.partialRecord(z.enum(NC_STATES), z.enum(FINDING_STATUSES)).optional().describe("the finding's status by NC state, over the defaults (README)"),
    priorities: z.partialRecord(z.enum(SEVERITIES), z.enum(FINDING_PRIORITIES)).optional().describe("the finding's priority by NC severity, over the defaults (README)"),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const [state, status] of Object.entries(config.statuses ?? {})) {
      if (status === 'RISK_ACCEPTED' && config.riskId === undefined)
        ctx.addIssue({ code: 'custom', path: ['statuses', state], message: 'is RISK_ACCEPTED, which Probo accepts only with a risk: give riskId too' });
    }
  });

interface GraphqlError {
  message?: string;
  path?: Array<string | number>;
  extensions?: { code?: string; field?: string; cause?: string };
}

/** Errors the same request gets again: credentials, permissions, input, a record that is gone. */
const FINAL_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'ASSUMPTION_REQUIRED',
  'MEMBERSHIP_REQUIRED',
  'INVALID',
  'NOT_FOUND',
  'CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
]);

const HINTS: Record<string, string> = {
  UNAUTHENTICATED: 'is `token` a valid, unexpired Probo API key?',
  FORBIDDEN: "the API key's user lacks this permission in the organisation",
  MEMBERSHIP_REQUIRED: "the API key's user is no member of an organisation",
  NOT_FOUND: 'was it deleted in Probo, or is the id from another organisation?',
};

function describeErrors(errors: GraphqlError[]): string {
  return errors
    .map((error) => {
      const code = error.extensions?.code;
      const field = error.extensions?.field;
      return `${error.message ?? 'no message'}${code === undefined ? '' : ` (${code}${field === undefined ? '' : `, field ${field}`})`}${code !== undefined && HINTS[code] ? `: ${HINTS[code]}` : ''}`;
    })
    .join('; ');
}

function errorsOf(json: unknown): GraphqlError[] {
  const errors = (json as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? (errors as GraphqlError[]) : [];
}

interface FindingRef {
  id: string;
  kind: FindingKind;
  referenceId: string;
  status: FindingStatus;
}

const FINDING_FIELDS = 'id kind referenceId status';

const CREATE = `mutation RecurdCreateFinding($input: CreateFindingInput!) {
  createFinding(input: $input) { findingEdge { node { ${FINDING_FIELDS} } } }
}`;

const UPDATE = `mutation RecurdUpdateFinding($input: UpdateFindingInput!) {
  updateFinding(input: $input) { finding { ${FINDING_FIELDS} } }
}`;

const READ = `query RecurdFinding($id: ID!) {
  node(id: $id) { __typename ... on Finding { ${FINDING_FIELDS} } }
}`;

/** How many of the organisation's newest findings are searched for one whose create answer was lost. */
export const RECENT_FINDINGS = 50;

const RECENT = `query RecurdRecentFindings($organizationId: ID!) {
  node(id: $organizationId) {
    __typename
    ... on Organization {
      findings(first: ${RECENT_FINDINGS}, orderBy: { field: CREATED_AT, direction: DESC }) { edges { node { ${FINDING_FIELDS} source } } }
    }
  }
}`;

/** What identifies the NC's findings in Probo: their `source`. */
export function sourceOf(nc: Pick<Nonconformity, 'id'>): string {
  return `recurd ${nc.id}`;
}

/** A due date as Probo's Datetime (RFC 3339): a day is its start in UTC. */
function datetime(due: string | null): string | null {
  if (due === null) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(due)) return `${due}T00:00:00Z`;
  const at = Date.parse(due);
  return Number.isNaN(at) ? null : new Date(at).toISOString();
}

/** The input fields with no value left out: Probo refuses empty text, and an absent field changes nothing. */
function present(fields: Record<string, string | null | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export const proboNotifier: NotifierType<typeof schema> = {
  type: 'probo',
  schema,
  create(config, services) {
    const base = notifierFrom(config);
    const endpoint = `${config.url.replace(/\/+$/, '')}${ENDPOINT}`;
    const statuses: Record<NcState, FindingStatus> = { ...DEFAULT_STATUSES, ...(config.riskId === undefined ? { 'risk-accepted': 'OPEN' } : {}), ...config.statuses };
    const priorities: Record<Severity, FindingPriority> = { ...DEFAULT_PRIORITIES, ...config.priorities };
    const findingUrl = (id: string): string =>
      `${config.url.replace(/\/+$/, '')}/organizations/${encodeURIComponent(config.organizationId)}/governance/findings/${encodeURIComponent(id)}`;

    async function graphql<T>(operation: string, query: string, variables: Record<string, unknown>): Promise<T> {
      let answer;
      try {
        answer = await send(config.name, {
          url: endpoint,
          headers: { authorization: `Bearer ${config.token}`, accept: 'application/json' },
          body: { query, variables },
          timeoutMs: config.timeout,
        });
      } catch (error) {
        // Probo answers 401, 403 and 500 with a GraphQL error list: say what it said.
        if (error instanceof DestinationRefusal && errorsOf(error.json).length > 0)
          throw new DeliveryError(`${config.name}: Probo answered ${operation} with ${error.status}: ${describeErrors(errorsOf(error.json))}`, error.retryable, error.retryAfterMs);
        throw error;
      }
      const errors = errorsOf(answer.json);
      if (errors.length > 0) {
        const final = errors.some((error) => error.extensions?.code !== undefined && FINAL_CODES.has(error.extensions.code));
        throw new DeliveryError(`${config.name}: Probo refused ${operation}: ${describeErrors(errors)}`, !final);
      }
      const data = (answer.json as { data?: T } | undefined)?.data;
      if (data === undefined || data === null) throw new DeliveryError(`${config.name}: Probo answered ${operation} without data (${answer.status}: ${answer.text.slice(0, 200)})`, true);
      return data;
    }

    function fields(event: NcEvent) {
      const nc = event.nc;
      const status = statuses[nc.state];
      return {
        status,
        priority: priorities[nc.severity],
        ...present({
          rootCause: proboText(rootCauseText(nc)),
          correctiveAction: proboText(correctiveActionText(nc)),
          effectivenessCheck: proboText(effectivenessText(nc)),
          ownerId: ownerFor(nc, config.owners, config.ownerId),
          dueDate: datetime(nc.dueDate),
          riskId: status === 'RISK_ACCEPTED' ? config.riskId : null,
        }),
      };
    }

    function description(event: NcEvent, note: string | null = null): string | null {
      const text = findingDescription(findingText(event, services, base.templates));
      return proboText(note === null ? text : `${text}\n\n${note}`);
    }

    /** The finding of this NC and kind that a lost answer left behind, if any. */
    async function findLost(nc: Nonconformity, kind: FindingKind): Promise<FindingRef | null> {
      const data = await graphql<{ node: { findings?: { edges: Array<{ node: FindingRef & { source: string | null } }> } } }>('the search for earlier findings', RECENT, {
        organizationId: config.organizationId,
      });
      const edges = data.node.findings?.edges ?? [];
      return edges.map((edge) => edge.node).find((finding) => finding.source === sourceOf(nc) && finding.kind === kind) ?? null;
    }

    async function createFinding(event: NcEvent, kind: FindingKind, note: string | null = null): Promise<FindingRef> {
      const lost = await findLost(event.nc, kind);
      if (lost !== null) return lost;
      const input = {
        organizationId: config.organizationId,
        kind,
        ...present({ description: description(event, note), source: sourceOf(event.nc), identifiedOn: new Date(event.nc.openedAt).toISOString() }),
        ...fields(event),
      };
      const data = await graphql<{ createFinding: { findingEdge: { node: FindingRef } | null } | null }>('createFinding', CREATE, { input });
      const finding = data.createFinding?.findingEdge?.node;
      if (finding === undefined) throw new DeliveryError(`${config.name}: Probo answered createFinding for ${event.nc.id} without the finding`, true);
      return finding;
    }

    async function updateFinding(id: string, input: Record<string, unknown>, what: string): Promise<FindingRef> {
      const data = await graphql<{ updateFinding: { finding: FindingRef | null } | null }>(`updateFinding of ${what}`, UPDATE, { input: { id, ...input } });
      const finding = data.updateFinding?.finding;
      if (finding === undefined || finding === null) throw new DeliveryError(`${config.name}: Probo answered updateFinding of ${what} without the finding`, true);
      return finding;
    }

    async function link(nc: Nonconformity, finding: FindingRef): Promise<void> {
      await services.links.set(nc.id, { notifier: config.name, system: 'probo', key: finding.id, url: findingUrl(finding.id), at: services.clock.now() });
    }

    /** A reopen of an NC whose finding is of the opened kind: a finding of the reopened kind follows it up. */
    async function escalate(event: NcEvent, earlier: FindingRef): Promise<void> {
      const nc = event.nc;
      const kind = config.kinds.reopened;
      const followUp = await createFinding(
        event,
        kind,
        `Follows up ${earlier.referenceId} (${earlier.kind}): its corrective action did not prevent the recurrence, so ${nc.id} is now a ${kind}.`,
      );
      await updateFinding(
        earlier.id,
        {
          status: 'CLOSED',
          effectivenessCheck: proboText(`Ineffective: the symptom recurred on ${new Date(nc.lastOccurrenceAt).toISOString()}; followed up as ${followUp.referenceId} (${kind}).`),
        },
        `${earlier.referenceId} (superseded by ${followUp.referenceId})`,
      );
      await link(nc, followUp);
    }

    return {
      ...base,
      keepsRecord: true,
      async deliver(event, delivery) {
        const nc = event.nc;
        const linked = await services.links.get(nc.id, config.name);
        if (linked === null) {
          if (event.type !== 'nc.opened') throw recordNotMadeYet(config.name, event, 'Probo finding');
          await link(nc, await createFinding(event, config.kinds.opened));
          return;
        }
        if (event.type === 'nc.reopened' && config.kinds.reopened !== config.kinds.opened) {
          const data = await graphql<{ node: (FindingRef & { __typename: string }) | null }>(`the reading of finding ${linked.key}`, READ, { id: linked.key });
          if (data.node !== null && data.node.kind !== config.kinds.reopened) {
            await escalate(event, data.node);
            return;
          }
        }
        // The finding holds a newer state of the NC than this event carries; a reopen's escalation
        // above still happens, as the newer events did not make it.
        if (delivery?.superseded) return;
        await updateFinding(linked.key, { ...present({ description: description(event) }), ...fields(event) }, `${nc.id}'s finding ${linked.key}`);
      },
    };
  },
};
