import { describe, expect, it } from '@jest/globals';
import { FakeClock, sleep, systemClock } from './clock.js';

describe('FakeClock', () => {
  it('fires due timers in order of due time, ties in order of scheduling, each at its due time', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`d@${clock.now()}`), 31);
    expect(clock.pending).toBe(4);
    clock.advance(30);
    expect(fired).toEqual(['a@1010', 'b@1010', 'c@1030']);
    expect(clock.now()).toBe(1030);
    expect(clock.pending).toBe(1);
    expect(clock.nextDue()).toBe(1031);
  });

  it('fires timers that fired callbacks schedule within the same advance', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(350);
    expect(clock.pending).toBe(1);
  });

  it('fires a zero-delay timer on the next advance, not at once', () => {
    const clock = new FakeClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 0);
    expect(fired).toBe(false);
    clock.advance(0);
    expect(fired).toBe(true);
  });

  it('does not fire cancelled timers, and cancelling twice is harmless', () => {
    const clock = new FakeClock(0);
    let fired = false;
    const h = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(h);
    clock.clearTimeout(h);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('runs all timers with runAll, and refuses to loop forever', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 5_000);
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 10), 20);
    clock.runAll();
    expect(fired).toEqual([30, 5_000]);
    expect(clock.pending).toBe(0);

    const forever = (): void => void clock.setTimeout(forever, 1);
    forever();
    expect(() => clock.runAll(100)).toThrow(/rescheduling/);
  });

  it('lets async work between timers settle with advanceAsync', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 100);
        await Promise.resolve();
        seen.push(clock.now());
      }
    };
    const done = loop();
    await clock.advanceAsync(1_000);
    await done;
    expect(seen).toEqual([100, 200, 300]);
  });
});

describe('sleep', () => {
  it('resolves early, without a rejection, when its signal aborts', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    let woke = false;
    const p = sleep(clock, 10_000, ac.signal).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    ac.abort();
    await p;
    expect(woke).toBe(true);
    expect(clock.pending).toBe(0);
    await sleep(clock, 10_000, ac.signal); // already aborted: immediate
  });

  it('waits on the system clock', async () => {
    const t0 = systemClock.now();
    await sleep(systemClock, 20);
    expect(systemClock.now() - t0).toBeGreaterThanOrEqual(15);
    const h = systemClock.setTimeout(() => {
      throw new Error('must not fire');
    }, 5);
    systemClock.clearTimeout(h);
    await sleep(systemClock, 10);
  });
});
