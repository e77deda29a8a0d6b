/**
 * The probo notifier against a loopback Probo that validates every GraphQL request against Probo's
 * schema and FindingService rules (test/helpers/probo-api.ts): the finding an NC opens, its update
 * on each later event, the major finding a reopen raises, no second finding on redelivery or after
 * a lost answer, how each kind of refusal is classified, and a real daemon delivering to it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { NcEvent, NcEventType } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { ENDPOINT, proboNotifier, proboText, sourceOf } from '../../src/notifiers/probo.js';
import type { Notifier } from '../../src/notifiers/types.js';
import { OutboxCommands } from '../../src/outbox-commands.js';
import { dropPrefix, testPrefix } from '../../bench/programs/redis.js';
import { privateRedis } from '../helpers/suites.js';
import { api, eventually, raiseNc, runDaemon, testConfig } from '../helpers/daemon.js';
import { eventOf, lifeOf, notificationCount, servicesFor } from '../helpers/grc-events.js';
import { openNc, refusal } from '../helpers/nc.js';
import { proboFixture, proboId, startProboApi, type ProboApi } from '../helpers/probo-api.js';

type Services = ReturnType<typeof servicesFor>;

describe('probo notifier', () => {
  const redis = privateRedis();
  let prefix: string;
  let probo: ProboApi;
  let services: Services;

  function notifier(overrides: Record<string, unknown> = {}): Notifier {
    const config = proboNotifier.schema.parse({
      name: 'probo',
      type: 'probo',
      url: probo.url,
      token: probo.token,
      organizationId: probo.organizationId,
      owners: { ops: probo.people.ops },
      riskId: probo.riskId,
      ...overrides,
    });
    return proboNotifier.create(config, services);
  }

  beforeEach(async () => {
    prefix = testPrefix();
    probo = await startProboApi();
    services = servicesFor(redis.client, prefix);
  });
  afterEach(async () => {
    await probo.close();
    await dropPrefix(redis.client, prefix);
  });

  it('creates a minor nonconformity on nc.opened and links the NC to it', async () => {
    const nc = openNc();
    await notifier().deliver(eventOf('nc.opened', nc));

    expect(probo.problems).toEqual([]);
    expect(probo.operations()).toEqual(['RecurdRecentFindings', 'RecurdCreateFinding']);
    const [finding] = [...probo.findings.values()];
    expect(finding).toMatchObject({
      kind: 'MINOR_NONCONFORMITY',
      referenceId: 'FND-001',
      status: 'OPEN',
      priority: 'HIGH',
      source: 'recurd NC-2026-0042',
      identifiedOn: '2026-11-23T02:36:02.135Z',
      ownerId: null,
      dueDate: null,
      riskId: null,
    });
    expect(finding?.description).toContain('Nonconformity opened: NC-2026-0042 backup of db-1 failed: target volume full');
    expect(finding?.description).toContain('Control: A.8.13 Information backup · family backup · severity high');
    expect(finding?.description).toContain('https://recurd.example.org/ui/nc/NC-2026-0042');
    // Nothing to say before a corrective action: the fields are left out, not sent empty.
    expect(finding?.rootCause).toBeNull();
    expect(finding?.effectivenessCheck).toBeNull();
    const request = probo.to(`POST /api/console/v1/graphql`)[1];
    expect(request?.headers.authorization).toBe(`Bearer ${probo.token}`);
    expect(await services.links.get(nc.id, 'probo')).toEqual({
      notifier: 'probo',
      system: 'probo',
      key: finding?.id,
      url: `${probo.url}/organizations/${probo.organizationId}/governance/findings/${finding?.id}`,
      at: services.clock.now(),
    });
    expect(await services.links.ncOf('probo', finding?.id ?? '')).toBe(nc.id);
  });

  const later: Array<[NcEventType, Record<string, unknown>, (text: Record<string, string | null>) => void]> = [
    ['nc.occurrence', { status: 'OPEN', priority: 'HIGH' }, (finding) => expect(finding.description).toContain('Latest event: Symptom occurred again: NC-2026-0042')],
    [
      'nc.corrective-action',
      { status: 'MITIGATED', dueDate: '2026-12-15T00:00:00Z' },
      (finding) => {
        expect(finding.correctiveAction).toContain('moved the backup target to a monitored volume with 30% headroom');
        expect(finding.correctiveAction).toContain('Judged strong');
        expect(finding.rootCause).toBe('the target volume filled up unnoticed: no alert on its free space');
        expect(finding.effectivenessCheck).toMatch(/^Effectiveness window from 2026-11-23T04:36:02.135Z to 2026-12-23T04:36:02.135Z: the NC closes as verified effective/);
      },
    ],
    ['nc.verification-blocked', { status: 'MITIGATED' }, (finding) => expect(finding.effectivenessCheck).toBe('Verification blocked: BackupFailed did not report for 4d 2h (longest gap allowed: 1d 12h)')],
    ['nc.verified-effective', { status: 'CLOSED' }, (finding) => expect(finding.effectivenessCheck).toMatch(/^Verified effective on 2026-12-23T04:36:02.135Z: no recurrence .*; 30 healthy reports of BackupFailed/)],
    ['nc.overdue', { status: 'MITIGATED' }, (finding) => expect(finding.description).toContain('Latest event: Corrective action overdue: NC-2026-0042')],
    ['nc.voided', { status: 'FALSE_POSITIVE' }, (finding) => expect(finding.description).toContain('auditor declared NC-2026-0042 void (test-data): restore drill on the staging copy')],
    ['nc.risk-accepted', { status: 'RISK_ACCEPTED' }, (finding) => expect(finding.riskId).not.toBeNull()],
    ['nc.risk-expired', { status: 'OPEN' }, (finding) => expect(finding.description).toContain('Latest event: Risk acceptance expired')],
  ];

  it.each(later)('updates the same finding on %s', async (type, expected, check) => {
    const life = lifeOf();
    const probo_ = notifier();
    await probo_.deliver(eventOf('nc.opened', life['nc.opened']));
    await probo_.deliver(eventOf(type, life[type]));

    expect(probo.problems).toEqual([]);
    expect(probo.operations()).toEqual(['RecurdRecentFindings', 'RecurdCreateFinding', 'RecurdUpdateFinding']);
    expect(probo.findings.size).toBe(1);
    const [finding] = [...probo.findings.values()];
    expect(finding).toMatchObject(expected);
    check(finding as unknown as Record<string, string | null>);
    if (type === 'nc.corrective-action') expect(finding?.ownerId).toBe(probo.people.ops);
    if (type === 'nc.risk-accepted') expect(finding?.riskId).toBe(probo.riskId);
  });

  it('without a riskId keeps a risk-accepted NC OPEN, and refuses a RISK_ACCEPTED mapping with the field named', async () => {
    const life = lifeOf();
    const plain = notifier({ riskId: undefined });
    await plain.deliver(eventOf('nc.opened', life['nc.opened']));
    await plain.deliver(eventOf('nc.risk-accepted', life['nc.risk-accepted']));
    expect(probo.problems).toEqual([]);
    expect([...probo.findings.values()][0]).toMatchObject({ status: 'OPEN', riskId: null });

    const result = proboNotifier.schema.safeParse({ name: 'p', type: 'probo', url: probo.url, token: 't', organizationId: probo.organizationId, statuses: { void: 'RISK_ACCEPTED' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(['statuses.void: is RISK_ACCEPTED, which Probo accepts only with a risk: give riskId too']);
  });

  it('refuses ids of the wrong kind, and the endpoint given as the address, when the config is read', () => {
    const result = configSchema.safeParse({
      redis: { url: 'redis://127.0.0.1:6379' },
      api: { token: 't' },
      notifiers: [{ name: 'probo', type: 'probo', url: 'https://us.probo.com', token: 't', organizationId: proboId('profile'), ownerId: proboId('organization'), owners: { ops: 'ops@example.org' } }],
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(issues).toEqual(['notifiers.0.organizationId', 'notifiers.0.ownerId', 'notifiers.0.owners.ops']);
    expect(result.error?.issues[0]?.message).toMatch(/^is not the id of a Probo organization/);
    const endpoint = proboNotifier.schema.safeParse({ name: 'p', type: 'probo', url: 'https://us.probo.com/api/console/v1/graphql', token: 't', organizationId: proboId('organization') });
    expect(endpoint.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(["url: is Probo's address without the API's path: recurd adds /api/console/v1/graphql"]);
  });

  it('raises a major nonconformity when a reopen proves the correction ineffective, closes the minor one, and does it once', async () => {
    const life = lifeOf();
    const probo_ = notifier();
    await probo_.deliver(eventOf('nc.opened', life['nc.opened']));
    await probo_.deliver(eventOf('nc.corrective-action', life['nc.corrective-action']));
    const reopened = eventOf('nc.reopened', life['nc.reopened']);
    await probo_.deliver(reopened);

    expect(probo.problems).toEqual([]);
    const [minor, major] = [...probo.findings.values()];
    expect(major).toMatchObject({ kind: 'MAJOR_NONCONFORMITY', referenceId: 'FND-002', status: 'OPEN', priority: 'HIGH', source: sourceOf(life['nc.reopened']) });
    expect(major?.description).toContain('Follows up FND-001 (MINOR_NONCONFORMITY): its corrective action did not prevent the recurrence');
    expect(major?.effectivenessCheck).toBe('Ineffective: the symptom recurred on 2026-11-28T02:36:02.135Z after the corrective action recorded on 2026-11-23T04:36:02.135Z.');
    expect(minor).toMatchObject({ kind: 'MINOR_NONCONFORMITY', status: 'CLOSED', effectivenessCheck: 'Ineffective: the symptom recurred on 2026-11-28T02:36:02.135Z; followed up as FND-002 (MAJOR_NONCONFORMITY).' });
    expect((await services.links.get('NC-2026-0042', 'probo'))?.key).toBe(major?.id);

    // Redelivered, the reopen finds the major finding linked: it updates it, nothing new.
    await probo_.deliver(reopened);
    await probo_.deliver(eventOf('nc.occurrence', { ...life['nc.reopened'], occurrences: 5 }));
    expect(probo.findings.size).toBe(2);
    expect(probo.operations().slice(-3)).toEqual(['RecurdFinding', 'RecurdUpdateFinding', 'RecurdUpdateFinding']);
    expect(probo.problems).toEqual([]);
  });

  it('leaves the newer state in the finding when an older event comes after it, but still raises the major finding of a late reopen', async () => {
    const life = lifeOf();
    const probo_ = notifier();
    await probo_.deliver(eventOf('nc.opened', life['nc.opened']));
    await probo_.deliver(eventOf('nc.corrective-action', life['nc.corrective-action']));
    await probo_.deliver(eventOf('nc.occurrence', life['nc.occurrence']), { superseded: true });
    expect([...probo.findings.values()][0]).toMatchObject({ status: 'MITIGATED', rootCause: 'the target volume filled up unnoticed: no alert on its free space' });
    expect(probo.operations()).toEqual(['RecurdRecentFindings', 'RecurdCreateFinding', 'RecurdUpdateFinding']);

    await probo_.deliver(eventOf('nc.reopened', life['nc.reopened']), { superseded: true });
    expect([...probo.findings.values()].map((finding) => [finding.kind, finding.status])).toEqual([
      ['MINOR_NONCONFORMITY', 'CLOSED'],
      ['MAJOR_NONCONFORMITY', 'OPEN'],
    ]);
    expect(probo.problems).toEqual([]);
  });

  it('keeps one finding through a reopen when kinds.reopened is the opened kind', async () => {
    const life = lifeOf();
    const probo_ = notifier({ kinds: { reopened: 'MINOR_NONCONFORMITY' } });
    await probo_.deliver(eventOf('nc.opened', life['nc.opened']));
    await probo_.deliver(eventOf('nc.reopened', life['nc.reopened']));
    expect(probo.findings.size).toBe(1);
    expect([...probo.findings.values()][0]).toMatchObject({ kind: 'MINOR_NONCONFORMITY', status: 'OPEN', priority: 'HIGH' });
    expect(probo.operations()).toEqual(['RecurdRecentFindings', 'RecurdCreateFinding', 'RecurdUpdateFinding']);
  });

  it('does not create a second finding when nc.opened is delivered again', async () => {
    const opened = eventOf('nc.opened', openNc());
    const probo_ = notifier();
    await probo_.deliver(opened);
    await probo_.deliver(opened);
    expect(probo.findings.size).toBe(1);
    expect(probo.operations()).toEqual(['RecurdRecentFindings', 'RecurdCreateFinding', 'RecurdUpdateFinding']);
  });

  it('finds the finding of a create whose answer was lost instead of making another', async () => {
    const opened = eventOf('nc.opened', openNc());
    const probo_ = notifier();
    probo.loseNextCreateAnswer();
    const lost = await refusal(probo_.deliver(opened));
    expect(lost.retryable).toBe(true);
    expect(lost.message).toContain('answered 504');
    expect(probo.findings.size).toBe(1);
    expect(await services.links.get('NC-2026-0042', 'probo')).toBeNull();

    await probo_.deliver(opened);
    expect(probo.findings.size).toBe(1);
    expect((await services.links.get('NC-2026-0042', 'probo'))?.key).toBe([...probo.findings.keys()][0]);
    expect(probo.operations()).toEqual(['RecurdRecentFindings', 'RecurdCreateFinding', 'RecurdRecentFindings']);
  });

  it('makes a later event wait, retryably, while the NC has no finding yet', async () => {
    const life = lifeOf();
    const error = await refusal(notifier().deliver(eventOf('nc.occurrence', life['nc.occurrence'])));
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('probo: NC-2026-0042 has no Probo finding yet: nc.occurrence waits for nc.opened to create it');
    expect(probo.requests).toEqual([]);
  });

  it('sends text that Probo accepts whatever the alert said: tags, tabs, invisible characters, great length', async () => {
    const nc = openNc({ title: 'backup\tfailed <script>alert(1)</script>\u200b on db-1', reason: `disk full ${'x'.repeat(6000)}` });
    await notifier().deliver(eventOf('nc.opened', nc));
    expect(probo.problems).toEqual([]);
    const [finding] = [...probo.findings.values()];
    expect(finding?.description).toContain('backup failed < script>alert(1)< /script> on db-1');
    expect(Buffer.byteLength(finding?.description ?? '')).toBeLessThanOrEqual(5000);
    expect(finding?.description?.endsWith('…')).toBe(true);
    expect(proboText('a <b>tag</b>')).toBe('a < b>tag< /b>');
    expect(proboText(' \t ')).toBeNull();
    // The fake applies Probo's own rule: the same text uncleaned is refused.
    const raw = await fetch(`${probo.url}${ENDPOINT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${probo.token}` },
      body: JSON.stringify({
        query: 'mutation ($input: CreateFindingInput!) { createFinding(input: $input) { findingEdge { node { id } } } }',
        variables: { input: { organizationId: probo.organizationId, kind: 'MINOR_NONCONFORMITY', status: 'OPEN', priority: 'LOW', description: nc.title } },
      }),
    });
    expect(await raw.json()).toMatchObject({ errors: [{ message: 'description must not contain HTML tags', extensions: { code: 'INVALID', field: 'description' } }] });
  });

  describe('refusals', () => {
    const opened = (): NcEvent => eventOf('nc.opened', openNc());

    it('a wrong API key: 401 UNAUTHENTICATED, not retried, and says to check the token', async () => {
      const error = await refusal(notifier({ token: 'not-the-key' }).deliver(opened()));
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        'probo: Probo answered the search for earlier findings with 401: authentication is required to access this resource (UNAUTHENTICATED): is `token` a valid, unexpired Probo API key?',
      );
    });

    it('a wrong address: 404, not retried', async () => {
      probo.queue('POST /api/console/v1/graphql', { status: 404, body: proboFixture('not-found.404.json') });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('answered 404: {"error":"not found"}');
    });

    it('429 with Retry-After: retried when it asks', async () => {
      probo.queue('POST /api/console/v1/graphql', { status: 429, headers: { 'retry-after': '30' } });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBe(30_000);
    });

    it('500 INTERNAL: retried, with what Probo said', async () => {
      probo.queue('POST /api/console/v1/graphql', { status: 500, body: proboFixture('error-internal.500.json') });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(true);
      expect(error.message).toBe('probo: Probo answered the search for earlier findings with 500: An internal server error occurred. Please try again later. (INTERNAL)');
    });

    it('200 with INTERNAL in errors[]: retried', async () => {
      const probo_ = notifier();
      probo.queue('POST /api/console/v1/graphql', { status: 200, body: { data: { node: { __typename: 'Organization', findings: { edges: [] } } } } }, { status: 200, body: proboFixture('error-internal-create.200.json') });
      const error = await refusal(probo_.deliver(opened()));
      expect(error.retryable).toBe(true);
      expect(error.message).toBe('probo: Probo refused createFinding: An internal server error occurred. Please try again later. (INTERNAL)');
    });

    it('200 with INVALID in errors[]: not retried, and the field is named', async () => {
      probo.queue('POST /api/console/v1/graphql', { status: 200, body: { data: { node: { __typename: 'Organization', findings: { edges: [] } } } } }, { status: 200, body: proboFixture('error-invalid-description.200.json') });
      const error = await refusal(notifier().deliver(opened()));
      expect(error.retryable).toBe(false);
      expect(error.message).toBe('probo: Probo refused createFinding: description must not contain HTML tags (INVALID, field description)');
    });

    it('200 with NOT_FOUND when the linked finding was deleted in Probo: not retried', async () => {
      const life = lifeOf();
      const probo_ = notifier();
      await probo_.deliver(eventOf('nc.opened', life['nc.opened']));
      probo.findings.clear();
      const error = await refusal(probo_.deliver(eventOf('nc.occurrence', life['nc.occurrence'])));
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/^probo: Probo refused updateFinding of NC-2026-0042's finding \S+: resource not found \(NOT_FOUND\): was it deleted in Probo/);
      expect(probo.problems).toEqual([]);
    });

    it('an owner that is no person in the organisation: Probo answers INTERNAL, retried', async () => {
      const life = lifeOf();
      const probo_ = notifier({ owners: { ops: proboId('profile') } });
      await probo_.deliver(eventOf('nc.opened', life['nc.opened']));
      const error = await refusal(probo_.deliver(eventOf('nc.corrective-action', life['nc.corrective-action'])));
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('(INTERNAL)');
    });
  });

  describe('through a daemon', () => {
    let daemon: Daemon | undefined;
    afterEach(async () => {
      await daemon?.stop();
      daemon = undefined;
    });

    it('opens a finding for an NC raised from Alertmanager, shows it on the NC, and updates it on a corrective action', async () => {
      daemon = await runDaemon(
        testConfig(redis.url, prefix, {
          policy: { window: '3650d', maxLateness: '3650d' },
          notifiers: [{ name: 'register', type: 'probo', url: probo.url, token: probo.token, organizationId: probo.organizationId, owners: { ops: probo.people.ops }, backoff: '100ms' }],
        }),
      );
      const ncId = await raiseNc(daemon);
      const finding = await eventually(() => [...probo.findings.values()].find((candidate) => candidate.source === `recurd ${ncId}`), 10_000, 'the finding in Probo');
      expect(finding).toMatchObject({ kind: 'MINOR_NONCONFORMITY', status: 'OPEN' });
      await eventually(async () => ((await notificationCount(daemon as Daemon, 'register', 'delivered')) === 1 ? true : undefined), 10_000, 'the delivery to be counted');

      const { body } = await api<{ tickets: unknown[] }>(daemon.address, `/api/v1/nonconformities/${ncId}`);
      expect(body.tickets).toEqual([
        { notifier: 'register', system: 'probo', key: finding.id, url: `${probo.url}/organizations/${probo.organizationId}/governance/findings/${finding.id}`, at: expect.stringMatching(/^\d{4}-/) as unknown },
      ]);

      const action = await api(daemon.address, `/api/v1/nonconformities/${ncId}/corrective-action`, {
        method: 'POST',
        body: JSON.stringify({ action: 'replace the failing backup disk', owner: 'ops', rootCause: 'disk worn out' }),
      });
      expect(action.status).toBe(200);
      await eventually(() => (finding.status === 'MITIGATED' ? true : undefined), 10_000, 'the finding to be MITIGATED');
      expect(finding).toMatchObject({ correctiveAction: expect.stringContaining('replace the failing backup disk') as unknown, rootCause: 'disk worn out', ownerId: probo.people.ops });
      await eventually(async () => ((await notificationCount(daemon as Daemon, 'register', 'delivered')) === 2 ? true : undefined), 10_000, 'the second delivery to be counted');
      expect(probo.findings.size).toBe(1);
      expect(probo.problems).toEqual([]);
    });

    it('does not put an older state back into the finding when a delivery given up is retried after a newer one', async () => {
      const config = testConfig(redis.url, prefix, {
        policy: { window: '3650d', maxLateness: '3650d' },
        notifiers: [{ name: 'register', type: 'probo', url: probo.url, token: probo.token, organizationId: probo.organizationId, owners: { ops: probo.people.ops }, backoff: '100ms' }],
      });
      daemon = await runDaemon(config);
      const running = daemon;
      const ncId = await raiseNc(running);
      const finding = await eventually(() => [...probo.findings.values()].find((candidate) => candidate.source === `recurd ${ncId}`), 10_000, 'the finding in Probo');
      await eventually(async () => ((await notificationCount(running, 'register', 'delivered')) === 1 ? true : undefined), 10_000, 'the delivery to be counted');

      // The corrective action's delivery is refused for good (a 404 is not retried)…
      probo.queue('POST /api/console/v1/graphql', { status: 404, body: proboFixture('not-found.404.json') });
      const acted = await api(running.address, `/api/v1/nonconformities/${ncId}/corrective-action`, {
        method: 'POST',
        body: JSON.stringify({ action: 'replace the failing backup disk', owner: 'ops', rootCause: 'disk worn out' }),
      });
      expect(acted.status).toBe(200);
      const outbox = new OutboxCommands(config, redis.client);
      try {
        const [failed] = await eventually(async () => ((await outbox.list()).length === 1 ? outbox.list() : undefined), 10_000, 'the failed delivery');
        // …the NC is voided and that is delivered…
        expect((await api(running.address, `/api/v1/nonconformities/${ncId}/void`, { method: 'POST', body: JSON.stringify({ reason: 'test-data', note: 'a restore drill' }) })).status).toBe(200);
        await eventually(() => (finding.status === 'FALSE_POSITIVE' ? true : undefined), 10_000, 'the finding to be FALSE_POSITIVE');
        await eventually(async () => ((await notificationCount(running, 'register', 'delivered')) === 2 ? true : undefined), 10_000, 'the void to be counted');
        const updates = probo.operations().filter((operation) => operation === 'RecurdUpdateFinding').length;
        // …and the corrective action, retried once Probo is back, leaves the newer state alone.
        expect(await outbox.retry(failed?.id ?? '')).toEqual([failed?.id]);
        await eventually(async () => ((await notificationCount(running, 'register', 'delivered')) === 3 ? true : undefined), 10_000, 'the retried delivery');
        expect(finding.status).toBe('FALSE_POSITIVE');
        expect(probo.operations().filter((operation) => operation === 'RecurdUpdateFinding')).toHaveLength(updates);
        expect(probo.problems).toEqual([]);
      } finally {
        await outbox.close();
      }
    });
  });
});
