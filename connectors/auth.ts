/**
 * Proof that a caller may post to a webhook intake: a bearer token, basic credentials, or an HMAC-SHA256 signature of
 * the raw body, or of "<timestamp>.<body>" with the time of signing in a header (replay
 * protection). Comparisons take constant time, and no reason ever repeats a secret or the
 * credential the caller sent: reasons go to the log, never to the caller.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IntakeAuth } from '../src/config/fields.js';

/**
 * `replay`: for a timestamped signature, what must be taken only once and for how long it must be
 * remembered (the tolerance on either side of now).
 */
export type IntakeAuthResult = { ok: true; replay?: { key: string; ttl: number } } | { ok: false; reason: string };

type Headers = Record<string, string | string[] | undefined>;

/** HTTP header names are case-insensitive; Node lower-cases them, callers in tests may not. */
function headerValues(headers: Headers, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  return values;
}

/** Equal without leaking where they differ: hashing first makes the lengths equal as well. */
export function sameSecret(expected: string, given: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
const SIGNATURE_BYTES = 32;
const SIGNATURE_TEXT = {
  hex: /^[0-9a-fA-F]{64}$/,
  // Either base64 alphabet, padded or not: senders differ.
  base64: /^[A-Za-z0-9+/_-]{43}=?$/,
} as const;

function verifyBearer(token: string, headers: Headers): IntakeAuthResult {
  const values = headerValues(headers, 'authorization');
  if (values.length === 0) return { ok: false, reason: 'missing Authorization header' };
  if (values.length > 1) return { ok: false, reason: 'more than one Authorization header' };
  const match = BEARER.exec(values[0] ?? '');
  if (match?.[1] === undefined) return { ok: false, reason: 'Authorization header is not "Bearer <token>"' };
  return sameSecret(token, match[1]) ? { ok: true } : { ok: false, reason: 'bearer token does not match' };
}

/** The time of signing, Unix seconds, within the tolerance of now; or why not. */
function signedAt(timestamp: NonNullable<HmacAuth['timestamp']>, headers: Headers, now: number): { text: string } | { reason: string } {
  const values = headerValues(headers, timestamp.header);
  if (values.length === 0) return { reason: `missing ${timestamp.header} header` };
  if (values.length > 1) return { reason: `more than one ${timestamp.header} header` };
  const text = (values[0] ?? '').trim();
  if (!/^\d{1,12}$/.test(text)) return { reason: `${timestamp.header} header is not a time in Unix seconds` };
  const skew = Math.abs(now - Number(text) * 1000);
  if (skew > timestamp.tolerance) return { reason: `${timestamp.header} is ${Math.round(skew / 1000)} s from now, beyond the tolerance of ${timestamp.tolerance / 1000} s` };
  return { text };
}

type HmacAuth = Extract<IntakeAuth, { type: 'hmac' }>;

/** RFC 7617: base64 of "user:password"; both compared, in constant time, whatever was wrong. */
function verifyBasic(auth: Extract<IntakeAuth, { type: 'basic' }>, headers: Headers): IntakeAuthResult {
  const values = headerValues(headers, 'authorization');
  if (values.length === 0) return { ok: false, reason: 'missing Authorization header' };
  if (values.length > 1) return { ok: false, reason: 'more than one Authorization header' };
  const match = BASIC.exec(values[0] ?? '');
  if (match?.[1] === undefined) return { ok: false, reason: 'Authorization header is not "Basic <credentials>"' };
  const credentials = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'basic credentials are not "user:password"' };
  const userMatches = sameSecret(auth.username, credentials.slice(0, colon));
  const passwordMatches = sameSecret(auth.password, credentials.slice(colon + 1));
  return userMatches && passwordMatches ? { ok: true } : { ok: false, reason: 'basic credentials do not match' };
}

function verifySignature(auth: HmacAuth, headers: Headers, rawBody: Buffer, now: number): IntakeAuthResult {
  const values = headerValues(headers, auth.header);
  if (values.length === 0) return { ok: false, reason: `missing ${auth.header} header` };
  if (values.length > 1) return { ok: false, reason: `more than one ${auth.header} header` };
  const value = (values[0] ?? '').trim();
  if (!value.startsWith(auth.prefix)) return { ok: false, reason: `${auth.header} header does not start with "${auth.prefix}"` };
  const signature = value.slice(auth.prefix.length);
  if (!SIGNATURE_TEXT[auth.encoding].test(signature)) {
    return { ok: false, reason: `${auth.header} header is not a ${auth.encoding} HMAC-SHA256 signature` };
  }
  const given = Buffer.from(signature, auth.encoding);
  // The pattern above fixes the length; the guard keeps timingSafeEqual from throwing regardless.
  if (given.length !== SIGNATURE_BYTES) return { ok: false, reason: 'signature does not match' };
  const hmac = createHmac('sha256', auth.secret);
  let time: string | undefined;
  if (auth.timestamp !== undefined) {
    const at = signedAt(auth.timestamp, headers, now);
    if ('reason' in at) return { ok: false, reason: at.reason };
    time = at.text;
    hmac.update(`${time}.`);
  }
  if (!timingSafeEqual(given, hmac.update(rawBody).digest())) return { ok: false, reason: 'signature does not match' };
  if (auth.timestamp === undefined) return { ok: true };
  // Past the tolerance the timestamp refuses it anyway; within it, only memory can.
  return { ok: true, replay: { key: given.toString('hex'), ttl: 2 * auth.timestamp.tolerance } };
}

/** `now`, epoch ms, checks the time of a timestamped signature. */
export function verifyIntakeAuth(auth: IntakeAuth, headers: Headers, rawBody: Buffer, now: number): IntakeAuthResult {
  switch (auth.type) {
    case 'bearer':
      return verifyBearer(auth.token, headers);
    case 'basic':
      return verifyBasic(auth, headers);
    case 'hmac':
      return verifySignature(auth, headers, rawBody, now);
  }
}
