/**
 * `herald status`: pools with their use per family, Services with IPs, mode, announcing
 * nodes and peers, BGP sessions, and the problems among them. {@link buildStatus} is pure;
 * {@link loadStatus} reads the cluster through a {@link ClusterApi}.
 * @packageDocumentation
 */
import type { V1Service } from '@kubernetes/client-node';
import {
  BFDProfileKind,
  BGPAdvertisementKind,
  BGPPeerKind,
  BGPSessionStateKind,
  CommunityKind,
  GROUP,
  L2AdvertisementKind,
  IPAddressPoolKind,
  ServiceBGPStatusKind,
  ServiceL2StatusKind,
  VERSION,
  fromCount,
  type Count,
} from '@herald/shared/api';
import { formatIP, isAddressParseError, parsePoolAddress } from '@herald/shared/ip';
import { ANN_ALLOCATED_FROM, CONDITION_ASSIGNED, handles, serviceKey, statusIPs } from '@herald/controller';
import type { ClusterApi } from './api.js';
import { notFound } from './errors.js';
import { parseStatusObjects, reportedFor, sessionProblem, sessionRows, type SessionRow, type StatusObjects } from './objects.js';
import { list, percent, renderTable, shortDuration } from './table.js';

/** Everything `status` reads. */
export interface StatusInput {
  readonly namespace: string;
  readonly lbClass?: string | undefined;
  readonly now: number;
  readonly pools: readonly unknown[];
  readonly services: readonly V1Service[];
  readonly statusObjects: StatusObjects;
  /** The other configuration objects (L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile, Community), for their Valid condition. */
  readonly configObjects?: readonly unknown[];
}

/** A configuration object whose Valid condition is False. */
export interface InvalidObject {
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
  readonly message: string;
}

export interface FamilyUse {
  readonly family: 'IPv4' | 'IPv6';
  /** Decimal strings: counts can exceed 2^53 (an IPv6 /64). Empty when the pool has no status yet. */
  readonly assigned: string;
  readonly available: string;
  readonly total: string;
  /** assigned / total in percent, one decimal; null when unknown or the total is 0. */
  readonly percent: number | null;
}

export interface PoolRow {
  readonly name: string;
  /** The pool's Valid condition: True, False, or Unknown before the controller wrote one. */
  readonly valid: 'True' | 'False' | 'Unknown';
  readonly message?: string;
  readonly addresses: readonly string[];
  readonly families: readonly FamilyUse[];
}

export interface ServiceRow {
  readonly service: string;
  readonly ips: readonly string[];
  readonly pool?: string;
  /** herald.io/AddressAssigned: status and reason. */
  readonly assigned?: { readonly status: string; readonly reason: string; readonly message: string };
  readonly mode: 'L2' | 'BGP' | 'L2+BGP' | 'none';
  /** Nodes reporting that they announce it (ServiceL2Status, ServiceBGPStatus). */
  readonly nodes: readonly string[];
  /** BGPPeers it is announced to, over all nodes. */
  readonly peers: readonly string[];
}

export interface StatusReport {
  readonly namespace: string;
  /** Configuration objects the controller marked Valid=False, pools first: listed before everything else. */
  readonly invalid: readonly InvalidObject[];
  readonly pools: readonly PoolRow[];
  readonly services: readonly ServiceRow[];
  readonly sessions: readonly SessionRow[];
  /** One line each; empty when healthy. */
  readonly problems: readonly string[];
}

interface RawPoolObject {
  metadata?: { name?: string };
  spec?: { addresses?: unknown };
  status?: { assignedIPv4?: Count; assignedIPv6?: Count; availableIPv4?: Count; availableIPv6?: Count; conditions?: { type?: string; status?: string; message?: string }[] };
}

const count = (c: unknown): bigint | undefined => {
  if (typeof c !== 'number' && typeof c !== 'string') return undefined;
  try {
    return fromCount(c);
  } catch {
    return undefined;
  }
};

function familyUse(family: 'IPv4' | 'IPv6', assignedRaw: unknown, availableRaw: unknown): FamilyUse {
  const assigned = count(assignedRaw);
  const available = count(availableRaw);
  const total = assigned !== undefined && available !== undefined ? assigned + available : undefined;
  return {
    family,
    assigned: assigned?.toString() ?? '',
    available: available?.toString() ?? '',
    total: total?.toString() ?? '',
    percent: total === undefined || assigned === undefined ? null : percent(assigned, total),
  };
}

