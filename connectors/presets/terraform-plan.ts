/**
 * A Terraform plan as `terraform show -json PLANFILE` writes it (JSON output format 1.x; the
 * plan's `timestamp` since Terraform 1.5, a plan without it timed at its arrival), for scheduled drift detection
 * (`terraform plan -refresh-only -out=plan`, or any plan that refreshes).
 *
 * Each resource is a symptom (check: its type, asset: its address). Every entry of
 * `resource_drift` is a firing observation: the resource changed outside Terraform. Every other
 * managed resource of the refreshed state (`prior_state`) is a resolved one: the plan compared
 * it and found it as recorded, which is how a drift that was reverted or adopted is seen fixed,
 * without recurd keeping a list of what drifted before. A plan that errored or is incomplete
 * (`errored`, `complete: false`) did not compare everything: it gives its drift only.
 *
 * The resources' values are not kept: plans hold secrets in clear (`before_sensitive` only marks
 * them), so the evidence names the attributes that changed, never their values.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseEventTime } from '../../src/core/event-time.js';
import type { Preset } from './types.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function without(record: Json, ...names: string[]): Json {
  return Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)));
}

/** Top-level attributes whose values differ between the recorded and the found object. */
function changedAttributes(before: unknown, after: unknown): string[] {
  const was = isRecord(before) ? before : {};
  const is = isRecord(after) ? after : {};
  return [...new Set([...Object.keys(was), ...Object.keys(is)])]
    .filter((name) => !isDeepStrictEqual(was[name], is[name]))
    .sort();
}

/** Managed resources of a state values module and its child modules, depth first. */
function managedResources(module: unknown): Json[] {
  if (!isRecord(module)) return [];
  const own = Array.isArray(module.resources) ? module.resources.filter(isRecord).filter((resource) => resource.mode === 'managed') : [];
  const children = Array.isArray(module.child_modules) ? module.child_modules.flatMap(managedResources) : [];
  return [...own, ...children];
}

/** When the plan was made: its `timestamp`, or its arrival where it has none. */
interface PlanTime {
  time: string;
  by: 'plan' | 'arrival';
}

function observation(plan: Json, at: PlanTime, resource: Json, status: 'firing' | 'resolved', message: string): Json {
  const address = text(resource.address);
  return {
    ...resource,
    id: address === undefined ? undefined : `${address}@${at.time}`,
    status,
    message,
    timestamp: at.time,
    plan_timestamp: at.by === 'plan' ? at.time : null,
    timed_at: at.by,
    terraform_version: plan.terraform_version,
  };
}

function driftObservation(plan: Json, timestamp: PlanTime, entry: unknown): unknown {
  if (!isRecord(entry)) return entry;
  const change = isRecord(entry.change) ? entry.change : {};
  const actions = Array.isArray(change.actions) ? change.actions.filter((action): action is string => typeof action === 'string') : [];
  // The change itself carries the values: only the names of what changed go on.
  return {
    ...observation(plan, timestamp, without(entry, 'change'), 'firing', `${text(entry.address) ?? '(no address)'} changed outside Terraform (${actions.join(', ') || 'no action'})`),
    actions,
    action: actions.join(','),
    changed_attributes: changedAttributes(change.before, change.after),
  };
}

function reshape(document: unknown, receivedAt: number): unknown {
  if (!isRecord(document)) return document;
  const { timestamp } = document;
  let at: PlanTime;
  // Plans of Terraform before 1.5 (format 1.0 and 1.1) have no timestamp: they are timed at arrival.
  if (timestamp === undefined) at = { time: new Date(receivedAt).toISOString(), by: 'arrival' };
  // Terraform writes RFC 3339, which needs no unit: a number here dates nothing.
  else if (typeof timestamp === 'string' && !('problem' in parseEventTime(timestamp))) at = { time: timestamp, by: 'plan' };
  else {
    // A time that dates nothing: the document stands as the one item, so that the mapping
    // reports its `timestamp` once, where it is.
    return { ...document, id: 'plan', status: 'firing' };
  }
  const drift = Array.isArray(document.resource_drift) ? document.resource_drift : [];
  const items = drift.map((entry) => driftObservation(document, at, entry));
  if (document.errored === true || document.complete === false) return items;
  const drifted = new Set(drift.filter(isRecord).map((entry) => entry.address));
  const state = isRecord(document.prior_state) && isRecord(document.prior_state.values) ? document.prior_state.values.root_module : undefined;
  for (const resource of managedResources(state)) {
    if (drifted.has(resource.address)) continue;
    items.push(observation(document, at, without(resource, 'values', 'sensitive_values'), 'resolved', `${text(resource.address) ?? '(no address)'} matches its Terraform state`));
  }
  return items;
}

export const terraformPlanPreset: Preset = {
  name: 'terraform-plan',
  description: 'Terraform plan JSON (terraform show -json, 1.5+): resource_drift firing per resource, the rest of the refreshed state resolved',
  family: 'config-drift',
  control: 'A.8.9',
  severity: 'medium',
  reshape,
  mapping: {
    id: 'id',
    status: 'status',
    observedAt: 'timestamp',
    asset: 'address',
    check: 'type',
    message: 'message',
    labels: { provider: 'provider_name', module: 'module_address', action: 'action' },
    evidence: {
      planTimestamp: 'plan_timestamp',
      timedAt: 'timed_at',
      terraformVersion: 'terraform_version',
      actions: 'actions',
      changedAttributes: 'changed_attributes',
      previousAddress: 'previous_address',
      deposed: 'deposed',
    },
  },
};
