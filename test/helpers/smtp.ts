/**
 * A real SMTP server on loopback (smtp-server, the nodemailer project's server: it speaks the
 * protocol, offers STARTTLS or implicit TLS, and demands AUTH when told to), with a self-signed
 * certificate made by openssl for the test. It records every message it takes, parsed by mailparser,
 * and answers RCPT TO and DATA as a test scripts them: 451 to try later, 550 to refuse for good.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export interface TestCertificate {
  /** The PEM file of the certificate (self-signed: it is its own CA). */
  certFile: string;
  cert: string;
  key: string;
  remove(): void;
}

/** A self-signed certificate for localhost and 127.0.0.1. openssl missing is a failure, never a skip. */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'recurd-smtp-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'pipe' },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make the test certificate (is the openssl package installed?): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { certFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An SMTP reply a test scripts: `{ code: 451, text: '4.3.0 try again later' }`. */
export interface SmtpReply {
  code: number;
  text: string;
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The login the message came in under. */
  user: string | undefined;
  /** Whether the session was encrypted (STARTTLS or implicit TLS) when the message came. */
  secure: boolean;
  raw: string;
  parsed: ParsedMail;
}

export interface TestSmtp {
  port: number;
  /** Messages the server took (answered 250 to their DATA). */
  mails: ReceivedMail[];
  /** Every RCPT TO, AUTH and DATA with the reply code it got, in order: `RCPT ops@example.org 451`. */
  log: string[];
  /** Replies for the next RCPT TO commands, before the server accepts again. */
  rcptReplies: Array<(address: string) => SmtpReply | null>;
  /** Replies for the next DATA commands (after the message is read), before the server accepts again. */
  dataReplies: SmtpReply[];
  close(): Promise<void>;
}

export interface SmtpOptions {
  certificate: TestCertificate;
  /** Implicit TLS (port 465 style); otherwise STARTTLS is offered on a plain connection. */
  secure?: boolean;
  /** Refuse STARTTLS, as a plain local relay does, or a server whose STARTTLS an attacker strips. */
  noStartTls?: boolean;
  /** The login the server demands; none: it takes mail without one. */
  login?: { user: string; password: string };
}

function replyError({ code, text }: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startSmtp(options: SmtpOptions): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const log: string[] = [];
  const rcptReplies: TestSmtp['rcptReplies'] = [];
  const dataReplies: SmtpReply[] = [];
  const { login } = options;
  const server = new SMTPServer({
    secure: options.secure ?? false,
    key: options.certificate.key,
    cert: options.certificate.cert,
    authOptional: login === undefined,
    disabledCommands: [...(options.noStartTls === true ? ['STARTTLS'] : []), ...(login === undefined ? ['AUTH'] : [])],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = login !== undefined && auth.username === login.user && auth.password === login.password;
      log.push(`AUTH ${auth.method} ${auth.username ?? ''} ${ok ? 235 : 535}`);
      if (ok) callback(null, { user: auth.username });
      else callback(replyError({ code: 535, text: '5.7.8 Authentication credentials invalid' }));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const reply = rcptReplies.shift()?.(address.address) ?? null;
      log.push(`RCPT ${address.address} ${reply?.code ?? 250}`);
      if (reply === null) callback();
      else callback(replyError(reply));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const reply = dataReplies.shift();
        log.push(`DATA ${reply?.code ?? 250}`);
        if (reply !== undefined) {
          callback(replyError(reply));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            mails.push({
              envelope: {
                from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
                to: session.envelope.rcptTo.map((recipient) => recipient.address),
              },
              user: session.user as string | undefined,
              secure: session.secure,
              raw,
              parsed,
            });
            callback();
          })
          .catch((error: unknown) => callback(error as Error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { port, mails, log, rcptReplies, dataReplies, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
