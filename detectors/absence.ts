/**
 * `absence`: an expected observation missing for longer than its period. A backup that did not
 * run at all is a failure too, and no source will ever send an alert saying so.
 */
import { z } from 'zod';
import { duration } from '../src/config/fields.js';
import { formatDuration } from '../src/core/duration.js';
import { readState, writeState, type DetectorState } from '../src/core/detector.js';
import { addOccurrence, iso, openNc, raiseNc, type SymptomDraft } from '../src/core/lifecycle.js';
import { compileMatch } from '../src/core/match.js';
import { detectorBase, type DetectorType } from './types.js';

const schema = z
  .object({
    type: z.literal('absence').describe('an expected observation missing for longer than its period'),
    ...detectorBase,
    period: duration.describe('how often the watched symptoms report (a firing or a resolved)'),
  })
  .strict();

/**
 * The last report after which the symptom was found silent, or null. A later report moves the
 * symptom's lastReportAt past it, which ends the silence without the detector being told.
 */
const time = z.number().nullable();
const formerTime = time.catch(null);
const state: DetectorState<{ silentAfter: number | null }> = {
  schema: z.object({ silentAfter: time }),
  initial: (symptom) => ({ silentAfter: formerTime.parse(symptom.absentSince ?? null) }),
  replaces: ['absentSince'],
  view: ({ silentAfter }) => ({ silentAfter: silentAfter === null ? null : iso(silentAfter) }),
};

/** Whether the symptom is already known silent since its last report. */
function silent(draft: SymptomDraft, name: string): boolean {
  const symptom = draft.symptom;
  return symptom !== null && readState(draft, name, state).silentAfter === symptom.lastReportAt;
}

export const absenceDetector: DetectorType<typeof schema> = {
  type: 'absence',
  schema,
  create(config) {
    return {
      name: config.name,
      type: 'absence',
      matches: compileMatch(config.match),
      entries: ['absence'],
      state,
      due(draft) {
        const symptom = draft.symptom;
        return symptom === null || silent(draft, config.name) ? null : symptom.lastReportAt + config.period;
      },
      onAdvance(draft, t) {
        const symptom = draft.symptom;
        if (symptom === null || silent(draft, config.name) || t < symptom.lastReportAt + config.period) return;
        const missedAt = symptom.lastReportAt + config.period;
        writeState(draft, config.name, state, { silentAfter: symptom.lastReportAt });
        const detail = { lastReportAt: iso(symptom.lastReportAt), period: formatDuration(config.period) };
        const current = openNc(draft);
        if (current !== undefined) {
          addOccurrence(draft, current, missedAt, { absence: true, ...detail });
          return;
        }
        raiseNc(draft, {
          detector: config.name,
          reason: `absence: ${symptom.check || 'the check'} on ${symptom.asset || 'its asset'} has not reported for ${formatDuration(config.period)} since ${iso(symptom.lastReportAt)}`,
          at: missedAt,
          detail,
          occurrences: 1,
        });
      },
    };
  },
};
