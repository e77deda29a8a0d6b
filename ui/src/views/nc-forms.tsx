/**
 * What people record on an NC, each through its API route: a corrective action (with the five
 * whys and a cause category once the NC was reopened), a comment, an owner, a due date, and, for
 * admins, a void or a risk acceptance. The API decides: a role too low, a missing root-cause
 * analysis or a past date comes back as the API's own refusal, shown as it was sent.
 *
 * The corrective action's strength (weak: treats the symptom; strong: removes the cause) is
 * shown while it is typed, by the core's own classifier bundled into the console: the verdict
 * here is the one the API will record.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { CAUSE_CATEGORY_GROUPS, WHYS_REQUIRED, classifyAction, requiresRootCauseAnalysis } from '../../../src/core/corrective-action.js';
import { postJson, type Identity } from '../api.js';
import { Badge, Refusal } from '../components.js';
import { today } from '../format.js';
import type { NcView } from '../shapes.js';
import { VOID_REASONS, allows, type Role } from '../words.js';

interface Submission {
  busy: boolean;
  error: unknown;
  done: string | null;
  submit: (body: unknown, done: string) => Promise<boolean>;
}

function useSubmission(path: string, onRecorded: () => void): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (body: unknown, message: string): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await postJson(path, body);
      setDone(message);
      onRecorded();
      return true;
    } catch (failed) {
      setError(failed);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, submit };
}

function FormPanel(props: { title: string; needs: Role; identity: Identity; testId: string; submission: Submission; onSubmit: () => void; submitLabel: string; children: ComponentChildren }) {
  const allowed = allows(props.identity.role, props.needs);
  return (
    <form
      class="panel form"
      data-testid={props.testId}
      onSubmit={(event) => {
        event.preventDefault();
        props.onSubmit();
      }}
    >
      <div class="form-head">
        <h3>{props.title}</h3>
        <span class={`role role-${props.needs}`} title={`needs the role ${props.needs}`}>
          {props.needs}
        </span>
      </div>
      {allowed ? null : (
        <p class="fine role-note">
          Needs the role {props.needs}; your token “{props.identity.name}” has {props.identity.role}, so the API will refuse it.
        </p>
      )}
      {props.children}
      <div class="actions">
        <button type="submit" class="primary" disabled={props.submission.busy}>
          {props.submission.busy ? 'Sending…' : props.submitLabel}
        </button>
      </div>
      {props.submission.done !== null ? (
        <p class="done" role="status">
          {props.submission.done}
        </p>
      ) : null}
      <Refusal error={props.submission.error} />
    </form>
  );
}

function Verdict(props: { text: string }) {
  if (props.text.trim() === '') return <p class="fine verdict-empty">The strength of the action shows here as you type.</p>;
  const verdict = classifyAction(props.text);
  return (
    <div class={`verdict verdict-${verdict.strength}`} data-testid="verdict" data-strength={verdict.strength} aria-live="polite">
      <Badge kind={`strength-${verdict.strength}`}>{verdict.strength}</Badge>
      <span class="verdict-reason">{verdict.reason}</span>
    </div>
  );
}

const EMPTY_WHYS = (): string[] => Array.from({ length: WHYS_REQUIRED }, () => '');

function CorrectiveActionForm(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/corrective-action`, props.onRecorded);
  const [action, setAction] = useState('');
  const [owner, setOwner] = useState(props.nc.owner ?? '');
  const [rootCause, setRootCause] = useState('');
  const [dueDate, setDueDate] = useState('');
  const [ismsChange, setIsmsChange] = useState('');
  const [whys, setWhys] = useState(EMPTY_WHYS);
  const [category, setCategory] = useState('');
  const [summary, setSummary] = useState('');
  const required = requiresRootCauseAnalysis(props.nc);
  const analysisGiven = whys.some((why) => why.trim() !== '') || category !== '' || summary.trim() !== '';

  const send = async (): Promise<void> => {
    const body: Record<string, unknown> = { action, owner };
    if (rootCause.trim() !== '') body.rootCause = rootCause;
    if (dueDate !== '') body.dueDate = dueDate;
    if (ismsChange.trim() !== '') body.ismsChange = ismsChange;
    // Sent as typed, blanks included: the API names each missing why.
    if (analysisGiven) body.rootCauseAnalysis = { whys, ...(category === '' ? {} : { category }), ...(summary.trim() === '' ? {} : { summary }) };
    if (await submission.submit(body, 'The corrective action is recorded.')) {
      setAction('');
      setRootCause('');
      setIsmsChange('');
      setWhys(EMPTY_WHYS());
      setCategory('');
      setSummary('');
    }
  };

  const analysis = (
    <fieldset class="rca">
      <legend>Root-cause analysis</legend>
      {required ? (
        <p class="rca-note warn">Required: this NC was reopened, so its last corrective action did not remove the cause. Five whys, each asking why of the one before, and a cause category.</p>
      ) : (
        <p class="rca-note fine">Optional here; required once an NC is reopened.</p>
      )}
      {whys.map((why, index) => (
        <label class="field" key={index}>
          <span>Why {index + 1}</span>
          <input
            name={`why-${index + 1}`}
            value={why}
            placeholder={index === 0 ? 'Why did the symptom come back?' : 'Why was that?'}
            onInput={(event) => {
              const next = [...whys];
              next[index] = event.currentTarget.value;
              setWhys(next);
            }}
          />
        </label>
      ))}
      <label class="field">
        <span>Cause category</span>
        <select name="category" value={category} onChange={(event) => setCategory(event.currentTarget.value)}>
          <option value="">choose…</option>
          {Object.entries(CAUSE_CATEGORY_GROUPS).map(([group, categories]) => (
            <optgroup key={group} label={group}>
              {categories.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Summary</span>
        <input name="rca-summary" value={summary} onInput={(event) => setSummary(event.currentTarget.value)} />
      </label>
    </fieldset>
  );

  return (
    <FormPanel title="Corrective action" needs="write" identity={props.identity} testId="form-corrective-action" submission={submission} onSubmit={() => void send()} submitLabel="Record corrective action">
      <label class="field">
        <span>Action</span>
        <textarea name="action" rows={3} value={action} placeholder="What removes the cause?" onInput={(event) => setAction(event.currentTarget.value)} />
      </label>
      <Verdict text={action} />
      <div class="row">
        <label class="field">
          <span>Owner</span>
          <input name="owner" value={owner} onInput={(event) => setOwner(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Due date</span>
          <input type="date" name="dueDate" min={today()} value={dueDate} onInput={(event) => setDueDate(event.currentTarget.value)} />
        </label>
      </div>
      <label class="field">
        <span>Root cause</span>
        <input name="rootCause" value={rootCause} onInput={(event) => setRootCause(event.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Change to the ISMS (clause 10.2 e)</span>
        <input name="ismsChange" value={ismsChange} onInput={(event) => setIsmsChange(event.currentTarget.value)} />
      </label>
      {required ? (
        analysis
      ) : (
        <details class="rca-optional">
          <summary>Add a root-cause analysis</summary>
          {analysis}
        </details>
      )}
    </FormPanel>
  );
}

function CommentForm(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/comments`, props.onRecorded);
  const [text, setText] = useState('');
  return (
    <FormPanel
      title="Comment"
      needs="write"
      identity={props.identity}
      testId="form-comment"
      submission={submission}
      submitLabel="Add comment"
      onSubmit={() => void submission.submit({ text }, 'The comment is on the timeline.').then((ok) => ok && setText(''))}
    >
      <label class="field">
        <span>Text</span>
        <textarea name="text" rows={2} value={text} onInput={(event) => setText(event.currentTarget.value)} />
      </label>
    </FormPanel>
  );
}

function OwnerForm(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/owner`, props.onRecorded);
  const [owner, setOwner] = useState('');
  return (
    <FormPanel
      title="Owner"
      needs="write"
      identity={props.identity}
      testId="form-owner"
      submission={submission}
      submitLabel="Change owner"
      onSubmit={() => void submission.submit({ owner }, 'The owner is changed.')}
    >
      <label class="field">
        <span>New owner {props.nc.owner !== null ? <span class="fine">(now {props.nc.owner})</span> : null}</span>
        <input name="owner" value={owner} onInput={(event) => setOwner(event.currentTarget.value)} />
      </label>
    </FormPanel>
  );
}

function DueDateForm(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/due-date`, props.onRecorded);
  const [dueDate, setDueDate] = useState('');
  return (
    <FormPanel
      title="Due date"
      needs="write"
      identity={props.identity}
      testId="form-due-date"
      submission={submission}
      submitLabel="Change due date"
      onSubmit={() => void submission.submit({ dueDate }, 'The due date is changed.')}
    >
      <label class="field">
        <span>New due date {props.nc.dueDate !== null ? <span class="fine">(now {props.nc.dueDate})</span> : null}</span>
        <input type="date" name="dueDate" value={dueDate} onInput={(event) => setDueDate(event.currentTarget.value)} />
      </label>
    </FormPanel>
  );
}

function VoidForm(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/void`, props.onRecorded);
  const [reason, setReason] = useState<string>(VOID_REASONS[0]);
  const [note, setNote] = useState('');
  return (
    <FormPanel
      title="Void"
      needs="admin"
      identity={props.identity}
      testId="form-void"
      submission={submission}
      submitLabel="Declare the NC void"
      onSubmit={() => void submission.submit({ reason, note }, 'The NC is void.')}
    >
      <label class="field">
        <span>Reason</span>
        <select name="reason" value={reason} onChange={(event) => setReason(event.currentTarget.value)}>
          {VOID_REASONS.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Note</span>
        <textarea name="note" rows={2} value={note} placeholder="Why it is not a nonconformity" onInput={(event) => setNote(event.currentTarget.value)} />
      </label>
    </FormPanel>
  );
}

function AcceptRiskForm(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/accept-risk`, props.onRecorded);
  const [approver, setApprover] = useState('');
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  return (
    <FormPanel
      title="Accept the risk"
      needs="admin"
      identity={props.identity}
      testId="form-accept-risk"
      submission={submission}
      submitLabel="Accept the risk"
      onSubmit={() => void submission.submit({ approver, reason, until }, 'The risk is accepted.')}
    >
      <div class="row">
        <label class="field">
          <span>Approver</span>
          <input name="approver" value={approver} onInput={(event) => setApprover(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Until</span>
          <input type="date" name="until" value={until} onInput={(event) => setUntil(event.currentTarget.value)} />
        </label>
      </div>
      <label class="field">
        <span>Reason</span>
        <textarea name="reason" rows={2} value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
      </label>
    </FormPanel>
  );
}

export function NcForms(props: { nc: NcView; identity: Identity; onRecorded: () => void }) {
  return (
    <div class="forms">
      <h2>Record</h2>
      <CorrectiveActionForm {...props} />
      <CommentForm {...props} />
      <OwnerForm {...props} />
      <DueDateForm {...props} />
      <h2>Dispositions</h2>
      <VoidForm {...props} />
      <AcceptRiskForm {...props} />
    </div>
  );
}
