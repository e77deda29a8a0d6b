/**
 * The clause 10.2 record of an NC as an auditor's working paper in Markdown: one section per
 * requirement of ISO/IEC 27001:2022 clause 10.2, (a) to (g), each saying what recurd holds and
 * where it is missing, so that a reader sees a gap instead of an empty heading.
 */
import type { ChainVerdict } from './core/chain.js';
import type { Clause10_2 } from './core/clause10-2.js';
import type { Nonconformity } from './core/types.js';

/** Text for a Markdown table cell or list item: one line, pipes escaped. */
function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function table(rows: Array<[string, unknown]>): string[] {
  return ['| | |', '| --- | --- |', ...rows.map(([name, value]) => `| ${name} | ${cell(value)} |`)];
}

function observation(value: Record<string, unknown> | null): string {
  if (value === null) return '—';
  const at = value.at ?? value.observedAt;
  const parts = [at, value.source, typeof value.id === 'string' ? `event ${value.id}` : undefined, value.message].filter((part) => typeof part === 'string' && part !== '');
  return cell(parts.join(', '));
}

export function workingPaper(nc: Nonconformity, record: Clause10_2, chain: ChainVerdict): string {
  const { reaction, causes, action, effectiveness, ismsChange, documentedInformation } = record;
  const lines: string[] = [
    `# ${nc.id}: ${cell(nc.title)}`,
    '',
    ...table([
      ['state', nc.state],
      ['family', nc.family],
      ['control (ISO/IEC 27001:2022 Annex A)', nc.control],
      ...(nc.controlAsReported === undefined ? [] : [['control as reported', nc.controlAsReported] as [string, unknown]]),
      ['check', nc.check],
      ['asset', nc.asset],
      ['severity', nc.severity],
      ['opened', reaction.raisedAt],
      ['occurrences', nc.occurrences],
      ['reopened', nc.reopenCount],
    ]),
    '',
    '## (a) Reaction: the first incident and its fix',
    '',
    reaction.summary,
    '',
    ...table([
      ['raised by', reaction.detector],
      ['reason', reaction.reason],
      ['first incident', observation(reaction.firstIncident)],
      ['fix', reaction.fix === null ? null : `${cell(reaction.fix.kind)} at ${cell(reaction.fix.at)}${reaction.fix.by ? ` by ${cell(reaction.fix.by)}` : ''}`],
      ['the return that raised it', observation(reaction.raisedBy)],
    ]),
    '',
    '## (b) Causes, and whether it exists elsewhere',
    '',
    causes.summary,
    '',
    ...table([
      ['root cause', causes.rootCause],
      ['cause category', causes.rootCauseAnalysis?.category],
      ['recurrence of', causes.recurrenceOf],
      ['same check failing elsewhere', causes.elsewhereCount],
      ...(causes.assetCount > 0 ? [['assets (systemic)', `${causes.assetCount}: ${causes.assets.join(', ')}`] as [string, unknown]] : []),
    ]),
  ];
  if (causes.rootCauseAnalysis !== null) {
    lines.push('', 'Five whys:', '', ...causes.rootCauseAnalysis.whys.map((why, index) => `${index + 1}. ${cell(why)}`));
  }
  if (causes.elsewhere.length > 0) {
    lines.push('', 'Elsewhere:', '', ...causes.elsewhere.map((similar) => `- ${cell(similar.asset)} (${similar.state}, last failed ${cell(similar.lastFiringAt)})`));
  }
  lines.push(
    '',
    '## (c) Action taken and its strength',
    '',
    action.summary,
    '',
    ...table([
      ['action', action.current?.action],
      ['owner', action.current?.owner],
      ['due', action.current?.dueDate],
      ['recorded', action.current?.recordedAt],
      ['strength', action.current?.strengthReason],
    ]),
  );
  if (action.taken.length > 0) {
    lines.push('', '| recorded | action | owner | strength | outcome |', '| --- | --- | --- | --- | --- |');
    for (const taken of action.taken) lines.push(`| ${cell(taken.at)} | ${cell(taken.action)} | ${cell(taken.owner)} | ${cell(taken.strength)} | ${taken.outcome} |`);
  }
  lines.push(
    '',
    '## (d) Review of effectiveness',
    '',
    `Result: **${effectiveness.result}**. ${effectiveness.summary}.`,
    '',
    ...table([
      ['verified by', effectiveness.verifyBy],
      ['window', effectiveness.windowStartsAt === null ? null : `${effectiveness.windowStartsAt} to ${cell(effectiveness.windowEndsAt)}`],
      ['closed', effectiveness.closedAt],
      ['healthy reports', effectiveness.healthyReports],
      ['missing evidence', effectiveness.missing.join('; ')],
      ['reopened', effectiveness.reopenCount],
    ]),
  );
  if (effectiveness.evidence !== null) {
    lines.push('', 'Evidence of the closure:', '', ...Object.entries(effectiveness.evidence).map(([name, value]) => `- ${name}: ${cell(value)}`));
  }
  if (effectiveness.reopenings.length > 0) {
    lines.push('', 'Returns that proved an action ineffective:', '', ...effectiveness.reopenings.map((reopening) => `- ${cell(reopening.at)}: ${cell(reopening.alert)} (action: ${cell(reopening.ineffectiveAction)})`));
  }
  lines.push('', '## (e) Changes to the ISMS', '', ismsChange.summary, '');
  for (const change of ismsChange.changes) lines.push(`- ${cell(change.at)}: ${cell(change.change)}`);
  if (ismsChange.changes.length > 0) lines.push('');
  lines.push(
    '## (f, g) Documented information',
    '',
    documentedInformation.summary,
    '',
    ...table([
      ['timeline entries', documentedInformation.entries],
      ['first entry', documentedInformation.first === null ? null : `${cell(documentedInformation.first.at)} ${documentedInformation.first.type}`],
      ['last entry', documentedInformation.last === null ? null : `${cell(documentedInformation.last.at)} ${documentedInformation.last.type}`],
      ['chain head', documentedInformation.chainHead],
      ['chain verified at export', chain.holds ? `holds (${chain.checked} of ${chain.entries} entries checked)` : `broken at entry ${chain.failure?.index ?? '?'}: ${chain.failure?.message ?? ''}`],
    ]),
    '',
    `The full timeline is in ${nc.id}.json beside this file.`,
    '',
  );
  return lines.join('\n');
}
