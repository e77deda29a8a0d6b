/**
 * AIDE's JSON report (`report_format=json` before `report_url` in aide.conf, AIDE 0.18 and
 * later), one report per run of `aide --check`, `--update` or `--compare`.
 *
 * One report is one observation of one host's integrity check (check `aide`): firing when the
 * run found added, removed or changed entries, resolved when it found none. A symptom per file
 * cannot work: a clean run lists no paths, so it could never resolve the paths an earlier run
 * reported, and a fix (`aide --update` after review, or restoring the files) is a fix of the
 * host's baseline as a whole. The paths, AIDE's attribute summaries and old/new values are the
 * evidence. The report names no host: give each host's connector its asset
 * (`mapping.asset: { value: web-1 }`).
 */
import type { Preset } from './types.js';

/** AIDE's own time format, strftime `%Y-%m-%d %H:%M:%S %z`. */
const AIDE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/;

/** `2026-11-23 03:06:56 +0000` as ISO 8601 (`2026-11-23T03:06:56+00:00`); anything else as found. */
function isoTime(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const match = AIDE_TIME.exec(value);
  return match === null ? value : `${match[1]}T${match[2]}${match[3]}:${match[4]}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const aidePreset: Preset = {
  name: 'aide',
  description: "AIDE file-integrity JSON reports (report_format=json): one observation of the host's check per run",
  family: 'config-drift',
  control: 'A.8.9',
  severity: 'medium',
  // The report keeps its own field names, so that a failing field is named where it is in it.
  reshape: (document) =>
    isRecord(document) ? { ...document, start_time: isoTime(document.start_time), end_time: isoTime(document.end_time) } : document,
  mapping: {
    // One report per run, so its start is its id.
    id: 'start_time',
    // AIDE decides the outline from the same counts it reports (report.c); built without
    // locale support (Debian's `use locale: no`) it is always one of these.
    status: {
      path: 'outline',
      map: {
        'AIDE found differences between database and filesystem!!': 'firing',
        'AIDE found NO differences between database and filesystem. Looks okay!!': 'resolved',
        'AIDE found differences between the two databases!!': 'firing',
        'AIDE found NO differences between the two databases. Looks okay!!': 'resolved',
      },
    },
    observedAt: 'start_time',
    check: { value: 'aide' },
    message: 'outline',
    labels: { aide_version: 'aide_version' },
    evidence: {
      startTime: 'start_time',
      endTime: 'end_time',
      entries: 'number_of_entries',
      added: 'added',
      removed: 'removed',
      changed: 'changed',
      details: 'details',
      databases: 'databases',
    },
  },
};
