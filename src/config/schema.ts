/** The one config object, validated once at start (DESIGN.md). */
import { z } from 'zod';
import { connectorConfigSchema } from '../../connectors/registry.js';
import { DEFAULT_DETECTORS, detectorConfigSchema } from '../../detectors/registry.js';
import { notifierConfigSchema } from '../notifiers/registry.js';
import { FAMILIES, VERIFY_BY } from '../core/types.js';
import { ROLES, SINGLE_TOKEN_NAME } from '../http/roles.js';
import { byteSize, cronSchedule, duration, secret, wholeNumber } from './fields.js';

const verifyBy = z
  .enum(VERIFY_BY)
  .describe(
    'what "verified effective" rests on: evidence (seen healthy after the action, its check reporting through the window) or silence (no recurrence while the source was shown alive); default: silence for siem, evidence otherwise',
  );
const maxGap = duration.describe("longest gap allowed between a symptom's reports in its window; default: three times its median interval, at least 1h");

const windowOverride = z
  .object({
    window: duration.optional().describe('effectiveness window after a fix'),
    resolveAfter: duration.optional().describe('quiet time after which a firing symptom counts as fixed'),
    verifyBy: verifyBy.optional(),
    maxGap: maxGap.optional(),
  })
  .strict();

const fingerprintField = z
  .string()
  .regex(/^(family|source|check|asset|control|severity|message|labels\.[A-Za-z0-9_.-]+)$/, 'a canonical field (family, source, check, asset, control, severity, message) or labels.NAME');

/** A count and an age, whichever is reached first, of what is kept for inspection. */
function keepJobs(age: string) {
  return z
    .object({
      count: wholeNumber(1, 10_000_000).prefault(10_000).describe('at most this many, the oldest going first'),
      age: duration.prefault(age).describe('none older than this'),
    })
    .strict()
    .prefault({});
}

