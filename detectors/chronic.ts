/**
 * `chronic`: N firing observations within T and no fix. Not a recurrence (nothing was fixed), but
 * a failure left standing is a nonconformity too: nobody is correcting it (clause 10.2 a).
 */
import { z } from 'zod';
import { duration } from '../src/config/fields.js';
import { formatDuration } from '../src/core/duration.js';
import { readState, writeState, type DetectorState } from '../src/core/detector.js';
import { iso, openNc, raiseNc } from '../src/core/lifecycle.js';
import { compileMatch } from '../src/core/match.js';
import { detectorBase, type DetectorType } from './types.js';

const schema = z
  .object({
    type: z.literal('chronic').describe('N occurrences within T with no fix'),
    ...detectorBase,
    occurrences: z.number().int().min(2).max(50).describe('firing observations that make it chronic'),
    within: duration.describe('the period they must fall in'),
  })
  .strict();

/** How many firing times it keeps: the most `occurrences` can ask for. */
const KEPT = 50;

/** The times of the firing observations of the symptom's current episode, newest last. */
const times = z.array(z.number());
const formerTimes = times.catch([]);
const formerEpisode = z.number().int().catch(0);
const state: DetectorState<{ episode: number; firings: number[] }> = {
  schema: z.object({ episode: z.number().int(), firings: times }),
  initial: (symptom) => ({ episode: formerEpisode.parse(symptom.episode), firings: formerTimes.parse(symptom.recentFirings) }),
  replaces: ['recentFirings'],
  view: ({ episode, firings }) => ({ episode, firings: firings.map(iso) }),
};

export const chronicDetector: DetectorType<typeof schema> = {
  type: 'chronic',
  schema,
  create(config) {
    return {
      name: config.name,
      type: 'chronic',
      matches: compileMatch(config.match),
      state,
      onFiring(draft, _alert, at) {
        const symptom = draft.symptom;
        if (symptom?.state !== 'active') return;
        const kept = readState(draft, config.name, state);
        const firings = kept.episode === symptom.episode ? [...kept.firings, at].slice(-KEPT) : [at];
        writeState(draft, config.name, state, { episode: symptom.episode, firings });
        if (openNc(draft) !== undefined) return;
        const recent = firings.filter((time) => time > at - config.within && time <= at);
        if (recent.length < config.occurrences) return;
        raiseNc(draft, {
          detector: config.name,
          reason: `chronic: fired ${recent.length} times within ${formatDuration(config.within)} with no fix since ${new Date(symptom.lastTransitionAt).toISOString()}`,
          at,
          detail: { firings: recent.map((time) => new Date(time).toISOString()), episode: symptom.episode },
          occurrences: recent.length,
        });
      },
    };
  },
};
