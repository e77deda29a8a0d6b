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
 * - freshclam's other error lines, as libfreshclam and freshclam write them (Cisco-Talos/clamav
 *   `libfreshclam/libfreshclam.c`, `libfreshclam/libfreshclam_internal.c`, `freshclam/freshclam.c`
 *   @ 67a02aa2352c5628d261cca97244bac6ba9ab461): those that name a database (`Can't download
 *   daily.cvd from URL`, `Unexpected error when attempting to update daily: …`) fire for that
 *   database; those that stop every database (`Can't create freshclam.dat in DIR`, `initialize:
 *   libfreshclam init failed.`, a missing database directory, a database that fails its load test)
 *   fire the freshclam-wide check `freshclam:update`. Summary lines that only repeat a failure
 *   already named (`Database update process failed: …`, `Update failed.`, `Failed to save
 *   freshclam.dat!`, `Initialization error!`) fire nothing, so one failure is one observation.
 * - `daily.cvd updated (version: …)`, `daily.cld database is up-to-date (version: …)`,
 *   `local.hdb updated (version: custom database, …)`, `local.hdb is up-to-date (version: custom
 *   database)`: that database is current again, resolved; and so is `freshclam:update`, since
 *   freshclam got through to a database.
 * On standard error freshclam puts the level before the time (`ERROR: Mon Nov 23 … -> text`): such
 * lines read as the log's.
 * freshclam stamps its lines with LogTime (`Mon Nov 23 03:07:27 2026 -> `), a local time without a
 * zone, and clamscan stamps nothing: the observation is timed when recurd reads the line.
 */
import type { Preset } from './types.js';

const LOG_TIME_TEXT = '[A-Z][a-z]{2} [A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4} -> ';
const LOG_TIME = new RegExp(`^${LOG_TIME_TEXT}`);
/** freshclam's standard error: `ERROR: ` or `WARNING: ` before the time. */
const LEVEL_BEFORE_TIME = new RegExp(`^(?<level>ERROR|WARNING): ${LOG_TIME_TEXT}`);
/** The file name is everything up to the last `: `, so names that contain one still read whole. */
const DETECTION = /^(?<file>.+): (?<signature>\S+) FOUND$/;
/** freshclam's error lines that name the database that failed; the name loses its file suffix and patch number. */
const DATABASE_FAILED = [
  /^ERROR: Update failed for database: (?<database>\S+)$/,
  /^ERROR: Unexpected error when attempting to update (?<database>[^\s:]+): /,
  /^ERROR: (?:downloadPatchAndApply: )?Can't download (?<database>[^\s./]+?)(?:-\d+)?\.(?:cvd|cld|cdiff) from /,
  /^ERROR: Can't read CVD header of new (?<database>[^\s./]+)\.c[lv]d database\.$/,
  /^ERROR: Update failed\. Can't delete the old database (?:\S*\/)?(?<database>[^\s/]+?)(?:\.c[lv]d)? to replace it /,
];
/** freshclam's error lines that stop the update of every database. */
const FRESHCLAM_FAILED = [
  /^ERROR: Can't (?:create|write to|read (?:magic |version )?from) freshclam\.dat\b/,
  /^ERROR: (?:initialize: )?libfreshclam init failed\.$/,
  /^ERROR: Problem with internal logger /,
  /^ERROR: Database directory (?:does not exist|is not a directory): /,
  /^ERROR: Failed to create database directory: /,
  /^ERROR: Can't create temporary directory /,
  /^ERROR: Can't change dir to /,
  /^ERROR: Failed to load new database: /,
  /^ERROR: Database test FAILED\.$/,
];
/** The check of freshclam's failures that name no database. */
const FRESHCLAM_CHECK = 'freshclam:update';
const CUSTOM_UPDATE_FAILED =
  /^(?:Update failed for custom database URL|Unexpected error when attempting to update from custom database URL): (?:\S*\/)?(?<database>[^/\s]+)$/;
const UPDATED = /^(?<database>\S+?)(?:\.c[lv]d)? updated \(version: /;
const UP_TO_DATE = /^(?<database>\S+?)(?:\.c[lv]d)?(?: database)? is up-to-date \(version: /;

interface ClamavEvent {
  event: 'detection' | 'update-failed' | 'freshclam-failed' | 'updated';
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

/** The events of one line: none, one, or for a database that is current again, its own and freshclam's. */
function parseClamavLine(text: string): ClamavEvent[] {
  const line = text.replace(LEVEL_BEFORE_TIME, '$<level>: ').replace(LOG_TIME, '');
  const detection = DETECTION.exec(line)?.groups;
  if (detection?.file !== undefined && detection.signature !== undefined) {
    const { file, signature } = detection;
    return [{ event: 'detection', status: 'firing', check: signature, message: `${signature} found in ${file}`, file, signature }];
  }
  const failed = [...DATABASE_FAILED, CUSTOM_UPDATE_FAILED].map((pattern) => pattern.exec(line)?.groups?.database).find((name) => name !== undefined);
  if (failed !== undefined) return [updateEvent(failed, true)];
  if (FRESHCLAM_FAILED.some((pattern) => pattern.test(line))) {
    return [{ event: 'freshclam-failed', status: 'firing', check: FRESHCLAM_CHECK, message: `signature update failed: ${line.replace(/^ERROR: /, '')}` }];
  }
  const current = (UPDATED.exec(line) ?? UP_TO_DATE.exec(line))?.groups?.database;
  if (current !== undefined) {
    return [updateEvent(current, false), { event: 'updated', status: 'resolved', check: FRESHCLAM_CHECK, message: `signatures up to date: ${current}`, database: current }];
  }
  return [];
}

function reshape(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || !('line' in document) || typeof document.line !== 'string') return document;
  const { line } = document;
  return parseClamavLine(line).map((event) => ({ ...event, line }));
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
    severity: { path: 'event', map: { detection: 'high', 'update-failed': 'medium', 'freshclam-failed': 'medium', updated: 'info' } },
    labels: { event: 'event', signature: 'signature', database: 'database' },
    evidence: { line: 'line' },
  },
};