/** The families of the pool's address entries that parse. */
function familiesOf(addresses: readonly string[]): Set<4 | 6> {
  const fams = new Set<4 | 6>();
  for (const a of addresses) {
    const r = parsePoolAddress(a);
    if (!isAddressParseError(r)) fams.add(r.family);
  }
  return fams;
}

function poolRow(raw: RawPoolObject): PoolRow {
  const addresses = Array.isArray(raw.spec?.addresses) ? raw.spec.addresses.filter((a): a is string => typeof a === 'string') : [];
  const fams = familiesOf(addresses);
  const st = raw.status ?? {};
  const families: FamilyUse[] = [];
  // A family the pool lost in an edit still shows while Services hold its addresses.
  if (fams.has(4) || (count(st.assignedIPv4) ?? 0n) > 0n) families.push(familyUse('IPv4', st.assignedIPv4, st.availableIPv4));
  if (fams.has(6) || (count(st.assignedIPv6) ?? 0n) > 0n) families.push(familyUse('IPv6', st.assignedIPv6, st.availableIPv6));
  const valid = st.conditions?.find((c) => c.type === 'Valid');
  const v = valid?.status === 'True' || valid?.status === 'False' ? valid.status : 'Unknown';
  return { name: raw.metadata?.name ?? '', valid: v, ...(valid?.message ? { message: valid.message } : {}), addresses, families };
}

function serviceRow(svc: V1Service, objs: StatusObjects): ServiceRow {
  const ns = svc.metadata?.namespace ?? '';
  const name = svc.metadata?.name ?? '';
  const rep = reportedFor(objs, ns, name);
  const c = svc.status?.conditions?.find((x) => x.type === CONDITION_ASSIGNED);
  const l2 = rep.l2.length > 0;
  const bgp = rep.bgp.length > 0;
  const pool = svc.metadata?.annotations?.[ANN_ALLOCATED_FROM];
  return {
    service: serviceKey(svc),
    ips: statusIPs(svc).map(formatIP),
    ...(pool === undefined ? {} : { pool }),
    ...(c === undefined ? {} : { assigned: { status: c.status, reason: c.reason, message: c.message } }),
    mode: l2 && bgp ? 'L2+BGP' : l2 ? 'L2' : bgp ? 'BGP' : 'none',
    nodes: [...new Set([...rep.l2.map((r) => r.node), ...rep.bgp.map((r) => r.node)])].sort(),
    peers: [...new Set(rep.bgp.flatMap((r) => r.peers))].sort(),
  };
}

/** The status report. Pure. */
export function buildStatus(input: StatusInput): StatusReport {
  const pools = (input.pools as RawPoolObject[]).map(poolRow).sort((a, b) => a.name.localeCompare(b.name));
  const services = input.services
    .filter((s) => handles(s, input.lbClass).ok)
    .map((s) => serviceRow(s, input.statusObjects))
    .sort((a, b) => a.service.localeCompare(b.service));
  const sessions = sessionRows(input.statusObjects.sessions, input.now);
  const invalid: InvalidObject[] = [
    ...pools.filter((p) => p.valid === 'False').map((p) => ({ kind: 'IPAddressPool', name: p.name, reason: 'Invalid', message: p.message ?? 'see its Valid condition' })),
    ...invalidConfig(input.configObjects ?? []),
  ];
  const problems: string[] = [];
  for (const o of invalid) problems.push(`${o.kind === 'IPAddressPool' ? 'pool' : o.kind} ${o.name} is invalid: ${o.message}`);
  for (const s of services) {
    if (s.ips.length === 0) {
      const why = s.assigned?.status === 'False' ? `${s.assigned.reason}: ${s.assigned.message}` : 'the controller has not assigned one (is it running with this --lb-class?)';
      problems.push(`Service ${s.service} has no IP: ${why}`);
    } else if (s.mode === 'none') {
      problems.push(`Service ${s.service} has ${list(s.ips)} but no node reports announcing it (run: herald explain ${s.service})`);
    }
  }
  for (const s of sessions) {
    const p = sessionProblem(s);
    if (p !== undefined) problems.push(p);
  }
  return { namespace: input.namespace, invalid, pools, services, sessions, problems };
}

