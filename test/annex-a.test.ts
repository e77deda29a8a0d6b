import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANNEX_A_FILE, loadAnnexA } from '../src/config/annex-a.js';
import { ConfigError, policyFromConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { controlIdsIn, controlPattern, controlPatternMatchesNone, readControl } from '../src/core/annex-a.js';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/log.js';
import { createNotifier, type NotifierConfig } from '../src/notifiers/registry.js';
import { openNc } from './helpers/nc.js';
import { MemoryTicketLinks } from './helpers/ticket-links.js';
import { ANNEX_A_ID } from '../src/core/types.js';
import type { Daemon } from '../src/daemon.js';
import { WEBHOOK_TOKEN, api, eventually, runDaemon, testConfig } from './helpers/daemon.js';
import { dropPrefix, startRedis, testPrefix, type TestRedis } from '../bench/programs/redis.js';

const run = promisify(execFile);
const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8'));

function range(theme: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `A.${theme}.${index + 1}`);
}

describe('the Annex A catalogue', () => {
  const catalogue = loadAnnexA();

  it('lists the 93 controls of 2022 and the 114 of 2013, each 2013 control pointing at 2022 controls it lists', () => {
    expect([...catalogue.controls.keys()]).toEqual([...range(5, 37), ...range(6, 8), ...range(7, 14), ...range(8, 34)]);
    expect([...catalogue.controls.values()].every((title) => title.length > 3)).toBe(true);
    expect(catalogue.from2013.size).toBe(114);
    // The 14 clauses of 2013, A.5 to A.18, each with its own controls.
    expect(new Set([...catalogue.from2013.keys()].map((id) => id.split('.')[1]))).toEqual(new Set(Array.from({ length: 14 }, (_, index) => String(index + 5))));
    for (const targets of catalogue.from2013.values()) for (const target of targets) expect(catalogue.controls.has(target)).toBe(true);
    // Every 2022 control either comes from 2013 or is one of the 11 new ones.
    const reached = new Set([...catalogue.from2013.values()].flat());
    expect([...catalogue.controls.keys()].filter((id) => !reached.has(id))).toEqual(['A.5.7', 'A.5.23', 'A.5.30', 'A.7.4', 'A.8.9', 'A.8.10', 'A.8.11', 'A.8.12', 'A.8.16', 'A.8.23', 'A.8.28']);
  });

  it('reads a 2013 id as its 2022 control, the first where there are two, and marks an id it does not know', () => {
    expect(readControl(catalogue, 'A.12.3.1')).toEqual({ control: 'A.8.13', asReported: 'A.12.3.1' });
    expect(catalogue.from2013.get('A.18.2.3')).toEqual(['A.5.36', 'A.8.8']);
    expect(readControl(catalogue, 'A.18.2.3')).toEqual({ control: 'A.5.36', asReported: 'A.18.2.3' });
    expect(readControl(catalogue, 'A.8.13')).toEqual({ control: 'A.8.13' });
    expect(readControl(catalogue, 'A.8.99')).toEqual({ control: 'A.8.99', unknown: true });
  });

  it('reads the 2013 ids Prowler cites in its Common Cloud Controls mapping', () => {
    const ccc = fixture('prowler/ccc_aws.trimmed.json') as {
      Requirements: Array<{ Attributes: Array<{ SectionGuidelineMappings: Array<{ ReferenceId: string; Identifiers: string[] }> }> }>;
    };
    const cited = ccc.Requirements.flatMap((requirement) => requirement.Attributes.flatMap((attribute) => attribute.SectionGuidelineMappings))
      .filter((mapping) => mapping.ReferenceId === 'ISO_27001')
      .flatMap((mapping) => mapping.Identifiers);
    // Prowler writes the edition before the id: "2013 A.12.3.1".
    expect(cited).toEqual(['2013 A.12.3.1']);
    expect(cited.flatMap(controlIdsIn).map((id) => readControl(catalogue, id))).toEqual([{ control: 'A.8.13', asReported: 'A.12.3.1' }]);
  });

  it('reads a whole 2013 id in a match pattern as its 2022 control, and tells a pattern no 2022 control fits', () => {
    expect(controlPattern(catalogue, 'A.12.3.1')).toBe('A.8.13');
    expect(controlPattern(catalogue, 'A.8.13')).toBe('A.8.13');
    expect(controlPattern(catalogue, 'A.8.*')).toBe('A.8.*');
    expect(['A.12.*', 'A.12.3.*', 'A.9*', 'A.8.99'].filter((pattern) => controlPatternMatchesNone(catalogue, pattern))).toEqual(['A.12.*', 'A.12.3.*', 'A.9*', 'A.8.99']);
    expect(['A.8.*', 'A.5.1*', 'A.12.3.1', '*'].filter((pattern) => controlPatternMatchesNone(catalogue, pattern))).toEqual([]);

    // As the daemon builds them: a detector and a notifier filtering on A.12.3.1 take an A.8.13 NC.
    const config = configSchema.parse({
      redis: { url: 'redis://127.0.0.1:6379' },
      api: { token: 't' },
      detectors: [{ name: 'backups', type: 'recurrence', match: { control: 'A.12.3.1' } }],
      notifiers: [{ name: 'soc', type: 'webhook', url: 'https://soc.example.org/recurd', secret: 's', match: { control: ['A.12.3.1'] } }],
    });
    const [detector] = policyFromConfig(config, catalogue).detectors;
    expect(detector?.matches({ source: 'restic', family: 'backup', check: 'nightly', control: 'A.8.13', labels: {} })).toBe(true);
    const notifier = createNotifier(config.notifiers[0] as NotifierConfig, { links: new MemoryTicketLinks(), clock: systemClock, logger: createLogger('silent'), annexA: catalogue, baseUrl: null });
    expect(notifier.wants({ id: 'NC-2026-0042.1-0', type: 'nc.opened', at: 0, nc: { ...openNc(), control: 'A.8.13' } })).toBe(true);
  });

  it("takes Prowler's ISO 27001:2013 objectives (A.12.4.A) for what they are: no Annex A control id", () => {
    const framework = fixture('prowler/iso27001_2013_aws.trimmed.json') as { Requirements: Array<{ Attributes: Array<{ Objetive_ID: string }> }> };
    const objectives = framework.Requirements.flatMap((requirement) => requirement.Attributes.map((attribute) => attribute.Objetive_ID));
    expect(objectives).toEqual(['A.10.1.A', 'A.12.4.A']);
    expect(objectives.filter((id) => ANNEX_A_ID.test(id))).toEqual([]);
  });

  it('refuses a missing or broken catalogue file, naming the file and what is wrong', () => {
    const folder = mkdtempSync(join(tmpdir(), 'recurd-annex-'));
    expect(() => loadAnnexA(join(folder, 'absent.yaml'))).toThrow(/absent\.yaml:\n {2}the Annex A catalogue is missing/);
    const broken = join(folder, 'broken.yaml');
    writeFileSync(broken, 'controls:\n  A.8.13: Information backup\nfrom2013:\n  A.12.3.1: [A.8.14]\n  A.12.3: [A.8.13]\n');
    const error = (() => {
      try {
        loadAnnexA(broken);
      } catch (thrown) {
        return thrown;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('from2013.A.12.3: not a 2013 control id such as A.12.3.1');
    const notListed = join(folder, 'not-listed.yaml');
    writeFileSync(notListed, 'controls:\n  A.8.13: Information backup\nfrom2013:\n  A.12.3.1: [A.8.14]\n');
    expect(() => loadAnnexA(notListed)).toThrow('from2013.A.12.3.1: A.8.14 is not one of the 2022 controls listed under controls');
  });

  it('is the file the package ships in config/', () => {
    expect(DEFAULT_ANNEX_A_FILE).toBe(new URL('../config/annex-a.yaml', import.meta.url).pathname);
  });
});

describe('recurd validate', () => {
  it('warns about a control id the catalogue does not know, two overrides of one control and a match pattern no control fits, and still passes', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'recurd-validate-'));
    const file = join(folder, 'recurd.yaml');
    writeFileSync(
      file,
      [
        'redis: { url: "redis://127.0.0.1:6379" }',
        'api: { token: api-token-for-validate }',
        'connectors:',
        '  - { name: sca, type: webhook, family: config-drift, control: A.8.99, auth: { type: bearer, token: t0k3n-for-validate }, mapping: { id: id, status: status } }',
        'policy:',
        '  controls:',
        '    A.12.3.1: { window: 14d }',
        '    A.8.13: { window: 60d }',
        'detectors:',
        '  - { name: operations, type: recurrence, match: { control: "A.12.*" } }',
        'notifiers:',
        '  - { name: soc, type: webhook, url: "https://soc.example.org/recurd", secret: s3cr3t-for-validate, match: { control: [A.12.3.1, A.8.*, A.13.*, A.8.99] } }',
        '',
      ].join('\n'),
    );
    // The compiled CLI (built by test/global-setup.ts), as users run it.
    const cli = new URL('../dist/src/cli.js', import.meta.url).pathname;
    const { stdout, stderr } = await run(process.execPath, [cli, 'validate', file]);
    expect(stderr).toContain(`${file}: warning: connectors.0.control: A.8.99 is in neither the 2022 controls nor the 2013 table of the Annex A catalogue; its NCs are marked controlUnknown`);
    expect(stderr).toContain(`${file}: warning: policy.controls.A.8.13: A.8.13 and A.12.3.1 are both A.8.13: only the later override applies`);
    // A 2013 theme matches no control NCs are filed under; a whole 2013 id is read as its 2022 control.
    const noneFits = 'matches none of the 2022 controls NCs are filed under (A.5.1 to A.8.34); a 2013 id is read as its 2022 control only when written whole';
    expect(stderr).toContain(`${file}: warning: detectors.0.match.control: A.12.* ${noneFits}`);
    expect(stderr).toContain(`${file}: warning: notifiers.0.match.control.2: A.13.* ${noneFits}`);
    expect(stderr).toContain(`${file}: warning: notifiers.0.match.control.3: A.8.99 is in neither the 2022 controls nor the 2013 table`);
    expect(stdout).toContain(`${file}: OK (1 connector(s), 1 notifier(s), 5 warning(s))`);
  });
});

