/**
 * What the Slack and Teams notifier tests share: services for a notifier made outside a daemon,
 * NCs raised in a real daemon through its intakes, and the outbox job of a delivery.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterEach, beforeAll, expect } from 'vitest';
import { loadAnnexA } from '../../src/config/annex-a.js';
import { systemClock } from '../../src/core/clock.js';
import type { NcEvent, NcEventType } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import type { NotifierServices } from '../../src/notifiers/types.js';
import type { TicketLinks } from '../../src/ticket-links.js';
import { api, eventually, metricsOf, postAlertmanager, WEBHOOK_TOKEN, ingestSettled, resolvesDecided } from './daemon.js';
import { oneEventOfEachType } from './nc-events.js';
import type { VendorApi } from './vendor-api.js';

export const BASE_URL = 'https://recurd.example.org';

/** Chat notifiers keep no ticket: any use of the links fails the test. */
const noLinks: TicketLinks = {
  get: () => Promise.reject(new Error('a chat notifier read a ticket link')),
  set: () => Promise.reject(new Error('a chat notifier wrote a ticket link')),
  ncOf: () => Promise.reject(new Error('a chat notifier looked up a ticket')),
  forNcs: () => Promise.reject(new Error('a chat notifier listed ticket links')),
};

/**
 * For a describe block of a chat notifier's tests: one event of each type, made once, and the
 * loopback destinations a test starts, closed after it.
 */
export function chatSuite<Api extends VendorApi, Args extends unknown[]>(startApi: (...args: Args) => Promise<Api>) {
  let events: Map<NcEventType, NcEvent> | undefined;
  const started: VendorApi[] = [];
  beforeAll(async () => {
    events = await oneEventOfEachType();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((destination) => destination.close()));
  });
  return {
    event: (type: NcEventType): NcEvent => events?.get(type) as NcEvent,
    start: async (...args: Args): Promise<Api> => {
      const destination = await startApi(...args);
      started.push(destination);
      return destination;
    },
  };
}

export function chatServices(baseUrl: string | null = BASE_URL): NotifierServices {
  return { links: noLinks, clock: systemClock, logger: createLogger('silent'), annexA: loadAnnexA(), baseUrl };
}

export function fixtureText(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
}

const [firingBody, resolvedBody] = fixtureText('alertmanager/alertmanager-0.25-webhook-v4.ndjson').trim().split('\n') as [string, string];

async function openNc(daemon: Daemon, family: string): Promise<string> {
  return eventually(async () => {
    const { body } = await api<{ nonconformities: Array<{ id: string }> }>(daemon.address, `/api/v1/nonconformities?state=open&family=${family}`);
    return body.nonconformities[0]?.id;
  }, 10_000, `an open ${family} NC`);
}

/** firing → resolved → firing through the Alertmanager intake (family backup, A.8.13); the NC's id. */
export async function raiseBackupNc(daemon: Daemon): Promise<string> {
  expect((await postAlertmanager(daemon, firingBody)).status).toBe(202);
  expect((await postAlertmanager(daemon, resolvedBody)).status).toBe(202);
  // The resolve must be decided before the re-fire, or the re-fire is just the same episode.
  await resolvesDecided(daemon);
  expect((await postAlertmanager(daemon, firingBody)).status).toBe(202);
  return openNc(daemon, 'backup');
}

/** bad → good → bad of one rule on one host through the generic (HMAC) intake, family av; the NC's id. */
export async function raiseMalwareNc(daemon: Daemon): Promise<string> {
  // Ten minutes apart, as the dispositions tests space them.
  const at = Date.now() - 60 * 60_000;
  const steps = [
    { uid: 'av-1', state: 'bad', time: at },
    { uid: 'av-2', state: 'good', time: at + 10 * 60_000 },
    { uid: 'av-3', state: 'bad', time: at + 20 * 60_000 },
  ];
  for (const step of steps) {
    const body = JSON.stringify({ events: [{ ...step, time: new Date(step.time).toISOString(), host: 'ws-17', rule: 'eicar-test-signature' }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const response = await fetch(`${daemon.address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
    expect(response.status).toBe(202);
    await ingestSettled(daemon);
  }
  return openNc(daemon, 'av');
}

/** The value of `recurd_notifications_total{notifier,outcome}`, 0 when absent. */
export async function deliveries(daemon: Daemon, notifier: string, outcome: 'delivered' | 'retrying' | 'failed'): Promise<number> {
  const match = new RegExp(`recurd_notifications_total\\{notifier="${notifier}",outcome="${outcome}"\\} (\\d+)`).exec(await metricsOf(daemon));
  return match === null ? 0 : Number(match[1]);
}

/** The outbox jobs of a notifier: what each was for, its state, and how often it was attempted. */
export async function outboxJobs(redisPort: number, prefix: string, notifier: string): Promise<Array<{ type: string; state: string; attemptsMade: number }>> {
  const outbox = new Queue('outbox', { connection: { host: '127.0.0.1', port: redisPort }, prefix });
  try {
    const jobs = await outbox.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    const mine = jobs.filter((job) => (job.data as { notifier: string }).notifier === notifier);
    return Promise.all(mine.map(async (job) => ({ type: (job.data as { event: { type: string } }).event.type, state: await job.getState(), attemptsMade: job.attemptsMade })));
  } finally {
    await outbox.close();
  }
}
