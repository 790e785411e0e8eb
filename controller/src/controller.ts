import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1Namespace, type V1Service } from '@kubernetes/client-node';
import { GROUP, IPAddressPoolKind, VERSION, toCount } from '@herald/shared/api';
import type { Clock, Logger } from '@herald/shared/core';
import { formatIP, type Family } from '@herald/shared/ip';
import { isConflict, isNotFound } from '@herald/shared/core';
import { requeueAfter } from '@herald/shared/kube';
import { EventRecorder, LeaderElector, RawJsonClient, WorkQueue, createInformer, ok, retry, setCondition, type EventSubject, type Informer, type ReconcileResult } from '@herald/shared/kube';
import { Allocator, type Decision, type PoolModel, type ServiceRequest } from './allocator/index.js';
import { buildPoolConfig, type PoolConfig, type RawPool } from './config/pools.js';
import { ConfigValidity } from './config/validity.js';
import type { ControllerMetrics } from './metrics.js';
import { ANN_ALLOCATED_FROM, CONDITION_ASSIGNED, handles, serviceKey, serviceRequest, statusIPs } from './service/model.js';
import { applyStatus, type DesiredStatus } from './service/status.js';

export interface ControllerOptions {
  readonly kc: KubeConfig;
  /** Where pools and other custom resources live. */
  readonly namespace: string;
  readonly lbClass?: string | undefined;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: ControllerMetrics;
  readonly leaderElect: boolean;
  /** This replica's name in the Lease and in Events. */
  readonly identity: string;
  /** Concurrent reconciles (status writes in flight). Default 16. */
  readonly workers?: number;
  /** How long IPs that no pool contains stay before they move (see Allocator). Default 5 s. */
  readonly orphanGraceMs?: number;
}

const FAMILIES: readonly Family[] = [4, 6];
const FAMILY_LABEL: Record<Family, string> = { 4: 'ipv4', 6: 'ipv6' };
/** Pool status is derived and rewritten at most this often per pool. */
const POOL_STATUS_DELAY_MS = 200;
const CONFIG_KEY = 'config';
const VALIDITY_KEY = 'validity';

type PoolObject = KubernetesObject & RawPool & { status?: Record<string, unknown> };

/**
 * The controller: informers feed a keyed work queue; each key is reconciled
 * from the current cache, never from an event payload. Keys:
 *   `svc:NS/NAME`  a Service's IPs and status
 *   `pool:NAME`    a pool's status (counts, Valid condition)
 *   `config`       the pool set was edited: rebuild it
 *   `validity`     a configuration object was edited: its Valid condition and Events
 * Only the leader reconciles; every replica keeps its caches warm so a new
 * leader starts in milliseconds.
 */
