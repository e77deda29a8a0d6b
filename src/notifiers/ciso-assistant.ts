/**
 * Each NC as a finding in a CISO Assistant follow-up (a findings assessment), through its REST API
 * (`/api/findings/`, `Authorization: Token <personal access token>`): POST on `nc.opened`, PATCH
 * `/api/findings/{id}/` on every later event with status, severity, priority, owner, due date,
 * description and observation. The finding's `ref_id` is the NC's id: before creating, the
 * follow-up is searched for it, so that a create whose answer was lost is not made twice.
 *
 * Django REST framework answers a refused body with 400 and `{field: [messages]}`: that is not
 * retried, and the error names the field.
 */
import { z } from 'zod';
import { secret } from '../config/fields.js';
import { NC_STATES, SEVERITIES, type NcEvent, type NcState, type Nonconformity, type Severity } from '../core/types.js';
import { notifierBase, notifierFrom } from './base.js';
import { asText, correctiveActionText, dueDay, effectivenessText, findingText, ownerFor, rootCauseText } from './finding-text.js';
import { DestinationRefusal, send } from './http.js';
import { DeliveryError, recordNotMadeYet, type NotifierType } from './types.js';

/** Finding.Status in backend/core/models.py. */
export const FINDING_STATUSES = ['--', 'identified', 'confirmed', 'dismissed', 'assigned', 'in_progress', 'mitigated', 'resolved', 'closed', 'deprecated'] as const;
/** core.models.Severity: the API takes the number, its label is what people see. */
export const FINDING_SEVERITIES = { undefined: -1, info: 0, low: 1, medium: 2, high: 3, critical: 4 } as const;
/** Finding.PRIORITY: 1 to 4, shown P1 to P4. */
export const FINDING_PRIORITIES = { P1: 1, P2: 2, P3: 3, P4: 4 } as const;
type FindingStatus = (typeof FINDING_STATUSES)[number];
type SeverityLabel = keyof typeof FINDING_SEVERITIES;
type PriorityLabel = keyof typeof FINDING_PRIORITIES;

/** NameDescriptionMixin.name is a CharField of 200. */
const NAME_MAX = 200;

const DEFAULT_STATUSES: Record<NcState, FindingStatus> = {
  open: 'confirmed',
  reopened: 'confirmed',
  verifying: 'mitigated',
  closed: 'closed',
  void: 'dismissed',
  'risk-accepted': 'dismissed',
};

const DEFAULT_SEVERITIES: Record<Severity, SeverityLabel> = { info: 'info', low: 'low', medium: 'medium', high: 'high', critical: 'critical' };
const DEFAULT_PRIORITIES: Record<Severity, PriorityLabel> = { info: 'P4', low: 'P4', medium: 'P3', high: 'P2', critical: 'P1' };

const actorId = z.uuid('is not a CISO Assistant actor id (a UUID: GET /api/actors/ lists them)');

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('ciso-assistant'),
    url: z
      .url({ protocol: /^https?$/ })
      .refine((url) => !/\/api(\/|$)/.test(new URL(url).pathname), "is CISO Assistant's address without /api: recurd adds /api/findings/")
      .describe('where CISO Assistant is served (its CISO_ASSISTANT_URL), e.g. https://ciso.example.org; the API is /api there'),
    token: secret.describe('a personal access token (Settings → Personal access tokens), sent as Authorization: Token'),
    findingsAssessment: z
      .uuid('is not a findings assessment id (a UUID: open the follow-up in CISO Assistant, /findings-assessments/<id>)')
      .describe('the follow-up (findings assessment) that the findings go into'),
    ownerId: actorId.optional().describe("the actor (user, team or entity) who owns a finding when the NC's owner is not in `owners`; none when absent"),
    owners: z.record(z.string().min(1), actorId).optional().describe("CISO Assistant actors by recurd owner: the NC's owner → an actor id"),
    statuses: z.partialRecord(z.enum(NC_STATES), z.enum(FINDING_STATUSES)).optional().describe("the finding's status by NC state, over the defaults (README)"),
    severities: z
      .partialRecord(z.enum(SEVERITIES), z.enum(Object.keys(FINDING_SEVERITIES) as [SeverityLabel, ...SeverityLabel[]]))
      .optional()
      .describe("the finding's severity by NC severity; the same names by default"),
    priorities: z
      .partialRecord(z.enum(SEVERITIES), z.enum(Object.keys(FINDING_PRIORITIES) as [PriorityLabel, ...PriorityLabel[]]))
      .optional()
      .describe("the finding's priority (P1 to P4) by NC severity, over the defaults (README)"),
  })
  .strict();

/** Text as the API stores it: Django refuses NUL characters in text fields. */
function stored(text: string | null): string | null {
  if (text === null) return null;
  const cleaned = text.replace(/\0/g, '');
  return cleaned.trim() === '' ? null : cleaned;
}

/** The finding's name: the NC's id and title, within the 200 characters of the field. */
export function findingName(nc: Pick<Nonconformity, 'id' | 'title'>): string {
  const name = (stored(`${nc.id} ${nc.title}`.replace(/\s+/g, ' ').trim()) ?? nc.id).trim();
  const chars = [...name];
  return chars.length <= NAME_MAX ? name : `${chars.slice(0, NAME_MAX - 1).join('')}…`;
}

