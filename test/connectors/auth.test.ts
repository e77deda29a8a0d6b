import { createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { intakeAuth } from '../../src/config/fields.js';
import type { IntakeAuth } from '../../src/config/fields.js';
import { verifyIntakeAuth } from '../../connectors/auth.js';

const TOKEN = 'tok-3f9a8c1e5b7d';
const SECRET = 'hmac-secret-91b2c4';
const bearer = intakeAuth.parse({ type: 'bearer', token: TOKEN });

type HmacAuth = Extract<IntakeAuth, { type: 'hmac' }>;

function hmacAuth(fields: Record<string, unknown>): HmacAuth {
  const auth = intakeAuth.parse({ type: 'hmac', secret: SECRET, ...fields });
  if (auth.type !== 'hmac') throw new Error('expected an hmac config');
  return auth;
}

const hex = hmacAuth({});
const base64 = hmacAuth({ header: 'X-Hub-Signature', prefix: '', encoding: 'base64' });

function sign(auth: HmacAuth, body: Buffer): Record<string, string> {
  const signature = createHmac('sha256', auth.secret).update(body).digest(auth.encoding);
  return { [auth.header.toLowerCase()]: `${auth.prefix}${signature}` };
}

const BODY = Buffer.from('{"version":"4","alerts":[]}');
const NOW = Date.parse('2026-12-07T10:00:00Z');
const NOW_S = String(NOW / 1000);

/** No reason may carry a secret or the credential sent. */
function expectRefused(result: ReturnType<typeof verifyIntakeAuth>, reason: string): void {
  expect(result).toEqual({ ok: false, reason });
  if (!result.ok) {
    for (const secret of [TOKEN, SECRET, 'wrong-token']) expect(result.reason).not.toContain(secret);
  }
}

describe('verifyIntakeAuth: bearer', () => {
  it('accepts the token, whatever the case of the scheme and header name', () => {
    expect(verifyIntakeAuth(bearer, { authorization: `Bearer ${TOKEN}` }, BODY, NOW)).toEqual({ ok: true });
    expect(verifyIntakeAuth(bearer, { Authorization: `bearer ${TOKEN}` }, BODY, NOW)).toEqual({ ok: true });
  });

  it('says what is wrong without echoing the token', () => {
    expectRefused(verifyIntakeAuth(bearer, {}, BODY, NOW), 'missing Authorization header');
    expectRefused(verifyIntakeAuth(bearer, { authorization: undefined }, BODY, NOW), 'missing Authorization header');
    expectRefused(verifyIntakeAuth(bearer, { authorization: `Basic ${TOKEN}` }, BODY, NOW), 'Authorization header is not "Bearer <token>"');
    expectRefused(verifyIntakeAuth(bearer, { authorization: 'Bearer wrong-token' }, BODY, NOW), 'bearer token does not match');
    expectRefused(verifyIntakeAuth(bearer, { authorization: `Bearer ${TOKEN}x` }, BODY, NOW), 'bearer token does not match');
    expectRefused(verifyIntakeAuth(bearer, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, BODY, NOW), 'bearer token does not match');
    expectRefused(
      verifyIntakeAuth(bearer, { authorization: [`Bearer ${TOKEN}`, 'Bearer wrong-token'] }, BODY, NOW),
      'more than one Authorization header',
    );
  });
});

describe('verifyIntakeAuth: hmac', () => {
  it('accepts a hex signature after its prefix, and a base64 one in a custom header', () => {
    expect(verifyIntakeAuth(hex, sign(hex, BODY), BODY, NOW)).toEqual({ ok: true });
    expect(verifyIntakeAuth(base64, sign(base64, BODY), BODY, NOW)).toEqual({ ok: true });
    expect(verifyIntakeAuth(base64, { 'X-Hub-Signature': sign(base64, BODY)['x-hub-signature'] }, BODY, NOW)).toEqual({ ok: true });
  });

  it('says what is wrong without echoing the secret', () => {
    const signature = sign(hex, BODY)['x-recurd-signature'] ?? '';
    expectRefused(verifyIntakeAuth(hex, {}, BODY, NOW), 'missing x-recurd-signature header');
    expectRefused(verifyIntakeAuth(hex, { 'x-recurd-signature': signature.slice('sha256='.length) }, BODY, NOW), 'x-recurd-signature header does not start with "sha256="');
    expectRefused(verifyIntakeAuth(hex, { 'x-recurd-signature': 'sha256=abc' }, BODY, NOW), 'x-recurd-signature header is not a hex HMAC-SHA256 signature');
    expectRefused(verifyIntakeAuth(hex, { 'x-recurd-signature': `sha256=${'0'.repeat(64)}` }, BODY, NOW), 'signature does not match');
    expectRefused(verifyIntakeAuth(hex, { 'x-recurd-signature': [signature, signature] }, BODY, NOW), 'more than one x-recurd-signature header');
    expectRefused(verifyIntakeAuth(hex, sign(hex, BODY), Buffer.from(`${BODY.toString()} `), NOW), 'signature does not match');
  });

  it('accepts the correct signature of any body, and refuses it after any single-byte change', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(hex, base64),
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (auth, bytes, at, flip) => {
          const body = Buffer.from(bytes);
          const headers = sign(auth, body);
          expect(verifyIntakeAuth(auth, headers, body, NOW)).toEqual({ ok: true });
          const changed = Buffer.from(body);
          const index = at % changed.length;
          changed[index] = (changed[index] ?? 0) ^ flip;
          expect(verifyIntakeAuth(auth, headers, changed, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
        },
      ),
    );
  });

  it('refuses any other signature header value without throwing', () => {
    fc.assert(
      fc.property(fc.constantFrom(hex, base64), fc.string(), (auth, value) => {
        const result = verifyIntakeAuth(auth, { [auth.header.toLowerCase()]: value }, BODY, NOW);
        const correct = sign(auth, BODY);
        expect(result.ok).toBe(Object.values(correct)[0] === value.trim());
      }),
    );
  });
});

