/**
 * Connectors and notifiers as /readyz reports them to a token (health, last success, last
 * error), and the dead letters: payloads that did not fit their connector, each shown with what
 * did not fit, and replayed (admin) once the mapping or the sender is fixed.
 */
import { useState } from 'preact/hooks';
import { getJson, postJson, readiness, type Identity } from '../api.js';
import { Badge, Loading, Refusal, useLoad } from '../components.js';
import { plural, when } from '../format.js';
import type { DeadLetterView, Health, ReadyView, ReplayOutcome } from '../shapes.js';
import { allows } from '../words.js';

function HealthTable(props: { rows: Record<string, Health>; kind: 'connector' | 'notifier' }) {
  const names = Object.keys(props.rows).sort();
  if (names.length === 0) return <p class="muted">No {props.kind}s are configured.</p>;
  return (
    <div class="table-wrap">
      <table class="grid" data-testid={`${props.kind}s`}>
        <thead>
          <tr>
            <th>{props.kind === 'connector' ? 'Connector' : 'Notifier'}</th>
            <th>Health</th>
            <th>{props.kind === 'connector' ? 'Last success' : 'Last delivered'}</th>
            <th>Last error</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const row = props.rows[name] as Health;
            return (
              <tr key={name} data-name={name}>
                <td>
                  <b>{name}</b>
                </td>
                <td>
                  <Badge kind={row.ok ? 'ok' : 'failing'}>{row.ok ? 'healthy' : row.consecutiveErrors ? `failing (${row.consecutiveErrors})` : 'failing'}</Badge>
                </td>
                <td class="nowrap muted">{when(row.lastSuccessAt ?? row.lastDeliveredAt)}</td>
                <td class="nowrap muted">{when(row.lastErrorAt)}</td>
                <td class="text">{row.lastError ?? '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function DeadLetterBody(props: { id: string }) {
  const letter = useLoad(() => getJson<{ body: string; truncated: boolean }>(`/dead-letters/${encodeURIComponent(props.id)}`), [props.id]);
  if (letter.error !== null) return <Refusal error={letter.error} />;
  if (letter.value === null) return <Loading what="the payload" />;
  return (
    <pre class="payload">
      {letter.value.body}
      {letter.value.truncated ? '\n… (cut at the size limit)' : ''}
    </pre>
  );
}

function DeadLetters(props: { identity: Identity }) {
  const letters = useLoad(() => getJson<{ deadLetters: DeadLetterView[] }>('/dead-letters?limit=100'), []);
  const [open, setOpen] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [outcomes, setOutcomes] = useState<ReplayOutcome[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const replay = async (id: string): Promise<void> => {
    setBusy(id);
    setError(null);
    setOutcomes(null);
    try {
      const answer = await postJson<{ replayed: ReplayOutcome[] }>(`/dead-letters/${encodeURIComponent(id)}/replay`, {});
      setOutcomes(answer.replayed);
      letters.reload();
    } catch (failed) {
      setError(failed);
    } finally {
      setBusy(null);
    }
  };

  const admin = allows(props.identity.role, 'admin');
  const list = letters.value?.deadLetters ?? [];
  return (
    <div data-testid="dead-letters">
      <div class="section-head">
        <h2>Dead letters</h2>
        <button type="button" disabled={busy !== null || list.length === 0} onClick={() => void replay('all')} title={admin ? '' : 'needs the role admin'}>
          Replay all
        </button>
      </div>
      <p class="muted">
        Payloads that did not fit their connector, newest first. Replaying runs one through its connector again: it is queued and removed when it fits now, and kept when it
        still does not.
        {admin ? '' : ` Replaying needs the role admin; your token has ${props.identity.role}.`}
      </p>
      <Refusal error={letters.error ?? error} />
      {outcomes !== null ? (
        <ul class="outcomes" role="status" data-testid="replay-outcomes">
          {outcomes.map((outcome) => (
            <li key={outcome.id} class={outcome.problems.length === 0 ? 'ok' : 'bad'}>
              <code>{outcome.id}</code> ({outcome.connector}):{' '}
              {outcome.problems.length === 0 ? `${plural(outcome.accepted, 'alert')} queued` : `still does not fit: ${outcome.problems.join('; ')}`}
            </li>
          ))}
        </ul>
      ) : null}
      {letters.loading && letters.value === null ? (
        <Loading what="dead letters" />
      ) : list.length === 0 ? (
        <p class="empty-note">No dead letters.</p>
      ) : (
        <div class="table-wrap">
          <table class="grid">
            <thead>
              <tr>
                <th>Received</th>
                <th>Connector</th>
                <th>What did not fit</th>
                <th class="number">Size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((letter) => {
                const more = letter.errors.length - 1 + letter.errorsOmitted;
                const first = letter.errors[0];
                return [
                  <tr key={letter.id} data-letter={letter.id}>
                    <td class="nowrap muted">{when(letter.receivedAt)}</td>
                    <td>
                      {letter.connector}
                      {letter.route !== '' ? <span class="fine"> /{letter.route}</span> : null}
                    </td>
                    <td class="text">
                      {first !== undefined ? (
                        <>
                          <code>{first.path}</code> {first.message}
                        </>
                      ) : (
                        '—'
                      )}
                      {more > 0 ? <span class="fine"> (+{more} more)</span> : null}
                    </td>
                    <td class="number">{letter.bodyLength.toLocaleString('en')} B</td>
                    <td class="nowrap">
                      <div class="row-actions">
                        <button type="button" class="small" onClick={() => setOpen(open === letter.id ? null : letter.id)}>
                          {open === letter.id ? 'Hide payload' : 'Payload'}
                        </button>
                        <button type="button" class="small" disabled={busy !== null} onClick={() => void replay(letter.id)}>
                          {busy === letter.id ? 'Replaying…' : 'Replay'}
                        </button>
                      </div>
                    </td>
                  </tr>,
                  open === letter.id ? (
                    <tr key={`${letter.id}-body`} class="payload-row">
                      <td colSpan={5}>
                        <DeadLetterBody id={letter.id} />
                      </td>
                    </tr>
                  ) : null,
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function ConnectorsView(props: { identity: Identity }) {
  const ready = useLoad(() => readiness<ReadyView>(), []);
  return (
    <section>
      <div class="page-head">
        <h1>Connectors</h1>
        <p class="muted">What recurd listens to and sends to, as the daemon's readiness check reports it.</p>
      </div>
      <Refusal error={ready.error} />
      {ready.value === null ? (
        ready.error === null ? (
          <Loading what="readiness" />
        ) : null
      ) : (
        <>
          <div class="panel readiness" data-testid="readiness">
            <Badge kind={ready.value.status === 'ready' ? 'ok' : 'failing'}>{ready.value.status}</Badge>
            <ul class="checks">
              {Object.entries(ready.value.checks).map(([name, check]) => (
                <li key={name} class={check.ok ? 'ok' : 'bad'}>
                  <span class="check-mark" aria-hidden="true">
                    {check.ok ? '✓' : '✗'}
                  </span>{' '}
                  {name}
                  {check.detail !== undefined ? <span class="fine"> {check.detail}</span> : null}
                </li>
              ))}
            </ul>
            <button type="button" class="small" onClick={ready.reload}>
              Refresh
            </button>
          </div>
          <h2>Connectors</h2>
          <HealthTable rows={ready.value.connectors ?? {}} kind="connector" />
          <h2>Notifiers</h2>
          <HealthTable rows={ready.value.notifiers ?? {}} kind="notifier" />
        </>
      )}
      <DeadLetters identity={props.identity} />
    </section>
  );
}
