/**
 * The mapping language shared by connectors and presets: each canonical field read from a dotted
 * path into one alert (a number picks an array element), translated with `map` (a list at the
 * path: its first element that `map` lists), defaulted with `default`, or set to a constant with
 * `value`; a numeric event time states its `unit`; a status of `skip` drops the item. A payload
 * that does not fit is reported field by field, at its path in the payload.
 */
import { z } from 'zod';
import { ALERT_STATUSES, ANNEX_A_ID, FAMILIES, SEVERITIES, canonicalAlertSchema } from '../src/core/types.js';
import type { CanonicalAlert, Family, Severity } from '../src/core/types.js';
import { controlIdsIn } from '../src/core/annex-a.js';
import { EPOCH_UNITS, isEpochCount, parseEventTime, type EpochUnit } from '../src/core/event-time.js';
import { describeValue, payloadIssueMessage, payloadPath } from './payload.js';
import { connectorBase } from './types.js';
import type { IntakeResult, PayloadError } from './types.js';

/** Numbers (and booleans) found at a path become text, so `id: 4711` and `id: "4711"` agree. */
function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

export const dottedPath = z
  .string()
  .regex(/^[^.]+(\.[^.]+)*$/, 'a dotted path such as event.id or alerts.0.labels.host, without empty segments')
  .describe('a dotted path into the alert, such as event.id; a number picks an array element (alerts.0.labels.host)');

/**
 * A string that must be one of `values`. Written as a refinement rather than z.enum because an
 * enum's failure would hide inside the string-or-object union as a bare "Invalid input".
 */
function oneOf(values: readonly string[]) {
  return z
    .string()
    .refine((value) => values.includes(value), {
      error: (issue) => `is ${describeValue(issue.input)}, not one of ${values.join(', ')}`,
    })
    .meta({ enum: [...values] });
}

const annexControl = connectorBase.control.unwrap();
const text = z.string();

/** The keys of a field mapping's object form, whatever the field. */
function ruleShape(target: z.ZodType<string>) {
  return {
    path: dottedPath.optional(),
    value: target.optional().describe('a constant, instead of a path'),
    map: z
      .record(z.string(), target)
      .optional()
      .describe(
        'translates the value found at path, e.g. {ok: resolved, alert: firing}; values not listed pass unchanged; a list at path: its first element listed here is translated',
      ),
    default: target
      .optional()
      .describe('the value when path is absent or null, or holds a list with no element in map (it is not translated by map)'),
  };
}

interface RuleFields {
  path?: string | undefined;
  value?: string | undefined;
  map?: Record<string, string> | undefined;
  default?: string | undefined;
}

/** A dotted path, or the object form `rule` with the checks every field's object form owes. */
function pathOrRule<T extends RuleFields>(rule: z.ZodType<T>, form: string, description: string) {
  const checked = rule
    .refine((field) => (field.path === undefined) !== (field.value === undefined), {
      message: 'give exactly one of path (read from each alert) or value (a constant)',
    })
    .refine((field) => field.value === undefined || (field.map === undefined && field.default === undefined), {
      message: 'map and default apply to a value read from path, not to a constant value',
    });
  return z
    .union([dottedPath, checked], {
      error: (issue) => (issue.input === undefined ? 'is required' : `a dotted path, or ${form}`),
    })
    .describe(description);
}

/** Said where an admin writes `unit` on another field: only a time has one. */
const unitElsewhere = (issue: z.core.$ZodRawIssue): string | undefined =>
  issue.code === 'unrecognized_keys' && issue.keys.includes('unit') ? 'unit applies to observedAt only' : undefined;

function fieldMapping(target: z.ZodType<string>, description: string) {
  return pathOrRule(z.object(ruleShape(target), { error: unitElsewhere }).strict(), '{path or value, map?, default?}', description);
}

/** observedAt alone takes `unit`, since only a time read as a number needs one. */
const timeMapping = pathOrRule(
  z
    .object({
      ...ruleShape(text),
      unit: oneOf(EPOCH_UNITS)
        .optional()
        .describe('what a number (or a string of digits) at path counts since the epoch: s (seconds, fractions allowed) or ms; required for numeric times, ignored for ISO 8601'),
    })
    .strict(),
  '{path or value, map?, default?, unit?}',
  'the event time: ISO 8601 with offset, or a number with its unit (unit: s or unit: ms); before 2000 refused; absent: the arrival time',
);

/**
 * A status that drops the item: no alert and no error, as for a document a preset does not read.
 * For sources that mix what is not an observation of a failure or its fix (a notification) with
 * what is, e.g. `{path: rule.level, map: {'3': skip, '7': firing}}`.
 */
