/**
 * `spread`: the same check failing on M or more assets within T. The cause is then a process or
 * an organisation, not one machine (clause 10.2 b: similar nonconformities elsewhere), so it is
 * one systemic NC listing the assets, decided on an aggregate of its own beside the symptoms.
 * The assets are counted in a tally the store keeps (asset → latest failure, trimmed to T), so a
 * fleet-wide failure costs each alert the same whether one asset fails or ten thousand.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';
import { duration } from '../src/config/fields.js';
import { formatDuration } from '../src/core/duration.js';
import { appendTimeline, iso, openNc, raiseNc, reopenNc, startEpisode } from '../src/core/lifecycle.js';
import { compileMatch } from '../src/core/match.js';
import type { Symptom } from '../src/core/types.js';
import { detectorBase, type DetectorType } from './types.js';

const MINUTE = 60_000;
/** How many assets a systemic NC names; the tally counts them all. */
const LISTED = 50;
/** By how much the count must grow before a systemic NC is noted again. */
const WIDENED = 1.25;

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
      entries: ['spread'],
      tallyOf(alert) {
        if (alert.status !== 'firing' || alert.asset === '' || !matches(alert)) return null;
        const key = hash('sha256', JSON.stringify([config.name, alert.family, alert.source, alert.check]), 'hex').slice(0, 32);
        return { key: `spread-${key}`, member: alert.asset, within: config.within };
      },
      onTally(draft, alert, reading) {
        const at = alert.observedAt;
        if (draft.symptom === null) startEpisode(draft, { ...alert, asset: '', message: `${alert.check || 'a check'} failing across assets` }, at);
        const aggregate = draft.symptom as Symptom;
        aggregate.aggregate = config.name;
        // Records written before tallies kept every asset in the aggregate itself.
        if ('assets' in aggregate) Reflect.deleteProperty(aggregate, 'assets');
        // Moved by the minute, not by every alert: the aggregate is written only when it changes.
        if (at >= aggregate.lastFiringAt + MINUTE || draft.changed) {
          aggregate.lastFiringAt = Math.max(aggregate.lastFiringAt, at);
          aggregate.lastReportAt = Math.max(aggregate.lastReportAt, at);
          draft.changed = true;
        }
        if (reading.count < config.assets) return;
        const listed = reading.sample.slice().sort();
        const more = reading.count - listed.length;
        const detail = { assets: listed, assetCount: reading.count, within: formatDuration(config.within), alert: { source: alert.source, id: alert.id, asset: alert.asset } };
        const current = openNc(draft);
        if (current === undefined) {
          raiseNc(draft, {
            detector: config.name,
            reason: `spread: ${aggregate.check || 'a check'} failed on ${reading.count} assets within ${formatDuration(config.within)}: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
            at,
            detail,
            assets: listed,
            assetCount: reading.count,
            occurrences: reading.count,
          });
          return;
        }
        const nc = current.nc;
        if (nc.state === 'verifying' && reading.countSince >= config.assets) {
          reopenNc(draft, current, at, detail);
          return;
        }
        // The NC names the first assets; beyond them, the spread is noted each time it widens by a
        // quarter: a number of entries that grows with the logarithm of the fleet, not with it.
        const joined = listed.filter((asset) => !nc.assets.includes(asset)).slice(0, Math.max(0, LISTED - nc.assets.length));
        const widened = reading.count >= WIDENED * nc.assetCount;
        if (joined.length === 0 && !widened) return;
        nc.assets = [...nc.assets, ...joined].sort();
        nc.occurrences += Math.max(joined.length, reading.count - nc.assetCount, 0);
        nc.assetCount = Math.max(nc.assetCount, reading.count, nc.assets.length);
        appendTimeline(current, at, 'spread', 'nc.occurrence', { ...detail, ...(joined.length > 0 ? { joined } : {}), at: iso(at) });
        draft.changed = true;
      },
    };
  },
};
