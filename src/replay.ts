/**
 * `recurd replay FILE`: run recorded alerts through the engine offline, with an in-memory register
 * and a simulated clock, and report the symptoms and NCs it would raise, so that fingerprint
 * fields, windows and skew can be tuned before going live.
 *
 * The clock follows the recorded event times: before each line it moves to that line's event time
 * (never backwards) and the sweep runs, as the daemon's would have in the meantime.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Intake } from '../connectors/types.js';
import { ManualClock } from './core/clock.js';
import type { FingerprintField } from './core/fingerprint.js';
import type { Policy } from './core/policy.js';
import { canonicalAlertSchema, type CanonicalAlert, type Nonconformity, type Symptom } from './core/types.js';
import { Engine } from './engine.js';
import { RecurdError } from './errors.js';
import { MemoryRegister } from './memory-register.js';

export interface ReplayOptions {
  policy: Policy;
  fingerprintFields: readonly FingerprintField[];
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
  problems: ReplayProblem[];
  symptoms: Symptom[];
  nonconformities: Nonconformity[];
  /** Outcome counts: episode, recurrence, duplicate, late, … */
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

export async function replay(file: string, options: ReplayOptions): Promise<ReplayReport> {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    throw new RecurdError('FILE_UNREADABLE', `cannot read ${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
  const clock = new ManualClock(0);
  const register = new MemoryRegister();
  const engine = new Engine({ register, policy: options.policy, clock, fingerprintFields: options.fingerprintFields });
  const report: ReplayReport = { lines: 0, alerts: 0, problems: [], symptoms: [], nonconformities: [], outcomes: {} };
  const input = createReadStream(file, 'utf8');
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    report.lines += 1;
    if (text.trim() === '') continue;
    const { alerts, problems } = await alertsOfLine(text, options.intake, clock.now());
    for (const message of problems) report.problems.push({ line: report.lines, message });
    for (const alert of alerts) {
      clock.set(Math.max(clock.now(), alert.observedAt));
      await engine.sweep(Number.MAX_SAFE_INTEGER);
      const { decisions } = await engine.ingest([{ ...alert, receivedAt: clock.now() }]);
      for (const decision of decisions) report.outcomes[decision.outcome] = (report.outcomes[decision.outcome] ?? 0) + 1;
      report.alerts += 1;
    }
  }
  if (options.until !== undefined && options.until > clock.now()) {
    clock.set(options.until);
    await engine.sweep(Number.MAX_SAFE_INTEGER);
  }
  report.symptoms = [...register.symptoms.values()].map((entry) => entry.symptom);
  report.nonconformities = await register.listNcs({});
  return report;
}
