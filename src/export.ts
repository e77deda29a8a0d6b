/**
 * The register handed to an auditor: `register.csv` (one row per NC), `ncs/<id>.json` (the NC with
 * its timeline, its clause 10.2 record and its chain status), `ncs/<id>.md` (the 10.2 record as a
 * working paper) and `manifest.json` (the SHA-256 of every file, the filter, the time, the recurd
 * version and the chain status of each NC), as a folder or a zip / tar.gz archive of one.
 *
 * An export reads the register page by page and writes NC by NC, so its memory does not grow
 * with the register; the manifest and the CSV are written as they go, and hashed from disk.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, opendir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { PassThrough, pipeline as pipelineCallback, type Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import * as tar from 'tar';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { verifyChain, type ChainVerdict } from './core/chain.js';
import { clause10_2, type Clause10_2 } from './core/clause10-2.js';
import type { NcState, Nonconformity } from './core/types.js';
import { RecurdError } from './errors.js';
import { chainView, ncView, timelineView } from './present.js';
import { timelineRecord, type NcPosition, type Register } from './register.js';
import { workingPaper } from './working-paper.js';

export interface ExportFilter {
  /** Only NCs opened at or after this time (epoch ms). */
  since?: number;
  state?: NcState;
  control?: string;
}

export const EXPORT_FORMATS = ['zip', 'tar.gz'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The columns of `register.csv`, in order (README, "Export"). */
export const CSV_COLUMNS = [
  'id', 'state', 'family', 'control', 'controlAsReported', 'check', 'asset', 'title', 'severity', 'detector',
  'openedAt', 'closedAt', 'reopenCount', 'occurrences', 'owner', 'dueDate', 'action', 'actionStrength',
  'verificationResult', 'ismsChange', 'elsewhereCount', 'timelineEntries', 'chainHolds', 'chainHead',
] as const;

export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  format: 'recurd-export/1';
  recurd: { version: string };
  exportedAt: string;
  filter: { since: string | null; state: string | null; control: string | null };
  /** Each NC exported, with whether its timeline's hash chain held when it was exported. */
  ncs: Array<{ id: string; chain: { holds: boolean; head: string | null; entries: number } }>;
  files: ManifestFile[];
}

/** How many NCs an export reads from the register at a time. */
const PAGE = 200;

function iso(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString();
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function hashFile(path: string): Promise<ManifestFile & { path: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { path, sha256: hash.digest('hex'), bytes };
}

/** The recurd version, from its package.json (two folders up from this file once built, one in the sources). */
export async function recurdVersion(): Promise<string> {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(await readFile(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'recurd' && manifest.version !== undefined) return manifest.version;
    } catch {
      // Not at this level: the next one is tried.
    }
  }
  throw new Error('the package.json of recurd was not found beside its code');
}

function csvRow(nc: Nonconformity, record: Clause10_2, verdict: ChainVerdict, entries: number): Record<(typeof CSV_COLUMNS)[number], string | number> {
  const action = nc.correctiveAction;
  return {
    id: nc.id,
    state: nc.state,
    family: nc.family,
    control: nc.control ?? '',
    controlAsReported: nc.controlAsReported ?? '',
    check: nc.check,
    asset: nc.asset,
    title: nc.title,
    severity: nc.severity,
    detector: nc.detector,
    openedAt: iso(nc.openedAt),
    closedAt: iso(nc.closedAt),
    reopenCount: nc.reopenCount,
    occurrences: nc.occurrences,
    owner: nc.owner ?? action?.owner ?? '',
    dueDate: nc.dueDate ?? action?.dueDate ?? '',
    action: action?.action ?? '',
    actionStrength: action?.strength ?? '',
    verificationResult: record.effectiveness.result,
    ismsChange: record.ismsChange.change ?? '',
    elsewhereCount: nc.elsewhereCount,
    timelineEntries: entries,
    chainHolds: String(verdict.holds),
    chainHead: verdict.head ?? '',
  };
}

/** Writes text to a stream, waiting while it is full, so that a large export never queues in memory. */
async function put(stream: WriteStream | ReturnType<typeof stringify>, chunk: unknown): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await finished(stream);
}

/**
 * Writes an export of the NCs that match `filter` into `dir` (created; it must be empty). Returns
 * how many NCs were exported. `now` is the export time written in the manifest.
 */