export const SKIP = 'skip';
const STATUS_VALUES = [...ALERT_STATUSES, SKIP] as const;

export const mappingSchema = z
  .object({
    id: fieldMapping(text, "the source's own event id (a number becomes text); with the connector name it makes intake idempotent"),
    status: fieldMapping(
      oneOf(STATUS_VALUES),
      "firing or resolved, or skip for an item that is no alert; translate the source's words with map, e.g. {ok: resolved, alert: firing, info: skip}",
    ),
    observedAt: timeMapping.optional(),
    family: fieldMapping(oneOf(FAMILIES), "siem, backup, av or config-drift; absent: the connector's family").optional(),
    asset: fieldMapping(text, 'what is affected: host, job, resource, account').optional(),
    check: fieldMapping(text, 'the stable identity of the test that failed: rule id, job name, policy id').optional(),
    message: fieldMapping(text, 'human text').optional(),
    severity: fieldMapping(oneOf(SEVERITIES), "info, low, medium, high or critical, e.g. map {warning: medium}; absent: the connector's severity").optional(),
    control: fieldMapping(annexControl, "the Annex A control; absent: the connector's control").optional(),
    labels: z
      .record(z.string(), fieldMapping(text, 'where the label value is'))
      .optional()
      .describe('label name to where its value is; absent values are left out'),
    evidence: z
      .record(z.string(), fieldMapping(text, 'where the evidence value is; it is kept as found (any JSON)'))
      .optional()
      .describe('evidence name to where its value is: pointers back to the raw event for auditors'),
  })
  .strict()
  .describe("how each alert's fields map to the canonical alert");
export type Mapping = z.output<typeof mappingSchema>;

/** Field by field over a preset's mapping: every field optional, labels and evidence merged by name. */
export const mappingOverridesSchema = mappingSchema
  .partial()
  .describe("fields that replace the preset's mapping one by one; labels and evidence are merged by name");
export type MappingOverrides = z.output<typeof mappingOverridesSchema>;

/** The preset's mapping with the admin's overrides laid over it. */
export function mergeMapping(base: Partial<Mapping>, overrides: MappingOverrides | undefined): Partial<Mapping> {
  if (overrides === undefined) return base;
  return {
    ...base,
    ...overrides,
    labels: { ...base.labels, ...overrides.labels },
    evidence: { ...base.evidence, ...overrides.evidence },
  };
}

/** What a connector supplies where the mapping does not say. */
export interface MappingDefaults {
  name: string;
  family: Family;
  control?: string | undefined;
  severity: Severity;
}

type FieldMapping = z.output<ReturnType<typeof fieldMapping>>;

type FieldRule =
  | { kind: 'constant'; value: string }
  | { kind: 'path'; path: string[]; map: Record<string, string> | undefined; default: string | undefined };

interface TimeRule {
  rule: FieldRule;
  unit: EpochUnit | undefined;
}

function compileRule(mapping: FieldMapping): FieldRule {
  if (typeof mapping === 'string') return { kind: 'path', path: mapping.split('.'), map: undefined, default: undefined };
  if (mapping.path !== undefined) return { kind: 'path', path: mapping.path.split('.'), map: mapping.map, default: mapping.default };
  // The schema's refinement guarantees a value where there is no path; zod's type cannot say so.
  return { kind: 'constant', value: mapping.value ?? '' };
}

function compileTime(mapping: z.output<typeof timeMapping>): TimeRule {
  // The schema's refinement admits only EPOCH_UNITS; zod's type cannot say so.
  return { rule: compileRule(mapping), unit: typeof mapping === 'string' ? undefined : (mapping.unit as EpochUnit | undefined) };
}

/** Path segments for error messages: array indexes as numbers, so they read as `[2]`. */
function segmentsOf(path: readonly string[]): PropertyKey[] {
  return path.map((segment) => (ARRAY_INDEX.test(segment) ? Number(segment) : segment));
}

