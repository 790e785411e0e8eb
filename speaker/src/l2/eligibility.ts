/**
 * Who may announce each LoadBalancer IP over L2, and who does. Pure: informer
 * objects go in (through the small converters below), reasons and owners come
 * out; no I/O, no clock, and the result does not depend on input order.
 *
 * For each IP in a Service's status: find its pool, the L2Advertisements that
 * select that pool, then for every known node the first rule it fails
 * ({@link NodeReason}, in a fixed order), and for the IP as a whole why nobody
 * may announce it ({@link IPReason}). {@link planL2} hands the eligible sets to
 * {@link electOwners}, one candidate per (IP, Service), so Services that share
 * an IP are intersected and get one owner.
 */
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool, L2Advertisement } from '@herald/shared/api';
import { HeraldError } from '@herald/shared/core';
import { ipKey, isAddressParseError, parseIP, parsePoolAddress, rangeContains } from '@herald/shared/ip';
import type { IP, IPRange } from '@herald/shared/ip';
import { anySelectorMatches } from '@herald/shared/labels';
import type { Labels } from '@herald/shared/labels';
import { electOwners } from './election.js';
import type { Candidate, OwnerReason } from './election.js';
import type { AllowedInterfaces } from './interfaces.js';

/** Written by the controller (its `ANN_ALLOCATED_FROM`): the pool the Service's IPs came from. */
export const POOL_ANNOTATION = 'herald.io/ip-allocated-from-pool';
/** Well-known node label: any value keeps the node out of external load balancing. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** Well-known EndpointSlice label naming the slice's Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Why one node may not announce one IP. The first that applies, checked in this order. */
export type NodeReason =
  /** A speaker is alive there but the Node object does not exist (yet, or any more). */
  | 'nodeNotFound'
  /** Node condition NetworkUnavailable is "True": its routes are not set up. */
  | 'networkUnavailable'
  /** The node carries `node.kubernetes.io/exclude-from-external-load-balancers`. */
  | 'excludedByLabel'
  /** No L2Advertisement that selects the IP's pool selects the node. */
  | 'notSelectedByAdvertisement'
  /** The node's speaker is not in the alive set. */
  | 'speakerNotAlive'
  /** `externalTrafficPolicy: Local` and the node has no ready or serving endpoint of the Service. */
  | 'noLocalEndpoint'
  /** No Service of the IP has a ready or serving endpoint anywhere. */
  | 'noServingEndpoints';

/** Order in which node rules are checked; a node is reported with the first it fails. */
export const NODE_REASONS: readonly NodeReason[] = [
  'nodeNotFound',
  'networkUnavailable',
  'excludedByLabel',
  'notSelectedByAdvertisement',
  'speakerNotAlive',
  'noLocalEndpoint',
  'noServingEndpoints',
];

/** Why nobody announces an IP. */
export type IPReason =
  /** No pool contains the IP: not Herald's to announce. */
  | 'notInAnyPool'
  /** No L2Advertisement selects the IP's pool (it may be announced by BGP only). */
  | 'noL2Advertisement'
  /** L2Advertisements select the IP's pool, but the serviceSelectors of each match none of its Services. */
  | 'serviceNotSelected'
  /** None of the IP's Services has a ready or serving endpoint anywhere. */
  | 'noServingEndpoints'
  /** Every known node fails some rule (see `excluded`). */
  | 'noEligibleNode';

/** A Node as eligibility reads it. */
export interface NodeView {
  readonly name: string;
  readonly labels: Labels;
  /** Condition NetworkUnavailable has status "True". */
  readonly networkUnavailable: boolean;
}

export type TrafficPolicy = 'Cluster' | 'Local';

/** A Service as eligibility reads it. */
export interface ServiceView {
  /** `namespace/name`. */
  readonly key: string;
  /** spec.type is LoadBalancer. */
  readonly loadBalancer: boolean;
  readonly loadBalancerClass: string | undefined;
  /** metadata.deletionTimestamp is set. */
  readonly deleting: boolean;
  /** spec.externalTrafficPolicy; absent means Cluster. */
  readonly trafficPolicy: TrafficPolicy;
  /** The {@link POOL_ANNOTATION} value, if any. */
  readonly allocatedFrom: string | undefined;
  /** metadata.labels (L2Advertisement.serviceSelectors). */
  readonly labels?: Labels | undefined;
  /** status.loadBalancer.ingress[].ip, parsed, without duplicates (hostname-only entries are dropped). */
  readonly ips: readonly IP[];
}

