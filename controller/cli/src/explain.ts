/**
 * `herald explain NAMESPACE/SERVICE`. Nothing here decides anything of its own: the
 * controller's allocator (replayed on the cluster's current state, the way the controller
 * rebuilds it at start) says which pools were considered and why each was refused; the
 * speaker's L2 planner (eligibility and owner election) and BGP planner (per node) say who
 * announces each IP and why every other node does not. {@link explain} is pure;
 * {@link loadExplain} reads the cluster through a {@link ClusterApi}.
 * @packageDocumentation
 */
import type { EventsV1Event, V1EndpointSlice, V1Lease, V1Node, V1Service } from '@kubernetes/client-node';
import {
  BFDProfileKind,
  BGPAdvertisementKind,
  BGPPeerKind,
  BGPSessionStateKind,
  CommunityKind,
  GROUP,
  IPAddressPoolKind,
  L2AdvertisementKind,
  ServiceBGPStatusKind,
  ServiceL2StatusKind,
  VERSION,
} from '@herald/shared/api';
import { buildConfig } from '@herald/shared/config';
import { formatIP, ipKey, type IP } from '@herald/shared/ip';
import type { Labels } from '@herald/shared/labels';
import {
  Allocator,
  ANN_ALLOCATED_FROM,
  CONDITION_ASSIGNED,
  buildPoolConfig,
  handles,
  serviceKey,
  serviceRequest,
  statusIPs,
  type Decision,
  type RawPool,
} from '@herald/controller';
import { SPEAKER_LEASE_LABEL, SPEAKER_LEASE_LABEL_VALUE, planBgp, planL2, type BgpPlan, type IPPlan, type NodeReason, type OwnerReason } from '@herald/speaker';
import type { ClusterApi } from './api.js';
import { notFound } from './errors.js';
import { parseStatusObjects, reportedFor, sessionRows, speakersFromLeases, type Reported, type SessionRow, type SpeakerLease, type StatusObjects } from './objects.js';
import { BGP_REASON_TEXT, IP_REASON_TEXT, NODE_REASON_TEXT, OWNER_REASON_TEXT, bgpReasonLine } from './reasons.js';
import { list, renderTable, shortDuration } from './table.js';

