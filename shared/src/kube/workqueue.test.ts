import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { WorkQueue, ok, requeueAfter, retry, type ReconcileResult } from './workqueue.js';

/** Lets every settled promise chain run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('processes a key added several times before a worker takes it once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const seen: string[] = [];
    for (const k of ['a', 'b', 'a', 'a', 'c', 'b']) q.add(k);
    expect(q.length).toBe(3);
    q.start(async (key) => {
      seen.push(key);
      return ok();
    });
    await q.drained();
    expect(seen).toEqual(['a', 'b', 'c']);
    await q.shutdown();
  });

  it('re-queues a key added while it is processed, once, after its handler finishes', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const gate = deferred<void>();
    const runs: string[] = [];
    let running = 0;
    q.start(
      async (key) => {
        running++;
        runs.push(`start ${key}`);
        if (runs.length === 1) await gate.promise;
        runs.push(`end ${key}`);
        running--;
        return ok();
      },
      { workers: 4 },
    );
    q.add('a');
    await settle();
    expect(q.inFlight).toBe(1);
    // Three events for 'a' while its first reconcile runs: one more reconcile, after it.
    q.add('a');
    q.add('a');
    q.add('a');
    await settle();
    expect(runs).toEqual(['start a']);
    expect(q.length).toBe(0);
    gate.resolve();
    await q.drained();
    expect(runs).toEqual(['start a', 'end a', 'start a', 'end a']);
    expect(running).toBe(0);
    await q.shutdown();
  });

  it('never runs one key on two workers at once, with 4 workers and many adds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const active = new Set<string>();
    let overlaps = 0;
    let maxParallel = 0;
    const counts = new Map<string, number>();
    q.start(
      async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        maxParallel = Math.max(maxParallel, active.size);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        // Yield a few times so that other workers interleave.
        for (let i = 0; i < 3; i++) await settle();
        active.delete(key);
        return ok();
      },
      { workers: 4 },
    );
    for (let round = 0; round < 20; round++) {
      for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) q.add(k);
      await settle();
    }
    await q.drained();
    expect(overlaps).toBe(0);
    expect(maxParallel).toBe(4);
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) expect(counts.get(k)).toBeGreaterThanOrEqual(1);
    await q.shutdown();
  });

  it('backs off a failing key exponentially from 5 ms to the 60 s cap, and resets on ok', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const times: number[] = [];
    let fail = true;
    q.start(async () => {
      times.push(clock.now());
      return fail ? retry('NotYet') : ok();
    });
    q.add('k');
    await settle();
    // 5, 10, 20, ... 40960, then capped at 60000.
    const want = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 40960, 60000, 60000];
    for (const d of want) {
      await clock.advanceAsync(d - 1);
      const before = times.length;
      await clock.advanceAsync(1);
      expect(times.length).toBe(before + 1);
    }
    expect(times.slice(1).map((t, i) => t - (times[i] ?? 0))).toEqual(want);
    expect(q.numRequeues('k')).toBe(want.length + 1);

    fail = false;
    await clock.advanceAsync(60_000);
    expect(q.numRequeues('k')).toBe(0);
    expect(q.nextRetryDelay('k')).toBe(5);
    await q.drained();
    await q.shutdown();
  });

  it('keeps the backoff of each key separate', () => {
    const q = new WorkQueue({ clock: new FakeClock(), baseDelayMs: 10, maxDelayMs: 100 });
    q.addRateLimited('a');
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.nextRetryDelay('a')).toBe(80);
    expect(q.nextRetryDelay('b')).toBe(10);
    q.addRateLimited('a');
    expect(q.nextRetryDelay('a')).toBe(100);
    q.forget('a');
    expect(q.nextRetryDelay('a')).toBe(10);
  });

  it('adds a key after a delay, keeping the earliest of several delays', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('x', 1000);
    q.addAfter('x', 300);
    q.addAfter('x', 5000);
    expect(q.waiting).toBe(1);
    expect(q.length).toBe(0);
    clock.advance(299);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    expect(q.waiting).toBe(0);
    expect(clock.pending).toBe(0);
    // Zero or negative delays add at once.
    q.addAfter('y', 0);
    expect(q.length).toBe(2);
  });

  it('requeues after the delay a handler asks for, with the backoff reset', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const times: number[] = [];
    q.start(async () => {
      times.push(clock.now());
      if (times.length === 1) return retry('First');
      if (times.length === 2) return requeueAfter(10_000, 'LeaseCheck');
      return ok();
    });
    const t0 = clock.now();
    q.add('k');
    await clock.advanceAsync(5);
    expect(times).toEqual([t0, t0 + 5]);
    expect(q.numRequeues('k')).toBe(0);
    await clock.advanceAsync(10_000);
    expect(times).toEqual([t0, t0 + 5, t0 + 10_005]);
    await q.drained();
    await q.shutdown();
  });

  it('treats a thrown error as a retry with reason Error, logs it, and keeps working', async () => {
    const clock = new FakeClock();
    const { log, lines } = memoryLogger();
    const results: [string, ReconcileResult][] = [];
    const q = new WorkQueue({
      clock,
      log,
      name: 'test',
      hooks: {
        onProcessed: (key, result) => {
          results.push([key, result]);
          if (key === 'hookboom') throw new Error('hook failed');
        },
      },
    });
    let calls = 0;
    q.start(async (key) => {
      calls++;
      if (key === 'boom' && calls === 1) throw new Error('kaput');
      return ok();
    });
    q.add('boom');
    await settle();
    expect(results[0]?.[1]).toMatchObject({ kind: 'retry', reason: 'Error' });
    expect((results[0]?.[1] as { err?: Error }).err?.message).toBe('kaput');
    expect(q.waiting).toBe(1);
    await clock.advanceAsync(5);
    expect(results[1]).toEqual(['boom', { kind: 'ok' }]);
    q.add('hookboom');
    q.add('other');
    await q.drained();
    expect(results.map(([k]) => k)).toEqual(['boom', 'boom', 'hookboom', 'other']);
    const logged = lines();
    expect(logged.find((l) => l['event'] === 'reconcileThrew')).toMatchObject({ key: 'boom', queue: 'test', component: 'workqueue' });
    expect(logged.find((l) => l['event'] === 'hookFailed')).toMatchObject({ key: 'hookboom' });
    await q.shutdown();
  });

  it('reports each processed key with its result and duration', async () => {
    const clock = new FakeClock();
    const seen: unknown[] = [];
    const q = new WorkQueue({ clock, hooks: { onProcessed: (key, result, durationMs) => seen.push({ key, result, durationMs }) } });
    const gate = deferred<void>();
    q.start(async () => {
      await gate.promise;
      return ok();
    });
    q.add('k');
    await settle();
    clock.advance(42);
    gate.resolve();
    await q.drained();
    expect(seen).toEqual([{ key: 'k', result: { kind: 'ok' }, durationMs: 42 }]);
    await q.shutdown();
  });

  it('on shutdown waits for running handlers, drops queued and waiting keys, and ignores new adds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const gate = deferred<void>();
    const processed: string[] = [];
    let finished = false;
    q.start(async (key) => {
      processed.push(key);
      await gate.promise;
      finished = true;
      return ok();
    });
    q.add('running');
    await settle();
    q.add('queued');
    q.addAfter('later', 1000);
    expect(clock.pending).toBe(1);
    const done = q.shutdown();
    let shutDown = false;
    void done.then(() => (shutDown = true));
    await settle();
    expect(shutDown).toBe(false);
    gate.resolve();
    await done;
    expect(finished).toBe(true);
    expect(processed).toEqual(['running']);
    expect(clock.pending).toBe(0);
    q.add('after');
    q.addRateLimited('after');
    expect(q.length).toBe(0);
    expect(q.waiting).toBe(0);
    await q.drained();
  });

  it('resolves drained() only when nothing is queued, waiting or in flight', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    let drained = false;
    q.addAfter('k', 100);
    void q.drained().then(() => (drained = true));
    q.start(async () => ok());
    await settle();
    expect(drained).toBe(false);
    await clock.advanceAsync(100);
    expect(drained).toBe(true);
    await q.shutdown();
  });

  it('refuses bad options and a second start', () => {
    const clock = new FakeClock();
    expect(() => new WorkQueue({ clock, baseDelayMs: 0 })).toThrow(/baseDelayMs/);
    expect(() => new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/maxDelayMs/);
    const q = new WorkQueue({ clock });
    expect(() => q.start(async () => ok(), { workers: 0 })).toThrow(/workers/);
    q.start(async () => ok());
    expect(() => q.start(async () => ok())).toThrow(/twice/);
    return q.shutdown();
  });

  it('handles 10,000 keys, each once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let n = 0;
    for (let i = 0; i < 10_000; i++) q.add(`ns/obj-${i}`);
    for (let i = 0; i < 10_000; i++) q.add(`ns/obj-${i}`);
    q.start(
      async () => {
        n++;
        return ok();
      },
      { workers: 8 },
    );
    await q.drained();
    expect(n).toBe(10_000);
    await q.shutdown();
  });
});
