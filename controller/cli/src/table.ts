/**
 * Plain-text output in kubectl's style: upper-case headers, columns three spaces apart,
 * `<none>` for empty cells. Pure.
 * @packageDocumentation
 */

/** Renders rows under headers; every cell on one line (newlines become spaces). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = (s: string): string => (s === '' ? '<none>' : s.replace(/\s*\n\s*/g, ' '));
  const cells = rows.map((r) => headers.map((_, i) => clean(r[i] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** A duration in kubectl's short form: `45s`, `3m12s`, `5h2m`, `3d4h`. Negative counts as 0. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

/** `part` of `whole` as a percentage with one decimal, exact for any bigint size; null when whole is 0. */
export function percent(part: bigint, whole: bigint): number | null {
  if (whole <= 0n) return null;
  return Number((part * 1000n) / whole) / 10;
}

/** A list as one cell: `a, b`; empty stays empty (shown as `<none>`). */
export function list(items: readonly string[]): string {
  return items.join(', ');
}