describe('verifyIntakeAuth: hmac with a timestamp (replay protection)', () => {
  const stamped = hmacAuth({ timestamp: {} });
  // As recurd's own webhook notifier signs: the timestamp, a dot, then the body.
  const signAt = (timestamp: string, body: Buffer): Record<string, string> => ({
    'x-recurd-timestamp': timestamp,
    'x-recurd-signature': `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.`).update(body).digest('hex')}`,
  });

  it('takes "<timestamp>.<body>" signed within the tolerance, and names the signature to take only once', () => {
    expect(stamped.timestamp).toEqual({ header: 'x-recurd-timestamp', tolerance: 300_000 });
    const result = verifyIntakeAuth(stamped, signAt(NOW_S, BODY), BODY, NOW + 299_000);
    expect(result).toMatchObject({ ok: true, replay: { ttl: 600_000 } });
    expect(result.ok && result.replay?.key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a request signed too long ago or ahead, a missing or unreadable timestamp, and a signature of the body alone', () => {
    expectRefused(verifyIntakeAuth(stamped, signAt(NOW_S, BODY), BODY, NOW + 301_000), 'x-recurd-timestamp is 301 s from now, beyond the tolerance of 300 s');
    expectRefused(verifyIntakeAuth(stamped, signAt(NOW_S, BODY), BODY, NOW - 400_000), 'x-recurd-timestamp is 400 s from now, beyond the tolerance of 300 s');
    expectRefused(verifyIntakeAuth(stamped, sign(stamped, BODY), BODY, NOW), 'missing x-recurd-timestamp header');
    expectRefused(verifyIntakeAuth(stamped, { ...signAt(NOW_S, BODY), 'x-recurd-timestamp': '2026-12-07T10:00:00Z' }, BODY, NOW), 'x-recurd-timestamp header is not a time in Unix seconds');
    expectRefused(verifyIntakeAuth(stamped, { ...sign(stamped, BODY), 'x-recurd-timestamp': NOW_S }, BODY, NOW), 'signature does not match');
    // The timestamp is signed: moving it forward breaks the signature.
    expectRefused(verifyIntakeAuth(stamped, { ...signAt(NOW_S, BODY), 'x-recurd-timestamp': String(NOW / 1000 + 60) }, BODY, NOW), 'signature does not match');
  });
});

describe('verifyIntakeAuth: basic (an SNS HTTPS subscription)', () => {
  const basic = intakeAuth.parse({ type: 'basic', username: 'sns', password: SECRET });
  const header = (credentials: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });

  it('accepts the user and password, a password with colons included', () => {
    expect(verifyIntakeAuth(basic, header(`sns:${SECRET}`), BODY, NOW)).toEqual({ ok: true });
    const colons = intakeAuth.parse({ type: 'basic', username: 'sns', password: 'a:b:c' });
    expect(verifyIntakeAuth(colons, header('sns:a:b:c'), BODY, NOW)).toEqual({ ok: true });
  });

  it('says what is wrong without echoing the credentials', () => {
    expectRefused(verifyIntakeAuth(basic, {}, BODY, NOW), 'missing Authorization header');
    expectRefused(verifyIntakeAuth(basic, { authorization: `Bearer ${TOKEN}` }, BODY, NOW), 'Authorization header is not "Basic <credentials>"');
    expectRefused(verifyIntakeAuth(basic, header('sns'), BODY, NOW), 'basic credentials are not "user:password"');
    expectRefused(verifyIntakeAuth(basic, header('sns:wrong-token'), BODY, NOW), 'basic credentials do not match');
    expectRefused(verifyIntakeAuth(basic, header(`other:${SECRET}`), BODY, NOW), 'basic credentials do not match');
  });

  it('refuses a user name that basic authentication cannot carry', () => {
    expect(intakeAuth.safeParse({ type: 'basic', username: 'a:b', password: SECRET }).error?.issues[0]?.message).toBe(
      'cannot contain ":" (HTTP basic authentication splits on it)',
    );
  });
});
