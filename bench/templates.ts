/**
 * Measures the message normaliser on Loghub-2k: how well its templates group real log lines
 * (Group Accuracy, Zhu et al. 2019) and how fast it masks them.
 *
 *   node .bench/bench/templates.js [DIR] [--misses N]     (after tsc -p tsconfig.bench.json)
 *
 * DIR holds `*_2k.log_structured.csv` files (default: test/fixtures/loghub-2k in the
 * repository); `--misses N` also prints, per file, the N largest predicted groups that are wrong.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskMessage } from '../src/core/mask.js';

const SUFFIX = '_2k.log_structured.csv';
// Masking one file takes a few milliseconds: repeat it so the timer measures the masking, not noise.
const TIMED_PASSES = 20;

/**
 * RFC 4180: fields separated by commas, quoted when they hold commas, quotes or line breaks, a quote
 * inside quotes doubled. A quote inside an unquoted field is read as itself, as lenient readers do.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
      continue;
    }
    if (c === '"' && fieldStart) quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
    fieldStart = c === ',' || c === '\n' || c === '\r';
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

interface Sample {
  content: string;
  eventId: string;
}

function readSamples(file: string): Sample[] {
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  if (header === undefined) throw new Error(`${file}: empty`);
  const contentAt = header.indexOf('Content');
  const eventAt = header.indexOf('EventId');
  if (contentAt < 0 || eventAt < 0) throw new Error(`${file}: no Content or EventId column`);
  return rows.map((row, i) => {
    const content = row[contentAt];
    const eventId = row[eventAt];
    if (content === undefined || eventId === undefined) throw new Error(`${file}: row ${i + 2} is short`);
    return { content, eventId };
  });
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const k = key(item);
    const members = groups.get(k);
    if (members === undefined) groups.set(k, [i]);
    else members.push(i);
  });
  return groups;
}

interface Miss {
  template: string;
  size: number;
  /** Per ground-truth EventId among the group's members: how many members, of how many in all. */
  truth: Map<string, { inGroup: number; inAll: number }>;
}

/**
 * A message is correct when the messages sharing its template are exactly those sharing its
 * EventId: a predicted group is right as a whole only if it is one ground-truth group entire.
 */
function groupAccuracy(samples: readonly Sample[], templates: readonly string[]): { accuracy: number; misses: Miss[] } {
  const truthSize = new Map<string, number>();
  for (const s of samples) truthSize.set(s.eventId, (truthSize.get(s.eventId) ?? 0) + 1);
  let correct = 0;
  const misses: Miss[] = [];
  for (const [template, members] of groupBy(templates, (t) => t)) {
    const truth = new Map<string, number>();
    for (const i of members) {
      const id = samples[i]?.eventId ?? '';
      truth.set(id, (truth.get(id) ?? 0) + 1);
    }
    const [only] = truth.keys();
    if (truth.size === 1 && only !== undefined && truthSize.get(only) === members.length) correct += members.length;
    else {
      const counts = new Map([...truth].map(([id, inGroup]) => [id, { inGroup, inAll: truthSize.get(id) ?? 0 }]));
      misses.push({ template, size: members.length, truth: counts });
    }
  }
  misses.sort((a, b) => b.size - a.size);
  return { accuracy: samples.length === 0 ? 0 : correct / samples.length, misses };
}

function messagesPerSecond(messages: readonly string[]): number {
  for (const m of messages) maskMessage(m);
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < TIMED_PASSES; pass++) for (const m of messages) maskMessage(m);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (messages.length * TIMED_PASSES) / seconds;
}

/** The directory of the nearest package.json above the bench, wherever it was compiled to. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the bench');
    dir = parent;
  }
  return dir;
}

function main(argv: readonly string[]): void {
  let dirArg: string | undefined;
  let showMisses = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--misses') showMisses = Number(argv[++i]);
    else dirArg = arg;
  }
  if (!Number.isInteger(showMisses) || showMisses < 0) throw new Error('--misses takes a whole number');
  const dir = resolve(dirArg ?? join(repoRoot(), 'test', 'fixtures', 'loghub-2k'));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .sort();
  if (files.length === 0) throw new Error(`no *${SUFFIX} in ${dir}`);

  const accuracies: number[] = [];
  let totalMessages = 0;
  let totalSeconds = 0;
  console.log(`${'system'.padEnd(12)} ${'messages'.padStart(8)} ${'accuracy'.padStart(8)} ${'msgs/s'.padStart(10)}`);
  for (const file of files) {
    const samples = readSamples(join(dir, file));
    const messages = samples.map((s) => s.content);
    const { accuracy, misses } = groupAccuracy(samples, messages.map(maskMessage));
    const rate = messagesPerSecond(messages);
    accuracies.push(accuracy);
    totalMessages += messages.length;
    totalSeconds += messages.length / rate;
    const system = file.slice(0, -SUFFIX.length);
    console.log(`${system.padEnd(12)} ${String(messages.length).padStart(8)} ${accuracy.toFixed(3).padStart(8)} ${Math.round(rate).toString().padStart(10)}`);
    for (const miss of misses.slice(0, showMisses)) {
      const truth = [...miss.truth].map(([id, n]) => `${id} ${n.inGroup}/${n.inAll}`).join(' ');
      console.log(`    ${String(miss.size).padStart(5)}  ${miss.template}\n           truth: ${truth}`);
    }
  }
  const average = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
  const rate = Math.round(totalMessages / totalSeconds);
  console.log(`${'average'.padEnd(12)} ${String(totalMessages).padStart(8)} ${average.toFixed(3).padStart(8)} ${rate.toString().padStart(10)}`);
}

main(process.argv.slice(2));
