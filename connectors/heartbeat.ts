/**
 * Heartbeats of scheduled jobs, backups above all, in the style of cron monitors: a job posts to
 * `/hooks/{name}/{job}/start`, `/success` or `/fail`, and its `period` and `grace` say when the
 * next report is due. A failure fires, a success is the fix, and a run not reported within
 * period + grace fires as a failure too: a backup that did not run at all is a failure.
 *
 * The body is the job's output, kept as evidence: JSON (an object, an array, restic's `--json`
 * lines) and any text (stderr). restic's summary and its `Fatal:` line become the message, and so
 * do the error records of `--json`: its `exit_error` (restic 0.17 and later) first, then the
 * errors on single files, each with its path.
 *
 * Who writes what: the intake records each job's last start and finish in the connector state,
 * stored in one step with the alerts of that report (never before them);
 * the poller reads them, and keeps in its checkpoint when it began watching each job and the
 * latest deadline it has reported. A deadline's alert id comes from the job and the due time, so
 * the poller, its replicas and an intake that sees a late run never count one deadline twice.
 */
import { getSystemErrorName } from 'node:util';
import { z } from 'zod';
import { cronSchedule, duration } from '../src/config/fields.js';
import { formatDuration } from '../src/core/duration.js';
import { FAMILIES, SEVERITIES } from '../src/core/types.js';
import type { CanonicalAlert, Family, Severity } from '../src/core/types.js';
import { RecurdError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { connectorBase, intakeFields } from './types.js';
import type { ConnectorState, ConnectorType, IntakeResult, PayloadError, PollContext } from './types.js';

const EVENTS = ['start', 'success', 'fail'] as const;
type RunEvent = (typeof EVENTS)[number];

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** At most this many missed periods per job are reported at once: a long outage gives the latest, not a flood. */
export const MAX_MISSED = 100;
/** Characters of a job's output kept as evidence, for its JSON records and for its text each. */
export const EVIDENCE_LIMIT = 16 * 1024;
/** Characters of the output quoted in the message (the NC title when it is the first failure). */
const DETAIL_LIMIT = 1000;
/** restic's error records quoted in the message; the rest are counted there and kept in the evidence. */
export const QUOTED_ERRORS = 3;

const jobSchema = z
  .object({
    period: duration.describe('how often the job runs: the next run is due this long after the last report'),
    grace: duration.describe('how late a due run may report, and how long a started run may take, before it counts as failed'),
    asset: z.string().min(1).max(512).optional().describe('what the job protects (host, database, volume); default: the job name'),
    check: z.string().min(1).max(512).optional().describe('the check of its alerts; default: the job name'),
    family: z.enum(FAMILIES).optional().describe("the family of its alerts; default: the connector's"),
    control: connectorBase.control.describe("the Annex A control of its alerts; default: the connector's"),
    severity: z.enum(SEVERITIES).optional().describe("the severity of its failures; default: the connector's"),
  })
  .strict()
  .superRefine((job, ctx) => {
    // A zero period would make every moment a missed run, a zero grace every run late.
    if (job.period <= 0) ctx.addIssue({ code: 'custom', path: ['period'], message: 'must be longer than 0' });
    if (job.grace <= 0) ctx.addIssue({ code: 'custom', path: ['grace'], message: 'must be longer than 0' });
  });

const schema = z
  .object({
    type: z.literal('heartbeat').describe('scheduled jobs (backups) reporting start, success and fail, cron-monitor style'),
    ...connectorBase,
    ...intakeFields,
    jobs: z
      .record(z.string(), jobSchema)
      // Checked here rather than by a key schema, whose failure would not name the key.
      .superRefine((jobs, ctx) => {
        const names = Object.keys(jobs);
        if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one job' });
        for (const name of names.filter((candidate) => !JOB_NAME.test(candidate))) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'is not a job name: use letters, digits, ., - and _ (it appears in URLs)' });
        }
      })
      .describe('the jobs that report here, by the {job} of /hooks/{connector}/{job}/start|success|fail'),
    schedule: cronSchedule
      .default('*/30 * * * * *')
      .describe('when missed and overrunning runs are looked for (a cron expression; six fields, with seconds, are allowed)'),
  })
  .strict();

