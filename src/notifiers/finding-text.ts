/**
 * An NC as a finding in a GRC register (Probo, CISO Assistant). The register keeps one record per
 * NC and rewrites it on each event, so its description is the NC's own message (the `nc.opened`
 * template, rendered on the NC as it is now) with the event that changed it named after it, and the
 * parts of clause 10.2 (root cause, corrective action, its effectiveness) go to fields of their own.
 */
import type { NcEvent, Nonconformity } from '../core/types.js';
import { messageFacts, renderMessage, type RenderedMessage, type TemplateOverrides } from './message.js';
import type { NotifierServices } from './types.js';

export interface FindingText {
  /** The `nc.opened` message of the NC as it is now. */
  summary: RenderedMessage;
  /** The event's own message; null when the event is `nc.opened`. */
  latest: RenderedMessage | null;
}

export function findingText(event: NcEvent, services: Pick<NotifierServices, 'annexA' | 'baseUrl'>, templates: TemplateOverrides): FindingText {
  const render = (type: NcEvent['type']): RenderedMessage =>
    renderMessage(messageFacts({ ...event, type }, services.annexA, services.baseUrl), 'plain', templates);
  return { summary: render('nc.opened'), latest: event.type === 'nc.opened' ? null : render(event.type) };
}

/** A message as text: its title, then its lines. */
export function asText(message: RenderedMessage): string {
  return [message.title, ...message.lines].join('\n');
}

/** The description: the NC's message, then the latest event's title and first line. */
export function findingDescription(text: FindingText): string {
  const latest = text.latest === null ? [] : ['', `Latest event: ${text.latest.title}`, ...text.latest.lines.slice(0, 1)];
  return [asText(text.summary), ...latest].join('\n');
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The cause as recorded with the corrective action: its text, then the five whys where analysed. */
export function rootCauseText(nc: Nonconformity): string | null {
  const action = nc.correctiveAction;
  if (action === null) return null;
  const analysis = action.rootCauseAnalysis;
  const lines = [
    ...(action.rootCause === null ? [] : [action.rootCause]),
    ...(analysis === null
      ? []
      : [`Cause category: ${analysis.category}`, ...analysis.whys.map((why, index) => `Why ${index + 1}: ${why}`), ...(analysis.summary ? [`Summary: ${analysis.summary}`] : [])]),
  ];
  return lines.length === 0 ? null : lines.join('\n');
}

/** The latest corrective action, its owner and due date, and recurd's weak/strong verdict on it. */
export function correctiveActionText(nc: Nonconformity): string | null {
  const action = nc.correctiveAction;
  if (action === null) return null;
  return [
    action.action,
    `Owner: ${action.owner}${action.dueDate === null ? '' : ` · due ${action.dueDate}`} · recorded ${iso(action.recordedAt)}`,
    `Judged ${action.strength}: ${action.strengthReason}`,
    ...(action.ismsChange ? [`ISMS change: ${action.ismsChange}`] : []),
  ].join('\n');
}

/** What the effectiveness check has shown: running, waiting, blocked, passed or disproved. */
export function effectivenessText(nc: Nonconformity): string | null {
  const action = nc.correctiveAction;
  if (action === null) return null;
  const verification = nc.verification;
  const window = nc.windowStartsAt !== null && nc.windowEndsAt !== null ? `from ${iso(nc.windowStartsAt)} to ${iso(nc.windowEndsAt)}` : null;
  if (nc.state === 'closed' && verification !== null) {
    const evidence =
      verification.by === 'evidence'
        ? `${verification.healthyReports} healthy report${verification.healthyReports === 1 ? '' : 's'} of ${nc.check}${verification.lastHealthyAt === null ? '' : `, the last at ${iso(verification.lastHealthyAt)}`}`
        : 'its source shown alive throughout';
    return `Verified effective${nc.closedAt === null ? '' : ` on ${iso(nc.closedAt)}`}: no recurrence${window === null ? '' : ` ${window}`}; ${evidence}.`;
  }
  if (nc.state === 'reopened') return `Ineffective: the symptom recurred on ${iso(nc.lastOccurrenceAt)} after the corrective action recorded on ${iso(action.recordedAt)}.`;
  if (verification?.blocked) return `Verification blocked: ${verification.blocked.join('; ')}`;
  if (nc.state === 'verifying') {
    if (window === null) return `The effectiveness window waits for ${verification?.waitingFor === 'report' ? 'the check to report again' : 'the symptom to clear'}.`;
    const proof = verification?.by === 'silence' ? 'its source is shown alive' : `${nc.check} keeps reporting healthy`;
    return `Effectiveness window ${window}: the NC closes as verified effective if the symptom does not recur and ${proof}.`;
  }
  return `Not verified: the NC is ${nc.state}.`;
}

/** The NC's due date as a day (YYYY-MM-DD): the date part of an ISO time as written. */
export function dueDay(due: string | null): string | null {
  const day = due === null ? null : /^\d{4}-\d{2}-\d{2}/.exec(due);
  return day?.[0] ?? null;
}

/** The register's person for the NC's owner: its own mapping, else the default; null when neither. */
export function ownerFor(nc: Nonconformity, owners: Record<string, string> | undefined, fallback: string | undefined): string | null {
  const mapped = nc.owner === null ? undefined : owners?.[nc.owner];
  return mapped ?? fallback ?? null;
}
