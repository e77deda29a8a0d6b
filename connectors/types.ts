/**
 * The contract every connector fulfils: turn what a source sends into canonical alerts.
 * A push connector is an HTTP intake at `POST /hooks/{name}`; its config schema is part of
 * the config schema, so one registry line makes a new type usable in YAML.
 */
import { z } from 'zod';
import type { CanonicalAlert } from '../src/core/types.js';
import { FAMILIES, SEVERITIES } from '../src/core/types.js';
import { intakeAuth } from '../src/config/fields.js';

/** A field of a payload that does not fit, named by its path in the payload (`alerts[2].startsAt`). */
export interface PayloadError {
  path: string;
  message: string;
}

export interface IntakeResult {
  alerts: CanonicalAlert[];
  /** Items rejected, with the reason; the accepted ones still go on. */
  errors: PayloadError[];
}

export interface PushConnector {
  readonly name: string;
  readonly type: string;
  readonly auth: z.output<typeof intakeAuth>;
  /** `receivedAt` is the arrival time, epoch ms, for sources that give no event time. */
  normalise(body: unknown, receivedAt: number): IntakeResult;
}

export interface ConnectorType<Schema extends z.ZodType> {
  type: string;
  schema: Schema;
  create(config: z.output<Schema>): PushConnector;
}

/** Fields every connector's config has. */
export const connectorBase = {
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (it appears in URLs and metrics)')
    .describe('the connector instance name: the `source` of its alerts and the {connector} in /hooks/{connector}'),
  auth: intakeAuth,
  family: z.enum(FAMILIES).describe('the family of its alerts where the payload does not say'),
  control: z
    .string()
    .regex(/^A\.\d{1,2}\.\d{1,2}$/, 'an ISO/IEC 27001:2022 Annex A id such as A.8.13')
    .optional()
    .describe('the Annex A control of its alerts where the payload does not say'),
  severity: z.enum(SEVERITIES).default('medium').describe('the severity where the payload does not say'),
};
