/**
 * What one node announces over BGP, to whom, and why not. Pure: informer objects in,
 * sessions, routes per peer and reasons out; no I/O, no clock, independent of input order.
 *
 * Unlike L2, BGP needs no election: every node that may announce an IP does, and the routers
 * spread traffic over the next hops (ECMP). So the decision is per (IP, this node):
 *  1. the IP's pool (the Service's allocation annotation if it holds the IP, else the first
 *     pool by name that does);
 *  2. the BGPAdvertisements that select that pool and this node;
 *  3. node rules: the Node exists, has no NetworkUnavailable condition, and does not carry
 *     `node.kubernetes.io/exclude-from-external-load-balancers`;
 *  4. endpoints: some Service of the IP has a ready or serving endpoint; with
 *     `externalTrafficPolicy: Local`, on this node (every Local Service of the IP must have one);
 *  5. peers: the BGPPeers that select this node, narrowed by each advertisement's `peers`, and
 *     of the IP's family (or with `dualStackAddressFamily`, RFC 4760 multiprotocol).
 * The first rule an IP fails is its reason ({@link BgpIPReason}).
 *
 * An IP is announced as the prefix of its advertisement's aggregation length. When several
 * advertisements give one peer the same prefix (aggregation, or two advertisements of one
 * pool), the route carries the union of their communities and the highest local preference,
 * so the result does not depend on the order objects are listed in.
 * @packageDocumentation
 */
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseCommunity, type BFDProfile, type BGPAdvertisement, type BGPPeer, type BGPPeerSpec, type BFDProfileSpec, type Community, type IPAddressPool } from '@herald/shared/api';
import { BITS, formatIP, ipKey, isAddressParseError, parseIP, parsePoolAddress, rangeContains, type Family, type IP, type IPRange } from '@herald/shared/ip';
import { anySelectorMatches, type LabelSelector, type Labels } from '@herald/shared/labels';
import { EXCLUDE_FROM_LB_LABEL, endpointsByService, nodeView, serviceView, type NodeView, type ServiceEndpoints, type ServiceView } from '../l2/eligibility.js';

/** Why this node does not announce an IP, or `announced`. The first that applies, in this order. */
export type BgpIPReason =
  | 'announced'
  /** No pool holds the IP: not Herald's. */
  | 'notInAnyPool'
  /** No BGPAdvertisement selects the IP's pool. */
  | 'noBGPAdvertisement'
  /** The Node object does not exist. */
  | 'nodeNotFound'
  /** Node condition NetworkUnavailable is "True". */
  | 'networkUnavailable'
  /** The node carries the exclude-from-external-load-balancers label. */
  | 'excludedByLabel'
  /** No BGPAdvertisement of the pool selects this node (nodeSelectors). */
  | 'nodeNotSelected'
  /** No Service of the IP has a ready or serving endpoint anywhere. */
  | 'noServingEndpoints'
  /** `externalTrafficPolicy: Local` and no ready or serving endpoint on this node. */
  | 'noLocalEndpoint'
  /** No BGPPeer that selects this node is selected by an advertisement of the pool, for the IP's family. */
  | 'noPeer';

/** One BGP session this node should run. */
export interface SessionPlan {
  /** BGPPeer name. */
  readonly name: string;
  readonly spec: BGPPeerSpec;
  /** The BFDProfile's spec when the peer names one that exists. */
  readonly bfd: BFDProfileSpec | undefined;
  /** Families exchanged on the session. */
  readonly families: readonly Family[];
}

/** A route to one peer, before the next hop is known (the session's local address decides it). */
export interface RouteIntent {
  /** Canonical prefix text, `192.0.2.0/24`. */
  readonly prefix: string;
  readonly family: Family;
  /** Sorted, unique, `a:b`. */
  readonly communities: readonly string[];
  /** Sorted, unique, `a:b:c`. */
  readonly largeCommunities: readonly string[];
  /** LOCAL_PREF (bgp-speaker-lite sends it to iBGP peers only, RFC 4271 §5.1.5). */
  readonly localPref: number | undefined;
}

/** The decision for one IP on this node. */
export interface BgpIPPlan {
  readonly ip: IP;
  readonly pool: string | undefined;
  /** Services with the IP in their status, `namespace/name`, sorted. */
  readonly services: readonly string[];
  readonly reason: BgpIPReason;
  /** Peers the IP is announced to (empty unless `announced`), sorted. */
  readonly peers: readonly string[];
}

/** Something in the configuration that the plan worked around; reported as an Event. */
export interface BgpProblem {
  readonly kind: 'BGPAdvertisement' | 'BGPPeer';
  readonly name: string;
  readonly reason: 'UnknownCommunity' | 'UnknownBFDProfile';
  readonly message: string;
}