type HeartbeatConfig = z.output<typeof schema>;

interface Job {
  name: string;
  period: number;
  grace: number;
  asset: string;
  check: string;
  family: Family;
  control: string | undefined;
  severity: Severity;
}

/** A job's last reports, epoch ms, as the intake recorded them. */
interface Runs {
  started: number | null;
  finished: number | null;
}

/** A moment by which a report was due and none came. */
type Deadline =
  | { kind: 'overrun'; at: number; startedAt: number }
  | { kind: 'missed'; at: number; dueAt: number; countedFrom: number; lastReportAt: number | null };

const iso = (ms: number): string => new Date(ms).toISOString();

function jobsOf(config: HeartbeatConfig): Map<string, Job> {
  return new Map(
    Object.entries(config.jobs).map(([name, job]) => [
      name,
      {
        name,
        period: job.period,
        grace: job.grace,
        asset: job.asset ?? name,
        check: job.check ?? name,
        family: job.family ?? config.family,
        control: job.control ?? config.control,
        severity: job.severity ?? config.severity,
      },
    ]),
  );
}

const stateKey = (job: string, field: keyof Runs): string => `${job}:${field}`;

/** A time the intake stored (epoch ms in decimal), or null where there is none. */
function timeOf(value: string | null | undefined): number | null {
  return typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : null;
}

function runsIn(values: Readonly<Record<string, string>>, job: string): Runs {
  return { started: timeOf(values[stateKey(job, 'started')]), finished: timeOf(values[stateKey(job, 'finished')]) };
}

/**
 * The deadlines a job has passed by `until`, oldest first: a started run that outlived its grace,
 * then each period whose run never reported. Periods count from the last report, or from
 * `watchedSince` for a job that never reported.
 */
function deadlines(job: Job, runs: Runs, watchedSince: number | null, until: number): Deadline[] {
  const found: Deadline[] = [];
  const { started, finished } = runs;
  if (started !== null && (finished === null || finished < started) && started + job.grace <= until) {
    found.push({ kind: 'overrun', at: started + job.grace, startedAt: started });
  }
  const lastReportAt = started === null && finished === null ? null : Math.max(started ?? 0, finished ?? 0);
  const countedFrom = lastReportAt ?? watchedSince;
  if (countedFrom === null) return found;
  const missed = Math.floor((until - job.grace - countedFrom) / job.period);
  for (let period = Math.max(1, missed - MAX_MISSED + 1); period <= missed; period++) {
    const dueAt = countedFrom + period * job.period;
    found.push({ kind: 'missed', at: dueAt + job.grace, dueAt, countedFrom, lastReportAt });
  }
  return found;
}

function deadlineAlert(source: string, job: Job, deadline: Deadline): CanonicalAlert {
  const common = {
    source,
    family: job.family,
    status: 'firing' as const,
    observedAt: deadline.at,
    asset: job.asset,
    check: job.check,
    severity: job.severity,
    control: job.control,
    labels: { job: job.name },
  };
  if (deadline.kind === 'overrun') {
    return {
      ...common,
      id: `${job.name}:overrun:${iso(deadline.startedAt)}`,
      message: `${job.name} started at ${iso(deadline.startedAt)} and did not finish within its ${formatDuration(job.grace)} grace`,
      evidence: { job: job.name, event: 'overrun', startedAt: iso(deadline.startedAt), grace: formatDuration(job.grace) },
    };
  }
  return {
    ...common,
    id: `${job.name}:missed:${iso(deadline.dueAt)}`,
    message: `${job.name} did not report the run due at ${iso(deadline.dueAt)} (every ${formatDuration(job.period)}, ${formatDuration(job.grace)} grace)`,
    evidence: {
      job: job.name,
      event: 'missed',
      dueAt: iso(deadline.dueAt),
      period: formatDuration(job.period),
      grace: formatDuration(job.grace),
      lastReportAt: deadline.lastReportAt === null ? null : iso(deadline.lastReportAt),
      countedFrom: iso(deadline.countedFrom),
    },
  };
}

