/**
 * A keyed, coalescing, rate-limited work queue, with the semantics of client-go's
 * `workqueue.TypedRateLimitingInterface` driven by controller-runtime's reconcile loop.
 *
 * Informer events only `add(key)`; the handler reads current state from the cache
 * (house style: reconcile from current state), so many events for one object collapse
 * into one reconcile, and one object is never reconciled by two workers at once.
 * @packageDocumentation
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { HeraldError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** What a reconcile asks the queue to do with its key next. */
export type ReconcileResult =
  /** Done: the key's failure count is reset. */
  | { kind: 'ok' }
  /** Failed or blocked: try again after this key's next backoff step. */
  | { kind: 'retry'; reason: string; err?: unknown }
  /** Done for now, but look again after `ms` (e.g. a lease or a timeout to check). */
  | { kind: 'requeueAfter'; ms: number; reason: string };

/** `{ kind: 'ok' }`. */
export const ok = (): ReconcileResult => ({ kind: 'ok' });

/** `{ kind: 'retry', reason, err }`. */
export const retry = (reason: string, err?: unknown): ReconcileResult =>
  err === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, err };

/** `{ kind: 'requeueAfter', ms, reason }`. */
export const requeueAfter = (ms: number, reason: string): ReconcileResult => ({ kind: 'requeueAfter', ms, reason });

/** Reconciles one key. May throw: a throw is a `retry` with reason `Error`. */
export type ReconcileHandler = (key: string) => Promise<ReconcileResult>;

/** Callbacks for metrics. They must be cheap; a throw is logged and ignored. */
export interface WorkQueueHooks {
  /** After every handler run, with its result (a throw shows as `retry`/`Error`). */
  onProcessed?(key: string, result: ReconcileResult, durationMs: number): void;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Drives every delay (addAfter, backoff). */
  clock: Clock;
  log?: Logger;
  /** Names the queue in logs. */
  name?: string;
  /** First retry delay of a key; doubles with each consecutive retry. Default 5 ms (client-go's). */
  baseDelayMs?: number;
  /** Cap of the per-key retry delay. Default 60 s. */
  maxDelayMs?: number;
  hooks?: WorkQueueHooks;
}

/** Options of {@link WorkQueue.start}. */
export interface StartOptions {
  /** Handlers run at once (on different keys). Default 1. */
  workers?: number;
}

/**
 * FIFO of keys. `Array.shift` is O(n) and a resync can queue tens of thousands of
 * keys, so the head is an index and the array is compacted now and then.
 */
class Fifo {
  #items: string[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(key: string): void {
    this.#items.push(key);
  }

  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

interface Waiting {
  readonly readyAt: number;
  readonly handle: TimerHandle;
}