export class Controller {
  private readonly core: CoreV1Api;
  /** The Service status PUT, the hot path, without client-node's serializer (see RawJsonClient). */
  private readonly raw: RawJsonClient;
  private readonly custom: CustomObjectsApi;
  private readonly services: Informer<V1Service>;
  private readonly namespaces: Informer<V1Namespace>;
  private readonly pools: Informer<PoolObject>;
  private readonly validity: ConfigValidity;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private queue: WorkQueue | undefined;
  private allocator: Allocator;
  private poolConfig: PoolConfig = { pools: [], invalid: new Map(), verdicts: [], lastGood: new Map() };
  private elector: LeaderElector | undefined;
  private leading = false;
  private synced = false;
  /** Per Service, what our last status write said (see isOwnEcho). */
  private readonly lastWritten = new Map<string, string>();
  /** Services that got no IP: retried whenever an IP is freed. */
  private readonly waiting = new Set<string>();
  private stopped = false;

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.log.child({ component: 'controller' });
    this.allocator = this.newAllocator();
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.raw = new RawJsonClient(opts.kc);
    this.custom = opts.kc.makeApiClient(CustomObjectsApi);
    const common = { log: this.log, clock: opts.clock };
    // Plain JSON: at 10,000 Services client-node's deserializer made the start-up list slow.
    this.services = createInformer<V1Service>(opts.kc, { ...common, path: '/api/v1/services', list: (sel) => this.raw.list<V1Service>('/api/v1/services', sel) });
    this.namespaces = createInformer<V1Namespace>(opts.kc, { ...common, path: '/api/v1/namespaces', list: (sel) => this.core.listNamespace(sel) });
    const poolPath = `/apis/${GROUP}/${VERSION}/namespaces/${opts.namespace}/${IPAddressPoolKind.plural}`;
    this.pools = createInformer<PoolObject>(opts.kc, {
      ...common,
      path: poolPath,
      list: (sel) => this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: opts.namespace, plural: IPAddressPoolKind.plural, ...sel }),
    });
    this.events = new EventRecorder({
      kc: opts.kc,
      component: 'herald-controller',
      instance: opts.identity,
      clock: opts.clock,
      log: this.log,
      onDropped: (why) => opts.metrics.eventsDropped.labels(why).inc(),
      // Services waiting for a worker: their status writes go first (ADR 0003).
      busy: () => (this.queue?.length ?? 0) > 0,
    });
    this.validity = new ConfigValidity({
      kc: opts.kc,
      namespace: opts.namespace,
      clock: opts.clock,
      log: this.log,
      events: this.events,
      onWrite: (kind, outcome) => opts.metrics.statusWrites.labels(kind, outcome).inc(),
    });
  }

  /** True once every cache holds a full list. */
  get ready(): boolean {
    return this.synced;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts the informers, waits for them, then leads (or campaigns to). */
  async start(): Promise<void> {
    this.services.onChange((ev) => {
      if (ev.type === 'update' && ev.old && this.isOwnEcho(ev.old, ev.obj)) return;
      this.enqueue(`svc:${serviceKey(ev.obj)}`);
    });
    this.namespaces.onChange((ev) => {
      if (ev.type === 'update' && JSON.stringify(ev.old?.metadata?.labels ?? {}) === JSON.stringify(ev.obj.metadata?.labels ?? {})) return;
      for (const s of this.services.list(ev.obj.metadata?.name)) this.enqueue(`svc:${serviceKey(s)}`);
    });
    this.pools.onChange((ev) => {
      // Our own status writes change nothing the allocator reads.
      if (ev.type === 'update' && ev.old?.metadata?.generation === ev.obj.metadata?.generation) return;
      this.enqueue(CONFIG_KEY);
    });
    this.validity.onChange(() => this.enqueue(VALIDITY_KEY));
    await Promise.all([this.services.start(), this.namespaces.start(), this.pools.start(), this.validity.start()]);
    this.synced = true;
    this.log.info({ event: 'cachesSynced', services: this.services.list().length, pools: this.pools.list().length }, 'caches synced');
    if (!this.opts.leaderElect) {
      this.lead();
      return;
    }
    this.elector = new LeaderElector({ kc: this.opts.kc, namespace: this.opts.namespace, name: 'herald-controller', identity: this.opts.identity, clock: this.opts.clock, log: this.log });
    void this.elector.run({ onStartedLeading: () => this.lead(), onStoppedLeading: () => void this.unlead() });
  }

  /** Stops reconciling, releases the Lease, stops the informers. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.unlead();
    await this.elector?.stop();
    this.events.close();
    this.services.stop();
    this.namespaces.stop();
    this.pools.stop();
    this.validity.stop();
    this.raw.close();
  }

  /** Resolves when no work is queued or in flight (tests, benchmarks). */
  async drained(): Promise<void> {
    await this.queue?.drained();
  }

  private newAllocator(): Allocator {
    return new Allocator({ now: () => this.opts.clock.now(), orphanGraceMs: this.opts.orphanGraceMs ?? 5_000 });
  }

  private enqueue(key: string): void {
    this.queue?.add(key);
  }

  /**
   * Becoming leader: rebuild the allocator from what Service status says,
   * Services that already hold IPs first (oldest first), and only then start
   * handing out anything new, so no IP moves across restarts or failovers.
   */
  private lead(): void {
    if (this.leading || this.stopped) return;
    this.leading = true;
    this.opts.metrics.isLeader.set(1);
    this.allocator = this.newAllocator();
    this.rebuildPools();
    const restored = this.restoreFromStatus();
    this.log.info({ event: 'leading', restored, identity: this.opts.identity }, 'leading: state rebuilt from Service status');
    const queue = new WorkQueue({
      clock: this.opts.clock,
      log: this.log,
      name: 'controller',
      hooks: {
        onProcessed: (key, result, ms) => {
          this.opts.metrics.reconcileSeconds.labels(key.split(':')[0] ?? 'other', result.kind).observe(ms / 1000);
          this.opts.metrics.queueDepth.set(queue.length + queue.waiting + queue.inFlight - 1);
        },
      },
    });
    this.queue = queue;
    for (const s of this.services.list()) queue.add(`svc:${serviceKey(s)}`);
    for (const p of this.pools.list()) queue.add(`pool:${p.metadata?.name ?? ''}`);
    queue.add(VALIDITY_KEY);
    queue.start((key) => this.reconcile(key), { workers: this.opts.workers ?? 16 });
  }

  private async unlead(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.opts.metrics.isLeader.set(0);
    const q = this.queue;
    this.queue = undefined;
    await q?.shutdown();
    this.log.info({ event: 'notLeading' }, 'stopped leading');
  }

  private restoreFromStatus(): number {
    const held = this.services
      .list()
      .filter((s) => handles(s, this.opts.lbClass).ok && statusIPs(s).length > 0)
      .sort((a, b) => created(a).localeCompare(created(b)) || serviceKey(a).localeCompare(serviceKey(b)));
    let restored = 0;
    for (const s of held) {
      const req = this.requestFor(s) ?? bestEffortRequest(s);
      const r = this.allocator.restore(req, statusIPs(s));
      if (r.ok) restored++;
      else this.log.warn({ event: 'restoreRefused', service: serviceKey(s), reason: r.why }, 'could not restore IPs from status');
    }
    return restored;
  }

  private requestFor(svc: V1Service): ServiceRequest | undefined {
    const m = serviceRequest(svc, this.namespaces.get(undefined, svc.metadata?.namespace ?? '')?.metadata?.labels ?? {});
    return m.ok ? m.request : undefined;
  }

  private rebuildPools(): string[] {
    this.poolConfig = buildPoolConfig(this.pools.list(), this.poolConfig.lastGood);
    const orphans = this.allocator.setPools(this.poolConfig.pools, this.poolConfig.invalid);
    for (const v of this.poolConfig.verdicts.filter((x) => !x.valid)) {
      this.log.warn({ event: 'poolInvalid', pool: v.name, reason: v.reason, message: v.message }, 'pool is invalid');
    }
    return orphans;
  }

  /** One key, from the current cache. Never throws (the queue would retry anyway). */
  private async reconcile(key: string): Promise<ReconcileResult> {
    if (key === CONFIG_KEY) return this.reconcileConfig();
    if (key === VALIDITY_KEY) return this.validity.reconcile(this.poolConfig.verdicts);
    if (key.startsWith('pool:')) return this.reconcilePoolStatus(key.slice(5));
    if (key.startsWith('svc:')) return this.reconcileService(key.slice(4));
    return ok();
  }

  private reconcileConfig(): ReconcileResult {
    const orphans = new Set(this.rebuildPools());
    for (const k of orphans) this.enqueue(`svc:${k}`);
    // Services still without IPs may fit now; those holding IPs re-check they may keep them.
    for (const s of this.services.list()) this.enqueue(`svc:${serviceKey(s)}`);
    for (const p of this.pools.list()) this.enqueue(`pool:${p.metadata?.name ?? ''}`);
    this.enqueue(VALIDITY_KEY);
    return ok();
  }

  private async reconcileService(key: string): Promise<ReconcileResult> {
    const [ns = '', name = ''] = key.split('/');
    const svc = this.services.get(ns, name);
    if (!svc) {
      const released = this.allocator.release(key);
      if (released) {
        this.opts.metrics.allocations.labels('Released').inc();
        this.log.info({ event: 'ipReleased', service: key, ips: released.ips.map(formatIP), reason: 'ServiceDeleted' }, 'released IPs of a deleted Service');
        this.touchPool(released.pool, true);
      }
      this.waiting.delete(key);
      this.lastWritten.delete(key);
      return ok();
    }
    const handled = handles(svc, this.opts.lbClass);
    if (!handled.ok) {
      const released = this.allocator.release(key);
      this.waiting.delete(key);
      if (released) this.touchPool(released.pool, true);
      const hadOurs = statusIPs(svc).length > 0 && svc.metadata?.annotations?.['herald.io/ip-allocated-from-pool'] !== undefined;
      const cleared = released || hadOurs ? applyStatus(svc, { ips: [] }, new Date(this.opts.clock.now())) : applyStatus(svc, {}, new Date(this.opts.clock.now()));
      const r = await this.writeStatus(key, cleared);
      if (r.kind === 'ok' && released) {
        this.opts.metrics.allocations.labels('Released').inc();
        this.events.record(subject(svc), 'Normal', 'IPReleased', `released ${released.ips.map(formatIP).join(', ')}: ${handled.reason === 'NotLoadBalancer' ? 'the Service is no longer of type LoadBalancer' : 'the Service names another loadBalancerClass'}`);
      }
      return r;
    }
    const model = serviceRequest(svc, this.namespaces.get(undefined, ns)?.metadata?.labels ?? {});
    if (!model.ok) {
      // Bad input: say why, keep whatever IPs the Service has.
      this.opts.metrics.failures.labels(model.reason).inc();
      const r = await this.writeStatus(key, applyStatus(svc, { condition: { status: 'False', reason: model.reason, message: model.message } }, new Date(this.opts.clock.now())));
      if (r.kind === 'ok') this.events.record(subject(svc), 'Warning', 'AllocationFailed', `${model.reason}: ${model.message}`);
      return r;
    }
    const decision = this.allocator.assign(model.request);
    const desired = desiredStatus(decision);
    const r = await this.writeStatus(key, applyStatus(svc, desired, new Date(this.opts.clock.now())));
    this.afterDecision(svc, decision, r.kind === 'ok');
    // Orphaned IPs: look again when the grace period is over.
    if (r.kind === 'ok' && decision.ok && decision.releaseInMs !== undefined) return requeueAfter(decision.releaseInMs + 1, 'OrphanGrace');
    return r;
  }

  private afterDecision(svc: V1Service, d: Decision, written: boolean): void {
    const key = serviceKey(svc);
    if (d.ok) {
      this.waiting.delete(key);
      if (d.action === 'Kept') return;
      this.touchPool(d.assignment.pool);
      if (d.previous) this.touchPool(d.previous.pool, true);
      this.opts.metrics.allocations.labels(d.action).inc();
      const ips = d.assignment.ips.map(formatIP).join(', ');
      this.log.info({ event: 'ipAllocated', service: key, ips, pool: d.assignment.pool, action: d.action, reason: d.moveReason }, 'assigned IPs');
      if (!written) return;
      if (d.previous) this.events.record(subject(svc), 'Normal', 'IPReleased', `released ${d.previous.ips.map(formatIP).join(', ')} (pool ${d.previous.pool}): ${d.moveReason ?? ''}`);
      this.events.record(subject(svc), 'Normal', 'IPAllocated', `assigned ${ips} from pool ${d.assignment.pool}`);
      return;
    }
    this.opts.metrics.failures.labels(d.reason).inc();
    this.waiting.add(key);
    this.log.info({ event: 'allocationFailed', service: key, reason: d.reason, message: d.message }, 'no IP for Service');
    if (d.released) this.touchPool(d.released.pool, true);
    if (!written) return;
    if (d.released) this.events.record(subject(svc), 'Normal', 'IPReleased', `released ${d.released.ips.map(formatIP).join(', ')}: ${d.releaseReason ?? ''}`);
    this.events.record(subject(svc), 'Warning', 'AllocationFailed', `${d.reason}: ${d.message}`);
  }

  /** An assignment in `pool` changed: refresh its status soon, and let waiting Services try again. */
  private touchPool(pool: string, freed = false): void {
    this.queue?.addAfter(`pool:${pool}`, POOL_STATUS_DELAY_MS);
    if (!freed) return;
    for (const k of this.waiting) this.enqueue(`svc:${k}`);
  }

  /** PUT status with the cached resourceVersion: a stale cache gets 409 and a retry, never a lost update. */
  /**
   * The watch event of our own status write: nothing but the status we wrote changed, and
   * the allocator still holds exactly that. Reconciling it would find nothing to do; at
   * 10,000 allocations skipping it saves 10,000 reconciles (ADR 0003).
   */
  private isOwnEcho(old: V1Service, cur: V1Service): boolean {
    const key = serviceKey(cur);
    const wrote = this.lastWritten.get(key);
    if (wrote === undefined || wrote !== statusFingerprint(cur)) return false;
    const m0 = old.metadata ?? {};
    const m1 = cur.metadata ?? {};
    if (m0.generation !== m1.generation || m0.deletionTimestamp !== m1.deletionTimestamp) return false;
    if (JSON.stringify(m0.labels ?? {}) !== JSON.stringify(m1.labels ?? {})) return false;
    const { [ANN_ALLOCATED_FROM]: _a, ...a0 } = m0.annotations ?? {};
    const { [ANN_ALLOCATED_FROM]: _b, ...a1 } = m1.annotations ?? {};
    if (JSON.stringify(a0) !== JSON.stringify(a1)) return false;
    const held = this.allocator.assignmentOf(key);
    return held !== undefined && held.ips.map(formatIP).join(',') === statusIPs(cur).join(',');
  }

  private async writeStatus(key: string, next: V1Service | undefined): Promise<ReconcileResult> {
    if (!next) return ok();
    const namespace = next.metadata?.namespace ?? '';
    const name = next.metadata?.name ?? '';
    try {
      await this.raw.request('PUT', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}/status`, next);
      this.lastWritten.set(key, statusFingerprint(next));
      this.opts.metrics.statusWrites.labels('Service', 'ok').inc();
      return ok();
    } catch (err) {
      if (isNotFound(err)) {
        this.opts.metrics.statusWrites.labels('Service', 'notFound').inc();
        return ok(); // deleted meanwhile: the delete event reconciles it
      }
      const outcome = isConflict(err) ? 'conflict' : 'error';
      this.opts.metrics.statusWrites.labels('Service', outcome).inc();
      if (outcome === 'error') this.log.warn({ event: 'statusWriteFailed', service: key, err }, 'writing Service status failed');
      return retry(outcome === 'conflict' ? 'Conflict' : 'StatusWriteFailed', err);
    }
  }

  private async reconcilePoolStatus(name: string): Promise<ReconcileResult> {
    const obj = this.pools.get(this.opts.namespace, name);
    if (!obj) {
      for (const f of FAMILIES) {
        this.opts.metrics.poolAddresses.remove(name, FAMILY_LABEL[f]);
        this.opts.metrics.poolInUse.remove(name, FAMILY_LABEL[f]);
      }
      return ok();
    }
    const verdict = this.poolConfig.verdicts.find((v) => v.name === name);
    const stats = this.allocator.stats(name);
    const status: Record<string, unknown> = { ...(obj.status ?? {}) };
    for (const f of FAMILIES) {
      const total = stats && !this.poolConfig.invalid.has(name) ? stats.total[f] : 0n;
      const assigned = stats?.assigned[f] ?? 0n;
      const suffix = f === 4 ? 'IPv4' : 'IPv6';
      status[`assigned${suffix}`] = toCount(assigned);
      status[`available${suffix}`] = toCount(total > assigned ? total - assigned : 0n);
      this.opts.metrics.poolAddresses.labels(name, FAMILY_LABEL[f]).set(Number(stats?.total[f] ?? 0n));
      this.opts.metrics.poolInUse.labels(name, FAMILY_LABEL[f]).set(Number(assigned));
    }
    if (verdict) {
      status['conditions'] = setCondition(
        (obj.status?.['conditions'] as never[] | undefined) ?? [],
        {
          type: 'Valid',
          status: verdict.valid ? 'True' : 'False',
          reason: verdict.reason,
          message: verdict.message,
          ...(verdict.generation === undefined ? {} : { observedGeneration: verdict.generation }),
        },
        new Date(this.opts.clock.now()),
      );
    }
    if (JSON.stringify(status) === JSON.stringify(obj.status ?? {})) return ok();
    try {
      await this.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: this.opts.namespace, plural: IPAddressPoolKind.plural, name, body: { ...obj, status } });
      this.opts.metrics.statusWrites.labels('IPAddressPool', 'ok').inc();
      return ok();
    } catch (err) {
      if (isNotFound(err)) return ok();
      this.opts.metrics.statusWrites.labels('IPAddressPool', isConflict(err) ? 'conflict' : 'error').inc();
      if (!isConflict(err)) this.log.warn({ event: 'statusWriteFailed', pool: name, err }, 'writing pool status failed');
      return retry(isConflict(err) ? 'Conflict' : 'StatusWriteFailed', err);
    }
  }

  /** For tests and `herald explain`: the allocator's view. */
  get allocatorView(): Pick<Allocator, 'assignmentOf' | 'holdersOf' | 'stats'> {
    return this.allocator;
  }

  /** Pools as the allocator sees them. */
  get poolModels(): readonly PoolModel[] {
    return this.poolConfig.pools;
  }
}

/** Items of a list carry no kind: name it for the Event's `regarding`. */
function subject(svc: V1Service): EventSubject {
  return { apiVersion: 'v1', kind: 'Service', metadata: svc.metadata ?? {} } as EventSubject;
}

function created(o: KubernetesObject): string {
  const t = o.metadata?.creationTimestamp as Date | string | undefined;
  return t instanceof Date ? t.toISOString() : (t ?? '');
}

/** A request good enough to restore a Service's IPs when its annotations no longer parse. */
function bestEffortRequest(svc: V1Service): ServiceRequest {
  return {
    key: serviceKey(svc),
    namespace: svc.metadata?.namespace ?? '',
    labels: svc.metadata?.labels ?? {},
    namespaceLabels: {},
    families: statusIPs(svc).map((ip) => ip.family),
    policy: 'PreferDualStack',
    requestedIPs: [],
    sharing: { ports: (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`), local: svc.spec?.externalTrafficPolicy === 'Local', selector: JSON.stringify(svc.spec?.selector ?? {}) },
  };
}

