import { randomBytes } from 'node:crypto';
import { LabError } from './errors.js';

/** What a host is for; decides its number, hence its addresses and MAC. */
export type HostRole = 'node' | 'client' | 'router';

/** Options of {@link createLab}. */
export interface LabOptions {
  /** How many `node-N` hosts (1..189). */
  nodes: number;
  /** Router host names, e.g. `['frr', 'bird']` (lower case, at most 15 characters each). */
  routers?: readonly string[];
  /** Add a `client` host (default false). */
  client?: boolean;
  /** Run prefix for namespace names (default `hl` + 6 random hex digits). */
  prefix?: string;
  /** An IPv4 /24 for the hosts (default TEST-NET-1, 192.0.2.0/24, RFC 5737). */
  v4Subnet?: string;
  /** An IPv6 /64 for the hosts (default 2001:db8::/64, RFC 3849). */
  v6Subnet?: string;
  /**
   * Duplicate address detection on the hosts' `eth0`:
   * - `'skip'` (default): `accept_dad=0` on every host's eth0, so host addresses and
   *   link-local addresses are usable at once and stay so across link cuts. Addresses
   *   are unique by construction on a private bridge, so DAD could never fail here.
   *   A test that adds an address whose kernel announcement it wants to observe sets
   *   `net.ipv6.conf.eth0.accept_dad=1` in that host first (see the lab notes).
   * - `'wait'`: kernel defaults; `createLab` and `linkUp` return only once no address
   *   in the affected hosts is tentative any more (about 1-2 s).
   */
  ipv6Dad?: 'skip' | 'wait';
}

/** One host as planned: names and addresses, no I/O yet. */
export interface HostPlan {
  /** Host name used in the lab's API: `node-1`, `client`, or a router name. */
  readonly name: string;
  readonly role: HostRole;
  /** Network namespace: `<prefix>-<name>`. */
  readonly ns: string;
  /** The host's interface (always `eth0`). */
  readonly ifname: 'eth0';
  /** Name of the bridge-side veth peer in the LAN namespace (the host name). */
  readonly port: string;
  /** Fixed locally administered MAC `02:30:00:00:HH:LL` (HHLL = the host number in decimal digits). */
  readonly mac: string;
  /** The host's address, without prefix length. */
  readonly ipv4: string;
  readonly ipv6: string;
  readonly ipv4PrefixLength: 24;
  readonly ipv6PrefixLength: 64;
}

export interface LabPlan {
  readonly prefix: string;
  /** The namespace holding the bridge `br0`. */
  readonly lanNs: string;
  readonly hosts: readonly HostPlan[];
  readonly ipv6Dad: 'skip' | 'wait';
}

const PREFIX_RE = /^[a-z][a-z0-9]{1,11}$/;
const HOST_RE = /^[a-z][a-z0-9-]{0,14}$/;
const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;
const V6_RE = /^([0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,3})::\/64$/i;
/** Names a router may not take: other hosts' names, and the LAN namespace's own links. */
const RESERVED = new Set(['client', 'lan', 'br0', 'lo', 'eth0']);
export const MAX_NODES = 189;
export const MAX_ROUTERS = 49;

/** A fresh run prefix: `hl` and 6 random hex digits. */
export function randomPrefix(): string {
  return `hl${randomBytes(3).toString('hex')}`;
}

/**
 * Host numbers keep addresses stable whatever else the lab holds: node-i is 10+i,
 * router j (1-based) is 200+j, the client is 250. The same decimal digits end the
 * IPv4 address, the IPv6 address and the MAC: node-2 is 192.0.2.12, 2001:db8::12,
 * 02:30:00:00:00:12.
 */
function hostNumber(role: HostRole, index: number): number {
  if (role === 'node') return 10 + index;
  if (role === 'router') return 200 + index;
  return 250;
}

function macFor(n: number): string {
  const d = String(n).padStart(4, '0');
  return `02:30:00:00:${d.slice(0, 2)}:${d.slice(2)}`;
}

function v4Base(subnet: string): string {
  const m = V4_RE.exec(subnet);
  if (!m || [m[1], m[2], m[3]].some((o) => Number(o) > 255)) {
    throw new LabError('BadOptions', `v4Subnet ${subnet}: want an IPv4 /24 written as A.B.C.0/24`);
  }
  return `${m[1]}.${m[2]}.${m[3]}`;
}

