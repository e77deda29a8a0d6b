/**
 * The email notifier against a real SMTP server on loopback (smtp-server with STARTTLS or implicit
 * TLS, a self-signed certificate and a required login), each message parsed with mailparser: what
 * the message says and how it threads, which SMTP failures are retried, TLS trust, the config's
 * checks, and one delivery through a running daemon.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressObject } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../../bench/programs/redis.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { systemClock } from '../../src/core/clock.js';
import type { NcEvent, NcEventType, Nonconformity } from '../../src/core/types.js';
import type { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import { emailNotifier, eventMessageId } from '../../src/notifiers/email.js';
import { DeliveryError, type Notifier } from '../../src/notifiers/types.js';
import { RedisTicketLinks } from '../../src/ticket-links.js';
import { eventually, metricsOf, raiseNc, runDaemon, testConfig } from '../helpers/daemon.js';
import { makeCertificate, startSmtp, type SmtpOptions, type TestCertificate, type TestSmtp } from '../helpers/smtp.js';
import { openNc } from '../helpers/nc.js';

const LOGIN = { user: 'recurd@example.org', password: 'smtp-password-for-tests' };
const BASE_URL = 'https://recurd.example.org';
const HOSTILE_TITLE = '<script>alert("x")</script> & backup failed';

function nonconformity(overrides: Partial<Nonconformity> = {}): Nonconformity {
  return openNc({
    fingerprint: 'f'.repeat(16),
    check: 'nightly-backup',
    title: HOSTILE_TITLE,
    reason: 'the backup failed again 3 days after its fix',
    openedAt: Date.parse('2026-11-20T02:00:00Z'),
    updatedAt: Date.parse('2026-11-20T02:00:00Z'),
    lastOccurrenceAt: Date.parse('2026-11-20T02:00:00Z'),
    ...overrides,
  });
}

function ncEvent(type: NcEventType = 'nc.opened', id = 'NC-2026-0042.1795401362135-0', nc: Nonconformity = nonconformity()): NcEvent {
  return { id, type, at: Date.parse('2026-11-20T02:00:01Z'), nc };
}

/** The addresses of a parsed To or Cc header. */
function addresses(header: AddressObject | AddressObject[] | undefined): string[] {
  return [header ?? []].flat().flatMap((group) => group.value.map((entry) => entry.address ?? ''));
}

/** What a notifier's delivery threw. */
async function failureOf(notifier: Notifier, event: NcEvent): Promise<DeliveryError> {
  const error: unknown = await notifier.deliver(event).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return error;
}

