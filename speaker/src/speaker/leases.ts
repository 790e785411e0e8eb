/**
 * One coordination.k8s.io Lease per speaker, in the Herald namespace: how speakers find
 * each other without Pods (the e2e lab runs them as plain processes) and the slow but
 * trustworthy half of liveness (see ./liveness.ts and ADR 0007).
 *
 * The Lease `herald-speaker-<node>` carries the speaker's node name and its membership
 * UDP endpoint in annotations. Its holder renews it every `renewMs`; everyone else records
 * the local time at which they saw it change.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { errorMessage, isConflict, isNotFound, type Clock, type Logger, type TimerHandle } from '@herald/shared/core';
import { callWithTimeout, createInformer, type Informer } from '@herald/shared/kube';
import { parseIP, formatIP } from '@herald/shared/ip';
import type { Endpoint } from '../membership/index.js';
import type { LeaseObservation } from './liveness.js';

export const SPEAKER_LEASE_LABEL = 'app.kubernetes.io/component';
export const SPEAKER_LEASE_LABEL_VALUE = 'herald-speaker';
export const NODE_ANNOTATION = 'herald.io/node';
export const MEMBERLIST_ANNOTATION = 'herald.io/memberlist-endpoint';
/** What breaks L2 mode on this node, for `herald explain` (e.g. kube-proxy IPVS without strictARP). */
export const L2_WARNING_ANNOTATION = 'herald.io/l2-warning';

const PREFIX = 'herald-speaker-';

/** The Lease name for a node: the node name when it fits, else a stable hash of it. */
export function speakerLeaseName(node: string): string {
  if (PREFIX.length + node.length <= 253) return PREFIX + node;
  return `${PREFIX}${node.slice(0, 200)}-${createHash('sha256').update(node).digest('hex').slice(0, 16)}`;
}

/** `192.0.2.1:7946` / `[2001:db8::1]:7946` */
export function formatEndpoint(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** The inverse of {@link formatEndpoint}; undefined for anything else (annotations are user-editable). */
export function parseEndpoint(text: string | undefined): Endpoint | undefined {
  if (text === undefined) return undefined;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const ip = parseIP(m[1] ?? '');
  const port = Number(m[2]);
  if (ip === undefined || !(port > 0 && port < 65536)) return undefined;
  return { address: formatIP(ip), port };
}

const formatEndpointOrNone = (e: Endpoint | undefined): string => (e === undefined ? '' : formatEndpoint(e));

/** The record of a Lease just seen; its observation time moves only when the holder renewed it. */
function observeLease(node: string, lease: V1Lease, old: V1Lease | undefined, prev: SpeakerRecord | undefined, now: number): SpeakerRecord {
  const spec = lease.spec ?? {};
  const changed = old === undefined || String(old.spec?.renewTime) !== String(spec.renewTime) || old.spec?.holderIdentity !== spec.holderIdentity;
  return {
    node,
    endpoint: parseEndpoint(lease.metadata?.annotations?.[MEMBERLIST_ANNOTATION]),
    durationMs: Math.max(1, spec.leaseDurationSeconds ?? 10) * 1000,
    firstSeenAt: prev?.firstSeenAt ?? now,
    observedAt: changed || prev === undefined ? now : prev.observedAt,
  };
}

/** A speaker as its Lease describes it. */
export interface SpeakerRecord extends LeaseObservation {
  readonly node: string;
  readonly endpoint: Endpoint | undefined;
}

export interface SpeakerLeasesOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly node: string;
  /** Our membership endpoint, published for the others; undefined when membership is off. */
  readonly endpoint: Endpoint | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  /** Default 10 s. */
  readonly durationMs?: number;
  /** Default 2 s. */
  readonly renewMs?: number;
}

/**
 * Keeps this speaker's Lease renewed and watches everyone's. `onChange` fires when a
 * Lease appears, changes or goes; liveness must also be re-evaluated on a timer, since a
 * Lease expires by *not* changing (see {@link SpeakerLeases.nextExpiry}).
 */