/** What the EndpointSlices of one Service say. */
export interface ServiceEndpoints {
  /** Some endpoint, on any node or none, is ready or serving. */
  readonly serving: boolean;
  /** Nodes with a ready or serving endpoint. */
  readonly nodes: ReadonlySet<string>;
}

/**
 * Everything L2 eligibility depends on, as the speaker's informer caches hold
 * it: pass the cached objects directly; they are read, never modified.
 */
export interface L2World {
  readonly nodes: Iterable<V1Node>;
  readonly services: Iterable<V1Service>;
  /** Indexed by Service once per plan ({@link endpointsByService}). */
  readonly endpointSlices: Iterable<V1EndpointSlice>;
  /** zod-parsed pools; the pool name is metadata.name. */
  readonly pools: Iterable<IPAddressPool>;
  /** zod-parsed advertisements. */
  readonly advertisements: Iterable<L2Advertisement>;
  /** Nodes whose speaker is alive (membership). */
  readonly alive: Iterable<string>;
  /**
   * The load balancer class this Herald serves. Unset: only Services without a
   * class (KEP-1959), the rule the controller applies.
   */
  readonly loadBalancerClass?: string;
}

/** Eligibility of one IP, before election. */
export interface IPEligibility {
  readonly ip: IP;
  /** The pool the IP belongs to; undefined only with reason `notInAnyPool`. */
  readonly pool: string | undefined;
  /** Services with this IP in their status, `namespace/name`, sorted. */
  readonly services: readonly string[];
  /** Nodes that may announce the IP, sorted. */
  readonly eligible: readonly string[];
  /** Every other known node (Nodes and alive speakers) with the first rule it fails. */
  readonly excluded: ReadonlyMap<string, NodeReason>;
  /** For each eligible node, the interfaces it may announce on. */
  readonly interfaces: ReadonlyMap<string, AllowedInterfaces>;
  /** Set when nobody may announce the IP. */
  readonly reason: IPReason | undefined;
  /** What to hand to {@link electOwners}: one per (IP, Service) that constrains the owner. */
  readonly candidates: readonly Candidate[];
}

/** One IP after election. */
export interface IPPlan {
  readonly ip: IP;
  readonly pool: string | undefined;
  readonly services: readonly string[];
  readonly owner: string | undefined;
  /** How the owner was chosen, or why there is none. */
  readonly reason: OwnerReason | IPReason;
  readonly eligible: readonly string[];
  readonly excluded: ReadonlyMap<string, NodeReason>;
  readonly interfaces: ReadonlyMap<string, AllowedInterfaces>;
}

export interface L2Plan {
  /** By canonical IP text ({@link ipKey}); IPv4 before IPv6, each in address order. */
  readonly ips: ReadonlyMap<string, IPPlan>;
  /** IPs owned per node (nodes owning none are absent). */
  readonly load: ReadonlyMap<string, number>;
}

