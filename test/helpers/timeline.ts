/**
 * Lifecycle tests as timelines, in the manner of Alertmanager's acceptance tests: at t, this
 * observation; then expect this state. Runs the real engine over an in-memory register with a
 * manual clock, so time is data and nothing waits.
 *
 *   const t = timeline();
 *   await t.at('2026-01-01T00:00Z').fire();
 *   await t.at('2026-01-02T00:00Z').resolve();
 *   expect(t.symptom()).toMatchObject({ state: 'fixed' });
 */
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_FINGERPRINT_FIELDS } from '../../src/core/fingerprint.js';
import type { EffectKind } from '../../src/core/lifecycle.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import type { CorrectiveActionInput, Nonconformity, ReceivedAlert, RiskAcceptanceInput, Symptom, VoidInput } from '../../src/core/types.js';
import { Engine, type BatchResult } from '../../src/engine.js';
import { MemoryRegister, MemorySourceLife } from '../../src/memory-register.js';
import type { TimelineRecord } from '../../src/register.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type When = string | number;

/** Epoch ms for an ISO time (`2026-01-01T00:00Z`) or a number already in ms. */
export function ms(when: When): number {
  const value = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(value)) throw new Error(`not a time: ${when}`);
  return value;
}

export type AlertOverrides = Partial<Omit<ReceivedAlert, 'status' | 'observedAt' | 'receivedAt'>> & {
  observedAt?: When;
  receivedAt?: When;
};

/** One failing SSH brute-force rule on one host: the symptom every test starts from. */
export const BASE_ALERT: Omit<ReceivedAlert, 'id' | 'status' | 'observedAt' | 'receivedAt'> = {
  source: 'wazuh',
  family: 'siem',
  asset: 'srv-web-01',
  check: 'rule-5710',
  message: 'sshd: attempt to login using a non-existent user',
  severity: 'medium',
  control: 'A.8.16',
  labels: {},
  evidence: { index: 'wazuh-alerts-4.x-2026.01.01' },
};

export const ACTION: CorrectiveActionInput = {
  action: 'fail2ban on the bastion; password login disabled',
  owner: 'secops',
  rootCause: 'sshd exposed with password authentication',
  dueDate: null,
  // Complete, so that tests may record an action after a reopen too; the RCA tests vary it.
  rootCauseAnalysis: {
    whys: [
      'the brute force got through',
      'password login was enabled on the bastion',
      'the hardening baseline left it on',
      'the baseline had no check for it',
      'nobody owned the baseline',
    ],
    category: 'governance-ownership',
  },
};

export class Timeline {
  readonly clock = new ManualClock();
  readonly register = new MemoryRegister();
  /** The sources' heartbeats and connector failures, as the daemon's connector status keeps them. */
  readonly sources = new MemorySourceLife();
  readonly policy: Policy;
  readonly engine: Engine;
  private sequence = 0;

  constructor(policy: Partial<Policy> = {}) {
    this.policy = { ...DEFAULT_POLICY, ...policy };
    this.engine = new Engine({
      register: this.register,
      policy: this.policy,
      clock: this.clock,
      fingerprintFields: DEFAULT_FINGERPRINT_FIELDS,
      sourceLife: this.sources,
    });
  }

  /** What happens at `when`: the clock reads `when` while each step runs. */
  at(when: When): Step {
    return new Step(this, ms(when));
  }

  /** An alert from {@link BASE_ALERT} with overrides; a fresh id, and times from the clock, unless given. */
  alert(status: ReceivedAlert['status'], overrides: AlertOverrides = {}): ReceivedAlert {
    const now = this.clock.now();
    return {
      ...BASE_ALERT,
      id: `evt-${++this.sequence}`,
      ...overrides,
      status,
      observedAt: ms(overrides.observedAt ?? now),
      receivedAt: ms(overrides.receivedAt ?? now),
    };
  }

  fingerprint(overrides: AlertOverrides = {}): string {
    return this.engine.fingerprintOf({ ...BASE_ALERT, ...overrides, id: 'any', status: 'firing', observedAt: 0, receivedAt: 0 });
  }

  /** The stored symptom the overrides identify (the base one by default). */
  symptom(overrides: AlertOverrides = {}): Symptom | undefined {
    return this.register.symptoms.get(this.fingerprint(overrides))?.symptom;
  }

  /** Every NC in the register, by id. */
  ncs(): Nonconformity[] {
    return [...this.register.ncs.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  nc(id: string): Nonconformity {
    const nc = this.register.ncs.get(id);
    if (nc === undefined) throw new Error(`no NC ${id}; the register has ${[...this.register.ncs.keys()].join(', ') || 'none'}`);
    return nc;
  }

  entries(id: string): TimelineRecord[] {
    return this.register.timelines.get(id) ?? [];
  }
}

export class Step {
  constructor(
    private readonly t: Timeline,
    private readonly time: number,
  ) {}

  /** One firing observation; returns what the lifecycle decided. */
  async fire(overrides: AlertOverrides = {}): Promise<EffectKind> {
    const [outcome] = await this.ingest({ ...overrides, status: 'firing' });
    return outcome as EffectKind;
  }

  async resolve(overrides: AlertOverrides = {}): Promise<EffectKind> {
    const [outcome] = await this.ingest({ ...overrides, status: 'resolved' });
    return outcome as EffectKind;
  }

  /** Several observations in one batch, in arrival order. */
  async ingest(...alerts: Array<AlertOverrides & { status: ReceivedAlert['status'] }>): Promise<EffectKind[]> {
    this.t.clock.set(this.time);
    const batch = alerts.map(({ status, ...overrides }) => this.t.alert(status, overrides));
    const { decisions } = await this.t.engine.ingest(batch);
    // The engine reports decisions symptom by symptom; give them back in arrival order.
    return batch.map((alert) => {
      const decision = decisions.find((candidate) => candidate.alert === alert);
      if (decision === undefined) throw new Error(`the engine made no decision on ${alert.id}`);
      return decision.outcome;
    });
  }

  /** The sweep: what time alone decides, up to now. */
  tick(): Promise<BatchResult> {
    this.t.clock.set(this.time);
    return this.t.engine.sweep();
  }

  recordFix(overrides: AlertOverrides = {}, by: { actor: string; note: string | null } = { actor: 'alice', note: null }): Promise<BatchResult> {
    this.t.clock.set(this.time);
    return this.t.engine.recordFix(this.t.fingerprint(overrides), by);
  }

  correctiveAction(ncId: string, action: Partial<CorrectiveActionInput> = {}): Promise<Nonconformity> {
    this.t.clock.set(this.time);
    return this.t.engine.recordCorrectiveAction(ncId, { ...ACTION, ...action });
  }

  voidNc(ncId: string, input: VoidInput, actor = 'auditor'): Promise<Nonconformity> {
    this.t.clock.set(this.time);
    return this.t.engine.voidNc(ncId, input, actor);
  }

  acceptRisk(ncId: string, input: RiskAcceptanceInput, actor = 'ciso-office'): Promise<Nonconformity> {
    this.t.clock.set(this.time);
    return this.t.engine.acceptRisk(ncId, input, actor);
  }
}

export function timeline(policy: Partial<Policy> = {}): Timeline {
  return new Timeline(policy);
}
