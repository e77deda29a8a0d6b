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
import type { ComponentChildren, TargetedEvent } from 'preact';
import { useState } from 'preact/hooks';
import { CAUSE_CATEGORY_GROUPS, WHYS_REQUIRED, classifyAction, requiresRootCauseAnalysis } from '../../../src/core/corrective-action.js';
import { postJson, type Identity } from '../api.js';
import { Badge, Field, Options, Refusal } from '../components.js';
import { today } from '../format.js';
import type { NcView } from '../shapes.js';
import { VOID_REASONS, allows, type Role } from '../words.js';

/** What each form on an NC is given. */
interface FormProps {
  nc: NcView;
  identity: Identity;
  onRecorded: () => void;
}

/** What sets one form apart: its route under the NC, its title, the role it needs, its button and what it says once recorded. */
interface FormSpec {
  route: string;
  title: string;
  needs: Role;
  testId: string;
  submitLabel: string;
  done: string;
}

const FORMS = {
  correctiveAction: { route: 'corrective-action', title: 'Corrective action', needs: 'write', testId: 'form-corrective-action', submitLabel: 'Record corrective action', done: 'The corrective action is recorded.' },
  comment: { route: 'comments', title: 'Comment', needs: 'write', testId: 'form-comment', submitLabel: 'Add comment', done: 'The comment is on the timeline.' },
  owner: { route: 'owner', title: 'Owner', needs: 'write', testId: 'form-owner', submitLabel: 'Change owner', done: 'The owner is changed.' },
  dueDate: { route: 'due-date', title: 'Due date', needs: 'write', testId: 'form-due-date', submitLabel: 'Change due date', done: 'The due date is changed.' },
  void: { route: 'void', title: 'Void', needs: 'admin', testId: 'form-void', submitLabel: 'Declare the NC void', done: 'The NC is void.' },
  acceptRisk: { route: 'accept-risk', title: 'Accept the risk', needs: 'admin', testId: 'form-accept-risk', submitLabel: 'Accept the risk', done: 'The risk is accepted.' },
} as const satisfies Record<string, FormSpec>;

/** A form's post: whether it is under way, the API's refusal, and the confirmation once recorded. */
interface Submission {
  busy: boolean;
  error: unknown;
  done: string | null;
  submit: (body: unknown) => Promise<boolean>;
}

function useSubmission(path: string, done: string, onRecorded: () => void): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [recorded, setRecorded] = useState<string | null>(null);
  const submit = async (body: unknown): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setRecorded(null);
    try {
      await postJson(path, body);
      setRecorded(done);
      onRecorded();
      return true;
    } catch (failed) {
      setError(failed);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done: recorded, submit };
}

/**
 * One form on an NC: it posts `body()` to the form's route and, once the API recorded it, says so
 * and calls `onSent` (to clear what was typed). A token whose role is too low still may send: the
 * note says the API will refuse, and the refusal shown is the API's own.
 */
function NcForm(props: FormProps & { form: FormSpec; body: () => unknown; onSent?: () => void; children: ComponentChildren }) {
  const { form, identity } = props;
  const submission = useSubmission(`/nonconformities/${encodeURIComponent(props.nc.id)}/${form.route}`, form.done, props.onRecorded);
  const allowed = allows(identity.role, form.needs);
  return (
    <form
      class="panel form"
      data-testid={form.testId}
      onSubmit={(event) => {
        event.preventDefault();
        void submission.submit(props.body()).then((sent) => sent && props.onSent?.());
      }}
    >
      <div class="form-head">
        <h3>{form.title}</h3>
        <span class={`role role-${form.needs}`} title={`needs the role ${form.needs}`}>
          {form.needs}
        </span>
      </div>
      {allowed ? null : (
        <p class="fine role-note">
          Needs the role {form.needs}; your token “{identity.name}” has {identity.role}, so the API will refuse it.
        </p>
      )}
      {props.children}
      <div class="actions">
        <button type="submit" class="primary" disabled={submission.busy}>
          {submission.busy ? 'Sending…' : form.submitLabel}
        </button>
      </div>
      {submission.done !== null ? (
        <p class="done" role="status">
          {submission.done}
        </p>
      ) : null}
      <Refusal error={submission.error} />
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

function CorrectiveActionForm(props: FormProps) {
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

  const body = (): Record<string, unknown> => {
    const body: Record<string, unknown> = { action, owner };
    if (rootCause.trim() !== '') body.rootCause = rootCause;
    if (dueDate !== '') body.dueDate = dueDate;
    if (ismsChange.trim() !== '') body.ismsChange = ismsChange;
    // Sent as typed, blanks included: the API names each missing why.
    if (analysisGiven) body.rootCauseAnalysis = { whys, ...(category === '' ? {} : { category }), ...(summary.trim() === '' ? {} : { summary }) };
    return body;
  };
  const clear = (): void => {
    setAction('');
    setRootCause('');
    setIsmsChange('');
    setWhys(EMPTY_WHYS());
    setCategory('');
    setSummary('');
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
        <Field label={`Why ${index + 1}`} key={index}>
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
        </Field>
      ))}
      <Field label="Cause category">
        <select name="category" value={category} onChange={(event) => setCategory(event.currentTarget.value)}>
          <option value="">choose…</option>
          {Object.entries(CAUSE_CATEGORY_GROUPS).map(([group, categories]) => (
            <optgroup key={group} label={group}>
              <Options words={categories} />
            </optgroup>
          ))}
        </select>
      </Field>
      <Field label="Summary">
        <input name="rca-summary" value={summary} onInput={(event) => setSummary(event.currentTarget.value)} />
      </Field>
    </fieldset>
  );

  return (
    <NcForm {...props} form={FORMS.correctiveAction} body={body} onSent={clear}>
      <Field label="Action">
        <textarea name="action" rows={3} value={action} placeholder="What removes the cause?" onInput={(event) => setAction(event.currentTarget.value)} />
      </Field>
      <Verdict text={action} />
      <div class="row">
        <Field label="Owner">
          <input name="owner" value={owner} onInput={(event) => setOwner(event.currentTarget.value)} />
        </Field>
        <Field label="Due date">
          <input type="date" name="dueDate" min={today()} value={dueDate} onInput={(event) => setDueDate(event.currentTarget.value)} />
        </Field>
      </div>
      <Field label="Root cause">
        <input name="rootCause" value={rootCause} onInput={(event) => setRootCause(event.currentTarget.value)} />
      </Field>
      <Field label="Change to the ISMS (clause 10.2 e)">
        <input name="ismsChange" value={ismsChange} onInput={(event) => setIsmsChange(event.currentTarget.value)} />
      </Field>
      {required ? (
        analysis
      ) : (
        <details class="rca-optional">
          <summary>Add a root-cause analysis</summary>
          {analysis}
        </details>
      )}
    </NcForm>
  );
}

