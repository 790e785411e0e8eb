/**
 * Parsers of BIRD 2.0's text CLI (it has no JSON): `show route all`, `show protocols all`,
 * `show bfd sessions`. Pure.
 *
 * A route in `show route all`:
 * ```
 * 198.51.100.1/32      unicast [herald_192_0_2_11 07:40:31.255] * (100) [AS4200000001i]
 * 	via 192.0.2.11 on eth0
 * 	Type: BGP univ
 * 	BGP.as_path: 4200000001
 * 	BGP.community: (64512,7) (65535,0)
 *                      unicast [herald_192_0_2_12 07:40:31.284 from 192.0.2.12] (100s) [AS4200000001i]
 * ```
 * Further routes for the same prefix leave the prefix column blank; `*` marks the best one;
 * `(100s)` is preference 100 and stale (graceful restart); a merged export shows one
 * `via ... weight 1` line per path.
 */
import { LabError } from '../errors.js';
import { bfdState, byAddress, byPrefix, ip, prefix, routeFromPaths, sessionState, sortCommunities } from './normalize.js';
import type { BfdState, LearnedPath, LearnedRoute, NeighborStatus } from './types.js';

/** One route line and its attribute lines, as BIRD prints them. */
export interface BirdRoute {
  readonly prefix: string;
  readonly protocol: string;
  readonly from?: string;
  readonly primary: boolean;
  readonly preference: number;
  readonly stale: boolean;
  readonly vias: readonly string[];
  /** `BGP.as_path` -> `4200000001`, `Type` -> `BGP univ`. */
  readonly attrs: ReadonlyMap<string, string>;
}

const ROUTE_RE = /^(\S+)?\s+(\w+)\s+\[(\S+)\s+(.*?)(?:\s+from\s+(\S+))?\](\s+[*!])?\s+\((\d+)([^)]*)\)/;
const VIA_RE = /^\s+via\s+(\S+)/;
const ATTR_RE = /^\s+([A-Za-z][\w.]*):\s?(.*)$/;

interface Draft {
  prefix: string;
  protocol: string;
  from?: string;
  primary: boolean;
  preference: number;
  stale: boolean;
  vias: string[];
  attrs: Map<string, string>;
  lastKey?: string;
}

function startRoute(m: RegExpExecArray, pfx: string): Draft {
  // (100), (100-) suppressed, (100s) stale, (100s/5) with an AIGP metric.
  const flags = (m[8] ?? '').split('/')[0] ?? '';
  return {
    prefix: pfx,
    protocol: m[3] ?? '',
    ...(m[5] === undefined ? {} : { from: ip(m[5], 'BIRD route source') }),
    primary: (m[6] ?? '').trim() === '*',
    preference: Number(m[7]),
    stale: flags.includes('s'),
    vias: [],
    attrs: new Map(),
  };
}

/** A `via`, `Key: value` or continuation line of the current route. */
function addBodyLine(current: Draft, line: string): void {
  const via = VIA_RE.exec(line);
  if (via?.[1] !== undefined) {
    current.vias.push(ip(via[1], `BIRD next hop of ${current.prefix}`));
    return;
  }
  const attr = ATTR_RE.exec(line);
  if (attr?.[1] !== undefined) {
    current.attrs.set(attr[1], (attr[2] ?? '').trim());
    current.lastKey = attr[1];
    return;
  }
  // A long set continues on the next line.
  if (/^\t\t/.test(line) && current.lastKey !== undefined) {
    current.attrs.set(current.lastKey, `${current.attrs.get(current.lastKey) ?? ''} ${line.trim()}`.trim());
  }
}

const SKIP_RE = /^BIRD \d|^Table \S+:$|^Network not found|^\d+ of \d+ routes/;

/** Splits `show route [all]` output into routes; prefix and next hops in canonical text. */
export function parseBirdRouteLines(text: string): BirdRoute[] {
  const out: Draft[] = [];
  let current: Draft | undefined;
  let lastPrefix: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || SKIP_RE.test(line)) continue;
    const m = ROUTE_RE.exec(line);
    if (m) {
      if (m[1] !== undefined) lastPrefix = prefix(m[1]);
      if (lastPrefix === undefined) throw new LabError('BadOutput', `BIRD route without prefix: ${JSON.stringify(line)}`);
      current = startRoute(m, lastPrefix);
      out.push(current);
    } else if (current !== undefined) {
      addBodyLine(current, line);
    } else if (/^\S/.test(line)) {
      throw new LabError('BadOutput', `BIRD: unexpected line ${JSON.stringify(line)}`);
    }
  }
  return out.map(({ lastKey: _lastKey, ...r }) => r);
}

/** `4200000001 65000 {1 2}` -> numbers in order. */
export function birdAsPath(text: string | undefined): number[] {
  return (text ?? '').match(/\d+/g)?.map(Number) ?? [];
}

/** `(64512,7) (65535,0)` -> `['64512:7', '65535:0']`; `(4200000001, 1, 2)` -> `4200000001:1:2`. */
export function birdPairs(text: string | undefined): string[] {
  return [...(text ?? '').matchAll(/\(([^)]*)\)/g)].map((m) => (m[1] ?? '').split(',').map((s) => s.trim()).join(':'));
}

