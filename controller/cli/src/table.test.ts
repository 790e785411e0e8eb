import { describe, expect, it } from '@jest/globals';
import { percent, renderTable, shortDuration } from './table.js';

describe('renderTable', () => {
  it('aligns columns three spaces apart and shows empty cells as <none>', () => {
    expect(renderTable(['NAME', 'IPS', 'NODE'], [['web', '10.0.0.1', 'n1'], ['database', '', 'node-two']])).toBe(
      ['NAME       IPS        NODE', 'web        10.0.0.1   n1', 'database   <none>     node-two', ''].join('\n'),
    );
  });

  it('keeps each row on one line', () => {
    expect(renderTable(['A', 'B'], [['x\ny', 'z']])).toBe('A     B\nx y   z\n');
  });
});

describe('shortDuration', () => {
  it.each([
    [0, '0s'],
    [-5_000, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [192_000, '3m12s'],
    [3_600_000, '1h'],
    [5 * 3_600_000 + 120_000, '5h2m'],
    [3 * 86_400_000 + 4 * 3_600_000 + 59_000, '3d4h'],
  ])('%d ms is %s', (ms, text) => {
    expect(shortDuration(ms)).toBe(text);
  });
});

describe('percent', () => {
  it('is exact to one decimal at any size, and null for an empty whole', () => {
    expect(percent(1n, 3n)).toBe(33.3);
    expect(percent(4n, 4n)).toBe(100);
    expect(percent(1n, 2n ** 64n)).toBe(0);
    expect(percent(2n ** 63n, 2n ** 64n)).toBe(50);
    expect(percent(0n, 0n)).toBeNull();
  });
});
