/**
 * Issue 9, items 1 and 3, through a real daemon on a real Redis: API tokens with names and roles
 * enforced per route, the token's name as the actor on every human timeline entry, and owner, due
 * date, comments and attachments as new timeline entries that keep the chain whole.
 */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { type Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { WEBHOOK_TOKEN, ingestSettled } from './helpers/daemon.js';
import { daemonSuite } from './helpers/suites.js';

const READER = 'reader-token-4b1e';
const WRITER = 'writer-token-9c2d';
const BOSS = 'boss-token-77aa';
const DAY = 24 * 60 * 60 * 1000;
/** The daemon's clock runs a year ahead of the machine's: a due date next month is in its past. */
const AHEAD = 365 * DAY;
const SHA = 'ab'.repeat(32);

interface Entry {
  type: string;
  detail: Record<string, unknown>;
}
interface NcJson {
  id: string;
  state: string;
  owner: string | null;
  dueDate: string | null;
  comments: number;
  attachments: number;
  fingerprint: string;
  correctiveAction: { actor?: string } | null;
  timeline: Entry[];
}
interface ErrorJson {
  error: { code: string; message: string; details?: unknown };
}

function apiTokensError(api: unknown): Array<{ path: string; message: string }> {
  const parsed = configSchema.safeParse({ redis: { url: 'redis://127.0.0.1:6379' }, api });
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

describe('roles and ownership', () => {
  const suite = daemonSuite();
  let daemon: Daemon | null = null;
  let lines: string[] = [];

  async function start(): Promise<Daemon> {
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
        done();
      },
    });
    const config = suite.config({
      api: {
        tokens: [
          { name: 'reader', token: READER, role: 'read' },
          { name: 'writer', token: WRITER, role: 'write' },
          { name: 'boss', token: BOSS, role: 'admin' },
        ],
      },
      policy: { skew: '1m' },
    });
    daemon = await suite.run(config, { logger: createLogger('warn', sink), clock: { now: () => Date.now() + AHEAD } });
    return daemon;
  }

  async function call<T>(token: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${daemon!.address}/api/v1${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** Fails, recovers and fails again on the daemon's clock: one open NC, its symptom firing. */
  async function raiseNc(): Promise<NcJson> {
    const base = Date.now() + AHEAD - 60 * 60_000;
    for (const [uid, state, minutes] of [['a', 'bad', 0], ['b', 'good', 10], ['c', 'bad', 20]] as const) {
      const body = JSON.stringify({ events: [{ uid, state, time: new Date(base + minutes * 60_000).toISOString(), host: 'srv-db-01', rule: 'nightly-backup' }] });
      const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
      const answer = await fetch(`${daemon!.address}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recurd-signature': signature }, body });
      expect(answer.status).toBe(202);
      await ingestSettled(daemon!);
    }
    const { body } = await call<{ nonconformities: NcJson[] }>(READER, '/nonconformities');
    expect(body.nonconformities).toHaveLength(1);
    return body.nonconformities[0] as NcJson;
  }

  it('requires api.token or api.tokens, and refuses a name or a token given twice, naming where', () => {
    expect(apiTokensError({})).toEqual([{ path: 'api', message: 'needs token (an admin token) or tokens (each with name, token and role)' }]);
    expect(apiTokensError({ token: 'single' })).toEqual([]);
    expect(
      apiTokensError({
        token: 'single',
        tokens: [
          { name: 'admin', token: 'other', role: 'read' },
          { name: 'ann', token: 'single', role: 'write' },
          { name: 'ann', token: 'third', role: 'read' },
        ],
      }),
    ).toEqual([
      { path: 'api.tokens.0.name', message: '"admin" is already the name of api.token, which goes by that name' },
      { path: 'api.tokens.1.token', message: 'is the same token as api.token: each token must name one holder' },
      { path: 'api.tokens.2.name', message: '"ann" is already the name of api.tokens[1]' },
    ]);
    expect(apiTokensError({ tokens: [{ name: 'ann', token: 't', role: 'owner' }] })[0]?.path).toBe('api.tokens.0.role');
  });

  it('lets read list and show, write record, admin replay dead letters; refuses the rest with 403 naming the role, logged', async () => {
    const running = await start();
    const nc = await raiseNc();
    expect((await call(READER, `/nonconformities/${nc.id}`)).status).toBe(200);
    expect((await call(READER, `/nonconformities/${nc.id}/verify`)).status).toBe(200);

    const readerWrites = await call<ErrorJson>(READER, `/nonconformities/${nc.id}/comments`, { text: 'looked at it' });
    expect(readerWrites.status).toBe(403);
    expect(readerWrites.body.error).toMatchObject({ code: 'RECURD_ERR_FORBIDDEN', details: { needed: 'write', role: 'read' } });
    expect(readerWrites.body.error.message).toBe('POST /api/v1/nonconformities/:id/comments needs the role write; the token "reader" has the role read');
    for (const path of [`/nonconformities/${nc.id}/corrective-action`, `/nonconformities/${nc.id}/owner`, `/symptoms/${nc.fingerprint}/fix`]) {
      expect((await call(READER, path, {})).status).toBe(403);
    }

    const writerAdmin = await call<ErrorJson>(WRITER, '/dead-letters/all/replay', {});
    expect(writerAdmin.status).toBe(403);
    expect(writerAdmin.body.error.message).toContain('needs the role admin; the token "writer" has the role write');
    expect(await call(BOSS, '/dead-letters/all/replay', {})).toEqual({ status: 200, body: { replayed: [] } });
    const unknown = await call<ErrorJson>(BOSS, '/dead-letters/1-0/replay', {});
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'RECURD_ERR_NOT_FOUND' } } });
    expect((await call(BOSS, `/nonconformities/${nc.id}/comments`, { text: 'admin writes too' })).status).toBe(201);
    expect((await call<ErrorJson>('not-a-token', '/nonconformities')).status).toBe(401);

    // Any valid token, of any role, sees the connectors in /readyz.
    const ready = (await (await fetch(`${running.address}/readyz`, { headers: { authorization: `Bearer ${READER}` } })).json()) as Record<string, unknown>;
    expect(Object.keys(ready.connectors as object)).toEqual(['alertmanager', 'generic']);

    const refused = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === 'request-refused');
    expect(refused.filter((line) => line.reason === 'forbidden').map((line) => [line.status, line.actor, line.route])).toEqual([
      [403, 'reader', `/api/v1/nonconformities/${nc.id}/comments`],
      [403, 'reader', `/api/v1/nonconformities/${nc.id}/corrective-action`],
      [403, 'reader', `/api/v1/nonconformities/${nc.id}/owner`],
      [403, 'reader', `/api/v1/symptoms/${nc.fingerprint}/fix`],
      [403, 'writer', '/api/v1/dead-letters/all/replay'],
    ]);
    const log = lines.join('\n');
    for (const secret of [READER, WRITER, BOSS]) expect(log).not.toContain(secret);
    const metrics = await (await fetch(`${running.address}/metrics`)).text();
    expect(metrics).toContain('recurd_http_requests_refused_total{reason="forbidden"} 5');
  });

  it('records owner, due date, comments, attachments, a fix and a corrective action as new entries, each with its actor, and the chain holds', async () => {
    await start();
    const nc = await raiseNc();
    expect((await call(WRITER, `/symptoms/${nc.fingerprint}/fix`, {})).status).toBe(200);

    const first = await call<NcJson>(WRITER, `/nonconformities/${nc.id}/owner`, { owner: 'alice' });
    expect(first).toMatchObject({ status: 200, body: { owner: 'alice', dueDate: null } });
    expect((await call<NcJson>(BOSS, `/nonconformities/${nc.id}/owner`, { owner: 'bob' })).body.owner).toBe('bob');

    // A year ahead on the daemon's clock, the machine's next month has passed.
    const nextMonth = new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10);
    const past = await call<ErrorJson>(WRITER, `/nonconformities/${nc.id}/due-date`, { dueDate: nextMonth });
    expect(past.status).toBe(422);
    expect(past.body.error.code).toBe('RECURD_ERR_DATE_IN_PAST');
    const [problem] = past.body.error.details as Array<{ path: string; message: string }>;
    expect(problem?.path).toBe('dueDate');
    expect(problem?.message).toContain(`${nextMonth} is in the past`);
    const dueDate = new Date(Date.now() + AHEAD + 30 * DAY).toISOString().slice(0, 10);
    expect((await call<NcJson>(WRITER, `/nonconformities/${nc.id}/due-date`, { dueDate })).body.dueDate).toBe(dueDate);
    const notADate = await call<ErrorJson>(WRITER, `/nonconformities/${nc.id}/due-date`, { dueDate: 'soon' });
    expect(notADate.status).toBe(400);
    expect(notADate.body.error.message).toContain('dueDate:');

    expect((await call<NcJson>(WRITER, `/nonconformities/${nc.id}/comments`, { text: 'disk filled by a log storm' })).body.comments).toBe(1);
    const attached = await call<NcJson>(WRITER, `/nonconformities/${nc.id}/attachments`, { url: 'https://wiki.example/incident/42', sha256: SHA.toUpperCase(), name: 'incident report' });
    expect(attached).toMatchObject({ status: 201, body: { attachments: 1 } });
    expect((await call<NcJson>(WRITER, `/nonconformities/${nc.id}/attachments`, { path: '/srv/evidence/df.txt', sha256: SHA })).body.attachments).toBe(2);
    const both = await call<ErrorJson>(WRITER, `/nonconformities/${nc.id}/attachments`, { url: 'https://x.example/a', path: '/a', sha256: SHA });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toBe('attachment: url: give either url or path, not both and not neither');
    const badHash = await call<ErrorJson>(WRITER, `/nonconformities/${nc.id}/attachments`, { path: '/a', sha256: 'abc' });
    expect(badHash.body.error.message).toBe('attachment: sha256: must be the SHA-256 of the file, 64 hex characters');
    expect((await call<ErrorJson>(WRITER, '/nonconformities/NC-2099-0001/comments', { text: 'x' })).status).toBe(404);

    const pastAction = await call<ErrorJson>(WRITER, `/nonconformities/${nc.id}/corrective-action`, { action: 'added an alert on disk usage', owner: 'carol', dueDate: nextMonth });
    expect(pastAction).toMatchObject({ status: 422, body: { error: { code: 'RECURD_ERR_DATE_IN_PAST', details: [{ path: 'dueDate' }] } } });
    const action = await call<NcJson>(WRITER, `/nonconformities/${nc.id}/corrective-action`, { action: 'added an alert on disk usage', owner: 'carol' });
    expect(action).toMatchObject({ status: 200, body: { owner: 'carol', dueDate, correctiveAction: { actor: 'writer' } } });

    const shown = (await call<NcJson>(READER, `/nonconformities/${nc.id}`)).body;
    expect(shown).toMatchObject({ owner: 'carol', dueDate, comments: 1, attachments: 2 });
    const human = shown.timeline.filter((entry) => entry.type !== 'raised').map((entry) => [entry.type, entry.detail.actor]);
    expect(human).toEqual([
      ['fix-recorded', 'writer'],
      ['owner-changed', 'writer'],
      ['owner-changed', 'boss'],
      ['due-date-changed', 'writer'],
      ['comment', 'writer'],
      ['attachment', 'writer'],
      ['attachment', 'writer'],
      ['corrective-action', 'writer'],
    ]);
    const details = shown.timeline.map((entry) => entry.detail);
    expect(details.filter((detail) => 'owner' in detail && 'previous' in detail)).toEqual([
      { actor: 'writer', owner: 'alice', previous: null },
      { actor: 'boss', owner: 'bob', previous: 'alice' },
    ]);
    expect(details).toContainEqual({ actor: 'writer', dueDate, previous: null });
    expect(details).toContainEqual({ actor: 'writer', text: 'disk filled by a log storm' });
    expect(details).toContainEqual({ actor: 'writer', url: 'https://wiki.example/incident/42', sha256: SHA, name: 'incident report' });
    expect(details).toContainEqual({ actor: 'writer', path: '/srv/evidence/df.txt', sha256: SHA });

    const verified = await call<{ holds: boolean; checked: number; entries: number }>(READER, `/nonconformities/${nc.id}/verify`);
    expect(verified.body).toMatchObject({ holds: true, entries: shown.timeline.length, checked: shown.timeline.length });
  });
});
