import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fileConnector } from '../../connectors/file.js';
import { ConnectorError, MemoryConnectorState, type PayloadError, type PollContext } from '../../connectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { canonicalAlertSchema, type CanonicalAlert } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';

const T0 = Date.parse('2026-11-23T02:00:00Z');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

interface DeadLetter {
  body: string;
  errors: PayloadError[];
}

interface Tail {
  clock: ManualClock;
  /** What the last poll saved, carried to the next as the pipeline does (through JSON, as in Redis). */
  checkpoint: unknown;
  rejected: DeadLetter[];
  /** One poll; the alerts it emitted. */
  poll(): Promise<CanonicalAlert[]>;
}

function tail(fields: Record<string, unknown>, checkpoint: unknown = null): Tail {
  const clock = new ManualClock(T0);
  const config = fileConnector.schema.parse({ type: 'file', name: 'logs', ...fields });
  const connector = fileConnector.create(config, { state: new MemoryConnectorState(), clock, logger: createLogger('silent') });
  const poller = connector.poller;
  if (poller === undefined) throw new Error('the file connector polls');
  const t: Tail = {
    clock,
    checkpoint,
    rejected: [],
    async poll() {
      const emitted: CanonicalAlert[] = [];
      const context: PollContext = {
        checkpoint: t.checkpoint,
        emit: (alerts) => {
          emitted.push(...alerts);
          return Promise.resolve();
        },
        saveCheckpoint: (value) => {
          t.checkpoint = JSON.parse(JSON.stringify(value)) as unknown;
          return Promise.resolve();
        },
        reject: (body, errors) => {
          t.rejected.push({ body, errors });
          return Promise.resolve();
        },
        signal: new AbortController().signal,
      };
      await poller.poll(context);
      return emitted;
    },
  };
  return t;
}

