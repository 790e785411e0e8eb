/**
 * The Adj-RIB-Out of one peer (RFC 4271 §3.2): the routes we advertise to it, and the pure diff
 * that turns a new desired set into the announcements and withdrawals to send. No I/O.
 *
 * Routes come in as plain text (`'192.0.2.1/32'`, `'65535:0'`, `'4200000001:1:2'`), are parsed
 * once at this boundary and kept in a canonical form, so that two equal routes compare equal
 * however their communities were ordered or repeated.
 * @packageDocumentation
 */

import { WellKnownCommunity } from '../codec/constants.js';
import { BgpCodecError } from '../codec/errors.js';
import { formatAddress, formatPrefix, parseAddress, parseCommunity, parsePrefix } from '../codec/prefix.js';
import type { RouteAdvertisement } from '../codec/pack.js';
import type { Afi, LargeCommunity, PathAttributes, Prefix } from '../codec/types.js';

/** A route as callers describe it. */
export interface PeerRoute {
  /** `'192.0.2.1/32'` or `'2001:db8::1/128'`. */
  readonly prefix: string;
  /** Next hop of the prefix's family (an IPv6 next hop for IPv4 NLRI, RFC 8950, is not supported). */
  readonly nextHop: string;
  /** RFC 1997 communities, `'asn:value'`. */
  readonly communities?: readonly string[];
  /** RFC 8092 large communities, `'global:local1:local2'`. */
  readonly largeCommunities?: readonly string[];
  /** LOCAL_PREF; sent to internal peers only (RFC 4271 §5.1.5). */
  readonly localPref?: number;
  /** MULTI_EXIT_DISC. */
  readonly med?: number;
}

/** A route parsed and put in canonical form. */
export interface RibRoute {
  readonly prefix: Prefix;
  /** `formatPrefix(prefix)`: the Adj-RIB-Out key. */
  readonly key: string;
  readonly afi: Afi;
  /** Canonical text of the next hop. */
  readonly nextHop: string;
  /** Sorted, without duplicates. */
  readonly communities: readonly number[];
  /** Sorted, without duplicates. */
  readonly largeCommunities: readonly LargeCommunity[];
  readonly localPref?: number;
  readonly med?: number;
  /** Equal exactly when everything but the prefix is equal: routes with the same key share attributes. */
  readonly attrKey: string;
}

/** What to send to bring the peer from one Adj-RIB-Out to another. */
export interface RibDiff {
  /** New prefixes and prefixes whose attributes changed (an UPDATE replaces the old route, RFC 4271 §3.1). */
  readonly announce: readonly RibRoute[];
  /** Prefixes no longer advertised. */
  readonly withdraw: readonly Prefix[];
}

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/** Parses `'global:local1:local2'` (RFC 8092 §3, each part a u32). */
export function parseLargeCommunity(text: string): LargeCommunity {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text);
  const parts = m === null ? [] : [Number(m[1]), Number(m[2]), Number(m[3])];
  const [a, b, c] = parts;
  if (a === undefined || b === undefined || c === undefined || !parts.every(isU32)) {
    throw new BgpCodecError('invalid-community', `invalid large community ${JSON.stringify(text)}: want a:b:c, each 0..4294967295`);
  }
  return [a, b, c];
}

