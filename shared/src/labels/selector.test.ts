import { describe, expect, it } from '@jest/globals';
import { anySelectorMatches, selectorMatches, validateSelector } from './selector.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    [{}, true],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'db' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] }, false],
  ])('selector %j matches app=web,tier=front: %s', (sel, want) => {
    expect(selectorMatches(sel, labels)).toBe(want);
  });

  it('matches when any selector in a list matches, and never for an empty list', () => {
    expect(anySelectorMatches([{ matchLabels: { app: 'db' } }, { matchLabels: { tier: 'front' } }], labels)).toBe(true);
    expect(anySelectorMatches([], labels)).toBe(false);
  });

  it('explains malformed requirements', () => {
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toContain('needs at least one value');
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toContain('takes no values');
    expect(validateSelector({ matchExpressions: [{ key: 'a', operator: 'Lt' }] })).toContain('unknown operator');
    expect(validateSelector({ matchLabels: { a: 'b' } })).toBeUndefined();
  });
});