function desiredStatus(d: Decision): DesiredStatus {
  if (d.ok) {
    const ips = d.assignment.ips.map(formatIP).join(', ');
    if (d.releaseInMs !== undefined) {
      const secs = Math.ceil(d.releaseInMs / 1000);
      return { ips: d.assignment.ips, pool: d.assignment.pool, condition: { status: 'True', reason: 'NotInAnyPool', message: `${d.moveReason ?? ''}: ${ips} will be released in ${secs}s unless a pool contains it again` } };
    }
    const message = d.action === 'Moved' ? `assigned ${ips} from pool ${d.assignment.pool} (moved: ${d.moveReason ?? ''})` : `assigned ${ips} from pool ${d.assignment.pool}`;
    return { ips: d.assignment.ips, pool: d.assignment.pool, condition: { status: 'True', reason: 'IPAllocated', message } };
  }
  return { ips: [], condition: { status: 'False', reason: d.reason, message: d.message } };
}

/** What of a Service's status and pool annotation Herald writes, as one comparable string. */
function statusFingerprint(svc: V1Service): string {
  const c = svc.status?.conditions?.find((x) => x.type === CONDITION_ASSIGNED);
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => `${i.ip ?? ''}/${i.ipMode ?? ''}`).join(',');
  return `${ingress}|${svc.metadata?.annotations?.[ANN_ALLOCATED_FROM] ?? ''}|${c?.status ?? ''}/${c?.reason ?? ''}/${c?.message ?? ''}`;
}