function compareLarge(x: LargeCommunity, y: LargeCommunity): number {
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

function checkU32(what: string, route: PeerRoute, value: number | undefined): void {
  if (value !== undefined && !isU32(value)) {
    throw new RangeError(`route ${route.prefix}: ${what} ${value} is not an unsigned 32-bit integer`);
  }
}

/** Parses and canonicalises one route. Throws `BgpCodecError` or `RangeError` on bad input. */
export function normalizeRoute(route: PeerRoute): RibRoute {
  const prefix = parsePrefix(route.prefix);
  const hop = parseAddress(route.nextHop);
  if (hop === undefined) throw new BgpCodecError('invalid-address', `route ${route.prefix}: bad next hop ${JSON.stringify(route.nextHop)}`);
  if (hop.afi !== prefix.afi) {
    throw new BgpCodecError('invalid-route', `route ${route.prefix}: next hop ${route.nextHop} is not ${prefix.afi} (RFC 8950 is not supported)`);
  }
  checkU32('localPref', route, route.localPref);
  checkU32('med', route, route.med);
  const communities = [...new Set((route.communities ?? []).map(parseCommunity))].sort((a, b) => a - b);
  const large = (route.largeCommunities ?? []).map(parseLargeCommunity).sort(compareLarge);
  const largeCommunities = large.filter((c, i) => i === 0 || compareLarge(c, large[i - 1] as LargeCommunity) !== 0);
  const nextHop = formatAddress(hop.afi, hop.bytes);
  const attrKey = JSON.stringify([prefix.afi, nextHop, communities, largeCommunities, route.localPref ?? null, route.med ?? null]);
  return {
    prefix,
    key: formatPrefix(prefix),
    afi: prefix.afi,
    nextHop,
    communities,
    largeCommunities,
    ...(route.localPref !== undefined ? { localPref: route.localPref } : {}),
    ...(route.med !== undefined ? { med: route.med } : {}),
    attrKey,
  };
}

/** Parses a route list into an Adj-RIB-Out map; a prefix listed twice keeps its last route. */
export function buildRib(routes: readonly PeerRoute[]): Map<string, RibRoute> {
  const rib = new Map<string, RibRoute>();
  for (const route of routes) {
    const r = normalizeRoute(route);
    rib.delete(r.key); // keep insertion order = order of the last mention
    rib.set(r.key, r);
  }
  return rib;
}

/** The changes from `current` to `next`. Pure; order follows `next`, then `current`. */
export function diffRib(current: ReadonlyMap<string, RibRoute>, next: ReadonlyMap<string, RibRoute>): RibDiff {
  const announce: RibRoute[] = [];
  const withdraw: Prefix[] = [];
  for (const [key, route] of next) {
    if (current.get(key)?.attrKey !== route.attrKey) announce.push(route);
  }
  for (const [key, route] of current) {
    if (!next.has(key)) withdraw.push(route.prefix);
  }
  return { announce, withdraw };
}

/** The session facts that shape the attributes we send. */
export interface AttributeContext {
  readonly localAsn: number;
  /** Internal peer: empty AS_PATH and LOCAL_PREF (RFC 4271 §5.1.2, §5.1.5). */
  readonly ibgp: boolean;
}

/**
 * The path attributes of each route for one session, ready for `packUpdates`. Routes with the
 * same `attrKey` share one attributes object, which lets the packer group them cheaply.
 */
export function toAdvertisements(routes: Iterable<RibRoute>, ctx: AttributeContext): RouteAdvertisement[] {
  const shared = new Map<string, PathAttributes>();
  const out: RouteAdvertisement[] = [];
  for (const route of routes) {
    let attrs = shared.get(route.attrKey);
    if (attrs === undefined) {
      attrs = routeAttributes(route, ctx);
      shared.set(route.attrKey, attrs);
    }
    out.push({ prefix: route.prefix, attrs });
  }
  return out;
}

function routeAttributes(route: RibRoute, ctx: AttributeContext): PathAttributes {
  // RFC 4271 §5.1.2: we originate the route, so an external peer sees our AS alone, an internal one an empty path.
  const attrs: PathAttributes = {
    origin: 'igp',
    asPath: ctx.ibgp ? [] : [{ type: 'sequence', asns: [ctx.localAsn] }],
  };
  if (route.afi === 'ipv4') attrs.nextHop = route.nextHop;
  else attrs.mpReach = { afi: 'ipv6', nextHop: route.nextHop, nlri: [] };
  if (route.med !== undefined) attrs.med = route.med;
  // RFC 4271 §5.1.5: LOCAL_PREF MUST NOT be sent to external peers.
  if (ctx.ibgp && route.localPref !== undefined) attrs.localPref = route.localPref;
  if (route.communities.length > 0) attrs.communities = [...route.communities];
  if (route.largeCommunities.length > 0) attrs.largeCommunities = [...route.largeCommunities];
  return attrs;
}

/**
 * The route as re-advertised before a graceful shutdown (RFC 8326 §4): with the well-known
 * GRACEFUL_SHUTDOWN community (65535:0) added, so that receivers lower its preference and move
 * traffic away before the withdrawal. Routes that share attributes keep sharing them.
 */
export function withGracefulShutdown(route: RibRoute): RibRoute {
  const gshut = WellKnownCommunity.GRACEFUL_SHUTDOWN;
  if (route.communities.includes(gshut)) return route;
  return { ...route, communities: [...route.communities, gshut].sort((a, b) => a - b), attrKey: `${route.attrKey}+gshut` };
}

/**
 * One peer's Adj-RIB-Out. {@link AdjRibOut.replace} swaps in a new desired set and returns what
 * changed; the whole set is in {@link AdjRibOut.routes} for a session that has just come up or
 * asked for a ROUTE-REFRESH.
 */
export class AdjRibOut {
  #rib = new Map<string, RibRoute>();

  /** Every route, in insertion order. */
  get routes(): IterableIterator<RibRoute> {
    return this.#rib.values();
  }

  get size(): number {
    return this.#rib.size;
  }

  /** Replaces the contents. All-or-nothing: on bad input it throws and keeps the old contents. */
  replace(routes: readonly PeerRoute[]): RibDiff {
    const next = buildRib(routes);
    const diff = diffRib(this.#rib, next);
    this.#rib = next;
    return diff;
  }
}