/** NDJSON without a preset: each line `{"n": …, "state": …}` is one alert. */
const PLAIN = { family: 'backup', mapping: { status: { path: 'state', default: 'firing' }, check: 'job', message: 'n' } };

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recurd-file-'));
  log = join(dir, 'app.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (n: number, extra: Record<string, unknown> = {}): string => `${JSON.stringify({ n: `line ${n}`, job: 'nightly', ...extra })}\n`;
const inode = (path: string): string => statSync(path, { bigint: true }).ino.toString();

describe('file connector: tailing', () => {
  it('reads complete lines only: a partial last line waits for the next poll', async () => {
    writeFileSync(log, line(1) + '{"n": "line 2", "job": "nigh');
    const t = tail({ path: log, ...PLAIN });
    const first = await t.poll();
    expect(first.map((alert) => alert.message)).toEqual(['line 1']);
    expect(first[0]).toMatchObject({
      source: 'logs',
      family: 'backup',
      status: 'firing',
      check: 'nightly',
      observedAt: T0,
      evidence: { file: log, inode: inode(log), offset: 0 },
    });
    expect(canonicalAlertSchema.parse(first[0])).toEqual(first[0]);

    appendFileSync(log, 'tly"}\n');
    const second = await t.poll();
    expect(second.map((alert) => [alert.message, alert.evidence.offset])).toEqual([['line 2', line(1).length]]);
    expect(await t.poll()).toEqual([]);
  });

  it('names lines without an id by file and offset, the same on every read', async () => {
    writeFileSync(log, line(1) + line(2));
    const t = tail({ path: log, ...PLAIN });
    const ids = (await t.poll()).map((alert) => alert.id);
    expect(ids).toEqual([`${inode(log)}@${T0}:0`, `${inode(log)}@${T0}:${line(1).length}`]);
    // A re-read (a crash between the enqueue and the checkpoint) yields the same ids.
    const again = tail({ path: log, ...PLAIN }, { current: { ...(t.checkpoint as { current: object }).current, offset: 0 } });
    expect((await again.poll()).map((alert) => alert.id)).toEqual(ids);
  });

  it('goes on from its checkpoint after a restart, without re-reading', async () => {
    writeFileSync(log, line(1) + line(2));
    const before = tail({ path: log, ...PLAIN });
    expect(await before.poll()).toHaveLength(2);
    appendFileSync(log, line(3));
    const after = tail({ path: log, ...PLAIN }, before.checkpoint);
    expect((await after.poll()).map((alert) => alert.message)).toEqual(['line 3']);
  });

  it('finishes a rotated file, also what its writer appends after the rename, and reads the new one from the start', async () => {
    writeFileSync(log, line(1));
    const t = tail({ path: log, ...PLAIN });
    await t.poll();
    const oldInode = inode(log);
    appendFileSync(log, line(2));
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, line(3)); // the writer has not reopened its log yet
    writeFileSync(log, line(4));
    const rotated = await t.poll();
    expect(rotated.map((alert) => [alert.message, alert.evidence.file, alert.evidence.inode])).toEqual([
      ['line 2', `${log}.1`, oldInode],
      ['line 3', `${log}.1`, oldInode],
      ['line 4', log, inode(log)],
    ]);
    appendFileSync(`${log}.1`, line(5));
    appendFileSync(log, line(6));
    expect((await t.poll()).map((alert) => alert.message)).toEqual(['line 5', 'line 6']);
    rmSync(`${log}.1`);
    appendFileSync(log, line(7));
    expect((await t.poll()).map((alert) => alert.message)).toEqual(['line 7']);
    expect(t.checkpoint).not.toHaveProperty('previous');
  });

  it('reads a truncated file again from the start, under new ids', async () => {
    writeFileSync(log, line(1) + line(2) + line(3));
    const t = tail({ path: log, ...PLAIN });
    const before = await t.poll();
    truncateSync(log, 0);
    appendFileSync(log, line(1));
    t.clock.advance(60_000);
    const after = await t.poll();
    expect(after.map((alert) => alert.message)).toEqual(['line 1']);
    // Same inode, same offset, same bytes: only the new name keeps the repeat from being a duplicate.
    expect(after[0]?.id).not.toBe(before[0]?.id);
  });

  it('reads a file replaced in place (longer, other first bytes) again from the start', async () => {
    writeFileSync(log, line(1));
    const t = tail({ path: log, ...PLAIN });
    await t.poll();
    writeFileSync(log, line(8) + line(9)); // same inode, rewritten
    expect((await t.poll()).map((alert) => alert.message)).toEqual(['line 8', 'line 9']);
  });

  it('fails a poll, retryably, while the file does not exist; waits quietly once it has been read', async () => {
    const t = tail({ path: log, ...PLAIN });
    const error = await t.poll().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ retryable: true, message: `${log} does not exist (yet): nothing to read` });
    writeFileSync(log, line(1));
    expect(await t.poll()).toHaveLength(1);
    renameSync(log, `${log}.1`); // rotated; the new file is not created yet
    expect(await t.poll()).toEqual([]);
  });

  it('refuses a checkpoint it cannot read rather than count the whole file twice', async () => {
    writeFileSync(log, line(1));
    const t = tail({ path: log, ...PLAIN }, { current: { inode: 'x', offset: -1 } });
    await expect(t.poll()).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(
        new RegExp(`^the checkpoint is not a position in ${log} \\(current\\.inode: .+\\); delete it to read the file again from the start$`),
      ) as unknown,
    });
  });
});

