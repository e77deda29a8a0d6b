/**
 * The management review as HTML: one self-contained document for `recurd report` (inline CSS,
 * charts as inline SVG, no script, nothing fetched: it opens from the file system), and the same
 * markup without the page around it for the console's /ui/review.
 *
 * The fragment has no `style` attribute and no <style> element (the console's
 * Content-Security-Policy forbids inline styles): it is laid out by classes under
 * `.recurd-review`, which the document styles in its own <style>, allowed by its hash.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ControlReview, ReviewFigures } from '../core/review.js';
import { barChart } from './charts.js';
import { html, Markup } from './markup.js';
import type { ReadReview } from './read.js';

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Colours told apart with the common colour-vision deficiencies (Okabe and Ito's palette). */
const COLOURS = {
  opened: '#0072b2',
  reopened: '#d55e00',
  verified: '#009e73',
  voided: '#8896a4',
  ratio: '#cc79a7',
  weak: '#e69f00',
  strong: '#56b4e9',
};

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function monthName(month: string): string {
  const [year, number] = month.split('-');
  return `${MONTH_NAMES[Number(number) - 1] ?? month} ${year ?? ''}`;
}

/** A month on a chart's axis: its short name, and its year under January and the first month. */
function axisMonth(month: string, index: number): readonly [string, string] {
  const [year = '', number = ''] = month.split('-');
  const name = (MONTH_NAMES[Number(number) - 1] ?? month).slice(0, 3);
  return [name, index === 0 || number === '01' ? year : ''];
}

export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** A mean time in days (one decimal), or in hours below a day. */
export function meanTime(ms: number): string {
  return ms < DAY_MS ? `${(ms / HOUR_MS).toFixed(1)} h` : `${(ms / DAY_MS).toFixed(1)} d`;
}

function countCell(value: number): Markup {
  return html`<td class="num${value === 0 ? ' zero' : ''}">${value}</td>`;
}

function optionalCell(value: number | null, format: (value: number) => string): Markup {
  return value === null ? html`<td class="num none">–</td>` : html`<td class="num">${format(value)}</td>`;
}

/** The columns of every table of figures, in order. */
const COLUMNS: ReadonlyArray<{ head: string; cell: (figures: ReviewFigures) => Markup }> = [
  { head: 'Opened', cell: (figures) => countCell(figures.opened) },
  { head: 'Reopened', cell: (figures) => countCell(figures.reopened) },
  { head: 'Reopen ratio', cell: (figures) => optionalCell(figures.reopenRatio, percent) },
  { head: 'Verified effective', cell: (figures) => countCell(figures.verifiedEffective) },
  { head: 'Mean time to verified effective', cell: (figures) => optionalCell(figures.meanTimeToVerifiedEffectiveMs, meanTime) },
  { head: 'Voided', cell: (figures) => countCell(figures.voided) },
  { head: 'Actions: weak', cell: (figures) => countCell(figures.correctiveActions.weak) },
  { head: 'Actions: strong', cell: (figures) => countCell(figures.correctiveActions.strong) },
  { head: 'Weak share', cell: (figures) => optionalCell(figures.correctiveActions.weakShare, percent) },
  { head: 'Overdue', cell: (figures) => countCell(figures.overdue) },
];

/** A table of figures, named by its caption or by the heading whose id is given. */
function figureTable(name: { caption: string } | { labelledBy: string }, rowHead: string, rows: ReadonlyArray<{ head: string; figures: ReviewFigures }>, total: ReviewFigures): Markup {
  return html`<div class="table-wrap"><table${'labelledBy' in name ? html` aria-labelledby="${name.labelledBy}"` : null}>
${'caption' in name ? html`<caption>${name.caption}</caption>` : null}
<thead><tr><th scope="col">${rowHead}</th>${COLUMNS.map((column) => html`<th scope="col">${column.head}</th>`)}</tr></thead>
<tbody>
${rows.map((row) => html`<tr><th scope="row">${row.head}</th>${COLUMNS.map((column) => column.cell(row.figures))}</tr>\n`)}</tbody>
<tfoot><tr><th scope="row">Period</th>${COLUMNS.map((column) => column.cell(total))}</tr></tfoot>
</table></div>`;
}

