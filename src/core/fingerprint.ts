import { hash } from 'node:crypto';
import { compileMatch, type Match } from './match.js';
import { maskMessage } from './mask.js';
import type { CanonicalAlert } from './types.js';

/** A field of the canonical alert, or `labels.NAME`, that takes part in a symptom's identity. */
export type FingerprintField = string;

export const DEFAULT_FINGERPRINT_FIELDS: readonly FingerprintField[] = ['family', 'source', 'check', 'asset'];

function fieldValue(alert: CanonicalAlert, field: FingerprintField): string {
  if (field.startsWith('labels.')) return alert.labels[field.slice('labels.'.length)] ?? '';
  if (field === 'message') return maskMessage(alert.message);
  const value = (alert as unknown as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : '';
}

/** Like error trackers' grouping rules: the first rule that matches names the fields of the identity. */
export interface FingerprintRule {
  match: Match;
  fields: readonly FingerprintField[];
}

/** Picks each alert's fingerprint fields: the first matching rule's, else the default fields. */
export function fieldsChooser(
  rules: readonly FingerprintRule[],
  defaultFields: readonly FingerprintField[] = DEFAULT_FINGERPRINT_FIELDS,
): (alert: CanonicalAlert) => readonly FingerprintField[] {
  const compiled = rules.map((rule) => ({ matches: compileMatch(rule.match), fields: rule.fields }));
  return (alert) => compiled.find((rule) => rule.matches(alert))?.fields ?? defaultFields;
}

/**
 * The symptom's identity: each field serialised as `name:length:value` so that no two different
 * sets of values can produce the same input, then hashed. Without a check the masked message
 * stands in for it, since it is then the only thing that says which test failed.
 */
export function fingerprint(alert: CanonicalAlert, fields: readonly FingerprintField[] = DEFAULT_FINGERPRINT_FIELDS): string {
  const used = alert.check === '' && fields.includes('check') && !fields.includes('message') ? [...fields, 'message'] : fields;
  let text = '';
  for (const field of used) {
    const value = fieldValue(alert, field);
    text += `${Buffer.byteLength(field)}:${field}${Buffer.byteLength(value)}:${value}`;
  }
  // One-shot: for inputs this short, a Hash object costs more than the hashing.
  return hash('sha256', text, 'hex').slice(0, 32);
}
