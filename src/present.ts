/** How NCs and timelines look outside recurd (API, CLI, notifications): times as ISO 8601. */
import type { Nonconformity } from './core/types.js';
import type { TimelineRecord } from './register.js';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function ncView(nc: Nonconformity): Record<string, unknown> {
  return {
    ...nc,
    openedAt: iso(nc.openedAt),
    updatedAt: iso(nc.updatedAt),
    lastOccurrenceAt: iso(nc.lastOccurrenceAt),
    windowEndsAt: iso(nc.windowEndsAt),
    closedAt: iso(nc.closedAt),
    correctiveAction: nc.correctiveAction && { ...nc.correctiveAction, recordedAt: iso(nc.correctiveAction.recordedAt) },
    elsewhere: nc.elsewhere.map((similar) => ({ ...similar, lastFiringAt: iso(similar.lastFiringAt) })),
  };
}

export function timelineView(entries: TimelineRecord[]): Array<Record<string, unknown>> {
  return entries.map((entry) => ({ id: entry.id, at: iso(entry.at), type: entry.type, detail: entry.detail }));
}
