/**
 * Tails a log file on this host: NDJSON (one JSON document per line: Wazuh's alerts.json,
 * Suricata's eve.json) or plain text (one line per document: ClamAV's logs, or any log read with
 * named-group `patterns`). Each poll reads the complete lines written since the last one, maps
 * them through a preset or a mapping, enqueues the alerts and only then moves its checkpoint
 * (at-least-once; ids make a re-read idempotent).
 *
 * Where reading stands is the checkpoint `{ current, previous }`, each `{ inode, offset, head,
 * file }` (head: a hash of the file's first bytes, so that a new file that reuses the inode is
 * seen as new; file: `<inode>@<ms>`, the inode and when recurd began reading it). It lives in
 * Redis, so a restart goes on where the last poll stopped. Lines without an id of their own are
 * named `<file>:<offset>`: stable across re-reads, never repeated by a truncated file or a reused
 * inode.
 * - Rotation: when the path holds another inode than the checkpoint's, the old file is looked for
 *   in the same directory, among names that start with the log's, by its inode (logrotate's
 *   `alerts.json.1` or `alerts.json-20261123`, uncompressed) and read to its end; it stays `previous` and is read again on later polls, since
 *   a writer may go on appending to it until it reopens its log. The new file is read from 0.
 * - Truncation (copytruncate, or `> file`): a file shorter than the checkpoint, or whose first
 *   bytes changed, is read again from 0.
 * - A last line without its newline is still being written: it waits for the next poll.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { cronSchedule } from '../src/config/fields.js';
import type { CanonicalAlert } from '../src/core/types.js';
import { mergeMapping, type MappingOverrides } from './mapping.js';
import { clamavPreset } from './presets/clamav.js';
import { findPreset } from './presets/index.js';
import { checkPresetOptions, presetFields, presetMapper } from './presets/resolve.js';
import { ConnectorError, connectorBase } from './types.js';
import type { ConnectorServices, ConnectorType, PayloadError, PollContext } from './types.js';

/** Presets whose documents are lines of text, `{ line }`, rather than JSON. */
const TEXT_PRESETS: ReadonlySet<string> = new Set([clamavPreset.name]);
/** Bytes read at a time; the checkpoint moves after each block. */
const BLOCK_BYTES = 1024 * 1024;
/** A line longer than this without a newline is not a log line: it is dead-lettered in pieces. */
const MAX_LINE_BYTES = 1024 * 1024;
/** Bytes at the start of a file whose hash tells one file from another that reused its inode. */
const HEAD_BYTES = 256;
/** The id a positional alert carries between the mapping and its `<file>:<offset>` name. */
const POSITIONAL_ID = 'position';

