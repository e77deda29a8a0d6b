/** zod building blocks shared by the config schema and the connector and notifier schemas. */
import { readFileSync } from 'node:fs';
import cron from 'node-cron';
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';

/** A duration such as `30d`, `12h`, `90s` or `1h30m`, parsed to milliseconds. */
export const duration = z
  .string()
  .describe('a duration: a number and a unit (ms, s, m, h, d, w), e.g. 30d, 12h, 90s, 1h30m')
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (use e.g. 30d, 12h, 90s, 1h30m)` });
      return z.NEVER;
    }
    return ms;
  });

/** A secret that must be there: an empty value usually means an unset `${VAR}`. */
export const secret = z
  .string()
  .min(1, 'is empty: is the environment variable it comes from set?')
  .describe('a secret; write it as ${ENV_VAR} rather than in the file');

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A byte size such as `1mb`, `512kb` or `65536`. */
export const byteSize = z
  .union([z.number().int().positive(), z.string()])
  .describe('a size in bytes, or with a unit: 512kb, 1mb')
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
    if (match === null) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (use e.g. 512kb, 1mb)` });
      return z.NEVER;
    }
    return Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1);
  });

/** How a caller proves it may post to a webhook intake. */
export const intakeAuth = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('bearer'), token: secret })
    .strict()
    .describe('Authorization: Bearer <token>'),
  z
    .object({
      type: z.literal('basic'),
      username: z.string().min(1).refine((name) => !name.includes(':'), 'cannot contain ":" (HTTP basic authentication splits on it)'),
      password: secret,
    })
    .strict()
    .describe('Authorization: Basic, for senders that can only put credentials in the URL (an SNS HTTPS subscription)'),
  z
    .object({
      type: z.literal('hmac'),
      secret,
      header: z.string().default('x-recurd-signature').describe('header that carries the signature'),
      prefix: z.string().default('sha256=').describe('text before the signature in the header'),
      encoding: z.enum(['hex', 'base64']).default('hex'),
      timestamp: z
        .object({
          header: z.string().min(1).default('x-recurd-timestamp').describe('header that carries the time of signing, in Unix seconds'),
          tolerance: duration.prefault('5m').describe('how far that time may be from recurd\'s clock; a signature is taken once within it'),
        })
        .strict()
        .optional()
        .describe('replay protection: the signature covers "<timestamp>.<body>", and a request signed too long ago, or sent twice, is refused'),
    })
    .strict()
    .describe('HMAC-SHA256 of the raw request body (or of "<timestamp>.<body>"), in a header'),
]);
export type IntakeAuth = z.output<typeof intakeAuth>;

/** A cron expression as node-cron reads it; six fields (with seconds) are allowed. */
export const cronSchedule = z
  .string()
  .describe('a cron expression; six fields (with seconds) are allowed')
  .superRefine((expression, ctx) => {
    const result = cron.validateDetailed(expression);
    if (!result.valid) {
      const why = result.errors.map((error) => `${error.field}: ${error.message}`).join('; ');
      ctx.addIssue({ code: 'custom', message: `"${expression}" is not a cron expression (${why || 'unreadable'})` });
    }
  });

/**
 * A whole number. Digits in a string are accepted, because `${VAR}` interpolation always yields a
 * string; unlike z.coerce, an empty value, `null` or `true` is not silently turned into 0 or 1.
 */
export const wholeNumber = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value),
    z.number().int().min(min).max(max),
  );

/**
 * A PEM file of a certificate authority (a private CA that signed a server's certificate). It is
 * read once, when the config is validated, so a wrong path stops recurd at start with the file named.
 */
export const caFile = z
  .string()
  .min(1)
  .describe('a PEM file of the certificate authority that signed the server\'s certificate')
  .transform((path, ctx) => {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` });
      return z.NEVER;
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      ctx.addIssue({ code: 'custom', message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
      return z.NEVER;
    }
    return { path, pem };
  });

/** true or false; also as the text `true` or `false`, which is what a `${VAR}` yields. */
export const flag = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
