/**
 * `flapping`: K fire/resolve cycles within T are noise, not K proofs of an ineffective fix. The
 * detector claims such a return before the recurrence detector sees it: the symptom gets one NC
 * (raised, or the one it has, marked flapping), and further cycles reopen nothing.
 */
import { z } from 'zod';
import { duration } from '../src/config/fields.js';
import { formatDuration } from '../src/core/duration.js';
import { readState, writeState, type DetectorState } from '../src/core/detector.js';
import { appendTimeline, effect, iso, openNc, raiseNc } from '../src/core/lifecycle.js';
import { compileMatch } from '../src/core/match.js';
import type { Symptom } from '../src/core/types.js';
import { detectorBase, type DetectorType } from './types.js';

const schema = z
  .object({
    type: z.literal('flapping').describe('K fire/resolve cycles within T raise one NC, not K recurrences'),
    ...detectorBase,
    cycles: z.number().int().min(2).max(50).describe('fire/resolve cycles that make it flapping'),
    within: duration.describe('the period they must fall in'),
  })
  .strict();

/** How many fix times it keeps: the most `cycles` can ask for. */
const KEPT = 50;

/** The times of the symptom's latest fixes, newest last. */
const times = z.array(z.number());
const formerTimes = times.catch([]);
const state: DetectorState<{ fixes: number[] }> = {
  schema: z.object({ fixes: times }),
  initial: (symptom) => ({ fixes: formerTimes.parse(symptom.recentFixes) }),
  replaces: ['recentFixes'],
  view: ({ fixes }) => ({ fixes: fixes.map(iso) }),
};

export const flappingDetector: DetectorType<typeof schema> = {
  type: 'flapping',
  schema,
  create(config) {
    return {
      name: config.name,
      type: 'flapping',
      matches: compileMatch(config.match),
      claims: 'flapping',
      entries: ['flapping'],
      state,
      onFix(draft, at) {
        const { fixes } = readState(draft, config.name, state);
        writeState(draft, config.name, state, { fixes: [...fixes, at].slice(-KEPT) });
      },
      onReturn(draft, event) {
        const symptom = draft.symptom as Symptom;
        const fixes = readState(draft, config.name, state).fixes.filter((time) => time > event.at - config.within && time <= event.at);
        if (fixes.length < config.cycles) return false;
        effect(draft, 'flapping', symptom);
        const detail = { cycles: fixes.length, within: formatDuration(config.within), fixes: fixes.map(iso), alert: { source: event.alert.source, id: event.alert.id } };
        const current = openNc(draft);
        if (current === undefined) {
          const entry = raiseNc(draft, {
            detector: config.name,
            reason: `flapping: ${fixes.length} fire/resolve cycles within ${formatDuration(config.within)}`,
            at: event.at,
            detail,
            occurrences: fixes.length + 1,
          });
          entry.nc.flapping = true;
        } else if (!current.nc.flapping) {
          current.nc.flapping = true;
          appendTimeline(current, event.at, 'flapping', null, detail);
        }
        draft.changed = true;
        return true;
      },
    };
  },
};
