/**
 * The contract every connector fulfils: turn what a source sends into canonical alerts.
 * A connector has an intake (HTTP, at `POST /hooks/{name}` and, if it wants them, the routes
 * below it), a poller (run on a cron schedule from a checkpoint), or both. Its config schema is
 * part of the config schema, so one registry line makes a new type usable in YAML.
 */
import { z } from 'zod';
import type { Clock } from '../src/core/clock.js';
import type { CanonicalAlert, CorrectiveActionInput } from '../src/core/types.js';
import { ANNEX_A_ID, FAMILIES, SEVERITIES } from '../src/core/types.js';
import { byteSize, duration, intakeAuth, type IntakeAuth } from '../src/config/fields.js';
import type { Logger } from '../src/log.js';

/** A field of a payload that does not fit, named by its path in the payload (`alerts[2].startsAt`). */
export interface PayloadError {
  path: string;
  message: string;
}

export interface IntakeResult {
  alerts: CanonicalAlert[];
  /** Items rejected, with the reason. */
  errors: PayloadError[];
  /**
   * Fields of the connector's state to set, stored in the same atomic step as `alerts` (and not
   * at all when they are not): what the intake remembers never runs ahead of what it accepted.
   */
  stateChanges?: Record<string, string>;
}

export interface Intake {
  readonly auth: IntakeAuth;
  /**
   * Whether it answers routes below `/hooks/{name}/` too (e.g. `/hooks/backups/nightly/success`);
   * such an intake gets an empty body as `{}` and a body that is not JSON as its text.
   */
  readonly subroutes: boolean;
  /** Whether a body's items that fit are taken when others do not (`partial`). */
  readonly partial: boolean;
  /**
   * `receivedAt` is the arrival time, epoch ms, for sources that give no event time; `route` is
   * what follows `/hooks/{name}/` in the URL, '' for the connector's own route.
   */
  normalise(body: unknown, receivedAt: number, route: string): IntakeResult | Promise<IntakeResult>;
}

export interface PollContext {
  /** What the last successful poll saved, or null before the first one. */
  readonly checkpoint: unknown;
  /** Stores the alerts durably (as an ingest job); only then may the checkpoint move past them. */
  emit(alerts: CanonicalAlert[]): Promise<void>;
  saveCheckpoint(value: unknown): Promise<void>;
  /** Keeps what did not fit in the dead-letter list, with the failing paths; polling goes on. */
  reject(body: string, errors: PayloadError[]): Promise<void>;
  /** Aborted when the daemon stops: a long poll ends early, its checkpoint where it was. */
  readonly signal: AbortSignal;
}

export interface Poller {
  /** Cron, six fields allowed. */
  readonly schedule: string;
  poll(context: PollContext): Promise<void>;
}

export interface Connector {
  readonly name: string;
  readonly type: string;
  readonly intake?: Intake;
  readonly poller?: Poller;
  /**
   * Reads again what a poll rejected (`recurd dlq replay`), after the config was fixed; intakes
   * need none, their dead letters go through `intake.normalise` again.
   */
  readDeadLetter?(body: string, receivedAt: number): IntakeResult | Promise<IntakeResult>;
  close?(): Promise<void>;
}

/**
 * Small durable state a connector may keep between requests and polls (in Redis for the daemon).
 * An intake changes it only through its result's `stateChanges`, stored with its alerts.
 */
export interface ConnectorState {
  get(key: string): Promise<string | null>;
  all(): Promise<Record<string, string>>;
}

/**
 * What an intake that answers for NCs (the Jira way back) may do besides turning payloads into
 * alerts, through the same paths as the API. The daemon provides it; replay and the CLI do not,
 * and such an intake then refuses its payloads.
 */
export interface NcPort {
  /** The NC a notifier's ticket belongs to, or null when it is none of recurd's. */
  ncOf(notifier: string, key: string): Promise<string | null>;
  /** As `POST /nonconformities/{id}/corrective-action`: a refusal throws the API's RecurdError. */
  recordCorrectiveAction(ncId: string, action: CorrectiveActionInput & { actor: string }): Promise<void>;
  /** A comment on the NC's timeline, by `actor`. */
  comment(ncId: string, text: string, actor: string): Promise<void>;
  /** A comment on a ticket, through the notifier that keeps it. */
  commentOnTicket(notifier: string, key: string, text: string): Promise<void>;
}

export interface ConnectorServices {
  state: ConnectorState;
  clock: Clock;
  logger: Logger;
  ncs?: NcPort;
}

/** A source failed (auth, network, parse); `retryable` says whether the next tick may do better. */
export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectorError';
  }
}

export interface ConnectorType<Schema extends z.ZodType> {
  type: string;
  schema: Schema;
  create(config: z.output<Schema>, services: ConnectorServices): Connector;
}

/** Connector state in memory: for replay and for tests of one connector. */
export class MemoryConnectorState implements ConnectorState {
  private readonly values = new Map<string, string>();
  get(key: string): Promise<string | null> {
    return Promise.resolve(this.values.get(key) ?? null);
  }
  /** What the pipeline does with an accepted result's `stateChanges`. */
  apply(changes: Record<string, string>): void {
    for (const [key, value] of Object.entries(changes)) this.values.set(key, value);
  }
  all(): Promise<Record<string, string>> {
    return Promise.resolve(Object.fromEntries(this.values));
  }
}

/** Fields every connector's config has. */
export const connectorBase = {
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (it appears in URLs and metrics)')
    .describe('the connector instance name: the `source` of its alerts and the {connector} in /hooks/{connector}'),
  family: z.enum(FAMILIES).describe('the family of its alerts where the payload does not say'),
  control: z
    .string()
    .regex(ANNEX_A_ID, 'an ISO/IEC 27001 Annex A id such as A.8.13 (2022) or A.12.3.1 (2013)')
    .optional()
    .describe('the Annex A control of its alerts where the payload does not say; a 2013 id is read as its 2022 control (config/annex-a.yaml)'),
  severity: z.enum(SEVERITIES).default('medium').describe('the severity where the payload does not say'),
};

/** The fields of a connector that receives over HTTP. */
export const intakeFields = {
  auth: intakeAuth,
  bodyLimit: byteSize.optional().describe('largest request body this intake takes (413 beyond); default: http.bodyLimit'),
  rateLimit: z
    .object({
      requests: z.number().int().min(1).describe('requests allowed from one address'),
      per: duration.describe('in this time; more are answered 429 with Retry-After'),
    })
    .strict()
    .optional()
    .describe('at most this many requests per sender address to this intake, counted by each daemon process; default: no limit'),
  partial: z
    .boolean()
    .optional()
    .describe(
      'a body with some items that do not fit: true takes the others (202, the body kept as a dead letter), false refuses it whole (400); default: true for alertmanager, false otherwise',
    ),
};

/** The intake bounds of a connector's config; none for a connector that only polls. */
export function intakeLimitsOf(config: object): { bodyLimit?: number; rateLimit?: { requests: number; per: number } } {
  const { bodyLimit, rateLimit } = config as Partial<z.output<z.ZodObject<typeof intakeFields>>>;
  return { bodyLimit, rateLimit };
}