function CommentForm(props: FormProps) {
  const [text, setText] = useState('');
  return (
    <NcForm {...props} form={FORMS.comment} body={() => ({ text })} onSent={() => setText('')}>
      <Field label="Text">
        <textarea name="text" rows={2} value={text} onInput={(event) => setText(event.currentTarget.value)} />
      </Field>
    </NcForm>
  );
}

/** A form that replaces one value of the NC, its owner or its due date, beside the value it replaces. */
function ReplaceForm(props: FormProps & { form: FormSpec; field: 'owner' | 'dueDate'; label: string }) {
  const [value, setValue] = useState('');
  const now = props.nc[props.field];
  const onInput = (event: TargetedEvent<HTMLInputElement>): void => setValue(event.currentTarget.value);
  return (
    <NcForm {...props} body={() => ({ [props.field]: value })}>
      <Field label={<>{props.label} {now !== null ? <span class="fine">(now {now})</span> : null}</>}>
        {props.field === 'dueDate' ? <input type="date" name="dueDate" value={value} onInput={onInput} /> : <input name="owner" value={value} onInput={onInput} />}
      </Field>
    </NcForm>
  );
}

function VoidForm(props: FormProps) {
  const [reason, setReason] = useState<string>(VOID_REASONS[0]);
  const [note, setNote] = useState('');
  return (
    <NcForm {...props} form={FORMS.void} body={() => ({ reason, note })}>
      <Field label="Reason">
        <select name="reason" value={reason} onChange={(event) => setReason(event.currentTarget.value)}>
          <Options words={VOID_REASONS} />
        </select>
      </Field>
      <Field label="Note">
        <textarea name="note" rows={2} value={note} placeholder="Why it is not a nonconformity" onInput={(event) => setNote(event.currentTarget.value)} />
      </Field>
    </NcForm>
  );
}

function AcceptRiskForm(props: FormProps) {
  const [approver, setApprover] = useState('');
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  return (
    <NcForm {...props} form={FORMS.acceptRisk} body={() => ({ approver, reason, until })}>
      <div class="row">
        <Field label="Approver">
          <input name="approver" value={approver} onInput={(event) => setApprover(event.currentTarget.value)} />
        </Field>
        <Field label="Until">
          <input type="date" name="until" value={until} onInput={(event) => setUntil(event.currentTarget.value)} />
        </Field>
      </div>
      <Field label="Reason">
        <textarea name="reason" rows={2} value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
      </Field>
    </NcForm>
  );
}

export function NcForms(props: FormProps) {
  return (
    <div class="forms">
      <h2>Record</h2>
      <CorrectiveActionForm {...props} />
      <CommentForm {...props} />
      <ReplaceForm {...props} form={FORMS.owner} field="owner" label="New owner" />
      <ReplaceForm {...props} form={FORMS.dueDate} field="dueDate" label="New due date" />
      <h2>Dispositions</h2>
      <VoidForm {...props} />
      <AcceptRiskForm {...props} />
    </div>
  );
}