/** Objects whose Valid condition is False, by kind then name. */
function invalidConfig(objs: readonly unknown[]): InvalidObject[] {
  const out: InvalidObject[] = [];
  for (const o of objs as { kind?: string; metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } }[]) {
    const c = o.status?.conditions?.find((x) => x.type === 'Valid');
    if (c?.status !== 'False') continue;
    out.push({ kind: o.kind ?? '', name: o.metadata?.name ?? '', reason: c.reason ?? '', message: c.message ?? '' });
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

function useCell(f: FamilyUse | undefined): string {
  if (f === undefined) return '-';
  if (f.total === '') return 'unknown';
  return `${f.assigned}/${f.total}${f.percent === null ? '' : ` (${f.percent}%)`}`;
}

/** The report as text: POOLS, SERVICES, BGP SESSIONS, PROBLEMS. */
export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  if (r.invalid.length > 0) {
    out.push('INVALID CONFIGURATION (the last valid version of each stays in force)');
    out.push(renderTable(['KIND', 'NAME', 'REASON', 'MESSAGE'], r.invalid.map((o) => [o.kind, o.name, o.reason, o.message])));
  }
  out.push(`POOLS (namespace ${r.namespace})`);
  out.push(
    r.pools.length === 0
      ? 'no IPAddressPool\n'
      : renderTable(
          ['NAME', 'VALID', 'IPV4 USED', 'IPV6 USED', 'ADDRESSES'],
          r.pools.map((p) => [p.name, p.valid, useCell(p.families.find((f) => f.family === 'IPv4')), useCell(p.families.find((f) => f.family === 'IPv6')), list(p.addresses)]),
        ),
  );
  out.push('SERVICES');
  out.push(
    r.services.length === 0
      ? 'no LoadBalancer Service handled by Herald\n'
      : renderTable(
          ['SERVICE', 'IPS', 'POOL', 'MODE', 'NODES', 'BGP PEERS', 'ASSIGNED'],
          r.services.map((s) => [s.service, list(s.ips), s.pool ?? '', s.mode, list(s.nodes), list(s.peers), s.assigned ? `${s.assigned.status} ${s.assigned.reason}` : '']),
        ),
  );
  out.push('BGP SESSIONS');
  out.push(
    r.sessions.length === 0
      ? 'no BGPSessionState\n'
      : renderTable(
          ['NODE', 'PEER', 'ADDRESS', 'BGP', 'BFD', 'UPTIME', 'PREFIXES', 'LAST ERROR'],
          r.sessions.map((s) => [s.node, s.peer, s.address, s.bgp, s.bfd, s.uptimeMs === undefined ? '' : shortDuration(s.uptimeMs), s.prefixesSent?.toString() ?? '', s.lastError ?? '']),
        ),
  );
  out.push('PROBLEMS');
  out.push(r.problems.length === 0 ? 'none\n' : r.problems.map((p) => `- ${p}`).join('\n') + '\n');
  return out.join('\n');
}

/** Reads what `status` needs. Herald's namespace must exist (else NotFound, exit 3). */
export async function loadStatus(api: ClusterApi, opts: { namespace: string; lbClass?: string | undefined; now: () => number }): Promise<StatusInput> {
  const ns = opts.namespace;
  const custom = (plural: string): Promise<unknown[]> => api.listCustom({ group: GROUP, version: VERSION, plural, namespace: ns });
  const kinds = [L2AdvertisementKind, BGPAdvertisementKind, BGPPeerKind, BFDProfileKind, CommunityKind];
  const [nsObj, pools, services, l2, bgp, sessions, ...config] = await Promise.all([
    api.readNamespace(ns),
    custom(IPAddressPoolKind.plural),
    api.listServices(),
    custom(ServiceL2StatusKind.plural),
    custom(ServiceBGPStatusKind.plural),
    custom(BGPSessionStateKind.plural),
    ...kinds.map((k) => custom(k.plural)),
  ]);
  if (nsObj === undefined) throw notFound(`namespace ${ns} not found: pass Herald's namespace with -n`);
  // List items carry no kind: name it.
  const configObjects = config.flatMap((items, i) => (items as Record<string, unknown>[]).map((o) => ({ ...o, kind: kinds[i]?.kind })));
  return { namespace: ns, lbClass: opts.lbClass, now: opts.now(), pools, services, statusObjects: parseStatusObjects({ l2, bgp, sessions }), configObjects };
}