/** What one node announces for one IP. */
export interface Assignment {
  readonly ip: IP;
  readonly interfaces: AllowedInterfaces;
  readonly services: readonly string[];
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareIPs = (a: IP, b: IP): number => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/** Reads a Node; undefined when it has no name. */
export function nodeView(node: V1Node): NodeView | undefined {
  const name = node.metadata?.name;
  if (name === undefined || name === '') return undefined;
  const networkUnavailable = (node.status?.conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
  return { name, labels: node.metadata?.labels ?? {}, networkUnavailable };
}

/** status.loadBalancer.ingress[].ip, parsed and deduplicated, in address order. */
function statusIPs(svc: V1Service): IP[] {
  const seen = new Set<string>();
  const ips: IP[] = [];
  for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
    const ip = ingress.ip === undefined ? undefined : parseIP(ingress.ip.trim());
    if (ip === undefined || seen.has(ipKey(ip))) continue;
    seen.add(ipKey(ip));
    ips.push(ip);
  }
  return ips.sort(compareIPs);
}

/** Reads a Service; undefined when it has no namespace or name. */
export function serviceView(svc: V1Service): ServiceView | undefined {
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name;
  if (!ns || !name) return undefined;
  return {
    key: `${ns}/${name}`,
    loadBalancer: svc.spec?.type === 'LoadBalancer',
    // client-node types these as optional, but a JSON null can arrive from the API.
    loadBalancerClass: svc.spec?.loadBalancerClass ?? undefined,
    deleting: (svc.metadata?.deletionTimestamp ?? undefined) !== undefined,
    trafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    allocatedFrom: svc.metadata?.annotations?.[POOL_ANNOTATION],
    labels: svc.metadata?.labels ?? {},
    ips: statusIPs(svc),
  };
}

/**
 * Indexes EndpointSlices by their Service once, so planning is linear in the
 * number of Services, not Services x slices. Slices without the
 * {@link SERVICE_NAME_LABEL} label are not a Service's and are skipped.
 *
 * An endpoint counts when it is ready or serving. Per the EndpointSlice API a
 * nil `ready` means true; a nil `serving` is read as `ready` (serving was added
 * later, and a producer that does not set it says nothing beyond `ready`). So
 * a terminating endpoint that still serves (ready false, serving true) counts.
 */
export function endpointsByService(slices: Iterable<V1EndpointSlice>): Map<string, ServiceEndpoints> {
  const acc = new Map<string, { serving: boolean; nodes: Set<string> }>();
  for (const slice of slices) {
    const ns = slice.metadata?.namespace;
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (ns === undefined || svc === undefined || svc === '') continue;
    const key = `${ns}/${svc}`;
    let entry = acc.get(key);
    if (entry === undefined) {
      entry = { serving: false, nodes: new Set() };
      acc.set(key, entry);
    }
    for (const ep of slice.endpoints ?? []) {
      const ready = ep.conditions?.ready ?? true;
      const serving = ep.conditions?.serving ?? ready;
      if (!ready && !serving) continue;
      entry.serving = true;
      if (ep.nodeName !== undefined && ep.nodeName !== '') entry.nodes.add(ep.nodeName);
    }
  }
  return acc;
}

const NO_ENDPOINTS: ServiceEndpoints = { serving: false, nodes: new Set() };

interface PoolInfo {
  readonly name: string;
  readonly labels: Labels;
  readonly ranges: readonly IPRange[];
}

/** Node-level verdicts for one pool, shared by every IP of the pool. */
interface PoolNodes {
  readonly hasAdvertisement: boolean;
  /** Every known node that fails a node-level rule. */
  readonly excluded: ReadonlyMap<string, NodeReason>;
  /** Nodes passing every node-level rule, sorted. */
  readonly ok: readonly string[];
  readonly interfaces: ReadonlyMap<string, AllowedInterfaces>;
}

function advertisementSelectsPool(ad: L2Advertisement, pool: PoolInfo): boolean {
  const names = ad.spec.ipAddressPools ?? [];
  const selectors = ad.spec.ipAddressPoolSelectors ?? [];
  // Neither field set: every pool (MetalLB's rule, and our CRD's documented one).
  if (names.length === 0 && selectors.length === 0) return true;
  return names.includes(pool.name) || anySelectorMatches(selectors, pool.labels);
}

/** serviceSelectors empty, or one of them matches one of the IP's Services (a shared IP is announced for all). */
function advertisementSelectsServices(ad: L2Advertisement, services: readonly ServiceView[]): boolean {
  const selectors = ad.spec.serviceSelectors ?? [];
  return selectors.length === 0 || services.some((s) => anySelectorMatches(selectors, s.labels ?? {}));
}

function advertisementSelectsNode(ad: L2Advertisement, node: NodeView): boolean {
  const selectors = ad.spec.nodeSelectors ?? [];
  return selectors.length === 0 || anySelectorMatches(selectors, node.labels);
}

function nodeInterfaces(ads: readonly L2Advertisement[]): AllowedInterfaces {
  const names = new Set<string>();
  for (const ad of ads) {
    const list = ad.spec.interfaces ?? [];
    if (list.length === 0) return 'default';
    for (const n of list) names.add(n);
  }
  return [...names].sort(compareStrings);
}

/** Inputs sorted and indexed once per plan. */
class World {
  readonly known: readonly string[];
  readonly pools: readonly PoolInfo[];
  private readonly poolsByName: ReadonlyMap<string, PoolInfo>;
  private readonly nodes: ReadonlyMap<string, NodeView>;
  private readonly alive: ReadonlySet<string>;
  private readonly advertisements: readonly L2Advertisement[];
  private readonly endpoints: ReadonlyMap<string, ServiceEndpoints>;
  private readonly poolNodes = new Map<string, PoolNodes>();

