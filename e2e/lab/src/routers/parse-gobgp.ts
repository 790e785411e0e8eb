/**
 * Parsers of the GoBGP 3.x CLI's JSON: `gobgp global rib -a ipv4|ipv6 -j` and
 * `gobgp neighbor -j`. Pure.
 */
import { z } from 'zod';
import { LabError } from '../errors.js';
import { byAddress, byPrefix, communityText, ip, prefix, routeFromPaths, sortCommunities } from './normalize.js';
import type { LearnedPath, LearnedRoute, NeighborStatus, SessionState } from './types.js';

function parseJson(text: string, what: string): unknown {
  if (text.trim() === '' || text.trim() === 'null') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LabError('BadOutput', `${what}: not JSON: ${JSON.stringify(text.slice(0, 200))}`, { cause: err });
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new LabError('BadOutput', `${what}: ${z.prettifyError(r.error)}`);
  return r.data;
}

// Path attributes by type code (RFC 4271 5, RFC 4760, RFC 8092), as GoBGP marshals them.
const attr = z.looseObject({
  type: z.number(),
  nexthop: z.string().optional(),
  metric: z.number().optional(),
  value: z.unknown().optional(),
  communities: z.array(z.number()).optional(),
  as_paths: z.array(z.looseObject({ segment_type: z.number(), asns: z.array(z.number()).nullable().optional() })).nullable().optional(),
});
const path = z.looseObject({
  best: z.boolean().optional(),
  stale: z.boolean().optional(),
  'neighbor-ip': z.string().optional(),
  attrs: z.array(attr),
});
const large = z.array(z.looseObject({ ASN: z.number(), LocalData1: z.number(), LocalData2: z.number() }));

const ATTR = { ASPATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, COMMUNITIES: 8, MP_REACH: 14, LARGE_COMMUNITY: 32 } as const;

function toPath(p: z.infer<typeof path>, pfx: string): LearnedPath {
  const find = (t: number): z.infer<typeof attr> | undefined => p.attrs.find((a) => a.type === t);
  const nh = find(ATTR.MP_REACH)?.nexthop ?? find(ATTR.NEXT_HOP)?.nexthop;
  if (nh === undefined) throw new LabError('BadOutput', `GoBGP path of ${pfx} without next hop`);
  const lp = find(ATTR.LOCAL_PREF)?.value;
  const med = find(ATTR.MED)?.metric;
  const lc = find(ATTR.LARGE_COMMUNITY)?.value;
  const from = p['neighbor-ip'];
  return {
    nextHop: ip(nh, `GoBGP next hop of ${pfx}`),
    ...(from === undefined || from === '' || from === '<nil>' ? {} : { from: ip(from, `GoBGP neighbour of ${pfx}`) }),
    asPath: (find(ATTR.ASPATH)?.as_paths ?? []).flatMap((s) => s.asns ?? []),
    communities: sortCommunities((find(ATTR.COMMUNITIES)?.communities ?? []).map(communityText)),
    largeCommunities: sortCommunities(lc === undefined ? [] : check(large, lc, `GoBGP large communities of ${pfx}`).map((c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`)),
    ...(typeof lp === 'number' ? { localPref: lp } : {}),
    ...(med === undefined ? {} : { med }),
    best: p.best === true,
    ...(p.stale === true ? { stale: true } : {}),
  };
}

/**
 * `gobgp global rib -a AFI -j`: `{ PREFIX: [path...] }` (empty output or `null` when the table
 * is empty). GoBGP's RIB marks one best path and has no multipath flag, so `nextHops` is the
 * best path's; every path is in `paths`.
 */
export function parseGobgpRib(text: string): LearnedRoute[] {
  const value = parseJson(text, 'GoBGP RIB');
  if (value === undefined) return [];
  const rib = check(z.record(z.string(), z.array(path)), value, 'GoBGP RIB');
  return Object.entries(rib)
    .filter(([, paths]) => paths.length > 0)
    .map(([key, paths]) => {
      const pfx = prefix(key);
      return routeFromPaths(pfx, paths.map((p) => toPath(p, pfx)));
    })
    .sort(byPrefix);
}

// gobgp's api.PeerState.SessionState enum.
const SESSION: Readonly<Record<number, SessionState>> = { 0: 'Idle', 1: 'Idle', 2: 'Connect', 3: 'Active', 4: 'OpenSent', 5: 'OpenConfirm', 6: 'Established' };

const neighbor = z.looseObject({
  conf: z.looseObject({ neighbor_address: z.string() }),
  state: z.looseObject({ session_state: z.number().optional() }).optional(),
  timers: z.looseObject({ state: z.looseObject({ negotiated_hold_time: z.number().optional() }).optional() }).optional(),
});

/** `gobgp neighbor -j`: session states (a number there; 6 = Established). No BFD in GoBGP. */
export function parseGobgpNeighbors(text: string): NeighborStatus[] {
  const value = parseJson(text, 'GoBGP neighbors');
  if (value === undefined) return [];
  return check(z.array(neighbor), value, 'GoBGP neighbors')
    .map((n): NeighborStatus => {
      const state = SESSION[n.state?.session_state ?? 0];
      if (state === undefined) throw new LabError('BadOutput', `GoBGP session state ${n.state?.session_state}: unknown`);
      const hold = n.timers?.state?.negotiated_hold_time;
      return { address: ip(n.conf.neighbor_address, 'GoBGP neighbour'), state, ...(state === 'Established' && hold !== undefined ? { holdTimeSec: hold } : {}) };
    })
    .sort(byAddress);
}