describe('email notifier', () => {
  let redis: TestRedis;
  let prefix: string;
  let certificate: TestCertificate;
  const servers: TestSmtp[] = [];
  const daemons: Daemon[] = [];
  const logLines: string[] = [];
  const logger = createLogger(
    'warn',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );

  async function smtp(options: Partial<SmtpOptions> = {}): Promise<TestSmtp> {
    const server = await startSmtp({ certificate, login: LOGIN, ...options });
    servers.push(server);
    return server;
  }

  /** The notifier as recurd builds it from YAML-shaped config, with the test's CA unless told otherwise. */
  function notifier(port: number, overrides: Record<string, unknown> = {}, smtpOverrides: Record<string, unknown> = {}): Notifier {
    const config = emailNotifier.schema.parse({
      name: 'mail',
      type: 'email',
      smtp: { host: '127.0.0.1', port, auth: LOGIN, ca: certificate.certFile, ...smtpOverrides },
      from: 'recurd <recurd@example.org>',
      to: ['isms@example.org'],
      timeout: '2s',
      ...overrides,
    });
    return emailNotifier.create(config, { links: new RedisTicketLinks(redis.client, prefix), clock: systemClock, logger, annexA: null, baseUrl: BASE_URL });
  }

  beforeAll(async () => {
    certificate = makeCertificate();
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
    logLines.splice(0);
    if (prefix !== undefined) await dropPrefix(redis.client, prefix);
  });
  afterAll(async () => {
    await redis.stop();
    certificate.remove();
  });

  it('sends one message over STARTTLS after AUTH: subject, text and HTML parts, recipients and threading headers', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const mail = notifier(server.port, { cc: ['Auditor <audit@example.org>'], replyTo: 'isms-team@example.org' });
    const event = ncEvent();
    await mail.deliver(event);

    expect(server.mails).toHaveLength(1);
    const [received] = server.mails as [TestSmtp['mails'][number]];
    // The login and the message went over the upgraded connection, never in clear.
    expect(received.secure).toBe(true);
    expect(received.user).toBe(LOGIN.user);
    expect(server.log).toContain(`AUTH PLAIN ${LOGIN.user} 235`);
    expect(received.envelope).toEqual({ from: 'recurd@example.org', to: ['isms@example.org', 'audit@example.org'] });

    const { parsed } = received;
    expect(parsed.subject).toBe(`Nonconformity opened: NC-2026-0042 ${HOSTILE_TITLE}`);
    expect(parsed.from?.value).toEqual([{ name: 'recurd', address: 'recurd@example.org' }]);
    expect(addresses(parsed.to)).toEqual(['isms@example.org']);
    expect(addresses(parsed.cc)).toEqual(['audit@example.org']);
    expect(addresses(parsed.replyTo)).toEqual(['isms-team@example.org']);

    const text = parsed.text ?? '';
    expect(text).toContain('A symptom that was fixed came back inside its effectiveness window: the backup failed again 3 days after its fix');
    expect(text).toContain(`NC: NC-2026-0042 (open) ${HOSTILE_TITLE}`);
    expect(text).toContain('Control: A.8.13 · family backup · severity high');
    expect(text).toContain(`${BASE_URL}/ui/nc/NC-2026-0042`);

    // The alert's title is text in the HTML part, never markup.
    const html = parsed.html === false ? '' : parsed.html;
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; backup failed');
    expect(html).toContain(`<a href="${BASE_URL}/ui/nc/NC-2026-0042">${BASE_URL}/ui/nc/NC-2026-0042</a>`);
    expect(html).toContain('<p>Control: A.8.13 · family backup · severity high</p>');

    expect(parsed.messageId).toBe('<recurd.NC-2026-0042.1795401362135-0@example.org>');
    expect(parsed.inReplyTo).toBe('<recurd.NC-2026-0042@example.org>');
    expect(parsed.references).toBe('<recurd.NC-2026-0042@example.org>');
    expect(parsed.headers.get('x-recurd-event')).toBe('nc.opened');
    expect(parsed.headers.get('x-recurd-event-id')).toBe(event.id);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
  });

  it('keeps the Message-ID of a redelivered event and threads every event of one NC together', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const mail = notifier(server.port);
    const opened = ncEvent('nc.opened', 'NC-2026-0042.1795401362135-0');
    const action = ncEvent(
      'nc.corrective-action',
      'NC-2026-0042.1795401999999-0',
      nonconformity({
        correctiveAction: {
          action: 'moved the backup target to a monitored volume',
          owner: 'ops',
          rootCause: 'the volume filled up',
          dueDate: null,
          recordedAt: 0,
          strength: 'strong',
          strengthReason: 'changes the system',
          rootCauseAnalysis: null,
        },
      }),
    );
    const other = ncEvent('nc.opened', 'NC-2026-0043.1795401362136-0', nonconformity({ id: 'NC-2026-0043' }));
    await mail.deliver(opened);
    await mail.deliver(opened);
    await mail.deliver(action);
    await mail.deliver(other);

    const [first, again, followUp, unrelated] = server.mails.map((received) => received.parsed);
    expect(again?.messageId).toBe(first?.messageId);
    expect(followUp?.messageId).toBe('<recurd.NC-2026-0042.1795401999999-0@example.org>');
    expect(followUp?.subject).toBe(`Corrective action recorded: NC-2026-0042 ${HOSTILE_TITLE}`);
    expect(followUp?.text).toContain('ops recorded a strong corrective action: moved the backup target to a monitored volume');
    expect([first, again, followUp].map((parsed) => parsed?.references)).toEqual(Array(3).fill('<recurd.NC-2026-0042@example.org>'));
    expect(unrelated?.references).toBe('<recurd.NC-2026-0043@example.org>');
    // Characters a Message-ID cannot hold are escaped per UTF-8 byte, so that ids stay distinct.
    expect(eventMessageId('NC-1.a b/é', 'example.org')).toBe('<recurd.NC-1.a=20b=2f=c3=a9@example.org>');
  });

  it('does not retry a refused login (535), and its error names the server and the reply but not the password', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const mail = notifier(server.port, {}, { auth: { user: LOGIN.user, password: 'a-wrong-password' } });
    const error = await failureOf(mail, ncEvent());
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`mail: SMTP 127.0.0.1:${server.port}`);
    expect(error.message).toContain('535 5.7.8 Authentication credentials invalid');
    expect(error.message).not.toContain('a-wrong-password');
    expect(server.log).toEqual([`AUTH PLAIN ${LOGIN.user} 535`]);
    expect(server.mails).toHaveLength(0);
  });

  it('retries a 451 to RCPT TO or to DATA, and the next attempt delivers', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const mail = notifier(server.port);
    const event = ncEvent();

    server.rcptReplies.push(() => ({ code: 451, text: '4.3.0 mailbox busy, try again later' }));
    const atRcpt = await failureOf(mail, event);
    expect(atRcpt.retryable).toBe(true);
    expect(atRcpt.message).toBe(`mail: SMTP 127.0.0.1:${server.port} refused every recipient: isms@example.org: 451 4.3.0 mailbox busy, try again later`);

    server.dataReplies.push({ code: 451, text: '4.3.0 queue full, try again later' });
    const atData = await failureOf(mail, event);
    expect(atData.retryable).toBe(true);
    expect(atData.message).toContain('451 4.3.0 queue full, try again later');
    expect(server.mails).toHaveLength(0);

    await mail.deliver(event);
    expect(server.mails).toHaveLength(1);
    expect(server.log).toEqual([
      `AUTH PLAIN ${LOGIN.user} 235`,
      'RCPT isms@example.org 451',
      `AUTH PLAIN ${LOGIN.user} 235`,
      'RCPT isms@example.org 250',
      'DATA 451',
      `AUTH PLAIN ${LOGIN.user} 235`,
      'RCPT isms@example.org 250',
      'DATA 250',
    ]);
  });

  it('does not retry a recipient refused with 550, nor a message refused with 554', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const mail = notifier(server.port);

    server.rcptReplies.push(() => ({ code: 550, text: '5.1.1 mailbox unavailable' }));
    const refused = await failureOf(mail, ncEvent());
    expect(refused.retryable).toBe(false);
    expect(refused.message).toBe(`mail: SMTP 127.0.0.1:${server.port} refused every recipient: isms@example.org: 550 5.1.1 mailbox unavailable`);

    server.dataReplies.push({ code: 554, text: '5.6.0 message refused' });
    const rejected = await failureOf(mail, ncEvent());
    expect(rejected.retryable).toBe(false);
    expect(rejected.message).toContain('554 5.6.0 message refused');
    expect(server.mails).toHaveLength(0);
  });

  it('delivers to the recipients that were taken when others are refused, and logs the refused ones instead of sending twice', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const mail = notifier(server.port, { to: ['isms@example.org', 'gone@example.org'] });
    server.rcptReplies.push(
      () => null,
      () => ({ code: 550, text: '5.1.1 mailbox unavailable' }),
    );
    await mail.deliver(ncEvent());
    expect(server.mails.map((received) => received.envelope.to)).toEqual([['isms@example.org']]);
    const warning = logLines.map((line) => JSON.parse(line) as { msg: string; refused?: string[] }).find((line) => line.refused !== undefined);
    expect(warning?.refused).toEqual(['gone@example.org: 550 5.1.1 mailbox unavailable']);
  });

  it('speaks implicit TLS with security: tls', async () => {
    prefix = testPrefix();
    const server = await smtp({ secure: true });
    await notifier(server.port, {}, { security: 'tls' }).deliver(ncEvent());
    expect(server.mails).toHaveLength(1);
    expect(server.mails[0]?.secure).toBe(true);
    // STARTTLS against a server that expects TLS from the first byte fails: the two are not interchangeable.
    const error = await failureOf(notifier(server.port, { timeout: '500ms' }), ncEvent());
    expect(error.retryable).toBe(true);
    expect(server.mails).toHaveLength(1);
  });

  it('refuses a certificate it cannot trust unless smtp.ca names its CA', async () => {
    prefix = testPrefix();
    const server = await smtp();
    const untrusted = await failureOf(notifier(server.port, {}, { ca: undefined }), ncEvent());
    // Node 24 adds its own hint (--use-system-ca) after the TLS error's text.
    expect(untrusted.message).toMatch(new RegExp(`^mail: SMTP 127\\.0\\.0\\.1:${server.port} failed: self-signed certificate`));
    expect(untrusted.message).toMatch(/ \(the server's certificate is not trusted: set smtp\.ca to the PEM file of the CA that signed it\)$/);
    // A later attempt delivers once the admin has given the CA and restarted.
    expect(untrusted.retryable).toBe(true);
    expect(server.log).toEqual([]);
    expect(server.mails).toHaveLength(0);

    await notifier(server.port).deliver(ncEvent());
    expect(server.mails).toHaveLength(1);
  });

  it('never sends in clear with security: starttls when the server offers no STARTTLS; security: none does, to a relay without login', async () => {
    prefix = testPrefix();
    const stripped = await smtp({ noStartTls: true, login: undefined });
    const error = await failureOf(notifier(stripped.port, {}, { auth: undefined }), ncEvent());
    expect(error.message).toContain(`mail: SMTP 127.0.0.1:${stripped.port}`);
    // Refused with a 5xx reply: the same server will refuse it again, so this waits for the admin (security: tls or none).
    expect(error.message).toBe(`mail: SMTP 127.0.0.1:${stripped.port} answered STARTTLS with 500 Error: command not recognized`);
    expect(error.retryable).toBe(false);
    expect(stripped.mails).toHaveLength(0);

    await notifier(stripped.port, {}, { security: 'none', auth: undefined, ca: undefined }).deliver(ncEvent());
    expect(stripped.mails).toHaveLength(1);
    expect(stripped.mails[0]?.secure).toBe(false);
  });

  it('retries a server that does not answer in time, and one that is not there', async () => {
    prefix = testPrefix();
    // Takes the connection and never greets.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const timedOut = await failureOf(notifier(port, { timeout: '300ms' }), ncEvent());
      expect(timedOut.retryable).toBe(true);
      expect(timedOut.message).toContain(`mail: SMTP 127.0.0.1:${port}`);
      expect(timedOut.message).toMatch(new RegExp(`^mail: SMTP 127\\.0\\.0\\.1:${port} did not answer in time: `));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    const refused = await failureOf(notifier(port), ncEvent());
    expect(refused.retryable).toBe(true);
    expect(refused.message).toBe(`mail: SMTP 127.0.0.1:${port} failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  describe('config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recurd-email-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function load(smtpLines: string[], extra: string[] = []): Error | null {
      const file = join(dir, 'recurd.yaml');
      writeFileSync(
        file,
        [
          'redis: { url: "redis://127.0.0.1:6379" }',
          'api: { token: t }',
          'notifiers:',
          '  - name: mail',
          '    type: email',
          '    smtp:',
          '      host: smtp.example.org',
          ...smtpLines.map((line) => `      ${line}`),
          '    from: recurd@example.org',
          ...(extra.length > 0 ? extra.map((line) => `    ${line}`) : ['    to: [isms@example.org]']),
          '',
        ].join('\n'),
      );
      try {
        loadConfig(file, { SMTP_PASSWORD: 'from-env' });
        return null;
      } catch (error) {
        return error as Error;
      }
    }

    it('takes the defaults: STARTTLS on 587, certificates checked', () => {
      const config = configSchema.parse({
        redis: { url: 'redis://127.0.0.1:6379' },
        api: { token: 't' },
        notifiers: [{ name: 'mail', type: 'email', smtp: { host: 'smtp.example.org' }, from: 'recurd@example.org', to: ['isms@example.org'] }],
      });
      expect(config.notifiers[0]).toMatchObject({ smtp: { security: 'starttls', rejectUnauthorized: true }, to: [{ name: '', address: 'isms@example.org' }] });
      expect(load(['auth: { user: recurd, password: "${SMTP_PASSWORD}" }', 'rejectUnauthorized: "false"'])).toBeNull();
    });

    it('reads the CA file when the config is loaded, and names the field when it is missing or no certificate', () => {
      expect(load([`ca: ${certificate.certFile}`])).toBeNull();
      const missing = load([`ca: ${join(dir, 'nowhere.pem')}`]);
      expect(missing).toBeInstanceOf(ConfigError);
      expect(missing?.message).toContain(`notifiers[0].smtp.ca (line 8): cannot read ${join(dir, 'nowhere.pem')}`);
      const notPem = join(dir, 'not.pem');
      writeFileSync(notPem, 'hello');
      expect(load([`ca: ${notPem}`])?.message).toContain(`notifiers[0].smtp.ca (line 8): ${notPem} holds no PEM certificate`);
    });

    it('refuses a password over a connection without TLS, and addresses that are not addresses', () => {
      expect(load(['security: none', 'auth: { user: recurd, password: "${SMTP_PASSWORD}" }'])?.message).toContain(
        'notifiers[0].smtp.auth (line 9): would send the password in clear with security: none',
      );
      expect(load([], ['to: []'])?.message).toContain('notifiers[0].to');
      expect(load([], ['to: [isms]'])?.message).toContain('notifiers[0].to[0] (line 9): "isms" is not an e-mail address');
      expect(load([], ['to: ["ISMS <isms@example.org>"]', 'cc: ["x@"]'])?.message).toContain('notifiers[0].cc[0] (line 10): "x@" is not an e-mail address');
      expect(load(['security: starttls-please'])?.message).toContain('notifiers[0].smtp.security (line 8)');
    });
  });

  describe('through a running daemon', () => {


    it('mails nc.opened after a 451, retried by the outbox, and counts it delivered', async () => {
      prefix = testPrefix();
      const server = await smtp();
      server.rcptReplies.push(() => ({ code: 451, text: '4.7.1 greylisted, try again later' }));
      const daemon = await runDaemon(
        testConfig(redis.url, prefix, {
          // The fixture's times are fixed and the re-fire is timed at receipt: the window must reach today.
          policy: { window: '3650d', maxLateness: '3650d' },
          ui: { baseUrl: BASE_URL },
          notifiers: [
            {
              name: 'mail',
              type: 'email',
              smtp: { host: '127.0.0.1', port: server.port, auth: LOGIN, ca: certificate.certFile },
              from: 'recurd@example.org',
              to: ['isms@example.org'],
              events: ['nc.opened'],
              backoff: '100ms',
            },
          ],
        }),
      );
      daemons.push(daemon);
      const ncId = await raiseNc(daemon);

      const received = await eventually(() => server.mails[0], 15_000, 'the message after a 451');
      expect(received.parsed.subject).toMatch(new RegExp(`^Nonconformity opened: ${ncId} `));
      expect(received.parsed.text).toContain(`${BASE_URL}/ui/nc/${ncId}`);
      expect(received.parsed.references).toBe(`<recurd.${ncId}@example.org>`);
      expect(received.parsed.headers.get('x-recurd-event-id')).toMatch(new RegExp(`^${ncId}\\.`));
      expect(server.log.filter((line) => line.startsWith('RCPT'))).toEqual(['RCPT isms@example.org 451', 'RCPT isms@example.org 250']);

      const metrics = await eventually(async () => {
        const text = await metricsOf(daemon);
        return text.includes('recurd_notifications_total{notifier="mail",outcome="delivered"} 1') ? text : undefined;
      });
      expect(metrics).toContain('recurd_notifications_total{notifier="mail",outcome="retrying"} 1');
      expect(metrics).not.toContain('recurd_notifications_total{notifier="mail",outcome="failed"}');
      expect(server.mails).toHaveLength(1);
    });
  });
});
