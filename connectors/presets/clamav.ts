/**
 * ClamAV's plain-text logs: clamscan's `--log` file (and clamd's LogFile, which writes detections
 * the same way) and freshclam's UpdateLogFile. Each document is one line, `{ line }`; a line that
 * is neither a detection nor a signature-update outcome is not an alert and yields nothing.
 *
 * What the real programs print (ClamAV 1.4, Debian 12):
 * - `FILE: SIGNATURE FOUND`: a detection, firing. Nothing ever resolves a detection: clamscan logs
 *   only what it finds (its `FILE: OK` lines go to standard output, never to the log) and a scan
 *   summary names no file or signature. A detection symptom is fixed by quiet time or by a person.
 * - `ERROR: Update failed for database: daily`, `Update failed for custom database URL: URL` (an
 *   HTTP error) or `Unexpected error when attempting to update from custom database URL: URL` (a
 *   missing file:// database): the signature update of that database failed, firing.
 * - `daily.cvd updated (version: …)`, `daily.cld database is up-to-date (version: …)`,
 *   `local.hdb updated (version: custom database, …)`, `local.hdb is up-to-date (version: custom
 *   database)`: that database is current again, resolved.
 * freshclam stamps its lines with LogTime (`Mon Nov 23 03:07:27 2026 -> `), a local time without a
 * zone, and clamscan stamps nothing: the observation is timed when recurd reads the line.
 */
import type { Preset } from './types.js';

const LOG_TIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} -> /;
/** The file name is everything up to the last `: `, so names that contain one still read whole. */
const DETECTION = /^(?<file>.+): (?<signature>\S+) FOUND$/;
const UPDATE_FAILED = /^ERROR: Update failed for database: (?<database>\S+)$/;
const CUSTOM_UPDATE_FAILED =
  /^(?:Update failed for custom database URL|Unexpected error when attempting to update from custom database URL): (?:\S*\/)?(?<database>[^/\s]+)$/;
const UPDATED = /^(?<database>\S+?)(?:\.c[lv]d)? updated \(version: /;
const UP_TO_DATE = /^(?<database>\S+?)(?:\.c[lv]d)?(?: database)? is up-to-date \(version: /;

interface ClamavEvent {
  event: 'detection' | 'update-failed' | 'updated';
  status: 'firing' | 'resolved';
  check: string;
  message: string;
  file?: string;
  signature?: string;
  database?: string;
}

/** Official databases (`daily`, `main`, `bytecode`) lose their .cvd/.cld suffix, so that a failure
 * and the later success name the same database; custom ones keep their file name. */
function updateEvent(database: string, failed: boolean): ClamavEvent {
  return failed
    ? { event: 'update-failed', status: 'firing', check: `freshclam:${database}`, message: `signature update failed: ${database}`, database }
    : { event: 'updated', status: 'resolved', check: `freshclam:${database}`, message: `signatures up to date: ${database}`, database };
}

function parseClamavLine(text: string): ClamavEvent | null {
  const line = text.replace(LOG_TIME, '');
  const detection = DETECTION.exec(line)?.groups;
  if (detection?.file !== undefined && detection.signature !== undefined) {
    const { file, signature } = detection;
    return { event: 'detection', status: 'firing', check: signature, message: `${signature} found in ${file}`, file, signature };
  }
  const failed = (UPDATE_FAILED.exec(line) ?? CUSTOM_UPDATE_FAILED.exec(line))?.groups?.database;
  if (failed !== undefined) return updateEvent(failed, true);
  const current = (UPDATED.exec(line) ?? UP_TO_DATE.exec(line))?.groups?.database;
  if (current !== undefined) return updateEvent(current, false);
  return null;
}

function reshape(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || !('line' in document) || typeof document.line !== 'string') return document;
  const event = parseClamavLine(document.line);
  return event === null ? [] : { ...event, line: document.line };
}

export const clamavPreset: Preset = {
  name: 'clamav',
  description: "ClamAV logs, one line each: clamscan/clamd detections (FOUND) and freshclam's signature-update outcomes",
  family: 'av',
  control: 'A.8.7',
  reshape,
  mapping: {
    // A log line has no id of its own: the file connector names each by its place in the file
    // (`<inode>@<ms>:<offset>`); elsewhere this path is absent and the document is refused, rather
    // than every line sharing one id.
    id: 'id',
    status: 'status',
    asset: 'file',
    check: 'check',
    message: 'message',
    severity: { path: 'event', map: { detection: 'high', 'update-failed': 'medium', updated: 'info' } },
    labels: { event: 'event', signature: 'signature', database: 'database' },
    evidence: { line: 'line' },
  },
};
