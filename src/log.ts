/** JSON logs; secrets never reach them, wherever they sit in a logged object. */
import { pino, type Logger } from 'pino';

const SECRET_KEYS = ['token', 'password', 'secret', 'apiKey', 'api_key', 'authorization', 'credentials'];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  'req.headers.authorization',
  'req.headers["x-recurd-signature"]',
  'req.headers.cookie',
  // ioredis puts the failed command on its errors: a failed AUTH or HELLO carries the password.
  'err.command.args',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'recurd' } },
    destination ?? process.stdout,
  );
}

/** A Redis URL with its password masked, for messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export type { Logger };