export async function writeExport(register: Register, dir: string, filter: ExportFilter, now: number, version: string): Promise<{ ncs: number; files: number }> {
  await mkdir(join(dir, 'ncs'), { recursive: true });
  const present = (await readdir(dir)).filter((name) => name !== 'ncs');
  if (present.length > 0 || (await readdir(join(dir, 'ncs'))).length > 0) {
    throw new RecurdError('EXPORT_TARGET_NOT_EMPTY', `${dir} is not empty (${present[0] ?? 'ncs/'}): an export goes into a new or empty folder`);
  }
  // The manifest's lists are written as they grow: two streams beside the CSV, joined at the end.
  const manifestNcs = createWriteStream(join(dir, '.manifest-ncs'));
  const manifestFiles = createWriteStream(join(dir, '.manifest-files'));
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
  const csvWritten = pipeline(csv, createWriteStream(join(dir, 'register.csv')));
  let count = 0;
  let files = 0;
  const addFile = async (path: string, data: Buffer): Promise<void> => {
    await writeFile(join(dir, path), data);
    await put(manifestFiles, `${files === 0 ? '' : ',\n'}    ${JSON.stringify({ path, sha256: sha256(data), bytes: data.length })}`);
    files++;
  };
  try {
    let after: NcPosition | undefined;
    for (;;) {
      const page = await register.listNcs({ ...filter, limit: PAGE, ...(after === undefined ? {} : { after }) });
      for (const nc of page) {
        const stored = await register.storedTimeline(nc.id);
        const timeline = stored.map(timelineRecord);
        const verdict = verifyChain(stored, nc.timelineHead ?? null);
        const record = clause10_2(nc, timeline);
        const chain = chainView(nc.id, verdict);
        const document = { ...ncView(nc), clause10_2: record, chain, timeline: timelineView(timeline) };
        await addFile(`ncs/${nc.id}.json`, Buffer.from(`${JSON.stringify(document, null, 2)}\n`));
        await addFile(`ncs/${nc.id}.md`, Buffer.from(workingPaper(nc, record, verdict)));
        await put(csv, csvRow(nc, record, verdict, timeline.length));
        await put(manifestNcs, `${count === 0 ? '' : ',\n'}    ${JSON.stringify({ id: nc.id, chain: { holds: verdict.holds, head: verdict.head, entries: verdict.entries } })}`);
        count++;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) break;
      after = { openedAt: last.openedAt, id: last.id };
    }
    csv.end();
    await csvWritten;
    const csvFile = await hashFile(join(dir, 'register.csv'));
    await put(manifestFiles, `${files === 0 ? '' : ',\n'}    ${JSON.stringify({ path: 'register.csv', sha256: csvFile.sha256, bytes: csvFile.bytes })}`);
    files++;
    await close(manifestNcs);
    await close(manifestFiles);
    const head: Omit<Manifest, 'ncs' | 'files'> = {
      format: 'recurd-export/1',
      recurd: { version },
      exportedAt: new Date(now).toISOString(),
      filter: { since: filter.since === undefined ? null : new Date(filter.since).toISOString(), state: filter.state ?? null, control: filter.control ?? null },
    };
    const manifest = createWriteStream(join(dir, 'manifest.json'));
    await put(manifest, `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "ncs": [\n`);
    await pipeline(createReadStream(join(dir, '.manifest-ncs')), manifest, { end: false });
    await put(manifest, '\n  ],\n  "files": [\n');
    await pipeline(createReadStream(join(dir, '.manifest-files')), manifest, { end: false });
    await put(manifest, '\n  ]\n}\n');
    await close(manifest);
  } finally {
    manifestNcs.destroy();
    manifestFiles.destroy();
    await rm(join(dir, '.manifest-ncs'), { force: true });
    await rm(join(dir, '.manifest-files'), { force: true });
  }
  return { ncs: count, files: files + 1 };
}

/** The files of an export folder, relative and with `/` separators, manifest.json last. */
async function exportFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of await opendir(join(dir, 'ncs'))) if (entry.isFile()) names.push(`ncs/${entry.name}`);
  return ['register.csv', ...names.sort(), 'manifest.json'];
}

