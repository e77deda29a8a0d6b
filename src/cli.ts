#!/usr/bin/env node
/**
 * recurd start | validate FILE | schema | nc list|show|verify|fix|owner|due|comment|attach|void|accept-risk | symptoms list|show|fix | export [verify] | report | replay FILE | dlq list|show|replay|drop | outbox list|retry|drop
 * Exit status: 0 done, 1 failed while running, 2 wrong usage or invalid config.
 */
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { createConnector } from '../connectors/registry.js';
import { MemoryConnectorState } from '../connectors/types.js';
import { controlWarnings, loadAnnexA } from './config/annex-a.js';
import { engineSettings, loadConfig, resolveConfigPath } from './config/load.js';
import type { Config } from './config/schema.js';
import { renderConfigJsonSchema } from './config/write-schema.js';
import { systemClock } from './core/clock.js';
import { dueDateEnds, type OwnershipChange } from './core/ownership.js';
import { reviewPeriod } from './core/review.js';
import { FAMILIES, NC_STATES, SYMPTOM_STATES, VOID_REASONS, type Family, type NcState, type Nonconformity, type Symptom, type SymptomState, type VoidReason } from './core/types.js';
import { startDaemon } from './daemon.js';
import { DeadLetterCommands } from './dead-letter-commands.js';
import { OutboxCommands } from './outbox-commands.js';
import { Engine } from './engine.js';
import { RecurdError } from './errors.js';
import { recurdVersion, verifyExport, writeExport } from './export.js';
import { readReview } from './review/read.js';
import { reviewDocument } from './review/render.js';
import { createLogger } from './log.js';
import { announceWorker, clusterScrape, isClusterWorker, processCount, runPrimary } from './cluster.js';
import { chainSummary, chainView, ncView, symptomDetailView, symptomView, timelineView } from './present.js';
import { verifyTimeline, type Page, type PageRequest } from './register.js';
import { replay } from './replay.js';
import { connectRedis } from './store/redis-check.js';
import { RedisRegister } from './store/redis-register.js';
import { RedisTicketLinks } from './ticket-links.js';

const USAGE = `usage:
  recurd start [--config FILE]
  recurd validate FILE
  recurd schema
  recurd nc list [--state open|verifying|reopened|closed|void|risk-accepted] [--family F] [--limit N] [--cursor C] [--overdue] [--json] [--config FILE]
  recurd nc show ID [--json] [--config FILE]
  recurd nc verify ID [--json] [--config FILE]
  recurd nc fix ID --action TEXT --owner NAME [--root-cause TEXT] [--due YYYY-MM-DD] [--isms-change TEXT] [--actor NAME] [--config FILE]
                 [--why TEXT (five times) --cause-category CATEGORY [--rca-summary TEXT]]
                 (the five whys and a cause category are required once an NC was reopened)
  recurd nc owner ID NAME [--actor NAME] [--json] [--config FILE]
  recurd nc due ID YYYY-MM-DD|TIME [--actor NAME] [--json] [--config FILE]
  recurd nc comment ID TEXT [--actor NAME] [--json] [--config FILE]
  recurd nc attach ID (--url URL | --path PATH) --sha256 HEX [--name NAME] [--actor NAME] [--json] [--config FILE]
  recurd symptoms list [--state active|fixed|verified] [--family F] [--check C] [--asset A] [--limit N] [--cursor C] [--json] [--config FILE]
  recurd symptoms show FINGERPRINT [--json] [--config FILE]
  recurd symptoms fix FINGERPRINT [--note TEXT] [--actor NAME] [--json] [--config FILE]
                 (the actor is the OS user unless --actor names another)
  (a list prints a page of --limit, 50 unless given; the next page is --cursor with the one it names)
  recurd nc void ID --reason false-positive|duplicate|test-data --note TEXT [--actor NAME] [--json] [--config FILE]
  recurd nc accept-risk ID --approver NAME --reason TEXT --until DATE [--actor NAME] [--json] [--config FILE]
                 (--actor defaults to the OS user)
  recurd export --out DIR [--since TIME] [--state S] [--control A.x.y] [--config FILE]
  recurd export verify DIR|FILE.zip|FILE.tar.gz
  recurd report --out FILE.html [--from YYYY-MM] [--to YYYY-MM] [--config FILE]
                 (the management review; by default the last 12 months, the current one included)
  recurd replay FILE [--connector NAME] [--until TIME] [--json] [--config FILE]
  recurd dlq list [--json] [--config FILE]
  recurd dlq show ID [--config FILE]
  recurd dlq replay ID|all [--config FILE]
  recurd dlq drop ID [--config FILE]
  recurd outbox list [--notifier NAME] [--json] [--config FILE]
  recurd outbox retry ID|all [--notifier NAME] [--config FILE]
  recurd outbox drop ID|all [--notifier NAME] [--config FILE]

The config file is --config FILE, else $RECURD_CONFIG, else config/recurd.yaml.
--actor names who acts, on the NC's timeline; by default the user running the command.
Exit status: 0 done, 1 failed (replay: some input lines were invalid; they are listed on stderr
and the report of the others is still printed; nc verify: the timeline's hash chain does not
hold; export verify: a file differs from the manifest, is missing or is not in it), 2 wrong usage
or invalid config.`;

