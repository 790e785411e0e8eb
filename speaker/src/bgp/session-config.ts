/**
 * From a planned session to what bgp-speaker-lite is given: the peer's options, the routes
 * with their next hops, the BFD parameters. Pure, so the translation of every BGPPeer field is
 * unit-tested; the controller only does I/O with the result.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import { durationWholeSeconds, type BFDProfileSpec } from '@herald/shared/api';
import { parseIP, type Family } from '@herald/shared/ip';
import type { RouteIntent, SessionPlan } from './plan.js';

/** What the node contributes to a session: addresses, and the password read from a Secret. */
export interface NodeContext {
  readonly node: string;
  /** The Node's InternalIP addresses (ExternalIP when it has none), by family; first wins. */
  readonly addresses: Partial<Record<Family, string>>;
}

/** Everything a session is built from; two equal fingerprints need no new session. */
export interface SessionConfig {
  readonly name: string;
  readonly localAsn: number;
  /** Undefined with dynamicASN. */
  readonly peerAsn: number | undefined;
  readonly dynamicAsn: 'internal' | 'external' | undefined;
  readonly peerAddress: string;
  readonly port: number;
  readonly localAddress: string | undefined;
  readonly routerId: string;
  readonly holdTimeSec: number;
  readonly keepaliveSec: number | undefined;
  readonly connectRetryMaxMs: number | undefined;
  readonly families: readonly ('ipv4' | 'ipv6')[];
  readonly ibgp: boolean;
  /** eBGP over more than one hop: TTL 255 instead of 1 (RFC 4271 has no TTL rule; this is common practice). */
  readonly ttl: number;
  readonly gracefulRestart: boolean;
  readonly bfd: BfdConfig | undefined;
  /** Next hop per family: the session's source address for its own family, else the node's address. */
  readonly nextHops: Partial<Record<Family, string>>;
}

export interface BfdConfig {
  readonly mode: 'singleHop' | 'multiHop';
  readonly localAddress: string;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly detectMult: number;
  readonly passive: boolean;
}

/** A route as bgp-speaker-lite takes it. */
export interface LiteRoute {
  readonly prefix: string;
  readonly nextHop: string;
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
  readonly localPref?: number;
}

/** The Node's addresses by family: InternalIP first, ExternalIP when it has no InternalIP of that family. */
export function nodeAddresses(node: V1Node | undefined): Partial<Record<Family, string>> {
  const out: Partial<Record<Family, string>> = {};
  for (const type of ['InternalIP', 'ExternalIP']) {
    for (const a of node?.status?.addresses ?? []) {
      if (a.type !== type) continue;
      const ip = parseIP(a.address);
      if (ip !== undefined && out[ip.family] === undefined) out[ip.family] = a.address;
    }
  }
  return out;
}

/**
 * The BGP Identifier (RFC 4271 §4.2; RFC 6286 §2.1 only asks that it be a non-zero 4-octet
 * value unique within the AS): the configured one, else the node's IPv4 address, else four
 * octets of SHA-256 of the node name, so an IPv6-only node gets the same one after a restart.
 */
export function routerIdFor(configured: string | undefined, ctx: NodeContext): string {
  if (configured !== undefined) return configured;
  if (ctx.addresses[4] !== undefined) return ctx.addresses[4];
  const h = createHash('sha256').update(ctx.node).digest();
  // Avoid 0.0.0.0 and the multicast/reserved first octets some routers reject.
  const first = ((h[0] ?? 1) % 223) + 1;
  return `${first}.${h[1] ?? 0}.${h[2] ?? 0}.${h[3] ?? 1}`;
}

function seconds(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const s = durationWholeSeconds(d);
  return s === undefined ? undefined : Number(s);
}

export function bfdConfig(profile: BFDProfileSpec | undefined, multiHop: boolean, localAddress: string | undefined): BfdConfig | undefined {
  if (profile === undefined || localAddress === undefined) return undefined;
  return {
    mode: multiHop ? 'multiHop' : 'singleHop',
    localAddress,
    desiredMinTxUs: profile.transmitInterval * 1000,
    requiredMinRxUs: profile.receiveInterval * 1000,
    detectMult: profile.detectMultiplier,
    passive: profile.passiveMode,
  };
}

/** The session's configuration on this node. */
export function sessionConfig(plan: SessionPlan, ctx: NodeContext): SessionConfig {
  const s = plan.spec;
  const peerFamily = parseIP(s.peerAddress)?.family ?? 4;
  const ibgp = s.peerASN === s.myASN || s.dynamicASN === 'internal';
  const hold = seconds(s.holdTime);
  const keepalive = seconds(s.keepaliveTime);
  // MetalLB's defaults: holdTime 90s, or 3 x keepaliveTime when only that is set.
  const holdTimeSec = hold ?? (keepalive !== undefined ? keepalive * 3 : 90);
  const localAddress = s.sourceAddress;
  const nextHops: Partial<Record<Family, string>> = { ...ctx.addresses };
  if (localAddress !== undefined) nextHops[peerFamily] = localAddress;
  const connect = seconds(s.connectTime);
  return {
    name: plan.name,
    localAsn: s.myASN,
    peerAsn: s.peerASN,
    dynamicAsn: s.dynamicASN,
    peerAddress: s.peerAddress,
    port: s.peerPort,
    localAddress,
    routerId: routerIdFor(s.routerID, ctx),
    holdTimeSec,
    keepaliveSec: keepalive,
    connectRetryMaxMs: connect === undefined ? undefined : connect * 1000,
    families: plan.families.map((f) => (f === 4 ? 'ipv4' : 'ipv6')),
    ibgp,
    ttl: ibgp || s.ebgpMultiHop === true ? 255 : 1,
    gracefulRestart: s.enableGracefulRestart === true,
    bfd: bfdConfig(plan.bfd, s.ebgpMultiHop === true, localAddress ?? ctx.addresses[peerFamily]),
    nextHops,
  };
}

/** Routes with next hops; routes of a family with no next hop on this node are left out. */
export function liteRoutes(intents: readonly RouteIntent[], nextHops: Partial<Record<Family, string>>): LiteRoute[] {
  const out: LiteRoute[] = [];
  for (const r of intents) {
    const nextHop = nextHops[r.family];
    if (nextHop === undefined) continue;
    out.push({
      prefix: r.prefix,
      nextHop,
      ...(r.communities.length > 0 ? { communities: r.communities } : {}),
      ...(r.largeCommunities.length > 0 ? { largeCommunities: r.largeCommunities } : {}),
      ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
    });
  }
  return out;
}

/** Equal exactly when a running session can be kept; the password enters only as a hash. */
export function fingerprint(cfg: SessionConfig, password: string | undefined): string {
  const pw = password === undefined ? '' : createHash('sha256').update(password).digest('hex');
  // Next hops change routes, not the session.
  const { nextHops: _ignored, ...rest } = cfg;
  return JSON.stringify({ ...rest, pw });
}
