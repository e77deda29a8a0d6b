/**
 * What every notifier shares (src/notifiers/base.ts and message.ts): which events a notifier
 * takes, the message templates and their checks, and the escaping per destination format.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAnnexA } from '../../src/config/annex-a.js';
import { configSchema } from '../../src/config/schema.js';
import type { AnnexA } from '../../src/core/annex-a.js';
import { NC_EVENT_TYPES, type NcEvent, type NcEventType, type Nonconformity } from '../../src/core/types.js';
import { notifierFrom, wantsEvent } from '../../src/notifiers/base.js';
import { DEFAULT_TEMPLATES, escapeText, messageFacts, renderMessage, templateProblem, type MessageFormat } from '../../src/notifiers/message.js';
import { oneEventOfEachType } from '../helpers/nc-events.js';

const BASE_URL = 'https://recurd.example.org';
const FORMATS: MessageFormat[] = ['plain', 'html', 'slack', 'markdown'];
const HOSTILE = `<!channel> *bold* <http://x|y> & [l](http://e) _i_ "q" 'a' #1 \\ &amp;`;

let events: Map<NcEventType, NcEvent>;
let annexA: AnnexA;
const event = (type: NcEventType): NcEvent => events.get(type) as NcEvent;
const withNc = (type: NcEventType, nc: Partial<Nonconformity>): NcEvent => ({ ...event(type), nc: { ...event(type).nc, ...nc } });

beforeAll(async () => {
  events = await oneEventOfEachType();
  annexA = loadAnnexA();
});

/** The config schema's verdict on one notifier: the issues as `path: message`. */
function notifierIssues(notifier: Record<string, unknown>): string[] {
  const result = configSchema.safeParse({ redis: { url: 'redis://127.0.0.1:6379' }, api: { token: 't' }, notifiers: [{ name: 'n', type: 'webhook', url: 'https://tickets.example.org/hook', secret: 's', ...notifier }] });
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('which events a notifier takes', () => {
  it('takes every event without filters, and only the listed types with events', () => {
    for (const type of NC_EVENT_TYPES) expect(wantsEvent({}, event(type))).toBe(true);
    const config = { events: ['nc.opened', 'nc.reopened'] as NcEventType[] };
    expect(NC_EVENT_TYPES.filter((type) => wantsEvent(config, event(type)))).toEqual(['nc.opened', 'nc.reopened']);
  });

  it('matches family, severity and control, the control exactly or by a prefix ending in *', () => {
    const backup = event('nc.opened'); // backup, A.8.13, medium
    expect(wantsEvent({ match: { family: ['backup', 'av'] } }, backup)).toBe(true);
    expect(wantsEvent({ match: { family: ['siem'] } }, backup)).toBe(false);
    expect(wantsEvent({ match: { severity: ['medium'] } }, backup)).toBe(true);
    expect(wantsEvent({ match: { severity: ['high', 'critical'] } }, backup)).toBe(false);
    expect(wantsEvent({ match: { control: ['A.8.13'] } }, backup)).toBe(true);
    expect(wantsEvent({ match: { control: ['A.8.1'] } }, backup)).toBe(false);
    expect(wantsEvent({ match: { control: ['A.8.*'] } }, backup)).toBe(true);
    expect(wantsEvent({ match: { control: ['A.8.1*'] } }, backup)).toBe(true);
    expect(wantsEvent({ match: { control: ['A.5.*', 'A.8.7'] } }, backup)).toBe(false);
    expect(wantsEvent({ match: { control: ['A.5.*', 'A.8.13'] } }, backup)).toBe(true);
    // An NC without a control is in no control filter.
    expect(wantsEvent({ match: { control: ['A.*'] } }, withNc('nc.opened', { control: null }))).toBe(false);
    expect(wantsEvent({ match: { family: ['backup'] } }, withNc('nc.opened', { control: null }))).toBe(true);
  });

  it('needs every filter given to match, the events list included', () => {
    const backup = event('nc.reopened'); // backup, A.8.13, high after the reopen
    expect(backup.nc.severity).toBe('high');
    expect(wantsEvent({ match: { family: ['backup'], severity: ['high'], control: ['A.8.*'] } }, backup)).toBe(true);
    expect(wantsEvent({ match: { family: ['backup'], severity: ['high'], control: ['A.5.*'] } }, backup)).toBe(false);
    expect(wantsEvent({ match: { family: ['av'], severity: ['high'] } }, backup)).toBe(false);
    expect(wantsEvent({ events: ['nc.opened'], match: { family: ['backup'] } }, backup)).toBe(false);
  });

  it('reads its name, attempts, backoff and templates from the config, with the documented defaults', () => {
    const [notifier] = configSchema.parse({ redis: { url: 'redis://127.0.0.1:6379' }, api: { token: 't' }, notifiers: [{ name: 'soc', type: 'webhook', url: 'https://tickets.example.org/hook', secret: 's', match: { family: ['av'] } }] }).notifiers;
    const base = notifierFrom(notifier as Parameters<typeof notifierFrom>[0]);
    expect(base).toMatchObject({ name: 'soc', attempts: 12, backoffMs: 5000, templates: {} });
    expect(base.wants(event('nc.opened'))).toBe(false);
    expect(base.wants(withNc('nc.opened', { family: 'av' }))).toBe(true);
  });

  it('refuses a control filter that is not an Annex A id or prefix, and an empty list, by field', () => {
    expect(notifierIssues({ match: { control: ['A.8.13', 'A.8.*'] } })).toEqual([]);
    expect(notifierIssues({ match: { control: ['8.13'] } })).toEqual(['notifiers.0.match.control.0: an Annex A id such as A.8.13, or a prefix ending in * such as A.8.*']);
    expect(notifierIssues({ match: { control: ['A.8.*.1'] } })).toHaveLength(1);
    expect(notifierIssues({ match: { family: [] } })).toEqual([expect.stringMatching(/^notifiers\.0\.match\.family: /)]);
    expect(notifierIssues({ match: { colour: ['red'] } })).toEqual([expect.stringMatching(/^notifiers\.0\.match: .*colour/)]);
  });
});

describe('templates', () => {
  it('accepts every default template and the variables the README lists', () => {
    for (const type of NC_EVENT_TYPES) {
      expect(templateProblem(type, DEFAULT_TEMPLATES[type].title)).toBeNull();
      expect(templateProblem(type, DEFAULT_TEMPLATES[type].text)).toBeNull();
    }
    const variables = 'event.type event.label event.at nc.id nc.state nc.title nc.control nc.controlTitle nc.family nc.severity nc.check nc.source nc.detector nc.reason nc.assets nc.assetCount nc.reopenCount nc.occurrences nc.owner nc.dueDate nc.overdue nc.openedAt nc.windowEndsAt nc.action.text nc.action.owner nc.action.rootCause nc.action.dueDate nc.action.strength nc.action.strengthReason nc.blockedBecause nc.voided.reason nc.voided.note nc.voided.actor nc.riskAcceptance.approver nc.riskAcceptance.reason nc.riskAcceptance.until nc.link';
    for (const variable of variables.split(' ')) expect(templateProblem('nc.opened', `{{ ${variable} }}`)).toBeNull();
  });

  it('refuses an unknown variable or filter and bad syntax, saying what is wrong', () => {
    expect(templateProblem('nc.opened', '{{ nc.titel }}')).toMatch(/^undefined variable: nc\.titel/);
    expect(templateProblem('nc.opened', '{{ nc.id | shout }}')).toMatch(/^undefined filter: shout/);
    expect(templateProblem('nc.opened', '{{ nc.id')).toMatch(/not closed/);
    expect(templateProblem('nc.opened', '{% if %}yes{% endif %}')).not.toBeNull();
    expect(templateProblem('nc.opened', '{% for a in nc.assets %}{{ a }}')).not.toBeNull();
  });

  it('refuses to read a file: include, render and layout find nothing, even a file that exists', () => {
    for (const source of ["{% include 'package.json' %}", "{% render 'package.json' %}", "{% layout 'package.json' %}", "{% include '/etc/passwd' %}"]) {
      const problem = templateProblem('nc.opened', source);
      expect(problem).toMatch(/^ENOENT: Failed to lookup/);
      expect(problem).not.toContain('"name"');
    }
  });

  it('refuses bad templates when the config is read, at the template path', () => {
    expect(notifierIssues({ templates: { 'nc.reopened': { title: 'Fix did not hold: {{ nc.id }}' } } })).toEqual([]);
    expect(notifierIssues({ templates: { 'nc.reopened': { title: '{{ nc.nope }}', text: "{% include 'x' %}" } } })).toEqual([
      expect.stringMatching(/^notifiers\.0\.templates\.nc\.reopened\.title: is not a usable template: undefined variable: nc\.nope/),
      expect.stringMatching(/^notifiers\.0\.templates\.nc\.reopened\.text: is not a usable template: ENOENT/),
    ]);
    expect(notifierIssues({ templates: { 'nc.closed': { title: 'x' } } })).toHaveLength(1);
    expect(notifierIssues({ templates: { 'nc.opened': { subject: 'x' } } })).toHaveLength(1);
  });

  it('replaces only the part and the event type a notifier overrides', () => {
    const overrides = { 'nc.reopened': { title: 'Back again: {{ nc.id }}' } };
    const facts = messageFacts(event('nc.reopened'), annexA, BASE_URL);
    const reopened = renderMessage(facts, 'plain', overrides);
    expect(reopened.title).toBe('Back again: NC-2026-0001');
    expect(reopened.lines).toEqual(renderMessage(facts, 'plain').lines);
    expect(renderMessage(messageFacts(event('nc.opened'), annexA, BASE_URL), 'plain', overrides).title).toBe('Nonconformity opened: NC-2026-0001 nightly backup of srv-db-01 failed');
  });
});

describe('escaping per format', () => {
  const render = (format: MessageFormat, template = '{{ nc.title }}'): string =>
    renderMessage(messageFacts(withNc('nc.opened', { title: HOSTILE }), annexA, BASE_URL), format, { 'nc.opened': { title: template } }).title;

  it('escapes every value a template outputs for its destination', () => {
    expect(render('plain')).toBe(HOSTILE);
    expect(render('html')).toBe(`&#60;!channel&#62; *bold* &#60;http://x|y&#62; &#38; [l](http://e) _i_ &#34;q&#34; &#39;a&#39; #1 \\ &#38;amp;`);
    expect(render('slack')).toBe(`&lt;!channel&gt; *bold* &lt;http://x|y&gt; &amp; [l](http://e) _i_ "q" 'a' #1 \\ &amp;amp;`);
    expect(render('markdown')).toBe(`\\<\\!channel\\> \\*bold\\* \\<http://x\\|y\\> \\& \\[l\\]\\(http://e\\) \\_i\\_ "q" 'a' \\#1 \\\\ \\&amp;`);
    for (const format of FORMATS) expect(render(format)).toBe(escapeText(format, HOSTILE));
  });

  it('makes Markdown that a CommonMark renderer shows as the value itself', () => {
    const markdown = render('markdown');
    // CommonMark: a backslash before ASCII punctuation shows the character; an unescaped & would start an entity.
    expect(markdown.replace(/\\([!-/:-@[-`{-~])/g, '$1')).toBe(HOSTILE);
    expect(markdown.replace(/\\[!-/:-@[-`{-~]/g, '')).not.toMatch(/[*_[\]()<>&\\#|!]/);
  });

  it("keeps the template's own markup, and `| raw` lets a value through unescaped", () => {
    expect(render('slack', '*{{ nc.id }}* <{{ nc.link | raw }}|open>')).toBe('*NC-2026-0001* <https://recurd.example.org/ui/nc/NC-2026-0001|open>');
    expect(render('html', '<b>{{ nc.title }}</b>')).toBe(`<b>${escapeText('html', HOSTILE)}</b>`);
    expect(render('markdown', '**{{ nc.title | raw }}**')).toBe(`**${HOSTILE}**`);
  });

  it('makes the title one line and drops empty lines from the text', () => {
    const message = renderMessage(messageFacts(withNc('nc.opened', { title: 'disk\nfull\t on  db' }), annexA, null), 'plain', {
      'nc.opened': { text: '{{ nc.id }}\n\n{% if nc.link %}{{ nc.link }}{% endif %}\n   \nend' },
    });
    expect(message.title).toBe('Nonconformity opened: NC-2026-0001 disk full on db');
    expect(message.lines).toEqual(['NC-2026-0001', 'end']);
  });
});

describe('the default messages', () => {
  /** The first line of each type's default text, for the NC the timelines made. */
  const WHAT: Record<NcEventType, RegExp> = {
    'nc.opened': /^A symptom that was fixed came back inside its effectiveness window: recurrence: fixed \(resolved\) at 2026-03-03T02:00:00\.000Z, fired again at 2026-03-04T02:00:00\.000Z inside its 30d effectiveness window$/,
    'nc.occurrence': /^The symptom of NC-2026-0001 occurred again \(3 occurrences\)\.$/,
    'nc.reopened': /^The symptom came back after its corrective action: NC-2026-0001 is reopened \(1 time\) and needs a root-cause analysis\.$/,
    'nc.corrective-action': /^secops recorded a weak corrective action: restarted the backup agent$/,
    'nc.verified-effective': /^No recurrence through the effectiveness window: the corrective action of NC-2026-0001 is verified effective and the NC is closed\.$/,
    'nc.verification-blocked': /^The effectiveness of the corrective action cannot be verified: no healthy report of the symptom since the corrective action at 2026-03-05T02:00:00\.000Z; /,
    'nc.voided': /^alice declared NC-2026-0001 void \(test-data\): alerts from the staging restore drill$/,
    'nc.risk-accepted': /^CISO accepted the risk of NC-2026-0001 until 2026-04-01T00:00:00\.000Z: legacy host retired in April$/,
    'nc.risk-expired': /^The risk acceptance of NC-2026-0001 expired: the NC is open again\.$/,
    'nc.overdue': /^The corrective action of NC-2026-0001 was due 2026-03-06 and the NC is not closed\.$/,
  };

  it.each(NC_EVENT_TYPES)('renders %s for a real NC in every format, with every detail filled', (type) => {
    const facts = messageFacts(event(type), annexA, BASE_URL);
    for (const format of FORMATS) {
      const message = renderMessage(facts, format);
      expect(message.title.length).toBeGreaterThan(0);
      expect([message.title, ...message.lines].join('\n')).not.toMatch(/undefined|\[object|{{|{%/);
    }
    const { title, lines } = renderMessage(facts, 'plain');
    expect(title).toBe(`${facts.event.label}: NC-2026-0001 nightly backup of srv-db-01 failed`);
    expect(lines[0]).toMatch(WHAT[type]);
    expect(lines.slice(1)).toEqual([
      `NC: NC-2026-0001 (${event(type).nc.state}) nightly backup of srv-db-01 failed`,
      `Control: A.8.13 Information backup · family backup · severity ${event(type).nc.severity}`,
      'Asset: srv-db-01',
      `Reopened: ${event(type).nc.reopenCount} time${event(type).nc.reopenCount === 1 ? '' : 's'}`,
      expect.stringMatching(event(type).nc.correctiveAction === null ? /^Last corrective action: none yet$/ : /^Last corrective action: (weak|strong) \(.+\): .+/) as unknown,
      'https://recurd.example.org/ui/nc/NC-2026-0001',
    ]);
  });

  it('names the assets of a systemic NC and how many there are, and links nowhere without ui.baseUrl', () => {
    const systemic = withNc('nc.opened', { assets: ['srv-db-01', 'srv-db-02'], assetCount: 7, control: null });
    const facts = messageFacts(systemic, null, null);
    expect(facts.nc).toMatchObject({ assets: ['srv-db-01', 'srv-db-02'], assetCount: 7, control: null, controlTitle: null, link: null });
    const { lines } = renderMessage(facts, 'plain');
    expect(lines).toContain('Assets: srv-db-01, srv-db-02 (of 7)');
    expect(lines).toContain('Control: none · family backup · severity medium');
    expect(lines.some((line) => line.startsWith('http'))).toBe(false);
    // An id is a path segment of the link, encoded.
    expect(messageFacts(withNc('nc.opened', { id: 'NC 1/2' }), null, `${BASE_URL}/`).nc.link).toBe(`${BASE_URL}/ui/nc/NC%201%2F2`);
  });
});
