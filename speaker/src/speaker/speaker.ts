/**
 * The L2 speaker: informers and membership in, ARP/NDP announcements and status out.
 *
 * Everything is reconciled from current state through one keyed work queue:
 *   `plan`            recompute who announces every IP (pure: ../l2/eligibility.ts) and
 *                     make this node's announcers obey
 *   `status:NS/NAME`  this node's ServiceL2Status for one Service
 * Any change (a Service, an EndpointSlice, a Node, a pool, an advertisement, a Lease, a
 * membership change) only enqueues `plan`; the queue coalesces bursts.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from '@kubernetes/client-node';
import { GROUP, VERSION, IPAddressPoolKind, L2AdvertisementKind, ServiceL2StatusKind } from '@herald/shared/api';
import { ConfigTracker } from '@herald/shared/config';
import { errorMessage, isConflict, isNotFound, type Clock, type Logger, type TimerHandle } from '@herald/shared/core';
import { formatIP, ipKey, type IP } from '@herald/shared/ip';
import { EventRecorder, WorkQueue, callWithTimeout, createInformer, ok, retry, type Informer, type ReconcileResult } from '@herald/shared/kube';
import { L2Announcer } from '../announce/announcer.js';
import { BgpController, type SocketSecurity } from '../bgp/controller.js';
import { assignmentsFor, planL2, type L2Plan } from '../l2/eligibility.js';
import { chooseInterfaces, readInterfaces, type InterfaceState } from '../l2/interfaces.js';
import { KUBE_IPVS_DEVICE, ipvsArpHazard, readArpIgnore, type L2Hazard } from '../l2/ipvs.js';
import { startUdpMembership, type Endpoint, type Keys, type MemberState, type SwimConfig, type UdpMembership } from '../membership/index.js';
import { SpeakerLeases } from './leases.js';
import { aliveNodes, computeLiveness, type Liveness } from './liveness.js';
import type { SpeakerMetrics } from './metrics.js';
import { logVerdicts } from '../config-log.js';

export interface SpeakerOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly node: string;
  /** Membership UDP address; default the Node's InternalIP of the family found first. */
  readonly bindAddr?: string | undefined;
  readonly memberlistPort: number;
  /** As the controller's --lb-class: only Services of this class (unset: only those without one). */
  readonly lbClass?: string | undefined;
  /** Secret in `namespace` with the gossip key in `secretkey` (and optionally `secretkey-previous`). */
  readonly memberlistSecret: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: SpeakerMetrics;
  readonly swim?: Partial<SwimConfig>;
  readonly leaseDurationMs?: number;
  readonly leaseRenewMs?: number;
  /** After telling peers we leave, how long we keep answering while the successors announce. Default 500 ms. */
  readonly handoffMs?: number;
  /** Name prefixes the default interface choice leaves out; default VIRTUAL_INTERFACE_PREFIXES. */
  readonly excludedInterfacePrefixes?: readonly string[] | undefined;
  /** Where arp_ignore is read from (tests). Default /proc/sys/net/ipv4/conf. */
  readonly ipv4ConfDir?: string;
  /** Where interfaces are read from (tests). Default /sys/class/net. */
  readonly sysfs?: string;
  /** Opens announcers (tests). */
  readonly newAnnouncer?: (ifname: string) => L2Announcer;
  /** TCP MD5 and TTL for BGP sessions (the native addon). Without it, BGPPeers with a password cannot connect. */
  readonly socketSecurity?: SocketSecurity;
  /** RFC 8326 graceful shutdown wait on SIGTERM, before routes are withdrawn. Default 2 s. */
  readonly bgpGracefulShutdownMs?: number;
}

type PoolObject = KubernetesObject & { spec?: unknown };
type StatusObject = KubernetesObject & { status?: { node?: string; serviceName?: string; serviceNamespace?: string; interfaces?: { name: string }[] } };

const PLAN = 'plan';
const STATUS_PREFIX = 'status:';
export const L2STATUS_NODE_LABEL = 'herald.io/node';
export const L2STATUS_SERVICE_LABEL = 'herald.io/service-name';
export const L2STATUS_NAMESPACE_LABEL = 'herald.io/service-namespace';

