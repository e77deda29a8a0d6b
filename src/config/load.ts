/**
 * Reading the config file: YAML, then `${ENV}` interpolation, then validation by `configSchema`,
 * with every problem reported at the YAML path and line an admin can find in the file.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { controlPattern, readControl, type AnnexA } from '../core/annex-a.js';
import { compileMatch } from '../core/match.js';
import type { Policy } from '../core/policy.js';
import type { EngineOptions } from '../engine.js';
import { createDetectors } from '../../detectors/registry.js';
import { RecurdError } from '../errors.js';
import { loadAnnexA } from './annex-a.js';
import { configSchema } from './schema.js';
import type { Config } from './schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigIssue {
  /** Where in the YAML, written as an admin reads it: `connectors[0].auth.token`; empty for the whole file. */
  path: string;
  line?: number;
  /** Only for YAML syntax errors, where the path is unknown. */
  column?: number;
  message: string;
}

export const DEFAULT_CONFIG_PATH = 'config/recurd.yaml';

export class ConfigError extends RecurdError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super('CONFIG_INVALID', [`${file}:`, ...issues.map((issue) => `  ${formatIssue(issue)}`)].join('\n'), issues);
    this.name = 'ConfigError';
  }
}

function formatIssue({ path, line, column, message }: ConfigIssue): string {
  if (path !== '') return line === undefined ? `${path}: ${message}` : `${path} (line ${line}): ${message}`;
  if (line === undefined) return message;
  return column === undefined ? `line ${line}: ${message}` : `line ${line}:${column}: ${message}`;
}

/** `--config FILE` wins over `RECURD_CONFIG`, which wins over the default path. */
export function resolveConfigPath(configOption?: string, env: Env = process.env): string {
  if (configOption !== undefined && configOption !== '') return configOption;
  const fromEnv = env.RECURD_CONFIG;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG_PATH;
}

// `$${` (a literal `${`), a well-formed reference, or a `${` that starts no well-formed reference.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;

/**
 * Fills `${VAR}` and `${VAR:-default}` (the default applies when VAR is unset or empty) from the
 * environment; `$${` stands for a literal `${`. Throws naming every variable that is not set.
 */
export function interpolate(text: string, env: Env = process.env): string {
  const problems: string[] = [];
  const result = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      problems.push(`"${match}" is not a \${VAR} or \${VAR:-default} reference (write $\${ for a literal \${)`);
      return match;
    }
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined) problems.push(`environment variable ${name} is not set`);
    return value ?? '';
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return result;
}

type Segment = string | number;

/** `connectors[0].auth.token`; keys that would read ambiguously (`A.8.13`) are quoted in brackets. */
function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (!/^[A-Za-z_][\w-]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join('');
}

/** A located YAML document: the line of any path, or of its nearest parent that exists. */
class Located {
  constructor(
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  lineOf(segments: readonly PropertyKey[]): number | undefined {
    for (let length = segments.length; length > 0; length--) {
      const offset = this.offsetOf(segments.slice(0, length));
      if (offset !== undefined) return this.lines.linePos(offset).line;
    }
    return undefined;
  }

  /** Where the entry starts: a mapping entry at its key, so a nested block reports the key's line. */
  private offsetOf(segments: readonly PropertyKey[]): number | undefined {
    let node: unknown = this.doc.contents;
    for (const [index, segment] of segments.entries()) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const last = index === segments.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
        if (pair === undefined) return undefined;
        node = last ? pair.key : pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
      } else {
        return undefined;
      }
    }
    return isNode(node) ? node.range?.[0] : undefined;
  }

  /** Interpolates every string value in place; keys stay as written, since they are the structure. */
  interpolate(env: Env): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const visit = (node: unknown, path: Segment[]): void => {
      if (isMap(node)) {
        for (const pair of node.items) visit(pair.value, [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)]);
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => visit(item, [...path, index]));
      } else if (isScalar(node) && typeof node.value === 'string') {
        try {
          node.value = interpolate(node.value, env);
        } catch (error) {
          issues.push({ path: formatPath(path), line: this.lineOf(path), message: (error as Error).message });
        }
      }
    };
    visit(this.doc.contents, []);
    return issues;
  }
}

function readReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  // Node writes "ENOENT: no such file or directory, open 'x'": keep the reason, drop the repeated name.
  const reason = code === undefined ? message : (new RegExp(`^${code}: ([^,]+)`).exec(message)?.[1] ?? message);
  return code === undefined ? reason : `${reason} (${code})`;
}

/** zod's wording, except for a missing key, which zod words as a wrong type. */
const messages: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? `is required (${issue.expected})` : undefined;

function validationIssues(error: z.ZodError, located: Located): ConfigIssue[] {
  const at = (segments: readonly PropertyKey[], message: string): ConfigIssue => ({
    path: formatPath(segments),
    line: located.lineOf(segments),
    message,
  });
  return error.issues
    .flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => at([...issue.path, key], 'unknown key'))
        : [at(issue.path, issue.message)],
    )
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

/** Reads, interpolates and validates the config file; every failure is a {@link ConfigError}. */
export function loadConfig(file: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${readReason(error)}` }]);
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const sourceLines = text.split('\n');
    throw new ConfigError(
      file,
      doc.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        // Inside { } or [ ], YAML reads the braces of an unquoted ${VAR} as structure.
        const hint = sourceLines[line - 1]?.includes('${') ? ' (inside { } or [ ], quote a ${VAR}: "${VAR}")' : '';
        return { path: '', line, column: col, message: `${error.message}${hint}` };
      }),
    );
  }
  if (!isMap(doc.contents)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a mapping of options (redis:, api:, ...)' }]);
  }

  const located = new Located(doc, lines);
  const unset = located.interpolate(env);
  if (unset.length > 0) throw new ConfigError(file, unset);

  const result = configSchema.safeParse(doc.toJS(), { error: messages });
  if (!result.success) throw new ConfigError(file, validationIssues(result.error, located));
  return result.data;
}

/** The core's view of `config.policy`; overrides keyed by a 2013 id, and detectors matching one, apply to its 2022 control. */
export function policyFromConfig(config: Config, annexA: AnnexA = loadAnnexA()): Policy {
  const { window, resolveAfter, verifyBy, maxGap, heartbeats, families, controls, checks, skew, maxFuture, maxLateness, lateRecurrence } = config.policy;
  return {
    defaults: { window, resolveAfter, ...(verifyBy === undefined ? {} : { verifyBy }), ...(maxGap === undefined ? {} : { maxGap }) },
    families,
    controls: Object.fromEntries(Object.entries(controls).map(([id, override]) => [readControl(annexA, id).control, override])),
    checks,
    skew,
    maxFuture,
    maxLateness,
    lateRecurrence,
    detectors: createDetectors(
      config.detectors.map((detector) =>
        detector.match.control === undefined ? detector : { ...detector, match: { ...detector.match, control: controlPattern(annexA, detector.match.control) } },
      ),
    ),
    heartbeats: heartbeats.map((heartbeat) => ({ source: heartbeat.source, maxGap: heartbeat.maxGap, matches: compileMatch({ ...heartbeat.match, source: heartbeat.source }) })),
    symptomRetention: config.retention.symptoms,
  };
}

/** What the engine takes from the config: policy and fingerprint fields and rules. */
export function engineSettings(config: Config): Pick<EngineOptions, 'policy' | 'fingerprintFields' | 'fingerprintRules' | 'annexA'> {
  const annexA = loadAnnexA();
  return { policy: policyFromConfig(config, annexA), fingerprintFields: config.fingerprint.fields, fingerprintRules: config.fingerprint.rules, annexA };
}