function controlName(control: Pick<ControlReview, 'control' | 'title'>): string {
  if (control.control === null) return 'No Annex A control';
  return control.title === null ? control.control : `${control.control} ${control.title}`;
}

function summary(total: ReviewFigures): Markup {
  const actions = total.correctiveActions;
  const items: Array<[string, string, string]> = [
    ['Opened', String(total.opened), 'NCs raised'],
    ['Reopened', String(total.reopened), 'corrective actions proven ineffective'],
    ['Reopen ratio', total.reopenRatio === null ? '–' : percent(total.reopenRatio), 'reopened ÷ opened'],
    ['Verified effective', String(total.verifiedEffective), 'NCs closed on evidence'],
    ['Mean time to verified effective', total.meanTimeToVerifiedEffectiveMs === null ? '–' : meanTime(total.meanTimeToVerifiedEffectiveMs), 'from opened to verified'],
    ['Voided', String(total.voided), 'false positives, duplicates, test data'],
    ['Corrective actions', String(actions.weak + actions.strong), actions.weakShare === null ? 'none recorded' : `${percent(actions.weakShare)} weak, ${percent(actions.strongShare ?? 0)} strong`],
    ['Overdue', String(total.overdue), 'actions past their due date'],
  ];
  return html`<dl class="figures">${items.map(([name, value, note]) => html`<div><dt>${name}</dt><dd><span class="value">${value}</span> <span class="note">${note}</span></dd></div>`)}</dl>`;
}

const DEFINITIONS: ReadonlyArray<[string, string]> = [
  ['Opened', 'NCs recurd raised in the month (their openedAt).'],
  ['Reopened', 'Returns of a symptom while its NC’s corrective action was being verified: the action was ineffective. An NC reopened twice counts twice.'],
  ['Reopen ratio', 'Reopened ÷ opened, in the same month or over the period. A month’s reopens may concern NCs opened earlier, so a month can exceed 100%; “–” when none were opened.'],
  ['Verified effective', 'NCs closed because their effectiveness window passed with the evidence that the action worked.'],
  ['Mean time to verified effective', 'The mean, over the NCs verified effective in the month or period, of the time from opened to verified effective.'],
  ['Voided', 'NCs declared void (a false positive, a duplicate, test data) in the month. An NC void by the end of the period counts in no other figure.'],
  ['Actions: weak / strong', 'Corrective actions recorded in the month, as recurd classified them: weak treats the symptom, strong removes its cause.'],
  ['Overdue', 'Corrective actions whose due date passed in the month while their NC was still open, verifying or reopened.'],
];

/** The review as markup without a page around it: what the console's /ui/review shows. */
export function reviewFragment(review: ReadReview): string {
  return reviewMarkup(review).text;
}