describe('file connector: what does not fit', () => {
  it('dead-letters a line that is not JSON, and one whose fields do not fit, naming file and offset; the rest goes on', async () => {
    const bad = 'this is not json\n';
    const wrong = `${JSON.stringify({ n: 'x', state: 'broken' })}\n`;
    writeFileSync(log, line(1) + bad + wrong + line(2));
    const t = tail({ path: log, ...PLAIN });
    expect((await t.poll()).map((alert) => alert.message)).toEqual(['line 1', 'line 2']);
    const at = line(1).length;
    expect(t.rejected).toEqual([
      { body: 'this is not json', errors: [{ path: `${log}@${at}`, message: expect.stringMatching(/^is not JSON \(.+\)$/) as unknown }] },
      {
        body: wrong.trim(),
        errors: [
          {
            path: `${log}@${at + bad.length}:state`,
            message: 'status: is "broken", not one of "firing", "resolved" (translate it with mapping.status.map)',
          },
        ],
      },
    ]);
    // Nothing is read twice: the checkpoint moved past the dead letters.
    expect(await t.poll()).toEqual([]);
    expect(t.rejected).toHaveLength(2);
  });

  it('dead-letters a line longer than 1 MiB without a newline, in pieces, instead of growing without bound', async () => {
    writeFileSync(log, 'x'.repeat(1024 * 1024 + 10) + '\n' + line(1));
    const t = tail({ path: log, ...PLAIN });
    expect((await t.poll()).map((alert) => alert.message)).toEqual(['line 1']);
    expect(t.rejected.map((letter) => [letter.body.length, letter.errors[0]?.message])).toEqual([
      [1024 * 1024, 'a line longer than 1048576 bytes without a newline: kept here in pieces'],
      [10, expect.stringMatching(/^is not JSON/) as unknown],
    ]);
  });

  it('refuses configs that cannot work, each at its own field', () => {
    const issues = (fields: Record<string, unknown>): string[] => {
      const result = fileConnector.schema.safeParse({ type: 'file', name: 'logs', path: log, ...fields });
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(issues({ family: 'siem', path: 'logs/app.log', mapping: { status: { value: 'firing' } } })).toEqual([
      'path: must be an absolute path to the log file',
    ]);
    expect(issues({ mapping: { status: { value: 'firing' } } })).toEqual(['family: is required (set it, or choose a preset that does)']);
    expect(issues({ family: 'siem' })).toEqual(['mapping.status: is required (map it, or choose a preset that does)']);
    expect(issues({ preset: 'clamav', format: 'ndjson' })).toEqual(['format: the clamav preset reads plain-text lines: use format: text']);
    expect(issues({ preset: 'wazuh', format: 'text' })).toEqual(['format: the wazuh preset reads JSON documents: use format: ndjson']);
    expect(issues({ preset: 'wazuh', patterns: ['^(?<x>.)'] })).toEqual(['patterns: patterns read plain-text lines: set format: text']);
    expect(issues({ preset: 'suricata-eve', options: { homeNet: ['10.0.0.0/8', '2001:db8::/32'] } })).toEqual([]);
    expect(issues({ preset: 'wazuh', options: { homeNet: ['10.0.0.0/8'] } })).toEqual(['options.homeNet: is a setting of the suricata-eve preset, not of wazuh']);
    expect(issues({ ...PLAIN, format: 'text', patterns: ['^(?<x>.'] })).toEqual([
      expect.stringMatching(/^patterns\.0: is not a regular expression: .+/) as unknown,
    ]);
    expect(issues({ ...PLAIN, format: 'text', patterns: ['^backup failed$'] })).toEqual([
      'patterns.0: has no named group such as (?<host>\\S+): nothing to map',
    ]);
    expect(issues({ ...PLAIN, schedule: 'every minute' })).toEqual([expect.stringMatching(/^schedule: "every minute" is not a cron expression/) as unknown]);
  });
});

describe('file connector: the README example', () => {
  it('validates, connector by connector', () => {
    const example = parse(`
connectors:
  - name: wazuh
    type: file
    path: /var/ossec/logs/alerts/alerts.json
    preset: wazuh
  - name: suricata
    type: file
    path: /var/log/suricata/eve.json
    preset: suricata-eve
  - name: clamscan
    type: file
    path: /var/log/clamav/scan.log
    preset: clamav
    mapping:
      asset: { value: web-01 }
  - name: freshclam
    type: file
    path: /var/log/clamav/freshclam.log
    preset: clamav
    mapping:
      asset: { value: web-01 }
  - name: backups
    type: file
    path: /var/log/backup.log
    family: backup
    control: A.8.13
    format: text
    schedule: "*/30 * * * * *"
    patterns:
      - '^(?<time>\\S+) backup (?<job>\\S+) (?<result>failed|ok)'
    mapping:
      status: { path: result, map: { failed: firing, ok: resolved } }
      observedAt: time
      check: job
      message: line
`) as { connectors: unknown[] };
    for (const connector of example.connectors) expect(fileConnector.schema.safeParse(connector).error).toBeUndefined();
  });
});

describe('file connector: plain text', () => {
  it('maps the named groups of the first pattern that matches; lines that match none are skipped, not dead-lettered', async () => {
    writeFileSync(log, ['backup nightly@db-01 failed: disk full', 'rotating logs', 'backup nightly@db-01 ok', ''].join('\n'));
    const t = tail({
      path: log,
      family: 'backup',
      format: 'text',
      patterns: ['^backup (?<job>\\S+)@(?<host>\\S+) failed: (?<reason>.+)$', '^backup (?<job>\\S+)@(?<host>\\S+) (?<result>ok)$'],
      mapping: { status: { path: 'result', map: { ok: 'resolved' }, default: 'firing' }, check: 'job', asset: 'host', message: 'line' },
    });
    const alerts = await t.poll();
    expect(alerts.map((alert) => [alert.status, alert.check, alert.asset, alert.message])).toEqual([
      ['firing', 'nightly', 'db-01', 'backup nightly@db-01 failed: disk full'],
      ['resolved', 'nightly', 'db-01', 'backup nightly@db-01 ok'],
    ]);
    expect(t.rejected).toEqual([]);
  });
});

describe('file connector: presets on real documents', () => {
  it('wazuh: an alert from alerts.json (Wazuh documentation)', async () => {
    writeFileSync(log, readFileSync(join(FIXTURES, 'wazuh', 'alerts.json')));
    const t = tail({ path: log, preset: 'wazuh' });
    const [alert, ...rest] = await t.poll();
    expect(rest).toEqual([]);
    expect(t.rejected).toEqual([]);
    expect(alert).toEqual({
      id: '1612213124.6448363',
      source: 'logs',
      family: 'siem',
      status: 'firing',
      observedAt: Date.parse('2021-02-01T20:58:44.830Z'),
      asset: 'ubuntu-bionic',
      check: '31168',
      message: 'Shellshock attack detected',
      severity: 'critical',
      control: 'A.8.16',
      labels: { agentId: '000', manager: 'ubuntu-bionic', decoder: 'web-accesslog', location: '/var/log/nginx/access.log', ruleLevel: '15' },
      evidence: {
        alertId: '1612213124.6448363',
        timestamp: '2021-02-01T20:58:44.830+0000',
        ruleGroups: ['web', 'accesslog', 'attack'],
        location: '/var/log/nginx/access.log',
        file: log,
        inode: inode(log),
        offset: 0,
      },
    });
  });

  it('suricata-eve: only event_type alert becomes an alert; flows, DNS, TLS, HTTP, SSH and file events are skipped', async () => {
    writeFileSync(log, readFileSync(join(FIXTURES, 'suricata', 'eve-small.log')));
    const t = tail({ path: log, preset: 'suricata-eve' });
    const alerts = await t.poll();
    expect(t.rejected).toEqual([]);
    expect(alerts).toEqual([
      {
        id: '904992230150281:2018-07-05T15:07:20.910626-0400:1:2024833',
        source: 'logs',
        family: 'siem',
        status: 'firing',
        observedAt: Date.parse('2018-07-05T19:07:20.910Z'),
        asset: '192.168.156.70',
        check: '1:2024833',
        message: 'ET POLICY Observed IP Lookup Domain (l2 .io in TLS SNI)',
        severity: 'high',
        control: 'A.8.16',
        labels: {
          category: 'Potential Corporate Privacy Violation',
          action: 'allowed',
          srcIp: '192.168.86.85',
          destIp: '192.168.156.70',
          destPort: '443',
          proto: 'TCP',
          appProto: 'tls',
        },
        evidence: {
          flowId: 904992230150281,
          timestamp: '2018-07-05T15:07:20.910626-0400',
          signatureId: 2024833,
          rev: 3,
          txId: 0,
          srcPort: 55641,
          inIface: 'en0',
          file: log,
          inode: inode(log),
          offset: readFileSync(log, 'utf8').indexOf('{"timestamp":"2018-07-05T15:07:20'),
        },
      },
    ]);
  });

  it('suricata-eve: two alerts of one flow stay two; severity follows the rule priority; the asset is the internal client', async () => {
    writeFileSync(log, readFileSync(join(FIXTURES, 'suricata', 'eve-alerts.log')));
    const t = tail({ path: log, preset: 'suricata-eve' });
    const alerts = await t.poll();
    expect(alerts.map((alert) => [alert.id, alert.check, alert.severity, alert.asset])).toEqual([
      ['2191386088856669:2018-10-03T14:42:44.836744+0000:1:2013028', '1:2013028', 'medium', '192.168.1.146'],
      ['678269478904081:2018-10-03T16:16:26.711841+0000:1:2013028', '1:2013028', 'medium', '192.168.1.146'],
      ['112424506237238:2018-10-04T09:34:59.168340+0000:1:2013504', '1:2013504', 'low', '192.168.1.146'],
      ['112424506237238:2018-10-04T09:34:59.288862+0000:1:2013504', '1:2013504', 'low', '192.168.1.146'],
    ]);
    expect(alerts[0]?.observedAt).toBe(Date.parse('2018-10-03T14:42:44.836Z'));
  });
});

describe('file connector: properties', () => {
  const chunk = fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(`${JSON.stringify(value)}\n`)),
    fc.record({ n: fc.string(), state: fc.constantFrom('firing', 'resolved', 'ok') }).map((value) => Buffer.from(`${JSON.stringify(value)}\n`)),
    fc.constantFrom('\n', '\r\n', 'eicar.com: Eicar-Test-Signature FOUND\n', '{"event_type":"alert"}\n').map((text) => Buffer.from(text)),
  );

  it('any bytes appended never crash a poll: each complete line is an alert, a dead letter or empty, and the checkpoint ends at the last newline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(chunk, { maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (appends) => {
        rmSync(log, { force: true });
        writeFileSync(log, '');
        const t = tail({ path: log, ...PLAIN });
        const answered = new Set<number>();
        for (const append of appends) {
          appendFileSync(log, Buffer.concat(append));
          for (const alert of await t.poll()) answered.add(canonicalAlertSchema.parse(alert).evidence.offset as number);
        }
        for (const letter of t.rejected) for (const error of letter.errors) answered.add(Number(/@(\d+)/.exec(error.path)?.[1]));
        const bytes = readFileSync(log);
        const end = bytes.lastIndexOf(0x0a) + 1;
        const lines = new Set<number>();
        for (let start = 0; start < end; start = bytes.indexOf(0x0a, start) + 1) {
          const text = bytes.subarray(start, bytes.indexOf(0x0a, start)).toString('utf8').replace(/\r$/, '').trim();
          // Blank lines, and JSON arrays without items, hold no alert: there is nothing to answer.
          if (text !== '' && !/^\[[ \t]*\]$/.test(text)) lines.add(start);
        }
        expect([...answered].sort((a, b) => a - b)).toEqual([...lines].sort((a, b) => a - b));
        expect((t.checkpoint as { current: { offset: number } }).current.offset).toBe(end);
      }),
      { numRuns: 150 },
    );
  });

  it('the presets never crash a poll either, whatever the lines hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('wazuh', 'suricata-eve', 'clamav'), fc.array(chunk, { maxLength: 8 }), async (preset, append) => {
        rmSync(log, { force: true });
        writeFileSync(log, Buffer.concat(append));
        const t = tail({ path: log, preset });
        for (const alert of await t.poll()) canonicalAlertSchema.parse(alert);
      }),
      { numRuns: 150 },
    );
  });
});
