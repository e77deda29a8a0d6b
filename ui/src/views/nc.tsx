/**
 * One NC: its facts, its ticket elsewhere, whether its timeline's hash chain holds, its clause
 * 10.2 record, where else its check fails, its timeline with evidence pointers and actors, and the
 * forms that record what people do about it.
 */
import type { ComponentChildren } from 'preact';
import { getJson, type Identity } from '../api.js';
import { Badge, Link, Loading, Refusal, useLoad } from '../components.js';
import { day, plural, short, when } from '../format.js';
import type { ChainView, NcDetailView, TimelineEntryView } from '../shapes.js';
import { SYMPTOM_STATE_LABELS } from '../words.js';
import { NcForms } from './nc-forms.js';

function Fact(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A value of a timeline entry or the clause 10.2 record, as text; nested objects as nested lists. */
function Value(props: { value: unknown; depth?: number }) {
  const { value } = props;
  const depth = props.depth ?? 0;
  if (value === null || value === undefined || value === '') return <span class="muted">—</span>;
  if (typeof value === 'string') return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? <span>{when(value)}</span> : <span class="text">{value}</span>;
  if (typeof value === 'number' || typeof value === 'boolean') return <span>{String(value)}</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span class="muted">none</span>;
    if (value.every((item): item is string | number | boolean | null => typeof item !== 'object' || item === null)) return <span class="text">{value.map(String).join(', ')}</span>;
    return (
      <ol class="values">
        {(value as unknown[]).map((item, index) => (
          <li key={index}>
            <Value value={item} depth={depth + 1} />
          </li>
        ))}
      </ol>
    );
  }
  if (isRecord(value)) {
    if (depth > 2) return <code class="json">{JSON.stringify(value)}</code>;
    return <Pairs record={value} depth={depth + 1} />;
  }
  return <span>{JSON.stringify(value)}</span>;
}

const nested = (value: unknown): boolean => isRecord(value) || (Array.isArray(value) && value.some((item) => item !== null && typeof item === 'object'));

/**
 * Key-value pairs; `evidence` (the pointer back to the raw event) stands out for the auditor.
 * With `fold`, other nested records open on demand, so that a timeline stays readable.
 */
