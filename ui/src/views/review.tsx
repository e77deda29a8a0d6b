/**
 * The management review (ISO/IEC 27001 clause 9.3 input) for a period of months: the API renders
 * it (GET /api/v1/review?from=YYYY-MM&to=YYYY-MM&format=html, tables and inline SVG charts,
 * escaped by the server) and the page puts that fragment in place. It is the daemon's own answer,
 * but it still passes through a filter that keeps markup and drops anything that could run:
 * the page's Content-Security-Policy would block inline script and style anyway.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { query, request } from '../api.js';
import { Loading, Refusal } from '../components.js';
import { navigate, type Location } from '../router.js';
import '../../../src/review/review.css';

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/** The last twelve months, this one included. */
function defaultPeriod(): { from: string; to: string } {
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1));
  return { from: monthOf(from), to: monthOf(now) };
}

const DROPPED_ELEMENTS = 'script, style, iframe, frame, object, embed, link, meta, base, form, input, button, textarea, select, template, foreignObject';

/** The fragment's nodes with every script, handler, foreign style and script URL removed. */
export function cleanFragment(html: string): DocumentFragment {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  for (const element of Array.from(parsed.body.querySelectorAll(DROPPED_ELEMENTS))) element.remove();
  for (const element of Array.from(parsed.body.querySelectorAll('*'))) {
    for (const attribute of Array.from(element.attributes)) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.trim().toLowerCase();
      const scriptUrl = (name === 'href' || name === 'src' || name === 'xlink:href' || name === 'action' || name === 'formaction') && !/^(https?:|#|\/(?!\/))/.test(value) && value !== '';
      if (name.startsWith('on') || name === 'style' || scriptUrl) element.removeAttribute(attribute.name);
    }
  }
  const fragment = document.createDocumentFragment();
  for (const node of Array.from(parsed.body.childNodes)) fragment.appendChild(document.importNode(node, true));
  return fragment;
}

export function ReviewView(props: { location: Location }) {
  const fallback = defaultPeriod();
  const from = props.location.params.get('from') ?? fallback.from;
  const to = props.location.params.get('to') ?? fallback.to;
  const [draft, setDraft] = useState({ from, to });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [shown, setShown] = useState<string | null>(null);
  const target = useRef<HTMLDivElement>(null);

  useEffect(() => setDraft({ from, to }), [from, to]);

  useEffect(() => {
    if (!MONTH.test(from) || !MONTH.test(to)) return;
    let current = true;
    setLoading(true);
    setError(null);
    request(`/review${query({ from, to, format: 'html' })}`)
      .then((response) => response.text())
      .then(
        (html) => {
          if (!current || target.current === null) return;
          target.current.replaceChildren(cleanFragment(html));
          setShown(`${from} – ${to}`);
          setLoading(false);
        },
        (failed: unknown) => {
          if (!current) return;
          target.current?.replaceChildren();
          setShown(null);
          setError(failed);
          setLoading(false);
        },
      );
    return () => {
      current = false;
    };
  }, [from, to]);

  const downloadJson = async (): Promise<void> => {
    setError(null);
    try {
      const response = await request(`/review${query({ from, to, format: 'json' })}`);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = `recurd-review-${from}-${to}.json`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 0);
    } catch (failed) {
      setError(failed);
    }
  };

  return (
    <section>
      <div class="page-head">
        <h1>Management review</h1>
        <p class="muted">Nonconformities and corrective actions over a period, as input to the management review (clause 9.3).</p>
      </div>
      <form
        class="filters"
        aria-label="Period"
        onSubmit={(event) => {
          event.preventDefault();
          navigate(`/review${query({ from: draft.from, to: draft.to })}`, true);
        }}
      >
        <label class="field">
          <span>From (month)</span>
          <input type="month" name="from" value={draft.from} max={draft.to} onInput={(event) => setDraft({ ...draft, from: event.currentTarget.value })} />
        </label>
        <label class="field">
          <span>To (month)</span>
          <input type="month" name="to" value={draft.to} min={draft.from} onInput={(event) => setDraft({ ...draft, to: event.currentTarget.value })} />
        </label>
        <div class="actions inline">
          <button type="submit" class="primary">
            Show
          </button>
          <button type="button" onClick={() => void downloadJson()}>
            Download JSON
          </button>
        </div>
      </form>
      {!MONTH.test(from) || !MONTH.test(to) ? <p class="refusal">Pick both months (YYYY-MM).</p> : null}
      <Refusal error={error} />
      {loading ? <Loading what="the review" /> : null}
      {shown !== null ? <p class="summary">Period {shown}</p> : null}
      <div class="review panel" ref={target} data-testid="review" hidden={shown === null} />
    </section>
  );
}