/** Own properties only, so that a path can never reach `__proto__` or `constructor`. */
function valueAt(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(segment)) return undefined;
      current = (current as unknown[])[Number(segment)];
    } else if (typeof current === 'object' && current !== null && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

interface Found {
  /** undefined: absent (JSON null counts as absent) and no default. */
  value: unknown;
  /** Where in the payload it was read, for errors. */
  at: readonly PropertyKey[];
  /** The value is the mapping's (a constant, a default, a translation), not the payload's own. */
  fromMapping: boolean;
}

/** The first element of a list that `map` lists, translated, with its place; none: undefined. */
function firstListed(list: readonly unknown[], map: Record<string, string>, at: readonly PropertyKey[]): Found | undefined {
  for (let index = 0; index < list.length; index += 1) {
    const key = scalarText(list[index]);
    if (key !== undefined && Object.hasOwn(map, key)) return { value: map[key], at: [...at, index], fromMapping: true };
  }
  return undefined;
}

function apply(rule: FieldRule, item: unknown, itemAt: readonly PropertyKey[]): Found {
  if (rule.kind === 'constant') return { value: rule.value, at: itemAt, fromMapping: true };
  const at = [...itemAt, ...segmentsOf(rule.path)];
  const found = valueAt(item, rule.path);
  if (found === undefined || found === null) return { value: rule.default, at, fromMapping: true };
  // A list (tags, groups) is read by its first element that map lists, in the list's own order.
  if (rule.map !== undefined && Array.isArray(found)) return firstListed(found, rule.map, at) ?? { value: rule.default, at, fromMapping: true };
  const key = scalarText(found);
  if (rule.map !== undefined && key !== undefined && Object.hasOwn(rule.map, key)) return { value: rule.map[key], at, fromMapping: true };
  return { value: found, at, fromMapping: false };
}

const TEXT_FIELDS = ['id', 'status', 'family', 'asset', 'check', 'message', 'severity', 'control'] as const;
type TextField = (typeof TEXT_FIELDS)[number];

interface CompiledMapping {
  text: Partial<Record<TextField, FieldRule>>;
  observedAt: TimeRule | undefined;
  labels: [string, FieldRule][];
  evidence: [string, FieldRule][];
}

function compileMapping(mapping: Mapping): CompiledMapping {
  const text: Partial<Record<TextField, FieldRule>> = {};
  for (const field of TEXT_FIELDS) {
    const rule = mapping[field];
    if (rule !== undefined) text[field] = compileRule(rule);
  }
  return {
    text,
    observedAt: mapping.observedAt === undefined ? undefined : compileTime(mapping.observedAt),
    labels: Object.entries(mapping.labels ?? {}).map(([name, rule]) => [name, compileRule(rule)]),
    evidence: Object.entries(mapping.evidence ?? {}).map(([name, rule]) => [name, compileRule(rule)]),
  };
}

type ItemResult = { alert: CanonicalAlert } | { errors: PayloadError[] } | { skipped: true };

function normaliseItem(
  config: MappingDefaults,
  mapping: CompiledMapping,
  item: unknown,
  itemAt: readonly PropertyKey[],
  receivedAt: number,
): ItemResult {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { errors: [{ path: payloadPath(itemAt), message: `is ${describeValue(item)}, expected an object (one alert)` }] };
  }
  const errors: PayloadError[] = [];
  /** Canonical field (or labels.NAME) to where its value came from, to name it in errors. */
  const origins = new Map<string, readonly PropertyKey[]>();
  /** Fields already reported, so that the schema does not report them a second time. */
  const failed = new Set<string>();
  const fail = (field: string, at: readonly PropertyKey[], message: string): void => {
    failed.add(field);
    errors.push({ path: payloadPath(at), message: `${field}: ${message}` });
  };

  const textAt = (field: string, rule: FieldRule | undefined): string | undefined => {
    if (rule === undefined) return undefined;
    const found = apply(rule, item, itemAt);
    origins.set(field, found.at);
    if (found.value === undefined) return undefined;
    const value = scalarText(found.value);
    if (value === undefined) fail(field, found.at, `is ${describeValue(found.value)}, expected text or a number`);
    return value;
  };

  // Decided first: a skipped item owes nothing, so its other fields are not checked. Only the
  // mapping skips: a payload that says "skip" itself is refused like any other unknown status.
  const statusRule = mapping.text.status;
  if (statusRule !== undefined) {
    const found = apply(statusRule, item, itemAt);
    if (found.fromMapping && found.value === SKIP) return { skipped: true };
  }
  const candidate: Record<string, unknown> = { source: config.name };
  for (const field of TEXT_FIELDS) {
    const value = textAt(field, mapping.text[field]);
    if (value !== undefined) candidate[field] = value;
  }
  for (const required of ['id', 'status'] as const) {
    if (candidate[required] === undefined && !failed.has(required)) {
      fail(required, origins.get(required) ?? itemAt, 'missing');
    }
  }
  // A control that is not an Annex A id would file the NC under nothing an auditor can find. A
  // list of ids files it under the first, as a 2013 id that became several 2022 ones is.
  if (typeof candidate.control === 'string' && !ANNEX_A_ID.test(candidate.control) && !failed.has('control')) {
    const [first] = controlIdsIn(candidate.control);
    if (first !== undefined) candidate.control = first;
    else fail('control', origins.get('control') ?? itemAt, `is "${candidate.control}", not an ISO/IEC 27001 Annex A id such as A.8.13 (2022) or A.12.3.1 (2013), a list of them, or one after its edition (2013 A.12.3.1)`);
  }
  candidate.family ??= config.family;
  candidate.severity ??= config.severity;
  if (candidate.control === undefined && config.control !== undefined) candidate.control = config.control;

  if (mapping.observedAt === undefined) {
    candidate.observedAt = receivedAt;
  } else {
    const { rule, unit } = mapping.observedAt;
    const found = apply(rule, item, itemAt);
    if (found.value === undefined) fail('observedAt', found.at, 'missing');
    else if (typeof found.value !== 'string' && typeof found.value !== 'number') {
      fail('observedAt', found.at, `is ${describeValue(found.value)}, expected an ISO 8601 time with offset or a number`);
    } else if (unit === undefined && isEpochCount(found.value)) {
      // Seconds and milliseconds both read as times, decades apart: only the mapping can say which.
      fail('observedAt', found.at, `is ${describeValue(found.value)}: a numeric time needs unit: s or unit: ms in the mapping's observedAt`);
    } else {
      const time = parseEventTime(found.value, unit);
      if ('problem' in time) fail('observedAt', found.at, time.problem);
      else candidate.observedAt = time.ms;
    }
  }

  const labels: Record<string, string> = {};
  for (const [name, rule] of mapping.labels) {
    const value = textAt(`labels.${name}`, rule);
    if (value !== undefined) labels[name] = value;
  }
  candidate.labels = labels;

  const evidence: Record<string, unknown> = {};
  for (const [name, rule] of mapping.evidence) {
    const { value } = apply(rule, item, itemAt);
    if (value !== undefined) evidence[name] = value;
  }
  candidate.evidence = evidence;

  const parsed = canonicalAlertSchema.safeParse(candidate, { error: payloadIssueMessage });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [field, label] = issue.path;
      const name = field === 'labels' && label !== undefined ? `labels.${String(label)}` : String(field);
      if (failed.has(name)) continue;
      const rule = mapping.text[name as TextField];
      const hint =
        issue.code === 'invalid_value' && rule?.kind === 'path'
          ? rule.map === undefined
            ? ` (translate it with mapping.${name}.map)`
            : ' after mapping'
          : '';
      errors.push({ path: payloadPath(origins.get(name) ?? itemAt), message: `${name}: ${issue.message}${hint}` });
    }
  }
  if (errors.length > 0 || !parsed.success) return { errors };
  return { alert: parsed.data };
}

