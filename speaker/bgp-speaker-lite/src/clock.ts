/**
 * Injected time for bgp-speaker-lite. The package must not depend on `@herald/shared`, so it
 * declares the smallest clock it needs. The shape matches `@herald/shared`'s `Clock`, so that
 * clock (and its FakeClock) can be passed in unchanged.
 * @packageDocumentation
 */

/**
 * Whatever the clock's `setTimeout` returned. Opaque: only passed back to the same clock's
 * `clearTimeout`. Typed `unknown` so that Node's timers and other clocks fit without casts.
 */
export type TimerHandle = unknown;

/** Wall-clock milliseconds and one-shot timers. */
export interface Clock {
  /** Milliseconds, like `Date.now()`. Only differences matter to this package. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; harmless when it has fired or was cancelled already. */
  clearTimeout(handle: TimerHandle): void;
}

// Node fires delays above 2^31-1 ms after 1 ms instead; clamp so long timers fire late, not early.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms))),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A manual clock for tests: time moves only in {@link FakeClock.advance}. Timers fire in order
 * of due time (ties in order of scheduling), each with `now()` equal to its due time.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: ++this.#seq, due: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers, including ones that callbacks schedule. */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      const next = this.#timers.reduce<FakeTimer | undefined>(
        (best, t) => (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id) ? t : best),
        undefined,
      );
      if (next === undefined || next.due > target) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.due;
      next.fn();
    }
    this.#now = target;
  }
}
