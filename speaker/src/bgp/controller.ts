/**
 * The speaker's BGP mode: informers in, BGP sessions (bgp-speaker-lite), BFD, and status out.
 *
 * Reconciled from current state through one keyed queue, like the L2 half:
 *   `bgp`              plan (pure: ./plan.ts), then make the sessions and their Adj-RIB-Outs obey
 *   `svc:NS/NAME`      this node's ServiceBGPStatus for one Service
 *   `session:PEER`     this node's BGPSessionState for one BGPPeer
 * Session state changes only enqueue `session:PEER`; writes are coalesced by the queue.
 *
 * Passwords are read with a GET of the one Secret a BGPPeer names (never listed or watched,
 * so RBAC can stay at `get`), and never logged: only a hash enters the session fingerprint.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from '@kubernetes/client-node';
import { BgpPeer, bfd, type BgpPeerOptions, type PeerDown } from 'bgp-speaker-lite';
import {
  BFDProfileKind,
  BGPAdvertisementKind,
  BGPPeerKind,
  BGPSessionStateKind,
  CommunityKind,
  GROUP,
  ServiceBGPStatusKind,
  VERSION,
  type BFDState,
  type BGPState,
} from '@herald/shared/api';
import { ConfigTracker } from '@herald/shared/config';
import { errorMessage, isConflict, isNotFound, type Clock, type Logger, type TimerHandle } from '@herald/shared/core';
import { EventRecorder, WorkQueue, createInformer, ok, retry, type Informer, type ReconcileResult } from '@herald/shared/kube';
import { planBgp, type BgpPlan } from './plan.js';
import { fingerprint, liteRoutes, nodeAddresses, sessionConfig, type SessionConfig } from './session-config.js';
import type { BgpMetrics } from './metrics.js';
import { logVerdicts } from '../config-log.js';

type CustomObject = KubernetesObject & { spec?: unknown; status?: Record<string, unknown> };

/** What the controller needs from the L2 half's caches (shared, not duplicated). */
export interface SharedInformers {
  readonly nodes: Informer<V1Node>;
  readonly services: Informer<V1Service>;
  readonly slices: Informer<V1EndpointSlice>;
  readonly pools: Informer<CustomObject>;
}

/** The native socket options bgp-speaker-lite cannot set itself (TCP MD5, TTL, GTSM). */
export type SocketSecurity = NonNullable<BgpPeerOptions['socketSecurity']>;

export interface BgpControllerOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly node: string;
  readonly lbClass?: string | undefined;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: BgpMetrics;
  readonly events: EventRecorder;
  readonly informers: SharedInformers;
  readonly socketSecurity?: SocketSecurity;
  /** RFC 8326: how long routes carry GRACEFUL_SHUTDOWN before they are withdrawn on SIGTERM. Default 2 s. */
  readonly gracefulShutdownMs?: number;
  /** Graceful restart time advertised (RFC 4724 §3). Default 120 s. */
  readonly restartTimeSec?: number;
}

export const BGP_NODE_LABEL = 'herald.io/node';
export const BGP_PEER_LABEL = 'herald.io/peer';
export const BGP_SERVICE_LABEL = 'herald.io/service-name';
export const BGP_NAMESPACE_LABEL = 'herald.io/service-namespace';
const PLAN = 'bgp';
const SVC = 'svc:';
const SESSION = 'session:';

const hash20 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 20);
/** Stable names, so a restarted speaker finds its own objects. */
export const sessionStateName = (node: string, peer: string): string => `bgp-${hash20(`${node}/${peer}`)}`;
export const serviceBgpStatusName = (namespace: string, name: string, node: string): string => `bgp-${hash20(`${namespace}/${name}/${node}`)}`;
const labelValue = (v: string): string => (v.length <= 63 ? v : createHash('sha256').update(v).digest('hex').slice(0, 63));

interface Session {
  readonly cfg: SessionConfig;
  readonly fp: string;
  readonly peer: BgpPeer;
  bfdSession: bfd.BfdUdpSession | undefined;
  bfdState: BFDState;
  establishedSince: string | undefined;
  lastError: string | undefined;
  prefixes: number;
}


