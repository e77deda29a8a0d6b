/**
 * Symptoms through the HTTP API of a real daemon on a real Redis: listed with filters and pages,
 * shown with their episodes, recent observations and NC, and fixed with an actor and a note.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { API_TOKEN, WEBHOOK_TOKEN, api, ingestSettled } from './helpers/daemon.js';
import { daemonSuite } from './helpers/suites.js';

interface SymptomJson {
  fingerprint: string;
  state: string;
  asset: string;
  check: string;
  nc: string | null;
  ncState?: string | null;
  lastFix: { at: string; actor: string; note: string | null } | null;
  episodes: Array<{ episode: number; fixKind: string | null; fixedBy: string | null; note: string | null; fixedAt: string | null }>;
  recentObservations?: Array<{ id: string; status: string; outcome: string; observedAt: string }>;
}

interface ListJson {
  symptoms: SymptomJson[];
  count: number;
  nextCursor: string | null;
}

interface ErrorJson {
  error: { code: string; message: string; details: Array<{ path: string }> };
}

describe('symptoms API', () => {
  const suite = daemonSuite();
  let daemon: Daemon | null = null;

  /** Posts events to the generic (HMAC) intake and waits until they are decided. */
  async function post(events: Array<{ uid: string; state: 'bad' | 'good'; time: number; host: string; rule: string }>): Promise<void> {
    const body = JSON.stringify({ events: events.map((event) => ({ ...event, time: new Date(event.time).toISOString() })) });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
    const response = await fetch(`${daemon!.address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
    expect(response.status).toBe(202);
    await ingestSettled(daemon!);
  }

  it('lists symptoms by filter in pages with a total count, and refuses bad parameters by name', async () => {
    daemon = await suite.start();
    const at = Date.now() - 60_000;
    const hosts = Array.from({ length: 7 }, (_, index) => `srv-${index}`);
    await post([
      ...hosts.map((host) => ({ uid: `b-${host}`, state: 'bad' as const, time: at, host, rule: 'nightly-backup' })),
      { uid: 'v-1', state: 'bad', time: at, host: 'srv-0', rule: 'weekly-verify' },
      { uid: 'v-2', state: 'bad', time: at, host: 'srv-1', rule: 'weekly-verify' },
    ]);

    const all = await api<ListJson>(daemon.address, '/api/v1/symptoms');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ count: 9, nextCursor: null });
    expect(all.body.symptoms).toHaveLength(9);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/symptoms?state=active&family=av&check=nightly-backup&limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await api<ListJson>(daemon.address, query);
      expect(page.status).toBe(200);
      expect(page.body.count).toBe(7);
      seen.push(...page.body.symptoms.map((symptom) => symptom.asset));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(hosts);
    expect((await api<ListJson>(daemon.address, '/api/v1/symptoms?asset=srv-1')).body.symptoms.map((symptom) => symptom.check).sort()).toEqual(['nightly-backup', 'weekly-verify']);

    const badCursor = await api<ErrorJson>(daemon.address, '/api/v1/symptoms?cursor=bm90LWEtY3Vyc29y');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toMatchObject({ code: 'RECURD_ERR_REQUEST_INVALID', message: expect.stringMatching(/^cursor: /) as unknown, details: [{ path: 'cursor' }] });
    const ncCursor = await api<ErrorJson>(daemon.address, '/api/v1/nonconformities?cursor=garbage');
    expect(ncCursor.status).toBe(400);
    expect(ncCursor.body.error.details).toEqual([expect.objectContaining({ path: 'cursor' })]);
    const badState = await api<ErrorJson>(daemon.address, '/api/v1/symptoms?state=open');
    expect(badState.status).toBe(400);
    expect(badState.body.error.message).toMatch(/^query: state: /);
    const badLimit = await api<ErrorJson>(daemon.address, '/api/v1/symptoms?limit=0');
    expect(badLimit.body.error.message).toMatch(/^query: limit: /);
    expect((await api<ErrorJson>(daemon.address, '/api/v1/symptoms?colour=red')).status).toBe(400);
    expect((await fetch(`${daemon.address}/api/v1/symptoms`)).status).toBe(401);
    expect((await fetch(`${daemon.address}/api/v1/symptoms/${all.body.symptoms[0]?.fingerprint ?? ''}`)).status).toBe(401);
    expect((await api<ErrorJson>(daemon.address, '/api/v1/symptoms/0123')).body.error.code).toBe('RECURD_ERR_SYMPTOM_NOT_FOUND');

    const nonconformities = await api<{ nonconformities: unknown[]; count: number; nextCursor: string | null }>(daemon.address, '/api/v1/nonconformities');
    expect(nonconformities.body).toEqual({ nonconformities: [], count: 0, nextCursor: null });
  });

  it('shows a symptom with its episodes, recent observations and NC, and records who fixed it and why', async () => {
    // A return must come after the skew and within maxFuture of now.
    daemon = await suite.start({ policy: { skew: '1m' } });
    const base = Date.now() - 60 * 60_000;
    const event = (uid: string, state: 'bad' | 'good', minutes: number, host = 'srv-db-01') => ({ uid, state, time: base + minutes * 60_000, host, rule: 'nightly-backup' });
    await post([event('first', 'bad', 0), event('other', 'bad', 0, 'srv-db-02')]);
    await post([event('healthy', 'good', 10)]);
    await post([event('again', 'bad', 30)]);

    const list = await api<ListJson>(daemon.address, '/api/v1/symptoms?asset=srv-db-01');
    const fingerprint = list.body.symptoms[0]?.fingerprint ?? '';
    const shown = await api<SymptomJson>(daemon.address, `/api/v1/symptoms/${fingerprint}`);
    expect(shown.status).toBe(200);
    const ncId = shown.body.nc;
    expect(ncId).toMatch(/^NC-\d{4}-\d{4}$/);
    expect(shown.body).toMatchObject({ fingerprint, state: 'active', ncState: 'open', lastFix: null });
    expect(shown.body.episodes.map((episode) => [episode.episode, episode.fixKind])).toEqual([[1, 'resolved'], [2, null]]);
    expect(shown.body.recentObservations?.map((observation) => [observation.id, observation.status, observation.outcome])).toEqual([
      ['first', 'firing', 'episode'],
      ['healthy', 'resolved', 'fix'],
      ['again', 'firing', 'recurrence'],
    ]);

    const badBody = await api<ErrorJson>(daemon.address, `/api/v1/symptoms/${fingerprint}/fix`, { method: 'POST', body: JSON.stringify({ note: 5 }) });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.details).toEqual([expect.objectContaining({ path: 'note' })]);

    const fixed = await api<{ state: string; lastFix: SymptomJson['lastFix'] }>(daemon.address, `/api/v1/symptoms/${fingerprint}/fix`, {
      method: 'POST',
      body: JSON.stringify({ note: 'freed space on the repository volume' }),
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ state: 'fixed', lastFix: { actor: 'admin', note: 'freed space on the repository volume' } });

    const after = (await api<SymptomJson>(daemon.address, `/api/v1/symptoms/${fingerprint}`)).body;
    expect(after.lastFix).toMatchObject({ actor: 'admin', note: 'freed space on the repository volume' });
    expect(after.episodes.at(-1)).toMatchObject({ episode: 2, fixKind: 'recorded', fixedBy: 'admin', note: 'freed space on the repository volume' });
    const nc = await api<{ timeline: Array<{ type: string; detail: Record<string, unknown> }> }>(daemon.address, `/api/v1/nonconformities/${ncId ?? ''}`);
    expect(nc.body.timeline.find((entry) => entry.type === 'fix-recorded')?.detail).toMatchObject({ actor: 'admin', note: 'freed space on the repository volume' });

    // Without a body: the token's name, no note.
    const other = (await api<ListJson>(daemon.address, '/api/v1/symptoms?asset=srv-db-02')).body.symptoms[0]?.fingerprint ?? '';
    const plain = await api<{ lastFix: SymptomJson['lastFix'] }>(daemon.address, `/api/v1/symptoms/${other}/fix`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(plain.body.lastFix).toMatchObject({ actor: 'admin', note: null });
    expect((await api<ListJson>(daemon.address, '/api/v1/symptoms?state=fixed')).body.count).toBe(2);
  });
});
