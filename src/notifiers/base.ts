/**
 * What every notifier's config has: its name, which events it takes (event types and `match`
 * filters on the NC), its delivery attempts, and its message templates.
 */
import { z } from 'zod';
import { duration, wholeNumber } from '../config/fields.js';
import { FAMILIES, NC_EVENT_TYPES, SEVERITIES, type NcEvent } from '../core/types.js';
import { templateProblem, type TemplateOverrides } from './message.js';

/** An Annex A id, or a prefix of one ending in `*` (`A.8.*`). */
const controlPattern = z.string().regex(/^A\.[0-9.]*\*?$/, 'an Annex A id such as A.8.13, or a prefix ending in * such as A.8.*');

const templateOverrides = z
  .partialRecord(
    z.enum(NC_EVENT_TYPES),
    z
      .object({
        title: z.string().min(1).optional().describe('one line: the subject, heading or summary'),
        text: z.string().min(1).optional().describe('the body, a few lines'),
      })
      .strict(),
  )
  .superRefine((templates, ctx) => {
    for (const [type, template] of Object.entries(templates)) {
      for (const part of ['title', 'text'] as const) {
        const source = template?.[part];
        if (source === undefined) continue;
        const problem = templateProblem(type as NcEvent['type'], source);
        if (problem !== null) ctx.addIssue({ code: 'custom', path: [type, part], message: `is not a usable template: ${problem}` });
      }
    }
  })
  .describe('Liquid templates per event type that replace the default title and/or text (README: Notifiers)');

export const notifierBase = {
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _')
    .describe('the notifier instance name: the {notifier} label of recurd_notifications_total'),
  events: z.array(z.enum(NC_EVENT_TYPES)).min(1).optional().describe('event types to send; all when absent'),
  match: z
    .object({
      family: z.array(z.enum(FAMILIES)).min(1).optional().describe('only NCs of these families'),
      control: z.array(controlPattern).min(1).optional().describe('only NCs of these controls (A.8.13, or A.8.* for a theme)'),
      severity: z.array(z.enum(SEVERITIES)).min(1).optional().describe('only NCs of these severities'),
    })
    .strict()
    .optional()
    .describe('which NCs it takes; every filter given must match; all NCs when absent'),
  templates: templateOverrides.optional(),
  timeout: duration.prefault('10s').describe('longest wait for the destination to answer'),
  attempts: wholeNumber(1, 100).prefault(12).describe('delivery attempts before the event is left failed (recurd outbox list)'),
  backoff: duration.prefault('5s').describe("first retry delay; doubles each attempt, or what the destination's Retry-After asks"),
};

type BaseConfig = z.output<z.ZodObject<typeof notifierBase>>;

function controlMatches(pattern: string, control: string | null): boolean {
  if (control === null) return false;
  return pattern.endsWith('*') ? control.startsWith(pattern.slice(0, -1)) : control === pattern;
}

/** Whether an event is for a notifier with this config. */
export function wantsEvent(config: Pick<BaseConfig, 'events' | 'match'>, event: NcEvent): boolean {
  if (config.events !== undefined && !config.events.includes(event.type)) return false;
  const match = config.match;
  if (match === undefined) return true;
  const { nc } = event;
  if (match.family !== undefined && !match.family.includes(nc.family)) return false;
  if (match.severity !== undefined && !match.severity.includes(nc.severity)) return false;
  if (match.control !== undefined && !match.control.some((pattern) => controlMatches(pattern, nc.control))) return false;
  return true;
}

/** The parts of the Notifier contract every notifier takes from its base config. */
export function notifierFrom(config: BaseConfig): { name: string; attempts: number; backoffMs: number; templates: TemplateOverrides; wants(event: NcEvent): boolean } {
  return {
    name: config.name,
    attempts: config.attempts,
    backoffMs: config.backoff,
    templates: config.templates ?? {},
    wants: (event) => wantsEvent(config, event),
  };
}
