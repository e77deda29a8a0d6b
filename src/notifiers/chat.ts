/**
 * What the chat notifiers (Slack, Teams) share: the webhook URL field, the NC's key facts shown
 * beside the rendered text, and cutting text to a destination's length limit without breaking
 * its escaping.
 */
import { z } from 'zod';
import { secret } from '../config/fields.js';
import { escapeText, type MessageFacts, type MessageFormat } from './message.js';

/** A webhook URL whose path or query is the credential: it must be there, and be http(s). */
export const webhookUrl = secret.pipe(z.url({ protocol: /^https?$/, error: 'is not an http(s) URL' }));

export interface KeyFact {
  label: string;
  /** Plain text: escape it for the destination's markup. */
  value: string;
}

/** The NC, its control, asset(s), how often it was reopened and the verdict on its last corrective action. */
export function keyFacts({ nc }: MessageFacts): KeyFact[] {
  const assets = nc.assets.join(', ') + (nc.assetCount > nc.assets.length ? ` (of ${nc.assetCount})` : '');
  return [
    { label: 'NC', value: `${nc.id} (${nc.state})` },
    { label: 'Control', value: nc.control === null ? 'none' : [nc.control, nc.controlTitle].filter(Boolean).join(' ') },
    { label: nc.assets.length === 1 ? 'Asset' : 'Assets', value: assets },
    { label: 'Reopened', value: `${nc.reopenCount} time${nc.reopenCount === 1 ? '' : 's'}` },
    { label: 'Last corrective action', value: nc.action === null ? 'none yet' : verdict(nc.action.strength, nc.action.strengthReason) },
  ];
}

/** The weak/strong verdict with its reason, which mostly starts with the verdict already (`strong: …`). */
function verdict(strength: string, reason: string): string {
  return reason.startsWith(`${strength}:`) ? reason : `${strength}, ${reason}`;
}

const ELLIPSIS = '…';

/**
 * `text` at most `max` UTF-16 units long, ending in … when cut. The cut never splits a surrogate
 * pair, an HTML entity (`&amp;`, Slack's escaping) or a backslash escape (Markdown's), so what
 * remains shows as the escaped text did.
 */
export function clip(text: string, max: number, format: MessageFormat): string {
  if (text.length <= max) return text;
  let kept = text.slice(0, max - ELLIPSIS.length);
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  if (format === 'slack' || format === 'html') kept = kept.replace(/&#?\w*$/, '');
  if (format === 'markdown') kept = kept.replace(/(?<!\\)(\\\\)*\\$/, '$1');
  return kept + ELLIPSIS;
}

/** A key fact's value escaped for `format`, cut to `max`. */
export function factValue(fact: KeyFact, format: MessageFormat, max: number): string {
  return clip(escapeText(format, fact.value), max, format);
}
