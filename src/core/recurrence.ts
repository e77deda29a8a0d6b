/**
 * The core rule of the design, as a detector: a fixed symptom that fires again inside its
 * effectiveness window proves the fix treated the symptom, not the cause (clause 10.2 d/e).
 * It raises an NC, records one more occurrence on an NC still being handled, or reopens the NC
 * whose corrective action was being verified.
 */
import type { Detector } from './detector.js';
import { addOccurrence, effect, openNc, raiseNc, reopenNc, returnProof } from './lifecycle.js';
import type { MatchSubject } from './match.js';
import { formatDuration } from './duration.js';
import type { Symptom } from './types.js';

export function recurrence(name = 'recurrence', matches: (subject: MatchSubject) => boolean = () => true): Detector {
  return {
    name,
    type: 'recurrence',
    matches,
    claims: 'recurrence',
    onReturn(draft, event) {
      const symptom = draft.symptom as Symptom;
      effect(draft, 'recurrence', symptom);
      const proof = returnProof(event, symptom.episode);
      const current = openNc(draft);
      if (current === undefined) {
        const window = formatDuration(event.windowEndsAt - event.fixedAt);
        const fixedAt = new Date(event.fixedAt).toISOString();
        const at = new Date(event.at).toISOString();
        raiseNc(draft, {
          detector: name,
          reason: `recurrence: fixed (${event.fixKind ?? 'unknown'}) at ${fixedAt}, fired again at ${at} inside its ${window} effectiveness window`,
          at: event.at,
          detail: proof,
          // A closed NC of this symptom: the new one continues it.
          recurrenceOf: symptom.nc,
        });
        return true;
      }
      if (current.nc.state === 'verifying') reopenNc(draft, current, event.at, proof);
      else addOccurrence(draft, current, event.at, proof);
      return true;
    },
  };
}
