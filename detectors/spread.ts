/**
 * `spread`: the same check failing on M or more assets within T. The cause is then a process or
 * an organisation, not one machine (clause 10.2 b: similar nonconformities elsewhere), so it is
 * one systemic NC listing the assets, decided on an aggregate of its own beside the symptoms.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { duration } from '../src/config/fields.js';
import { formatDuration } from '../src/core/duration.js';
import { appendTimeline, iso, openNc, raiseNc, reopenNc, startEpisode } from '../src/core/lifecycle.js';
import { compileMatch } from '../src/core/match.js';
import type { Symptom } from '../src/core/types.js';
import { detectorBase, type DetectorType } from './types.js';

const schema = z
  .object({
    type: z.literal('spread').describe('the same check failing on M or more assets within T raises one systemic NC'),
    ...detectorBase,
    assets: z.number().int().min(2).max(10_000).describe('how many assets make it systemic'),
    within: duration.describe('the period their failures must fall in'),
  })
  .strict();

export const spreadDetector: DetectorType<typeof schema> = {
  type: 'spread',
  schema,
  create(config) {
    const matches = compileMatch(config.match);
    return {
      name: config.name,
      type: 'spread',
      matches,
      aggregateOf(alert) {
        if (alert.status !== 'firing' || alert.asset === '' || !matches(alert)) return null;
        const key = createHash('sha256')
          .update(JSON.stringify([config.name, alert.family, alert.source, alert.check]))
          .digest('hex')
          .slice(0, 32);
        return `spread-${key}`;
      },
      onAggregate(draft, alert) {
        const at = alert.observedAt;
        if (draft.symptom === null) startEpisode(draft, { ...alert, asset: '', message: `${alert.check || 'a check'} failing across assets` }, at);
        const aggregate = draft.symptom as unknown as Symptom;
        aggregate.aggregate = config.name;
        aggregate.assets[alert.asset] = Math.max(aggregate.assets[alert.asset] ?? 0, at);
        aggregate.lastFiringAt = Math.max(aggregate.lastFiringAt, at);
        aggregate.lastReportAt = Math.max(aggregate.lastReportAt, at);
        for (const [asset, last] of Object.entries(aggregate.assets)) if (last <= at - config.within) delete aggregate.assets[asset];
        draft.changed = true;
        const failing = Object.keys(aggregate.assets).sort();
        if (failing.length < config.assets) return;
        const detail = { assets: failing, within: formatDuration(config.within), alert: { source: alert.source, id: alert.id, asset: alert.asset } };
        const current = openNc(draft);
        if (current === undefined) {
          raiseNc(draft, {
            detector: config.name,
            reason: `spread: ${aggregate.check || 'a check'} failed on ${failing.length} assets within ${formatDuration(config.within)}: ${failing.join(', ')}`,
            at,
            detail,
            assets: failing,
            occurrences: failing.length,
          });
          return;
        }
        const recordedAt = current.nc.correctiveAction?.recordedAt ?? Number.POSITIVE_INFINITY;
        const since = Object.values(aggregate.assets).filter((last) => last > recordedAt).length;
        if (current.nc.state === 'verifying' && since >= config.assets) {
          reopenNc(draft, current, at, detail);
        } else if (!current.nc.assets.includes(alert.asset)) {
          current.nc.assets = [...current.nc.assets, alert.asset].sort();
          current.nc.occurrences += 1;
          appendTimeline(current, at, 'spread', 'nc.occurrence', { ...detail, joined: alert.asset, at: iso(at) });
        }
      },
    };
  },
};
