/**
 * Leader election over a coordination.k8s.io/v1 Lease, with client-go's
 * `tools/leaderelection` semantics:
 * - a candidate takes the Lease when it has no holder, or when the Lease has not changed
 *   for `leaseDurationSeconds` *as observed by the candidate's own clock* (the holder's
 *   renewTime is never compared across machines, so clock skew cannot cause a takeover);
 * - writes use the Lease's resourceVersion, so of two candidates racing only one wins
 *   (the other gets 409 Conflict and stays a candidate this round);
 * - the leader renews every `retryPeriod` and steps down when it has not renewed for
 *   `renewDeadline`, which is shorter than `leaseDuration`, so it stops acting before
 *   anyone else can take over;
 * - on `stop()` the leader releases the Lease (empty holderIdentity) so that a successor
 *   takes over at its next retry instead of waiting out the lease.
 *
 * Differences from client-go: after losing the lease, `run` goes back to campaigning
 * rather than returning (the callbacks can alternate several times); `onStoppedLeading`
 * is called only after `onStartedLeading` was, and is awaited before the Lease is
 * released, so that the successor never overlaps with our shutdown; there is no jitter
 * on the retry period (optimistic concurrency already resolves races).
 * @packageDocumentation
 */
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { sleep, type Clock } from '../core/clock.js';
import { HeraldError, errorMessage, isConflict, isNotFound } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { callWithTimeout } from './request.js';

/** The Lease calls the elector makes; `CoordinationV1Api` or a test fake. */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  kc: KubeConfig;
  /** Replaces the API made from `kc` (tests). */
  api?: LeaseApi;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** This candidate's identity, unique among candidates (the Pod name). */
  identity: string;
  /** How long others wait, after the Lease last changed, before taking it. Default 15 s. Sent in whole seconds, rounded up. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before stepping down. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Release the Lease on `stop()` (default true). */
  releaseOnStop?: boolean;
  clock: Clock;
  log: Logger;
}

/** What the elector calls as leadership comes and goes. */
export interface LeaderCallbacks {
  /**
   * We became leader. `signal` aborts when leadership ends (lost or stopped); work started
   * here must stop then. Not awaited: it may run for the whole term.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** We are no longer leader. Awaited before the Lease is released or re-contested. */
  onStoppedLeading(): void | Promise<void>;
  /** The Lease holder changed (to someone else or to us); '' means no holder. */
  onNewLeader?(identity: string): void;
}

/**
 * Outcome of one attempt: we hold the Lease; someone else holds a valid Lease; or the
 * attempt failed (API error, conflict, timeout) and says nothing about who holds it.
 */
type Attempt = 'held' | 'taken' | 'failed';

/** client-go's JitterFactor: renewDeadline must exceed retryPeriod by this factor. */
const JITTER_FACTOR = 1.2;

/** Leader election for one identity on one Lease. */
export class LeaderElector {
  readonly #api: LeaseApi;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #leaseDurationMs: number;
  readonly #leaseDurationSeconds: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #releaseOnStop: boolean;
  readonly #clock: Clock;
  readonly #log: Logger;

  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #leading = false;
  /** Local time of our last successful acquire or renew. */
  #lastRenew = 0;
  /** The Lease as we last read or wrote it, and when (our clock) it last changed. */
  #observed: V1Lease | undefined;
  #observedTime = 0;
  #observedHolder: string | undefined;
  #callbacks: LeaderCallbacks | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.#api = opts.api ?? opts.kc.makeApiClient(CoordinationV1Api);
    this.#namespace = opts.namespace;
    this.#name = opts.name;
    this.#identity = opts.identity;
    this.#leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.#releaseOnStop = opts.releaseOnStop ?? true;
    this.#clock = opts.clock;
    this.#log = opts.log.child({ component: 'leader-election', lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.#leaseDurationSeconds = Math.ceil(this.#leaseDurationMs / 1000);