/** What a job printed: JSON records (restic's `--json` lines, or a JSON body) and text lines. */
interface JobOutput {
  records: unknown[];
  lines: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One line of output: a JSON record where it parses as an object or array, else text. */
function lineRecord(line: string): unknown {
  if (!/^\s*[[{]/.test(line)) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function outputOf(body: unknown): JobOutput {
  if (typeof body === 'string') {
    const output: JobOutput = { records: [], lines: [] };
    // stdout and stderr may be posted together (`2>&1`): JSON lines and text lines interleave.
    for (const line of body.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      const record = lineRecord(line);
      if (record === undefined) output.lines.push(line);
      else output.records.push(record);
    }
    return output;
  }
  if (Array.isArray(body)) return { records: body, lines: [] };
  // An empty body reaches the intake as {}: a report without output.
  if (isRecord(body)) return { records: Object.keys(body).length === 0 ? [] : [body], lines: [] };
  return { records: [], lines: [JSON.stringify(body)] };
}

/** restic's progress lines, superseded by its summary; a long backup prints them many times a second. */
const isResticProgress = (record: unknown): boolean => isRecord(record) && record.message_type === 'status';

/** restic backup's last line (`restic backup --json`, 0.14): the parts recurd quotes. */
const resticSummary = z.object({
  message_type: z.literal('summary'),
  snapshot_id: z.string().regex(/^[0-9a-f]{8,64}$/).optional(),
  total_files_processed: z.number().optional(),
  total_bytes_processed: z.number().optional(),
  data_added: z.number().optional(),
  total_duration: z.number().optional(),
  dry_run: z.boolean().optional(),
});
type ResticSummary = z.output<typeof resticSummary>;

function summaryOf(output: JobOutput): ResticSummary | undefined {
  for (const record of output.records.toReversed()) {
    const summary = resticSummary.safeParse(record);
    if (summary.success) return summary.data;
  }
  return undefined;
}

function describeSummary(summary: ResticSummary): string {
  const parts = [
    summary.total_files_processed === undefined ? undefined : `${summary.total_files_processed} files`,
    summary.total_bytes_processed === undefined ? undefined : `${summary.total_bytes_processed} bytes processed`,
    summary.data_added === undefined ? undefined : `${summary.data_added} bytes added`,
  ].filter((part) => part !== undefined);
  const snapshot = summary.snapshot_id === undefined ? 'restic backup' : `restic snapshot ${summary.snapshot_id}`;
  const took = summary.total_duration === undefined ? '' : ` in ${summary.total_duration.toFixed(1)} s`;
  return `${snapshot}${summary.dry_run === true ? ' (dry run)' : ''}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}${took}`;
}

/**
 * restic's last word before it exits with an error (`--json`, since 0.17): restic/restic
 * `cmd/restic/main.go` printExitError and `doc/075_scripting.rst` "Exit errors" @
 * a80be1478a4c537f8396e0db2b05120aa78f11e0.
 */
const resticExitError = z.object({ message_type: z.literal('exit_error'), code: z.number(), message: z.string() });

/**
 * An error restic met and went on: `backup` and `restore` put the error in `error.message` and the
 * file in `item` (restic/restic `internal/ui/backup/json.go` errorUpdate, `doc/075_scripting.rst`);
 * restic before 0.17 wrote Go's error itself there (`{"Op":"open","Path":"/x","Err":13}`), and
 * `check` writes a bare `message`.
 */
const resticError = z.object({
  message_type: z.literal('error'),
  error: z
    .union([z.object({ message: z.string() }), z.object({ Op: z.string(), Path: z.string(), Err: z.number().int().positive() })])
    .optional(),
  message: z.string().optional(),
  during: z.string().optional(),
  item: z.string().optional(),
});
type ResticError = z.output<typeof resticError>;

/** An operating system error number as its name (13: EACCES), where the number is one. */
function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `error ${errno}`;
  }
}

function describeResticError(record: ResticError): string | undefined {
  const error = record.error;
  const text = error === undefined ? record.message : 'message' in error ? error.message : `${error.Op} ${error.Path}: ${errnoName(error.Err)}`;
  if (text === undefined || text.trim() === '') return record.item;
  const item = record.item ?? '';
  return item === '' || text.includes(item) ? text.trim() : `${item}: ${text.trim()}`;
}

/** What restic's error records say, exit error first, then at most QUOTED_ERRORS errors and how many more there were. */
function resticErrors(output: JobOutput): { exit: string | undefined; errors: string[] } {
  let exit: string | undefined;
  const described: string[] = [];
  for (const record of output.records) {
    const exitError = resticExitError.safeParse(record);
    // Its message may go on with advice on further lines ("Is there a repository at …?"): the first says what failed.
    if (exitError.success) exit = exitError.data.message.split('\n')[0]?.trim();
    const error = resticError.safeParse(record);
    const text = error.success ? describeResticError(error.data) : undefined;
    if (text !== undefined && !described.includes(text)) described.push(text);
  }
  const more = described.length - QUOTED_ERRORS;
  return { exit, errors: more > 0 ? [...described.slice(0, QUOTED_ERRORS), `and ${more} more error${more === 1 ? '' : 's'}`] : described };
}

/** The line that says why a run failed: restic's `Fatal:` line, else the last line, where programs end with their error. */
function errorLine(output: JobOutput): string | undefined {
  return (output.lines.find((line) => line.startsWith('Fatal: ')) ?? output.lines.at(-1))?.trim();
}

/** Why a run failed: restic's exit error or else the error line, then the errors restic met on the way. */
function failureDetail(output: JobOutput): string | undefined {
  const { exit, errors } = resticErrors(output);
  const parts = [exit ?? errorLine(output), ...errors].filter((part) => part !== undefined && part !== '');
  return parts.length === 0 ? undefined : parts.join('; ');
}

function clip(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The output as evidence, bounded: restic's progress lines dropped, then the newest records and the last text that fit. */
function evidenceOf(job: string, event: RunEvent, output: JobOutput): Record<string, unknown> {
  const evidence: Record<string, unknown> = { job, event };
  const kept: unknown[] = [];
  let size = 0;
  for (const record of output.records.filter((candidate) => !isResticProgress(candidate)).toReversed()) {
    size += JSON.stringify(record).length + 1;
    if (size > EVIDENCE_LIMIT) break;
    kept.unshift(record);
  }
  if (kept.length > 0) evidence.output = kept;
  if (kept.length < output.records.length) evidence.outputOmitted = output.records.length - kept.length;
  const text = output.lines.join('\n');
  if (text !== '') evidence.text = text.slice(-EVIDENCE_LIMIT);
  if (text.length > EVIDENCE_LIMIT) evidence.textOmitted = text.length - EVIDENCE_LIMIT;
  return evidence;
}

function reportAlert(source: string, job: Job, event: 'success' | 'fail', body: unknown, receivedAt: number): CanonicalAlert {
  const output = outputOf(body);
  const summary = summaryOf(output);
  const detail = event === 'fail' ? (failureDetail(output) ?? (summary && describeSummary(summary))) : summary ? describeSummary(summary) : errorLine(output);
  // restic's snapshot id names the run, so a report sent twice is one observation.
  const run = summary?.snapshot_id === undefined ? iso(receivedAt) : `snapshot-${summary.snapshot_id}`;
  return {
    id: `${job.name}:${event}:${run}`,
    source,
    family: job.family,
    status: event === 'fail' ? 'firing' : 'resolved',
    observedAt: receivedAt,
    asset: job.asset,
    check: job.check,
    message: `${job.name} ${event === 'fail' ? 'failed' : 'succeeded'}${detail === undefined || detail === '' ? '' : `: ${clip(detail, DETAIL_LIMIT)}`}`,
    severity: job.severity,
    control: job.control,
    labels: { job: job.name },
    evidence: evidenceOf(job.name, event, output),
  };
}

function routeError(message: string): IntakeResult {
  return { alerts: [], errors: [{ path: '(route)', message }] };
}

function parseRoute(route: string, jobs: ReadonlyMap<string, Job>): { job: Job; event: RunEvent } | PayloadError {
  const segments = route.split('/');
  const [name = '', event] = segments;
  const usage = 'post to /hooks/{connector}/{job}/start, /success or /fail';
  if (segments.length !== 2 || name === '' || event === undefined) {
    return { path: '(route)', message: `${route === '' ? 'no job and event' : `"${route}" is not {job}/{event}`}: ${usage}` };
  }
  const job = jobs.get(name);
  if (job === undefined) {
    return { path: '(route)', message: `job "${name}" is not configured here (jobs: ${[...jobs.keys()].join(', ')})` };
  }
  if (!(EVENTS as readonly string[]).includes(event)) return { path: '(route)', message: `"${event}" is not an event: ${usage}` };
  return { job, event: event as RunEvent };
}

/** The run record is read from Redis: when that fails, the sender is told to send again. */
async function readRuns<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new RecurdError('ENQUEUE_FAILED', `${what} could not be recorded: its last runs were not read; send it again`, undefined, { cause: error });
  }
}

async function receive(source: string, jobs: ReadonlyMap<string, Job>, state: ConnectorState, body: unknown, receivedAt: number, route: string): Promise<IntakeResult> {
  const parsed = parseRoute(route, jobs);
  if ('path' in parsed) return routeError(parsed.message);
  const { job, event } = parsed;
  const field: keyof Runs = event === 'start' ? 'started' : 'finished';
  const runs = await readRuns(`${source}: the ${event} of ${job.name}`, async () => ({
    started: timeOf(await state.get(stateKey(job.name, 'started'))),
    finished: timeOf(await state.get(stateKey(job.name, 'finished'))),
  }));
  // A late run reveals the deadlines it missed, even those passed while no poll ran.
  const alerts = deadlines(job, runs, null, receivedAt - 1).map((deadline) => deadlineAlert(source, job, deadline));
  // A start is no observation of the check; it opens the run that grace then times.
  if (event !== 'start') alerts.push(reportAlert(source, job, event, body, receivedAt));
  // Stored with the alerts, in one step: a run's time is never kept while its report is lost.
  return { alerts, errors: [], stateChanges: { [stateKey(job.name, field)]: String(Math.max(runs[field] ?? 0, receivedAt)) } };
}

const checkpointSchema = z.object({
  jobs: z.record(z.string(), z.object({ watchedSince: z.number(), reportedUntil: z.number() })),
});
type Checkpoint = z.output<typeof checkpointSchema>;

function checkpointOf(value: unknown, logger: Logger): Checkpoint['jobs'] {
  if (value === null) return {};
  const parsed = checkpointSchema.safeParse(value);
  if (parsed.success) return parsed.data.jobs;
  // Deadline ids are stable, so starting over re-reports nothing twice; only the watch restarts.
  logger.warn({ checkpoint: value }, 'heartbeat checkpoint unreadable; watching every job from now');
  return {};
}

async function poll(source: string, jobs: ReadonlyMap<string, Job>, state: ConnectorState, now: number, logger: Logger, context: PollContext): Promise<void> {
  const values = await state.all();
  const watched = checkpointOf(context.checkpoint, logger);
  const next: Checkpoint['jobs'] = {};
  const alerts: CanonicalAlert[] = [];
  for (const job of jobs.values()) {
    const watchedSince = watched[job.name]?.watchedSince ?? now;
    const reportedUntil = watched[job.name]?.reportedUntil ?? 0;
    const fresh = deadlines(job, runsIn(values, job.name), watchedSince, now).filter((deadline) => deadline.at > reportedUntil);
    alerts.push(...fresh.map((deadline) => deadlineAlert(source, job, deadline)));
    next[job.name] = { watchedSince, reportedUntil: fresh.at(-1)?.at ?? reportedUntil };
  }
  await context.emit(alerts);
  await context.saveCheckpoint({ jobs: next } satisfies Checkpoint);
}

export const heartbeatConnector: ConnectorType<typeof schema> = {
  type: 'heartbeat',
  schema,
  create(config, services) {
    const jobs = jobsOf(config);
    const { state, clock, logger } = services;
    return {
      name: config.name,
      type: 'heartbeat',
      intake: {
        auth: config.auth,
        subroutes: true,
        partial: config.partial ?? false,
        normalise: (body, receivedAt, route) => receive(config.name, jobs, state, body, receivedAt, route),
      },
      poller: {
        schedule: config.schedule,
        poll: (context) => poll(config.name, jobs, state, clock.now(), logger, context),
      },
    };
  },
};