export interface BgpPlan {
  /** By BGPPeer name. */
  readonly sessions: ReadonlyMap<string, SessionPlan>;
  /** By BGPPeer name: every session has an entry (possibly empty), sorted by prefix. */
  readonly routes: ReadonlyMap<string, readonly RouteIntent[]>;
  /** By canonical IP text; IPv4 before IPv6, each in address order. */
  readonly ips: ReadonlyMap<string, BgpIPPlan>;
  /** Services announced from this node: `namespace/name` to the peers, sorted. */
  readonly services: ReadonlyMap<string, readonly string[]>;
  readonly problems: readonly BgpProblem[];
}

export interface BgpWorld {
  /** This node. */
  readonly node: string;
  readonly nodes: Iterable<V1Node>;
  readonly services: Iterable<V1Service>;
  readonly endpointSlices: Iterable<V1EndpointSlice>;
  /** zod-parsed objects of Herald's namespace. */
  readonly pools: Iterable<IPAddressPool>;
  readonly advertisements: Iterable<BGPAdvertisement>;
  readonly peers: Iterable<BGPPeer>;
  readonly bfdProfiles: Iterable<BFDProfile>;
  readonly communities: Iterable<Community>;
  /** As the controller's --lb-class; unset: Services without a class only. */
  readonly loadBalancerClass?: string;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareIPs = (a: IP, b: IP): number => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
const nameOf = (o: { metadata: { name?: string | undefined } }): string => o.metadata.name ?? '';

interface PoolInfo {
  readonly name: string;
  readonly labels: Labels;
  readonly ranges: readonly IPRange[];
}

/** The family a peer's session runs over. */
function transportFamily(spec: BGPPeerSpec): Family {
  return parseIP(spec.peerAddress)?.family ?? 4;
}

/** Families exchanged: the transport's own, or both with dualStackAddressFamily (RFC 4760). */
export function sessionFamilies(spec: BGPPeerSpec): Family[] {
  return spec.dualStackAddressFamily ? [4, 6] : [transportFamily(spec)];
}

/** The IP masked to `length` bits, as canonical prefix text. */
export function aggregate(ip: IP, length: number): string {
  const bits = BITS[ip.family];
  const len = Math.max(0, Math.min(bits, length));
  const hostBits = BigInt(bits - len);
  const value = (ip.value >> hostBits) << hostBits;
  return `${formatIP({ family: ip.family, value })}/${len}`;
}

/** Community refs resolved through the aliases: standard and large values, and refs that resolve to nothing. */
function resolveCommunities(refs: readonly string[], aliases: ReadonlyMap<string, string>): { standard: string[]; large: string[]; unknown: string[] } {
  const standard: string[] = [];
  const large: string[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    const value = parseCommunity(ref) ?? (aliases.has(ref) ? parseCommunity(aliases.get(ref) ?? '') : undefined);
    if (value === undefined) unknown.push(ref);
    else if (value.kind === 'standard') standard.push(`${value.high}:${value.low}`);
    else large.push(`${value.global}:${value.local1}:${value.local2}`);
  }
  return { standard, large, unknown };
}

function selectsPool(ad: BGPAdvertisement, pool: PoolInfo): boolean {
  const names = ad.spec.ipAddressPools ?? [];
  const selectors = ad.spec.ipAddressPoolSelectors ?? [];
  // Neither set: every pool (MetalLB's rule, documented on the CRD).
  if (names.length === 0 && selectors.length === 0) return true;
  return names.includes(pool.name) || anySelectorMatches(selectors, pool.labels);
}

function selectsNode(selectors: readonly LabelSelector[] | undefined, node: NodeView): boolean {
  return selectors === undefined || selectors.length === 0 || anySelectorMatches(selectors, node.labels);
}

interface MutableRoute {
  prefix: string;
  family: Family;
  communities: Set<string>;
  large: Set<string>;
  localPref: number | undefined;
}

function findSelf(w: BgpWorld): NodeView | undefined {
  for (const raw of w.nodes) {
    const n = nodeView(raw);
    if (n?.name === w.node) return n;
  }
  return undefined;
}

/** Community aliases: the first definition of a name wins, by object name, so the result is stable. */
function communityAliases(communities: Iterable<Community>): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const c of [...communities].sort((a, b) => compareStrings(nameOf(a), nameOf(b)))) {
    for (const a of c.spec.communities ?? []) if (!aliases.has(a.name)) aliases.set(a.name, a.value);
  }
  return aliases;
}