function describeDown(d: PeerDown): string {
  const n = d.notification;
  return n === undefined ? `${d.reason} (from ${d.from})` : `${d.reason}: NOTIFICATION ${n.code}/${n.subcode} (from ${d.from})`;
}

export class BgpController {
  readonly #o: BgpControllerOptions;
  readonly #log: Logger;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #peers: Informer<CustomObject>;
  readonly #ads: Informer<CustomObject>;
  readonly #bfdProfiles: Informer<CustomObject>;
  readonly #communities: Informer<CustomObject>;
  readonly #sessionStates: Informer<CustomObject>;
  readonly #svcStatuses: Informer<CustomObject>;
  readonly #queue: WorkQueue;
  readonly #sessions = new Map<string, Session>();
  /** Peers of the plan that have no session, with why (e.g. the password Secret cannot be read). */
  readonly #sessionErrors = new Map<string, string>();
  /** BFD receive sockets by mode and local address. */
  readonly #bfd = new Map<string, Promise<bfd.BfdUdp>>();
  #nextDiscriminator = 1;
  #plan: BgpPlan | undefined;
  /** BGP configuration in force: an invalid edit keeps the last good version (shared/config). */
  readonly #config = new ConfigTracker();
  readonly #verdictsLogged = new Map<string, string>();
  #reported = new Set<string>();
  #secretTimer: TimerHandle | undefined;
  #synced = false;
  #stopping = false;

