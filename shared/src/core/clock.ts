/**
 * Injected time. Everything in Herald that waits (backoff, lease renewal, hold timers,
 * failure detection) takes a {@link Clock}, so that unit tests run it on {@link FakeClock}
 * in microseconds of real time and with no flakiness.
 * @packageDocumentation
 */

import { HeraldError } from './errors.js';

declare const timerBrand: unique symbol;

/**
 * A scheduled timer. Opaque: only the clock that made it can cancel it, and code that
 * holds one cannot tell a real Node timer from a fake one.
 */
export interface TimerHandle {
  readonly [timerBrand]: true;
}

/** Wall-clock time and one-shot timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch, like `Date.now()`. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 or less: on a later turn of the event loop). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; harmless when it has fired or was cancelled already. */
  clearTimeout(h: TimerHandle): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  // Node fires delays above 2^31-1 ms (~24.8 days) after 1 ms instead; fire late-ish
  // rather than at once.
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms))) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};

/**
 * Resolves after `ms` milliseconds of `clock` time, or as soon as `signal` aborts.
 * It never rejects: loops that sleep check their own stop flag after waking, which
 * keeps shutdown paths free of AbortError handling.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface FakeTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** Lets every settled promise chain run: a macrotask comes after all pending microtasks. */
const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A manual clock for tests. Time moves only when the test says so; timers fire in order of
 * due time, ties in order of scheduling, each with `now()` equal to its due time, so a
 * callback sees exactly the time it asked for.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  // Kept sorted by (due, id). A test holds a few hundred timers at most, so sorted
  // insertion beats a heap on simplicity and is fast enough.
  #timers: FakeTimer[] = [];

  /** @param start - initial `now()`; a realistic epoch by default so Dates print sensibly. */
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: ++this.#seq, due: this.#now + Math.max(0, ms), fn };
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1]?.due ?? -Infinity) > timer.due) i--;
    this.#timers.splice(i, 0, timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimeout(h: TimerHandle): void {
    const id = h as unknown as number;
    const i = this.#timers.findIndex((t) => t.id === id);
    if (i !== -1) this.#timers.splice(i, 1);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Due time of the next timer, if any. */
  nextDue(): number | undefined {
    return this.#timers[0]?.due;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, including
   * timers that fired callbacks schedule within the window. Synchronous: promise callbacks
   * queued by the timers run only after it returns; see {@link FakeClock.advanceAsync}.
   */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    for (let t = this.#popDue(target); t; t = this.#popDue(target)) {
      this.#now = t.due;
      t.fn();
    }
    this.#now = target;
  }

  /**
   * Like {@link FakeClock.advance}, but lets promise chains settle before time moves and
   * after each timer fires, so async code driven by timers (a workqueue worker, a lease
   * renewal loop awaiting an API call) keeps up with the clock as it would in real time.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    await flushMicrotasks();
    for (let t = this.#popDue(target); t; t = this.#popDue(target)) {
      this.#now = t.due;
      t.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /**
   * Fires timers until none are left, moving time to each one's due time.
   * Throws after `limit` timers: a loop that always reschedules itself never ends.
   */
  runAll(limit = 10_000): void {
    for (let n = 0; ; n++) {
      const t = this.#timers.shift();
      if (!t) return;
      if (n >= limit) {
        throw new HeraldError('Internal', `FakeClock.runAll: more than ${limit} timers fired; a timer keeps rescheduling itself`);
      }
      this.#now = Math.max(this.#now, t.due);
      t.fn();
    }
  }

  #popDue(target: number): FakeTimer | undefined {
    const first = this.#timers[0];
    if (!first || first.due > target) return undefined;
    this.#timers.shift();
    return first;
  }
}
