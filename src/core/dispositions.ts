/**
 * Dispositions beyond `closed`, and corrective actions that run late (README, "Dispositions and
 * overdue actions"). Pure, like the rest of the lifecycle: times come from the caller.
 *
 * - `void`: the NC was a false positive, a duplicate or test data. It leaves the register's
 *   figures (the effectiveness ratios, the open states); it is history, like a closed NC, so a
 *   later recurrence of its symptom raises a new NC whose `recurrenceOf` names it.
 * - `risk-accepted`: an approver accepted the risk until a date. Occurrences are still counted
 *   on the NC, which stays `risk-accepted`; when the date passes, the sweep returns it to `open`.
 * - overdue: the corrective action's due date passed with the NC still open, verifying or
 *   reopened: `nc.overdue` is sent once for that due date, and the NC counts as overdue for as
 *   long as it stays so.
 */
import { dueDateEnds, dueDateProblem, type DateProblem } from './ownership.js';
import { iso } from './duration.js';
import { advance, appendTimeline, effect, ncDraft, type NcDraft, type SymptomDraft } from './lifecycle.js';
import type { Policy } from './policy.js';
import type { NcState, Nonconformity, RiskAcceptanceInput, VoidInput } from './types.js';


/** The states an NC may be overdue in: still being handled. */
const HANDLED: readonly NcState[] = ['open', 'verifying', 'reopened'];

/** An NC that is history: closed as verified effective, or void. A recurrence raises a new one. */
export function settled(nc: Nonconformity): boolean {
  return nc.state === 'closed' || nc.state === 'void';
}

/** When the NC's corrective action is due, or null when it has none. */
function dueAt(nc: Nonconformity): number | null {
  const due = nc.dueDate ?? nc.correctiveAction?.dueDate ?? null;
  return due === null ? null : dueDateEnds(due);
}

/** The NC is overdue now: its due date passed while it was handled, and it is handled still. */
export function isOverdue(nc: Nonconformity): boolean {
  return (nc.overdueSince ?? null) !== null && HANDLED.includes(nc.state);
}

/** Why a disposition was refused: the NC's state, a date in the past (by field), or no such NC. */
export type DispositionRefusal = 'unknown' | 'closed' | 'void' | 'risk-accepted' | 'verifying' | { field: string; problem: DateProblem };

/** Declare an NC void at `at`, by `actor`. */
export function voidNc(draft: SymptomDraft, ncId: string, input: VoidInput, actor: string, at: number, policy: Policy): DispositionRefusal | null {
  advance(draft, at, policy);
  const entry = ncDraft(draft, ncId);
  if (entry === undefined) return 'unknown';
  const nc = entry.nc;
  if (nc.state === 'closed' || nc.state === 'void') return nc.state;
  const previousState = nc.state;
  nc.state = 'void';
  nc.voided = { reason: input.reason, note: input.note, actor, at };
  nc.riskAcceptance = null;
  appendTimeline(entry, at, 'voided', 'nc.voided', { actor, reason: input.reason, note: input.note, previousState });
  effect(draft, 'nc-voided', nc);
  draft.changed = true;
  return null;
}

/** Accept an NC's risk until `input.until`, approved by `input.approver`, recorded by `actor` at `at`. */
export function acceptRisk(draft: SymptomDraft, ncId: string, input: RiskAcceptanceInput, actor: string, at: number, policy: Policy): DispositionRefusal | null {
  advance(draft, at, policy);
  const entry = ncDraft(draft, ncId);
  if (entry === undefined) return 'unknown';
  const nc = entry.nc;
  // A verifying NC's action is being proven; its risk is judged once the window has spoken.
  if (nc.state === 'closed' || nc.state === 'void' || nc.state === 'risk-accepted' || nc.state === 'verifying') return nc.state;
  const problem = dueDateProblem(input.until, at);
  if (problem !== null) return { field: 'until', problem };
  const until = dueDateEnds(input.until) as number;
  const previousState = nc.state;
  nc.state = 'risk-accepted';
  nc.riskAcceptance = { approver: input.approver, reason: input.reason, until, actor, at };
  appendTimeline(entry, at, 'risk-accepted', 'nc.risk-accepted', { actor, approver: input.approver, reason: input.reason, until: iso(until), previousState });
  effect(draft, 'nc-risk-accepted', nc);
  draft.changed = true;
  return null;
}

/** What time alone decides of an NC's disposition and due date, up to `t`. */
export function advanceDispositions(draft: SymptomDraft, entry: NcDraft, t: number): void {
  const nc = entry.nc;
  const acceptance = nc.riskAcceptance ?? null;
  // From when the NC is handled again, as far as this advance knows: an acceptance ending now.
  let handledFrom = Number.NEGATIVE_INFINITY;
  if (nc.state === 'risk-accepted' && acceptance !== null && acceptance.until <= t) {
    nc.state = 'open';
    nc.riskAcceptance = null;
    handledFrom = acceptance.until;
    appendTimeline(entry, acceptance.until, 'risk-expired', 'nc.risk-expired', {
      approver: acceptance.approver,
      reason: acceptance.reason,
      acceptedAt: iso(acceptance.at),
      acceptedBy: acceptance.actor,
      until: iso(acceptance.until),
      state: nc.state,
    });
    effect(draft, 'nc-risk-expired', nc);
    draft.changed = true;
  }
  const due = dueAt(nc);
  if (due !== null && due <= t && (nc.overdueSince ?? null) === null && HANDLED.includes(nc.state)) {
    const action = nc.correctiveAction;
    nc.overdueSince = Math.max(due, handledFrom, action?.recordedAt ?? due);
    appendTimeline(entry, nc.overdueSince, 'overdue', 'nc.overdue', {
      dueDate: action?.dueDate ?? null,
      dueAt: iso(due),
      owner: action?.owner ?? null,
      action: action?.action ?? null,
      state: nc.state,
    });
    effect(draft, 'nc-overdue', nc);
    draft.changed = true;
  }
}

/** When time alone will next change the NC's disposition or make it overdue, or null. */
export function dispositionDue(nc: Nonconformity): number | null {
  if (nc.state === 'risk-accepted') return nc.riskAcceptance?.until ?? null;
  if ((nc.overdueSince ?? null) !== null || !HANDLED.includes(nc.state)) return null;
  return dueAt(nc);
}
