/**
 * Parsers of FRR 8.4's vtysh JSON: `show bgp ipv4|ipv6 unicast json detail`,
 * `show bgp neighbors json` and `show bfd peers json`. Pure.
 */
import { z } from 'zod';
import { LabError } from '../errors.js';
import { bfdState, byAddress, byPrefix, ip, prefix, routeFromPaths, sessionState, sortCommunities } from './normalize.js';
import type { BfdState, LearnedPath, LearnedRoute, NeighborStatus } from './types.js';

function parseJson(text: string, what: string): unknown {
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

/** FRR prints well-known communities (RFC 1997, 7999, 8326, 9494) by name in JSON. */
const WELL_KNOWN: Readonly<Record<string, string>> = {
  internet: '0:0',
  gracefulshutdown: '65535:0',
  acceptown: '65535:1',
  routefiltertranslatedv4: '65535:2',
  routefilterv4: '65535:3',
  routefiltertranslatedv6: '65535:4',
  routefilterv6: '65535:5',
  llgrstale: '65535:6',
  nollgr: '65535:7',
  acceptownnexthop: '65535:8',
  blackhole: '65535:666',
  noexport: '65535:65281',
  noadvertise: '65535:65282',
  localas: '65535:65283',
  nopeer: '65535:65284',
};

/** One entry of FRR's community list: `a:b` or a well-known name. */
export function frrCommunity(text: string): string {
  if (/^\d+:\d+$/.test(text)) return text;
  const hit = WELL_KNOWN[text.toLowerCase().replace(/[^a-z0-9]/g, '')];
  if (hit === undefined) throw new LabError('BadOutput', `FRR community ${JSON.stringify(text)}: unknown name`);
  return hit;
}

const nexthop = z.looseObject({ ip: z.string(), scope: z.string().optional(), used: z.boolean().optional() });
const path = z.looseObject({
  valid: z.boolean().optional(),
  // `{ overall: true, selectionReason }` in detail output; `true` in the plain table.
  bestpath: z.union([z.boolean(), z.looseObject({ overall: z.boolean().optional() })]).optional(),
  multipath: z.boolean().optional(),
  stale: z.boolean().optional(),
  aspath: z.looseObject({ segments: z.array(z.looseObject({ type: z.string(), list: z.array(z.number()) })).optional() }).optional(),
  community: z.looseObject({ list: z.array(z.string()) }).optional(),
  largeCommunity: z.looseObject({ list: z.array(z.string()) }).optional(),
  locPrf: z.number().optional(),
  metric: z.number().optional(),
  nexthops: z.array(nexthop),
  peer: z.looseObject({ peerId: z.string().optional(), type: z.string().optional() }).optional(),
});
type FrrPath = z.infer<typeof path>;
const table = z.looseObject({ routes: z.record(z.string(), z.array(z.unknown())).optional() });

function nextHopOf(p: FrrPath, pfx: string): string {
  // An IPv6 path may list a link-local next hop too; the global one names the speaker.
  const global = p.nexthops.find((n) => n.scope !== 'link-local') ?? p.nexthops[0];
  if (global === undefined) throw new LabError('BadOutput', `FRR path of ${pfx} without next hop`);
  return ip(global.ip, `FRR next hop of ${pfx}`);
}

function toPath(p: FrrPath, pfx: string): LearnedPath {
  const internal = p.peer?.type === 'internal';
  const best = p.bestpath === true || (typeof p.bestpath === 'object' && p.bestpath.overall === true);
  return {
    nextHop: nextHopOf(p, pfx),
    ...(p.peer?.peerId === undefined ? {} : { from: ip(p.peer.peerId, `FRR peer of ${pfx}`) }),
    asPath: (p.aspath?.segments ?? []).flatMap((s) => s.list),
    communities: sortCommunities((p.community?.list ?? []).map(frrCommunity)),
    largeCommunities: sortCommunities(p.largeCommunity?.list ?? []),
    // FRR prints locPrf 0 on eBGP paths, which carry no LOCAL_PREF (RFC 4271 5.1.5).
    ...(p.locPrf === undefined || !internal ? {} : { localPref: p.locPrf }),
    ...(p.metric === undefined ? {} : { med: p.metric }),
    best,
    ...(p.stale === true ? { stale: true } : {}),
  };
}

/**
 * `show bgp ipv4|ipv6 unicast json detail`: `{ routes: { PREFIX: [header, path...] } }`, where
 * the first element only names the prefix. Invalid paths (e.g. an unresolvable next hop) are
 * left out. `nextHops` are those of the best and multipath paths (what zebra installs).
 */
export function parseFrrRoutes(text: string): LearnedRoute[] {
  const t = check(table, parseJson(text, 'FRR routes'), 'FRR routes');
  const out: LearnedRoute[] = [];
  for (const [key, entries] of Object.entries(t.routes ?? {})) {
    const pfx = prefix(key);
    const raw = entries.filter((e) => typeof e === 'object' && e !== null && 'nexthops' in e).map((e) => check(path, e, `FRR path of ${pfx}`));
    const valid = raw.filter((p) => p.valid !== false);
    if (valid.length === 0) continue;
    const paths = valid.map((p) => toPath(p, pfx));
    const forwarding = valid.filter((p, i) => paths[i]?.best === true || p.multipath === true).map((p) => nextHopOf(p, pfx));
    out.push(routeFromPaths(pfx, paths, forwarding.length > 0 ? forwarding : undefined));
  }
  return out.sort(byPrefix);
}

const bfdPeer = z.looseObject({ peer: z.string(), status: z.string() });

/** `show bfd peers json`: peer address -> state. */
export function parseFrrBfdPeers(text: string): Map<string, BfdState> {
  const list = check(z.array(bfdPeer), parseJson(text, 'FRR BFD peers'), 'FRR BFD peers');
  return new Map(list.map((p) => [ip(p.peer, 'FRR BFD peer'), bfdState(p.status)]));
}

const neighbor = z.looseObject({
  bgpState: z.string(),
  bgpTimerHoldTimeMsecs: z.number().optional(),
  peerBfdInfo: z.looseObject({ status: z.string().optional() }).optional(),
});

/**
 * `show bgp neighbors json`: `{ ADDRESS: {...} }`. BFD state comes from bfdd when given
 * (`show bfd peers json`), else from bgpd's own view of it (`peerBfdInfo`).
 */
export function parseFrrNeighbors(text: string, bfd?: ReadonlyMap<string, BfdState>): NeighborStatus[] {
  const obj = check(z.record(z.string(), z.unknown()), parseJson(text, 'FRR neighbors'), 'FRR neighbors');
  const out: NeighborStatus[] = [];
  for (const [key, value] of Object.entries(obj)) {
    // Other keys (none in 8.4's default VRF, but e.g. `vrfName` elsewhere) are not neighbours.
    if (typeof value !== 'object' || value === null || !('bgpState' in value)) continue;
    const n = check(neighbor, value, `FRR neighbor ${key}`);
    const address = ip(key, 'FRR neighbor');
    const state = sessionState(n.bgpState);
    const fromBgpd = n.peerBfdInfo?.status === undefined ? undefined : bfdState(n.peerBfdInfo.status);
    const b = n.peerBfdInfo === undefined ? undefined : (bfd?.get(address) ?? fromBgpd);
    out.push({
      address,
      state,
      ...(b === undefined ? {} : { bfd: b }),
      ...(state === 'Established' && n.bgpTimerHoldTimeMsecs !== undefined ? { holdTimeSec: n.bgpTimerHoldTimeMsecs / 1000 } : {}),
    });
  }
  return out.sort(byAddress);
}