/** Sessions: the peers whose nodeSelectors select this node, with their BFD profiles. */
function planSessions(w: BgpWorld, self: NodeView | undefined, problems: BgpProblem[]): Map<string, SessionPlan> {
  const bfdProfiles = new Map<string, BFDProfileSpec>();
  for (const p of w.bfdProfiles) bfdProfiles.set(nameOf(p), p.spec);
  const sessions = new Map<string, SessionPlan>();
  for (const p of [...w.peers].sort((a, b) => compareStrings(nameOf(a), nameOf(b)))) {
    const name = nameOf(p);
    if (name === '' || self === undefined || !selectsNode(p.spec.nodeSelectors, self)) continue;
    const profileName = p.spec.bfdProfile;
    const bfd = profileName === undefined ? undefined : bfdProfiles.get(profileName);
    if (profileName !== undefined && bfd === undefined) {
      problems.push({ kind: 'BGPPeer', name, reason: 'UnknownBFDProfile', message: `BFDProfile ${profileName} does not exist: the session runs without BFD until it does` });
    }
    sessions.set(name, { name, spec: p.spec, bfd, families: sessionFamilies(p.spec) });
  }
  return sessions;
}

function poolInfos(pools: Iterable<IPAddressPool>): PoolInfo[] {
  const out: PoolInfo[] = [];
  for (const p of pools) {
    const name = nameOf(p);
    if (name === '') continue;
    const ranges = p.spec.addresses.map(parsePoolAddress).filter((r): r is IPRange => !isAddressParseError(r));
    out.push({ name, labels: p.metadata.labels ?? {}, ranges });
  }
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

/** Community refs per advertisement, resolved once; unknown ones are reported, and routes go out without them. */
function adCommunities(ads: readonly BGPAdvertisement[], aliases: ReadonlyMap<string, string>, problems: BgpProblem[]): Map<string, { standard: string[]; large: string[] }> {
  const out = new Map<string, { standard: string[]; large: string[] }>();
  for (const ad of ads) {
    const r = resolveCommunities(ad.spec.communities ?? [], aliases);
    if (r.unknown.length > 0) {
      problems.push({
        kind: 'BGPAdvertisement',
        name: nameOf(ad),
        reason: 'UnknownCommunity',
        message: `communities ${r.unknown.join(', ')} are neither A:B, large:A:B:C nor an alias of a Community: announced without them`,
      });
    }
    out.set(nameOf(ad), r);
  }
  return out;
}

/** Announceable Services by IP: type LoadBalancer, our class, not being deleted, with IPs in status. */
function servicesByIP(w: BgpWorld): Array<{ ip: IP; services: ServiceView[] }> {
  const byIP = new Map<string, { ip: IP; services: ServiceView[] }>();
  for (const raw of w.services) {
    const s = serviceView(raw);
    if (s === undefined || !s.loadBalancer || s.deleting || s.ips.length === 0 || s.loadBalancerClass !== w.loadBalancerClass) continue;
    for (const ip of s.ips) {
      const k = ipKey(ip);
      let e = byIP.get(k);
      if (e === undefined) byIP.set(k, (e = { ip, services: [] }));
      e.services.push(s);
    }
  }
  for (const e of byIP.values()) e.services.sort((a, b) => compareStrings(a.key, b.key));
  return [...byIP.values()].sort((a, b) => compareIPs(a.ip, b.ip));
}

/** The IP's pool: the one a Service's annotation names if it holds the IP, else the first by name that does. */
function poolOf(ip: IP, services: readonly ServiceView[], pools: readonly PoolInfo[], byName: ReadonlyMap<string, PoolInfo>): PoolInfo | undefined {
  const holds = (p: PoolInfo): boolean => p.ranges.some((r) => rangeContains(r, ip));
  for (const s of services) {
    const named = s.allocatedFrom === undefined ? undefined : byName.get(s.allocatedFrom);
    if (named !== undefined && holds(named)) return named;
  }
  return pools.find(holds);
}

/** The node-level rules, in order. */
function nodeReason(self: NodeView | undefined): BgpIPReason | undefined {
  if (self === undefined) return 'nodeNotFound';
  if (self.networkUnavailable) return 'networkUnavailable';
  if (Object.prototype.hasOwnProperty.call(self.labels, EXCLUDE_FROM_LB_LABEL)) return 'excludedByLabel';
  return undefined;
}

/** The endpoint rules: some Service serves; every serving Local Service has an endpoint here. */
function endpointReason(services: readonly ServiceView[], node: string, epOf: (s: ServiceView) => ServiceEndpoints): BgpIPReason | undefined {
  // A Service without endpoints anywhere does not hold back an IP it shares with one that has them.
  const serving = services.filter((s) => epOf(s).serving);
  if (serving.length === 0) return 'noServingEndpoints';
  if (serving.some((s) => s.trafficPolicy === 'Local' && !epOf(s).nodes.has(node))) return 'noLocalEndpoint';
  return undefined;
}

/** Adds the IP's routes to each peer its advertisements select; returns those peers. */
function addRoutes(ip: IP, ads: readonly BGPAdvertisement[], sessions: ReadonlyMap<string, SessionPlan>, routes: Map<string, Map<string, MutableRoute>>, comms: ReadonlyMap<string, { standard: string[]; large: string[] }>): Set<string> {
  const to = new Set<string>();
  for (const ad of ads) {
    const wanted = ad.spec.peers ?? [];
    const prefix = aggregate(ip, ip.family === 4 ? ad.spec.aggregationLength : ad.spec.aggregationLengthV6);
    const comm = comms.get(nameOf(ad)) ?? { standard: [], large: [] };
    for (const [peerName, session] of sessions) {
      if ((wanted.length > 0 && !wanted.includes(peerName)) || !session.families.includes(ip.family)) continue;
      to.add(peerName);
      const table = routes.get(peerName);
      if (table === undefined) continue;
      let route = table.get(prefix);
      if (route === undefined) table.set(prefix, (route = { prefix, family: ip.family, communities: new Set(), large: new Set(), localPref: undefined }));
      for (const c of comm.standard) route.communities.add(c);
      for (const c of comm.large) route.large.add(c);
      const lp = ad.spec.localPref;
      if (lp !== undefined && (route.localPref === undefined || lp > route.localPref)) route.localPref = lp;
    }
  }
  return to;
}

function freezeRoutes(routes: Map<string, Map<string, MutableRoute>>): Map<string, RouteIntent[]> {
  const out = new Map<string, RouteIntent[]>();
  for (const [peer, table] of routes) {
    const list = [...table.values()].map((r) => ({
      prefix: r.prefix,
      family: r.family,
      communities: [...r.communities].sort(compareStrings),
      largeCommunities: [...r.large].sort(compareStrings),
      localPref: r.localPref,
    }));
    out.set(peer, list.sort((a, b) => a.family - b.family || compareStrings(a.prefix, b.prefix)));
  }
  return out;
}

/** Plans BGP for `w.node`. */
export function planBgp(w: BgpWorld): BgpPlan {
  const problems: BgpProblem[] = [];
  const self = findSelf(w);
  const sessions = planSessions(w, self, problems);
  const pools = poolInfos(w.pools);
  const poolsByName = new Map(pools.map((p) => [p.name, p]));
  const ads = [...w.advertisements].sort((a, b) => compareStrings(nameOf(a), nameOf(b)));
  const comms = adCommunities(ads, communityAliases(w.communities), problems);
  const endpoints = endpointsByService(w.endpointSlices);
  const none: ServiceEndpoints = { serving: false, nodes: new Set() };
  const epOf = (s: ServiceView): ServiceEndpoints => endpoints.get(s.key) ?? none;

  const routes = new Map<string, Map<string, MutableRoute>>([...sessions.keys()].map((n) => [n, new Map()]));
  const ips = new Map<string, BgpIPPlan>();
  const servicePeers = new Map<string, Set<string>>();
  for (const { ip, services } of servicesByIP(w)) {
    const pool = poolOf(ip, services, pools, poolsByName);
    const poolAds = pool === undefined ? [] : ads.filter((ad) => selectsPool(ad, pool));
    const nodeAds = self === undefined ? [] : poolAds.filter((ad) => selectsNode(ad.spec.nodeSelectors, self));
    let reason: BgpIPReason | undefined =
      pool === undefined ? 'notInAnyPool' : poolAds.length === 0 ? 'noBGPAdvertisement' : (nodeReason(self) ?? (nodeAds.length === 0 ? 'nodeNotSelected' : endpointReason(services, w.node, epOf)));
    let peers: string[] = [];
    if (reason === undefined) {
      peers = [...addRoutes(ip, nodeAds, sessions, routes, comms)].sort(compareStrings);
      reason = peers.length === 0 ? 'noPeer' : 'announced';
    }
    ips.set(ipKey(ip), { ip, pool: pool?.name, services: services.map((s) => s.key), reason, peers });
    for (const s of reason === 'announced' ? services : []) {
      let set = servicePeers.get(s.key);
      if (set === undefined) servicePeers.set(s.key, (set = new Set()));
      for (const p of peers) set.add(p);
    }
  }

  const frozenServices = new Map<string, string[]>();
  for (const [k, set] of [...servicePeers].sort((a, b) => compareStrings(a[0], b[0]))) frozenServices.set(k, [...set].sort(compareStrings));
  return { sessions, routes: freezeRoutes(routes), ips, services: frozenServices, problems };
}
