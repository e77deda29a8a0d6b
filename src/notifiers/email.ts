/**
 * Sends each NC event as one e-mail over SMTP (nodemailer): the rendered title as the subject, a
 * text/plain part, and a text/html part that mirrors it line for line.
 *
 * The Message-ID comes from the event id, so a redelivery carries the same one and a mailbox that
 * got the first copy can drop the second; References and In-Reply-To name one id per NC, so that
 * mail clients thread an NC's messages whatever order they arrive in.
 *
 * One connection per message, not a pool: NC events are few (bursts of tens during an incident),
 * a pooled connection idles most of the time until the server drops it (421 after a few minutes),
 * and with one connection per message every SMTP error belongs to exactly one event. The outbox
 * runs at most four deliveries at once, so at most four connections are open, and nothing stays
 * open between deliveries that a shutdown would have to close.
 */
import { createTransport, type NodemailerError } from 'nodemailer';
import { z } from 'zod';
import { caFile, flag, secret, wholeNumber } from '../config/fields.js';
import type { NcEvent } from '../core/types.js';
import { notifierBase, notifierFrom } from './base.js';
import { messageFacts, renderMessage, type RenderedMessage } from './message.js';
import { DeliveryError, type NotifierType } from './types.js';

/** A mailbox as nodemailer takes it: the display name is encoded by nodemailer, never pasted into a header. */
export interface Mailbox {
  name: string;
  address: string;
}

const emailAddress = z.email();

/** `ops@example.org` or `ISMS team <isms@example.org>`. */
const mailbox = z
  .string()
  .describe('an e-mail address, optionally with a display name: isms@example.org or "ISMS team <isms@example.org>"')
  .transform((text, ctx): Mailbox => {
    const named = /^\s*"?([^"<>]*?)"?\s*<([^<>]*)>\s*$/.exec(text);
    const name = (named?.[1] ?? '').trim();
    const address = (named?.[2] ?? text).trim();
    if (!emailAddress.safeParse(address).success) {
      ctx.addIssue({ code: 'custom', message: `"${address}" is not an e-mail address` });
      return z.NEVER;
    }
    // A line break in a display name would start a header of its own.
    if (/\p{Cc}/u.test(name)) {
      ctx.addIssue({ code: 'custom', message: 'the display name contains a control character' });
      return z.NEVER;
    }
    return { name, address };
  });

const SECURITY = ['starttls', 'tls', 'none'] as const;
export type SmtpSecurity = (typeof SECURITY)[number];

const smtp = z
  .object({
    host: z.string().min(1).describe('the SMTP server (submission service or relay)'),
    port: wholeNumber(1, 65535).optional().describe('default 587, or 465 with security: tls'),
    security: z
      .enum(SECURITY)
      .default('starttls')
      .describe('starttls: STARTTLS required, the message is never sent in clear; tls: TLS from the first byte (implicit TLS, usually port 465); none: no TLS at all, only for a relay on the same host'),
    auth: z
      .object({
        user: z.string().min(1).describe('the SMTP user name'),
        password: secret.describe('the SMTP password'),
      })
      .strict()
      .optional()
      .describe('SMTP AUTH credentials; absent: the server takes mail without a login'),
    ca: caFile.optional().describe("a PEM file of the private CA that signed the server's certificate; default: the system's trusted CAs"),
    rejectUnauthorized: flag.prefault(true).describe('refuse a server whose certificate is not trusted (keep true outside a lab)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.security !== 'none') return;
    if (config.auth !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'would send the password in clear with security: none; use starttls or tls' });
    }
    if (config.ca !== undefined) ctx.addIssue({ code: 'custom', path: ['ca'], message: 'applies to starttls and tls only, and security is none' });
  });

const schema = z
  .object({
    ...notifierBase,
    type: z.literal('email'),
    smtp: smtp.describe('how recurd reaches the SMTP server'),
    from: mailbox.describe('the sender: an address the SMTP server lets recurd send from'),
    to: z.array(mailbox).min(1).describe('the recipients, at least one'),
    cc: z.array(mailbox).min(1).optional().describe('recipients in copy'),
    replyTo: mailbox.optional().describe('where replies go, when not to the sender'),
  })
  .strict();

export type EmailConfig = z.output<typeof schema>;

/**
 * The part of a Message-ID that names the event or the NC. Event ids are NC-2026-0042.<stream id>
 * and pass as they are; any other character becomes =XX per UTF-8 byte, so distinct ids stay distinct.
 */
function idPart(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/gu, (char) => [...Buffer.from(char)].map((byte) => `=${byte.toString(16).padStart(2, '0')}`).join(''));
}

/** The Message-ID of an event's message: the same for every delivery of that event. */
export function eventMessageId(eventId: string, domain: string): string {
  return `<recurd.${idPart(eventId)}@${domain}>`;
}

/** The id every message about one NC refers to, so that mail clients put them in one thread. */
export function ncThreadId(ncId: string, domain: string): string {
  return `<recurd.${idPart(ncId)}@${domain}>`;
}