const NAMED_GROUP = /\(\?<[A-Za-z_$][\w$]*>/;

const pattern = z
  .string()
  .describe('a regular expression with named groups, e.g. ^backup (?<job>\\S+)@(?<host>\\S+) (?<result>ok|failed)$')
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `is not a regular expression: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (!NAMED_GROUP.test(source)) ctx.addIssue({ code: 'custom', message: 'has no named group such as (?<host>\\S+): nothing to map' });
  });

const schema = z
  .object({
    type: z.literal('file').describe('tails an NDJSON or plain-text log file on this host; survives rotation, truncation and restarts'),
    ...connectorBase,
    ...presetFields,
    path: z
      .string()
      .refine((path) => isAbsolute(path), { message: 'must be an absolute path to the log file' })
      .describe('the log file to tail, e.g. /var/ossec/logs/alerts/alerts.json'),
    schedule: cronSchedule.default('*/5 * * * * *').describe('when to read what was written since the last poll (cron, six fields allowed)'),
    format: z
      .enum(['ndjson', 'text'])
      .optional()
      .describe('ndjson: one JSON document per line; text: one line per document ({ line } and the named groups of patterns); absent: the preset\'s, else ndjson'),
    patterns: z
      .array(pattern)
      .min(1)
      .optional()
      .describe('text only: regular expressions with named groups, tried in order; a line that matches none is skipped'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const preset = config.preset === undefined ? undefined : findPreset(config.preset);
    if (config.preset !== undefined && preset === undefined) return;
    checkPresetOptions(config, ctx);
    const format = formatOf(config.format, config.preset);
    if (preset !== undefined && config.format !== undefined && TEXT_PRESETS.has(preset.name) !== (config.format === 'text')) {
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: `the ${preset.name} preset reads ${TEXT_PRESETS.has(preset.name) ? 'plain-text lines: use format: text' : 'JSON documents: use format: ndjson'}`,
      });
    }
    if (config.patterns !== undefined && format !== 'text') {
      ctx.addIssue({ code: 'custom', path: ['patterns'], message: 'patterns read plain-text lines: set format: text' });
    }
    if (mergeMapping(preset?.mapping ?? {}, config.mapping).status === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mapping', 'status'], message: 'is required (map it, or choose a preset that does)' });
    }
    if (config.family === undefined && preset === undefined) {
      ctx.addIssue({ code: 'custom', path: ['family'], message: 'is required (set it, or choose a preset that does)' });
    }
  });

type FileConfig = z.output<typeof schema>;

function formatOf(format: 'ndjson' | 'text' | undefined, preset: string | undefined): 'ndjson' | 'text' {
  return format ?? (preset !== undefined && TEXT_PRESETS.has(preset) ? 'text' : 'ndjson');
}

const position = z.object({
  inode: z.string().regex(/^\d+$/),
  offset: z.number().int().nonnegative(),
  head: z.string(),
  /** `<inode>@<ms>`: the inode and when recurd began this file; the prefix of positional ids. */
  file: z.string().min(1),
});
const checkpointSchema = z.object({ current: position.optional(), previous: position.optional() });
type Position = z.output<typeof position>;
type Checkpoint = z.output<typeof checkpointSchema>;

interface OpenFile {
  handle: FileHandle;
  path: string;
  inode: string;
  size: number;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

async function openFile(path: string): Promise<OpenFile | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw new ConnectorError(`cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`, errorCode(error) !== 'EISDIR', { cause: error });
  }
  // The inode of what was opened, not of what the path names by now: a rotation may fall between.
  const info = await handle.stat({ bigint: true });
  if (!info.isFile()) {
    await handle.close();
    throw new ConnectorError(`${path} is not a regular file`, false);
  }
  return { handle, path, inode: info.ino.toString(), size: Number(info.size) };
}

/** A rotated file, found beside the log by its inode (logrotate keeps the inode when it renames). */
async function findRotated(logPath: string, inode: string): Promise<OpenFile | null> {
  const directory = dirname(logPath);
  const name = basename(logPath);
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (entry === name || !entry.startsWith(name)) continue;
    const candidate = join(directory, entry);
    try {
      if ((await stat(candidate, { bigint: true })).ino.toString() !== inode) continue;
      const file = await openFile(candidate);
      if (file?.inode === inode) return file;
      await file?.handle.close();
    } catch {
      // Renamed or removed while looking: the next poll looks again.
    }
  }
  return null;
}

async function headOf(handle: FileHandle, offset: number): Promise<string | null> {
  const length = Math.min(offset, HEAD_BYTES);
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, 0);
  return bytesRead < length ? null : createHash('sha256').update(buffer).digest('hex');
}

/** The file at the checkpoint is this one, unchanged up to where it was read. */
async function continues(file: OpenFile, at: Position): Promise<boolean> {
  return file.inode === at.inode && file.size >= at.offset && (await headOf(file.handle, at.offset)) === at.head;
}

/** Where a line (or one of its fields) sits, for dead letters: `/var/log/x.json@1234:rule.level`. */
function locate(file: string, offset: number, path?: string): string {
  return path === undefined ? `${file}@${offset}` : `${file}@${offset}:${path}`;
}

function textDocument(line: string, patterns: readonly RegExp[]): Record<string, string> | null {
  if (patterns.length === 0) return { line };
  for (const pattern of patterns) {
    const groups = pattern.exec(line)?.groups;
    if (groups === undefined) continue;
    const found: Record<string, string> = { line };
    for (const [name, value] of Object.entries(groups)) if (value !== undefined) found[name] = value;
    return found;
  }
  return null;
}

interface Reading {
  file: OpenFile;
  offset: number;
  /** See Position.file. */
  name: string;
}

export const fileConnector: ConnectorType<typeof schema> = {
  type: 'file',
  schema,
  create(config: FileConfig, services: ConnectorServices) {
    const { clock, logger } = services;
    const format = formatOf(config.format, config.preset);
    const patterns = (config.patterns ?? []).map((source) => new RegExp(source));
    // Lines of text have no id of their own, nor has JSON whose mapping names none.
    const positional = config.mapping?.id === undefined && (format === 'text' || config.preset === undefined);
    const overrides: MappingOverrides | undefined = positional ? { ...config.mapping, id: { value: POSITIONAL_ID } } : config.mapping;
    const map = presetMapper({ ...config, mapping: overrides });

    async function poll(context: PollContext): Promise<void> {
      const receivedAt = clock.now();
      const saved = checkpointSchema.safeParse(context.checkpoint ?? {});
      // Reading again from 0 would name every earlier line anew and count it twice: an admin decides.
      if (!saved.success) {
        throw new ConnectorError(
          `the checkpoint is not a position in ${config.path} (${saved.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}); delete it to read the file again from the start`,
          false,
        );
      }
      const checkpoint: Checkpoint = saved.data;
      const opened: OpenFile[] = [];
      let current: Reading | null = null;
      let previous: Reading | null = null;
      let pending: CanonicalAlert[] = [];
      let lastSaved = JSON.stringify(checkpoint);

      const positionOf = async (reading: Reading | null): Promise<Position | undefined> => {
        if (reading === null) return undefined;
        const head = (await headOf(reading.file.handle, reading.offset)) ?? '';
        return { inode: reading.file.inode, offset: reading.offset, head, file: reading.name };
      };
      // Alerts first, checkpoint after: a crash between the two re-reads, never skips.
      const commit = async (): Promise<void> => {
        if (pending.length > 0) {
          const batch = pending;
          pending = [];
          await context.emit(batch);
        }
        const next: Checkpoint = { current: await positionOf(current), previous: await positionOf(previous) };
        const text = JSON.stringify(next);
        if (text === lastSaved) return;
        await context.saveCheckpoint(next);
        lastSaved = text;
      };

      const reject = async (file: OpenFile, offset: number, line: string, errors: PayloadError[]): Promise<void> => {
        await context.reject(line, errors);
        logger.debug({ connector: config.name, file: file.path, offset, errors }, 'log line dead-lettered');
      };

      const take = async (reading: Reading, offset: number, bytes: Buffer): Promise<void> => {
        const { file } = reading;
        const line = bytes.toString('utf8').replace(/\r$/, '');
        if (line.trim() === '') return;
        let document: unknown;
        if (format === 'text') {
          document = textDocument(line, patterns);
          if (document === null) return;
        } else {
          try {
            document = JSON.parse(line);
          } catch (error) {
            const why = error instanceof Error ? error.message : String(error);
            await reject(file, offset, line, [{ path: locate(file.path, offset), message: `is not JSON (${why})` }]);
            return;
          }
        }
        const { alerts, errors } = map(document, receivedAt);
        if (errors.length > 0) {
          await reject(file, offset, line, errors.map((error) => ({ path: locate(file.path, offset, error.path), message: error.message })));
        }
        alerts.forEach((alert, index) => {
          const id = positional ? `${reading.name}:${offset}${alerts.length > 1 ? `:${index}` : ''}` : alert.id;
          pending.push({ ...alert, id, evidence: { ...alert.evidence, file: file.path, inode: file.inode, offset } });
        });
      };

      /** Reads complete lines from where `reading` stands to the size seen at open. */
      const readLines = async (reading: Reading): Promise<void> => {
        const { file } = reading;
        const block = Buffer.alloc(BLOCK_BYTES);
        let partial = Buffer.alloc(0);
        let readAt = reading.offset;
        while (readAt < file.size && !context.signal.aborted) {
          const { bytesRead } = await file.handle.read(block, 0, Math.min(BLOCK_BYTES, file.size - readAt), readAt);
          if (bytesRead === 0) break;
          readAt += bytesRead;
          const data = Buffer.concat([partial, block.subarray(0, bytesRead)]);
          let start = 0;
          for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a, start)) {
            await take(reading, reading.offset + start, data.subarray(start, newline));
            start = newline + 1;
          }
          reading.offset += start;
          partial = data.subarray(start);
          if (partial.length >= MAX_LINE_BYTES) {
            const message = `a line longer than ${MAX_LINE_BYTES} bytes without a newline: kept here in pieces`;
            await reject(file, reading.offset, partial.toString('utf8'), [{ path: locate(file.path, reading.offset), message }]);
            reading.offset += partial.length;
            partial = Buffer.alloc(0);
          }
          await commit();
        }
      };

      try {
        const log = await openFile(config.path);
        if (log !== null) opened.push(log);
        let last = checkpoint.current;
        let rotated = checkpoint.previous;
        if (last !== undefined && log?.inode !== last.inode) {
          logger.info({ connector: config.name, path: config.path }, 'log file rotated: finishing the old file, then reading the new one from its start');
          rotated = last;
          last = undefined;
        }
        if (rotated !== undefined) {
          const old = await findRotated(config.path, rotated.inode);
          if (old !== null) {
            opened.push(old);
            if (await continues(old, rotated)) previous = { file: old, offset: rotated.offset, name: rotated.file };
          }
          if (previous === null && rotated === checkpoint.current) {
            logger.warn({ connector: config.name, path: config.path }, 'rotated log file not found beside the log (moved away or compressed): what it held after the last poll is not read');
          }
        }
        if (log === null) {
          if (checkpoint.current === undefined && checkpoint.previous === undefined) {
            throw new ConnectorError(`${config.path} does not exist (yet): nothing to read`, true);
          }
        } else if (last !== undefined && (await continues(log, last))) {
          current = { file: log, offset: last.offset, name: last.file };
        } else {
          if (last !== undefined) logger.info({ connector: config.name, path: config.path }, 'log file truncated or replaced: reading it again from the start');
          // A new name before the first line is read, saved at once: a truncated file or a reused
          // inode never repeats an id within the dedupe window, and a re-read after a crash does.
          current = { file: log, offset: 0, name: `${log.inode}@${receivedAt}` };
          await commit();
        }
        if (previous !== null) await readLines(previous);
        if (current !== null) await readLines(current);
        await commit();
      } finally {
        await Promise.all(opened.map((file) => file.handle.close()));
      }
    }

    return { name: config.name, type: 'file', poller: { schedule: config.schedule, poll } };
  },
};