export const configSchema = z
  .object({
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').describe('Redis connection URL'),
        keyPrefix: z
          .string()
          .regex(/^[^\s]*\{[^{}\s]+\}[^\s]*$/, 'must contain a hash tag in braces, e.g. {recurd}, so that every key lives in one Redis Cluster slot')
          .default('{recurd}')
          .describe('prefix of every key recurd writes, with a hash tag'),
        commandTimeout: duration
          .prefault('2s')
          .describe('the longest a request waits for Redis: past it, or while Redis is down, intake answers 503 and /metrics answers without what Redis holds'),
      })
      .strict(),
    http: z
      .object({
        host: z.string().default('127.0.0.1').describe('listen address: 127.0.0.1 takes requests from this machine only; 0.0.0.0 from anywhere'),
        port: wholeNumber(0, 65535).prefault(8080),
        bodyLimit: byteSize.prefault('1mb').describe('largest accepted request body'),
        maxDepth: wholeNumber(4, 1000).prefault(64).describe('deepest nesting of arrays and objects accepted in a body (400 beyond)'),
        maxItems: wholeNumber(1, 1_000_000).prefault(10_000).describe('most alerts accepted in one body (413 beyond)'),
        metricsToken: secret.optional().describe('bearer token that /metrics then requires (Prometheus: authorization.credentials); default: /metrics is open'),
      })
      .strict()
      .prefault({ host: '127.0.0.1', port: 8080, bodyLimit: '1mb', maxDepth: 64, maxItems: 10_000 }),
    api: z
      .object({
        token: secret.optional().describe('bearer token for /api/v1: an admin token, named admin on the timeline'),
        tokens: z
          .array(
            z
              .object({
                name: z
                  .string()
                  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/, 'use letters, digits, space, ., _, @ and -, starting with a letter or digit, at most 64')
                  .describe('who holds the token: the actor on the timeline entries its requests write'),
                token: secret.describe('bearer token for /api/v1'),
                role: z.enum(ROLES).describe('read: lists and shows; write: also records actions, owners, due dates, comments, attachments; admin: also voids, accepts risk, replays dead letters'),
              })
              .strict(),
          )
          .optional()
          .describe('API tokens, each with a name and a role'),
      })
      .strict()
      .superRefine((api, ctx) => {
        if (api.token === undefined && (api.tokens === undefined || api.tokens.length === 0)) {
          ctx.addIssue({ code: 'custom', message: 'needs token (an admin token) or tokens (each with name, token and role)' });
        }
        // A name is an actor on the timeline and a token says who is calling: each must be one only.
        const names = new Map<string, string>(api.token === undefined ? [] : [[SINGLE_TOKEN_NAME, 'api.token, which goes by that name']]);
        const tokens = new Map<string, string>(api.token === undefined ? [] : [[api.token, 'api.token']]);
        (api.tokens ?? []).forEach((entry, index) => {
          const name = names.get(entry.name);
          if (name !== undefined) ctx.addIssue({ code: 'custom', path: ['tokens', index, 'name'], message: `"${entry.name}" is already the name of ${name}` });
          else names.set(entry.name, `api.tokens[${index}]`);
          const token = tokens.get(entry.token);
          if (token !== undefined) ctx.addIssue({ code: 'custom', path: ['tokens', index, 'token'], message: `is the same token as ${token}: each token must name one holder` });
          else tokens.set(entry.token, `api.tokens[${index}]`);
        });
      }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .prefault({ level: 'info' }),
    policy: z
      .object({
        window: duration.prefault('30d').describe('default effectiveness window after a fix'),
        resolveAfter: duration.prefault('7d').describe('default quiet time after which a firing symptom counts as fixed'),
        skew: duration.prefault('5m').describe('a firing stamped this long after a fix is still the tail of the old episode'),
        maxFuture: duration.prefault('5m').describe('an event time further ahead of its receipt than this is a wrong clock: it is timed at receipt'),
        maxLateness: duration.prefault('7d').describe('an observation older than this at receipt is recorded as late and decides nothing'),
        verifyBy: verifyBy.optional(),
        maxGap: maxGap.optional(),
        heartbeats: z
          .array(
            z
              .object({
                source: z.string().min(1).describe('the connector whose life the heartbeat proves'),
                match: z
                  .object({
                    family: z.string().min(1).optional(),
                    check: z.string().min(1).optional(),
                    labels: z.record(z.string(), z.string()).optional(),
                  })
                  .strict()
                  .default({})
                  .describe('which of its alerts are heartbeats, e.g. labels: { alertname: Watchdog }; * matches any run of characters'),
                maxGap: duration.prefault('1h').describe('a heartbeat missing for longer than this is a gap in the proof that the source is alive'),
              })
              .strict(),
          )
          .default([])
          .describe("alerts that only say their source is alive (Alertmanager's Watchdog): never symptoms, the evidence for NCs verified by silence"),
        lateRecurrence: z
          .enum(['link', 'ignore'])
          .default('link')
          .describe('a symptom back after its window: link the new episode to the old NC, or ignore it'),
        families: z.partialRecord(z.enum(FAMILIES), windowOverride).default({}),
        controls: z.record(z.string(), windowOverride).default({}).describe('overrides by Annex A control id'),
        checks: z.record(z.string(), windowOverride).default({}).describe('overrides by check'),
      })
      .strict()
      .prefault({ window: '30d', resolveAfter: '7d', skew: '5m', maxFuture: '5m', maxLateness: '7d', heartbeats: [], lateRecurrence: 'link', families: {}, controls: {}, checks: {} }),
    fingerprint: z
      .object({
        fields: z
          .array(fingerprintField)
          .min(1)
          .default(['family', 'source', 'check', 'asset'])
          .describe('the fields of a symptom identity where no rule matches'),
        rules: z
          .array(
            z
              .object({
                match: z
                  .object({
                    source: z.string().min(1).optional(),
                    family: z.string().min(1).optional(),
                    check: z.string().min(1).optional(),
                    labels: z.record(z.string(), z.string()).optional(),
                  })
                  .strict()
                  .describe('every given field must match; * matches any run of characters'),
                fields: z.array(fingerprintField).min(1).describe('the fields of the identity of the alerts this rule matches'),
              })
              .strict(),
          )
          .default([])
          .describe('matched in order; the first rule that matches an alert names its fingerprint fields'),
      })
      .strict()
      .prefault({ fields: ['family', 'source', 'check', 'asset'] }),
    pipeline: z
      .object({
        detectConcurrency: wholeNumber(1, 256).prefault(8).describe('batches decided at once by this daemon'),
        processes: z
          .union([z.literal('auto'), wholeNumber(1, 64)])
          .default(1)
          .describe('daemon processes on this machine, sharing the HTTP port, each a replica on the same Redis; auto: one per core'),
        dedupeFor: duration.prefault('35d').describe("how long a symptom's latest source event ids (up to 16) are remembered after its last, to drop their duplicates"),
        shutdownTimeout: duration.prefault('30s').describe('longest wait for in-flight work on SIGTERM'),
        stalledAfter: duration
          .prefault('30s')
          .describe('a batch whose daemon died (kill -9, a lost machine) is taken up by another within this long'),
      })
      .strict()
      .prefault({ detectConcurrency: 8, processes: 1, dedupeFor: '35d', shutdownTimeout: '30s', stalledAfter: '30s' }),
    sweep: z
      .object({ schedule: cronSchedule.default('*/10 * * * * *').describe('when windows and quiet periods are checked (a cron expression; six fields, with seconds, are allowed)') })
      .strict()
      .prefault({ schedule: '*/10 * * * * *' }),
    retention: z
      .object({
        symptoms: duration
          .prefault('90d')
          .describe('a symptom verified and quiet this long is removed (its NCs and their timelines stay); a return after it starts afresh'),
        failedJobs: keepJobs('30d').describe('ingest and delivery jobs that failed every attempt, kept for an admin to inspect'),
        deadLetters: keepJobs('90d').describe('payloads that did not fit their connector (recurd dlq)'),
      })
      .strict()
      .prefault({}),
    detectors: z
      .array(detectorConfigSchema)
      .min(1)
      .prefault(DEFAULT_DETECTORS)
      .describe('what raises NCs: recurrence, chronic, flapping, absence, spread; default: recurrence alone'),
    connectors: z.array(connectorConfigSchema).default([]),
    notifiers: z.array(notifierConfigSchema).default([]),
    ui: z
      .object({
        baseUrl: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe("where people reach recurd's console (https://recurd.example.org): messages link to each NC there"),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Names appear in URLs, metric labels and job ids: each must say which one it is.
    for (const list of ['connectors', 'notifiers', 'detectors'] as const) {
      const seen = new Map<string, number>();
      config[list].forEach((item, index) => {
        const first = seen.get(item.name);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: [list, index, 'name'], message: `"${item.name}" is already the name of ${list}[${first}]` });
        }
        seen.set(item.name, index);
      });
    }
    // The Jira way back follows the tickets of one jira notifier, and writes back through it.
    config.connectors.forEach((connector, index) => {
      if (connector.type !== 'jira') return;
      const notifier = config.notifiers.find((candidate) => candidate.name === connector.notifier);
      if (notifier?.type === 'jira') return;
      const jiras = config.notifiers.filter((candidate) => candidate.type === 'jira').map((candidate) => candidate.name);
      const known = jiras.length === 0 ? 'the config has no jira notifier' : `the jira notifiers are ${jiras.join(', ')}`;
      const found = notifier === undefined ? `no notifier is named "${connector.notifier}"` : `"${connector.notifier}" is a ${notifier.type} notifier`;
      ctx.addIssue({ code: 'custom', path: ['connectors', index, 'notifier'], message: `must name a jira notifier: ${found}; ${known}` });
    });
  });

export type Config = z.output<typeof configSchema>;
export type Retention = Config['retention'];
export type ConfigInput = z.input<typeof configSchema>;
export type { NotifierConfig } from '../notifiers/registry.js';
