import { describe, expect, it } from '@jest/globals';
import {
  conditionListsEqual,
  conditionsEqual,
  findCondition,
  formatTime,
  isConditionTrue,
  removeCondition,
  setCondition,
  type Condition,
} from './conditions.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0, 123);
const T1 = T0 + 60_000;

describe('setCondition', () => {
  it('appends a new condition stamped with now, in whole seconds', () => {
    const out = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok' }, T0);
    expect(out).toEqual([{ type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok', lastTransitionTime: '2025-01-01T12:00:00Z' }]);
  });

  it('keeps lastTransitionTime when the status is unchanged, taking the new reason and message', () => {
    const l0 = setCondition([], { type: 'Ready', status: 'False', reason: 'NoPool', message: 'no pool' }, T0);
    const l1 = setCondition(l0, { type: 'Ready', status: 'False', reason: 'PoolFull', message: 'pool full', observedGeneration: 3 }, T1);
    expect(l1).toEqual([{ type: 'Ready', status: 'False', reason: 'PoolFull', message: 'pool full', observedGeneration: 3, lastTransitionTime: formatTime(T0) }]);
    expect(l0[0]?.reason).toBe('NoPool'); // input untouched
  });

  it('moves lastTransitionTime when the status changes', () => {
    const l0 = setCondition([], { type: 'Ready', status: 'False', reason: 'NoPool', message: '' }, T0);
    const l1 = setCondition(l0, { type: 'Ready', status: 'True', reason: 'Allocated', message: '' }, T1);
    expect(l1[0]?.lastTransitionTime).toBe(formatTime(T1));
  });

  it('uses an explicit lastTransitionTime for a transition', () => {
    const out = setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: '', lastTransitionTime: '2020-01-01T00:00:00Z' }, T0);
    expect(out[0]?.lastTransitionTime).toBe('2020-01-01T00:00:00Z');
  });

  it('returns the same list when nothing changes, so callers can skip the write', () => {
    const l0 = setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: 'm' }, T0);
    expect(setCondition(l0, { type: 'Ready', status: 'True', reason: 'R', message: 'm' }, T1)).toBe(l0);
    expect(setCondition(l0, { type: 'Ready', status: 'True', reason: 'R', message: 'changed' }, T1)).not.toBe(l0);
  });

  it('keeps one condition per type and the order of the others', () => {
    let l: Condition[] = [];
    l = setCondition(l, { type: 'A', status: 'True', reason: 'R', message: '' }, T0);
    l = setCondition(l, { type: 'B', status: 'True', reason: 'R', message: '' }, T0);
    l = setCondition(l, { type: 'A', status: 'False', reason: 'R', message: '' }, T1);
    expect(l.map((c) => `${c.type}=${c.status}`)).toEqual(['A=False', 'B=True']);
  });
});

describe('findCondition / isConditionTrue / removeCondition', () => {
  const l = setCondition(setCondition([], { type: 'A', status: 'True', reason: 'R', message: '' }, T0), { type: 'B', status: 'Unknown', reason: 'R', message: '' }, T0);
  it('finds by type', () => {
    expect(findCondition(l, 'B')?.status).toBe('Unknown');
    expect(findCondition(l, 'C')).toBeUndefined();
    expect(findCondition(undefined, 'A')).toBeUndefined();
    expect(isConditionTrue(l, 'A')).toBe(true);
    expect(isConditionTrue(l, 'B')).toBe(false);
  });
  it('removes by type, returning the same list when absent', () => {
    expect(removeCondition(l, 'A').map((c) => c.type)).toEqual(['B']);
    expect(removeCondition(l, 'C')).toBe(l);
  });
});

describe('conditionsEqual / conditionListsEqual', () => {
  const a: Condition = { type: 'Ready', status: 'True', reason: 'R', message: 'm', lastTransitionTime: formatTime(T0) };
  it('ignores lastTransitionTime only', () => {
    expect(conditionsEqual(a, { ...a, lastTransitionTime: formatTime(T1) })).toBe(true);
    expect(conditionsEqual(a, { ...a, message: 'x' })).toBe(false);
    expect(conditionsEqual(a, { ...a, observedGeneration: 2 })).toBe(false);
    expect(conditionsEqual(a, { ...a, status: 'False' })).toBe(false);
  });
  it('compares lists by type in any order', () => {
    const b: Condition = { ...a, type: 'Synced' };
    expect(conditionListsEqual([a, b], [{ ...b, lastTransitionTime: 'x' }, a])).toBe(true);
    expect(conditionListsEqual([a], [a, b])).toBe(false);
    expect(conditionListsEqual(undefined, [])).toBe(true);
    expect(conditionListsEqual([a], [{ ...a, reason: 'Other' }])).toBe(false);
  });
});
