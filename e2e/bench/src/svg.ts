/**
 * Hand-written SVG charts for the benchmark report: horizontal grouped bars and per-trial
 * distributions. Pure string building, no dependencies; every chart has a title, a value axis
 * with its unit, a legend where there are several series, and an optional target line.
 */

const WIDTH = 640;
const LEFT = 150;
const RIGHT = 30;
/** Title, legend and the target's label sit above the plot. */
const TOP = 62;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
/** Herald first, then comparisons (the ceiling or the peer): blue, grey, amber, teal. */
export const PALETTE = ['#2b6cb0', '#a0aec0', '#d69e2e', '#319795'] as const;
const TARGET_COLOR = '#c53030';

/** Escapes text for SVG/XML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Up to about `count` round tick values from 0 covering `max` (1, 2, 2.5 or 5 times a power of ten). */
export function niceTicks(max: number, count = 5): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    ticks.push(Number((i * step).toPrecision(12)));
    if (i * step >= max - step * 1e-9) return ticks;
  }
}

/** A number as a short axis or bar label: 12,345 / 12.3 / 0.123. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  if (a === 0) return '0';
  return String(Number(v.toPrecision(2)));
}

const text = (x: number, y: number, s: string, attrs = ''): string => `<text x="${r(x)}" y="${r(y)}" ${attrs}>${esc(s)}</text>`;
const r = (n: number): string => String(Math.round(n * 10) / 10);

interface Frame {
  readonly title: string;
  readonly unit: string;
  readonly height: number;
  readonly max: number;
  readonly target?: { readonly value: number; readonly label: string } | undefined;
  readonly legend?: readonly string[] | undefined;
  readonly note?: string | undefined;
}

/** The chart's outline: title, legend, x axis with ticks and unit, target line; returns the x scale. */
function frame(f: Frame, plotBottom: number): { parts: string[]; x: (v: number) => number } {
  const ticks = niceTicks(Math.max(f.max, f.target?.value ?? 0));
  const top = ticks[ticks.length - 1] ?? 1;
  const x = (v: number): number => LEFT + (Math.max(0, v) / top) * (WIDTH - LEFT - RIGHT);
  const parts: string[] = [
    `<rect width="${WIDTH}" height="${f.height}" fill="#fff"/>`,
    text(12, 20, f.title, 'font-size="14" font-weight="600" fill="#1a202c"'),
  ];
  (f.legend ?? []).forEach((name, i) => {
    const lx = 12 + i * 180;
    parts.push(`<rect x="${lx}" y="29" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`, text(lx + 14, 38, name, 'font-size="11" fill="#2d3748"'));
  });
  for (const t of ticks) {
    const tx = x(t);
    parts.push(`<line x1="${r(tx)}" y1="${TOP}" x2="${r(tx)}" y2="${r(plotBottom)}" stroke="#edf2f7"/>`, text(tx, plotBottom + 14, fmt(t), 'font-size="10" fill="#4a5568" text-anchor="middle"'));
  }
  parts.push(`<line x1="${LEFT}" y1="${r(plotBottom)}" x2="${WIDTH - RIGHT}" y2="${r(plotBottom)}" stroke="#4a5568"/>`);
  parts.push(text((LEFT + WIDTH - RIGHT) / 2, plotBottom + 30, f.unit, 'font-size="11" fill="#2d3748" text-anchor="middle"'));
  if (f.target && Number.isFinite(f.target.value)) {
    const tx = x(f.target.value);
    parts.push(
      `<line x1="${r(tx)}" y1="${TOP - 4}" x2="${r(tx)}" y2="${r(plotBottom)}" stroke="${TARGET_COLOR}" stroke-dasharray="4 3" stroke-width="1.5"/>`,
      text(tx - 3, TOP - 8, f.target.label, `font-size="10" fill="${TARGET_COLOR}" text-anchor="end"`),
    );
  }
  if (f.note) parts.push(text(12, f.height - 8, f.note, 'font-size="10" fill="#718096"'));
  return { parts, x };
}

const svg = (height: number, title: string, parts: readonly string[]): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${esc(title)}" ${FONT}>\n${parts.join('\n')}\n</svg>\n`;

