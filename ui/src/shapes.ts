/** The shapes of the API's answers the console reads (README "HTTP API"); times are ISO 8601. */
import type { ActionStrength } from '../../src/core/corrective-action.js';
import type { Clause10_2 } from '../../src/core/clause10-2.js';
import type { Family, NcState, Severity, SymptomState, VoidReason } from '../../src/core/types.js';
import type { RootCauseAnalysis } from '../../src/core/root-cause-analysis.js';

export interface TicketView {
  notifier: string;
  system: string;
  key: string;
  url: string | null;
  at: string | null;
}

export interface NcView {
  id: string;
  state: NcState;
  family: Family;
  control: string | null;
  controlAsReported?: string;
  check: string;
  asset: string;
  source: string;
  fingerprint: string;
  title: string;
  severity: Severity;
  detector: string;
  reason: string;
  reopenCount: number;
  occurrences: number;
  openedAt: string;
  updatedAt: string;
  lastOccurrenceAt: string;
  correctiveAction: {
    action: string;
    owner: string;
    rootCause: string | null;
    dueDate: string | null;
    recordedAt: string | null;
    strength: ActionStrength;
    strengthReason: string;
    rootCauseAnalysis: RootCauseAnalysis | null;
    actor?: string;
    ismsChange?: string;
  } | null;
  owner: string | null;
  dueDate: string | null;
  comments: number;
  attachments: number;
  windowStartsAt: string | null;
  windowEndsAt: string | null;
  closedAt: string | null;
  recurrenceOf: string | null;
  assets: string[];
  assetCount: number;
  flapping: boolean;
  elsewhere: Array<{ fingerprint: string; asset: string; state: SymptomState; lastFiringAt: string | null }>;
  elsewhereCount: number;
  timelineHead: string | null;
  voided: { reason: VoidReason; note: string; actor: string; at: string | null } | null;
  riskAcceptance: { approver: string; reason: string; until: string | null; actor: string; at: string | null } | null;
  overdue: boolean;
  overdueSince: string | null;
  tickets?: TicketView[];
}

export interface TimelineEntryView {
  id: string;
  at: string | null;
  type: string;
  event: string | null;
  detail: Record<string, unknown>;
  hash: string | null;
  prev: string | null;
}

export interface NcDetailView extends NcView {
  clause10_2: Clause10_2;
  timeline: TimelineEntryView[];
}

export interface ChainView {
  id: string;
  holds: boolean;
  entries: number;
  checked: number;
  chainStartsAt: number;
  head: string | null;
  recordedHead: string | null;
  note: string | null;
  failure: { index: number; entryId: string | null; at: string | null; reason: string; message: string } | null;
}

export interface NcPage {
  nonconformities: NcView[];
  count: number;
  nextCursor: string | null;
}

export interface SymptomView {
  fingerprint: string;
  state: SymptomState;
  episode: number;
  family: Family;
  source: string;
  check: string;
  asset: string;
  control: string | null;
  title: string;
  severity: Severity;
  firstSeenAt: string | null;
  lastFiringAt: string | null;
  fixedAt: string | null;
  fixKind: 'resolved' | 'recorded' | 'quiet' | null;
  windowEndsAt: string | null;
  occurrences: number;
  nc: string | null;
}

export interface SymptomPage {
  symptoms: SymptomView[];
  count: number;
  nextCursor: string | null;
}

export interface Health {
  ok: boolean;
  lastSuccessAt?: string | null;
  lastDeliveredAt?: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
  consecutiveErrors?: number;
}

export interface ReadyView {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
  connectors?: Record<string, Health>;
  notifiers?: Record<string, Health>;
}

export interface DeadLetterView {
  id: string;
  connector: string;
  route: string;
  receivedAt: string;
  errors: Array<{ path: string; message: string }>;
  errorsOmitted: number;
  truncated: boolean;
  bodyLength: number;
}

export interface ReplayOutcome {
  id: string;
  connector: string;
  accepted: number;
  problems: string[];
}
