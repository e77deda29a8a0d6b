/**
 * `recurd replay FILE`: run recorded alerts through the engine offline, with an in-memory register
 * and a simulated clock, and report the symptoms and NCs it would raise, so that fingerprint
 * fields and rules, windows, skew and detectors can be tuned before going live.
 *
 * The clock follows the recorded event times: before each line it moves to that line's event time
 * (never backwards) and the sweep runs, as the daemon's would have in the meantime.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Intake } from '../connectors/types.js';
import type { engineSettings } from './config/load.js';
import { ManualClock } from './core/clock.js';
import { canonicalAlertSchema, type CanonicalAlert, type Nonconformity, type Symptom } from './core/types.js';
import { Engine } from './engine.js';
import { RecurdError } from './errors.js';
import { MemoryRegister, MemorySourceLife } from './memory-register.js';

export interface ReplayOptions {
  /**
   * What the daemon's engine takes from the config, `engineSettings(config)`, passed whole: a replay
   * that picked fields grouped differently from the daemon as soon as a setting was added.
   */
  settings: ReturnType<typeof engineSettings>;
  /** Read each line as this intake's native payload instead of a canonical alert. */
  intake?: Intake;
  /** Sweep once more at this time after the last line (epoch ms), e.g. to let windows pass. */
  until?: number;
}

export interface ReplayProblem {
  line: number;
  message: string;
}

export interface ReplayReport {
  lines: number;
  alerts: number;
  /** Lines (1-based) that were not JSON or did not fit; the rest of the file is still replayed. */
  problems: ReplayProblem[];
  /** The symptoms of the alerts, without the detectors' aggregates. */
  symptoms: Symptom[];
  /** Symptoms a cross-asset detector (spread) decided on beside the alerts' own: systemic aggregates. */
  aggregates: Symptom[];
  nonconformities: Nonconformity[];
  /** NCs by the detector that raised them (its config name). */
  byDetector: Record<string, number>;
  /** The engine's decision per alert (episode, recurrence, duplicate, late, …): not NC counts. */
  outcomes: Record<string, number>;
}

async function alertsOfLine(text: string, intake: Intake | undefined, at: number): Promise<{ alerts: CanonicalAlert[]; problems: string[] }> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { alerts: [], problems: [`not JSON: ${(error as Error).message}`] };
  }
  if (intake !== undefined) {
    const { alerts, errors } = await intake.normalise(value, at, '');
    return { alerts, problems: errors.map((error) => `${error.path}: ${error.message}`) };
  }
  const parsed = canonicalAlertSchema.safeParse(value);
  if (parsed.success) return { alerts: [parsed.data], problems: [] };
  return { alerts: [], problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`) };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

export async function replay(file: string, { settings, intake, until }: ReplayOptions): Promise<ReplayReport> {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    throw new RecurdError('FILE_UNREADABLE', `cannot read ${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
  const clock = new ManualClock(0);
  const register = new MemoryRegister();
  // Built as src/daemon.ts builds it, so that replay decides as the daemon would.
  // Heartbeats in the recording show its sources alive, as the daemon's connector status would.
  const engine = new Engine({ register, clock, ...settings, sourceLife: new MemorySourceLife() });
  const problems: ReplayProblem[] = [];
  const decisions: string[] = [];
  let lineCount = 0;
  let alertCount = 0;
  const input = createReadStream(file, 'utf8');
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    lineCount += 1;
    if (text.trim() === '') continue;
    const line = await alertsOfLine(text, intake, clock.now());
    for (const message of line.problems) problems.push({ line: lineCount, message });
    for (const alert of line.alerts) {
      clock.set(Math.max(clock.now(), alert.observedAt));
      await engine.sweep(Number.MAX_SAFE_INTEGER);
      const result = await engine.ingest([{ ...alert, receivedAt: clock.now() }]);
      decisions.push(...result.decisions.map((decision) => decision.outcome));
      alertCount += 1;
    }
  }
  if (until !== undefined && until > clock.now()) {
    clock.set(until);
    await engine.sweep(Number.MAX_SAFE_INTEGER);
  }
  const all = [...register.symptoms.values()].map((entry) => entry.symptom);
  const nonconformities = await register.listNcs({});
  return {
    lines: lineCount,
    alerts: alertCount,
    problems,
    symptoms: all.filter((symptom) => symptom.aggregate === null),
    aggregates: all.filter((symptom) => symptom.aggregate !== null),
    nonconformities,
    byDetector: countBy(nonconformities, (nc) => nc.detector),
    outcomes: countBy(decisions, (outcome) => outcome),
  };
}