/** What this node announces for one Service. */
interface Mine {
  readonly ips: readonly string[];
  readonly interfaces: readonly string[];
}

/** A label value for a node name (label values are limited to 63 characters). */
function nodeLabel(node: string): string {
  return node.length <= 63 ? node : createHash('sha256').update(node).digest('hex').slice(0, 63);
}

/** The ServiceL2Status name for (Service, node): stable, so a restart finds its own objects. */
export function l2StatusName(namespace: string, name: string, node: string): string {
  return `l2-${createHash('sha256').update(`${namespace}/${name}/${node}`).digest('hex').slice(0, 20)}`;
}

/** What of the interfaces matters to announcing, as one comparable string. */
function interfaceSignature(ifaces: readonly InterfaceState[]): string {
  return ifaces
    .map((i) => `${i.name}/${i.index}/${i.up ? 1 : 0}/${i.operState}/${i.mac}/${i.noArp ? 1 : 0}/${i.master ?? ''}/${(i.uppers ?? []).join('+')}`)
    .sort()
    .join(',');
}


export class Speaker {
  readonly #o: SpeakerOptions;
  readonly #log: Logger;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #nodes: Informer<V1Node>;
  readonly #services: Informer<V1Service>;
  readonly #slices: Informer<V1EndpointSlice>;
  readonly #pools: Informer<PoolObject>;
  readonly #ads: Informer<PoolObject>;
  readonly #statuses: Informer<StatusObject>;
  readonly #events: EventRecorder;
  readonly #queue: WorkQueue;
  readonly #bgp: BgpController;
  #leases: SpeakerLeases | undefined;
  #membership: UdpMembership | undefined;
  #membershipSince: number | undefined;
  #memberStates = new Map<string, MemberState>();
  readonly #announcers = new Map<string, L2Announcer>();
  /** Service key -> what we announce for it, as of the last plan. */
  #mine = new Map<string, Mine>();
  #owned = new Set<string>();
  #lastPlan: L2Plan | undefined;
  /** Pools and L2Advertisements in force: an invalid edit keeps the last good version (shared/config). */
  readonly #config = new ConfigTracker();
  readonly #verdictsLogged = new Map<string, string>();
  #liveness = new Map<string, Liveness>();
  #recheck: TimerHandle | undefined;
  #ifaceTimer: TimerHandle | undefined;
  #ifaceSignature = '';
  #reannounce = false;
  #l2Hazard: L2Hazard | undefined;
  #secretTimer: TimerHandle | undefined;
  #synced = false;
  #stopping = false;
  #stopped = false;

