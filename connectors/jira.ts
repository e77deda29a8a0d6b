/**
 * The way back from Jira: its webhook (`jira:issue_updated`) says a ticket changed status. When
 * a ticket of the `jira` notifier named in `notifier` moves into one of `statuses.fixed`, the
 * corrective action is recorded on its NC, read from the ticket's fields, through the same engine
 * path as the API and under the same rules (a reopened NC needs its root-cause analysis). What the
 * register refuses is written back to the ticket as a comment. A ticket moved from a fixed status
 * back into one of `statuses.open` is noted on the NC's timeline. No alert is ever queued.
 *
 * Every webhook that was read is answered 2xx, refused or not, because Jira sends again whatever
 * it did not get a 2xx for, and the same refusal would follow. Only a failure of recurd itself
 * (Redis away) answers 5xx, so that Jira's retry delivers it once recurd is back.
 *
 * Jira signs an admin webhook that has a secret with `X-Hub-Signature: sha256=<hex HMAC-SHA256 of
 * the body>` (Jira Cloud and Data Center alike): the default header of this intake's hmac auth.
 */
import { z } from 'zod';
import { intakeAuth } from '../src/config/fields.js';
import { RecurdError } from '../src/errors.js';
import { connectorBase, intakeFields, type ConnectorServices, type ConnectorType, type IntakeResult, type NcPort, type PayloadError } from './types.js';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Jira's signature header, unless the config names another. */
const auth = z
  .preprocess((value) => (isRecord(value) && value.type === 'hmac' && value.header === undefined ? { ...value, header: 'x-hub-signature' } : value), intakeAuth)
  .describe('{ type: hmac, secret }: the header defaults to X-Hub-Signature, with prefix sha256=, as Jira signs a webhook that has a secret');

const statusNames = z.array(z.string().min(1)).min(1);
const fieldId = z.string().min(1).describe('a Jira field id: summary, resolution, assignee, duedate, customfield_10050');

const schema = z
  .object({
    type: z.literal('jira').describe('Jira webhooks: a ticket of a jira notifier moved to a fixed status records the corrective action on its NC'),
    name: connectorBase.name,
    auth,
    bodyLimit: intakeFields.bodyLimit,
    rateLimit: intakeFields.rateLimit,
    notifier: z.string().min(1).describe('the jira notifier whose tickets this follows'),
    statuses: z
      .object({
        fixed: statusNames.default(['Done']).describe('statuses, by name, that mean the corrective action is taken'),
        open: statusNames.default(['To Do', 'In Progress']).describe('statuses that, reached from a fixed one, are noted on the NC as the ticket reopened'),
      })
      .strict()
      .prefault({}),
    fields: z
      .object({
        action: fieldId.default('resolution').describe('the field that says what was done'),
        owner: fieldId.default('assignee').describe('who owns the action; the person who moved the ticket when it is empty'),
        rootCause: fieldId.optional(),
        dueDate: fieldId.default('duedate'),
        fiveWhys: fieldId.optional().describe('a multi-line field with one why per line: the root-cause analysis a reopened NC needs'),
        causeCategory: fieldId.optional().describe('a field whose value is one of the cause categories (README: Corrective actions)'),
      })
      .strict()
      .prefault({})
      .describe('where the corrective action is read from on the ticket'),
  })
  .strict();

type JiraIntakeConfig = z.output<typeof schema>;

const changeItem = z.looseObject({ field: z.string(), fromString: z.string().nullable().optional(), toString: z.string().nullable().optional() });
const issueUpdated = z.looseObject({
  webhookEvent: z.literal('jira:issue_updated'),
  user: z.looseObject({ displayName: z.string().optional(), name: z.string().optional(), accountId: z.string().optional() }).nullable().optional(),
  issue: z.looseObject({ key: z.string().min(1), fields: z.record(z.string(), z.unknown()).nullable().optional() }),
  changelog: z
    .looseObject({ id: z.union([z.string(), z.number()]).transform(String).optional(), items: z.array(changeItem) })
    .nullable()
    .optional(),
});