/** Everything `explain` reads. Raw custom objects are parsed here, as their consumers parse them. */
export interface ExplainInput {
  /** Herald's namespace. */
  readonly namespace: string;
  readonly service: V1Service;
  readonly namespaceLabels: Labels;
  readonly services: readonly V1Service[];
  readonly pools: readonly unknown[];
  readonly l2Advertisements: readonly unknown[];
  readonly bgpAdvertisements: readonly unknown[];
  readonly bgpPeers: readonly unknown[];
  readonly bfdProfiles: readonly unknown[];
  readonly communities: readonly unknown[];
  readonly nodes: readonly V1Node[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly leases: readonly V1Lease[];
  readonly statusObjects: StatusObjects;
  readonly events: readonly EventsV1Event[];
  readonly lbClass?: string | undefined;
  readonly now: number;
}

/** One pool and what the allocator made of it. */
export interface PoolLine {
  readonly pool: string;
  /** The allocator's verdict, or `invalid` (the pool's spec is refused) or `notConsidered`. */
  readonly verdict: string;
  readonly detail: string;
}

export interface AllocationReport {
  /**
   * holds: the Service has IPs and keeps them; wouldMove: it has IPs the controller would
   * replace; wouldRelease: it has IPs the controller would take away; pending: no IP, but the
   * allocator would give one now; refused: no IP, and none can be given; invalidRequest: its
   * annotations or fields do not parse; notHandled: not Herald's Service.
   */
  readonly outcome: 'holds' | 'wouldMove' | 'wouldRelease' | 'pending' | 'refused' | 'invalidRequest' | 'notHandled';
  /** The allocator's FailureReason, the model's InvalidRequest, or handles()'s reason. */
  readonly reason?: string;
  readonly message: string;
  readonly pools: readonly PoolLine[];
}

export interface NodeLine {
  readonly node: string;
  readonly announces: boolean;
  /** A reason code of the speaker's planner, or `eligible`/`owner`/`speakerNotAlive`. */
  readonly reason: string;
  readonly detail: string;
}

export interface IPAnnouncement {
  readonly ip: string;
  readonly pool?: string;
  readonly l2: {
    readonly owner?: string;
    /** The planner's reason: how the owner was elected, or why there is none. */
    readonly reason: string;
    readonly detail: string;
    readonly nodes: readonly NodeLine[];
  };
  readonly bgp: {
    /** Set when the same reason holds for every node (no advertisement, no pool). */
    readonly reason?: string;
    readonly detail?: string;
    readonly nodes: readonly NodeLine[];
  };
}

export interface EventLine {
  readonly time: string;
  readonly type: string;
  readonly reason: string;
  readonly from: string;
  readonly message: string;
}

export interface Explanation {
  readonly service: string;
  /** 0 when healthy, else 1; see the README's exit codes. */
  readonly healthy: boolean;
  readonly summary: string;
  readonly ips: readonly string[];
  readonly pool?: string;
  readonly condition?: { readonly status: string; readonly reason: string; readonly message: string; readonly lastTransitionTime?: string };
  readonly allocation: AllocationReport;
  readonly speakers: readonly SpeakerLease[];
  readonly announcements: readonly IPAnnouncement[];
  readonly reported: Reported;
  readonly sessions: readonly SessionRow[];
  readonly events: readonly EventLine[];
}

const MAX_EVENTS = 10;

const created = (s: V1Service): string => {
  const t = s.metadata?.creationTimestamp as Date | string | undefined;
  return t instanceof Date ? t.toISOString() : (t ?? '');
};

/** The pools of the namespace with the allocator's verdict on each. */
function poolLines(decision: Decision | undefined, allPools: readonly string[], invalid: ReadonlyMap<string, string>, notConsidered: string): PoolLine[] {
  const out = new Map<string, PoolLine>();
  for (const v of decision?.considered ?? []) {
    if (!out.has(v.pool)) out.set(v.pool, { pool: v.pool, verdict: v.verdict, detail: v.detail });
  }
  for (const [pool, why] of invalid) if (!out.has(pool)) out.set(pool, { pool, verdict: 'invalid', detail: `its spec is refused: ${why}` });
  for (const pool of allPools) if (!out.has(pool)) out.set(pool, { pool, verdict: 'notConsidered', detail: notConsidered });
  return [...out.values()];
}

function notHandled(input: ExplainInput, reason: 'NotLoadBalancer' | 'OtherLoadBalancerClass'): AllocationReport {
  const svc = input.service;
  const message =
    reason === 'NotLoadBalancer'
      ? `the Service is of type ${svc.spec?.type ?? 'ClusterIP'}, not LoadBalancer`
      : `the Service names loadBalancerClass ${svc.spec?.loadBalancerClass ?? ''}, and Herald ${input.lbClass === undefined ? 'runs without --lb-class (only Services without a class)' : `handles ${input.lbClass}`}`;
  return { outcome: 'notHandled', reason, message, pools: [] };
}

/**
 * An allocator in the state the controller rebuilds at start: pools from their objects, then
 * every Service of ours that holds IPs, restored oldest first. Returns why the Service's
 * own IPs could not be restored, if they could not.
 */
function replay(input: ExplainInput, key: string): { allocator: Allocator; invalid: ReadonlyMap<string, string>; restoreRefused?: string } {
  const cfg = buildPoolConfig(input.pools as RawPool[], new Map());
  const allocator = new Allocator();
  allocator.setPools(cfg.pools, cfg.invalid);
  const holders = input.services
    .filter((s) => handles(s, input.lbClass).ok && statusIPs(s).length > 0)
    .sort((a, b) => created(a).localeCompare(created(b)) || serviceKey(a).localeCompare(serviceKey(b)));
  let restoreRefused: string | undefined;
  for (const s of holders) {
    const m = serviceRequest(s, serviceKey(s) === key ? input.namespaceLabels : {});
    if (!m.ok) continue;
    const r = allocator.restore(m.request, statusIPs(s));
    if (!r.ok && serviceKey(s) === key) restoreRefused = r.why;
  }
  return { allocator, invalid: cfg.invalid, ...(restoreRefused === undefined ? {} : { restoreRefused }) };
}

/** What a decision means for a Service that holds `had`. */
function outcomeOf(d: Decision, had: readonly string[], ctx: { namespace: string; restoreRefused: string | undefined; lines: (d: Decision, notConsidered: string) => PoolLine[]; notConsidered: string }): AllocationReport {
  if (!d.ok) {
    if (had.length === 0) return { outcome: 'refused', reason: d.reason, message: d.message, pools: ctx.lines(d, ctx.notConsidered) };
    return { outcome: 'wouldRelease', reason: d.reason, message: `holds ${had.join(', ')}, which the controller would release (${d.releaseReason ?? ctx.restoreRefused ?? 'its request changed'}), and has no replacement: ${d.message}`, pools: ctx.lines(d, ctx.notConsidered) };
  }
  const ips = d.assignment.ips.map(formatIP).join(', ');
  if (had.length === 0) {
    return {
      outcome: 'pending',
      message: `the allocator would assign ${ips} from pool ${d.assignment.pool} now, but the controller has not: is it running, with --namespace ${ctx.namespace} and this --lb-class?`,
      pools: ctx.lines(d, ctx.notConsidered),
    };
  }
  if (d.action === 'Kept') {
    const grace = d.releaseInMs === undefined ? '' : ` (${d.moveReason ?? 'no pool contains it'}: it will be released unless a pool contains it again)`;
    const held: Decision = { ...d, considered: [{ pool: d.assignment.pool, verdict: 'chosen', detail: `holds ${ips}` }] };
    return { outcome: 'holds', message: `holds ${ips} from pool ${d.assignment.pool}: its request is still met${grace}`, pools: ctx.lines(held, 'not needed: the Service keeps its IPs') };
  }
  return { outcome: 'wouldMove', reason: 'Moved', message: `holds ${had.join(', ')}, which the controller would replace with ${ips} from pool ${d.assignment.pool}: ${d.moveReason ?? ctx.restoreRefused ?? ''}`, pools: ctx.lines(d, ctx.notConsidered) };
}

/**
 * Replays the controller (see {@link replay}), then runs the Service's own request through
 * `assign`, the call the controller makes, to get its decision and the verdict on each pool.
 * Pools the controller keeps frozen (an invalid edit of a pool that was valid) cannot be seen
 * from outside; they show as invalid.
 */
export function explainAllocation(input: ExplainInput): AllocationReport {
  const svc = input.service;
  const key = serviceKey(svc);
  const poolNames = (input.pools as RawPool[]).map((p) => p.metadata?.name ?? '').filter((n) => n !== '').sort();
  const handled = handles(svc, input.lbClass);
  if (!handled.ok) return notHandled(input, handled.reason);
  const { allocator, invalid, restoreRefused } = replay(input, key);
  const lines = (d: Decision | undefined, notConsidered: string): PoolLine[] => poolLines(d, poolNames, invalid, notConsidered);
  const model = serviceRequest(svc, input.namespaceLabels);
  if (!model.ok) return { outcome: 'invalidRequest', reason: model.reason, message: model.message, pools: lines(undefined, 'not considered: the request is invalid') };
  const req = model.request;
  const d = allocator.assign(req);
  const notConsidered =
    req.requestedIPs.length > 0
      ? `not considered: the Service requests ${req.requestedIPs.map(formatIP).join(', ')}`
      : req.pool !== undefined
        ? `not considered: the Service requests pool ${req.pool}`
        : d.ok
          ? 'not needed: an earlier pool was chosen'
          : 'not considered';
  return outcomeOf(d, statusIPs(svc).map(formatIP), { namespace: input.namespace, restoreRefused, lines, notConsidered });
}

function l2Lines(p: IPPlan, known: readonly string[]): NodeLine[] {
  const eligible = new Set(p.eligible);
  return known.map((node): NodeLine => {
    if (node === p.owner) return { node, announces: true, reason: 'owner', detail: `elected: ${OWNER_REASON_TEXT[p.reason as OwnerReason] ?? p.reason}` };
    const why: NodeReason | undefined = p.excluded.get(node);
    if (why !== undefined) return { node, announces: false, reason: why, detail: NODE_REASON_TEXT[why] };
    if (eligible.has(node)) return { node, announces: false, reason: 'eligible', detail: p.owner === undefined ? 'eligible, but no owner was elected' : `eligible, but ${p.owner} was elected (one node answers ARP/NDP per IP)` };
    return { node, announces: false, reason: 'unknown', detail: 'not in the plan' };
  });
}

function l2Summary(p: IPPlan): { reason: string; detail: string } {
  if (p.owner !== undefined) return { reason: p.reason, detail: `${p.owner}: ${OWNER_REASON_TEXT[p.reason as OwnerReason] ?? p.reason}` };
  const text = (IP_REASON_TEXT as Record<string, string>)[p.reason] ?? p.reason;
  return { reason: p.reason, detail: p.reason === 'noL2Advertisement' && p.pool !== undefined ? `no L2Advertisement selects pool ${p.pool}` : text };
}

function bgpLines(ip: IP, plans: ReadonlyMap<string, BgpPlan>, alive: ReadonlySet<string>): IPAnnouncement['bgp'] {
  const nodes: NodeLine[] = [];
  const reasons = new Set<string>();
  for (const [node, plan] of plans) {
    const p = plan.ips.get(ipKey(ip));
    if (p === undefined) continue;
    reasons.add(p.reason);
    if (p.reason === 'announced' && !alive.has(node)) {
      nodes.push({ node, announces: false, reason: 'speakerNotAlive', detail: `would announce to ${p.peers.join(', ')}, but its speaker is not alive (no fresh herald-speaker Lease)` });
      continue;
    }
    nodes.push({ node, announces: p.reason === 'announced', reason: p.reason, detail: p.reason === 'announced' ? bgpReasonLine(p.reason, p.peers) : BGP_REASON_TEXT[p.reason] });
  }
  const only = reasons.size === 1 ? [...reasons][0] : undefined;
  if (only === 'noBGPAdvertisement' || only === 'notInAnyPool') {
    const pool = [...plans.values()][0]?.ips.get(ipKey(ip))?.pool;
    return { reason: only, detail: only === 'noBGPAdvertisement' && pool !== undefined ? `no BGPAdvertisement selects pool ${pool}` : BGP_REASON_TEXT[only], nodes };
  }
  return { nodes };
}

/** Who announces each IP of the Service, and why each other node does not. */
export function explainAnnouncements(input: ExplainInput, speakers: readonly SpeakerLease[]): IPAnnouncement[] {
  const ips = statusIPs(input.service);
  if (ips.length === 0 || !handles(input.service, input.lbClass).ok) return [];
  const alive = new Set(speakers.filter((s) => s.alive).map((s) => s.node));
  // The same model the speakers run (a one-shot process: no last good versions of its own).
  const config = buildConfig({
    IPAddressPool: input.pools,
    L2Advertisement: input.l2Advertisements,
    BGPAdvertisement: input.bgpAdvertisements,
    BGPPeer: input.bgpPeers,
    BFDProfile: input.bfdProfiles,
    Community: input.communities,
  });
  const pools = config.pools.map((p) => p.pool);
  const cls = input.lbClass === undefined ? {} : { loadBalancerClass: input.lbClass };
  const l2 = planL2({ nodes: input.nodes, services: input.services, endpointSlices: input.endpointSlices, pools, advertisements: config.l2Advertisements, alive, ...cls });
  const known = [...new Set([...input.nodes.map((n) => n.metadata?.name ?? ''), ...speakers.map((s) => s.node)])].filter((n) => n !== '').sort();
  const bgpWorld = {
    nodes: input.nodes,
    services: input.services,
    endpointSlices: input.endpointSlices,
    pools,
    advertisements: config.bgpAdvertisements,
    peers: config.bgpPeers,
    bfdProfiles: config.bfdProfiles,
    communities: config.communities,
    ...cls,
  };
  const bgpPlans = new Map(known.map((node) => [node, planBgp({ ...bgpWorld, node })]));
  return ips.map((ip): IPAnnouncement => {
    const p = l2.ips.get(ipKey(ip));
    const pool = p?.pool ?? [...bgpPlans.values()][0]?.ips.get(ipKey(ip))?.pool;
    return {
      ip: formatIP(ip),
      ...(pool === undefined ? {} : { pool }),
      l2: p === undefined ? { reason: 'notPlanned', detail: 'the L2 planner does not announce this Service', nodes: [] } : { ...(p.owner === undefined ? {} : { owner: p.owner }), ...l2Summary(p), nodes: l2Lines(p, known) },
      bgp: bgpLines(ip, bgpPlans, alive),
    };
  });
}

function eventTime(e: EventsV1Event): number {
  const t = (e.series?.lastObservedTime ?? e.eventTime ?? e.deprecatedLastTimestamp ?? e.metadata?.creationTimestamp) as Date | string | undefined;
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}

function eventLines(events: readonly EventsV1Event[]): EventLine[] {
  return [...events]
    .sort((a, b) => eventTime(a) - eventTime(b))
    .slice(-MAX_EVENTS)
    .map((e) => ({
      time: eventTime(e) === 0 ? '' : new Date(eventTime(e)).toISOString(),
      type: e.type ?? '',
      reason: e.reason ?? '',
      from: e.reportingController ?? e.deprecatedSource?.component ?? '',
      message: e.note ?? '',
    }));
}

function summarize(key: string, ips: readonly string[], pool: string | undefined, a: AllocationReport, rep: Reported): string {
  if (a.outcome === 'notHandled') return `${key} is not Herald's: ${a.message}`;
  if (ips.length === 0) {
    if (a.outcome === 'pending') return `${key} has no IP yet: ${a.message}`;
    return `${key} has no IP: ${a.reason ?? ''}: ${a.message}`;
  }
  const has = `${key} has ${ips.join(', ')}${pool === undefined ? '' : ` (pool ${pool})`}`;
  const parts: string[] = [];
  if (rep.l2.length > 0) parts.push(`over L2 by ${rep.l2.map((r) => r.node).join(', ')}`);
  if (rep.bgp.length > 0) parts.push(`over BGP by ${rep.bgp.map((r) => r.node).join(', ')}`);
  return parts.length === 0 ? `${has}, but no node reports announcing it` : `${has}, announced ${parts.join(' and ')}`;
}

/** The whole explanation. Pure. */
export function explain(input: ExplainInput): Explanation {
  const svc = input.service;
  const key = serviceKey(svc);
  const ips = statusIPs(svc).map(formatIP);
  const pool = svc.metadata?.annotations?.[ANN_ALLOCATED_FROM];
  const c = svc.status?.conditions?.find((x) => x.type === CONDITION_ASSIGNED);
  const allocation = explainAllocation(input);
  const speakers = speakersFromLeases(input.leases, input.now);
  const reported = reportedFor(input.statusObjects, svc.metadata?.namespace ?? '', svc.metadata?.name ?? '');
  const announcements = explainAnnouncements(input, speakers);
  // The sessions that matter: those of nodes that announce, or would, over BGP.
  const bgpNodes = new Set([...reported.bgp.map((r) => r.node), ...announcements.flatMap((a) => a.bgp.nodes.filter((n) => n.reason === 'announced' || n.reason === 'speakerNotAlive').map((n) => n.node))]);
  const sessions = sessionRows(input.statusObjects.sessions, input.now).filter((s) => bgpNodes.has(s.node));
  const healthy = allocation.outcome !== 'notHandled' && ips.length > 0 && (reported.l2.length > 0 || reported.bgp.length > 0);
  const lt = c?.lastTransitionTime as Date | string | undefined;
  return {
    service: key,
    healthy,
    summary: summarize(key, ips, pool, allocation, reported),
    ips,
    ...(pool === undefined ? {} : { pool }),
    ...(c === undefined
      ? {}
      : { condition: { status: c.status, reason: c.reason, message: c.message, ...(lt === undefined ? {} : { lastTransitionTime: lt instanceof Date ? lt.toISOString() : lt }) } }),
    allocation,
    speakers,
    announcements,
    reported,
    sessions,
    events: eventLines(input.events),
  };
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');
}

function speakerCell(s: SpeakerLease): string {
  if (s.alive) return `${s.node} alive`;
  return `${s.node} not alive${s.expiredForMs === undefined ? '' : ` (Lease expired ${shortDuration(s.expiredForMs)} ago)`}`;
}

function renderAnnouncement(a: IPAnnouncement): string {
  const out: string[] = [`Announcement of ${a.ip}${a.pool === undefined ? '' : ` (pool ${a.pool})`}:`];
  out.push(`  L2: ${a.l2.owner === undefined ? `nobody: ${a.l2.reason}: ${a.l2.detail}` : `${a.l2.owner} answers (${a.l2.reason}: ${a.l2.detail.replace(`${a.l2.owner}: `, '')})`}`);
  if (a.l2.nodes.length > 0 && a.l2.reason !== 'noL2Advertisement' && a.l2.reason !== 'serviceNotSelected' && a.l2.reason !== 'notInAnyPool') {
    out.push(indent(renderTable(['NODE', 'ANNOUNCES', 'REASON', 'WHY'], a.l2.nodes.map((n) => [n.node, n.announces ? 'yes' : 'no', n.reason, n.detail])), '    ').trimEnd());
  }
  if (a.bgp.reason !== undefined) out.push(`  BGP: nobody: ${a.bgp.reason}: ${a.bgp.detail ?? ''}`);
  else if (a.bgp.nodes.length === 0) out.push('  BGP: no node known');
  else {
    const by = a.bgp.nodes.filter((n) => n.announces).map((n) => n.node);
    out.push(`  BGP: ${by.length === 0 ? 'nobody' : `${list(by)} announce${by.length === 1 ? 's' : ''}`}`);
    out.push(indent(renderTable(['NODE', 'ANNOUNCES', 'REASON', 'WHY'], a.bgp.nodes.map((n) => [n.node, n.announces ? 'yes' : 'no', n.reason, n.detail])), '    ').trimEnd());
  }
  return out.join('\n');
}

/** The explanation as text. */
export function renderExplanation(e: Explanation): string {
  const out: string[] = [];
  out.push(`Service:    ${e.service}`);
  out.push(`Verdict:    ${e.healthy ? 'ok' : 'NOT OK'}: ${e.summary}`);
  out.push(`IPs:        ${e.ips.length === 0 ? '<none>' : e.ips.join(', ')}${e.pool === undefined ? '' : ` (pool ${e.pool})`}`);
  out.push(`Condition:  ${e.condition === undefined ? `${CONDITION_ASSIGNED} not set` : `${CONDITION_ASSIGNED}=${e.condition.status} ${e.condition.reason}: ${e.condition.message}${e.condition.lastTransitionTime === undefined ? '' : ` (since ${e.condition.lastTransitionTime})`}`}`);
  out.push('');
  out.push(`Allocation: ${e.allocation.outcome}${e.allocation.reason === undefined ? '' : ` (${e.allocation.reason})`}: ${e.allocation.message}`);
  if (e.allocation.pools.length > 0) {
    out.push(indent(renderTable(['POOL', 'VERDICT', 'WHY'], e.allocation.pools.map((p) => [p.pool, p.verdict, p.verdict === 'notAdmitted' ? `does not admit the Service: ${p.detail}` : p.detail]))).trimEnd());
  }
  if (e.ips.length > 0 && e.allocation.outcome !== 'notHandled') {
    out.push('');
    out.push(`Speakers (from Leases): ${e.speakers.length === 0 ? 'none' : e.speakers.map(speakerCell).join(', ')}`);
    for (const s of e.speakers) if (s.alive && s.l2Warning !== undefined) out.push(`  L2 WARNING on ${s.node}: ${s.l2Warning}`);
    for (const a of e.announcements) {
      out.push('');
      out.push(renderAnnouncement(a));
    }
    out.push('');
    out.push('Reported by speakers:');
    out.push(`  L2:  ${e.reported.l2.length === 0 ? 'nobody' : e.reported.l2.map((r) => `${r.node}${r.interfaces.length > 0 ? ` (interfaces ${r.interfaces.join(', ')})` : ''}`).join('; ')}`);
    out.push(`  BGP: ${e.reported.bgp.length === 0 ? 'nobody' : e.reported.bgp.map((r) => `${r.node} -> ${r.peers.join(', ')}`).join('; ')}`);
    if (e.sessions.length > 0) {
      out.push('');
      out.push('BGP sessions of the announcing nodes:');
      out.push(indent(renderTable(['NODE', 'PEER', 'ADDRESS', 'BGP', 'BFD', 'UPTIME', 'LAST ERROR'], e.sessions.map((s) => [s.node, s.peer, s.address, s.bgp, s.bfd, s.uptimeMs === undefined ? '' : shortDuration(s.uptimeMs), s.lastError ?? '']))).trimEnd());
    }
  }
  out.push('');
  out.push(`Events (last ${MAX_EVENTS}):`);
  out.push(e.events.length === 0 ? '  none' : indent(renderTable(['TIME', 'TYPE', 'REASON', 'FROM', 'MESSAGE'], e.events.map((ev) => [ev.time, ev.type, ev.reason, ev.from, ev.message]))).trimEnd());
  return out.join('\n') + '\n';
}

/** Reads what `explain` needs; NotFound (exit 3) when the Service or Herald's namespace does not exist. */
export async function loadExplain(api: ClusterApi, opts: { namespace: string; lbClass?: string | undefined; service: { namespace: string; name: string }; now: () => number }): Promise<ExplainInput> {
  const ns = opts.namespace;
  const { namespace: svcNs, name } = opts.service;
  const custom = (plural: string): Promise<unknown[]> => api.listCustom({ group: GROUP, version: VERSION, plural, namespace: ns });
  const [service, heraldNs, svcNsObj] = await Promise.all([api.readService(svcNs, name), api.readNamespace(ns), api.readNamespace(svcNs)]);
  if (service === undefined) throw notFound(`service ${svcNs}/${name} not found`);
  if (heraldNs === undefined) throw notFound(`namespace ${ns} not found: pass Herald's namespace with -n`);
  const [services, pools, l2Ads, bgpAds, peers, bfd, communities, nodes, slices, leases, l2, bgp, sessions, events] = await Promise.all([
    api.listServices(),
    custom(IPAddressPoolKind.plural),
    custom(L2AdvertisementKind.plural),
    custom(BGPAdvertisementKind.plural),
    custom(BGPPeerKind.plural),
    custom(BFDProfileKind.plural),
    custom(CommunityKind.plural),
    api.listNodes(),
    api.listEndpointSlices(),
    api.listLeases(ns, `${SPEAKER_LEASE_LABEL}=${SPEAKER_LEASE_LABEL_VALUE}`),
    custom(ServiceL2StatusKind.plural),
    custom(ServiceBGPStatusKind.plural),
    custom(BGPSessionStateKind.plural),
    api.listServiceEvents(svcNs, name),
  ]);
  return {
    namespace: ns,
    service,
    namespaceLabels: svcNsObj?.metadata?.labels ?? {},
    services,
    pools,
    l2Advertisements: l2Ads,
    bgpAdvertisements: bgpAds,
    bgpPeers: peers,
    bfdProfiles: bfd,
    communities,
    nodes,
    endpointSlices: slices,
    leases,
    statusObjects: parseStatusObjects({ l2, bgp, sessions }),
    events,
    lbClass: opts.lbClass,
    now: opts.now(),
  };
}