class UsageError extends Error {}

const options = {
  config: { type: 'string' },
  state: { type: 'string' },
  json: { type: 'boolean', default: false },
  action: { type: 'string' },
  owner: { type: 'string' },
  'root-cause': { type: 'string' },
  due: { type: 'string' },
  connector: { type: 'string' },
  why: { type: 'string', multiple: true },
  'cause-category': { type: 'string' },
  'rca-summary': { type: 'string' },
  'isms-change': { type: 'string' },
  until: { type: 'string' },
  family: { type: 'string' },
  check: { type: 'string' },
  asset: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  note: { type: 'string' },
  overdue: { type: 'boolean', default: false },
  reason: { type: 'string' },
  approver: { type: 'string' },
  actor: { type: 'string' },
  url: { type: 'string' },
  path: { type: 'string' },
  sha256: { type: 'string' },
  name: { type: 'string' },
  out: { type: 'string' },
  since: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  control: { type: 'string' },
  notifier: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

async function withRegister<T>(config: Config, work: (register: RedisRegister, engine: Engine, redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(config.redis.url);
  try {
    const register = new RedisRegister(redis, config.redis.keyPrefix, config.pipeline.dedupeFor);
    const engine = new Engine({ register, clock: systemClock, ...engineSettings(config) });
    return await work(register, engine, redis);
  } finally {
    await redis.quit();
  }
}

/** Who acts: --actor, else the user running the command. */
function actorOf(values: Values): string {
  if (values.actor !== undefined) {
    if (values.actor.trim() === '') throw new UsageError('--actor is empty: name who acts');
    return values.actor.trim();
  }
  return osUser();
}

/** `nc owner|due|comment|attach`: the change each asks for, from its arguments. */
function ownershipChange(sub: string, args: string[], values: Values): OwnershipChange {
  const value = args[1];
  if (sub === 'owner') {
    if (value === undefined || value.trim() === '') throw new UsageError('recurd nc owner needs ID NAME');
    return { kind: 'owner', owner: value.trim() };
  }
  if (sub === 'due') {
    if (value === undefined) throw new UsageError('recurd nc due needs ID DATE (YYYY-MM-DD or an ISO 8601 time with an offset)');
    return { kind: 'due-date', dueDate: value };
  }
  if (sub === 'comment') {
    if (value === undefined || value.trim() === '') throw new UsageError('recurd nc comment needs ID TEXT');
    return { kind: 'comment', text: value.trim() };
  }
  const { url, path, sha256, name } = values;
  if ((url === undefined) === (path === undefined)) throw new UsageError('recurd nc attach needs either --url URL or --path PATH');
  if (url !== undefined && !URL.canParse(url)) throw new UsageError(`--url "${url}" is not a URL`);
  if (sha256 === undefined || !/^[0-9a-fA-F]{64}$/.test(sha256)) throw new UsageError('recurd nc attach needs --sha256 HEX: the SHA-256 of the file, 64 hex characters');
  return { kind: 'attachment', ...(url === undefined ? {} : { url }), ...(path === undefined ? {} : { path }), sha256, ...(name === undefined ? {} : { name }) };
}

const CHANGED: Record<OwnershipChange['kind'], string> = { owner: 'owner set', 'due-date': 'due date set', comment: 'comment added', attachment: 'attachment added' };

function table(ncs: Nonconformity[]): string {
  if (ncs.length === 0) return 'no nonconformities';
  const rows = ncs.map((nc) => [nc.id, nc.state, nc.family, nc.control ?? '-', String(nc.reopenCount), String(nc.occurrences), new Date(nc.openedAt).toISOString(), nc.title]);
  return columns(['ID', 'STATE', 'FAMILY', 'CONTROL', 'REOPENED', 'OCCURRENCES', 'OPENED', 'TITLE'], rows);
}

function symptomTable(symptoms: Symptom[]): string {
  if (symptoms.length === 0) return 'no symptoms';
  const rows = symptoms.map((symptom) => [
    symptom.fingerprint,
    symptom.state,
    symptom.family,
    String(symptom.episode),
    symptom.nc ?? '-',
    symptom.episode === 0 ? '-' : new Date(symptom.lastFiringAt).toISOString(),
    `${symptom.check || '-'} @ ${symptom.asset || '-'}`,
  ]);
  return columns(['FINGERPRINT', 'STATE', 'FAMILY', 'EPISODE', 'NC', 'LAST FIRING', 'CHECK @ ASSET'], rows);
}

/** What follows a page that is not the last: how many match, and how to ask for the next. */
function pageFooter(page: Page<unknown>): string[] {
  return page.nextCursor === null ? [] : [`${page.items.length} of ${page.count} shown; the next page: --cursor ${page.nextCursor}`];
}

function pageRequest(values: Values): PageRequest {
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`--limit "${values.limit}" must be a whole number from 1 to 10000`);
  return { limit, ...(values.cursor === undefined ? {} : { cursor: values.cursor }) };
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value !== undefined && !(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}`);
  return value as T | undefined;
}

function columns(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n');
}

async function ncCommand(sub: string | undefined, args: string[], values: Values): Promise<number> {
  const config = loadConfig(resolveConfigPath(values.config));
  if (sub === 'list') {
    const state = oneOf<NcState>('--state', values.state, NC_STATES);
    const family = oneOf<Family>('--family', values.family, FAMILIES);
    const request = pageRequest(values);
    const page = await withRegister(config, (register) =>
      register.pageNcs({ ...(state === undefined ? {} : { state }), ...(family === undefined ? {} : { family }), ...(values.overdue ? { overdue: true } : {}) }, request),
    );
    if (values.json) console.log(JSON.stringify({ nonconformities: page.items.map((nc) => ncView(nc)), count: page.count, nextCursor: page.nextCursor }, null, 2));
    else console.log([table(page.items), ...pageFooter(page)].join('\n'));
    return 0;
  }
  const id = args[0];
  if (id === undefined) throw new UsageError(`recurd nc ${sub ?? ''} needs an NC id`);
  if (sub === 'show') {
    const shown = await withRegister(config, async (register, _engine, redis) => {
      const nc = await register.getNc(id);
      if (nc === null) throw new RecurdError('NC_NOT_FOUND', `no nonconformity ${id}`);
      const tickets = (await new RedisTicketLinks(redis, config.redis.keyPrefix).forNcs([id])).get(id) ?? [];
      return { nc, tickets, timeline: await register.timeline(id) };
    });
    if (values.json) {
      console.log(JSON.stringify({ ...ncView(shown.nc, shown.tickets), timeline: timelineView(shown.timeline) }, null, 2));
      return 0;
    }
    const view = ncView(shown.nc, shown.tickets);
    for (const [key, value] of Object.entries(view)) console.log(`${key.padEnd(18)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`);
    console.log('\ntimeline:');
    for (const entry of timelineView(shown.timeline)) console.log(`  ${String(entry.at)}  ${String(entry.type)}  ${JSON.stringify(entry.detail)}`);
    return 0;
  }
  if (sub === 'verify') {
    const verdict = await withRegister(config, (register) => verifyTimeline(register, id));
    console.log(values.json ? JSON.stringify(chainView(id, verdict), null, 2) : chainSummary(id, verdict));
    return verdict.holds ? 0 : 1;
  }
  if (sub === 'fix') {
    if (!values.action || !values.owner) throw new UsageError('recurd nc fix needs --action TEXT and --owner NAME');
    if (values.due !== undefined && Number.isNaN(Date.parse(values.due))) throw new UsageError(`--due "${values.due}" is not a date (YYYY-MM-DD)`);
    const analysis =
      values.why === undefined && values['cause-category'] === undefined
        ? undefined
        : { whys: values.why ?? [], category: values['cause-category'], ...(values['rca-summary'] === undefined ? {} : { summary: values['rca-summary'] }) };
    const nc = await withRegister(config, (_register, engine) =>
      engine.recordCorrectiveAction(id, {
        action: values.action ?? '',
        owner: values.owner ?? '',
        rootCause: values['root-cause'] ?? null,
        dueDate: values.due ?? null,
        rootCauseAnalysis: analysis,
        actor: actorOf(values),
        ismsChange: values['isms-change'] ?? null,
      }),
    );
    if (values.json) {
      console.log(JSON.stringify(ncView(nc), null, 2));
      return 0;
    }
    console.log(`${nc.id} is ${nc.state}; its effectiveness window ends ${new Date(nc.windowEndsAt ?? 0).toISOString()}`);
    if (nc.correctiveAction !== null) console.log(`strength: ${nc.correctiveAction.strength}: ${nc.correctiveAction.strengthReason}`);
    return 0;
  }
  if (sub === 'void') {
    if (values.reason === undefined || !(VOID_REASONS as readonly string[]).includes(values.reason)) {
      throw new UsageError(`recurd nc void needs --reason ${VOID_REASONS.join('|')}`);
    }
    if (!values.note?.trim()) throw new UsageError('recurd nc void needs --note TEXT: say why the NC is void');
    const reason = values.reason as VoidReason;
    const note = values.note.trim();
    const nc = await withRegister(config, (_register, engine) => engine.voidNc(id, { reason, note }, actorOf(values)));
    console.log(values.json ? JSON.stringify(ncView(nc), null, 2) : `${nc.id} is void (${reason})`);
    return 0;
  }
  if (sub === 'accept-risk') {
    const approver = values.approver?.trim();
    const reason = values.reason?.trim();
    if (!approver || !reason || values.until === undefined) throw new UsageError('recurd nc accept-risk needs --approver NAME, --reason TEXT and --until DATE');
    if (dueDateEnds(values.until) === null) throw new UsageError(`--until "${values.until}" is not a date (YYYY-MM-DD) or an ISO 8601 time`);
    const until = values.until;
    const nc = await withRegister(config, (_register, engine) => engine.acceptRisk(id, { approver, reason, until }, actorOf(values)));
    if (values.json) {
      console.log(JSON.stringify(ncView(nc), null, 2));
      return 0;
    }
    console.log(`${nc.id} is risk-accepted until ${new Date(nc.riskAcceptance?.until ?? 0).toISOString()}; it returns to open then`);
    return 0;
  }
  if (sub === 'owner' || sub === 'due' || sub === 'comment' || sub === 'attach') {
    const change = ownershipChange(sub, args, values);
    const actor = actorOf(values);
    const nc = await withRegister(config, (_register, engine) => engine.recordOwnership(id, change, actor));
    console.log(values.json ? JSON.stringify(ncView(nc), null, 2) : `${nc.id}: ${CHANGED[change.kind]} by ${actor}; owner ${nc.owner ?? 'none'}, due ${nc.dueDate ?? 'none'}, ${nc.comments} comment(s), ${nc.attachments} attachment(s)`);
    return 0;
  }
  throw new UsageError(`unknown command: recurd nc ${sub ?? ''}`);
}

/** Whoever runs the CLI, as the OS knows them: the actor of what they record unless --actor says otherwise. */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers).
    return process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

async function symptomsCommand(sub: string | undefined, args: string[], values: Values): Promise<void> {
  const config = loadConfig(resolveConfigPath(values.config));
  if (sub === 'list') {
    const state = oneOf<SymptomState>('--state', values.state, SYMPTOM_STATES);
    const family = oneOf<Family>('--family', values.family, FAMILIES);
    const filter = {
      ...(state === undefined ? {} : { state }),
      ...(family === undefined ? {} : { family }),
      ...(values.check === undefined ? {} : { check: values.check }),
      ...(values.asset === undefined ? {} : { asset: values.asset }),
    };
    const request = pageRequest(values);
    const { page, detectors } = await withRegister(config, async (register, engine) => ({ page: await register.pageSymptoms(filter, request), detectors: engine.detectors }));
    if (values.json) console.log(JSON.stringify({ symptoms: page.items.map((symptom) => symptomView(symptom, detectors)), count: page.count, nextCursor: page.nextCursor }, null, 2));
    else console.log([symptomTable(page.items), ...pageFooter(page)].join('\n'));
    return;
  }
  const fingerprint = args[0];
  if (fingerprint === undefined) throw new UsageError(`recurd symptoms ${sub ?? ''} needs a FINGERPRINT`);
  if (sub === 'fix') {
    const actor = actorOf(values);
    if (values.note !== undefined && values.note.trim() === '') throw new UsageError('--note must say what was done, or be left out');
    await withRegister(config, (_register, engine) => engine.recordFix(fingerprint, { actor, note: values.note?.trim() ?? null }));
  } else if (sub !== 'show') {
    throw new UsageError(`unknown command: recurd symptoms ${sub ?? ''}`);
  }
  const { view } = await withRegister(config, async (register, engine) => {
    const loaded = (await register.load([fingerprint], new Map(), new Set([fingerprint]))).symptoms.get(fingerprint);
    if (loaded?.symptom == null) throw new RecurdError('SYMPTOM_NOT_FOUND', `no symptom has fingerprint ${fingerprint}`);
    return { view: symptomDetailView(loaded.symptom, loaded.nc?.state ?? null, engine.detectors) };
  });
  if (values.json) {
    console.log(JSON.stringify(view, null, 2));
    return;
  }
  type EpisodeShown = { episode: number; firstFiringAt: string | null; occurrences: number; fixedAt: string | null; fixKind: string | null; fixedBy: string | null; note: string | null };
  type ObservationShown = { observedAt: string | null; status: string; outcome: string; source: string; id: string };
  const { episodes, recentObservations, ...fields } = view as { episodes: EpisodeShown[]; recentObservations: ObservationShown[] };
  for (const [key, value] of Object.entries(fields)) console.log(`${key.padEnd(18)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`);
  console.log('\nepisodes:');
  for (const episode of episodes) {
    const fix = episode.fixedAt === null ? 'not fixed' : `fixed ${episode.fixedAt} (${episode.fixKind ?? '-'}${episode.fixedBy === null ? '' : ` by ${episode.fixedBy}`}${episode.note === null ? '' : `: ${episode.note}`})`;
    console.log(`  ${String(episode.episode).padStart(4)}  ${episode.firstFiringAt ?? '-'}  ${episode.occurrences} firing  ${fix}`);
  }
  console.log('\nrecent observations:');
  for (const observation of recentObservations) console.log(`  ${observation.observedAt ?? '-'}  ${observation.status.padEnd(8)}  ${observation.outcome.padEnd(10)}  ${observation.source}/${observation.id}`);
}

/** `export verify` exits 1 naming each file that differs from the manifest, is missing, or is not in it. */
async function exportCommand(sub: string | undefined, args: string[], values: Values): Promise<number> {
  if (sub === 'verify') {
    const path = args[0];
    if (path === undefined) throw new UsageError('recurd export verify needs the export folder (or its .zip / .tar.gz)');
    const verdict = await verifyExport(path);
    for (const problem of verdict.problems) console.error(`${path}: ${problem.path} ${problem.problem}`);
    if (verdict.ok) console.log(`${path}: OK: ${verdict.files} file(s) of ${verdict.ncs} nonconformit${verdict.ncs === 1 ? 'y' : 'ies'} match the manifest`);
    else console.error(`recurd export verify: ${verdict.problems.length} problem(s): the export is not as it was written`);
    return verdict.ok ? 0 : 1;
  }
  if (sub !== undefined) throw new UsageError(`unknown command: recurd export ${sub}`);
  if (values.out === undefined) throw new UsageError('recurd export needs --out DIR');
  if (values.state !== undefined && !(NC_STATES as readonly string[]).includes(values.state)) throw new UsageError(`--state must be one of ${NC_STATES.join(', ')}`);
  const since = values.since === undefined ? undefined : Date.parse(values.since);
  if (since !== undefined && Number.isNaN(since)) throw new UsageError(`--since "${values.since}" is not a time (ISO 8601)`);
  const filter = { since, state: values.state as NcState | undefined, control: values.control };
  const out = values.out;
  const config = loadConfig(resolveConfigPath(values.config));
  const version = await recurdVersion();
  const written = await withRegister(config, (register) => writeExport(register, out, filter, systemClock.now(), version));
  console.log(`exported ${written.ncs} nonconformit${written.ncs === 1 ? 'y' : 'ies'} to ${out}: ${written.files} file(s), checked by manifest.json`);
  return 0;
}

/** `recurd report`: the management review of a period, as one HTML file that needs nothing else. */
async function reportCommand(sub: string | undefined, values: Values): Promise<number> {
  if (sub !== undefined) throw new UsageError(`unknown command: recurd report ${sub}`);
  if (values.out === undefined) throw new UsageError('recurd report needs --out FILE.html');
  const now = systemClock.now();
  const period = reviewPeriod({ from: values.from, to: values.to }, now);
  if ('problem' in period) throw new UsageError(`--${period.field}: ${period.problem}`);
  const out = values.out;
  const config = loadConfig(resolveConfigPath(values.config));
  const review = await withRegister(config, (register) => readReview(register, period, now, loadAnnexA().controls));
  await writeFile(out, reviewDocument(review));
  console.log(`wrote the management review of ${period.from} to ${period.to} to ${out} (${review.read.ncs} NCs read, ${review.read.timelines} timelines)`);
  return 0;
}

function counts(entries: Record<string, number>): string {
  return Object.entries(entries).map(([name, count]) => `${name} ${count}`).join(', ') || 'none';
}

/** Exit status 1 when lines were invalid: they are named on stderr, the rest is still reported. */
async function replayCommand(file: string | undefined, values: Values): Promise<number> {
  if (file === undefined) throw new UsageError('recurd replay needs a FILE of NDJSON alerts');
  const config = loadConfig(resolveConfigPath(values.config));
  let intake;
  if (values.connector !== undefined) {
    const connectorConfig = config.connectors.find((candidate) => candidate.name === values.connector);
    if (connectorConfig === undefined) throw new UsageError(`--connector: the config has no connector "${values.connector}"`);
    const connector = createConnector(connectorConfig, { state: new MemoryConnectorState(), clock: systemClock, logger: createLogger('warn') });
    intake = connector.intake;
    if (intake === undefined) throw new UsageError(`--connector: "${values.connector}" has no intake; replay reads intake payloads or canonical alerts`);
  }
  const until = values.until === undefined ? undefined : Date.parse(values.until);
  if (until !== undefined && Number.isNaN(until)) throw new UsageError(`--until "${values.until}" is not a time (ISO 8601)`);
  const settings = engineSettings(config);
  const report = await replay(file, { settings, intake, until });
  const invalidLines = new Set(report.problems.map((problem) => problem.line)).size;
  for (const problem of report.problems) console.error(`${file}: line ${problem.line}: ${problem.message}`);
  if (invalidLines > 0) console.error(`recurd replay: ${invalidLines} invalid line(s) skipped`);
  const status = invalidLines > 0 ? 1 : 0;
  if (values.json) {
    console.log(
      JSON.stringify(
        { ...report, symptoms: report.symptoms.map((symptom) => symptomView(symptom, settings.policy.detectors)), aggregates: report.aggregates.map((symptom) => symptomView(symptom)), nonconformities: report.nonconformities.map((nc) => ncView(nc)) },
        null,
        2,
      ),
    );
    return status;
  }
  console.log(`${report.lines} line(s), ${report.alerts} alert(s), ${invalidLines} invalid line(s)`);
  console.log(`nonconformities by detector: ${counts(report.byDetector)}`);
  console.log(`decisions: ${counts(report.outcomes)}`);
  console.log(`\nsymptoms: ${report.symptoms.length}`);
  for (const symptom of report.symptoms) {
    console.log(`  ${symptom.fingerprint}  ${symptom.state.padEnd(8)}  episode ${symptom.episode}  ${symptom.family}/${symptom.source}  ${symptom.check || '-'} @ ${symptom.asset || '-'}`);
  }
  if (report.aggregates.length > 0) {
    console.log(`\nsystemic aggregates: ${report.aggregates.length}`);
    for (const aggregate of report.aggregates) {
      // The assets are counted in the detector's tally; its NC names them.
      const nc = report.nonconformities.findLast((candidate) => candidate.fingerprint === aggregate.fingerprint);
      const spread = nc === undefined ? 'below its threshold' : `on ${nc.assetCount} asset(s): ${nc.assets.join(', ')}`;
      console.log(`  ${aggregate.fingerprint}  ${aggregate.aggregate ?? '-'}  ${aggregate.family}/${aggregate.source}  ${aggregate.check || '-'} ${spread}`);
    }
  }
  console.log(`\nnonconformities it would raise: ${report.nonconformities.length}`);
  for (const nc of report.nonconformities) {
    console.log(`  ${nc.id}  ${nc.state}  detector ${nc.detector}  occurrences ${nc.occurrences}  reopened ${nc.reopenCount}`);
    console.log(`    ${nc.check || '-'} @ ${nc.asset || '-'}: ${nc.title}`);
    console.log(`    reason: ${nc.reason}`);
  }
  return status;
}

/** Exit status 1 when a replayed entry still does not fit. */
async function dlqCommand(sub: string | undefined, args: string[], values: Values): Promise<number> {
  const config = loadConfig(resolveConfigPath(values.config));
  const redis = await connectRedis(config.redis.url);
  try {
    const commands = new DeadLetterCommands(config, redis);
    if (sub === 'list') {
      const letters = await commands.list(1000);
      if (values.json) console.log(JSON.stringify(letters, null, 2));
      else if (letters.length === 0) console.log('no dead letters');
      else for (const letter of letters) console.log(`${letter.id}  ${new Date(letter.receivedAt).toISOString()}  ${letter.connector}  ${letter.errors[0]?.path ?? ''}: ${letter.errors[0]?.message ?? ''}${letter.errors.length + letter.errorsOmitted > 1 ? ` (+${letter.errors.length + letter.errorsOmitted - 1} more)` : ''}`);
      return 0;
    }
    const id = args[0];
    if (id === undefined) throw new UsageError(`recurd dlq ${sub ?? ''} needs an entry id${sub === 'replay' ? ' or all' : ''}`);
    if (sub === 'show') {
      console.log(JSON.stringify(await commands.show(id), null, 2));
      return 0;
    }
    if (sub === 'drop') {
      await commands.drop(id);
      console.log(`dropped ${id}`);
      return 0;
    }
    if (sub === 'replay') {
      const outcomes = await commands.replay(id);
      for (const outcome of outcomes) {
        console.log(outcome.problems.length === 0 ? `${outcome.id}: ${outcome.accepted} alert(s) queued` : `${outcome.id}: still does not fit: ${outcome.problems.join('; ')}`);
      }
      return outcomes.some((outcome) => outcome.problems.length > 0) ? 1 : 0;
    }
    throw new UsageError(`unknown command: recurd dlq ${sub ?? ''}`);
  } finally {
    await redis.quit();
  }
}

/** `recurd outbox`: deliveries that gave up, sent again or let go. */
async function outboxCommand(sub: string | undefined, args: string[], values: Values): Promise<number> {
  const config = loadConfig(resolveConfigPath(values.config));
  const notifier = values.notifier;
  if (notifier !== undefined && !config.notifiers.some((candidate) => candidate.name === notifier)) {
    throw new UsageError(`--notifier ${notifier}: the config has no such notifier (${config.notifiers.map((candidate) => candidate.name).join(', ') || 'none'})`);
  }
  const redis = await connectRedis(config.redis.url);
  const outbox = new OutboxCommands(config, redis);
  try {
    if (sub === 'list') {
      const failed = await outbox.list(notifier);
      if (values.json) console.log(JSON.stringify({ deliveries: failed, count: failed.length }, null, 2));
      else if (failed.length === 0) console.log('no failed deliveries');
      else for (const delivery of failed) console.log(`${delivery.id}  ${delivery.failedAt ?? ''}  ${delivery.eventType}  ${delivery.nc}  after ${delivery.attempts} attempt(s): ${delivery.error}`);
      return 0;
    }
    if (sub !== 'retry' && sub !== 'drop') throw new UsageError(`unknown command: recurd outbox ${sub ?? ''}`);
    const id = args[0];
    if (id === undefined) throw new UsageError(`recurd outbox ${sub} needs a delivery id (recurd outbox list) or all`);
    const done = sub === 'retry' ? await outbox.retry(id, notifier) : await outbox.drop(id, notifier);
    const verb = sub === 'retry' ? 'queued again' : 'dropped';
    console.log(done.length === 0 ? 'no failed deliveries' : `${verb}: ${done.join(', ')}`);
    return 0;
  } finally {
    await outbox.close();
    await redis.quit();
  }
}

async function start(values: Values): Promise<void> {
  const config = loadConfig(resolveConfigPath(values.config));
  const worker = isClusterWorker();
  const logger = worker ? createLogger(config.log.level).child({ process: process.pid }) : createLogger(config.log.level);
  const processes = processCount(config.pipeline.processes);
  if (processes > 1 && !worker) {
    process.exit(await runPrimary(processes, logger, config.pipeline.shutdownTimeout));
  }
  const daemon = await startDaemon(config, { logger, ...(worker ? { scrape: clusterScrape } : {}) });
  let stopping = false;
  const shutdown = (signal: string): void => {
    // A worker hears a terminal's Ctrl-C and then its primary's SIGTERM: one drain is enough.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: intake closed, draining in-flight work');
    const timer = setTimeout(() => {
      logger.error({ waitingFor: daemon.stopWaitingFor() }, `in-flight work did not finish within ${config.pipeline.shutdownTimeout} ms; exiting`);
      process.exit(1);
    }, config.pipeline.shutdownTimeout);
    timer.unref();
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  if (worker) {
    announceWorker(daemon.metrics);
    // The primary is gone (killed): nothing would stop or replace this process.
    process.on('disconnect', () => shutdown('the primary process ended'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    return;
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'start':
        await start(values);
        return -1;
      case 'validate': {
        const file = rest[0] ?? resolveConfigPath(values.config);
        const config = loadConfig(file);
        const warnings = controlWarnings(config, loadAnnexA());
        for (const warning of warnings) console.error(`${file}: warning: ${warning.path}: ${warning.message}`);
        console.log(`${file}: OK (${config.connectors.length} connector(s), ${config.notifiers.length} notifier(s)${warnings.length > 0 ? `, ${warnings.length} warning(s)` : ''})`);
        return 0;
      }
      case 'schema':
        process.stdout.write(renderConfigJsonSchema());
        return 0;
      case 'nc':
        return await ncCommand(rest[0], rest.slice(1), values);
      case 'symptoms':
        await symptomsCommand(rest[0], rest.slice(1), values);
        return 0;
      case 'export':
        return await exportCommand(rest[0], rest.slice(1), values);
      case 'report':
        return await reportCommand(rest[0], values);
      case 'replay':
        return await replayCommand(rest[0], values);
      case 'dlq':
        return await dlqCommand(rest[0], rest.slice(1), values);
      case 'outbox':
        return await outboxCommand(rest[0], rest.slice(1), values);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof RecurdError) {
      console.error(`recurd: ${error.code}: ${error.message}`);
      return error.code === 'RECURD_ERR_CONFIG_INVALID' ? 2 : 1;
    }
    console.error(`recurd: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

// `start` keeps running until a signal; every other command ends with its status.
main(process.argv.slice(2)).then(
  (status) => {
    if (status < 0) return;
    process.exitCode = status;
    // A daemon process that could not start: its channel to the primary would keep it alive.
    if (isClusterWorker()) process.exit(status);
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
