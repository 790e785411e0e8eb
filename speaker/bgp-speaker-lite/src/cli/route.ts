/**
 * Routes as people type them, shared by the `--announce` flag and the `announce` command:
 * `key value` attributes collected into a {@link PeerRoute}, then checked with the same
 * {@link normalizeRoute} the Adj-RIB-Out uses, so what the CLI accepts is exactly what the
 * peer can advertise. Pure.
 * @packageDocumentation
 */

import { parseAddress } from '../codec/prefix.js';
import type { Afi } from '../codec/types.js';
import { normalizeRoute, type PeerRoute } from '../peer/adjribout.js';

/** Invalid user input (a flag or a command); its message is the one-line reason shown. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A decimal integer in [min, max]; no signs, no exponents, no leading zeros. */
export function parseInteger(what: string, text: string, min: number, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${what}: want an integer ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** What a route spec may leave out, filled from the session's flags. */
export interface RouteDefaults {
  readonly localAddress?: string;
  readonly families: readonly Afi[];
}

/**
 * Checks a route and fills in its next hop: a route without one takes the local address when
 * that is of the prefix's family. Throws with the reason on anything invalid.
 */
export function completeRoute(route: Omit<PeerRoute, 'nextHop'> & { nextHop?: string }, defaults: RouteDefaults): PeerRoute {
  let nextHop = route.nextHop;
  if (nextHop === undefined) {
    const local = defaults.localAddress;
    const prefixAfi = route.prefix.includes(':') ? 'ipv6' : 'ipv4';
    if (local === undefined || parseAddress(local)?.afi !== prefixAfi) {
      throw new UsageError(`route ${route.prefix}: needs a next hop (none given and no --local-address of its family)`);
    }
    nextHop = local;
  }
  const complete: PeerRoute = { ...route, nextHop };
  let afi: Afi;
  try {
    afi = normalizeRoute(complete).afi;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!defaults.families.includes(afi)) throw new UsageError(`route ${route.prefix}: ${afi} is not negotiated (add --ipv6)`);
  return complete;
}

/** A route being assembled from `key value` attributes. */
export type RouteDraft = {
  prefix: string;
  nextHop?: string;
  communities: string[];
  largeCommunities: string[];
  localPref?: number;
  med?: number;
};

/** Adds one `key value` attribute to a route being built; shared by flags and stdin commands. */
export function addRouteAttribute(route: RouteDraft, key: string, value: string): void {
  switch (key) {
    case 'nexthop':
    case 'next-hop':
      route.nextHop = value;
      return;
    case 'community':
      route.communities.push(value);
      return;
    case 'large':
    case 'large-community':
      route.largeCommunities.push(value);
      return;
    case 'local-pref':
      route.localPref = parseInteger('local-pref', value, 0, 0xffff_ffff);
      return;
    case 'med':
      route.med = parseInteger('med', value, 0, 0xffff_ffff);
      return;
    default:
      throw new UsageError(`unknown route attribute ${JSON.stringify(key)} (want nexthop, community, large, local-pref, med)`);
  }
}

/** Strips the empty optional fields so that the route reads as the user wrote it. */
export function finishRoute(route: RouteDraft): Omit<PeerRoute, 'nextHop'> & { nextHop?: string } {
  return {
    prefix: route.prefix,
    ...(route.nextHop !== undefined ? { nextHop: route.nextHop } : {}),
    ...(route.communities.length > 0 ? { communities: route.communities } : {}),
    ...(route.largeCommunities.length > 0 ? { largeCommunities: route.largeCommunities } : {}),
    ...(route.localPref !== undefined ? { localPref: route.localPref } : {}),
    ...(route.med !== undefined ? { med: route.med } : {}),
  };
}

/** `PREFIX[,nexthop=IP][,community=a:b]...` as given to `--announce`. */
export function parseAnnounceFlag(spec: string, defaults: RouteDefaults): PeerRoute {
  const [prefix = '', ...pairs] = spec.split(',');
  if (prefix === '') throw new UsageError(`--announce: want PREFIX[,key=value]..., got ${JSON.stringify(spec)}`);
  const route: RouteDraft = { prefix, communities: [], largeCommunities: [] };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--announce ${spec}: want key=value, got ${JSON.stringify(pair)}`);
    addRouteAttribute(route, pair.slice(0, eq), pair.slice(eq + 1));
  }
  return completeRoute(finishRoute(route), defaults);
}

