/**
 * Kubernetes Events (events.k8s.io/v1) about Herald's objects: what `kubectl describe`
 * shows users ("Assigned 192.0.2.10 from pool default", "No pool matches").
 *
 * Recording is fire-and-forget: an Event is a courtesy to users and must never fail or
 * slow a reconcile. Repeats are suppressed instead of counted: a reconcile loop that hits
 * the same problem every few seconds would otherwise write an Event every few seconds.
 * @packageDocumentation
 */
import { EventsV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { EventsV1Event, KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import { HeraldError, errorMessage, statusCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { callWithTimeout } from './request.js';

/** The object an Event is about. `namespace` is absent for cluster-scoped kinds. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string | undefined; uid?: string | undefined };
}

/** `Normal` or `Warning`, the two types Kubernetes knows. */
export type EventType = 'Normal' | 'Warning';

/** The Event calls the recorder makes; `EventsV1Api` or a test fake. */
export type EventsApi = Pick<EventsV1Api, 'createNamespacedEvent'>;

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  kc: KubeConfig;
  /** Replaces the API made from `kc` (tests). */
  api?: EventsApi;
  /** Which program reports, e.g. `herald-controller`; written as `herald.io/<component>`. */
  component: string;
  /** Which replica reports (the Pod name). */
  instance: string;
  clock: Clock;
  log: Logger;
  /** An identical Event (same object uid, reason and message) within this window is not re-created. Default 10 min. */
  dedupWindowMs?: number;
  /** Most Events remembered for de-duplication; the oldest are forgotten first. Default 4096. */
  maxTracked?: number;
  /**
   * Most Event writes in flight; more wait in the backlog. Default 4: at the paced rate a
   * write is rarely still open when the next starts, and each one in flight beyond that is
   * one more TLS connection to open on both ends.
   */
  maxInFlight?: number;
  /** Deadline of one write. Default 10 s. */
  timeoutMs?: number;
  /**
   * Sustained Event writes per second (token bucket). Events share the API server
   * with the writes users wait for (Service status); a burst of thousands of
   * allocations must not halve their speed. Default 50, kubelet's event QPS.
   */
  qps?: number;
  /** Tokens the bucket holds: Events written at once after a quiet spell. Default 100. */
  burst?: number;
  /** Events waiting for a token; beyond this the oldest is dropped and counted. Default 1000. */
  maxPending?: number;
  /**
   * While this returns true, waiting Events stay waiting (looked at again every
   * {@link BUSY_RECHECK_MS}): the owner has writes that users wait for queued (the
   * controller: Services waiting for their status). During a burst of allocations
   * every Event write is API server time taken from a status write; Events are
   * diagnostics and can come after. The backlog bound still applies.
   */
  busy?: () => boolean;
  /** Called for every Event dropped (metrics). */
  onDropped?: (reason: 'backlog') => void;
}

/** events.k8s.io/v1 validation limits (k8s.io/kubernetes pkg/apis/core/validation/events.go). */
const MAX_REASON = 128;
const MAX_NOTE_BYTES = 1024;
const MAX_NAME = 253;
/** QualifiedName's name part, as `reportingController` is validated. */
const COMPONENT_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** How often waiting Events look again whether the owner is still busy. */
export const BUSY_RECHECK_MS = 100;

/** Cuts `s` to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}

/** Writes Events, de-duplicated, without ever throwing. */
export class EventRecorder {
  readonly #api: EventsApi;
  readonly #controller: string;
  readonly #instance: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #dedupWindowMs: number;
  readonly #maxTracked: number;
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;

  /** key → expiry; a Map iterates in insertion order, so the oldest entries come first. */
  readonly #recent = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #seq = 0;
  readonly #qps: number;
  readonly #burst: number;
  readonly #maxPending: number;
  readonly #onDropped: ((reason: 'backlog') => void) | undefined;
  readonly #busy: (() => boolean) | undefined;
  #tokens: number;
  #refilledAt: number;
  readonly #pending: { body: EventsV1Event; key: string }[] = [];
  #timer: ReturnType<Clock['setTimeout']> | undefined;
  #dropped = 0;

  constructor(opts: EventRecorderOptions) {
    if (!COMPONENT_PATTERN.test(opts.component)) {
      throw new HeraldError('InvalidConfig', `event recorder: component ${JSON.stringify(opts.component)} is not a valid name (alphanumerics, '-', '_', '.'; at most 63)`);
    }
    if (opts.instance === '') throw new HeraldError('InvalidConfig', 'event recorder: instance must not be empty');
    this.#api = opts.api ?? opts.kc.makeApiClient(EventsV1Api);
    this.#controller = `herald.io/${opts.component}`;
    this.#instance = opts.instance.slice(0, MAX_REASON);
    this.#clock = opts.clock;
    this.#log = opts.log.child({ component: 'events' });
    this.#dedupWindowMs = opts.dedupWindowMs ?? 10 * 60_000;
    this.#maxTracked = opts.maxTracked ?? 4096;
    this.#maxInFlight = opts.maxInFlight ?? 4;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#qps = opts.qps ?? 50;
    this.#burst = opts.burst ?? 100;
    this.#maxPending = opts.maxPending ?? 1000;
    this.#onDropped = opts.onDropped;
    this.#busy = opts.busy;
    this.#tokens = this.#burst;
    this.#refilledAt = opts.clock.now();
  }

  /** Events dropped so far (backlog full). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Events waiting (for a token, a free write slot, or the owner to be less busy). */
  get pending(): number {
    return this.#pending.length;
  }

  /** Events remembered for de-duplication (bounded by `maxTracked`). */
  get tracked(): number {
    return this.#recent.size;
  }

  /**
   * Records an Event about `obj` with `action` = `reason`. Returns at once; the write
   * happens in the background, and failures are logged, never thrown. An identical Event
   * (same object uid, reason and message) recorded within the de-duplication window is
   * skipped.
   */
  record(obj: EventSubject, type: EventType, reason: string, message: string): void {
    const now = this.#clock.now();
    this.#prune(now);
    const meta = obj.metadata;
    const key = `${meta.uid ?? `${meta.namespace ?? ''}/${obj.kind}/${meta.name}`}\u0000${reason}\u0000${message}`;
    if (this.#recent.has(key)) {
      this.#log.trace({ event: 'eventDeduplicated', reason, name: meta.name, namespace: meta.namespace }, 'identical Event recorded recently; skipped');
      return;
    }
    this.#recent.set(key, now + this.#dedupWindowMs);
    if (this.#recent.size > this.#maxTracked) {
      const oldest = this.#recent.keys().next();
      if (!oldest.done) this.#recent.delete(oldest.value);
    }
    this.#pending.push({ body: this.#event(obj, type, reason, message, now), key });
    if (this.#pending.length > this.#maxPending) {
      const old = this.#pending.shift();
      if (old) this.#drop('backlog', old.key, old.body);
    }
    this.#pump();
  }

  #drop(why: 'backlog', key: string, body: EventsV1Event): void {
    this.#recent.delete(key);
    this.#dropped++;
    this.#onDropped?.(why);
    this.#log.debug({ event: 'eventDropped', why, reason: body.reason, name: body.regarding?.name, namespace: body.metadata?.namespace }, 'Event dropped');
  }

  /**
   * Writes pending Events while tokens and write slots last. Schedules itself for the
   * next token, or the next look at `busy`; a write that finishes frees a slot and pumps.
   */
  #pump(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#qps);
    this.#refilledAt = now;
    const busy = this.#pending.length > 0 && this.#busy?.() === true;
    while (!busy && this.#pending.length > 0 && this.#tokens >= 1 && this.#inFlight.size < this.#maxInFlight) {
      const next = this.#pending.shift();
      if (!next) break;
      this.#tokens -= 1;
      const write = this.#write(next.body, next.key);
      this.#inFlight.add(write);
      void write.finally(() => {
        this.#inFlight.delete(write);
        this.#pump();
      });
    }
    // Full slots need no timer: the next finished write pumps.
    if (this.#pending.length > 0 && this.#timer === undefined && (busy || this.#inFlight.size < this.#maxInFlight)) {
      const waitMs = busy ? BUSY_RECHECK_MS : Math.max(1, Math.ceil(((1 - this.#tokens) / this.#qps) * 1000));
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, waitMs);
    }
  }

  /** Drops what is still waiting and stops the timer (shutdown). Writes in flight finish. */
  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.length = 0;
  }

  /** Resolves when every write started so far has finished (for tests and shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }

  #prune(now: number): void {
    // All entries share one window, so expiries grow with insertion order.
    for (const [key, expires] of this.#recent) {
      if (expires > now) break;
      this.#recent.delete(key);
    }
  }

  #event(obj: EventSubject, type: EventType, reason: string, message: string, now: number): EventsV1Event {
    const meta = obj.metadata;
    // Unique per reporter as client-go makes them (<object>.<hex time>), with a sequence
    // number in place of nanoseconds, which JavaScript clocks do not have.
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16);
    const name = `${meta.name.slice(0, MAX_NAME - suffix.length - 1)}.${suffix}`;
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // Events about cluster-scoped objects live in `default`, as client-go puts them.
      metadata: { name, namespace: meta.namespace || 'default' },
      eventTime: new V1MicroTime(now),
      reportingController: this.#controller,
      reportingInstance: this.#instance,
      action: reason.slice(0, MAX_REASON),
      reason: reason.slice(0, MAX_REASON),
      note: truncateBytes(message, MAX_NOTE_BYTES),
      type,
      regarding: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        ...(meta.uid ? { uid: meta.uid } : {}),
      },
    };
  }

  async #write(body: EventsV1Event, key: string): Promise<void> {
    const namespace = body.metadata?.namespace ?? 'default';
    try {
      await callWithTimeout(this.#clock, this.#timeoutMs, `create Event in ${namespace}`, (o) => this.#api.createNamespacedEvent({ namespace, body }, o));
    } catch (err) {
      // Forget it, so that the next identical record() tries again.
      this.#recent.delete(key);
      this.#log.warn(
        { event: 'eventFailed', reason: body.reason, name: body.regarding?.name, namespace, status: statusCode(err), err: errorMessage(err) },
        'cannot write Event',
      );
    }
  }
}