export interface BarGroup {
  readonly label: string;
  /** One value per series, in the chart's series order; null: not measured. */
  readonly values: readonly (number | null | undefined)[];
  /** Optional whisker end per series (for example the maximum behind a median bar). */
  readonly whiskers?: readonly (number | null | undefined)[];
}

export interface BarChartOptions {
  readonly title: string;
  /** Axis label with the unit, e.g. `Services per second`. */
  readonly unit: string;
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
  readonly target?: { readonly value: number; readonly label: string } | undefined;
  readonly note?: string | undefined;
}

/**
 * Horizontal bars: one block per group, one bar per series, each bar labelled with its value.
 * A value `undefined` takes no room (that series does not apply to the group); `null` is
 * drawn as "not measured".
 */
export function barChart(o: BarChartOptions): string {
  const bar = 14;
  const step = bar + 3;
  const gap = 10;
  const shown = o.groups.map((g) => o.series.map((_, si) => si).filter((si) => g.values[si] !== undefined));
  const heights = shown.map((s) => Math.max(1, s.length) * step + gap);
  const plotBottom = TOP + 6 + heights.reduce((a, b) => a + b, 0);
  const height = plotBottom + 40 + (o.note ? 14 : 0);
  const values = o.groups.flatMap((g) => [...g.values, ...(g.whiskers ?? [])]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const { parts, x } = frame({ title: o.title, unit: o.unit, height, max: Math.max(0, ...values), target: o.target, legend: o.series.length > 1 ? o.series : undefined, note: o.note }, plotBottom);
  let gy = TOP + 6;
  o.groups.forEach((g, gi) => {
    const rows = shown[gi] ?? [];
    parts.push(text(LEFT - 8, gy + (Math.max(1, rows.length) * step) / 2 + 3, g.label, 'font-size="12" fill="#1a202c" text-anchor="end"'));
    rows.forEach((si, k) => parts.push(...barParts(o, g, si, gy + k * step, bar, x)));
    gy += heights[gi] ?? 0;
  });
  return svg(height, o.title, parts);
}

function barParts(o: BarChartOptions, g: BarGroup, si: number, y: number, bar: number, x: (v: number) => number): string[] {
  const v = g.values[si];
  const color = PALETTE[si % PALETTE.length];
  if (typeof v !== 'number' || !Number.isFinite(v)) return [text(LEFT + 4, y + bar - 3, 'not measured', 'font-size="10" fill="#a0aec0"')];
  const w = Math.max(1, x(v) - LEFT);
  const parts = [`<rect x="${LEFT}" y="${r(y)}" width="${r(w)}" height="${bar}" fill="${color}"><title>${esc(`${o.series[si] ?? ''}: ${fmt(v)}`)}</title></rect>`];
  const wk = g.whiskers?.[si];
  let labelX = LEFT + w + 4;
  if (typeof wk === 'number' && Number.isFinite(wk) && wk > v) {
    const wx = x(wk);
    parts.push(`<line x1="${r(LEFT + w)}" y1="${r(y + bar / 2)}" x2="${r(wx)}" y2="${r(y + bar / 2)}" stroke="${color}"/>`, `<line x1="${r(wx)}" y1="${r(y + 3)}" x2="${r(wx)}" y2="${r(y + bar - 3)}" stroke="${color}"/>`);
    labelX = wx + 4;
  }
  // A bar reaching the right edge gets its label inside, in white.
  if (labelX > WIDTH - RIGHT - 30) parts.push(text(LEFT + w - 4, y + bar - 3, fmt(v), 'font-size="10" fill="#fff" text-anchor="end"'));
  else parts.push(text(labelX, y + bar - 3, fmt(v), 'font-size="10" fill="#1a202c"'));
  return parts;
}

export interface DistributionRow {
  readonly label: string;
  /** Per-trial values; null is a trial that timed out (drawn at the right edge). */
  readonly samples?: readonly (number | null)[] | undefined;
  /** Used when there are no samples: drawn as a bar from p50 to p99 with a whisker to max. */
  readonly p50?: number | null | undefined;
  readonly p99?: number | null | undefined;
  readonly max?: number | null | undefined;
}

export interface DistributionOptions {
  readonly title: string;
  readonly unit: string;
  readonly rows: readonly DistributionRow[];
  readonly target?: { readonly value: number; readonly label: string } | undefined;
  readonly note?: string | undefined;
}

/** Deterministic vertical spread of dots (no randomness: the same JSON draws the same chart). */
const jitter = (i: number): number => (((i * 7919) % 13) / 12 - 0.5) * 14;

/** Percentile by nearest rank, as the benches compute it. */
function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/** One row per series of trials: a dot per trial, p50 and p99 ticks; or a p50-p99 box when only percentiles exist. */
export function distributionChart(o: DistributionOptions): string {
  const rowH = 44;
  const plotBottom = TOP + 8 + o.rows.length * rowH;
  const height = plotBottom + 40 + (o.note ? 14 : 0);
  const all = o.rows.flatMap((row) => [...(row.samples ?? []), row.p50, row.p99, row.max]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const { parts, x } = frame({ title: o.title, unit: o.unit, height, max: Math.max(0, ...all), target: o.target, note: o.note }, plotBottom);
  o.rows.forEach((row, ri) => {
    const cy = TOP + 8 + ri * rowH + rowH / 2;
    const color = PALETTE[0];
    parts.push(`<line x1="${LEFT}" y1="${r(cy)}" x2="${WIDTH - RIGHT}" y2="${r(cy)}" stroke="#f7fafc"/>`);
    const samples = row.samples ?? [];
    const finite = samples.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
    const timedOut = samples.length - finite.length;
    const n = samples.length > 0 ? ` (n=${samples.length})` : '';
    parts.push(text(LEFT - 8, cy + 4, `${row.label}${n}`, 'font-size="12" fill="#1a202c" text-anchor="end"'));
    if (samples.length > 0) {
      samples.forEach((v, i) => {
        if (typeof v === 'number' && Number.isFinite(v)) parts.push(`<circle cx="${r(x(v))}" cy="${r(cy + jitter(i))}" r="3" fill="${color}" fill-opacity="0.55"><title>${esc(fmt(v))}</title></circle>`);
      });
      // p50 labelled above the row, p99 below, so that close values stay legible.
      const ticks: [string, number | undefined, number][] = [['p50', nearestRank(finite, 50), cy - 13], ['p99', nearestRank(finite, 99), cy + 21]];
      for (const [name, v, ty] of ticks) {
        if (v === undefined) continue;
        parts.push(`<line x1="${r(x(v))}" y1="${r(cy - 10)}" x2="${r(x(v))}" y2="${r(cy + 10)}" stroke="#1a202c" stroke-width="2"/>`, text(x(v), ty, `${name} ${fmt(v)}`, 'font-size="9" fill="#1a202c" text-anchor="middle"'));
      }
      if (timedOut > 0) parts.push(text(LEFT - 8, cy + 16, `${timedOut} timed out`, `font-size="10" fill="${TARGET_COLOR}" text-anchor="end"`));
      return;
    }
    const { p50, p99, max } = row;
    if (typeof p50 !== 'number' || !Number.isFinite(p50)) {
      parts.push(text(LEFT + 4, cy + 4, 'not measured', 'font-size="10" fill="#a0aec0"'));
      return;
    }
    const hi = typeof p99 === 'number' && Number.isFinite(p99) ? p99 : p50;
    parts.push(`<rect x="${r(x(p50))}" y="${r(cy - 7)}" width="${r(Math.max(2, x(hi) - x(p50)))}" height="14" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`);
    if (typeof max === 'number' && Number.isFinite(max) && max > hi) parts.push(`<line x1="${r(x(hi))}" y1="${r(cy)}" x2="${r(x(max))}" y2="${r(cy)}" stroke="${color}"/>`, `<line x1="${r(x(max))}" y1="${r(cy - 5)}" x2="${r(x(max))}" y2="${r(cy + 5)}" stroke="${color}"/>`);
    parts.push(text(x(p50), cy - 10, `p50 ${fmt(p50)}`, 'font-size="9" fill="#1a202c" text-anchor="middle"'), text(x(hi), cy + 18, `p99 ${fmt(hi)}`, 'font-size="9" fill="#1a202c" text-anchor="middle"'));
  });
  return svg(height, o.title, parts);
}