interface ItemList {
  items: readonly unknown[];
  at: readonly PropertyKey[] | null;
}

/** The alerts of a body and where they are; `at` null means the body itself is the one alert. */
function itemsOf(body: unknown, itemsPath: string[] | undefined): ItemList | PayloadError {
  if (itemsPath === undefined) {
    return Array.isArray(body) ? { items: body, at: [] } : { items: [body], at: null };
  }
  if (typeof body !== 'object' || body === null) {
    return { path: payloadPath([]), message: `is ${describeValue(body)}, expected an object with the alerts at ${itemsPath.join('.')}` };
  }
  const at = segmentsOf(itemsPath);
  const items = valueAt(body, itemsPath);
  if (!Array.isArray(items)) {
    const problem = items === undefined || items === null ? 'missing' : `is ${describeValue(items)}`;
    return { path: payloadPath(at), message: `${problem}, expected the array of alerts (items)` };
  }
  return { items, at };
}

/** A function from one payload to its alerts and errors: compiled once, run per request or poll. */
export function createMapper(defaults: MappingDefaults, mapping: Mapping, items: string | undefined): (body: unknown, receivedAt: number) => IntakeResult {
  const compiled = compileMapping(mapping);
  const itemsPath = items?.split('.');
  return (body, receivedAt) => {
    const list = itemsOf(body, itemsPath);
    if (!('items' in list)) return { alerts: [], errors: [list] };
    const result: IntakeResult = { alerts: [], errors: [] };
    // An index loop rather than forEach, so that holes in a sparse array are reported too.
    for (let index = 0; index < list.items.length; index += 1) {
      const itemAt = list.at === null ? [] : [...list.at, index];
      const outcome = normaliseItem(defaults, compiled, list.items[index], itemAt, receivedAt);
      if ('alert' in outcome) result.alerts.push(outcome.alert);
      else if ('errors' in outcome) result.errors.push(...outcome.errors);
    }
    return result;
  };
}
