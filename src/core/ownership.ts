/**
 * What a person owns on an NC, and what they add to its record: the owner, the due date, comments
 * and attachments (references to evidence kept elsewhere, with its SHA-256). Each is a new entry
 * on the NC's timeline, which keeps every earlier value; the NC shows only the current owner and
 * due date and how many comments and attachments there are.
 *
 * Pure: no I/O, no clock; the caller gives the time.
 */
import { appendTimeline, ncDraft, type SymptomDraft } from './lifecycle.js';

export type OwnershipChange =
  | { kind: 'owner'; owner: string }
  | { kind: 'due-date'; dueDate: string }
  | { kind: 'comment'; text: string }
  | { kind: 'attachment'; url?: string; path?: string; sha256: string; name?: string };

/** Why a change was not recorded: no such NC in the draft, or an owner or due date on a closed NC. */
export type OwnershipRefusal = 'unknown' | 'closed';

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * The moment a due date has passed: the end of its day (UTC) for a date, the time itself for a
 * time with an offset; null when it is neither.
 */
export function dueDateEnds(dueDate: string): number | null {
  if (DATE.test(dueDate)) {
    const start = Date.parse(`${dueDate}T00:00:00Z`);
    return Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== dueDate ? null : start + DAY_MS;
  }
  if (!TIME.test(dueDate)) return null;
  const at = Date.parse(dueDate);
  return Number.isNaN(at) ? null : at;
}

/** Why a date that must lie ahead (a due date, a risk acceptance's expiry) cannot be taken. */
export interface DateProblem {
  reason: 'invalid' | 'past';
  message: string;
}

/** What is wrong with a due date at `now`, as a predicate of `dueDate`; null when it can be set. */
export function dueDateProblem(dueDate: string, now: number): DateProblem | null {
  const ends = dueDateEnds(dueDate);
  if (ends === null) return { reason: 'invalid', message: `"${dueDate}" is not a date (YYYY-MM-DD) or an ISO 8601 time with an offset` };
  if (ends <= now) return { reason: 'past', message: `${dueDate} is in the past (it is now ${new Date(now).toISOString()})` };
  return null;
}

/** Records a change on NC `ncId` at `at` by `actor`, as a new timeline entry. */
export function recordOwnership(draft: SymptomDraft, ncId: string, change: OwnershipChange, actor: string, at: number): OwnershipRefusal | null {
  const entry = ncDraft(draft, ncId);
  if (entry === undefined) return 'unknown';
  const nc = entry.nc;
  switch (change.kind) {
    case 'owner':
      if (nc.state === 'closed') return 'closed';
      appendTimeline(entry, at, 'owner-changed', null, { actor, owner: change.owner, previous: nc.owner });
      nc.owner = change.owner;
      break;
    case 'due-date':
      if (nc.state === 'closed') return 'closed';
      appendTimeline(entry, at, 'due-date-changed', null, { actor, dueDate: change.dueDate, previous: nc.dueDate });
      nc.dueDate = change.dueDate;
      // A new due date may pass in its turn: nc.overdue is sent again then.
      nc.overdueSince = null;
      break;
    // A closed NC still takes comments and evidence: an auditor's note belongs on its record.
    case 'comment':
      appendTimeline(entry, at, 'comment', null, { actor, text: change.text });
      nc.comments += 1;
      break;
    case 'attachment':
      appendTimeline(entry, at, 'attachment', null, { actor, url: change.url, path: change.path, sha256: change.sha256.toLowerCase(), name: change.name });
      nc.attachments += 1;
      break;
  }
  draft.changed = true;
  return null;
}