function toPath(r: BirdRoute, neighbors: ReadonlyMap<string, string> | undefined): LearnedPath {
  const lp = r.attrs.get('BGP.local_pref');
  const med = r.attrs.get('BGP.med');
  const nh = r.attrs.get('BGP.next_hop');
  // BGP.next_hop may list a global and a link-local address; the first is the global one.
  const first = nh?.split(/\s+/)[0];
  const nextHop = first !== undefined && first !== '' ? ip(first, `BGP.next_hop of ${r.prefix}`) : r.vias[0];
  if (nextHop === undefined) throw new LabError('BadOutput', `BIRD route ${r.prefix} without next hop`);
  return {
    nextHop,
    // BIRD prints "from" only when it differs from the gateway; the protocol names the neighbour.
    ...(r.from !== undefined ? { from: r.from } : neighbors?.has(r.protocol) ? { from: neighbors.get(r.protocol) ?? '' } : {}),
    asPath: birdAsPath(r.attrs.get('BGP.as_path')),
    communities: sortCommunities(birdPairs(r.attrs.get('BGP.community'))),
    largeCommunities: sortCommunities(birdPairs(r.attrs.get('BGP.large_community'))),
    ...(lp === undefined ? {} : { localPref: Number(lp) }),
    ...(med === undefined ? {} : { med: Number(med) }),
    best: r.primary,
    ...(r.stale ? { stale: true } : {}),
  };
}

const isBgp = (r: BirdRoute): boolean => (r.attrs.get('Type') ?? '').startsWith('BGP') || [...r.attrs.keys()].some((k) => k.startsWith('BGP.'));

/**
 * BGP routes of `show route all [table T]`, grouped per prefix. `exported` is the output of
 * `show route all export kernel4|kernel6`: there BIRD shows the merged multipath route it
 * installs (`merge paths`), whose `via` lines are the route's `nextHops`. Without it, or for a
 * prefix not exported, `nextHops` is the best route's. `neighbors` maps protocol names to
 * neighbour addresses (for `from`).
 */
export function parseBirdRoutes(table: string, exported?: string, neighbors?: ReadonlyMap<string, string>): LearnedRoute[] {
  const forwarding = new Map<string, readonly string[]>();
  for (const r of exported === undefined ? [] : parseBirdRouteLines(exported)) if (r.vias.length > 0) forwarding.set(r.prefix, r.vias);
  const byPfx = new Map<string, LearnedPath[]>();
  for (const r of parseBirdRouteLines(table).filter(isBgp)) {
    const list = byPfx.get(r.prefix) ?? [];
    list.push(toPath(r, neighbors));
    byPfx.set(r.prefix, list);
  }
  return [...byPfx].map(([pfx, paths]) => routeFromPaths(pfx, paths, forwarding.get(pfx))).sort(byPrefix);
}

/** `show bfd sessions`: address -> state. */
export function parseBirdBfdSessions(text: string): Map<string, BfdState> {
  const out = new Map<string, BfdState>();
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const [addr, , state] = cols;
    if (addr === undefined || state === undefined || !/^[0-9a-f:.]+$/i.test(addr) || !/[.:]/.test(addr)) continue;
    try {
      out.set(ip(addr), bfdState(state));
    } catch {
      // Header or a line of another shape.
    }
  }
  return out;
}

/**
 * `show protocols all`: the BGP protocols' neighbour address, state and negotiated hold time.
 * BFD state comes from {@link parseBirdBfdSessions} for neighbours configured with BFD.
 */
export function parseBirdProtocols(text: string, bfd?: ReadonlyMap<string, BfdState>, bfdNeighbors?: ReadonlySet<string>): NeighborStatus[] {
  const out: NeighborStatus[] = [];
  const blocks: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  for (const [head, ...body] of blocks) {
    const cols = (head ?? '').trim().split(/\s+/);
    if (cols[1] !== 'BGP') continue;
    const field = (name: string): string | undefined => body.map((l) => new RegExp(`^\\s+${name}:\\s+(.*)$`).exec(l)?.[1]).find((v) => v !== undefined)?.trim();
    const addr = field('Neighbor address');
    if (addr === undefined) throw new LabError('BadOutput', `BIRD protocol ${cols[0] ?? '?'} without a neighbour address`);
    const address = ip(addr, 'BIRD neighbour');
    // Before the first connection BIRD prints no "BGP state" line; the Info column has it.
    const state = sessionState(field('BGP state') ?? cols[5] ?? 'Idle');
    const hold = /\/(\d+)$/.exec(field('Hold timer') ?? '')?.[1];
    const b = bfdNeighbors?.has(address) ? (bfd?.get(address) ?? 'Down') : undefined;
    out.push({ address, state, ...(b === undefined ? {} : { bfd: b }), ...(state === 'Established' && hold !== undefined ? { holdTimeSec: Number(hold) } : {}) });
  }
  return out.sort(byAddress);
}
