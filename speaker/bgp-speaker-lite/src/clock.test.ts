import { describe, expect, it } from '@jest/globals';
import { FakeClock, systemClock } from './clock.js';

describe('FakeClock', () => {
  it('fires timers in order of due time, ties in order of scheduling, each at its due time', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`d@${clock.now()}`), 31);
    clock.advance(30);
    expect(fired).toEqual(['a@1010', 'b@1010', 'c@1030']);
    expect(clock.now()).toBe(1030);
    expect(clock.pending).toBe(1);
  });

  it('fires timers that callbacks schedule within the same advance', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(350);
  });

  it('does not fire cancelled timers, and cancelling twice is harmless', () => {
    const clock = new FakeClock();
    let fired = false;
    const h = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(h);
    clock.clearTimeout(h);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe('systemClock', () => {
  it('runs and cancels real timers', async () => {
    const before = systemClock.now();
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    let fired = false;
    const h = systemClock.setTimeout(() => (fired = true), 1);
    systemClock.clearTimeout(h);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 10));
    expect(fired).toBe(false);
  });
});