  constructor(opts: BgpControllerOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ component: 'bgp' });
    this.#core = opts.kc.makeApiClient(CoreV1Api);
    this.#custom = opts.kc.makeApiClient(CustomObjectsApi);
    const common = { log: this.#log, clock: opts.clock };
    const ns = opts.namespace;
    const custom = (plural: string, labelSelector?: string): Informer<CustomObject> =>
      createInformer<CustomObject>(opts.kc, {
        ...common,
        path: `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}`,
        ...(labelSelector !== undefined ? { labelSelector } : {}),
        list: (sel) => this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural, ...sel }),
      });
    this.#peers = custom(BGPPeerKind.plural);
    this.#ads = custom(BGPAdvertisementKind.plural);
    this.#bfdProfiles = custom(BFDProfileKind.plural);
    this.#communities = custom(CommunityKind.plural);
    const mine = `${BGP_NODE_LABEL}=${labelValue(opts.node)}`;
    this.#sessionStates = custom(BGPSessionStateKind.plural, mine);
    this.#svcStatuses = custom(ServiceBGPStatusKind.plural, mine);
    this.#queue = new WorkQueue({ clock: opts.clock, log: this.#log, name: 'bgp', baseDelayMs: 50, maxDelayMs: 10_000 });
  }

  /** Caches synced and the first plan applied. */
  get ready(): boolean {
    return this.#synced && this.#plan !== undefined && !this.#stopping;
  }

  /** The last plan (diagnostics, tests). */
  lastPlan(): BgpPlan | undefined {
    return this.#plan;
  }

  /** Session states by BGPPeer name. */
  sessionStates(): Map<string, { state: string; prefixes: number; bfd: BFDState }> {
    return new Map([...this.#sessions].map(([k, s]) => [k, { state: s.peer.state, prefixes: s.prefixes, bfd: s.bfdState }]));
  }

  async start(): Promise<void> {
    const plan = (): void => this.#queue.add(PLAN);
    const i = this.#o.informers;
    for (const inf of [i.nodes, i.services, i.slices, i.pools]) inf.onChange(plan);
    for (const inf of [this.#peers, this.#ads, this.#bfdProfiles, this.#communities]) inf.onChange(plan);
    await Promise.all([this.#peers.start(), this.#ads.start(), this.#bfdProfiles.start(), this.#communities.start(), this.#sessionStates.start(), this.#svcStatuses.start()]);
    this.#synced = true;
    this.#queue.start((key) => this.#reconcile(key), { workers: 2 });
    plan();
    this.#recheckSecrets();
  }

  /**
   * Stops every session: RFC 8326 graceful shutdown (routes re-advertised with the
   * GRACEFUL_SHUTDOWN community so routers move traffic away first), withdraw, then Cease with
   * an RFC 8203 message. With `deleteStatus`, removes this node's status objects.
   */
  async stop(opts: { graceful: boolean }): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#secretTimer) this.#o.clock.clearTimeout(this.#secretTimer);
    await this.#queue.shutdown();
    const waitMs = opts.graceful ? (this.#o.gracefulShutdownMs ?? 2_000) : 0;
    await Promise.all(
      [...this.#sessions.values()].map((s) =>
        this.#closeSession(s, `herald speaker on ${this.#o.node} shutting down`, waitMs).catch((err: unknown) =>
          this.#log.warn({ event: 'bgpShutdownFailed', peer: s.cfg.name, err: errorMessage(err) }, 'graceful shutdown failed'),
        ),
      ),
    );
    this.#sessions.clear();
    for (const p of this.#bfd.values()) await p.then((b) => b.close()).catch(() => undefined);
    this.#bfd.clear();
    if (opts.graceful) await this.#deleteOwnObjects();
    for (const inf of [this.#peers, this.#ads, this.#bfdProfiles, this.#communities, this.#sessionStates, this.#svcStatuses]) inf.stop();
  }

  /** Copies session counters into the metrics; call before each scrape. */
  refreshMetrics(): void {
    const m = this.#o.metrics;
    m.sessionUp.reset();
    m.updatesSent.reset();
    m.prefixesAnnounced.reset();
    m.bfdUp.reset();
    for (const [name, s] of this.#sessions) {
      m.sessionUp.labels(name, s.cfg.peerAddress).set(s.peer.state === 'Established' ? 1 : 0);
      m.updatesSent.labels(name, s.cfg.peerAddress).set(s.peer.counters.updatesSent);
      m.prefixesAnnounced.labels(name, s.cfg.peerAddress).set(s.peer.state === 'Established' ? s.prefixes : 0);
      if (s.cfg.bfd) m.bfdUp.labels(name, s.cfg.peerAddress).set(s.bfdState === 'Up' ? 1 : 0);
    }
  }

  // ---- reconcile ----------------------------------------------------------------------

  async #reconcile(key: string): Promise<ReconcileResult> {
    if (this.#stopping) return ok();
    if (key === PLAN) return this.#apply();
    if (key.startsWith(SVC)) return this.#reconcileServiceStatus(key.slice(SVC.length));
    if (key.startsWith(SESSION)) return this.#reconcileSessionState(key.slice(SESSION.length));
    return ok();
  }

  async #apply(): Promise<ReconcileResult> {
    const i = this.#o.informers;
    const config = this.#config.update({
      IPAddressPool: i.pools.list(),
      BGPAdvertisement: this.#ads.list(),
      BGPPeer: this.#peers.list(),
      BFDProfile: this.#bfdProfiles.list(),
      Community: this.#communities.list(),
    });
    logVerdicts(this.#log, config.verdicts, this.#verdictsLogged);
    const plan = planBgp({
      node: this.#o.node,
      nodes: i.nodes.list(),
      services: i.services.list(),
      endpointSlices: i.slices.list(),
      pools: config.pools.map((p) => p.pool),
      advertisements: config.bgpAdvertisements,
      peers: config.bgpPeers,
      bfdProfiles: config.bfdProfiles,
      communities: config.communities,
      ...(this.#o.lbClass !== undefined ? { loadBalancerClass: this.#o.lbClass } : {}),
    });
    const previous = this.#plan;
    this.#plan = plan;
    this.#reportProblems(plan);
    const failure = await this.#reconcileSessions(plan);
    this.#diffServices(previous, plan);
    if (failure !== undefined) return retry('bgp', failure);
    return ok();
  }

  /** Makes the sessions match the plan; returns the first failure (the rest still applied). */
  async #reconcileSessions(plan: BgpPlan): Promise<unknown> {
    const addresses = nodeAddresses(this.#o.informers.nodes.get(undefined, this.#o.node));
    let failure: unknown;

    // Sessions gone or changed: close (Cease), and forget their status objects.
    for (const name of this.#sessionErrors.keys()) if (!plan.sessions.has(name)) this.#sessionErrors.delete(name);
    for (const [name, s] of this.#sessions) {
      if (plan.sessions.has(name)) continue;
      this.#sessions.delete(name);
      void this.#closeSession(s, 'BGPPeer removed', 0);
      this.#queue.add(`${SESSION}${name}`);
    }
    for (const [name, sp] of plan.sessions) {
      const cfg = sessionConfig(sp, { node: this.#o.node, addresses });
      let password: string | undefined;
      try {
        password = await this.#password(sp.spec);
        this.#sessionErrors.delete(name);
      } catch (err) {
        // Keep a running session (its password has not changed as far as we know); report why.
        const why = `cannot read the password: ${errorMessage(err)}`;
        if (this.#sessionErrors.get(name) !== why) this.#log.warn({ event: 'bgpPasswordUnavailable', peer: name, err: errorMessage(err) }, 'cannot read the BGPPeer password Secret');
        this.#sessionErrors.set(name, why);
        this.#queue.add(`${SESSION}${name}`);
        failure ??= err;
        continue;
      }
      const fp = fingerprint(cfg, password);
      let s = this.#sessions.get(name);
      let carry: { bfdSession: bfd.BfdUdpSession; bfdState: BFDState } | undefined;
      if (s !== undefined && s.fp !== fp) {
        this.#log.info({ event: 'bgpSessionChanged', peer: name }, 'BGPPeer or its password changed: restarting the session');
        this.#sessions.delete(name);
        // BFD unchanged: keep it running, so the router does not see a BFD Down and drop the
        // new BGP session as it comes up (RFC 5882).
        const bfdSession = s.bfdSession !== undefined && JSON.stringify(s.cfg.bfd) === JSON.stringify(cfg.bfd) && s.cfg.peerAddress === cfg.peerAddress ? s.bfdSession : undefined;
        carry = bfdSession === undefined ? undefined : { bfdSession, bfdState: s.bfdState };
        await this.#closeSession(s, 'configuration changed', 0, carry !== undefined);
        s = undefined;
      }
      if (s === undefined) {
        try {
          s = await this.#openSession(cfg, fp, password, carry);
        } catch (err) {
          failure ??= err;
          continue;
        }
      }
      const routes = liteRoutes(plan.routes.get(name) ?? [], cfg.nextHops);
      try {
        s.peer.setRoutes(routes);
        s.prefixes = routes.length;
      } catch (err) {
        this.#log.warn({ event: 'bgpRoutesRejected', peer: name, err: errorMessage(err) }, 'routes rejected');
      }
      this.#queue.add(`${SESSION}${name}`);
    }
    return failure;
  }

  /** Status work and Events for Services whose announcement changed. */
  #diffServices(previous: BgpPlan | undefined, plan: BgpPlan): void {
    // Service statuses and Events for what changed.
    const before = previous?.services ?? new Map<string, readonly string[]>();
    for (const svc of new Set([...before.keys(), ...plan.services.keys()])) {
      const a = before.get(svc);
      const b = plan.services.get(svc);
      if (JSON.stringify(a) === JSON.stringify(b)) continue;
      if (b !== undefined && a === undefined) this.#serviceEvent(svc, plan);
      this.#queue.add(`${SVC}${svc}`);
    }
    // Statuses left by an earlier run for Services we no longer announce.
    for (const st of this.#svcStatuses.list(this.#o.namespace)) {
      const s = st.status as { serviceNamespace?: string; serviceName?: string } | undefined;
      if (s?.serviceNamespace && s.serviceName && !plan.services.has(`${s.serviceNamespace}/${s.serviceName}`)) this.#queue.add(`${SVC}${s.serviceNamespace}/${s.serviceName}`);
    }
  }

  async #password(spec: { password?: string | undefined; passwordSecret?: { name?: string | undefined } | undefined }): Promise<string | undefined> {
    if (spec.password !== undefined) return spec.password;
    const name = spec.passwordSecret?.name;
    if (name === undefined) return undefined;
    const secret = await this.#core.readNamespacedSecret({ namespace: this.#o.namespace, name });
    const b64 = secret.data?.['password'];
    if (b64 === undefined) throw new Error(`Secret ${this.#o.namespace}/${name} has no "password" key`);
    return Buffer.from(b64, 'base64').toString('utf8');
  }

  /** Secrets are not watched (RBAC `get` only): look again every 30 s, so a rotated password applies. */
  #recheckSecrets(): void {
    if (this.#stopping) return;
    this.#secretTimer = this.#o.clock.setTimeout(() => {
      if ([...this.#peers.list()].some((p) => (p.spec as { passwordSecret?: unknown } | undefined)?.passwordSecret !== undefined)) this.#queue.add(PLAN);
      this.#recheckSecrets();
    }, 30_000);
  }

  async #openSession(cfg: SessionConfig, fp: string, password: string | undefined, carry?: { bfdSession: bfd.BfdUdpSession; bfdState: BFDState }): Promise<Session> {
    const peer = new BgpPeer({
      localAsn: cfg.localAsn,
      // dynamicASN: accept the AS the peer's OPEN carries (internal: ours; external: any other).
      peerAsn: cfg.peerAsn ?? cfg.dynamicAsn ?? 'external',
      peerAddress: cfg.peerAddress,
      port: cfg.port,
      ...(cfg.localAddress !== undefined ? { localAddress: cfg.localAddress } : {}),
      routerId: cfg.routerId,
      holdTimeSec: cfg.holdTimeSec,
      families: cfg.families,
      ...(cfg.connectRetryMaxMs !== undefined ? { connectRetryMaxMs: cfg.connectRetryMaxMs } : {}),
      connectRetryMs: 1_000,
      ttl: cfg.ttl,
      ...(password !== undefined ? { password } : {}),
      ...(this.#o.socketSecurity ? { socketSecurity: this.#o.socketSecurity } : {}),
      ...(cfg.gracefulRestart ? { gracefulRestart: { restartTimeSec: this.#o.restartTimeSec ?? 120 } } : {}),
      clock: this.#o.clock,
      log: this.#log,
    });
    const s: Session = { cfg, fp, peer, bfdSession: undefined, bfdState: cfg.bfd ? 'Down' : 'N/A', establishedSince: undefined, lastError: undefined, prefixes: 0 };
    const name = cfg.name;
    peer.on('established', () => {
      s.establishedSince = new Date(this.#o.clock.now()).toISOString();
      s.lastError = undefined;
      this.#queue.add(`${SESSION}${name}`);
    });
    peer.on('down', (d) => {
      s.establishedSince = undefined;
      s.lastError = describeDown(d);
      this.#o.metrics.sessionDowns.labels(name, d.reason).inc();
      this.#queue.add(`${SESSION}${name}`);
    });
    peer.on('state', () => this.#queue.add(`${SESSION}${name}`));
    this.#sessions.set(name, s);
    peer.start();
    if (carry !== undefined) {
      s.bfdSession = carry.bfdSession;
      s.bfdState = carry.bfdState;
    } else if (cfg.bfd) {
      try {
        await this.#startBfd(s);
      } catch (err) {
        // BGP runs without BFD rather than not at all; the hold timer still detects failures.
        s.lastError = `BFD not running: ${errorMessage(err)}`;
        this.#log.warn({ event: 'bfdFailed', peer: name, err: errorMessage(err) }, 'cannot start BFD; the session runs on its hold timer alone');
      }
    }
    this.#log.info({ event: 'bgpSessionOpened', peer: name, address: cfg.peerAddress, bfd: cfg.bfd !== undefined }, 'BGP session configured');
    return s;
  }

  async #startBfd(s: Session): Promise<void> {
    const b = s.cfg.bfd;
    if (b === undefined) return;
    const key = `${b.mode}/${b.localAddress}`;
    let udp = this.#bfd.get(key);
    if (udp === undefined) {
      udp = bfd.BfdUdp.open({ mode: b.mode, localAddress: b.localAddress, clock: this.#o.clock, onError: () => undefined });
      this.#bfd.set(key, udp);
      udp.catch(() => this.#bfd.delete(key));
    }
    const name = s.cfg.name;
    const session = await (
      await udp
    ).addSession({
      peerAddress: s.cfg.peerAddress,
      config: { localDiscriminator: this.#nextDiscriminator++, desiredMinTxUs: b.desiredMinTxUs, requiredMinRxUs: b.requiredMinRxUs, detectMult: b.detectMult, passive: b.passive },
      // The BGP session this BFD session serves now: it outlives BGP sessions restarted for a
      // configuration change that left BFD as it was (see #reconcileSessions).
      onUp: () => {
        const cur = this.#sessions.get(name);
        if (cur?.bfdSession === undefined) return;
        cur.bfdState = 'Up';
        this.#log.info({ event: 'bfdUp', peer: name }, 'BFD up');
        this.#queue.add(`${SESSION}${name}`);
      },
      onDown: (diag) => {
        const cur = this.#sessions.get(name);
        if (cur?.bfdSession === undefined) return;
        const wasUp = cur.bfdState === 'Up';
        cur.bfdState = 'Down';
        this.#log.warn({ event: 'bfdDown', peer: name, diag }, 'BFD down');
        // RFC 5882 §3.2: a BFD Down is a forwarding-path failure; take BGP down at once
        // rather than wait for the hold timer.
        if (wasUp) cur.peer.bfdDown();
        this.#queue.add(`${SESSION}${name}`);
      },
    });
    s.bfdSession = session;
  }

  async #closeSession(s: Session, message: string, gracefulWaitMs: number, keepBfd = false): Promise<void> {
    // BFD runs until BGP is closed: a router that sees BFD go Down first tears the session
    // down at once (RFC 5882 §3.2), before the graceful shutdown (RFC 8326) has moved traffic.
    try {
      await s.peer.shutdown({ message, gracefulWaitMs });
    } finally {
      const b = s.bfdSession;
      s.bfdSession = undefined;
      if (b && !keepBfd) await b.close().catch(() => undefined);
    }
  }

  #reportProblems(plan: BgpPlan): void {
    const now = new Set<string>();
    for (const p of plan.problems) {
      const key = `${p.kind}/${p.name}/${p.reason}/${p.message}`;
      now.add(key);
      if (this.#reported.has(key)) continue;
      this.#log.warn({ event: 'bgpConfigProblem', kind: p.kind, name: p.name, reason: p.reason }, p.message);
      const inf = p.kind === 'BGPPeer' ? this.#peers : this.#ads;
      const obj = inf.get(this.#o.namespace, p.name);
      if (obj?.metadata?.name) {
        this.#o.events.record({ apiVersion: `${GROUP}/${VERSION}`, kind: p.kind, metadata: { name: obj.metadata.name, namespace: this.#o.namespace, uid: obj.metadata.uid } }, 'Warning', p.reason, p.message);
      }
    }
    this.#reported = now;
  }

  #serviceEvent(svcKey: string, plan: BgpPlan): void {
    const [namespace, name] = svcKey.split('/') as [string, string];
    const svc = this.#o.informers.services.get(namespace, name);
    if (!svc?.metadata?.name) return;
    const peers = plan.services.get(svcKey) ?? [];
    this.#o.events.record(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: svc.metadata.name, namespace, uid: svc.metadata.uid } },
      'Normal',
      'nodeAssigned',
      `announcing from node "${this.#o.node}" with protocol "bgp" to peers ${peers.join(', ')}`,
    );
  }

  // ---- status objects -------------------------------------------------------------------

  async #upsert(plural: string, kind: string, objName: string, labels: Record<string, string>, status: Record<string, unknown>): Promise<void> {
    const ns = this.#o.namespace;
    const informer = plural === BGPSessionStateKind.plural ? this.#sessionStates : this.#svcStatuses;
    const have = informer.get(ns, objName);
    if (have === undefined) {
      try {
        await this.#custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural, body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name: objName, namespace: ns, labels }, spec: {} } });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    if (JSON.stringify(have?.status ?? null) === JSON.stringify(status)) return;
    // A merge patch cannot remove keys it does not mention: send null for those that went away.
    const body: Record<string, unknown> = { ...status };
    for (const k of Object.keys(have?.status ?? {})) if (!(k in status)) body[k] = null;
    await this.#custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: ns, plural, name: objName, body: { status: body } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  async #delete(plural: string, objName: string): Promise<void> {
    try {
      await this.#custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.#o.namespace, plural, name: objName });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #reconcileSessionState(peerName: string): Promise<ReconcileResult> {
    const objName = sessionStateName(this.#o.node, peerName);
    const s = this.#sessions.get(peerName);
    try {
      const labels = { [BGP_NODE_LABEL]: labelValue(this.#o.node), [BGP_PEER_LABEL]: labelValue(peerName) };
      if (s === undefined) {
        const error = this.#sessionErrors.get(peerName);
        const peerAddress = this.#plan?.sessions.get(peerName)?.spec.peerAddress;
        if (error !== undefined && peerAddress !== undefined) {
          await this.#upsert(BGPSessionStateKind.plural, BGPSessionStateKind.kind, objName, labels, { node: this.#o.node, peer: peerAddress, bgpStatus: 'Idle', bfdStatus: 'N/A', prefixesSent: 0, lastError: error.slice(0, 1024) });
        } else if (this.#sessionStates.get(this.#o.namespace, objName) !== undefined) await this.#delete(BGPSessionStateKind.plural, objName);
        return ok();
      }
      const state = s.peer.state as BGPState;
      const status: Record<string, unknown> = {
        node: this.#o.node,
        peer: s.cfg.peerAddress,
        bgpStatus: state,
        bfdStatus: s.bfdState,
        ...(state === 'Established' && s.establishedSince !== undefined ? { establishedSince: s.establishedSince } : {}),
        prefixesSent: state === 'Established' ? s.prefixes : 0,
        ...(s.lastError !== undefined ? { lastError: s.lastError.slice(0, 1024) } : {}),
      };
      await this.#upsert(BGPSessionStateKind.plural, BGPSessionStateKind.kind, objName, labels, status);
      return ok();
    } catch (err) {
      return retry('bgpSessionState', err);
    }
  }

  async #reconcileServiceStatus(svcKey: string): Promise<ReconcileResult> {
    const [namespace, name] = svcKey.split('/') as [string, string];
    const objName = serviceBgpStatusName(namespace, name, this.#o.node);
    const peers = this.#plan?.services.get(svcKey);
    try {
      if (peers === undefined || peers.length === 0) {
        if (this.#svcStatuses.get(this.#o.namespace, objName) !== undefined) await this.#delete(ServiceBGPStatusKind.plural, objName);
        return ok();
      }
      await this.#upsert(
        ServiceBGPStatusKind.plural,
        ServiceBGPStatusKind.kind,
        objName,
        { [BGP_NODE_LABEL]: labelValue(this.#o.node), [BGP_SERVICE_LABEL]: labelValue(name), [BGP_NAMESPACE_LABEL]: namespace },
        { node: this.#o.node, serviceName: name, serviceNamespace: namespace, peers: [...peers] },
      );
      return ok();
    } catch (err) {
      return retry('serviceBgpStatus', err);
    }
  }

  async #deleteOwnObjects(): Promise<void> {
    const jobs: Array<Promise<void>> = [];
    for (const [inf, plural] of [
      [this.#sessionStates, BGPSessionStateKind.plural],
      [this.#svcStatuses, ServiceBGPStatusKind.plural],
    ] as const) {
      for (const o of inf.list(this.#o.namespace)) if (o.metadata?.name) jobs.push(this.#delete(plural, o.metadata.name).catch(() => undefined));
    }
    await Promise.all(jobs);
  }
}
