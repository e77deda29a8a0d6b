import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskMessage } from '../../src/core/mask.js';

describe('maskMessage', () => {
  it('gives the same failure on another night one template', () => {
    const monday = maskMessage('backup of SRV-01 failed at 02:00:13 (error 0x80070005)');
    const tuesday = maskMessage('backup of SRV-01 failed at 02:01:47 (error 0x80070005)');
    expect(monday).toBe('backup of <*> failed at <*> (error <*>)');
    expect(tuesday).toBe(monday);
  });

  it.each([
    ['backup of SRV-01 failed', 'backup of SRV-01 succeeded'],
    ['connection refused', 'connection reset'],
    ['Failed password for root from 10.0.0.1 port 22 ssh2', 'Accepted password for root from 10.0.0.1 port 22 ssh2'],
    ['/etc/passwd changed', '/etc/shadow changed'],
  ])('keeps different failures apart: %s / %s', (a, b) => {
    expect(maskMessage(a)).not.toBe(maskMessage(b));
  });

  it.each([
    ['a number', 'child 6725 in slot 10', 'child <*> in slot <*>'],
    ['a negative or decimal number', 'offset -12 and ratio 0.75', 'offset <*> and ratio <*>'],
    ['hex', 'error 0x80070005 at 0b85eee0', 'error <*> at <*>'],
    ['a UUID', 'job 3f2b8c1e-9d4a-4b7e-8f00-1c2d3e4f5a6b failed', 'job <*> failed'],
    ['an IPv4 address with a port', 'from 10.251.73.220:50010 denied', 'from <*> denied'],
    ['an IPv6 address', 'peer fe80::1ff:fe23:4567:890a unreachable', 'peer <*> unreachable'],
    ['an ISO timestamp', 'started 2026-01-05T02:00:13.123+01:00 ok', 'started <*> ok'],
    ['a time of day', 'failed at 02:00:13', 'failed at <*>'],
    ['a date with a month name', 'connection at Sun Jul  3 23:16:09 2005 closed', 'connection at <*> closed'],
    ['a time with its time zone', 'built on 03/26/2010 12:26 GMT by x, Thu Aug 4 12:00 PDT 2005', 'built on <*> by x, <*>'],
    ['a duration', 'took 13.5ms, then 3 seconds, then <1 sec', 'took <*>, then <*>, then <*>'],
    ['a size', 'wrote 1.2 GB (512MiB) of 100%', 'wrote <*> (<*>) of <*>'],
    ['an id inside a path', 'cannot read /var/backups/2026-01-05/db.tar', 'cannot read <*>'],
    ['an id inside a URL', 'GET https://api.example.com/v1/items/123 failed', 'GET <*> failed'],
    ['query values', 'GET /search?q=disk&page=2 failed', 'GET /search?q=<*>&page=<*> failed'],
    ['an id inside a host name', 'backup of web-3.example.com failed', 'backup of <*> failed'],
    ['a quoted value', `job 'Daily SQL' and "nightly" failed`, `job '<*>' and "<*>" failed`],
    ['a key=value value', 'logname= uid=0 euid=0 tty=ssh user=root', 'logname= uid=<*> euid=<*> tty=<*> user=<*>'],
    ['numbers in brackets', 'ALERT exited abnormally with [1]', 'ALERT exited abnormally with [<*>]'],
  ])('masks %s', (_class, message, template) => {
    expect(maskMessage(message)).toBe(template);
  });

  it('keeps the punctuation around a value', () => {
    expect(maskMessage('Received disconnect from 10.0.0.1: 11: Bye Bye [preauth]')).toBe(
      'Received disconnect from <*>: Bye Bye [preauth]',
    );
    expect(maskMessage('connection from 10.0.0.1.')).toBe('connection from <*>.');
    expect(maskMessage('data store interrupt caused by dcbf.........0')).toBe('data store interrupt caused by dcbf.........<*>');
  });

  it('reads an apostrophe as part of a word, not as a quote', () => {
    expect(maskMessage("Can't find child 6725 in scoreboard, don't retry")).toBe("Can't find child <*> in scoreboard, don't retry");
  });

  it('collapses a run of values, so a list of any length gives one template', () => {
    expect(maskMessage('nodes 1 2 3 down')).toBe('nodes <*> down');
    expect(maskMessage('nodes 4, 5 down')).toBe('nodes <*> down');
  });

  it('keeps words without digits, host-like or not', () => {
    expect(maskMessage('reverse mapping for ns.example.com failed')).toBe('reverse mapping for ns.example.com failed');
  });

  it('ignores differences in whitespace', () => {
    expect(maskMessage('  backup\tof SRV-01\n\nfailed ')).toBe(maskMessage('backup of SRV-02 failed'));
  });
});

// Characters and pieces that the rules react to, so that generated strings exercise them.
const piece = fc.constantFrom(
  ...'a1Z0 .:-_/=&?!<>*,;()[]{}|~%\'"`\t\n'.split(''),
  'UTC',
  'ms',
  'Jan',
  'Mon',
  'sec',
  'KB',
  '<*>',
  '..',
  "can't",
  '0x1f',
  'é',
  '١',
  '\u00a0',
);
const anyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }),
  fc.string({ unit: piece, maxLength: 40 }),
);
const WHITESPACE = [' ', '\t', '\n', '\r\n', '\u00a0', '\u2003', '\u3000', '\ufeff'];

describe('maskMessage properties', () => {
  it('is total: any string gives a string, never an exception', () => {
    fc.assert(
      fc.property(anyString, (message) => {
        expect(typeof maskMessage(message)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(anyString, (message) => {
        const once = maskMessage(message);
        expect(maskMessage(once)).toBe(once);
      }),
      { numRuns: 5000 },
    );
  });

  it('depends on the words, not on the whitespace between them', () => {
    const word = anyString.map((s) => s.replace(/\s/g, ''));
    const space = fc.array(fc.constantFrom(...WHITESPACE), { minLength: 1, maxLength: 3 }).map((s) => s.join(''));
    fc.assert(
      fc.property(fc.array(fc.tuple(word, space), { maxLength: 8 }), space, (pairs, lead) => {
        const single = pairs.map(([w]) => w).join(' ');
        const spaced = lead + pairs.map(([w, s]) => w + s).join('');
        expect(maskMessage(spaced)).toBe(maskMessage(single));
      }),
      { numRuns: 2000 },
    );
  });
});