/**
 * Jira sends a webhook again when it got no 2xx in time, and a change that reached recurd twice
 * would be refused the second time (its NC is already verifying) in a comment on the ticket. Each
 * change has its own changelog id: the latest ones taken are kept in the connector's state.
 */
const TAKEN = 'changelogs-taken';
const TAKEN_KEPT = 500;

function takenChanges(stored: string | null): string[] {
  if (stored === null) return [];
  try {
    const ids: unknown = JSON.parse(stored);
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** `changelog.items[0].toString`, as other intakes name the paths of what does not fit. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '') || '(body)';
}

/** Reads a change item's own field: `toString` would otherwise find Object.prototype's. */
function own(item: Record<string, unknown>, key: string): string | null {
  const value = Object.hasOwn(item, key) ? item[key] : null;
  return typeof value === 'string' ? value : null;
}

/** The text of an Atlassian Document Format node: its text nodes, one line per block. */
function adfLines(node: unknown): string[] {
  if (!isRecord(node)) return [];
  if (node.type === 'text') return typeof node.text === 'string' ? [node.text] : [];
  const children = Array.isArray(node.content) ? node.content : [];
  const inline = children.every((child) => isRecord(child) && (child.type === 'text' || child.type === 'hardBreak' || child.type === 'mention'));
  if (inline) return [children.map((child) => adfLines(child).join('')).join('')];
  return children.flatMap(adfLines);
}

/** What a Jira field says, as text: a string, an ADF document, a user, an option, a resolution, a list of them. */
export function fieldText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(fieldText).filter((part): part is string => part !== null);
    return parts.length === 0 ? null : parts.join(', ');
  }
  if (!isRecord(value)) return null;
  if (value.type === 'doc') return fieldText(adfLines(value).join('\n'));
  for (const key of ['displayName', 'name', 'value', 'emailAddress', 'accountId', 'key']) {
    const text = value[key];
    if (typeof text === 'string' && text.trim() !== '') return text.trim();
  }
  return null;
}