export class SpeakerLeases {
  readonly durationMs: number;
  readonly #opts: SpeakerLeasesOptions;
  readonly #api: CoordinationV1Api;
  readonly #informer: Informer<V1Lease>;
  readonly #log: Logger;
  readonly #records = new Map<string, SpeakerRecord>();
  readonly #listeners = new Set<() => void>();
  readonly #renewMs: number;
  #endpoint: Endpoint | undefined;
  #warning: string | undefined;
  #own: V1Lease | undefined;
  #renewedAt: number | undefined;
  #viewCurrentAt: number | undefined;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(opts: SpeakerLeasesOptions) {
    this.#opts = opts;
    this.durationMs = opts.durationMs ?? 10_000;
    this.#renewMs = opts.renewMs ?? 2_000;
    this.#endpoint = opts.endpoint;
    this.#log = opts.log.child({ component: 'speaker-leases' });
    this.#api = opts.kc.makeApiClient(CoordinationV1Api);
    const labelSelector = `${SPEAKER_LEASE_LABEL}=${SPEAKER_LEASE_LABEL_VALUE}`;
    this.#informer = createInformer<V1Lease>(opts.kc, {
      path: `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases`,
      labelSelector,
      list: (sel) => this.#api.listNamespacedLease({ namespace: opts.namespace, ...sel }),
      log: this.#log,
      clock: opts.clock,
    });
    this.#informer.onChange((ev) => this.#observe(ev.type, ev.obj, ev.old));
  }

  /** Local time of our last successful renewal. */
  get renewedAt(): number | undefined {
    return this.#renewedAt;
  }

  /**
   * The renewTime of our own Lease as the watch last delivered it (our own clock's reading
   * when that renewal started): the Lease view is current up to then. See
   * `LivenessInput.viewCurrentAt`.
   */
  get viewCurrentAt(): number | undefined {
    return this.#viewCurrentAt;
  }

  /** Every speaker with a Lease, ourselves included. */
  records(): ReadonlyMap<string, SpeakerRecord> {
    return this.#records;
  }

  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Publishes a membership endpoint that started late (the key Secret appeared); sent with the next renewal. */
  setEndpoint(e: Endpoint): void {
    this.#endpoint = e;
  }

  /** Publishes (or clears) what breaks L2 mode on this node; sent with the next renewal. */
  setWarning(text: string | undefined): void {
    this.#warning = text;
  }

  /** Renews once (so that `renewedAt` is set when this resolves, if the API answers) and starts watching. */
  async start(): Promise<void> {
    await this.#renew();
    await this.#informer.start();
  }

  /**
   * When the next peer Lease would expire unless renewed (for a re-check timer); only times
   * still ahead. One already past in local time but not yet in the view (`viewCurrentAt`)
   * is re-checked when our own next renewal comes back through the watch (`onChange`).
   */
  nextExpiry(): number | undefined {
    const now = this.#opts.clock.now();
    let next: number | undefined;
    for (const r of this.#records.values()) {
      if (r.node === this.#opts.node) continue;
      const at = r.observedAt + r.durationMs;
      if (at <= now) continue;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Stops renewing and watching; with `release`, deletes our Lease so the others stop counting us at once. */
  async stop(release: boolean): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#informer.stop();
    if (!release) return;
    try {
      await callWithTimeout(this.#opts.clock, 2_000, 'delete speaker lease', (o) =>
        this.#api.deleteNamespacedLease({ namespace: this.#opts.namespace, name: speakerLeaseName(this.#opts.node) }, o),
      );
    } catch (err) {
      if (!isNotFound(err)) this.#log.warn({ event: 'leaseReleaseFailed', err: errorMessage(err) }, 'could not delete our Lease');
    }
  }

  #observe(type: 'add' | 'update' | 'delete', lease: V1Lease, old: V1Lease | undefined): void {
    const node = lease.metadata?.annotations?.[NODE_ANNOTATION] ?? lease.spec?.holderIdentity;
    if (node === undefined || node === '') return;
    if (type === 'delete') {
      if (this.#records.delete(node)) this.#emit();
      return;
    }
    const now = this.#opts.clock.now();
    if (node === this.#opts.node && lease.spec?.holderIdentity === node) this.#observeOwn(lease, now);
    const prev = this.#records.get(node);
    const rec = observeLease(node, lease, old, prev, now);
    this.#records.set(node, rec);
    // Renewals of a live Lease change nothing anyone acts on; a new speaker, a moved
    // endpoint, or a Lease renewed after it had expired do.
    const expired = prev !== undefined && prev.observedAt + prev.durationMs <= now;
    if (prev === undefined || expired || formatEndpointOrNone(prev.endpoint) !== formatEndpointOrNone(rec.endpoint)) this.#emit();
  }

  /** Our own renewal came back through the watch: the view is current up to its start. */
  #observeOwn(lease: V1Lease, now: number): void {
    const at = lease.spec?.renewTime;
    const renewed = at === undefined ? NaN : new Date(at as unknown as string | Date).getTime();
    // Only forward: a relist may hand us an older copy.
    if (!Number.isFinite(renewed) || renewed > now || (this.#viewCurrentAt !== undefined && renewed <= this.#viewCurrentAt)) return;
    const before = this.#viewCurrentAt ?? -Infinity;
    this.#viewCurrentAt = renewed;
    // A peer Lease that this view now shows expired is news.
    const expires = [...this.#records.values()].some((r) => r.node !== this.#opts.node && r.observedAt + r.durationMs > before && r.observedAt + r.durationMs <= renewed);
    if (expires) this.#emit();
  }

  #emit(): void {
    for (const cb of this.#listeners) {
      try {
        cb();
      } catch (err) {
        this.#log.error({ event: 'listenerFailed', err: errorMessage(err) });
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#opts.clock.setTimeout(() => void this.#renew(), this.#renewMs);
  }

  #desired(now: number): V1Lease {
    const { node, namespace } = this.#opts;
    const endpoint = this.#endpoint;
    const annotations: Record<string, string> = { [NODE_ANNOTATION]: node };
    if (endpoint) annotations[MEMBERLIST_ANNOTATION] = formatEndpoint(endpoint);
    if (this.#warning !== undefined) annotations[L2_WARNING_ANNOTATION] = this.#warning;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: speakerLeaseName(node), namespace, labels: { [SPEAKER_LEASE_LABEL]: SPEAKER_LEASE_LABEL_VALUE }, annotations },
      spec: { holderIdentity: node, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), renewTime: new V1MicroTime(now) },
    };
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    const { clock, namespace, node } = this.#opts;
    const started = clock.now();
    const body = this.#desired(started);
    const name = speakerLeaseName(node);
    try {
      if (this.#own?.metadata?.resourceVersion !== undefined) {
        body.metadata = { ...body.metadata, resourceVersion: this.#own.metadata.resourceVersion };
        try {
          this.#own = await callWithTimeout(clock, this.#renewMs, 'renew speaker lease', (o) => this.#api.replaceNamespacedLease({ namespace, name, body }, o));
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) throw err;
          this.#own = undefined;
        }
      }
      if (this.#own === undefined) {
        try {
          const { resourceVersion: _drop, ...meta } = body.metadata ?? {};
          this.#own = await callWithTimeout(clock, this.#renewMs, 'create speaker lease', (o) => this.#api.createNamespacedLease({ namespace, body: { ...body, metadata: meta } }, o));
        } catch (err) {
          if (!isConflict(err)) throw err;
          // Left by our previous run: take it over.
          const cur = await callWithTimeout(clock, this.#renewMs, 'read speaker lease', (o) => this.#api.readNamespacedLease({ namespace, name }, o));
          const next = this.#desired(started);
          next.metadata = { ...next.metadata, resourceVersion: cur.metadata?.resourceVersion ?? '' };
          this.#own = await callWithTimeout(clock, this.#renewMs, 'renew speaker lease', (o) => this.#api.replaceNamespacedLease({ namespace, name, body: next }, o));
        }
      }
      // Counted from when the request started: the API server may have applied it at any
      // moment after that, so this is the conservative end.
      const first = this.#renewedAt === undefined;
      this.#renewedAt = started;
      if (first) this.#emit();
    } catch (err) {
      this.#log.warn({ event: 'leaseRenewFailed', err: errorMessage(err) }, 'could not renew our speaker Lease');
    } finally {
      this.#schedule();
    }
  }
}
