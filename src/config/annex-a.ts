/**
 * Reads the Annex A catalogue shipped in config/annex-a.yaml. A missing or broken file stops the
 * daemon with a ConfigError that names the file and what is wrong in it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { ANNEX_A_2013_ID, controlPatternMatchesNone, readControl, type AnnexA } from '../core/annex-a.js';
import { ANNEX_A_2022_ID, ANNEX_A_ID } from '../core/types.js';
import { ConfigError, type ConfigIssue } from './load.js';
import type { Config } from './schema.js';

/**
 * The package's root: the nearest folder above this module with a package.json. The same from
 * src/ (tests), dist/src/ (npm) and /app/dist/src/ (the Docker image, which copies config/ to /app).
 */
function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('recurd: no package.json above its own code: the installation is incomplete');
    folder = parent;
  }
  return folder;
}

export const DEFAULT_ANNEX_A_FILE = join(packageRoot(), 'config', 'annex-a.yaml');

/** A record whose keys must match `id`; the key's own message, where zod would say only "Invalid key". */
function keyedBy<V extends z.ZodType>(id: RegExp, what: string, value: V) {
  return z.record(z.string().regex(id), value, { error: (issue) => (issue.code === 'invalid_key' ? `not ${what}` : undefined) });
}

const catalogueSchema = z
  .object({
    controls: keyedBy(ANNEX_A_2022_ID, 'a 2022 control id such as A.8.13', z.string().min(1, 'a title')),
    from2013: keyedBy(
      ANNEX_A_2013_ID,
      'a 2013 control id such as A.12.3.1',
      z.array(z.string().regex(ANNEX_A_2022_ID, 'a 2022 control id such as A.8.13')).min(1, 'at least one 2022 control'),
    ),
  })
  .strict();

const cache = new Map<string, AnnexA>();

/** The catalogue in `file`, read once per process. */
export function loadAnnexA(file: string = DEFAULT_ANNEX_A_FILE): AnnexA {
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the Annex A catalogue is missing (it ships in config/ with recurd)' : (error as Error).message;
    throw new ConfigError(file, [{ path: '', message: reason }]);
  }
  const parsed = catalogueSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue): ConfigIssue => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    );
  }
  const controls = new Map(Object.entries(parsed.data.controls));
  const issues: ConfigIssue[] = Object.entries(parsed.data.from2013).flatMap(([id, targets]) =>
    targets.filter((target) => !controls.has(target)).map((target) => ({ path: `from2013.${id}`, message: `${target} is not one of the 2022 controls listed under controls` })),
  );
  if (issues.length > 0) throw new ConfigError(file, issues);
  const catalogue: AnnexA = { controls, from2013: new Map(Object.entries(parsed.data.from2013)) };
  cache.set(file, catalogue);
  return catalogue;
}

/**
 * What `recurd validate` warns about in a config's control ids: an Annex A-shaped id the catalogue
 * does not know (alerts under it are kept and their NCs marked controlUnknown), two
 * policy.controls keys that name one 2022 control (the one written later wins), and a `match`
 * pattern that no 2022 control fits (a 2013 theme, A.12.*): it can only match unknown ids.
 */
export function controlWarnings(config: Config, catalogue: AnnexA): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const unknown = (path: string, id: string): void => {
    if (ANNEX_A_ID.test(id) && readControl(catalogue, id).unknown) {
      warnings.push({ path, message: `${id} is in neither the 2022 controls nor the 2013 table of the Annex A catalogue; its NCs are marked controlUnknown` });
    }
  };
  const visit = (value: unknown, path: string[]): void => {
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, [...path, String(index)]));
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'control' && typeof inner === 'string') unknown([...path, key].join('.'), inner);
        else if (key === 'control' && typeof inner === 'object' && inner !== null && typeof (inner as { value?: unknown }).value === 'string') {
          unknown([...path, key, 'value'].join('.'), (inner as { value: string }).value);
        } else visit(inner, [...path, key]);
      }
    }
  };
  visit(config.connectors, ['connectors']);
  visit(config.detectors, ['detectors']);
  visit(config.policy.heartbeats, ['policy', 'heartbeats']);
  // A detector's whole id was visited with the rest; a notifier's filter is a list of them.
  const notifierPatterns = config.notifiers.flatMap((notifier, index) => (notifier.match?.control ?? []).map((pattern, at) => ({ path: `notifiers.${index}.match.control.${at}`, pattern })));
  for (const { path, pattern } of notifierPatterns) if (!pattern.includes('*')) unknown(path, pattern);
  const detectorPatterns = config.detectors.flatMap((detector, index) => (detector.match.control === undefined ? [] : [{ path: `detectors.${index}.match.control`, pattern: detector.match.control }]));
  for (const { path, pattern } of [...detectorPatterns, ...notifierPatterns]) {
    if (pattern.includes('*') && controlPatternMatchesNone(catalogue, pattern)) {
      warnings.push({ path, message: `${pattern} matches none of the 2022 controls NCs are filed under (A.5.1 to A.8.34); a 2013 id is read as its 2022 control only when written whole` });
    }
  }
  const byControl = new Map<string, string>();
  for (const id of Object.keys(config.policy.controls)) {
    unknown(`policy.controls.${id}`, id);
    const { control } = readControl(catalogue, id);
    const earlier = byControl.get(control);
    if (earlier !== undefined) warnings.push({ path: `policy.controls.${id}`, message: `${id} and ${earlier} are both ${control}: only the later override applies` });
    byControl.set(control, id);
  }
  return warnings;
}