/** One answer per line or per list entry, with the numbering or bullet a person typed before it. */
export function fieldLines(value: unknown): string[] {
  const lines = Array.isArray(value) ? value.map(fieldText) : isRecord(value) && value.type === 'doc' ? adfLines(value) : (fieldText(value) ?? '').split('\n');
  return lines
    .filter((line): line is string => line !== null)
    .map((line) => line.replace(/^\s*(?:\d+[.)]|[-*#•])\s*/, '').trim())
    .filter((line) => line !== '');
}

const NOTHING: IntakeResult = { alerts: [], errors: [] };

function reader(config: JiraIntakeConfig, services: ConnectorServices) {
  const { logger } = services;
  const named = (names: readonly string[], status: string | null): boolean => status !== null && names.some((name) => name.toLowerCase() === status.toLowerCase());

  /** The refusal, on the ticket; a ticket that cannot take it leaves it in the log only. */
  const writeBack = async (ncs: NcPort, key: string, text: string): Promise<void> => {
    try {
      await ncs.commentOnTicket(config.notifier, key, text);
    } catch (error) {
      logger.warn({ err: error, ticket: key }, `could not write back to ${key}: ${text}`);
    }
  };

  const recordAction = async (ncs: NcPort, ncId: string, key: string, fields: Record<string, unknown>, actor: string, mover: string): Promise<void> => {
    const read = (id: string | undefined): string | null => (id === undefined ? null : fieldText(fields[id]));
    const action = read(config.fields.action);
    if (action === null) {
      await writeBack(ncs, key, `recurd did not record a corrective action on ${ncId}: the field ${config.fields.action} of ${key} is empty, and it says what was done.`);
      return;
    }
    const whys = config.fields.fiveWhys === undefined ? [] : fieldLines(fields[config.fields.fiveWhys]);
    const category = read(config.fields.causeCategory);
    const rootCauseAnalysis = whys.length > 0 || category !== null ? { whys, ...(category === null ? {} : { category }) } : undefined;
    try {
      await ncs.recordCorrectiveAction(ncId, {
        action,
        owner: read(config.fields.owner) ?? mover,
        rootCause: read(config.fields.rootCause),
        dueDate: read(config.fields.dueDate),
        rootCauseAnalysis,
        actor,
      });
      logger.info({ nc: ncId, ticket: key }, `recorded the corrective action of ${ncId} from ${key}`);
    } catch (error) {
      // Redis away or a lost race: Jira sends the webhook again on a 5xx.
      if (!(error instanceof RecurdError) || error.retryable) throw error;
      await writeBack(ncs, key, `recurd did not record the corrective action on ${ncId}: ${error.message}`);
    }
  };

  const noteReopened = async (ncs: NcPort, ncId: string, text: string, actor: string): Promise<void> => {
    try {
      await ncs.comment(ncId, text, actor);
    } catch (error) {
      if (!(error instanceof RecurdError) || error.retryable) throw error;
      logger.warn({ err: error, nc: ncId }, `could not note on ${ncId}: ${text}`);
    }
  };

  return async (body: unknown): Promise<IntakeResult> => {
    if (!isRecord(body)) return { alerts: [], errors: [{ path: '(body)', message: 'not a Jira webhook: expected a JSON object' }] };
    // Jira sends every event its webhook was registered for; only status changes matter here.
    if (body.webhookEvent !== 'jira:issue_updated') return NOTHING;
    const parsed = issueUpdated.safeParse(body);
    if (!parsed.success) return { alerts: [], errors: parsed.error.issues.map((issue): PayloadError => ({ path: pathOf(issue.path), message: issue.message })) };
    const { issue, user, changelog } = parsed.data;
    const move = changelog?.items.find((item) => item.field === 'status');
    if (move === undefined) return NOTHING;
    const from = own(move, 'fromString');
    const to = own(move, 'toString');
    const fixed = named(config.statuses.fixed, to);
    const reopened = named(config.statuses.open, to) && named(config.statuses.fixed, from);
    if (!fixed && !reopened) return NOTHING;
    const ncs = services.ncs;
    if (ncs === undefined) return { alerts: [], errors: [{ path: '(body)', message: 'the jira intake records on NCs: only a running daemon can take it' }] };
    const ncId = await ncs.ncOf(config.notifier, issue.key);
    if (ncId === null) {
      logger.info({ ticket: issue.key }, `${issue.key} is not a ticket of notifier ${config.notifier}: ignored`);
      return NOTHING;
    }
    const change = changelog?.id;
    const taken = change === undefined ? [] : takenChanges(await services.state.get(TAKEN));
    if (change !== undefined && taken.includes(change)) {
      logger.info({ ticket: issue.key, changelog: change }, `${issue.key}: change ${change} was taken already (Jira sent it again)`);
      return NOTHING;
    }
    const mover = user?.displayName ?? user?.name ?? user?.accountId ?? 'unknown';
    const actor = `jira:${mover}`;
    if (fixed) await recordAction(ncs, ncId, issue.key, issue.fields ?? {}, actor, mover);
    else await noteReopened(ncs, ncId, `${issue.key} was moved from ${from ?? '?'} back to ${to ?? '?'} in Jira by ${mover}.`, actor);
    if (change === undefined) return NOTHING;
    return { alerts: [], errors: [], stateChanges: { [TAKEN]: JSON.stringify([...taken, change].slice(-TAKEN_KEPT)) } };
  };
}

export const jiraConnector: ConnectorType<typeof schema> = {
  type: 'jira',
  schema,
  create(config, services) {
    return { name: config.name, type: 'jira', intake: { auth: config.auth, subroutes: false, partial: false, normalise: reader(config, services) } };
  },
};