function reviewMarkup(review: ReadReview): Markup {
  const { period, months, total, controls } = review;
  const categories = months.map((month, index) => axisMonth(month.month, index));
  const span = `${monthName(period.from)} to ${monthName(period.to)}`;
  const activity = barChart({
    id: 'review-activity',
    title: `Nonconformities per month, ${span}`,
    description: 'For each month, side by side: NCs opened, reopened, verified effective and voided. The table by month below gives the same numbers.',
    categories,
    series: [
      { name: 'opened', colour: COLOURS.opened, values: months.map((month) => month.opened) },
      { name: 'reopened', colour: COLOURS.reopened, values: months.map((month) => month.reopened) },
      { name: 'verified effective', colour: COLOURS.verified, values: months.map((month) => month.verifiedEffective) },
      { name: 'voided', colour: COLOURS.voided, values: months.map((month) => month.voided) },
    ],
    integer: true,
    atLeast: 4,
    empty: total.opened + total.reopened + total.verifiedEffective + total.voided === 0 ? 'no nonconformity in the period' : null,
  });
  const ratio = barChart({
    id: 'review-reopen-ratio',
    title: `Reopen ratio per month, ${span}`,
    description: 'For each month, reopened ÷ opened as a percentage; no bar where no NC was opened.',
    categories,
    series: [{ name: 'reopen ratio', colour: COLOURS.ratio, values: months.map((month) => month.reopenRatio) }],
    format: percent,
    atLeast: 1,
    width: 540,
    empty: total.opened === 0 ? 'no NC opened in the period' : null,
  });
  const actions = barChart({
    id: 'review-actions',
    title: `Corrective actions per month by strength, ${span}`,
    description: 'For each month, the corrective actions recorded, stacked: weak (treats the symptom) below, strong (removes the cause) above.',
    categories,
    series: [
      { name: 'weak', colour: COLOURS.weak, values: months.map((month) => month.correctiveActions.weak) },
      { name: 'strong', colour: COLOURS.strong, values: months.map((month) => month.correctiveActions.strong) },
    ],
    stacked: true,
    integer: true,
    atLeast: 4,
    width: 540,
    empty: total.correctiveActions.weak + total.correctiveActions.strong === 0 ? 'no corrective action recorded in the period' : null,
  });
  const byControl = controls.length === 0
    ? html`<p class="empty">No nonconformity and no corrective action in the period.</p>`
    : html`${figureTable({ caption: 'Period totals per Annex A control' }, 'Control', controls.map((control) => ({ head: controlName(control), figures: control.total })), total)}
${controls.map(
  (control, index) => html`<section class="control" aria-labelledby="review-control-${index}">
<h4 id="review-control-${index}">${controlName(control)}</h4>
${figureTable({ labelledBy: `review-control-${index}` }, 'Month', control.months.map((month) => ({ head: monthName(month.month), figures: month })), control.total)}
</section>
`,
)}`;
  return html`<section class="recurd-review" aria-labelledby="review-period">
<h2 id="review-period">${span}</h2>
<p class="meta">Nonconformities and corrective actions per Annex A control and month (UTC), for the management review (ISO/IEC 27001:2022 clauses 9.3.2 c and 10.1). Made ${new Date(review.generatedAt).toISOString()} from the register: ${review.read.ncs} NCs read, ${review.read.timelines} timelines.</p>
${summary(total)}
<h3>Trends</h3>
<figure>${activity}</figure>
<div class="pair">
<figure>${ratio}</figure>
<figure>${actions}</figure>
</div>
<h3>By month</h3>
${figureTable({ caption: 'All controls, per month' }, 'Month', months.map((month) => ({ head: monthName(month.month), figures: month })), total)}
<h3>By control</h3>
${byControl}
<h3>How the figures are counted</h3>
<dl class="definitions">${DEFINITIONS.map(([term, meaning]) => html`<dt>${term}</dt><dd>${meaning}</dd>`)}</dl>
</section>
`;
}

/** The page around the review, in the report file only; the console has its own. */
const PAGE_STYLE = `
:root { color-scheme: light; }
body { margin: 0; background: #f5f7fa; color: #1f2933; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
`;

/** The review's style, one file shared with the console's bundle. */
const STYLE = PAGE_STYLE + readFileSync(new URL('./review.css', import.meta.url), 'utf8');

/**
 * The review as one HTML document. Its Content-Security-Policy allows its own <style> (by hash)
 * and nothing else: no script, no image, no font, no request of any kind.
 */
export function reviewDocument(review: ReadReview): string {
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  const { from, to } = review.period;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-${styleHash}'">
<title>Management review ${from} to ${to}: nonconformities and corrective actions</title>
<style>${new Markup(STYLE)}</style>
</head>
<body>
<main>
<h1>Management review: nonconformities and corrective actions</h1>
${reviewMarkup(review)}
</main>
</body>
</html>
`.text;
}
