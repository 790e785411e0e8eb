/** Shared normalisation of what the routers print: addresses, prefixes, communities. */
import { LabError } from '../errors.js';
import { canonicalIp } from '../nat.js';
import type { LearnedPath, LearnedRoute, SessionState, BfdState } from './types.js';

/** RFC 5952 text of an address; throws `BadOutput` for anything else. */
export function ip(text: string, what = 'address'): string {
  const c = canonicalIp(text.trim());
  if (!c) throw new LabError('BadOutput', `${what}: not an IP address: ${JSON.stringify(text)}`);
  return c.ip;
}

/** `addr/len` with the address in canonical text. A bare host address gets /32 or /128 (as `ip route` prints them). */
export function prefix(text: string): string {
  const [addr = '', len] = text.trim().split('/');
  const c = canonicalIp(addr);
  if (!c) throw new LabError('BadOutput', `not a prefix: ${JSON.stringify(text)}`);
  const bits = len === undefined ? (c.family === 4 ? 32 : 128) : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > (c.family === 4 ? 32 : 128)) throw new LabError('BadOutput', `bad prefix length: ${JSON.stringify(text)}`);
  return `${c.ip}/${bits}`;
}

/** A 32-bit community value as `high:low` (RFC 1997). */
export function communityText(value: number): string {
  return `${Math.floor(value / 0x10000)}:${value % 0x10000}`;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Numeric-aware sort for `a:b` / `a:b:c` lists, without duplicates. */
export function sortCommunities(list: readonly string[]): string[] {
  const key = (s: string): number[] => s.split(':').map(Number);
  return [...new Set(list)].sort((x, y) => {
    const a = key(x);
    const b = key(y);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
}

/** Orders by `address` text (for stable output). */
export const byAddress = (a: { address: string }, b: { address: string }): number => byText(a.address, b.address);
/** Orders by `prefix` text (for stable output). */
export const byPrefix = (a: { prefix: string }, b: { prefix: string }): number => byText(a.prefix, b.prefix);

export function sortAddresses(list: readonly string[]): string[] {
  return [...new Set(list)].sort(byText);
}

/**
 * Folds paths into the route view: the best path's attributes, and `nextHops` from
 * `forwarding` (the paths the router forwards over) or else the best path alone.
 */
export function routeFromPaths(pfx: string, paths: readonly LearnedPath[], forwarding?: readonly string[]): LearnedRoute {
  const ordered = [...paths].sort((a, b) => Number(b.best) - Number(a.best));
  const best = ordered[0];
  if (best === undefined) throw new LabError('BadOutput', `route ${pfx} without paths`);
  return {
    prefix: pfx,
    nextHops: sortAddresses(forwarding ?? [best.nextHop]),
    asPath: best.asPath,
    communities: best.communities,
    largeCommunities: best.largeCommunities,
    ...(best.localPref === undefined ? {} : { localPref: best.localPref }),
    ...(best.med === undefined ? {} : { med: best.med }),
    ...(best.stale === undefined ? {} : { stale: best.stale }),
    paths: ordered,
  };
}

const SESSION_STATES: readonly SessionState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** A router's session state name (any case, with decorations such as `Idle (Admin)`) as RFC 4271 names it. */
export function sessionState(text: string): SessionState {
  const t = text.trim().toLowerCase();
  const hit = SESSION_STATES.find((s) => t.startsWith(s.toLowerCase()));
  if (hit) return hit;
  // BIRD: "Passive" is Active without dialling; "Close" is on its way to Idle.
  if (t.startsWith('passive')) return 'Active';
  if (t.startsWith('close') || t.startsWith('down')) return 'Idle';
  throw new LabError('BadOutput', `unknown BGP session state ${JSON.stringify(text)}`);
}

/** A BFD state name in any case (`up`, `Down`, `init`, `AdminDown`, `admin_down`). */
export function bfdState(text: string): BfdState {
  const t = text.trim().toLowerCase().replace(/[^a-z]/g, '');
  if (t === 'up') return 'Up';
  if (t === 'down') return 'Down';
  if (t === 'init') return 'Init';
  if (t === 'admindown') return 'AdminDown';
  throw new LabError('BadOutput', `unknown BFD state ${JSON.stringify(text)}`);
}
