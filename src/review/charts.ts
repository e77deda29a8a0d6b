/**
 * Bar charts as inline SVG, for a report that must open from a file with no script and no
 * network. Colours and fonts are SVG presentation attributes, not `style`: a page whose
 * Content-Security-Policy forbids inline styles (the console) shows them as they are.
 *
 * Each chart is an image with a title and a description for screen readers, and each bar carries
 * its exact value as a tooltip; the tables beside the charts hold the same numbers.
 */
import { html, type Markup } from './markup.js';

export interface ChartSeries {
  name: string;
  /** A fill colour, `#rrggbb`. */
  colour: string;
  /** One value per category; null where there is nothing to show (a ratio of nothing). */
  values: ReadonlyArray<number | null>;
}

export interface BarChartOptions {
  /** Unique in the page: the ids of the chart's title and description derive from it. */
  id: string;
  title: string;
  description: string;
  /** The categories along the x axis (months), two lines each: the second may be empty. */
  categories: ReadonlyArray<readonly [string, string]>;
  series: readonly ChartSeries[];
  /** Stacked: one bar per category, the series on top of each other; else side by side. */
  stacked?: boolean;
  /** How values read on the axis and in tooltips. */
  format?: (value: number) => string;
  /** The axis reaches at least this value (a ratio axis up to 100 %). */
  atLeast?: number;
  /** What the plot says instead of bars when the caller finds nothing to show; null when there is. */
  empty: string | null;
  /** Counts: the axis steps by whole numbers. */
  integer?: boolean;
  /** Width of the drawing in the units of its 11-unit font: about its width in pixels on a page. */
  width?: number;
}

const HEIGHT = 250;
/** About how wide a character of the 11-unit font is, to space the legend. */
const CHARACTER = 6.3;
const MARGIN = { top: 34, right: 12, bottom: 40, left: 52 };
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const INK = '#1f2933';
const MUTED = '#52606d';
const GRID = '#d9e2ec';

/**
 * A round axis maximum at or above `value`, and its step: 1, 2 or 5 times a power of ten, about
 * four steps; a whole number at least when `integer`.
 */
export function niceScale(value: number, integer = false): { max: number; step: number } {
  const top = value > 0 ? value : 1;
  const rough = top / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const nice = ([1, 2, 5, 10].find((factor) => factor * power >= rough) ?? 10) * power;
  const step = integer ? Math.max(1, Math.round(nice)) : nice;
  return { max: Math.ceil(top / step - 1e-9) * step, step };
}

/** A count as the axis shows it: whole numbers only. */
function count(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** Keeps a label from every `every`-th category when there are too many to read side by side. */
function labelEvery(categories: number): number {
  return Math.max(1, Math.ceil(categories / 12));
}

export function barChart(options: BarChartOptions): Markup {
  const format = options.format ?? count;
  const { categories, series } = options;
  const width = options.width ?? 960;
  const plot = { x: MARGIN.left, y: MARGIN.top, width: width - MARGIN.left - MARGIN.right, height: HEIGHT - MARGIN.top - MARGIN.bottom };
  const totals = categories.map((_category, index) => series.map((each) => each.values[index] ?? 0));
  const highest = Math.max(0, ...totals.map((values) => (options.stacked ? values.reduce((sum, value) => sum + value, 0) : Math.max(0, ...values))));
  const { max, step } = niceScale(Math.max(highest, options.atLeast ?? 0), options.integer);
  const y = (value: number): number => plot.y + plot.height - (value / max) * plot.height;
  const band = plot.width / Math.max(1, categories.length);
  const fixed = (value: number): string => value.toFixed(1);

  const grid = [];
  for (let index = 0; index * step <= max + step / 2; index++) {
    const tick = index * step;
    grid.push(html`<line x1="${fixed(plot.x)}" x2="${fixed(plot.x + plot.width)}" y1="${fixed(y(tick))}" y2="${fixed(y(tick))}" stroke="${tick === 0 ? MUTED : GRID}" stroke-width="1"/>
<text x="${fixed(plot.x - 6)}" y="${fixed(y(tick) + 4)}" text-anchor="end" fill="${MUTED}">${format(tick)}</text>`);
  }

  const bars = options.empty !== null ? [] : categories.map(([line1, line2], index) => {
    const left = plot.x + index * band;
    const label = `${line1}${line2 === '' ? '' : ` ${line2}`}`;
    if (options.stacked) {
      const barWidth = band * 0.6;
      let base = 0;
      return series.map((each) => {
        const value = each.values[index] ?? null;
        if (value === null || value <= 0) return null;
        const top = y(base + value);
        const rect = html`<rect x="${fixed(left + (band - barWidth) / 2)}" y="${fixed(top)}" width="${fixed(barWidth)}" height="${fixed(y(base) - top)}" fill="${each.colour}"><title>${label}: ${each.name} ${format(value)}</title></rect>`;
        base += value;
        return rect;
      });
    }
    const inner = (band * 0.8) / Math.max(1, series.length);
    return series.map((each, position) => {
      const value = each.values[index] ?? null;
      if (value === null) return null;
      // A zero still gets a hairline, so that "none" reads differently from "not applicable".
      const height = Math.max(value > 0 ? 1 : 0.75, plot.y + plot.height - y(value));
      return html`<rect x="${fixed(left + band * 0.1 + position * inner)}" y="${fixed(plot.y + plot.height - height)}" width="${fixed(Math.max(1, inner - 1))}" height="${fixed(height)}" fill="${each.colour}"><title>${label}: ${each.name} ${format(value)}</title></rect>`;
    });
  });

  const every = labelEvery(categories.length);
  const labels = categories.map(([line1, line2], index) => {
    if (index % every !== 0) return null;
    const x = fixed(plot.x + index * band + band / 2);
    const bottom = plot.y + plot.height;
    return html`<text x="${x}" y="${fixed(bottom + 15)}" text-anchor="middle" fill="${INK}">${line1}</text>${line2 === '' ? null : html`<text x="${x}" y="${fixed(bottom + 29)}" text-anchor="middle" fill="${MUTED}">${line2}</text>`}`;
  });

  let legendX = plot.x;
  const legend = series.map((each) => {
    const item = html`<rect x="${fixed(legendX)}" y="8" width="12" height="12" fill="${each.colour}"/><text x="${fixed(legendX + 17)}" y="18" fill="${INK}">${each.name}</text>`;
    legendX += 17 + each.name.length * CHARACTER + 18;
    return item;
  });

  const nothing = options.empty !== null
    ? html`<text x="${fixed(plot.x + plot.width / 2)}" y="${fixed(plot.y + plot.height / 2)}" text-anchor="middle" fill="${MUTED}">${options.empty}</text>`
    : null;

  return html`<svg class="chart" viewBox="0 0 ${width} ${HEIGHT}" width="100%" role="img" aria-labelledby="${options.id}-title ${options.id}-desc" font-family="${FONT}" font-size="11">
<title id="${options.id}-title">${options.title}</title>
<desc id="${options.id}-desc">${options.description}</desc>
${grid}
${bars}
${labels}
${legend}
${nothing}
</svg>`;
}