  constructor(w: L2World) {
    const nodes = new Map<string, NodeView>();
    for (const raw of w.nodes) {
      const n = nodeView(raw);
      if (n !== undefined) nodes.set(n.name, n);
    }
    this.nodes = nodes;
    this.endpoints = endpointsByService(w.endpointSlices);
    this.alive = new Set(w.alive);
    this.known = [...new Set([...this.nodes.keys(), ...this.alive])].sort(compareStrings);
    const pools: PoolInfo[] = [];
    for (const p of w.pools) {
      const name = p.metadata.name;
      if (name === undefined || name === '') continue;
      const ranges = p.spec.addresses.map(parsePoolAddress).filter((r): r is IPRange => !isAddressParseError(r));
      pools.push({ name, labels: p.metadata.labels ?? {}, ranges });
    }
    this.pools = pools.sort((a, b) => compareStrings(a.name, b.name));
    this.poolsByName = new Map(this.pools.map((p) => [p.name, p]));
    // Name order only matters for reproducible iteration; every use is a union or an "any".
    this.advertisements = [...w.advertisements].sort((a, b) => compareStrings(a.metadata.name ?? '', b.metadata.name ?? ''));
  }

  endpointsOf(s: ServiceView): ServiceEndpoints {
    return this.endpoints.get(s.key) ?? NO_ENDPOINTS;
  }

  /**
   * The IP's pool: the one a Service's annotation names, if it exists and holds
   * the IP (Services in key order, so sharing Services that disagree resolve the
   * same way everywhere); else the first pool by name that holds it.
   */
  poolOf(ip: IP, services: readonly ServiceView[]): PoolInfo | undefined {
    const holds = (p: PoolInfo): boolean => p.ranges.some((r) => rangeContains(r, ip));
    for (const s of services) {
      const named = s.allocatedFrom === undefined ? undefined : this.poolsByName.get(s.allocatedFrom);
      if (named !== undefined && holds(named)) return named;
    }
    return this.pools.find(holds);
  }

  /** The pool's exclusions plus per-IP ones for nodes that pass the pool's rules, in node order. */
  excludedWith(pn: PoolNodes, ipReason: (node: string) => NodeReason | undefined): Map<string, NodeReason> {
    const out = new Map<string, NodeReason>();
    for (const n of this.known) {
      const r = pn.excluded.get(n) ?? ipReason(n);
      if (r !== undefined) out.set(n, r);
    }
    return out;
  }

  /** The advertisements that select the pool, and of those the ones whose serviceSelectors admit the IP's Services. */
  advertisementsFor(pool: PoolInfo | undefined, services: readonly ServiceView[]): { forPool: readonly L2Advertisement[]; applicable: readonly L2Advertisement[] } {
    const forPool = pool === undefined ? [] : this.advertisements.filter((ad) => advertisementSelectsPool(ad, pool));
    return { forPool, applicable: forPool.filter((ad) => advertisementSelectsServices(ad, services)) };
  }

  /** Nodes matching a preferredNodeSelector of any of `ads`; undefined when none of them states a preference. */
  preferred(ads: readonly L2Advertisement[]): ReadonlySet<string> | undefined {
    const withPref = ads.filter((ad) => (ad.spec.preferredNodeSelectors ?? []).length > 0);
    if (withPref.length === 0) return undefined;
    const out = new Set<string>();
    for (const [name, node] of this.nodes) {
      if (withPref.some((ad) => advertisementSelectsNode(ad, node) && anySelectorMatches(ad.spec.preferredNodeSelectors ?? [], node.labels))) out.add(name);
    }
    return out;
  }

