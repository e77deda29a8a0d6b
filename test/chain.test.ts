/**
 * The tamper-evident timeline through the daemon as users run it: a long-running NC's chain holds,
 * an entry edited in Redis is named by the API's verification, and a register written before the
 * chain verifies as "no chain before entry N".
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { WEBHOOK_TOKEN, api, ingestSettled } from './helpers/daemon.js';
import { daemonSuite } from './helpers/suites.js';
import { rewriteTimeline } from './helpers/timeline-store.js';

interface EntryJson {
  id: string;
  type: string;
  event: string | null;
  detail: Record<string, unknown>;
  hash: string | null;
  prev: string | null;
}

interface NcJson {
  id: string;
  state: string;
  timelineHead: string | null;
  timeline: EntryJson[];
}

interface VerifyJson {
  id: string;
  holds: boolean;
  entries: number;
  checked: number;
  chainStartsAt: number;
  head: string | null;
  note: string | null;
  failure: { index: number; entryId: string; at: string | null; reason: string; message: string } | null;
}

describe('tamper-evident timeline', () => {
  const suite = daemonSuite();
  const redis = suite.redis;
  let daemon: Daemon | null = null;

  /** Posts one event to the generic intake, `minutes` after `base`, and waits until it is decided. */
  async function post(base: number, uid: string, state: 'bad' | 'good', minutes: number): Promise<void> {
    const body = JSON.stringify({ events: [{ uid, state, time: new Date(base + minutes * 60_000).toISOString(), host: 'srv-db-01', rule: 'nightly-backup' }] });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const response = await fetch(`${daemon!.address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
    expect(response.status).toBe(202);
    await ingestSettled(daemon!);
  }

  /** An NC raised, returned to, given a weak corrective action and reopened by the symptom's return. */
  async function longRunningNc(): Promise<string> {
    // A return must come after the skew and within maxFuture of now: a skew shorter than maxFuture.
    daemon = await suite.start({ policy: { skew: '1m' } });
    const base = Date.now() - 60 * 60_000;
    await post(base, 'a', 'bad', 0);
    await post(base, 'b', 'good', 10);
    await post(base, 'c', 'bad', 20);
    await post(base, 'd', 'good', 25);
    await post(base, 'e', 'bad', 30);
    const [listed] = (await api<{ nonconformities: Array<{ id: string }> }>(daemon.address, '/api/v1/nonconformities')).body.nonconformities;
    const id = listed?.id as string;
    const action = await api(daemon.address, `/api/v1/nonconformities/${id}/corrective-action`, { method: 'POST', body: JSON.stringify({ action: 'Restarted the backup agent', owner: 'ops' }) });
    expect(action.status).toBe(200);
    const now = (Date.now() - base) / 60_000;
    await post(base, 'f', 'good', now + 1);
    await post(base, 'g', 'bad', now + 3);
    return id;
  }

  it('a long-running NC verifies, and its view links each entry to the one before it', async () => {
    const id = await longRunningNc();
    const nc = (await api<NcJson>(daemon!.address, `/api/v1/nonconformities/${id}`)).body;
    expect(nc.state).toBe('reopened');
    const types = nc.timeline.map((entry) => entry.type);
    expect(types).toEqual(expect.arrayContaining(['raised', 'occurrence', 'corrective-action', 'reopened']));
    expect(nc.timeline[0]?.prev).toBeNull();
    nc.timeline.forEach((entry, index) => {
      expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      if (index > 0) expect(entry.prev).toBe(nc.timeline[index - 1]?.hash);
    });
    expect(nc.timelineHead).toBe(nc.timeline.at(-1)?.hash);
    expect(nc.timeline.find((entry) => entry.type === 'reopened')?.event).toBe('nc.reopened');

    const verified = await api<VerifyJson>(daemon!.address, `/api/v1/nonconformities/${id}/verify`);
    expect(verified).toEqual({
      status: 200,
      body: { id, holds: true, entries: nc.timeline.length, checked: nc.timeline.length, chainStartsAt: 0, head: nc.timelineHead, recordedHead: nc.timelineHead, note: null, failure: null },
    });

    const unknown = await api<{ error: { code: string; message: string } }>(daemon!.address, '/api/v1/nonconformities/NC-2099-0001/verify');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'RECURD_ERR_NC_NOT_FOUND', message: 'no nonconformity NC-2099-0001' });
  }, 60_000);

  it('names the entry whose detail was edited in Redis, and still shows the NC', async () => {
    const id = await longRunningNc();
    const before = (await api<NcJson>(daemon!.address, `/api/v1/nonconformities/${id}`)).body;
    const index = before.timeline.findIndex((entry) => entry.type === 'corrective-action');
    const target = before.timeline[index] as EntryJson;
    await rewriteTimeline(redis.client, `${suite.prefix}:tl:${id}`, (entryId, fields) => {
      if (entryId === target.id) fields.detail = (fields.detail as string).replace('Restarted the backup agent', 'Replaced the backup server');
    });

    const verified = await api<VerifyJson>(daemon!.address, `/api/v1/nonconformities/${id}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ holds: false, checked: index, failure: { index, entryId: target.id, reason: 'hash-mismatch' } });
    expect(verified.body.failure?.message).toContain(`it records ${target.hash as string}`);
    const after = await api<NcJson>(daemon!.address, `/api/v1/nonconformities/${id}`);
    expect(after.status).toBe(200);
    expect(JSON.stringify(after.body.timeline[index]?.detail)).toContain('Replaced the backup server');

    // An edit that leaves no JSON and no time behind: named as malformed, and the NC is still shown.
    await rewriteTimeline(redis.client, `${suite.prefix}:tl:${id}`, (entryId, fields) => {
      if (entryId === before.timeline[0]?.id) Object.assign(fields, { detail: 'not json', at: 'yesterday' });
    });
    const malformed = await api<VerifyJson>(daemon!.address, `/api/v1/nonconformities/${id}/verify`);
    expect(malformed.body.failure).toEqual({ index: 0, entryId: before.timeline[0]?.id, at: null, reason: 'malformed', message: 'the field at ("yesterday") is not a time in epoch ms' });
    const shown = await api<NcJson & { timeline: Array<EntryJson & { at: string | null }> }>(daemon!.address, `/api/v1/nonconformities/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.timeline[0]).toMatchObject({ at: null, detail: { unreadable: 'not json' } });
  }, 60_000);

  it('verifies a timeline written before the chain as "no chain before entry N", and chains what comes after', async () => {
    const id = await longRunningNc();
    // What an earlier version wrote: entries of at, type and detail alone, an NC record without a head.
    await rewriteTimeline(redis.client, `${suite.prefix}:tl:${id}`, (_entryId, fields) => {
      delete fields.event;
      delete fields.prev;
      delete fields.hash;
    });
    const record = JSON.parse((await redis.client.hget(`${suite.prefix}:nc:${id}`, 'd')) as string) as Record<string, unknown>;
    delete record.timelineHead;
    await redis.client.hset(`${suite.prefix}:nc:${id}`, 'd', JSON.stringify(record));
    await redis.client.hdel(`${suite.prefix}:nc:${id}`, 'th');
    const legacy = (await api<NcJson>(daemon!.address, `/api/v1/nonconformities/${id}`)).body;
    const written = legacy.timeline.length;
    expect(legacy.timeline.every((entry) => entry.hash === null && entry.prev === null)).toBe(true);
    expect((await api<VerifyJson>(daemon!.address, `/api/v1/nonconformities/${id}/verify`)).body).toMatchObject({
      holds: true,
      entries: written,
      checked: 0,
      chainStartsAt: written,
      head: null,
      note: `entries 0-${written - 1} were written before recurd kept a hash chain: no chain before entry ${written}`,
    });

    const action = await api(daemon!.address, `/api/v1/nonconformities/${id}/corrective-action`, {
      method: 'POST',
      body: JSON.stringify({
        action: 'Automated the backup check and added an alert on failure',
        owner: 'ops',
        rootCauseAnalysis: { whys: ['failed', 'disk full', 'no alert on disk', 'no monitoring standard', 'no owner'], category: 'governance-ownership' },
      }),
    });
    expect(action.status).toBe(200);
    const chained = (await api<NcJson>(daemon!.address, `/api/v1/nonconformities/${id}`)).body;
    expect(chained.timeline[written]).toMatchObject({ type: 'corrective-action', prev: null });
    const verified = (await api<VerifyJson>(daemon!.address, `/api/v1/nonconformities/${id}/verify`)).body;
    expect(verified).toMatchObject({ holds: true, entries: chained.timeline.length, checked: chained.timeline.length - written, chainStartsAt: written, head: chained.timelineHead });
  }, 60_000);
});