    // client-go's NewLeaderElector checks: without these orderings, two leaders can overlap.
    if (this.#identity === '') throw new HeraldError('InvalidConfig', 'leader election: identity must not be empty');
    if (!(this.#retryPeriodMs > 0)) throw new HeraldError('InvalidConfig', 'leader election: retryPeriod must be positive');
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs)) {
      throw new HeraldError('InvalidConfig', `leader election: leaseDuration (${this.#leaseDurationMs} ms) must be greater than renewDeadline (${this.#renewDeadlineMs} ms)`);
    }
    if (!(this.#renewDeadlineMs > JITTER_FACTOR * this.#retryPeriodMs)) {
      throw new HeraldError('InvalidConfig', `leader election: renewDeadline (${this.#renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} x retryPeriod (${this.#retryPeriodMs} ms)`);
    }
  }

  /**
   * True while this candidate holds the Lease and renewed it within `renewDeadline`.
   * Checked against the clock, not just the renewal loop's last verdict, so a stalled
   * loop cannot leave it stuck at true.
   */
  isLeader(): boolean {
    return this.#leading && this.#clock.now() - this.#lastRenew < this.#renewDeadlineMs;
  }

  /** The holder of the Lease as last observed ('' for none, undefined before the first read). */
  leader(): string | undefined {
    return this.#observedHolder;
  }

  /**
   * Campaigns for the Lease until {@link LeaderElector.stop}, calling `callbacks` as
   * leadership is gained and lost. Resolves after stop, once `onStoppedLeading` has run
   * and the Lease is released. Never rejects on API failures: they are logged and retried.
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.#running) throw new HeraldError('Internal', 'leader election: run() called twice');
    this.#callbacks = callbacks;
    this.#running = this.#loop(callbacks);
    return this.#running;
  }

  /**
   * Stops campaigning; when leading, steps down (onStoppedLeading) and releases the Lease.
   * Resolves when done. An elector cannot be restarted: make a new one.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #loop(cb: LeaderCallbacks): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      if (!(await this.#acquire())) break;
      if (stopped.aborted) {
        // Acquired just as stop() came: give it straight back, without starting a term.
        if (this.#releaseOnStop) await this.#release();
        break;
      }
      this.#leading = true;
      this.#log.info({ event: 'leaderElected' }, 'became leader');
      const term = new AbortController();
      this.#invoke('onStartedLeading', () => cb.onStartedLeading(term.signal));
      await this.#renewLoop();
      this.#leading = false;
      term.abort();
      if (!stopped.aborted) this.#log.warn({ event: 'leaderLost', reason: 'renewDeadlineExceeded' }, 'lost leadership');
      await this.#invoke('onStoppedLeading', () => cb.onStoppedLeading());
      if (stopped.aborted && this.#releaseOnStop) await this.#release();
    }
  }

  /** Calls a user callback; a throw or rejection is logged, never propagated. */
  async #invoke(what: string, fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#log.error({ event: 'callbackFailed', callback: what, err }, `${what} failed`);
    }
  }

  /** Tries every retryPeriod until we hold the Lease (true) or stop is called (false). */
  async #acquire(): Promise<boolean> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      if ((await this.#tryAcquireOrRenew()) === 'held') return true;
      await sleep(this.#clock, this.#retryPeriodMs, stopped);
    }
    return false;
  }

  /**
   * Renews every retryPeriod; returns when stopped, when renewDeadline passes without a
   * renewal, or when the Lease turns out to be held by someone else.
   */
  async #renewLoop(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      await sleep(this.#clock, this.#retryPeriodMs, stopped);
      if (stopped.aborted) return;
      const attempt = await this.#tryAcquireOrRenew();
      if (attempt === 'held') continue;
      // Someone else holds a valid Lease: our term is over whatever the deadline says
      // (only possible if our clock ran slow against theirs while we were cut off).
      if (attempt === 'taken') return;
      if (this.#clock.now() - this.#lastRenew >= this.#renewDeadlineMs) return;
    }
  }

  #what(verb: string): string {
    return `${verb} Lease ${this.#namespace}/${this.#name}`;
  }

  /** Deadline of one API call: never past the renew deadline while leading. */
  #callTimeout(): number {
    if (!this.#leading) return this.#renewDeadlineMs;
    return Math.max(1, this.#lastRenew + this.#renewDeadlineMs - this.#clock.now());
  }

  /** One attempt, as client-go's tryAcquireOrRenew. */
  async #tryAcquireOrRenew(): Promise<Attempt> {
    const now = this.#clock.now();
    const ref = { name: this.#name, namespace: this.#namespace };
    let lease: V1Lease;
    try {
      lease = await callWithTimeout(this.#clock, this.#callTimeout(), this.#what('read'), (o) => this.#api.readNamespacedLease(ref, o));
    } catch (err) {
      if (!isNotFound(err)) {
        this.#log.warn({ event: 'leaseReadFailed', err: errorMessage(err) }, 'cannot read the Lease');
        return 'failed';
      }
      return (await this.#create(now)) ? 'held' : 'failed';
    }

    this.#observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const leaseMs = (spec.leaseDurationSeconds ?? this.#leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== this.#identity && this.#observedTime + leaseMs > now) {
      return 'taken'; // held by someone who renewed within the lease, as far as we have seen
    }
    const renewing = holder === this.#identity;
    const next: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.#identity,
        leaseDurationSeconds: this.#leaseDurationSeconds,
        renewTime: new V1MicroTime(now),
        acquireTime: renewing && spec.acquireTime ? spec.acquireTime : new V1MicroTime(now),
        leaseTransitions: renewing ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await callWithTimeout(this.#clock, this.#callTimeout(), this.#what('update'), (o) =>
        this.#api.replaceNamespacedLease({ ...ref, body: next }, o),
      );
      this.#observe(updated, this.#clock.now());
      this.#lastRenew = now;
      return 'held';
    } catch (err) {
      if (isConflict(err)) {
        this.#log.debug({ event: 'leaseConflict' }, 'Lease changed under us; not leader this round');
      } else {
        this.#log.warn({ event: 'leaseUpdateFailed', err: errorMessage(err) }, renewing ? 'cannot renew the Lease' : 'cannot acquire the Lease');
      }
      return 'failed';
    }
  }

  async #create(now: number): Promise<boolean> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#name, namespace: this.#namespace },
      spec: {
        holderIdentity: this.#identity,
        leaseDurationSeconds: this.#leaseDurationSeconds,
        acquireTime: new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      const created = await callWithTimeout(this.#clock, this.#callTimeout(), this.#what('create'), (o) =>
        this.#api.createNamespacedLease({ namespace: this.#namespace, body }, o),
      );
      this.#observe(created, this.#clock.now());
      this.#lastRenew = now;
      return true;
    } catch (err) {
      // 409 AlreadyExists: another candidate created it first.
      if (!isConflict(err)) this.#log.warn({ event: 'leaseCreateFailed', err: errorMessage(err) }, 'cannot create the Lease');
      return false;
    }
  }

  /**
   * Records the Lease and, when it changed (a new resourceVersion), the local time: the
   * lease expires `leaseDurationSeconds` after the last change *we saw*.
   */
  #observe(lease: V1Lease, now: number): void {
    const changed = lease.metadata?.resourceVersion !== this.#observed?.metadata?.resourceVersion || this.#observed === undefined;
    this.#observed = lease;
    if (changed) this.#observedTime = now;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      this.#log.info({ event: 'newLeader', leader: holder }, holder === '' ? 'Lease released' : `leader is ${holder}`);
      const cb = this.#callbacks?.onNewLeader;
      if (cb) void this.#invoke('onNewLeader', () => cb(holder));
    }
  }

  /**
   * Gives the Lease up, as client-go's release(): empty holder, 1 s duration, transitions
   * kept. Only if we still hold it as far as we know; a conflict means it is not ours.
   */
  async #release(): Promise<void> {
    const lease = this.#observed;
    if (!lease || lease.spec?.holderIdentity !== this.#identity) return;
    const now = this.#clock.now();
    const body: V1Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: new V1MicroTime(now),
        acquireTime: new V1MicroTime(now),
      },
    };
    try {
      const released = await callWithTimeout(this.#clock, this.#renewDeadlineMs, this.#what('release'), (o) =>
        this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#namespace, body }, o),
      );
      this.#observe(released, this.#clock.now());
      this.#log.info({ event: 'leaseReleased' }, 'released the Lease');
    } catch (err) {
      this.#log.warn({ event: 'leaseReleaseFailed', err: errorMessage(err) }, 'cannot release the Lease; successors wait for it to expire');
    }
  }
}
