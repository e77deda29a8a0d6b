/**
 * Corrective-action quality: which recorded actions treat only the symptom, and what a reopened
 * nonconformity needs (the five whys and a cause category) before a new action is accepted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_STRENGTHS,
  CAUSE_CATEGORIES,
  CAUSE_CATEGORY_GROUPS,
  causeGroup,
  classifyAction,
  reopenNote,
  requiresRootCauseAnalysis,
  type ActionSignal,
} from '../../src/core/corrective-action.js';
import { checkRootCauseAnalysis, missingForReopenedAction, rootCauseAnalysisSchema } from '../../src/core/root-cause-analysis.js';
import type { Nonconformity } from '../../src/core/types.js';

describe('classifyAction: symptom-only actions are weak', () => {
  it.each<[ActionSignal, string, string[]]>([
    ['restart', 'Restarted the backup agent on srv-db-01', ['Restarted']],
    ['restart', 'Rebooted SRV-FS-02 after the Veeam job hung', ['Rebooted']],
    ['restart', 'Bounced the Wazuh manager service', ['Bounced']],
    ['re-enable', 'Re-enabled Defender real-time protection on WS-0042', ['Re-enabled']],
    ['re-enable', 'Turned the audit log back on for the finance share', ['Turned the audit log back on']],
    ['re-run', 'Re-ran the failed Veeam job', ['Re-ran']],
    ['re-run', 'Reran the nightly SQL backup by hand', ['Reran']],
    ['re-run', 'Retried the upload to the offsite bucket', ['Retried']],
    ['re-run', 'Ran the signature update again on the affected hosts', ['Ran the signature update again']],
    ['silence-alert', 'Acknowledged the alert on srv-db-01', ['Acknowledged the alert']],
    ['silence-alert', 'Silenced the noisy drift alerts for the DMZ', ['Silenced the noisy drift alerts']],
    ['remind-retrain', 'Reminded the on-call team to check the backup dashboard', ['Reminded']],
    ['remind-retrain', 'Retrained staff on the phishing reporting button', ['Retrained']],
    ['remind-retrain', 'Asked the admins to verify backups every Monday', ['Asked the admins']],
    ['remind-retrain', 'Security awareness session held for the helpdesk', ['awareness']],
    ['document', 'Updated the runbook', ['Updated the runbook']],
    ['document', 'Added a section on restore tests to the backup procedure', ['Added a section on restore tests to the backup procedure']],
    ['document', 'Documented the certificate renewal steps', ['Documented']],
    ['document', 'Wiki page updated with the new steps', ['Wiki page updated']],
    ['manual-fix', 'Manually renewed the TLS certificate on the load-balancer host', ['Manually', 'renewed']],
    ['manual-fix', 'Cleared the disk on srv-log-01 by deleting old archives', ['Cleared', 'deleting']],
  ])('%s: %s', (signal, text, matched) => {
    const result = classifyAction(text);
    expect(result.strength).toBe('weak');
    expect(result.categories).toContain(signal);
    for (const phrase of matched) expect(result.matched.join(' | ')).toContain(phrase);
    expect(result.reason).toMatch(/^symptom-only: .*; nothing removes the cause/);
  });

  it('says what the restart is and that nothing removes the cause', () => {
    expect(classifyAction('Restarted the backup agent on srv-db-01')).toEqual({
      strength: 'weak',
      reason: 'symptom-only: restarts or reboots ("Restarted"); nothing removes the cause',
      matched: ['Restarted'],
      categories: ['restart'],
    });
  });

  it('names every symptom-only step of a longer action', () => {
    const result = classifyAction('Documented the steps in the wiki and reminded the team; re-ran the job');
    expect(result.strength).toBe('weak');
    expect(result.categories).toEqual(['document', 'remind-retrain', 're-run']);
    expect(result.reason).toBe(
      'symptom-only: updates a document ("Documented"), reminds or retrains people ("reminded"), re-runs or retries ("re-ran"); nothing removes the cause',
    );
  });

  it('is weak when nothing shows the cause removed, and says so', () => {
    const result = classifyAction('Blocked the source IP on the perimeter firewall');
    expect(result).toMatchObject({ strength: 'weak', matched: [], categories: [] });
    expect(result.reason).toMatch(/^weak: nothing shows that the cause was removed \(no automation, enforcement/);
  });

  it.each(['', '   ', '\n\t '])('is weak for empty text %j, with a reason saying the action is empty', (text) => {
    expect(classifyAction(text)).toEqual({
      strength: 'weak',
      reason: 'weak: the corrective action is empty, so nothing shows that the cause was removed',
      matched: [],
      categories: [],
    });
  });
});

describe('classifyAction: cause-removing actions are strong', () => {
  it.each<[ActionSignal, string, string[]]>([
    ['automation', 'Automated the certificate renewal with certbot', ['Automated']],
    ['automation', 'Added a TLS version check to the CI pipeline', ['to the CI']],
    ['automation', 'A scheduled restore test now runs every Sunday', ['scheduled restore test']],
    ['automation', 'Certificates auto-renew through ACME', ['auto-renew']],
    ['enforcement', 'Enforced TLS 1.2 via GPO', ['Enforced', 'via GPO']],
    ['enforcement', 'Codified the sshd hardening in the Ansible role', ['in the Ansible']],
    ['enforcement', 'Public buckets are denied with policy-as-code (OPA)', ['policy-as-code']],
    ['enforcement', 'Defender exclusions are now managed by Intune', ['by Intune']],
    ['monitoring', 'Added a Prometheus alert for backup age', ['Added a Prometheus alert']],
    ['monitoring', 'Zabbix alerts the on-call when the last backup is older than 26 hours', ['alerts the on-call when']],
    ['monitoring', 'Alerting was configured for AV signature age', ['Alerting was configured']],
    ['monitoring', 'The agent heartbeat is now monitored with a Grafana alert', ['now monitored']],
    ['redundancy', 'Removed the single point of failure by adding a second backup target', ['Removed the single point of failure', 'second backup target']],
    ['redundancy', 'The log collector is no longer a single point of failure', ['no longer a single point of failure']],
    ['redundancy', 'Added a redundant syslog relay', ['redundant']],
    ['redundancy', 'Configured automatic failover for the SIEM ingest nodes', ['failover']],
    ['owner-measure', 'Owner: J. Doe; measure: weekly restore test success rate ≥ 99%', ['Owner', 'success rate', '≥ 99%']],
    ['owner-measure', 'Backup verification is owned by the infra lead, KPI reviewed monthly', ['owned by', 'KPI']],
  ])('%s: %s', (signal, text, matched) => {
    const result = classifyAction(text);
    expect(result.strength).toBe('strong');
    expect(result.categories).toContain(signal);
    for (const phrase of matched) expect(result.matched).toContain(phrase);
    expect(result.reason).toMatch(/^strong: /);
  });

  it('names each strong signal in its reason', () => {
    expect(classifyAction('Automated the certificate renewal with certbot and added an alert on expiry < 14 days')).toEqual({
      strength: 'strong',
      reason: 'strong: automates it ("Automated"), monitors it with an alert ("added an alert")',
      matched: ['Automated', 'added an alert'],
      categories: ['automation', 'monitoring'],
    });
  });

  it('needs both an owner and a measure', () => {
    const ownerOnly = classifyAction('Owner: J. Doe');
    expect(ownerOnly.strength).toBe('weak');
    expect(ownerOnly.reason).toContain('an owner is named ("Owner") but no measure');
    expect(classifyAction('Restore test success rate ≥ 99%').strength).toBe('weak');
  });
});

describe('classifyAction: mixed actions', () => {
  it('is strong when a cause-removing step sits beside the symptom treatment, and names both', () => {
    const result = classifyAction('Restarted the agent and added an alert when the last backup is older than 26 hours');
    expect(result.strength).toBe('strong');
    expect(result.matched).toEqual(['added an alert']);
    expect(result.reason).toBe(
      'strong: monitors it with an alert ("added an alert"); the symptom-only steps beside it (restarts or reboots ("Restarted")) do not weaken it',
    );
  });

  it('keeps "restarted and automated" as two steps: the automation counts', () => {
    expect(classifyAction('Restarted and automated the renewal').strength).toBe('strong');
    expect(classifyAction('Restarted the service, then enforced the setting via Puppet').strength).toBe('strong');
  });

  it.each([
    ['an automatic restart', 'Configured an automatic restart of the backup agent'],
    ['automating the restart', 'Automated the restart of the backup agent'],
    ['a scheduled reboot', 'Scheduled a nightly reboot of srv-fs-02'],
    ['a cron job that reboots', 'Cron job that reboots the server weekly'],
    ['retries that happen automatically', 'The upload job now retries automatically'],
  ])('is weak for %s: automating a symptom treatment still treats the symptom', (_case, text) => {
    const result = classifyAction(text);
    expect(result.strength).toBe('weak');
    expect(result.reason).toContain('automating a symptom treatment still treats only the symptom');
    expect(result.reason).toContain('(part of the symptom treatment)');
  });

  it.each([
    ['re-running an automated job', 'Re-ran the automated backup job', 'describes what was already there'],
    ['restarting replication', 'Restarted replication to the DR site', 'part of the symptom treatment'],
    ['re-enabling an alert', 'Re-enabled the backup age alert', null],
    ['re-running a playbook', 'Re-ran the Ansible playbook', null],
    ['restarting the monitoring agent', 'Restarted the monitoring agent', null],
  ])('is weak for %s: the strong word is only the object of the treatment', (_case, text, note) => {
    const result = classifyAction(text);
    expect(result.strength).toBe('weak');
    if (note !== null) expect(result.reason).toContain(note);
  });
});

describe('classifyAction: negations', () => {
  it('does not call an action symptom-only for a restart it negates', () => {
    const result = classifyAction('The agent no longer relies on restarts: its memory leak was fixed in v2.3');
    expect(result.categories).not.toContain('restart');
    expect(result.matched).toEqual([]);
    expect(result.reason).toContain('not counted: "restarts" (negated)');
  });

  it.each([
    ['instead of', 'Instead of restarting the agent, fixed its memory leak and added a regression test to CI'],
    ['replaced', 'Replaced the manual restart with a health check that alerts the on-call when the agent stops'],
    ['no more', 'Automated the renewal so there are no more manual restarts'],
    ['without', 'Enforced the backup schedule via Ansible, without re-running jobs by hand'],
  ])('drops a negated symptom treatment (%s) and keeps the strong step', (_negation, text) => {
    const result = classifyAction(text);
    expect(result.strength).toBe('strong');
    expect(result.reason).not.toContain('symptom-only steps beside it');
  });

  it.each([
    ['did not', 'Did not automate the renewal; renewed the certificate manually', '"automate" (negated)'],
    ['no', 'Restarted the agent; no alert was added', '"alert was added" (negated)'],
    ['without', 'Renewed the certificate without automation', '"automation" (negated)'],
    ['not', 'The renewal is not automated yet, so it was renewed by hand', '"automated" (negated)'],
  ])('drops a negated strong signal (%s) and says so', (_negation, text, note) => {
    const result = classifyAction(text);
    expect(result.strength).toBe('weak');
    expect(result.reason).toContain(note);
  });

  it('does not carry a negation across clauses', () => {
    expect(classifyAction('Did not patch the host, but restarted it').categories).toEqual(['restart']);
    expect(classifyAction('No downtime was needed; automated the renewal').strength).toBe('strong');
  });
});

describe('classifyAction: properties', () => {
  it('folds typographic dashes and apostrophes', () => {
    expect(classifyAction('Re\u2011enabled the agent').categories).toEqual(['re-enable']);
    expect(classifyAction('Didn\u2019t automate it; restarted it').reason).toContain('(negated)');
  });

  it('is case-insensitive', () => {
    expect(classifyAction('ENFORCED TLS 1.2 VIA GPO')).toMatchObject({ strength: 'strong', categories: ['enforcement'] });
    expect(classifyAction('restarted the agent')).toMatchObject({ strength: 'weak', categories: ['restart'] });
  });

  it('respects word boundaries', () => {
    // a signal inside a longer word is not the signal
    expect(classifyAction('Fixed the prestart hook').categories).toEqual([]);
    expect(classifyAction('Checked the prerun config').categories).toEqual([]);
  });

  it('classifies any text without throwing, with a known class and a non-empty reason', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: 'grapheme' }), (text) => {
        const result = classifyAction(text);
        expect(ACTION_STRENGTHS).toContain(result.strength);
        expect(result.reason.trim()).not.toBe('');
        for (const phrase of result.matched) expect(text).toContain(phrase);
        expect(result.strength === 'strong').toBe(result.categories.length > 0 && result.reason.startsWith('strong:'));
      }),
      { numRuns: 1000 },
    );
  });

  const words = fc.constantFrom(
    'restarted', 'the', 'agent', 'automated', 'no', 'longer', 'alert', 'on', 'owner:', 'KPI', '≥ 99%', 'not', 'via', 'GPO', 'and', 'then',
    'instead of', 're-ran', 'single point of failure', 'removed', 'second', 'site', ',', ';', '.', 'runbook', 'updated', 'cron', 'job',
  );

  it('classifies any sentence made of signal words, and the reason names every matched phrase', () => {
    fc.assert(
      fc.property(fc.array(words, { maxLength: 25 }), (parts) => {
        const text = parts.join(' ');
        const result = classifyAction(text);
        expect(result.reason.trim()).not.toBe('');
        for (const phrase of result.matched) expect(result.reason).toContain(`"${phrase}"`);
      }),
      { numRuns: 1000 },
    );
  });

  it('is weak when a symptom treatment is the only signal, however it is worded around', () => {
    fc.assert(
      fc.property(fc.constantFrom('Restarted', 'Rebooted', 'Re-ran', 'Re-enabled', 'Reminded the team about', 'Updated the runbook for'), fc.stringMatching(/^[a-z0-9 -]{0,30}$/), (verb, object) => {
        fc.pre(classifyAction(object).categories.length === 0);
        expect(classifyAction(`${verb} ${object}`).strength).toBe('weak');
      }),
    );
  });

  it('stays fast on long hostile input', () => {
    const inputs = ['a'.repeat(50_000), '9'.repeat(50_000), 'not '.repeat(10_000) + 'restarted', `${'re-'.repeat(10_000)}run`, ' '.repeat(50_000) + 'x', 'automated restart '.repeat(3_000)];
    const started = performance.now();
    for (const text of inputs) classifyAction(text);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('reopenNote', () => {
  it('says a reopened NC’s action was symptom-only when it was weak', () => {
    expect(reopenNote('weak')).toBe(
      'the corrective action was symptom-only (weak): it treated the symptom, not its cause, so its return was to be expected; a root-cause analysis (the five whys and a cause category) is required before a new corrective action is accepted',
    );
    const { strength, reason } = classifyAction('Restarted the backup agent');
    expect(reopenNote(strength, reason)).toContain('symptom-only (weak) (symptom-only: restarts or reboots ("Restarted"); nothing removes the cause):');
  });

  it('says nothing for a strong or an unclassified action', () => {
    expect(reopenNote('strong')).toBeNull();
    expect(reopenNote(null)).toBeNull();
  });
});

describe('root-cause analysis', () => {
  const reopened: Pick<Nonconformity, 'state' | 'reopenCount'> = { state: 'reopened', reopenCount: 1 };
  const whys = [
    'The nightly backup of srv-db-01 failed again',
    'The backup agent ran out of memory',
    'The database grew past what the agent was sized for',
    'Nobody reviews agent sizing when databases grow',
    'Capacity review has no owner in the backup process',
  ];
  const complete = { whys, category: 'process-gap', summary: 'capacity review missing from the backup process' };
  const choices = 'one of design-flaw, process-gap, tool-limitation (technical), governance-ownership, culture (organisational)';

  it('groups the cause categories as technical and organisational', () => {
    expect(CAUSE_CATEGORY_GROUPS).toEqual({
      technical: ['design-flaw', 'process-gap', 'tool-limitation'],
      organisational: ['governance-ownership', 'culture'],
    });
    expect(CAUSE_CATEGORIES).toEqual(['design-flaw', 'process-gap', 'tool-limitation', 'governance-ownership', 'culture']);
    expect(CAUSE_CATEGORIES.map(causeGroup)).toEqual(['technical', 'technical', 'technical', 'organisational', 'organisational']);
  });

  it('accepts a complete analysis, trimmed', () => {
    expect(missingForReopenedAction(reopened, complete)).toEqual([]);
    const checked = checkRootCauseAnalysis({ ...complete, whys: whys.map((why) => `  ${why} `) });
    expect(checked).toEqual({ ok: true, analysis: complete });
    expect(rootCauseAnalysisSchema.parse({ whys, category: 'culture' })).toEqual({ whys, category: 'culture' });
  });

  it('accepts a chain deeper than five whys, up to ten', () => {
    expect(missingForReopenedAction(reopened, { ...complete, whys: [...whys, 'a sixth why'] })).toEqual([]);
    expect(missingForReopenedAction(reopened, { ...complete, whys: Array.from({ length: 11 }, (_, i) => `why ${i}`) })).toEqual([
      'rootCauseAnalysis.whys has more than 10 answers',
    ]);
  });

  it('is not required before the first reopen', () => {
    expect(requiresRootCauseAnalysis({ state: 'open', reopenCount: 0 })).toBe(false);
    expect(missingForReopenedAction({ state: 'open', reopenCount: 0 }, undefined)).toEqual([]);
    expect(missingForReopenedAction({ state: 'open', reopenCount: 0 }, { whys: [] })).toEqual([]);
  });

  it('is required once reopened, whatever the state is now', () => {
    expect(requiresRootCauseAnalysis({ state: 'reopened', reopenCount: 1 })).toBe(true);
    expect(requiresRootCauseAnalysis({ state: 'open', reopenCount: 2 })).toBe(true);
  });

  it('names both parts when the analysis is absent', () => {
    const expected = [
      'rootCauseAnalysis.whys is missing: the five whys, 5 answers, each asking why of the one before',
      `rootCauseAnalysis.category is missing: ${choices}`,
    ];
    expect(missingForReopenedAction(reopened, undefined)).toEqual(expected);
    expect(missingForReopenedAction(reopened, null)).toEqual(expected);
    expect(missingForReopenedAction(reopened, {})).toEqual(expected);
  });

  it('names an empty why by its number', () => {
    const blank = [...whys];
    blank[3] = '   ';
    expect(missingForReopenedAction(reopened, { ...complete, whys: blank })).toEqual(['rootCauseAnalysis.whys[3] (the 4th why) is empty']);
  });

  it('names each why that was not given', () => {
    expect(missingForReopenedAction(reopened, { ...complete, whys: whys.slice(0, 3) })).toEqual([
      'rootCauseAnalysis.whys[3] (the 4th why) is missing',
      'rootCauseAnalysis.whys[4] (the 5th why) is missing',
    ]);
    expect(missingForReopenedAction(reopened, { ...complete, whys: [] })).toHaveLength(5);
  });

  it('names a why that is not text', () => {
    expect(missingForReopenedAction(reopened, { ...complete, whys: [whys[0], 42, ...whys.slice(2)] })).toEqual([
      'rootCauseAnalysis.whys[1] (the 2nd why) must be text',
    ]);
    expect(missingForReopenedAction(reopened, { ...complete, whys: whys.join(' because ') })).toEqual(['rootCauseAnalysis.whys must be a list of 5 answers']);
  });

  it('names a missing or unknown category with the choices', () => {
    expect(missingForReopenedAction(reopened, { whys })).toEqual([`rootCauseAnalysis.category is missing: ${choices}`]);
    expect(missingForReopenedAction(reopened, { whys, category: 'human-error' })).toEqual([
      `rootCauseAnalysis.category is "human-error", not a cause category: ${choices}`,
    ]);
  });

  it('names a misspelt field rather than ignoring it', () => {
    expect(missingForReopenedAction(reopened, { whys, catgory: 'culture' })).toEqual([
      `rootCauseAnalysis.category is missing: ${choices}`,
      'rootCauseAnalysis has unknown field catgory: expected whys, category, summary',
    ]);
  });

  it('names a root cause given as plain text instead of an analysis', () => {
    expect(missingForReopenedAction(reopened, 'the agent was undersized')).toEqual([
      'rootCauseAnalysis must be an object { whys: the five whys, category, summary? }',
    ]);
  });

  it('lists every problem at once', () => {
    expect(missingForReopenedAction(reopened, { whys: ['', whys[1]], category: 'x' })).toEqual([
      'rootCauseAnalysis.whys[0] (the 1st why) is empty',
      'rootCauseAnalysis.whys[2] (the 3rd why) is missing',
      'rootCauseAnalysis.whys[3] (the 4th why) is missing',
      'rootCauseAnalysis.whys[4] (the 5th why) is missing',
      `rootCauseAnalysis.category is "x", not a cause category: ${choices}`,
    ]);
  });

  it('never throws, and is empty exactly when the analysis parses', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ whys: fc.array(fc.oneof(fc.string(), fc.constant('  '), fc.integer()), { maxLength: 12 }), category: fc.oneof(fc.constantFrom(...CAUSE_CATEGORIES), fc.string()) }, { requiredKeys: [] }),
        ),
        (rca) => {
          const missing = missingForReopenedAction(reopened, rca);
          expect(missing.length === 0).toBe(rootCauseAnalysisSchema.safeParse(rca ?? {}).success);
          for (const message of missing) expect(message).toMatch(/^rootCauseAnalysis/);
        },
      ),
    );
  });
});
