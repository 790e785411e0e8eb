import { describe, expect, it } from '@jest/globals';
import { barChart, distributionChart, esc, fmt, niceTicks } from './svg.js';

/** Every opened element is closed, in order: enough to catch a broken string build. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self === '/') continue;
    if (close === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name ?? '');
  }
  return stack.length === 0;
}

describe('SVG charts', () => {
  it('picks round axis ticks that cover the largest value', () => {
    expect(niceTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(1234)).toEqual([0, 250, 500, 750, 1000, 1250]);
    expect(niceTicks(0.37)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });

  it('formats numbers briefly and escapes text', () => {
    expect(fmt(12345.6)).toBe('12,346');
    expect(fmt(123.4)).toBe('123');
    expect(fmt(12.34)).toBe('12.3');
    expect(fmt(1.5)).toBe('1.5');
    expect(fmt(0.0123)).toBe('0.012');
    expect(fmt(Number.NaN)).toBe('–');
    expect(esc('<a & "b">')).toBe('&lt;a &amp; &quot;b&quot;&gt;');
  });

  it('draws grouped bars with a legend, value labels, whiskers, a target line and escaped labels', () => {
    const svg = barChart({
      title: 'Learn <time>',
      unit: 'ms',
      series: ['Herald', 'gobgpd (same run)'],
      groups: [
        { label: 'FRR', values: [300, 420], whiskers: [340, 455] },
        { label: 'BIRD & co', values: [120, null] },
      ],
      target: { value: 500, label: 'target' },
    });
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain('Learn &lt;time&gt;');
    expect(svg).toContain('BIRD &amp; co');
    expect(svg).toContain('gobgpd (same run)');
    expect(svg).toContain('not measured');
    expect(svg).toContain('stroke-dasharray');
    expect(svg.match(/<rect [^>]*fill="#2b6cb0"/g)?.length).toBe(3); // legend + 2 bars
    expect(svg).toMatch(/>ms<\/text>/);
  });

  it('skips undefined bars silently', () => {
    const svg = barChart({ title: 't', unit: 's', series: ['a', 'b'], groups: [{ label: 'g', values: [1, undefined] }] });
    expect(svg).not.toContain('not measured');
    expect(wellFormed(svg)).toBe(true);
  });

  it('draws one dot per trial, p50/p99 ticks, timed-out trials, and percentile boxes when no samples exist', () => {
    const svg = distributionChart({
      title: 'Failover',
      unit: 'ms',
      rows: [
        { label: 'SIGKILL', samples: [400, 410, 530, null] },
        { label: 'handoff', p50: 35, p99: 60, max: 80 },
        { label: 'empty' },
      ],
      target: { value: 1000, label: 'target p99 ≤ 1 s' },
    });
    expect(wellFormed(svg)).toBe(true);
    expect(svg.match(/<circle /g)?.length).toBe(3);
    expect(svg).toContain('SIGKILL (n=4)');
    expect(svg).toContain('1 timed out');
    expect(svg).toContain('p50 410');
    expect(svg).toContain('p99 530');
    expect(svg).toContain('p50 35');
    expect(svg).toContain('not measured');
    expect(svg).toContain('target p99 ≤ 1 s');
  });

  it('renders the same chart for the same input', () => {
    const o = { title: 't', unit: 'ms', rows: [{ label: 'a', samples: [1, 2, 3, 4, 5] }] };
    expect(distributionChart(o)).toBe(distributionChart(o));
  });
});