function Pairs(props: { record: Record<string, unknown>; depth?: number; leave?: readonly string[]; fold?: boolean }) {
  const entries = Object.entries(props.record).filter(([key, value]) => !(props.leave ?? []).includes(key) && value !== undefined);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <dl class="pairs">
      {entries.map(([key, value]) => (
        <div key={key} class={key === 'evidence' ? 'pair evidence' : 'pair'}>
          <dt>{key}</dt>
          <dd>
            {props.fold === true && key !== 'evidence' && nested(value) ? (
              <details class="folded">
                <summary>{Array.isArray(value) ? plural(value.length, 'item') : plural(Object.keys(value as object).length, 'field')}</summary>
                <Value value={value} depth={props.depth ?? 0} />
              </details>
            ) : (
              <Value value={value} depth={props.depth ?? 0} />
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

const ENTRY_LABELS: Record<string, string> = {
  raised: 'Raised',
  occurrence: 'Occurrence',
  reopened: 'Reopened',
  'corrective-action': 'Corrective action',
  'verified-effective': 'Verified effective',
  'late-recurrence': 'Late recurrence',
  'clock-skew': 'Clock skew',
  'fix-recorded': 'Fix recorded',
  'window-started': 'Window started',
  'verification-blocked': 'Verification blocked',
  contradicted: 'Contradicted',
  voided: 'Voided',
  'risk-accepted': 'Risk accepted',
  'risk-expired': 'Risk expired',
  overdue: 'Overdue',
  'owner-changed': 'Owner changed',
  'due-date-changed': 'Due date changed',
  comment: 'Comment',
  attachment: 'Attachment',
};

function TimelineEntry(props: { entry: TimelineEntryView; index: number }) {
  const { entry } = props;
  const actor = typeof entry.detail.actor === 'string' ? entry.detail.actor : null;
  return (
    <li class={`entry entry-${entry.type}`} data-type={entry.type}>
      <div class="entry-head">
        <span class="entry-type">{ENTRY_LABELS[entry.type] ?? entry.type}</span>
        <span class="entry-at">{when(entry.at)}</span>
        {actor !== null ? (
          <span class="entry-actor" title="who did it: the API token's name or the CLI's --actor">
            by <b>{actor}</b>
          </span>
        ) : (
          <span class="entry-actor muted">by recurd</span>
        )}
        {entry.event !== null ? <code class="entry-event">{entry.event}</code> : null}
        <span class="entry-hash" title={`hash ${entry.hash ?? 'none'}; previous ${entry.prev ?? 'none'}`}>
          #{props.index} {short(entry.hash, 10)}
        </span>
      </div>
      <Pairs record={entry.detail} leave={['actor']} fold />
    </li>
  );
}

function Chain(props: { chain: ChainView }) {
  const { chain } = props;
  if (chain.holds) {
    return (
      <div class="chain chain-holds" data-testid="chain">
        <b>Hash chain holds</b>: {chain.checked} of {plural(chain.entries, 'entry', 'entries')} checked, head <code>{short(chain.head, 16)}</code>
        {chain.note !== null ? <p class="fine">{chain.note}</p> : null}
      </div>
    );
  }
  return (
    <div class="chain chain-broken" data-testid="chain">
      <b>Hash chain broken</b>
      {chain.failure !== null ? (
        <span>
          {' '}
          at entry {chain.failure.index} ({when(chain.failure.at)}): <code>{chain.failure.reason}</code> — {chain.failure.message}
        </span>
      ) : null}
      <p class="fine">
        head <code>{short(chain.head, 16)}</code>, recorded head <code>{short(chain.recordedHead, 16)}</code>
      </p>
    </div>
  );
}

function ticketHref(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

function Clause10_2Record(props: { nc: NcDetailView }) {
  const record = props.nc.clause10_2;
  const parts: Array<{ clause: string; title: string; summary: string; body: ComponentChildren }> = [
    {
      clause: '10.2 a',
      title: 'Reaction',
      summary: record.reaction.summary,
      body: <Pairs record={{ raisedAt: record.reaction.raisedAt, detector: record.reaction.detector, reason: record.reaction.reason, firstIncident: record.reaction.firstIncident, fix: record.reaction.fix, raisedBy: record.reaction.raisedBy }} />,
    },
    {
      clause: '10.2 b',
      title: 'Causes',
      summary: record.causes.summary,
      body: <Pairs record={{ rootCause: record.causes.rootCause, rootCauseAnalysis: record.causes.rootCauseAnalysis, assets: record.causes.assets, assetCount: record.causes.assetCount, recurrenceOf: record.causes.recurrenceOf }} />,
    },
    {
      clause: '10.2 c',
      title: 'Action',
      summary: record.action.summary,
      body: <Pairs record={{ current: record.action.current, taken: record.action.taken }} />,
    },
    {
      clause: '10.2 d',
      title: 'Effectiveness',
      summary: record.effectiveness.summary,
      body: <Pairs record={{ ...record.effectiveness, summary: undefined }} />,
    },
    {
      clause: '10.2 e',
      title: 'Change to the ISMS',
      summary: record.ismsChange.summary,
      body: <Pairs record={{ change: record.ismsChange.change, changes: record.ismsChange.changes }} />,
    },
    {
      clause: '10.2 f, g',
      title: 'Documented information',
      summary: record.documentedInformation.summary,
      body: <Pairs record={{ ...record.documentedInformation, summary: undefined }} />,
    },
  ];
  return (
    <div class="clause" data-testid="clause10_2">
      {parts.map((part) => (
        <details key={part.clause} class="clause-part">
          <summary>
            <span class="clause-id">{part.clause}</span>
            <span class="clause-title">{part.title}</span>
            <span class="clause-summary">{part.summary}</span>
          </summary>
          <div class="clause-body">{part.body}</div>
        </details>
      ))}
    </div>
  );
}

export function NcPageView(props: { id: string; identity: Identity }) {
  const path = `/nonconformities/${encodeURIComponent(props.id)}`;
  const loaded = useLoad(() => Promise.all([getJson<NcDetailView>(path), getJson<ChainView>(`${path}/verify`)]), [path]);
  if (loaded.error !== null && loaded.value === null) {
    return (
      <section>
        <p>
          <Link to="/">← Register</Link>
        </p>
        <Refusal error={loaded.error} />
      </section>
    );
  }
  if (loaded.value === null) return <Loading what={props.id} />;
  const [nc, chain] = loaded.value;
  const tickets = nc.tickets ?? [];
  return (
    <section class="nc" data-testid="nc">
      <p class="crumbs">
        <Link to="/">← Register</Link>
      </p>
      <div class="nc-head">
        <h1>
          <span class="nc-id">{nc.id}</span> <Badge kind={nc.state} /> <Badge kind={`severity-${nc.severity}`}>{nc.severity}</Badge>
          {nc.overdue ? <Badge kind="overdue" /> : null}
          {nc.flapping ? <Badge kind="flapping" /> : null}
        </h1>
        <p class="nc-title">{nc.title}</p>
      </div>
      <div class="nc-layout">
        <div class="nc-main">
          <div class="panel">
            <dl class="facts">
              <Fact label="Family">{nc.family}</Fact>
              <Fact label="Annex A control">
                {nc.control ?? '—'}
                {nc.controlAsReported !== undefined ? <span class="fine"> (reported as {nc.controlAsReported})</span> : null}
              </Fact>
              <Fact label="Check">{nc.check || '—'}</Fact>
              <Fact label="Asset">{nc.asset || '—'}</Fact>
              <Fact label="Source">{nc.source}</Fact>
              <Fact label="Detector">{nc.detector}</Fact>
              <Fact label="Opened">{when(nc.openedAt)}</Fact>
              <Fact label="Last occurrence">{when(nc.lastOccurrenceAt)}</Fact>
              <Fact label="Occurrences">{nc.occurrences}</Fact>
              <Fact label="Reopened">{plural(nc.reopenCount, 'time')}</Fact>
              <Fact label="Owner">{nc.owner ?? '—'}</Fact>
              <Fact label="Due">
                {day(nc.dueDate)}
                {nc.overdue ? <span class="warn"> overdue since {when(nc.overdueSince)}</span> : null}
              </Fact>
              <Fact label="Window">{nc.windowEndsAt !== null ? `${when(nc.windowStartsAt)} → ${when(nc.windowEndsAt)}` : '—'}</Fact>
              <Fact label="Closed">{when(nc.closedAt)}</Fact>
              {nc.recurrenceOf !== null ? (
                <Fact label="Recurrence of">
                  <Link to={`/nc/${encodeURIComponent(nc.recurrenceOf)}`}>{nc.recurrenceOf}</Link>
                </Fact>
              ) : null}
              <Fact label="Ticket">
                {tickets.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  <ul class="tickets" data-testid="tickets">
                    {tickets.map((ticket) => {
                      const href = ticketHref(ticket.url);
                      return (
                        <li key={`${ticket.notifier}:${ticket.key}`}>
                          {href !== null ? (
                            <a href={href} target="_blank" rel="noopener noreferrer">
                              {ticket.key}
                            </a>
                          ) : (
                            <span>{ticket.key}</span>
                          )}{' '}
                          <span class="fine">
                            {ticket.system} via {ticket.notifier}
                          </span>
                        </li>
                      );
                    })}
                  </ul>
                )}
              </Fact>
            </dl>
            {nc.voided !== null ? (
              <p class="notice">
                Void ({nc.voided.reason}) by <b>{nc.voided.actor}</b> on {when(nc.voided.at)}: {nc.voided.note}
              </p>
            ) : null}
            {nc.riskAcceptance !== null ? (
              <p class="notice">
                Risk accepted by <b>{nc.riskAcceptance.approver}</b> until {when(nc.riskAcceptance.until)} (recorded by {nc.riskAcceptance.actor}): {nc.riskAcceptance.reason}
              </p>
            ) : null}
            <Chain chain={chain} />
          </div>

          <h2>Clause 10.2 record</h2>
          <Clause10_2Record nc={nc} />

          <h2>Where else the check fails</h2>
          {nc.elsewhere.length === 0 ? (
            <p class="muted" data-testid="elsewhere">
              The check failed on no other asset when the NC was raised.
            </p>
          ) : (
            <div class="table-wrap">
              <p class="summary">
                {plural(nc.elsewhereCount, 'other asset')} when the NC was raised{nc.elsewhereCount > nc.elsewhere.length ? `; the latest ${nc.elsewhere.length} to fail:` : ':'}
              </p>
              <table class="grid" data-testid="elsewhere">
                <thead>
                  <tr>
                    <th>Asset</th>
                    <th>State</th>
                    <th>Last firing</th>
                    <th>Fingerprint</th>
                  </tr>
                </thead>
                <tbody>
                  {nc.elsewhere.map((similar) => (
                    <tr key={similar.fingerprint}>
                      <td>{similar.asset}</td>
                      <td>
                        <Badge kind={`symptom-${similar.state}`}>{SYMPTOM_STATE_LABELS[similar.state]}</Badge>
                      </td>
                      <td class="nowrap muted">{when(similar.lastFiringAt)}</td>
                      <td>
                        <code>{short(similar.fingerprint, 16)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}

          <h2>Timeline</h2>
          <ol class="timeline" data-testid="timeline">
            {nc.timeline.map((entry, index) => (
              <TimelineEntry key={entry.id} entry={entry} index={index} />
            ))}
          </ol>
        </div>
        <aside class="nc-side">
          <NcForms nc={nc} identity={props.identity} onRecorded={loaded.reload} />
        </aside>
      </div>
    </section>
  );
}