/**
 * The HTML part: the lines rendered for HTML (every value already escaped by the template engine)
 * in constant markup. The line that is the NC's link becomes an anchor to it; lines of the plain
 * and the HTML rendering correspond one to one, since escaping never empties a line.
 */
export function htmlBody(plain: RenderedMessage, html: RenderedMessage): string {
  const link = plain.facts.nc.link;
  const paragraphs = html.lines.map((line, index) =>
    link !== null && plain.lines[index] === link ? `<p><a href="${line}">${line}</a></p>` : `<p>${line}</p>`,
  );
  return [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${html.title}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.4">',
    `<h2>${html.title}</h2>`,
    ...paragraphs,
    '</body></html>',
  ].join('\n');
}

const RETRYABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY']);

/** Node's codes for a certificate that does not verify: the usual cause is a private CA recurd was not given. */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * What went wrong, in the outbox's terms: an SMTP reply is retried when it is temporary (4xx, and
 * 503, a session in the wrong state) and not when it is permanent (5xx: a refused mailbox, a
 * refused login); a connection that failed, timed out or broke during TLS is retried; anything
 * else (no credentials for a server that demands them, a refused configuration) is not.
 */
export function smtpFailure(notifier: string, server: string, error: unknown, password: string | undefined): DeliveryError {
  const failure = (error ?? {}) as NodemailerError;
  const refused = failure.rejectedErrors?.filter((rejection) => rejection.recipient !== undefined && rejection.response !== undefined) ?? [];
  let said: string;
  if (refused.length > 0) {
    said = `refused every recipient: ${refused.map((rejection) => `${rejection.recipient ?? ''}: ${rejection.response ?? ''}`).join('; ')}`;
  } else if (failure.response !== undefined && failure.command !== undefined) {
    said = `answered ${failure.command} with ${failure.response}`;
  } else if (failure.response !== undefined) {
    said = `answered ${failure.response}`;
  } else if (failure.code === 'ETIMEDOUT') {
    said = `did not answer in time: ${failure.message}`;
  } else {
    said = `failed: ${failure.message ?? String(error)}`;
  }
  const cause = `${failure.originalCode ?? ''} ${failure.code ?? ''} ${failure.message ?? ''}`;
  if (failure.responseCode === undefined && UNTRUSTED_CERTIFICATE.test(cause)) {
    said += " (the server's certificate is not trusted: set smtp.ca to the PEM file of the CA that signed it)";
  }
  const retryable = failure.responseCode !== undefined ? failure.permanent !== true : failure.code === undefined || RETRYABLE_CODES.has(failure.code);
  const message = `${notifier}: SMTP ${server} ${said}`;
  return new DeliveryError(password === undefined ? message : message.split(password).join('[redacted]'), retryable);
}

export const emailNotifier: NotifierType<typeof schema> = {
  type: 'email',
  schema,
  create(config, { annexA, baseUrl, logger }) {
    const { host, security, auth, ca, rejectUnauthorized } = config.smtp;
    const port = config.smtp.port ?? (security === 'tls' ? 465 : 587);
    const server = `${host}:${port}`;
    const transport = createTransport({
      host,
      port,
      secure: security === 'tls',
      requireTLS: security === 'starttls',
      ignoreTLS: security === 'none',
      auth: auth === undefined ? undefined : { user: auth.user, pass: auth.password },
      tls: { rejectUnauthorized, minVersion: 'TLSv1.2', ...(ca === undefined ? {} : { ca: ca.pem }) },
      connectionTimeout: config.timeout,
      greetingTimeout: config.timeout,
      socketTimeout: config.timeout,
      dnsTimeout: config.timeout,
    });
    const domain = config.from.address.slice(config.from.address.lastIndexOf('@') + 1);
    const base = notifierFrom(config);
    return {
      ...base,
      async deliver(event: NcEvent) {
        const facts = messageFacts(event, annexA, baseUrl);
        const plain = renderMessage(facts, 'plain', base.templates);
        const html = renderMessage(facts, 'html', base.templates);
        const thread = ncThreadId(event.nc.id, domain);
        let refused: string[];
        try {
          const info = await transport.sendMail({
            from: config.from,
            to: config.to,
            cc: config.cc,
            replyTo: config.replyTo,
            subject: plain.title,
            text: `${plain.lines.join('\n')}\n`,
            html: htmlBody(plain, html),
            messageId: eventMessageId(event.id, domain),
            inReplyTo: thread,
            references: [thread],
            headers: {
              'X-Recurd-Event': event.type,
              'X-Recurd-Event-Id': event.id,
              // RFC 3834: out-of-office and other automatic replies leave it alone.
              'Auto-Submitted': 'auto-generated',
            },
          });
          refused = info.rejectedErrors?.map((rejection) => `${rejection.recipient ?? '?'}: ${rejection.response ?? rejection.message}`) ?? info.rejected.map(String);
        } catch (error) {
          throw smtpFailure(config.name, server, error, auth?.password);
        }
        // Some recipients took it: sending again would give them a second copy, so the others are reported, not retried.
        if (refused.length > 0) {
          logger.warn({ notifier: config.name, server, event: event.id, refused }, 'the SMTP server refused some recipients; the others got the message');
        }
      },
    };
  },
};
