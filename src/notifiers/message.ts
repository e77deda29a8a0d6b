/**
 * What a message about an NC event says, written once and rendered for each destination.
 *
 * Each event type has a template, a `title` (one line) and a `text` (a few lines), in Liquid
 * (liquidjs): an admin may override either per notifier in YAML. Every value a template outputs
 * goes through the destination's escaping (HTML for e-mail, Slack's mrkdwn rules, none for plain
 * text), so that a title or an asset name from an alert can never become markup; `| raw` opts out.
 * Templates cannot read files: `include` and `render` find nothing.
 */
import { Liquid, type Template } from 'liquidjs';
import type { AnnexA } from '../core/annex-a.js';
import { isOverdue } from '../core/dispositions.js';
import { NC_EVENT_TYPES, type NcEvent, type NcEventType, type Nonconformity } from '../core/types.js';

/** How rendered values are made safe for the destination's markup. */
export type MessageFormat = 'plain' | 'html' | 'slack' | 'markdown';

const ESCAPES: Record<MessageFormat, (text: string) => string> = {
  plain: (text) => text,
  html: (text) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`),
  // Slack's mrkdwn: only these three are control characters (its "Formatting text" reference).
  slack: (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  // CommonMark: a backslash makes any ASCII punctuation character literal; `&` too, or an
  // entity such as `&amp;` in an alert would show decoded instead of as written.
  markdown: (text) => text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&'),
};

/**
 * A value made safe for `format`, for notifiers that place a fact (an asset, a control) into
 * markup outside a template: the same escaping templates get.
 */
export function escapeText(format: MessageFormat, text: string): string {
  return ESCAPES[format](text);
}

export interface MessageTemplate {
  title: string;
  text: string;
}

export type TemplateOverrides = Partial<Record<NcEventType, Partial<MessageTemplate>>>;

/** What happened, in a few words, per event type: the start of each default title. */
export const EVENT_LABELS: Record<NcEventType, string> = {
  'nc.opened': 'Nonconformity opened',
  'nc.occurrence': 'Symptom occurred again',
  'nc.reopened': 'Nonconformity reopened',
  'nc.corrective-action': 'Corrective action recorded',
  'nc.verified-effective': 'Corrective action verified effective',
  'nc.verification-blocked': 'Verification blocked',
  'nc.voided': 'Nonconformity declared void',
  'nc.risk-accepted': 'Risk accepted',
  'nc.risk-expired': 'Risk acceptance expired',
  'nc.overdue': 'Corrective action overdue',
};

/** The first line of each default text: what happened, in a sentence. */
const WHAT: Record<NcEventType, string> = {
  'nc.opened': 'A symptom that was fixed came back inside its effectiveness window: {{ nc.reason }}',
  'nc.occurrence': 'The symptom of {{ nc.id }} occurred again ({{ nc.occurrences }} occurrences).',
  'nc.reopened': 'The symptom came back after its corrective action: {{ nc.id }} is reopened ({{ nc.reopenCount }} time{% if nc.reopenCount != 1 %}s{% endif %}) and needs a root-cause analysis.',
  'nc.corrective-action': '{{ nc.action.owner }} recorded a {{ nc.action.strength }} corrective action: {{ nc.action.text }}',
  'nc.verified-effective': 'No recurrence through the effectiveness window: the corrective action of {{ nc.id }} is verified effective and the NC is closed.',
  'nc.verification-blocked': 'The effectiveness of the corrective action cannot be verified: {{ nc.blockedBecause }}',
  'nc.voided': '{{ nc.voided.actor }} declared {{ nc.id }} void ({{ nc.voided.reason }}): {{ nc.voided.note }}',
  'nc.risk-accepted': '{{ nc.riskAcceptance.approver }} accepted the risk of {{ nc.id }} until {{ nc.riskAcceptance.until }}: {{ nc.riskAcceptance.reason }}',
  'nc.risk-expired': 'The risk acceptance of {{ nc.id }} expired: the NC is open again.',
  'nc.overdue': 'The corrective action of {{ nc.id }} was due {{ nc.dueDate }} and the NC is not closed.',
};

/** The lines every default text has after its first. */
const DETAILS = [
  'NC: {{ nc.id }} ({{ nc.state }}) {{ nc.title }}',
  'Control: {% if nc.control %}{{ nc.control }}{% if nc.controlTitle %} {{ nc.controlTitle }}{% endif %}{% else %}none{% endif %} · family {{ nc.family }} · severity {{ nc.severity }}',
  'Asset{% if nc.assets.size != 1 %}s{% endif %}: {{ nc.assets | join: ", " }}{% if nc.assetCount > nc.assets.size %} (of {{ nc.assetCount }}){% endif %}',
  'Reopened: {{ nc.reopenCount }} time{% if nc.reopenCount != 1 %}s{% endif %}',
  'Last corrective action: {% if nc.action %}{{ nc.action.strength }} ({{ nc.action.strengthReason }}): {{ nc.action.text }}{% else %}none yet{% endif %}',
  '{% if nc.link %}{{ nc.link }}{% endif %}',
].join('\n');

export const DEFAULT_TEMPLATES: Record<NcEventType, MessageTemplate> = Object.fromEntries(
  NC_EVENT_TYPES.map((type) => [type, { title: `${EVENT_LABELS[type]}: {{ nc.id }} {{ nc.title }}`, text: `${WHAT[type]}\n${DETAILS}` }]),
) as Record<NcEventType, MessageTemplate>;

/** What templates see: the event and its NC in plain values, times as ISO 8601. */
export interface MessageFacts {
  event: { id: string; type: NcEventType; label: string; at: string };
  nc: {
    id: string;
    state: string;
    title: string;
    control: string | null;
    controlTitle: string | null;
    family: string;
    severity: string;
    check: string;
    source: string;
    detector: string;
    reason: string;
    /** The asset, or the assets of a systemic NC. */
    assets: string[];
    assetCount: number;
    reopenCount: number;
    occurrences: number;
    owner: string | null;
    dueDate: string | null;
    overdue: boolean;
    openedAt: string;
    windowEndsAt: string | null;
    /** The latest corrective action and its weak/strong verdict. */
    action: { text: string; owner: string; rootCause: string | null; dueDate: string | null; strength: string; strengthReason: string } | null;
    /** What verification waits for, where it is blocked. */
    blockedBecause: string | null;
    voided: { reason: string; note: string; actor: string } | null;
    riskAcceptance: { approver: string; reason: string; until: string } | null;
    /** The NC in the console (`ui.baseUrl`), or null when no base URL is configured. */
    link: string | null;
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The NC's page in the console. */
export function ncLink(baseUrl: string | null, id: string): string | null {
  return baseUrl === null ? null : `${baseUrl.replace(/\/+$/, '')}/ui/nc/${encodeURIComponent(id)}`;
}

export function messageFacts(event: NcEvent, annexA: AnnexA | null, baseUrl: string | null): MessageFacts {
  const nc: Nonconformity = event.nc;
  const action = nc.correctiveAction;
  return {
    event: { id: event.id, type: event.type, label: EVENT_LABELS[event.type], at: new Date(event.at).toISOString() },
    nc: {
      id: nc.id,
      state: nc.state,
      title: nc.title,
      control: nc.control,
      controlTitle: nc.control === null ? null : (annexA?.controls.get(nc.control) ?? null),
      family: nc.family,
      severity: nc.severity,
      check: nc.check,
      source: nc.source,
      detector: nc.detector,
      reason: nc.reason,
      assets: nc.assets.length > 0 ? nc.assets : [nc.asset],
      assetCount: Math.max(nc.assetCount, nc.assets.length, 1),
      reopenCount: nc.reopenCount,
      occurrences: nc.occurrences,
      owner: nc.owner,
      dueDate: nc.dueDate,
      overdue: isOverdue(nc),
      openedAt: new Date(nc.openedAt).toISOString(),
      windowEndsAt: iso(nc.windowEndsAt),
      action:
        action === null
          ? null
          : { text: action.action, owner: action.owner, rootCause: action.rootCause, dueDate: action.dueDate, strength: action.strength, strengthReason: action.strengthReason },
      blockedBecause: nc.verification?.blocked?.join('; ') ?? null,
      voided: nc.voided && { reason: nc.voided.reason, note: nc.voided.note, actor: nc.voided.actor },
      riskAcceptance: nc.riskAcceptance && { approver: nc.riskAcceptance.approver, reason: nc.riskAcceptance.reason, until: new Date(nc.riskAcceptance.until).toISOString() },
      link: ncLink(baseUrl, nc.id),
    },
  };
}

const NO_FILES = 'templates cannot read files';
const engines = new Map<string, Liquid>();

/**
 * `strict` refuses unknown variables: a config check does; a delivery renders a missing value
 * (an NC with no corrective action yet, say) as nothing rather than losing the message.
 */
function engineFor(format: MessageFormat, strict = false): Liquid {
  const key = `${format}:${strict}`;
  let engine = engines.get(key);
  if (engine === undefined) {
    engine = new Liquid({
      outputEscape: (value: unknown) => ESCAPES[format](String(value)),
      strictVariables: strict,
      strictFilters: true,
      lenientIf: true,
      ownPropertyOnly: true,
      // There are no files to be relative to (and liquidjs warns on every engine without it).
      relativeReference: false,
      fs: {
        exists: () => Promise.resolve(false),
        existsSync: () => false,
        readFile: () => Promise.reject(new Error(NO_FILES)),
        readFileSync: () => {
          throw new Error(NO_FILES);
        },
        resolve: (_dir: string, file: string) => file,
        dirname: () => '',
        sep: '/',
      },
    });
    engines.set(key, engine);
  }
  return engine;
}

const parsed = new Map<string, Template[]>();

function parse(format: MessageFormat, source: string, strict = false): Template[] {
  const key = `${format}:${strict}\0${source}`;
  let templates = parsed.get(key);
  if (templates === undefined) {
    templates = engineFor(format, strict).parse(source);
    parsed.set(key, templates);
  }
  return templates;
}

export interface RenderedMessage {
  title: string;
  /** Lines of text, empty ones dropped. */
  lines: string[];
  facts: MessageFacts;
}

/** The event's message in `format`, from the notifier's template where it has one. */
export function renderMessage(facts: MessageFacts, format: MessageFormat, overrides: TemplateOverrides = {}): RenderedMessage {
  const template = { ...DEFAULT_TEMPLATES[facts.event.type], ...overrides[facts.event.type] };
  const engine = engineFor(format);
  const title = (engine.renderSync(parse(format, template.title), facts) as string).replace(/\s+/g, ' ').trim();
  const text = engine.renderSync(parse(format, template.text), facts) as string;
  return { title, lines: text.split('\n').map((line) => line.trimEnd()).filter((line) => line.trim() !== ''), facts };
}

/** An NC with every optional part filled, as templates can show it: used to check templates when the config is read. */
const SAMPLE_NC: Nonconformity = {
  id: 'NC-1',
  state: 'open',
  fingerprint: '0'.repeat(16),
  source: 'sample',
  family: 'backup',
  control: 'A.8.13',
  check: 'nightly',
  asset: 'db-1',
  title: 'backup failed',
  severity: 'high',
  detector: 'recurrence',
  reason: 'recurred',
  reopenCount: 0,
  occurrences: 2,
  openedAt: 0,
  updatedAt: 0,
  lastOccurrenceAt: 0,
  correctiveAction: {
    action: 'moved the backup target to a monitored volume',
    owner: 'ops',
    rootCause: 'the target volume filled up unnoticed',
    dueDate: '2026-01-31',
    recordedAt: 0,
    strength: 'strong',
    strengthReason: 'changes the system',
    rootCauseAnalysis: null,
  },
  windowStartsAt: null,
  windowEndsAt: 0,
  verification: null,
  closedAt: null,
  recurrenceOf: null,
  assets: [],
  assetCount: 0,
  flapping: false,
  elsewhere: [],
  elsewhereCount: 0,
  timelineHead: null,
  voided: { reason: 'duplicate', note: 'same as NC-0', actor: 'auditor', at: 0 },
  riskAcceptance: { approver: 'ciso', reason: 'legacy system', until: 0, actor: 'ciso', at: 0 },
  overdueSince: null,
  owner: 'ops',
  dueDate: '2026-01-31',
  comments: 0,
  attachments: 0,
};

/**
 * Why a template override cannot be used, or null: it does not parse, or it names a variable or
 * filter that does not exist (checked by rendering it for a sample NC).
 */
export function templateProblem(type: NcEventType, source: string): string | null {
  try {
    const facts = messageFacts({ id: 'sample', type, at: 0, nc: SAMPLE_NC }, null, 'https://recurd.example');
    engineFor('plain', true).renderSync(parse('plain', source, true), facts);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