/**
 * The work queue. Guarantees, as client-go's:
 * - a key added several times before a worker takes it is processed once;
 * - a key added while it is being processed is processed again, once, after the
 *   running handler finishes, never in parallel with it;
 * - `addAfter` keeps the earliest of several pending delays of a key;
 * - `addRateLimited` delays a key by `baseDelayMs * 2^(retries)`, capped at `maxDelayMs`,
 *   with no jitter, so tests and benchmarks see the same schedule every run.
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #hooks: WorkQueueHooks;

  readonly #queue = new Fifo();
  /** Keys that need processing: queued, or re-added while processing. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, Waiting>();
  readonly #failures = new Map<string, number>();

  #idleWorkers: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #workers: Promise<void>[] = [];
  #started = false;
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.#clock = opts.clock;
    this.#log = opts.log?.child({ component: 'workqueue', ...(opts.name !== undefined ? { queue: opts.name } : {}) });
    this.#baseDelayMs = opts.baseDelayMs ?? 5;
    this.#maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.#hooks = opts.hooks ?? {};
    if (!(this.#baseDelayMs > 0) || !(this.#maxDelayMs >= this.#baseDelayMs)) {
      throw new HeraldError('InvalidConfig', `workqueue: need 0 < baseDelayMs <= maxDelayMs, got ${this.#baseDelayMs} and ${this.#maxDelayMs}`);
    }
  }

  /** Keys queued and ready for a worker (not those waiting on a delay or being processed). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys waiting for an `addAfter` / `addRateLimited` delay to pass. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Keys whose handler is running. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** True once {@link WorkQueue.shutdown} was called; adds are ignored from then on. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` for processing now (coalesced with any pending add of it). */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    // A key being processed is re-queued when its handler finishes (see #done),
    // so that two workers never run it at once.
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#wakeOne();
  }

  /** Queues `key` after `ms`; of several pending delays of one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + ms;
    const existing = this.#waiting.get(key);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.#clock.clearTimeout(existing.handle);
    }
    const handle = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
      this.#checkDrained();
    }, ms);
    this.#waiting.set(key, { readyAt, handle });
  }

  /** Queues `key` after its next backoff step, and counts the retry. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#nextDelay(key));
  }

  /** Delay that the next `addRateLimited(key)` would use. */
  nextRetryDelay(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** n);
  }

  /** Resets the backoff of `key` (its handler succeeded). Does not unqueue it. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Consecutive retries of `key` since it last succeeded. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * Starts `workers` loops that take keys and run `handler` on them. `ok` resets the key's
   * backoff; `retry` (or a throw) re-queues it rate-limited; `requeueAfter` resets the
   * backoff and re-queues it after `ms`. A handler failure never stops a worker.
   */
  start(handler: ReconcileHandler, opts: StartOptions = {}): void {
    if (this.#started) throw new HeraldError('Internal', 'workqueue: start() called twice');
    if (this.#shuttingDown) throw new HeraldError('Aborted', 'workqueue: start() after shutdown()');
    const workers = opts.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new HeraldError('InvalidConfig', `workqueue: workers must be a positive integer, got ${workers}`);
    }
    this.#started = true;
    for (let i = 0; i < workers; i++) this.#workers.push(this.#runWorker(handler));
  }

  /**
   * Stops taking keys and resolves when every running handler has finished. Keys still
   * queued or waiting are dropped: after a shutdown (lost leadership, SIGTERM) the next
   * owner rebuilds its work from current state anyway.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const w of this.#waiting.values()) this.#clock.clearTimeout(w.handle);
    this.#waiting.clear();
    const idle = this.#idleWorkers;
    this.#idleWorkers = [];
    for (const wake of idle) wake();
    await Promise.all(this.#workers);
    this.#queue.clear();
    this.#dirty.clear();
    this.#checkDrained();
  }

  /**
   * Resolves once nothing is queued, waiting on a delay or in flight (or the queue has shut
   * down). For tests and benchmarks: "every consequence of what I added has been processed".
   */
  drained(): Promise<void> {
    if (this.#isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #isDrained(): boolean {
    if (this.#shuttingDown) return this.#processing.size === 0;
    return this.#queue.length === 0 && this.#waiting.size === 0 && this.#processing.size === 0;
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length === 0 || !this.#isDrained()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #nextDelay(key: string): number {
    const delay = this.nextRetryDelay(key);
    this.#failures.set(key, (this.#failures.get(key) ?? 0) + 1);
    return delay;
  }

  #wakeOne(): void {
    this.#idleWorkers.shift()?.();
  }

  /** The next key to process, or undefined when the queue shuts down. */
  async #next(): Promise<string | undefined> {
    for (;;) {
      if (this.#shuttingDown) return undefined;
      const key = this.#queue.shift();
      if (key !== undefined) {
        this.#dirty.delete(key);
        this.#processing.add(key);
        return key;
      }
      await new Promise<void>((resolve) => this.#idleWorkers.push(resolve));
    }
  }

  async #runWorker(handler: ReconcileHandler): Promise<void> {
    for (let key = await this.#next(); key !== undefined; key = await this.#next()) {
      await this.#process(key, handler);
    }
  }

  async #process(key: string, handler: ReconcileHandler): Promise<void> {
    const started = this.#clock.now();
    let result: ReconcileResult;
    try {
      result = await handler(key);
    } catch (err) {
      // A throw is a bug or an unexpected failure; the key is retried like any failure,
      // and the error is logged here because no handler code saw it.
      this.#log?.error({ event: 'reconcileThrew', key, err }, 'reconcile threw; retrying');
      result = { kind: 'retry', reason: 'Error', err };
    }
    const durationMs = this.#clock.now() - started;
    try {
      this.#applyResult(key, result);
    } finally {
      try {
        this.#hooks.onProcessed?.(key, result, durationMs);
      } catch (err) {
        this.#log?.warn({ event: 'hookFailed', key, err }, 'onProcessed hook threw');
      }
      this.#done(key);
    }
  }

  #applyResult(key: string, result: ReconcileResult): void {
    switch (result.kind) {
      case 'ok':
        this.forget(key);
        return;
      case 'retry': {
        const delayMs = this.nextRetryDelay(key);
        this.#log?.debug({ event: 'retry', key, reason: result.reason, delayMs, err: result.err }, 'retrying');
        this.addRateLimited(key);
        return;
      }
      case 'requeueAfter':
        this.forget(key);
        this.addAfter(key, result.ms);
        return;
      default: {
        // Only reachable from untyped callers; retrying keeps the key alive.
        const bad: unknown = result;
        this.#log?.error({ event: 'badResult', key, result: bad }, 'reconcile returned an unknown result; retrying');
        this.addRateLimited(key);
      }
    }
  }

  #done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#queue.push(key);
      this.#wakeOne();
    }
    this.#checkDrained();
  }
}