interface NcJson {
  id: string;
  control: string;
  controlAsReported?: string;
  controlUnknown?: boolean;
  check: string;
}

describe('a 2013 id from a real Wazuh SCA event, through the daemon', () => {
  let redis: TestRedis;
  let prefix: string;
  let daemon: Daemon;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await daemon.stop();
    await dropPrefix(redis.client, prefix);
    await redis.stop();
  });

  it('files the recurrence of a failed check under A.8.20 and keeps A.13.1.1 as what Wazuh said', async () => {
    prefix = testPrefix();
    daemon = await runDaemon(
      testConfig(redis.url, prefix, {
        connectors: [
          {
            name: 'wazuh-sca',
            type: 'webhook',
            family: 'config-drift',
            auth: { type: 'bearer', token: WEBHOOK_TOKEN },
            mapping: {
              id: 'data.sca.scan_id',
              status: { path: 'data.sca.check.result', map: { failed: 'firing', passed: 'resolved' } },
              observedAt: 'timestamp',
              check: 'data.sca.check.id',
              message: 'data.sca.check.title',
              control: 'data.sca.check.compliance.iso_27001-2013',
            },
          },
          {
            name: 'unknown-control',
            type: 'webhook',
            family: 'config-drift',
            control: 'A.8.99',
            auth: { type: 'bearer', token: WEBHOOK_TOKEN },
            mapping: { id: 'data.sca.scan_id', status: { path: 'data.sca.check.result', map: { failed: 'firing', passed: 'resolved' } }, observedAt: 'timestamp', check: 'data.sca.check.id' },
          },
        ],
      }),
    );
    const event = fixture('wazuh/sca-docs-check-19098.json') as { data: { sca: { scan_id: string; check: { result: string } } } };
    // Three scans an hour apart, as Wazuh reports a check whose result changed: failed, passed, failed.
    const now = Date.now();
    const scans = ['failed', 'passed', 'failed'].map((result, index) => {
      const scan = structuredClone(event);
      scan.data.sca.scan_id = `${event.data.sca.scan_id}-${index}`;
      scan.data.sca.check.result = result;
      return { ...scan, timestamp: new Date(now - (3 - index) * 3_600_000).toISOString() };
    });
    for (const connector of ['wazuh-sca', 'unknown-control']) {
      for (const scan of scans) {
        const response = await fetch(`${daemon.address}/hooks/${connector}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
          body: JSON.stringify(scan),
        });
        expect(response.status).toBe(202);
      }
    }
    const ncs = await eventually(async () => {
      const { body } = await api<{ nonconformities: NcJson[] }>(daemon.address, '/api/v1/nonconformities');
      return body.nonconformities.length === 2 ? body.nonconformities : undefined;
    });
    const byControl = Object.fromEntries(ncs.map((nc) => [nc.control, nc]));
    expect(byControl['A.8.20']).toMatchObject({ control: 'A.8.20', controlAsReported: 'A.13.1.1', check: '19098' });
    expect(byControl['A.8.20']).not.toHaveProperty('controlUnknown');
    expect(byControl['A.8.99']).toMatchObject({ control: 'A.8.99', controlUnknown: true });
    expect(byControl['A.8.99']).not.toHaveProperty('controlAsReported');
    const shown = await api<NcJson>(daemon.address, `/api/v1/nonconformities/${byControl['A.8.20']?.id ?? ''}`);
    expect(shown.body).toMatchObject({ control: 'A.8.20', controlAsReported: 'A.13.1.1' });
    // Metrics see the 2022 id only.
    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metrics).toMatch(/control="A\.8\.20"/);
    expect(metrics).not.toMatch(/control="A\.13\.1\.1"/);
  });
});