/** An export folder as one archive stream (zip, or tar.gz). */
export async function archiveStream(dir: string, format: ExportFormat): Promise<Readable> {
  const files = await exportFiles(dir);
  if (format === 'tar.gz') return tar.create({ gzip: true, cwd: dir, portable: true }, files) as unknown as Readable;
  const zip = new yazl.ZipFile();
  for (const file of files) zip.addFile(join(dir, file), file);
  zip.end();
  return zip.outputStream as Readable;
}

/**
 * Exports into a temporary folder and streams it as an archive; the folder is removed once the
 * stream has ended or was abandoned.
 */
export async function exportArchive(register: Register, filter: ExportFilter, now: number, format: ExportFormat): Promise<Readable> {
  const temp = await mkdtemp(join(tmpdir(), 'recurd-export-'));
  try {
    await writeExport(register, join(temp, 'export'), filter, now, await recurdVersion());
    // Through a Node stream, whose pipeline ends (done, failed or abandoned by the client) in
    // every case: tar's own stream does not emit 'close'.
    const body = new PassThrough();
    pipelineCallback(await archiveStream(join(temp, 'export'), format), body, () => void rm(temp, { recursive: true, force: true }));
    return body;
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

export interface VerifyProblem {
  path: string;
  problem: string;
}

export interface ExportVerdict {
  ok: boolean;
  /** Files listed in the manifest. */
  files: number;
  ncs: number;
  problems: VerifyProblem[];
}

/** A manifest path that stays inside the export: no absolute path, no `..`. */
function inside(path: string): boolean {
  return !isAbsolute(path) && !normalize(path).split(sep).includes('..');
}

/** Re-checks every file of an export folder against its manifest; files the manifest does not list are problems too. */
export async function verifyExportDir(dir: string): Promise<ExportVerdict> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (error) {
    return { ok: false, files: 0, ncs: 0, problems: [{ path: 'manifest.json', problem: `cannot be read as JSON (${(error as Error).message})` }] };
  }
  const problems: VerifyProblem[] = [];
  const listed = new Set<string>();
  for (const file of manifest.files) {
    listed.add(file.path);
    if (!inside(file.path)) {
      problems.push({ path: file.path, problem: 'is not a path inside the export' });
      continue;
    }
    let actual;
    try {
      actual = await hashFile(join(dir, file.path));
    } catch {
      problems.push({ path: file.path, problem: 'is missing' });
      continue;
    }
    if (actual.sha256 !== file.sha256) problems.push({ path: file.path, problem: `differs from the manifest: its SHA-256 is ${actual.sha256}, the manifest says ${file.sha256}` });
  }
  let present: string[] = [];
  try {
    present = await exportFiles(dir);
  } catch {
    problems.push({ path: 'ncs/', problem: 'is missing' });
  }
  for (const path of present) if (path !== 'manifest.json' && !listed.has(path)) problems.push({ path, problem: 'is not in the manifest' });
  return { ok: problems.length === 0, files: manifest.files.length, ncs: manifest.ncs.length, problems };
}

async function unzip(file: string, into: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(file, { lazyEntries: true }, (error, opened) => (error ? reject(error) : resolve(opened))));
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) {
        zip.readEntry();
        return;
      }
      if (!inside(entry.fileName)) {
        reject(new RecurdError('FILE_UNREADABLE', `${file}: the entry ${entry.fileName} points outside the archive`));
        return;
      }
      const target = join(into, entry.fileName);
      zip.openReadStream(entry, (error, stream) => {
        if (error) {
          reject(error);
          return;
        }
        mkdir(dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target)))
          .then(() => zip.readEntry(), reject);
      });
    });
    zip.readEntry();
  });
  zip.close();
}

/** Verifies an export folder, or a .zip / .tar.gz of one (unpacked into a temporary folder first). */
export async function verifyExport(path: string): Promise<ExportVerdict> {
  const format = path.endsWith('.zip') ? 'zip' : path.endsWith('.tar.gz') || path.endsWith('.tgz') ? 'tar.gz' : null;
  if (format === null) return verifyExportDir(path);
  const temp = await mkdtemp(join(tmpdir(), 'recurd-verify-'));
  try {
    if (format === 'zip') await unzip(path, temp);
    else await tar.x({ file: path, cwd: temp });
    return await verifyExportDir(temp);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