  constructor(opts: SpeakerOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ component: 'speaker', node: opts.node });
    this.#core = opts.kc.makeApiClient(CoreV1Api);
    this.#custom = opts.kc.makeApiClient(CustomObjectsApi);
    const discovery = opts.kc.makeApiClient(DiscoveryV1Api);
    const common = { log: this.#log, clock: opts.clock };
    this.#nodes = createInformer<V1Node>(opts.kc, { ...common, path: '/api/v1/nodes', list: (sel) => this.#core.listNode(sel) });
    this.#services = createInformer<V1Service>(opts.kc, { ...common, path: '/api/v1/services', list: (sel) => this.#core.listServiceForAllNamespaces(sel) });
    this.#slices = createInformer<V1EndpointSlice>(opts.kc, {
      ...common,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: (sel) => discovery.listEndpointSliceForAllNamespaces(sel),
    });
    const custom = (plural: string): Informer<PoolObject> =>
      createInformer<PoolObject>(opts.kc, {
        ...common,
        path: `/apis/${GROUP}/${VERSION}/namespaces/${opts.namespace}/${plural}`,
        list: (sel) => this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: opts.namespace, plural, ...sel }),
      });
    this.#pools = custom(IPAddressPoolKind.plural);
    this.#ads = custom(L2AdvertisementKind.plural);
    this.#statuses = createInformer<StatusObject>(opts.kc, {
      ...common,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${opts.namespace}/${ServiceL2StatusKind.plural}`,
      list: (sel) => this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: opts.namespace, plural: ServiceL2StatusKind.plural, ...sel }),
    });
    this.#events = new EventRecorder({
      kc: opts.kc,
      component: 'herald-speaker',
      instance: opts.node,
      clock: opts.clock,
      log: this.#log,
      // Ownership can go back and forth; each move is news.
      dedupWindowMs: 1_000,
      onDropped: (why) => opts.metrics.eventsDropped.labels(why).inc(),
    });
    this.#queue = new WorkQueue({ clock: opts.clock, log: this.#log, name: 'speaker', baseDelayMs: 50, maxDelayMs: 10_000 });
    this.#bgp = new BgpController({
      kc: opts.kc,
      namespace: opts.namespace,
      node: opts.node,
      lbClass: opts.lbClass,
      log: this.#log,
      clock: opts.clock,
      metrics: opts.metrics.bgp,
      events: this.#events,
      informers: { nodes: this.#nodes, services: this.#services, slices: this.#slices, pools: this.#pools },
      ...(opts.socketSecurity ? { socketSecurity: opts.socketSecurity } : {}),
      ...(opts.bgpGracefulShutdownMs !== undefined ? { gracefulShutdownMs: opts.bgpGracefulShutdownMs } : {}),
    });
  }

  /** The BGP half (diagnostics, tests). */
  get bgp(): BgpController {
    return this.#bgp;
  }

  /** What breaks L2 mode on this node, if anything (kube-proxy IPVS without strictARP). */
  get l2Hazard(): L2Hazard | undefined {
    return this.#l2Hazard;
  }

  /**
   * False while L2 mode is in use (an L2Advertisement is in force) and this node's kernel
   * answers ARP for the LoadBalancer IPs itself: the DaemonSet then shows it, not only a log.
   */
  get l2Sound(): boolean {
    return this.#l2Hazard === undefined || (this.#config.current?.l2Advertisements.length ?? 0) === 0;
  }

  /** True once the caches are synced and the first plan has run. */
  get ready(): boolean {
    return this.#synced && this.#lastPlan !== undefined && this.#bgp.ready && !this.#stopping;
  }

  /** IPs this node announces now (canonical text). */
  owned(): string[] {
    return [...this.#owned].sort();
  }

  get membership(): UdpMembership | undefined {
    return this.#membership;
  }

  async start(): Promise<void> {
    const plan = (): void => this.#queue.add(PLAN);
    this.#nodes.onChange(plan);
    this.#services.onChange(plan);
    this.#slices.onChange(plan);
    this.#pools.onChange(plan);
    this.#ads.onChange(plan);
    this.#statuses.onChange((ev) => {
      const st = ev.obj.status;
      if (st?.serviceNamespace !== undefined && st.serviceName !== undefined) this.#queue.add(`${STATUS_PREFIX}${st.serviceNamespace}/${st.serviceName}`);
    });
    await Promise.all([this.#nodes.start(), this.#services.start(), this.#slices.start(), this.#pools.start(), this.#ads.start(), this.#statuses.start()]);
    this.#synced = true;
    await this.#bgp.start();

    const keys = await this.#readKeys();
    const endpoint = keys === undefined ? undefined : await this.#startMembership(keys);
    if (keys === undefined) this.#retryKeysLater();
    this.#leases = new SpeakerLeases({
      kc: this.#o.kc,
      namespace: this.#o.namespace,
      node: this.#o.node,
      endpoint,
      clock: this.#o.clock,
      log: this.#log,
      ...(this.#o.leaseDurationMs !== undefined ? { durationMs: this.#o.leaseDurationMs } : {}),
      ...(this.#o.leaseRenewMs !== undefined ? { renewMs: this.#o.leaseRenewMs } : {}),
    });
    this.#leases.onChange(() => {
      this.#join();
      plan();
    });
    await this.#leases.start();
    this.#join();
    this.#queue.start((key) => this.#reconcile(key), { workers: 4 });
    plan();
    this.#watchInterfaces();
    this.#log.info({ event: 'started', membership: endpoint ? `${endpoint.address}:${endpoint.port}` : 'off' }, 'speaker started');
  }

  /**
   * Stops. With `handoff` (SIGTERM), make-before-break: tell the peers we leave so that
   * the successors announce at once, keep answering for `handoffMs` while they do, then
   * stop answering, release our Lease and remove our status objects.
   */
  async stop(opts: { handoff: boolean }): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const owned = this.#owned.size;
    // BGP's graceful shutdown (RFC 8326) runs alongside the L2 handoff.
    const bgpStopped = this.#bgp.stop({ graceful: opts.handoff });
    if (opts.handoff && this.#membership) {
      await this.#membership.leave();
      this.#log.info({ event: 'handoff', owned }, 'told peers we are leaving; still answering while successors announce');
      if (owned > 0) await new Promise<void>((r) => this.#o.clock.setTimeout(r, this.#o.handoffMs ?? 500));
    } else {
      await this.#membership?.close();
    }
    await this.#queue.shutdown();
    if (this.#recheck) this.#o.clock.clearTimeout(this.#recheck);
    if (this.#ifaceTimer) this.#o.clock.clearTimeout(this.#ifaceTimer);
    if (this.#secretTimer) this.#o.clock.clearTimeout(this.#secretTimer);
    await Promise.all([...this.#announcers.values()].map((a) => a.close()));
    this.#announcers.clear();
    this.#owned.clear();
    await this.#leases?.stop(opts.handoff);
    if (opts.handoff) await this.#deleteOwnStatuses();
    await bgpStopped;
    for (const i of [this.#nodes, this.#services, this.#slices, this.#pools, this.#ads, this.#statuses]) i.stop();
    this.#events.close();
    this.#stopped = true;
    this.#log.info({ event: 'stopped', handoff: opts.handoff }, 'speaker stopped');
  }

  // ---- membership -------------------------------------------------------------------

  async #readKeys(): Promise<Keys | undefined> {
    try {
      const s = await callWithTimeout(this.#o.clock, 5_000, 'read memberlist secret', (o) => this.#core.readNamespacedSecret({ namespace: this.#o.namespace, name: this.#o.memberlistSecret }, o));
      const primary = s.data?.['secretkey'];
      if (primary === undefined || primary === '') {
        this.#log.warn({ event: 'memberlistKeyMissing', secret: this.#o.memberlistSecret }, 'memberlist Secret has no "secretkey": liveness from Leases only');
        return undefined;
      }
      const keys: Buffer[] = [Buffer.from(primary, 'base64')];
      const previous = s.data?.['secretkey-previous'];
      if (previous) keys.push(Buffer.from(previous, 'base64'));
      if (keys.some((k) => k.length < 16)) {
        this.#log.error({ event: 'memberlistKeyTooShort', secret: this.#o.memberlistSecret }, 'memberlist key shorter than 16 bytes: refusing it; liveness from Leases only');
        return undefined;
      }
      // Never log the key itself.
      return keys as unknown as Keys;
    } catch (err) {
      this.#log.warn({ event: 'memberlistSecretUnavailable', secret: this.#o.memberlistSecret, err: errorMessage(err) }, 'cannot read the memberlist Secret: liveness from Leases only');
      return undefined;
    }
  }

  #retryKeysLater(): void {
    if (this.#stopping) return;
    this.#secretTimer = this.#o.clock.setTimeout(() => {
      void (async () => {
        const keys = await this.#readKeys();
        if (keys === undefined || this.#stopping) return this.#retryKeysLater();
        const ep = await this.#startMembership(keys);
        if (ep && this.#leases) {
          this.#leases.setEndpoint(ep);
          this.#join();
          this.#queue.add(PLAN);
        } else this.#retryKeysLater();
      })();
    }, 10_000);
  }

  #bindAddress(): string | undefined {
    if (this.#o.bindAddr) return this.#o.bindAddr;
    const node = this.#nodes.get(undefined, this.#o.node);
    return node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  }

  async #startMembership(keys: Keys): Promise<Endpoint | undefined> {
    const address = this.#bindAddress();
    if (address === undefined) {
      this.#log.error({ event: 'membershipOff', reason: 'noBindAddress' }, 'no --bind-addr and the Node has no InternalIP: liveness from Leases only');
      return undefined;
    }
    try {
      const m = await startUdpMembership({
        name: this.#o.node,
        address,
        port: this.#o.memberlistPort,
        keys,
        clock: this.#o.clock,
        log: this.#log,
        ...(this.#o.swim ? { config: this.#o.swim } : {}),
      });
      m.swim.onChange((member, prev, next, reason) => {
        this.#memberStates.set(member.name, next);
        // A speaker (re)joining may have announced, from a stale view while it was cut
        // off, IPs we own: announce ours again once the plan has run.
        if (next === 'alive' && prev !== 'suspect') this.#reannounce = true;
        this.#log.info({ event: 'memberChange', member: member.name, from: prev, to: next, reason }, `member ${member.name} ${next}`);
        this.#queue.add(PLAN);
      });
      m.swim.start();
      this.#membership = m;
      this.#membershipSince = this.#o.clock.now();
      return m.endpoint;
    } catch (err) {
      this.#log.error({ event: 'membershipOff', reason: 'bindFailed', err: errorMessage(err) }, 'membership could not start: liveness from Leases only');
      return undefined;
    }
  }

  /**
   * (Re)joins the peers whose fresh Leases name an endpoint but whom membership does not
   * hold alive; joining a known member is harmless, and it heals partitions. Runs on every
   * Lease change and once a second (with the interface check): a partition shorter than a
   * Lease changes no Lease, and SWIM's own reconnect to dead members ends when it reaps them.
   */
  #join(): void {
    const m = this.#membership;
    if (!m || !this.#leases) return;
    const now = this.#o.clock.now();
    const seeds: Endpoint[] = [];
    for (const r of this.#leases.records().values()) {
      if (r.node === this.#o.node || r.endpoint === undefined || now - r.observedAt >= r.durationMs) continue;
      const state = m.swim.member(r.node)?.state;
      if (state === 'alive' || state === 'suspect') continue;
      seeds.push(r.endpoint);
    }
    if (seeds.length > 0) m.swim.join(seeds);
  }

  // ---- reconcile ----------------------------------------------------------------------

  async #reconcile(key: string): Promise<ReconcileResult> {
    if (this.#stopping) return ok();
    if (key === PLAN) return this.#plan();
    if (key.startsWith(STATUS_PREFIX)) return this.#reconcileStatus(key.slice(STATUS_PREFIX.length));
    return ok();
  }

  #computeLiveness(now: number): Map<string, Liveness> {
    const leases = this.#leases;
    return computeLiveness({
      self: this.#o.node,
      now,
      selfRenewedAt: leases?.renewedAt,
      viewCurrentAt: leases?.viewCurrentAt,
      selfLeaseDurationMs: leases?.durationMs ?? 10_000,
      leases: leases?.records() ?? new Map(),
      membership: this.#membership ? this.#memberStates : undefined,
      membershipSince: this.#membershipSince,
    });
  }

  async #plan(): Promise<ReconcileResult> {
    const now = this.#o.clock.now();
    this.#liveness = this.#computeLiveness(now);
    const alive = new Set(aliveNodes(this.#liveness));
    const config = this.#config.update({ IPAddressPool: this.#pools.list(), L2Advertisement: this.#ads.list() });
    logVerdicts(this.#log, config.verdicts, this.#verdictsLogged);
    const plan = planL2({
      nodes: this.#nodes.list(),
      services: this.#services.list(),
      endpointSlices: this.#slices.list(),
      pools: config.pools.map((p) => p.pool),
      advertisements: config.l2Advertisements,
      alive,
      ...(this.#o.lbClass !== undefined ? { loadBalancerClass: this.#o.lbClass } : {}),
    });
    this.#lastPlan = plan;

    let ifaces: InterfaceState[] = [];
    try {
      ifaces = await readInterfaces(this.#o.sysfs);
    } catch (err) {
      return retry('readInterfaces', err);
    }
    this.#ifaceSignature = interfaceSignature(ifaces);
    const { perInterface, mine } = this.#assignments(plan, ifaces);
    const failure = await this.#announce(perInterface);
    if (this.#reannounce) {
      this.#reannounce = false;
      for (const a of this.#announcers.values()) a.reannounce();
    }
    this.#diffServices(mine);
    // Statuses of Services we do not touch may still need a janitor (a dead node's).
    for (const st of this.#statuses.list(this.#o.namespace)) {
      const s = st.status;
      if (s?.node === undefined || s.node === this.#o.node || alive.has(s.node)) continue;
      if (s.serviceNamespace && s.serviceName) this.#queue.add(`${STATUS_PREFIX}${s.serviceNamespace}/${s.serviceName}`);
    }
    this.#scheduleRecheck(now);
    if (failure !== undefined) return retry('announce', failure);
    return ok();
  }

  /** This node's share of the plan: IPs per interface, and per Service what it announces. */
  #assignments(plan: L2Plan, ifaces: readonly InterfaceState[]): { perInterface: Map<string, IP[]>; mine: Map<string, Mine> } {
    const perInterface = new Map<string, IP[]>();
    const acc = new Map<string, { ips: string[]; interfaces: Set<string> }>();
    for (const a of assignmentsFor(plan, this.#o.node)) {
      const chosen = chooseInterfaces(ifaces, a.interfaces, { excludedPrefixes: this.#o.excludedInterfacePrefixes });
      if (chosen.use.length === 0) this.#log.warn({ event: 'noInterface', ip: formatIP(a.ip), skipped: chosen.skipped }, 'elected for an IP but no usable interface');
      for (const ifname of chosen.use) perInterface.set(ifname, [...(perInterface.get(ifname) ?? []), a.ip]);
      for (const svc of a.services) {
        const m = acc.get(svc) ?? { ips: [], interfaces: new Set<string>() };
        m.ips.push(formatIP(a.ip));
        for (const i of chosen.use) m.interfaces.add(i);
        acc.set(svc, m);
      }
    }
    const mine = new Map<string, Mine>();
    for (const [svc, m] of acc) mine.set(svc, { ips: m.ips.sort(), interfaces: [...m.interfaces].sort() });
    return { perInterface, mine };
  }

  /** Makes the announcers obey; returns the first failure (the rest still applied). */
  async #announce(perInterface: ReadonlyMap<string, IP[]>): Promise<unknown> {
    let failure: unknown;
    const nowOwned = new Set<string>();
    for (const [ifname, ips] of perInterface) {
      let a = this.#announcers.get(ifname);
      if (!a) {
        a = this.#o.newAnnouncer ? this.#o.newAnnouncer(ifname) : new L2Announcer({ ifname, log: this.#log, clock: this.#o.clock });
        this.#announcers.set(ifname, a);
      }
      try {
        a.setOwned(ips);
      } catch (err) {
        failure ??= err;
      }
      for (const ip of a.owned()) nowOwned.add(ipKey(ip));
    }
    for (const [ifname, a] of this.#announcers) {
      if (perInterface.has(ifname)) continue;
      await a.close();
      this.#announcers.delete(ifname);
    }
    this.#recordOwnership(nowOwned);
    return failure;
  }

  /** Events for Services we start announcing; status work for every Service whose share changed. */
  #diffServices(next: Map<string, Mine>): void {
    for (const svc of new Set<string>([...next.keys(), ...this.#mine.keys()])) {
      const before = this.#mine.get(svc);
      const after = next.get(svc);
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      if (after && !before) this.#announceEvent(svc, after);
      this.#queue.add(`${STATUS_PREFIX}${svc}`);
    }
    this.#mine = next;
  }

  /**
   * Interfaces come and go and lose carrier without any Kubernetes event: look every
   * second, and re-plan on a change. A link that comes back is announced again (the
   * announcer of a down interface was closed; the new one sends a fresh burst).
   */
  #watchInterfaces(): void {
    if (this.#stopping) return;
    this.#ifaceTimer = this.#o.clock.setTimeout(() => {
      this.#join();
      void readInterfaces(this.#o.sysfs)
        .then(async (ifaces) => {
          await this.#checkIpvs(ifaces);
          const sig = interfaceSignature(ifaces);
          if (sig !== this.#ifaceSignature) {
            this.#log.info({ event: 'interfacesChanged' }, 'interfaces changed; re-planning');
            this.#ifaceSignature = sig;
            this.#queue.add(PLAN);
          }
        })
        .catch((err: unknown) => this.#log.warn({ event: 'readInterfacesFailed', err: errorMessage(err) }))
        .finally(() => this.#watchInterfaces());
    }, 1_000);
  }

  /** kube-proxy IPVS without strictARP: warn once per change (log, Event on the Node, Lease annotation for `herald explain`). */
  async #checkIpvs(ifaces: readonly InterfaceState[]): Promise<void> {
    const names = ifaces.map((i) => i.name);
    let hazard: L2Hazard | undefined;
    if (names.includes(KUBE_IPVS_DEVICE)) {
      const announcing = chooseInterfaces(ifaces, 'default', { excludedPrefixes: this.#o.excludedInterfacePrefixes }).use;
      hazard = ipvsArpHazard(names, announcing, await readArpIgnore(announcing, this.#o.ipv4ConfDir));
    }
    if (hazard?.message === this.#l2Hazard?.message) return;
    this.#l2Hazard = hazard;
    this.#leases?.setWarning(hazard?.message);
    if (hazard === undefined) {
      this.#log.info({ event: 'l2HazardCleared' }, 'kube-proxy no longer makes this node answer ARP for LoadBalancer IPs');
      return;
    }
    this.#log.warn({ event: 'l2Hazard', reason: hazard.reason, interfaces: hazard.interfaces }, hazard.message);
    this.#events.record({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.#o.node } }, 'Warning', 'IPVSStrictARPOff', hazard.message);
  }

  #recordOwnership(nowOwned: Set<string>): void {
    let gained = 0;
    let lost = 0;
    for (const k of nowOwned) if (!this.#owned.has(k)) gained++;
    for (const k of this.#owned) if (!nowOwned.has(k)) lost++;
    if (gained) this.#o.metrics.ownershipChanges.labels('gained').inc(gained);
    if (lost) this.#o.metrics.ownershipChanges.labels('lost').inc(lost);
    if (gained || lost) this.#log.info({ event: 'ownership', gained, lost, owned: nowOwned.size }, 'ownership changed');
    this.#owned = nowOwned;
  }

  #announceEvent(svcKey: string, m: Mine): void {
    const [namespace, name] = svcKey.split('/') as [string, string];
    const svc = this.#services.get(namespace, name);
    if (!svc?.metadata?.name) return;
    this.#events.record(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: svc.metadata.name, namespace, uid: svc.metadata.uid } },
      'Normal',
      'nodeAssigned',
      `announcing ${m.ips.join(', ')} from node "${this.#o.node}" with protocol "layer2" on ${m.interfaces.join(', ') || 'no interface'}`,
    );
  }

  /** A Lease expires by not changing: look again when the first one would. */
  #scheduleRecheck(now: number): void {
    if (this.#recheck) this.#o.clock.clearTimeout(this.#recheck);
    const leases = this.#leases;
    let next = leases?.nextExpiry();
    if (leases?.renewedAt !== undefined) {
      const self = leases.renewedAt + leases.durationMs;
      next = next === undefined ? self : Math.min(next, self);
    }
    if (next === undefined) return;
    this.#recheck = this.#o.clock.setTimeout(() => this.#queue.add(PLAN), Math.max(50, next - now + 10));
  }

  // ---- status -------------------------------------------------------------------------

  async #reconcileStatus(svcKey: string): Promise<ReconcileResult> {
    const [namespace, name] = svcKey.split('/') as [string, string];
    const want = this.#mine.get(svcKey);
    const plural = ServiceL2StatusKind.plural;
    const ns = this.#o.namespace;
    const ownName = l2StatusName(namespace, name, this.#o.node);
    try {
      const have = this.#statuses.get(ns, ownName);
      if (want && !this.#stopping) {
        const status = { node: this.#o.node, serviceName: name, serviceNamespace: namespace, interfaces: want.interfaces.map((i) => ({ name: i })) };
        if (!have) await this.#createStatus(ownName, namespace, name);
        if (JSON.stringify(have?.status ?? null) !== JSON.stringify(status)) {
          await this.#custom.patchNamespacedCustomObjectStatus(
            { group: GROUP, version: VERSION, namespace: ns, plural, name: ownName, body: { status } },
            mergePatch(),
          );
          this.#o.metrics.statusWrites.labels('status', 'ok').inc();
        }
      } else if (have) {
        await this.#deleteStatus(ownName);
      }
      if (want) await this.#cleanDeadStatuses(namespace, name);
      return ok();
    } catch (err) {
      this.#o.metrics.statusWrites.labels('any', 'error').inc();
      return retry('l2status', err);
    }
  }

  async #createStatus(objName: string, svcNamespace: string, svcName: string): Promise<void> {
    const ns = this.#o.namespace;
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: ServiceL2StatusKind.kind,
      metadata: { name: objName, namespace: ns, labels: { [L2STATUS_NODE_LABEL]: nodeLabel(this.#o.node), [L2STATUS_SERVICE_LABEL]: svcName, [L2STATUS_NAMESPACE_LABEL]: svcNamespace } },
      spec: {},
    };
    try {
      await this.#custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: ServiceL2StatusKind.plural, body });
      this.#o.metrics.statusWrites.labels('create', 'ok').inc();
    } catch (err) {
      // Created by our previous run, before our cache saw it.
      if (!isConflict(err)) throw err;
    }
  }

  /**
   * Janitor: statuses of this Service left by speakers that are no longer alive (a SIGKILL
   * leaves them behind). Only the Service's current owner cleans, so that one speaker, not
   * all, writes.
   */
  async #cleanDeadStatuses(namespace: string, name: string): Promise<void> {
    for (const st of this.#statuses.list(this.#o.namespace)) {
      const s = st.status;
      if (s?.serviceNamespace !== namespace || s.serviceName !== name || s.node === undefined || s.node === this.#o.node) continue;
      if (!this.#liveness.get(s.node)?.alive && st.metadata?.name) await this.#deleteStatus(st.metadata.name);
    }
  }

  async #deleteStatus(name: string): Promise<void> {
    try {
      await this.#custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.#o.namespace, plural: ServiceL2StatusKind.plural, name });
      this.#o.metrics.statusWrites.labels('delete', 'ok').inc();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #deleteOwnStatuses(): Promise<void> {
    const own = this.#statuses.list(this.#o.namespace).filter((s) => s.status?.node === this.#o.node);
    await Promise.all(
      own.map(async (s) => {
        try {
          if (s.metadata?.name) await this.#deleteStatus(s.metadata.name);
        } catch (err) {
          this.#log.warn({ event: 'statusCleanupFailed', name: s.metadata?.name, err: errorMessage(err) });
        }
      }),
    );
  }

  // ---- metrics ------------------------------------------------------------------------

  /** Copies the announcers' and membership's counters into the metrics; call before each scrape. */
  refreshMetrics(): void {
    this.#bgp.refreshMetrics();
    const m = this.#o.metrics;
    m.requestsAnswered.reset();
    m.gratuitousSent.reset();
    m.framesDropped.reset();
    for (const [ifname, a] of this.#announcers) {
      const s = a.stats();
      for (const p of ['arp', 'ndp'] as const) {
        m.requestsAnswered.labels(p, ifname).set(s.answered[p]);
        m.gratuitousSent.labels(p, ifname).set(s.gratuitousSent[p]);
        for (const [reason, n] of Object.entries(s.dropped[p])) m.framesDropped.labels(p, reason).inc(n);
      }
    }
    m.ownedIPs.set(this.#owned.size);
    let alive = 0;
    for (const l of this.#liveness.values()) if (l.alive) alive++;
    m.members.labels('alive').set(alive);
    m.members.labels('notAlive').set(this.#liveness.size - alive);
    m.membershipUp.set(this.#membership && !this.#stopped ? 1 : 0);
    m.gossipDropped.reset();
    const dropped = this.#membership?.swim.counters.dropped;
    if (dropped) for (const [reason, n] of Object.entries(dropped)) m.gossipDropped.labels(reason).set(n);
  }

  /** The last plan, for diagnostics and tests. */
  lastPlan(): L2Plan | undefined {
    return this.#lastPlan;
  }

  /** Liveness as of the last plan. */
  liveness(): ReadonlyMap<string, Liveness> {
    return this.#liveness;
  }
}

/** client-node 1.x sends patches as JSON Patch unless told otherwise. */
function mergePatch(): ReturnType<typeof setHeaderOptions> {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}
