/**
 * Reading Herald's objects as the controller and speaker read them: zod-parsed (invalid
 * ones skipped, as the speaker does), speaker liveness from Leases, status objects by
 * Service. Pure.
 * @packageDocumentation
 */
import type { V1Lease } from '@kubernetes/client-node';
import {
  BGPSessionStateSchema,
  ServiceBGPStatusSchema,
  ServiceL2StatusSchema,
  type BGPSessionState,
  type ServiceBGPStatus,
  type ServiceL2Status,
} from '@herald/shared/api';
import { L2_WARNING_ANNOTATION, NODE_ANNOTATION } from '@herald/speaker';

/** Label the speaker puts on BGPSessionState: the BGPPeer's name. */
export const PEER_LABEL = 'herald.io/peer';

interface SafeParser<T> {
  safeParse(o: unknown): { success: true; data: T } | { success: false };
}

/** The objects `schema` accepts; the rest are skipped, as the speaker skips them. */
export function parseValid<T>(objs: readonly unknown[], schema: SafeParser<T>): T[] {
  const out: T[] = [];
  for (const o of objs) {
    const r = schema.safeParse(o);
    if (r.success) out.push(r.data);
  }
  return out;
}

const time = (t: Date | string | undefined | null): number | undefined => {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
};

/** One speaker as its Lease shows it. */
export interface SpeakerLease {
  readonly node: string;
  /** renewTime + leaseDurationSeconds is after now. */
  readonly alive: boolean;
  /** renewTime, ISO; absent when the Lease has none. */
  readonly renewTime?: string;
  /** How long ago the Lease expired (ms), when it has. */
  readonly expiredForMs?: number;
  /** What breaks L2 mode on that node, as its speaker publishes it (kube-proxy IPVS without strictARP). */
  readonly l2Warning?: string;
}

/**
 * Speakers from their Leases (`herald-speaker-NODE`): a Lease is fresh while
 * renewTime + leaseDurationSeconds is in the future. The speakers judge freshness by their
 * own clocks and also use gossip membership (ADR 0007); from outside, the Lease is what
 * can be seen, so clock skew between this machine and the holder shifts the answer.
 */
export function speakersFromLeases(leases: readonly V1Lease[], now: number): SpeakerLease[] {
  const byNode = new Map<string, SpeakerLease>();
  for (const l of leases) {
    const node = l.metadata?.annotations?.[NODE_ANNOTATION] ?? l.spec?.holderIdentity;
    if (node === undefined || node === '') continue;
    const renewed = time(l.spec?.renewTime as Date | string | undefined);
    const until = renewed === undefined ? undefined : renewed + Math.max(1, l.spec?.leaseDurationSeconds ?? 10) * 1000;
    const alive = until !== undefined && until > now;
    const rec: SpeakerLease = {
      node,
      alive,
      ...(renewed === undefined ? {} : { renewTime: new Date(renewed).toISOString() }),
      ...(until !== undefined && !alive ? { expiredForMs: now - until } : {}),
      ...(l.metadata?.annotations?.[L2_WARNING_ANNOTATION] ? { l2Warning: l.metadata.annotations[L2_WARNING_ANNOTATION] } : {}),
    };
    const prev = byNode.get(node);
    if (prev === undefined || (!prev.alive && rec.alive)) byNode.set(node, rec);
  }
  return [...byNode.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Status objects of Herald's namespace, parsed. */
export interface StatusObjects {
  readonly l2: readonly ServiceL2Status[];
  readonly bgp: readonly ServiceBGPStatus[];
  readonly sessions: readonly BGPSessionState[];
}

export function parseStatusObjects(raw: { l2: readonly unknown[]; bgp: readonly unknown[]; sessions: readonly unknown[] }): StatusObjects {
  return {
    l2: parseValid(raw.l2, ServiceL2StatusSchema),
    bgp: parseValid(raw.bgp, ServiceBGPStatusSchema),
    sessions: parseValid(raw.sessions, BGPSessionStateSchema),
  };
}

/** What speakers report about one Service: L2 nodes with interfaces, BGP nodes with peers. */
export interface Reported {
  readonly l2: readonly { readonly node: string; readonly interfaces: readonly string[] }[];
  readonly bgp: readonly { readonly node: string; readonly peers: readonly string[] }[];
}

const byNode = <T extends { node: string }>(a: T, b: T): number => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);

/** The status objects naming `namespace/name` (by their status fields, which the labels only mirror). */
export function reportedFor(objs: StatusObjects, namespace: string, name: string): Reported {
  const mine = (s: { serviceName?: string | undefined; serviceNamespace?: string | undefined } | undefined): boolean => s?.serviceNamespace === namespace && s.serviceName === name;
  return {
    l2: objs.l2
      .filter((o) => mine(o.status) && o.status?.node !== undefined)
      .map((o) => ({ node: o.status?.node ?? '', interfaces: (o.status?.interfaces ?? []).map((i) => i.name) }))
      .sort(byNode),
    bgp: objs.bgp
      .filter((o) => mine(o.status) && o.status?.node !== undefined)
      .map((o) => ({ node: o.status?.node ?? '', peers: [...(o.status?.peers ?? [])].sort() }))
      .sort(byNode),
  };
}

/** One BGP session as a row. */
export interface SessionRow {
  readonly node: string;
  /** BGPPeer name (from the object's label), when known. */
  readonly peer: string;
  readonly address: string;
  readonly vrf?: string;
  readonly bgp: string;
  readonly bfd: string;
  readonly establishedSince?: string;
  readonly uptimeMs?: number;
  readonly prefixesSent?: number;
  readonly lastError?: string;
}

export function sessionRows(sessions: readonly BGPSessionState[], now: number): SessionRow[] {
  return sessions
    .map((s): SessionRow => {
      const st = s.status ?? {};
      const since = st.establishedSince === undefined ? undefined : Date.parse(st.establishedSince);
      return {
        node: st.node ?? s.metadata.labels?.['herald.io/node'] ?? '',
        peer: s.metadata.labels?.[PEER_LABEL] ?? '',
        address: st.peer ?? '',
        ...(st.vrf === undefined ? {} : { vrf: st.vrf }),
        bgp: st.bgpStatus ?? 'Unknown',
        bfd: st.bfdStatus ?? 'N/A',
        ...(st.establishedSince === undefined ? {} : { establishedSince: st.establishedSince }),
        ...(since === undefined || Number.isNaN(since) ? {} : { uptimeMs: Math.max(0, now - since) }),
        ...(st.prefixesSent === undefined ? {} : { prefixesSent: st.prefixesSent }),
        ...(st.lastError === undefined ? {} : { lastError: st.lastError }),
      };
    })
    .sort((a, b) => byNode(a, b) || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0) || (a.address < b.address ? -1 : 1));
}

/** Why a session row is a problem, or undefined. */
export function sessionProblem(s: SessionRow): string | undefined {
  const who = `BGP session ${s.node} -> ${s.peer || s.address}${s.peer && s.address ? ` (${s.address})` : ''}`;
  if (s.bgp !== 'Established') return `${who} is ${s.bgp}${s.lastError ? `: ${s.lastError}` : ''}`;
  if (s.bfd !== 'Up' && s.bfd !== 'N/A') return `${who}: BFD is ${s.bfd}`;
  return undefined;
}