  /**
   * Node-level verdicts for a pool and the advertisements that apply (undefined pool: an IP
   * in no pool, which no advertisement selects). Cached per pool and set of advertisements.
   */
  nodesFor(pool: PoolInfo | undefined, ads: readonly L2Advertisement[]): PoolNodes {
    const cacheKey = pool === undefined ? '' : `pool:${pool.name}:${ads.map((a) => a.metadata.name ?? '').join(',')}`;
    const cached = this.poolNodes.get(cacheKey);
    if (cached !== undefined) return cached;
    const excluded = new Map<string, NodeReason>();
    const ok: string[] = [];
    const interfaces = new Map<string, AllowedInterfaces>();
    for (const name of this.known) {
      const node = this.nodes.get(name);
      const matching = node === undefined ? [] : ads.filter((ad) => advertisementSelectsNode(ad, node));
      const reason: NodeReason | undefined =
        node === undefined
          ? 'nodeNotFound'
          : node.networkUnavailable
            ? 'networkUnavailable'
            : Object.prototype.hasOwnProperty.call(node.labels, EXCLUDE_FROM_LB_LABEL)
              ? 'excludedByLabel'
              : matching.length === 0
                ? 'notSelectedByAdvertisement'
                : !this.alive.has(name)
                  ? 'speakerNotAlive'
                  : undefined;
      if (reason !== undefined) {
        excluded.set(name, reason);
        continue;
      }
      ok.push(name);
      interfaces.set(name, nodeInterfaces(matching));
    }
    const result: PoolNodes = { hasAdvertisement: ads.length > 0, excluded, ok, interfaces };
    this.poolNodes.set(cacheKey, result);
    return result;
  }
}

function announced(s: ServiceView, lbClass: string | undefined): boolean {
  if (!s.loadBalancer || s.deleting || s.ips.length === 0) return false;
  return s.loadBalancerClass === lbClass;
}

function evaluateIP(world: World, ip: IP, services: readonly ServiceView[]): IPEligibility {
  const key = ipKey(ip);
  const pool = world.poolOf(ip, services);
  const ads = world.advertisementsFor(pool, services);
  const pn = world.nodesFor(pool, ads.applicable);
  const names = services.map((s) => s.key);
  const base = { ip, pool: pool?.name, services: names };
  if (pool === undefined || !pn.hasAdvertisement) {
    return {
      ...base,
      eligible: [],
      excluded: pn.excluded,
      interfaces: new Map(),
      reason: pool === undefined ? 'notInAnyPool' : ads.forPool.length > 0 ? 'serviceNotSelected' : 'noL2Advertisement',
      candidates: [],
    };
  }
  const preferred = world.preferred(ads.applicable);

  // A Service with no endpoint anywhere has nothing to route to, so it does not
  // constrain the owner of an IP it shares with Services that do; it is only
  // the answer when no Service of the IP has an endpoint.
  const serving = services.filter((s) => world.endpointsOf(s).serving);
  if (serving.length === 0) {
    return {
      ...base,
      eligible: [],
      excluded: world.excludedWith(pn, () => 'noServingEndpoints'),
      interfaces: new Map(),
      reason: 'noServingEndpoints',
      candidates: [],
    };
  }

  const local = serving.filter((s) => s.trafficPolicy === 'Local');
  const byService: Candidate[] = serving.map((s) =>
    s.trafficPolicy === 'Local' ? { key, eligible: pn.ok.filter((n) => world.endpointsOf(s).nodes.has(n)) } : { key, eligible: pn.ok },
  );
  const candidates = preferCandidates(byService, preferred);
  if (local.length === 0) {
    // Cluster only: the pool's verdicts are the IP's, shared, not copied.
    const reason = pn.ok.length === 0 ? 'noEligibleNode' : undefined;
    return { ...base, eligible: pn.ok, excluded: pn.excluded, interfaces: pn.interfaces, reason, candidates };
  }
  const eligible = pn.ok.filter((n) => local.every((s) => world.endpointsOf(s).nodes.has(n)));
  const eligibleSet = new Set(eligible);
  const excluded = world.excludedWith(pn, (n) => (eligibleSet.has(n) ? undefined : 'noLocalEndpoint'));
  const interfaces = new Map([...pn.interfaces].filter(([n]) => eligibleSet.has(n)));
  return {
    ...base,
    eligible,
    excluded,
    interfaces,
    reason: eligible.length === 0 ? 'noEligibleNode' : undefined,
    candidates,
  };
}

/**
 * preferredNodeSelectors: while some node eligible for every Service of the IP is
 * preferred, the owner is elected among those only (every candidate narrowed alike, so
 * Services that share the IP still get one owner); when none is, among all eligible.
 */
function preferCandidates(candidates: readonly Candidate[], preferred: ReadonlySet<string> | undefined): Candidate[] {
  if (preferred === undefined) return [...candidates];
  let common: Set<string> | undefined;
  for (const c of candidates) {
    const set = new Set(c.eligible);
    common = common === undefined ? set : new Set([...common].filter((n) => set.has(n)));
  }
  const chosen = [...(common ?? [])].filter((n) => preferred.has(n));
  if (chosen.length === 0) return [...candidates];
  return candidates.map((c) => ({ key: c.key, eligible: chosen }));
}

/**
 * Eligibility of every IP found in the status of an announceable Service: type
 * LoadBalancer, of our load balancer class, not being deleted. Keyed by
 * {@link ipKey}, IPv4 before IPv6, each in address order.
 */
export function evaluateL2(w: L2World): Map<string, IPEligibility> {
  const world = new World(w);
  const byIP = new Map<string, { ip: IP; services: ServiceView[] }>();
  for (const raw of w.services) {
    const s = serviceView(raw);
    if (s === undefined || !announced(s, w.loadBalancerClass)) continue;
    for (const ip of s.ips) {
      const k = ipKey(ip);
      const entry = byIP.get(k);
      if (entry === undefined) byIP.set(k, { ip, services: [s] });
      else entry.services.push(s);
    }
  }
  const out = new Map<string, IPEligibility>();
  for (const [k, { ip, services }] of [...byIP].sort(([, a], [, b]) => compareIPs(a.ip, b.ip))) {
    services.sort((a, b) => compareStrings(a.key, b.key));
    out.set(k, evaluateIP(world, ip, services));
  }
  return out;
}

/**
 * Eligibility plus election: for every announceable IP, its owner (or why it
 * has none), eligible and excluded nodes and the interfaces each may use.
 */
export function planL2(w: L2World): L2Plan {
  const evaluated = evaluateL2(w);
  const groupOf = electionGroups(evaluated);
  const election = electOwners([...evaluated].flatMap(([k, e]) => e.candidates.map((c) => ({ key: groupOf.get(k) ?? k, eligible: c.eligible }))));
  const ips = new Map<string, IPPlan>();
  for (const [k, e] of evaluated) {
    const placement = election.placements.get(groupOf.get(k) ?? k);
    const owner = e.reason === undefined ? placement?.owner : undefined;
    ips.set(k, {
      ip: e.ip,
      pool: e.pool,
      services: e.services,
      owner,
      reason: e.reason ?? placement?.reason ?? 'noEligibleNode',
      eligible: e.eligible,
      excluded: e.excluded,
      interfaces: e.interfaces,
    });
  }
  return { ips, load: election.load };
}

/**
 * The election key of each IP. The IPs of one Service (its IPv4 and IPv6 addresses), and
 * through sharing those of other Services, are elected together so that one node answers
 * for the whole Service: clients of a dual-stack Service reach one node by either family,
 * and its ServiceL2Status names one node. The group key is its smallest IP key. When the
 * IPs of a group have no eligible node in common (different pools announced from different
 * nodes), each IP is elected on its own rather than not at all.
 */
function electionGroups(evaluated: ReadonlyMap<string, IPEligibility>): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    for (let p = parent.get(r); p !== undefined && p !== r; p = parent.get(r)) r = p;
    parent.set(k, r);
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  const firstIPOf = new Map<string, string>();
  for (const [k, e] of evaluated) {
    if (e.candidates.length === 0) continue;
    if (!parent.has(k)) parent.set(k, k);
    for (const svc of e.services) {
      const first = firstIPOf.get(svc);
      if (first === undefined) firstIPOf.set(svc, k);
      else union(first, k);
    }
  }
  const members = new Map<string, string[]>();
  for (const k of parent.keys()) {
    const r = find(k);
    const list = members.get(r) ?? [];
    list.push(k);
    members.set(r, list);
  }
  const out = new Map<string, string>();
  for (const [root, keys] of members) {
    if (keys.length < 2) continue;
    let common: Set<string> | undefined;
    for (const k of keys) {
      for (const c of evaluated.get(k)?.candidates ?? []) {
        const set: Set<string> = new Set(c.eligible);
        common = common === undefined ? set : new Set([...common].filter((n) => set.has(n)));
      }
    }
    if (common === undefined || common.size === 0) continue;
    for (const k of keys) out.set(k, root);
  }
  return out;
}

/** What `node` announces: the IPs it owns, in plan order, with their interfaces and Services. */
export function assignmentsFor(plan: L2Plan, node: string): Assignment[] {
  const out: Assignment[] = [];
  for (const [k, p] of plan.ips) {
    if (p.owner !== node) continue;
    const interfaces = p.interfaces.get(node);
    if (interfaces === undefined) throw new HeraldError('Internal', `L2 plan: owner ${node} of ${k} has no interfaces entry`);
    out.push({ ip: p.ip, interfaces, services: p.services });
  }
  return out;
}