/** What DRF said about a refused body, one field after another: `status: "x" is not a valid choice.` */
export function fieldErrors(json: unknown): string | null {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return null;
  const parts = Object.entries(json as Record<string, unknown>).map(([field, said]) => {
    const text = Array.isArray(said) ? said.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ') : typeof said === 'string' ? said : JSON.stringify(said);
    return field === 'detail' ? text : `${field}: ${text}`;
  });
  return parts.length === 0 ? null : parts.join('; ');
}

const HINTS: Record<number, string> = {
  401: 'is `token` a valid, unexpired personal access token?',
  403: "the token's user lacks the permission on findings in the follow-up's domain",
  404: 'was the finding deleted in CISO Assistant?',
};

export const cisoAssistantNotifier: NotifierType<typeof schema> = {
  type: 'ciso-assistant',
  schema,
  create(config, services) {
    const base = notifierFrom(config);
    const origin = config.url.replace(/\/+$/, '');
    const statuses: Record<NcState, FindingStatus> = { ...DEFAULT_STATUSES, ...config.statuses };
    const severities: Record<Severity, SeverityLabel> = { ...DEFAULT_SEVERITIES, ...config.severities };
    const priorities: Record<Severity, PriorityLabel> = { ...DEFAULT_PRIORITIES, ...config.priorities };
    const headers = { authorization: `Token ${config.token}`, accept: 'application/json' };

    async function call(what: string, request: { method: 'GET' | 'POST' | 'PATCH'; path: string; body?: unknown }): Promise<unknown> {
      try {
        const answer = await send(config.name, { ...request, url: `${origin}${request.path}`, headers, timeoutMs: config.timeout });
        return answer.json;
      } catch (error) {
        if (!(error instanceof DestinationRefusal)) throw error;
        const said = fieldErrors(error.json) ?? (error.text.trim().slice(0, 300) || 'no reason given');
        const hint = HINTS[error.status];
        throw new DeliveryError(
          `${config.name}: CISO Assistant ${error.status === 400 ? 'refused' : `answered ${error.status} to`} ${what}: ${said}${hint === undefined ? '' : ` (${hint})`}`,
          error.retryable,
          error.retryAfterMs,
        );
      }
    }

    /** The fields recurd keeps current on every event. */
    function fields(event: NcEvent) {
      const nc = event.nc;
      const text = findingText(event, services, base.templates);
      const owner = ownerFor(nc, config.owners, config.ownerId);
      const due = dueDay(nc.dueDate);
      const observation = [
        // What just happened; the rest of the event's message repeats the description.
        ...(text.latest === null ? [] : [[text.latest.title, ...text.latest.lines.slice(0, 1)].join('\n')]),
        ...Object.entries({ 'Root cause': rootCauseText(nc), 'Corrective action': correctiveActionText(nc), Effectiveness: effectivenessText(nc) })
          .filter((part): part is [string, string] => part[1] !== null)
          .map(([label, value]) => `${label}:\n${value}`),
      ].join('\n\n');
      const description = stored(asText(text.summary));
      const observed = stored(observation);
      // Absent, not null: a PATCH with null would clear what is there.
      return {
        ...(description === null ? {} : { description }),
        ...(observed === null ? {} : { observation: observed }),
        severity: FINDING_SEVERITIES[severities[nc.severity]],
        status: statuses[nc.state],
        priority: FINDING_PRIORITIES[priorities[nc.severity]],
        ...(owner === null ? {} : { owner: [owner] }),
        ...(due === null ? {} : { due_date: due }),
      };
    }

    /** The finding of this NC in the follow-up that a lost answer left behind, if any. */
    async function findLost(nc: Nonconformity): Promise<string | null> {
      const query = new URLSearchParams({ findings_assessment: config.findingsAssessment, search: nc.id });
      const page = (await call(`the search for ${nc.id} in the follow-up`, { method: 'GET', path: `/api/findings/?${query.toString()}` })) as { results?: Array<{ id?: string; ref_id?: string }> } | undefined;
      return page?.results?.find((finding) => finding.ref_id === nc.id && typeof finding.id === 'string')?.id ?? null;
    }

    async function createFinding(event: NcEvent): Promise<string> {
      const nc = event.nc;
      const lost = await findLost(nc);
      if (lost !== null) return lost;
      const created = (await call(`the finding of ${nc.id}`, {
        method: 'POST',
        path: '/api/findings/',
        body: { name: findingName(nc), ref_id: nc.id, findings_assessment: config.findingsAssessment, ...fields(event) },
      })) as { id?: unknown } | undefined;
      if (typeof created?.id !== 'string') throw new DeliveryError(`${config.name}: CISO Assistant answered the finding of ${nc.id} without its id`, true);
      return created.id;
    }

    return {
      ...base,
      keepsRecord: true,
      async deliver(event, delivery) {
        const nc = event.nc;
        const linked = await services.links.get(nc.id, config.name);
        if (linked === null) {
          if (event.type !== 'nc.opened') throw recordNotMadeYet(config.name, event, 'CISO Assistant finding');
          const id = await createFinding(event);
          await services.links.set(nc.id, { notifier: config.name, system: 'ciso-assistant', key: id, url: `${origin}/findings/${encodeURIComponent(id)}`, at: services.clock.now() });
          return;
        }
        // The finding holds a newer state of the NC than this event carries.
        if (delivery?.superseded) return;
        await call(`the finding of ${nc.id} (${linked.key})`, { method: 'PATCH', path: `/api/findings/${encodeURIComponent(linked.key)}/`, body: fields(event) });
      },
    };
  },
};
