/**
 * The ciso-assistant notifier against a loopback CISO Assistant whose request shapes come from its
 * Finding model and write serializer (test/helpers/ciso-assistant-api.ts): the finding an NC opens
 * in the follow-up, the PATCH of each later event, no second finding on redelivery or after a lost
 * answer, DRF's refusals named by field, and a real daemon delivering to it.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { NcEvent, NcEventType } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { cisoAssistantNotifier, fieldErrors, findingName } from '../../src/notifiers/ciso-assistant.js';
import type { Notifier } from '../../src/notifiers/types.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';
import { cisoFixture, findingModel, startCisoAssistantApi, type CisoAssistantApi } from '../helpers/ciso-assistant-api.js';
import { api, eventually, raiseNc, runDaemon, testConfig } from '../helpers/daemon.js';
import { eventOf, lifeOf, notificationCount, servicesFor } from '../helpers/grc-events.js';
import { openNc, refusal } from '../helpers/nc.js';

type Services = ReturnType<typeof servicesFor>;

describe('ciso-assistant notifier', () => {
  const redis = privateRedis();
  let prefix: string;
  let ciso: CisoAssistantApi;
  let services: Services;

  function notifier(overrides: Record<string, unknown> = {}): Notifier {
    const config = cisoAssistantNotifier.schema.parse({
      name: 'ciso',
      type: 'ciso-assistant',
      url: ciso.url,
      token: ciso.token,
      findingsAssessment: ciso.findingsAssessment,
      owners: { ops: ciso.actors.ops },
      ...overrides,
    });
    return cisoAssistantNotifier.create(config, services);
  }

  const onlyFinding = () => {
    expect(ciso.findings.size).toBe(1);
    return [...ciso.findings.values()][0] as NonNullable<ReturnType<typeof ciso.findings.get>>;
  };

  beforeEach(async () => {
    prefix = testPrefix();
    ciso = await startCisoAssistantApi();
    services = servicesFor(redis.client, prefix);
  });
  afterEach(async () => {
    await ciso.close();
    await dropPrefix(redis.client, prefix);
  });

  it('reads the choices it maps to from CISO Assistant’s own model', () => {
    const model = findingModel();
    expect(model.statuses).toEqual(['--', 'identified', 'confirmed', 'dismissed', 'assigned', 'in_progress', 'mitigated', 'resolved', 'closed', 'deprecated']);
    expect(model.severities).toEqual([-1, 0, 1, 2, 3, 4]);
    expect(model.priorities).toEqual([1, 2, 3, 4]);
    expect(model.excluded).toEqual(['created_at', 'updated_at', 'folder']);
    expect(model.fields.get('name')).toMatchObject({ type: 'CharField', maxLength: 200, nullable: false });
    expect(model.fields.get('owner')).toMatchObject({ type: 'ManyToManyField' });
  });

  it('creates the finding in the follow-up on nc.opened, with the NC id as ref_id, and links the NC to it', async () => {
    const nc = openNc();
    await notifier().deliver(eventOf('nc.opened', nc));

    expect(ciso.problems).toEqual([]);
    expect(ciso.requests.map((request) => `${request.method} ${request.path}?${request.query.toString()}`)).toEqual([
      `GET /api/findings/?findings_assessment=${ciso.findingsAssessment}&search=NC-2026-0042`,
      'POST /api/findings/?',
    ]);
    const post = ciso.to('POST /api/findings/')[0];
    expect(post?.headers.authorization).toBe(`Token ${ciso.token}`);
    // No observation yet, no owner and no due date: absent, not sent empty.
    expect(Object.keys(post?.json as object).sort()).toEqual(['description', 'findings_assessment', 'name', 'priority', 'ref_id', 'severity', 'status']);
    const finding = onlyFinding();
    expect(finding).toMatchObject({
      name: 'NC-2026-0042 backup of db-1 failed: target volume full',
      ref_id: 'NC-2026-0042',
      findings_assessment: ciso.findingsAssessment,
      status: 'confirmed',
      severity: 3,
      priority: 2,
      owner: [],
    });
    expect(finding.description).toContain('A symptom that was fixed came back inside its effectiveness window');
    expect(finding.description).toContain('Control: A.8.13 Information backup');
    expect(await services.links.get(nc.id, 'ciso')).toEqual({ notifier: 'ciso', system: 'ciso-assistant', key: finding.id, url: `${ciso.url}/findings/${finding.id}`, at: services.clock.now() });
  });

  const later: Array<[NcEventType, Record<string, unknown>, (finding: Record<string, unknown>) => void]> = [
    ['nc.occurrence', { status: 'confirmed', severity: 3 }, (finding) => expect(finding.observation).toMatch(/^Symptom occurred again: NC-2026-0042/)],
    [
      'nc.corrective-action',
      { status: 'mitigated', due_date: '2026-12-15' },
      (finding) => {
        expect(finding.observation).toContain('Root cause:\nthe target volume filled up unnoticed: no alert on its free space');
        expect(finding.observation).toContain('Corrective action:\nmoved the backup target to a monitored volume with 30% headroom');
        expect(finding.observation).toContain('Effectiveness:\nEffectiveness window from 2026-11-23T04:36:02.135Z to 2026-12-23T04:36:02.135Z');
      },
    ],
    ['nc.verification-blocked', { status: 'mitigated' }, (finding) => expect(finding.observation).toContain('Verification blocked: BackupFailed did not report')],
    ['nc.reopened', { status: 'confirmed', severity: 4, priority: 1 }, (finding) => expect(finding.observation).toContain('Ineffective: the symptom recurred on 2026-11-28T02:36:02.135Z')],
    ['nc.verified-effective', { status: 'closed' }, (finding) => expect(finding.observation).toContain('Verified effective on 2026-12-23T04:36:02.135Z')],
    ['nc.overdue', { status: 'mitigated' }, (finding) => expect(finding.observation).toMatch(/^Corrective action overdue: NC-2026-0042/)],
    ['nc.voided', { status: 'dismissed' }, (finding) => expect(finding.observation).toContain('auditor declared NC-2026-0042 void (test-data): restore drill on the staging copy')],
    ['nc.risk-accepted', { status: 'dismissed' }, (finding) => expect(finding.observation).toContain('ciso accepted the risk of NC-2026-0042 until 2027-01-22T02:36:02.135Z: legacy host retired in Q1')],
    ['nc.risk-expired', { status: 'confirmed' }, (finding) => expect(finding.observation).toMatch(/^Risk acceptance expired: NC-2026-0042/)],
  ];

  it.each(later)('PATCHes the same finding on %s', async (type, expected, check) => {
    const life = lifeOf();
    const ciso_ = notifier();
    await ciso_.deliver(eventOf('nc.opened', life['nc.opened']));
    await ciso_.deliver(eventOf(type, life[type]));

    expect(ciso.problems).toEqual([]);
    const finding = onlyFinding();
    expect(ciso.requests.map((request) => request.method)).toEqual(['GET', 'POST', 'PATCH']);
    expect(ciso.to('PATCH /api/findings/:id/')[0]?.params.id).toBe(finding.id);
    // A PATCH leaves what CISO Assistant owns alone: the follow-up, the name someone may have edited.
    expect(Object.keys(ciso.to('PATCH /api/findings/:id/')[0]?.json as object)).not.toContain('findings_assessment');
    expect(finding).toMatchObject(expected);
    check(finding);
    if (type === 'nc.corrective-action') expect(finding.owner).toEqual([ciso.actors.ops]);
  });

  it('leaves the newer state in the finding when an older event comes after it', async () => {
    const life = lifeOf();
    const ciso_ = notifier();
    await ciso_.deliver(eventOf('nc.opened', life['nc.opened']));
    await ciso_.deliver(eventOf('nc.corrective-action', life['nc.corrective-action']));
    const acted = structuredClone(onlyFinding());
    await ciso_.deliver(eventOf('nc.occurrence', life['nc.occurrence']), { superseded: true });
    expect(onlyFinding()).toEqual(acted);
    expect(ciso.requests.map((request) => request.method)).toEqual(['GET', 'POST', 'PATCH']);
  });

  it('does not create a second finding when nc.opened is delivered again', async () => {
    const opened = eventOf('nc.opened', openNc());
    const ciso_ = notifier();
    await ciso_.deliver(opened);
    await ciso_.deliver(opened);
    onlyFinding();
    expect(ciso.requests.map((request) => request.method)).toEqual(['GET', 'POST', 'PATCH']);
  });

  it('finds the finding of a create whose answer was lost instead of making another', async () => {
    const opened = eventOf('nc.opened', openNc());
    const ciso_ = notifier();
    ciso.loseNextCreateAnswer();
    const lost = await refusal(ciso_.deliver(opened));
    expect(lost.retryable).toBe(true);
    expect(await services.links.get('NC-2026-0042', 'ciso')).toBeNull();

    await ciso_.deliver(opened);
    const finding = onlyFinding();
    expect((await services.links.get('NC-2026-0042', 'ciso'))?.key).toBe(finding.id);
    expect(ciso.requests.map((request) => request.method)).toEqual(['GET', 'POST', 'GET']);
    // The search matched on ref_id, not on a name that merely contains the NC id.
    expect(ciso.problems).toEqual([]);
  });

  it('does not take another NC’s finding whose name contains this NC’s id', async () => {
    const ciso_ = notifier();
    await ciso_.deliver(eventOf('nc.opened', openNc({ id: 'NC-2026-00420', title: 'other' })));
    await ciso_.deliver(eventOf('nc.opened', openNc()));
    expect(ciso.findings.size).toBe(2);
    expect([...ciso.findings.values()].map((finding) => finding.ref_id)).toEqual(['NC-2026-00420', 'NC-2026-0042']);
  });

  it('makes a later event wait, retryably, while the NC has no finding yet', async () => {
    const life = lifeOf();
    const error = await refusal(notifier().deliver(eventOf('nc.corrective-action', life['nc.corrective-action'])));
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('ciso: NC-2026-0042 has no CISO Assistant finding yet: nc.corrective-action waits for nc.opened to create it');
    expect(ciso.requests).toEqual([]);
  });

  it('keeps a long title within the name field and NUL characters out of the text', async () => {
    const nc = openNc({ title: `disk\u0000 full ${'é'.repeat(300)}` });
    await notifier().deliver(eventOf('nc.opened', nc));
    expect(ciso.problems).toEqual([]);
    const finding = onlyFinding();
    expect([...finding.name].length).toBe(200);
    expect(finding.name.endsWith('…')).toBe(true);
    expect(finding.description).not.toContain('\u0000');
    expect(findingName({ id: 'NC-1', title: 'a\n  b' })).toBe('NC-1 a b');
  });

  it('refuses a follow-up id or an owner that is not a UUID, and an address with /api, when the config is read', () => {
    const result = configSchema.safeParse({
      redis: { url: 'redis://127.0.0.1:6379' },
      api: { token: 't' },
      notifiers: [{ name: 'ciso', type: 'ciso-assistant', url: 'https://ciso.example.org', token: 't', findingsAssessment: 'Q4 audit', owners: { ops: 'ops@example.org' }, statuses: { closed: 'done' } }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['notifiers.0.findingsAssessment', 'notifiers.0.owners.ops', 'notifiers.0.statuses.closed']);
    const withApi = cisoAssistantNotifier.schema.safeParse({ name: 'c', type: 'ciso-assistant', url: 'https://ciso.example.org/api', token: 't', findingsAssessment: ciso.findingsAssessment });
    expect(withApi.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(["url: is CISO Assistant's address without /api: recurd adds /api/findings/"]);
  });

  describe('refusals', () => {
    const opened = (): NcEvent => eventOf('nc.opened', openNc());

    it('DRF 400 {field: [messages]}: not retried, and the field is named', async () => {
      ciso.queue('POST /api/findings/', { status: 400, body: cisoFixture('error-invalid-choice.400.json') });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(false);
      expect(error.message).toBe('ciso: CISO Assistant refused the finding of NC-2026-0042: status: "reopened" is not a valid choice.');
    });

    it('an owner that is no actor: 400 naming owner, not retried', async () => {
      const life = lifeOf();
      const ciso_ = notifier({ owners: { ops: '5d9c3a7e-0b1f-4c2d-9e8a-6f7b1c2d3e4f' } });
      await ciso_.deliver(eventOf('nc.opened', life['nc.opened']));
      const error = await refusal(ciso_.deliver(eventOf('nc.corrective-action', life['nc.corrective-action'])));
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/^ciso: CISO Assistant refused the finding of NC-2026-0042 \(\S+\): owner: Invalid pk "5d9c3a7e-0b1f-4c2d-9e8a-6f7b1c2d3e4f" - object does not exist\.$/);
      expect(ciso.problems).toEqual([]);
    });

    it('a locked follow-up: 400 non_field_errors, not retried', async () => {
      const life = lifeOf();
      const ciso_ = notifier();
      await ciso_.deliver(eventOf('nc.opened', life['nc.opened']));
      ciso.lock();
      const error = await refusal(ciso_.deliver(eventOf('nc.occurrence', life['nc.occurrence'])));
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('non_field_errors: ⚠️ Cannot modify the finding when the findings assessment is locked.');
    });

    it('a wrong token: 401, not retried, and says to check the token', async () => {
      const error = await refusal(notifier({ token: 'f'.repeat(64) }).deliver(opened()));
      expect(error.retryable).toBe(false);
      expect(error.message).toBe('ciso: CISO Assistant answered 401 to the search for NC-2026-0042 in the follow-up: Invalid token. (is `token` a valid, unexpired personal access token?)');
    });

    it('the finding deleted in CISO Assistant: 404, not retried', async () => {
      const life = lifeOf();
      const ciso_ = notifier();
      await ciso_.deliver(eventOf('nc.opened', life['nc.opened']));
      ciso.findings.clear();
      const error = await refusal(ciso_.deliver(eventOf('nc.occurrence', life['nc.occurrence'])));
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/answered 404 to the finding of NC-2026-0042 \(\S+\): No Finding matches the given query\. \(was the finding deleted in CISO Assistant\?\)$/);
    });

    it('429 with Retry-After: retried when it asks', async () => {
      ciso.queue('GET /api/findings/', { status: 429, headers: { 'retry-after': '30' }, body: cisoFixture('error-throttled.429.json') });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBe(30_000);
      expect(error.message).toContain('Request was throttled. Expected available in 30 seconds.');
    });

    it('500: retried', async () => {
      ciso.queue('POST /api/findings/', { status: 500, headers: { 'content-type': 'text/html' }, body: readFileSync(new URL('../fixtures/ciso-assistant/server-error.500.html', import.meta.url), 'utf8') });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('answered 500 to the finding of NC-2026-0042: <!doctype html>');
    });

    it('reads DRF error bodies of every shape', () => {
      expect(fieldErrors({ findings_assessment: 'mandatory' })).toBe('findings_assessment: mandatory');
      expect(fieldErrors({ detail: 'Not found.' })).toBe('Not found.');
      expect(fieldErrors({ name: ['This field is required.'], ref_id: ['Ensure this field has no more than 100 characters.'] })).toBe(
        'name: This field is required.; ref_id: Ensure this field has no more than 100 characters.',
      );
      expect(fieldErrors('<html>')).toBeNull();
    });
  });

  describe('through a daemon', () => {
    let daemon: Daemon | undefined;
    afterEach(async () => {
      await daemon?.stop();
      daemon = undefined;
    });

    it('opens a finding for an NC raised from Alertmanager, shows it on the NC, and PATCHes it on a corrective action', async () => {
      daemon = await runDaemon(
        testConfig(redis.url, prefix, {
          policy: { window: '3650d', maxLateness: '3650d' },
          notifiers: [{ name: 'grc', type: 'ciso-assistant', url: ciso.url, token: ciso.token, findingsAssessment: ciso.findingsAssessment, owners: { ops: ciso.actors.ops }, backoff: '100ms' }],
        }),
      );
      const ncId = await raiseNc(daemon);
      const finding = await eventually(() => [...ciso.findings.values()].find((candidate) => candidate.ref_id === ncId), 10_000, 'the finding in CISO Assistant');
      expect(finding).toMatchObject({ status: 'confirmed', findings_assessment: ciso.findingsAssessment });
      await eventually(async () => ((await notificationCount(daemon as Daemon, 'grc', 'delivered')) === 1 ? true : undefined), 10_000, 'the delivery to be counted');

      const { body } = await api<{ tickets: unknown[] }>(daemon.address, `/api/v1/nonconformities/${ncId}`);
      expect(body.tickets).toEqual([{ notifier: 'grc', system: 'ciso-assistant', key: finding.id, url: `${ciso.url}/findings/${finding.id}`, at: expect.stringMatching(/^\d{4}-/) as unknown }]);

      const action = await api(daemon.address, `/api/v1/nonconformities/${ncId}/corrective-action`, {
        method: 'POST',
        body: JSON.stringify({ action: 'replace the failing backup disk', owner: 'ops', rootCause: 'disk worn out' }),
      });
      expect(action.status).toBe(200);
      await eventually(() => (finding.status === 'mitigated' ? true : undefined), 10_000, 'the finding to be mitigated');
      expect(finding.owner).toEqual([ciso.actors.ops]);
      expect(finding.observation).toContain('Corrective action:\nreplace the failing backup disk');
      await eventually(async () => ((await notificationCount(daemon as Daemon, 'grc', 'delivered')) === 2 ? true : undefined), 10_000, 'the second delivery to be counted');
      expect(ciso.findings.size).toBe(1);
      expect(ciso.problems).toEqual([]);
    });
  });
});