function v6Base(subnet: string): string {
  const m = V6_RE.exec(subnet);
  if (!m?.[1]) throw new LabError('BadOptions', `v6Subnet ${subnet}: want an IPv6 /64 written as X:X[:X[:X]]::/64`);
  return m[1].toLowerCase();
}

function checkRouters(routers: readonly string[]): void {
  const seen = new Set<string>();
  for (const r of routers) {
    if (!HOST_RE.test(r) || /^node-\d+$/.test(r) || RESERVED.has(r)) {
      throw new LabError('BadOptions', `router name ${JSON.stringify(r)}: want [a-z][a-z0-9-]{0,14}, not node-N, client, lan, br0, lo or eth0`);
    }
    if (seen.has(r)) throw new LabError('BadOptions', `router name ${r} given twice`);
    seen.add(r);
  }
  if (routers.length > MAX_ROUTERS) throw new LabError('BadOptions', `at most ${MAX_ROUTERS} routers (got ${routers.length})`);
}

/** Turns options into names and addresses; pure apart from the random default prefix. */
export function planLab(opts: LabOptions): LabPlan {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES) {
    throw new LabError('BadOptions', `nodes: want an integer 1..${MAX_NODES} (got ${opts.nodes})`);
  }
  const prefix = opts.prefix ?? randomPrefix();
  if (!PREFIX_RE.test(prefix)) throw new LabError('BadOptions', `prefix ${JSON.stringify(prefix)}: want [a-z][a-z0-9]{1,11}`);
  const routers = opts.routers ?? [];
  checkRouters(routers);
  const v4 = v4Base(opts.v4Subnet ?? '192.0.2.0/24');
  const v6 = v6Base(opts.v6Subnet ?? '2001:db8::/64');

  const roles: Array<{ name: string; role: HostRole; index: number }> = [];
  for (let i = 1; i <= opts.nodes; i++) roles.push({ name: `node-${i}`, role: 'node', index: i });
  if (opts.client) roles.push({ name: 'client', role: 'client', index: 0 });
  routers.forEach((name, j) => roles.push({ name, role: 'router', index: j + 1 }));

  const hosts = roles.map(({ name, role, index }): HostPlan => {
    const n = hostNumber(role, index);
    return {
      name,
      role,
      ns: `${prefix}-${name}`,
      ifname: 'eth0',
      port: name,
      mac: macFor(n),
      ipv4: `${v4}.${n}`,
      // The decimal digits read as hex: ::12 for .12, so the two families line up by eye.
      ipv6: `${v6}::${n}`,
      ipv4PrefixLength: 24,
      ipv6PrefixLength: 64,
    };
  });
  return { prefix, lanNs: `${prefix}-lan`, hosts, ipv6Dad: opts.ipv6Dad ?? 'skip' };
}

/** Every namespace the plan creates, the LAN namespace first. */
export function planNamespaces(plan: LabPlan): string[] {
  return [plan.lanNs, ...plan.hosts.map((h) => h.ns)];
}

/**
 * `ip -batch` input for the LAN namespace: the bridge, then one veth pair per host
 * whose `eth0` end is created straight in the host's namespace. `name`/`dev` are
 * always spelled out: ip matches abbreviations, so a bare port `a` would read as `address`.
 */
export function lanBatch(plan: LabPlan): string {
  const lines = ['link set dev lo up', 'link add name br0 type bridge stp_state 0 mcast_snooping 0', 'link set dev br0 up'];
  for (const h of plan.hosts) {
    lines.push(`link add name ${h.port} type veth peer name ${h.ifname} address ${h.mac} netns ${h.ns}`);
    lines.push(`link set dev ${h.port} master br0 up`);
  }
  return lines.join('\n') + '\n';
}

/** `ip -batch` input run inside one host's namespace. */
export function hostBatch(h: HostPlan): string {
  return (
    [
      'link set dev lo up',
      `addr add ${h.ipv4}/${h.ipv4PrefixLength} dev ${h.ifname}`,
      `addr add ${h.ipv6}/${h.ipv6PrefixLength} dev ${h.ifname}`,
      `link set dev ${h.ifname} up`,
    ].join('\n') + '\n'
  );
}
