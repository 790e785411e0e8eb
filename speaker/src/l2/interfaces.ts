/**
 * Which interfaces L2 announcements go out on. {@link chooseInterfaces} is pure;
 * {@link readInterfaces} is the I/O edge that reads the kernel's view from sysfs.
 *
 * Default (no `interfaces` in the L2Advertisement): interfaces that are up,
 * broadcast-capable Ethernet, and not one of the virtual devices that CNIs,
 * container runtimes and kube-proxy create: answering ARP there would claim the
 * IP on a pod or tunnel network instead of the LAN.
 *
 * One answer per request, from one MAC (MetalLB #277, #597, #598 answered from two): the
 * default choice never answers on a link enslaved to another (a bridge port or a bond
 * slave: its master, with its own MAC, sees the same frames and answers instead), on a
 * link the kernel marks NOARP, or on the lower link of a macvlan that is itself chosen
 * (both see every broadcast on the segment). An operator's explicit list still wins.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errorMessage, HeraldError } from '@herald/shared/core';

/** Interfaces an advertisement allows on a node: these names, or the default choice. */
export type AllowedInterfaces = readonly string[] | 'default';

/** One network interface as the kernel reports it. */
export interface InterfaceState {
  readonly name: string;
  /** ifindex, what AF_PACKET sockets bind to. */
  readonly index: number;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** IFF_BROADCAST. */
  readonly broadcast: boolean;
  /** IFF_LOOPBACK. */
  readonly loopback: boolean;
  /** RFC 2863 operational state as sysfs spells it: up, down, lowerlayerdown, unknown, ... */
  readonly operState: string;
  /** ARPHRD_* link type (1: Ethernet, 772: loopback). */
  readonly type: number;
  /** Link-layer address as sysfs prints it (lower-case hex, colon separated; may be empty). */
  readonly mac: string;
  /** IFF_NOARP: the kernel does no ARP on this link. */
  readonly noArp?: boolean | undefined;
  /** The link this one is enslaved to (bridge, bond, team), from sysfs `master`. */
  readonly master?: string | undefined;
  /** Links stacked on this one (sysfs `upper_*`): macvlans, VLANs, ... */
  readonly uppers?: readonly string[] | undefined;
  /** DEVTYPE from sysfs `uevent` (bridge, bond, vlan, ...; none for a macvlan or a plain NIC). */
  readonly devType?: string | undefined;
}

export type InterfaceSkipReason =
  /** Listed in the advertisement but absent on this node. */
  | 'notFound'
  /** The advertisement lists interfaces and this is not one of them. */
  | 'notListed'
  | 'loopback'
  /** Default choice only: the name is a known virtual device prefix. */
  | 'virtual'
  /** Default choice only: a bridge port or bond slave; its master announces. */
  | 'enslaved'
  /** Default choice only: IFF_NOARP. */
  | 'noArp'
  /** Default choice only: the lower link of a chosen macvlan, which announces for the segment. */
  | 'macvlanLower'
  /** Administratively down (no IFF_UP). */
  | 'down'
  /** Up, but the operational state says no traffic passes (no carrier, lower layer down, ...). */
  | 'noCarrier'
  | 'noBroadcast'
  /** Not an Ethernet link: the announcer writes Ethernet frames. */
  | 'notEthernet';

export interface InterfaceChoice {
  /** Interfaces to announce on, sorted. */
  readonly use: string[];
  /** Every other interface (and listed names that do not exist), sorted by name. */
  readonly skipped: Array<{ readonly name: string; readonly reason: InterfaceSkipReason }>;
}

/**
 * Name prefixes of virtual devices left out of the default choice: Calico
 * (cali, tunl, vxlan.calico), Docker (docker), kube-proxy IPVS (kube-ipvs),
 * LXC and Cilium (lxc, cilium), CNI bridge (cni), Flannel (flannel), VXLAN and
 * Geneve tunnels (vxlan, genev), veth pairs (veth), kube-router (kube-bridge,
 * kube-dummy-if), NodeLocal DNSCache (nodelocaldns), Weave (weave), WireGuard (wg).
 */
export const VIRTUAL_INTERFACE_PREFIXES: readonly string[] = [
  'cali',
  'cilium',
  'cni',
  'docker',
  'flannel',
  'genev',
  // KubeVirt's per-VM bridges (k6t-eth0 ...).
  'k6t-',
  'kube-bridge',
  'kube-dummy-if',
  'kube-ipvs',
  'lxc',
  // A VM's macvtap, libvirt's NAT bridge and VM taps (hypervisor hosts).
  'macvtap',
  'nodelocaldns',
  'tap',
  'tunl',
  'veth',
  'virbr',
  'vnet',
  'vxlan',
  'weave',
  'wg',
];

/** Options of the default choice; the speaker's `--l2-excluded-interface-prefixes`. */
export interface ChoiceOptions {
  /** Name prefixes left out of the default choice; default {@link VIRTUAL_INTERFACE_PREFIXES}. */
  readonly excludedPrefixes?: readonly string[] | undefined;
}

const ARPHRD_ETHER = 1;
/** RFC 2863 states in which the link passes traffic; "unknown" is what many drivers report when up. */
const PASSING_OPER_STATES: ReadonlySet<string> = new Set(['up', 'unknown']);

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function isVirtualInterface(name: string, prefixes: readonly string[] = VIRTUAL_INTERFACE_PREFIXES): boolean {
  return prefixes.some((p) => name.startsWith(p));
}

/**
 * Loopback, down, no-broadcast and non-Ethernet links are refused even when
 * listed: ARP (RFC 826) needs a broadcast Ethernet segment and NDP (RFC 4861)
 * its multicast, so nothing sent there can reach a neighbour.
 */
function unusable(i: InterfaceState): InterfaceSkipReason | undefined {
  if (i.loopback) return 'loopback';
  if (!i.up) return 'down';
  if (!PASSING_OPER_STATES.has(i.operState)) return 'noCarrier';
  if (!i.broadcast) return 'noBroadcast';
  if (i.type !== ARPHRD_ETHER) return 'notEthernet';
  return undefined;
}

/** Why the default choice leaves `i` out, if it does. */
function defaultReason(i: InterfaceState, prefixes: readonly string[]): InterfaceSkipReason | undefined {
  if (!i.loopback && isVirtualInterface(i.name, prefixes)) return 'virtual';
  if (i.master !== undefined) return 'enslaved';
  if (i.noArp === true && !i.loopback) return 'noArp';
  return unusable(i);
}

/**
 * Picks the interfaces to announce on. With an explicit list, a listed interface
 * is used whatever its name (an operator may mean `vxlan100`), as long as it
 * exists and can carry ARP/NDP; with 'default', virtual devices are skipped too.
 */
export function chooseInterfaces(all: readonly InterfaceState[], allowed: AllowedInterfaces, opts: ChoiceOptions = {}): InterfaceChoice {
  const listed = allowed === 'default' ? undefined : new Set(allowed);
  const prefixes = opts.excludedPrefixes ?? VIRTUAL_INTERFACE_PREFIXES;
  const chosen: InterfaceState[] = [];
  const skipped: Array<{ name: string; reason: InterfaceSkipReason }> = [];
  const present = new Set<string>();
  for (const i of all) {
    if (present.has(i.name)) continue;
    present.add(i.name);
    const reason = listed !== undefined ? (listed.has(i.name) ? unusable(i) : 'notListed') : defaultReason(i, prefixes);
    if (reason === undefined) chosen.push(i);
    else skipped.push({ name: i.name, reason });
  }
  const use: string[] = [];
  const chosenNames = new Set(chosen.map((i) => i.name));
  const byName = new Map(all.map((i) => [i.name, i]));
  for (const i of chosen) {
    // A macvlan (no DEVTYPE; a VLAN says "vlan" and is another segment) sees every frame of
    // its lower link's segment: one of the two answers, the macvlan, where the host lives.
    const macvlanUp = listed === undefined && (i.uppers ?? []).some((u) => chosenNames.has(u) && byName.get(u)?.devType === undefined);
    if (macvlanUp) skipped.push({ name: i.name, reason: 'macvlanLower' });
    else use.push(i.name);
  }
  for (const name of listed ?? []) if (!present.has(name)) skipped.push({ name, reason: 'notFound' });
  use.sort(compareStrings);
  skipped.sort((a, b) => compareStrings(a.name, b.name));
  return { use, skipped };
}

// include/uapi/linux/if.h
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

/** ENOENT: the interface went away; ENOTDIR: not an interface (/sys/class/net/bonding_masters). */
const isNotInterface = (err: unknown): boolean => {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

function parseNumber(text: string, radix: 10 | 16, path: string): number {
  const t = text.trim();
  const ok = radix === 16 ? /^0x[0-9a-fA-F]+$/.test(t) : /^[0-9]+$/.test(t);
  if (!ok) throw new HeraldError('Internal', `read ${path}: expected a ${radix === 16 ? 'hex' : 'decimal'} number, got "${t}"`);
  return parseInt(radix === 16 ? t.slice(2) : t, radix);
}

async function readOne(dir: string, name: string): Promise<InterfaceState | undefined> {
  const base = join(dir, name);
  const read = async (file: string): Promise<string> => {
    const path = join(base, file);
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if (isNotInterface(err)) throw err;
      throw new HeraldError('Internal', `read ${path}: ${errorMessage(err)}`, { cause: err });
    }
  };
  let texts: string[];
  try {
    texts = await Promise.all(['flags', 'operstate', 'type', 'address', 'ifindex'].map(read));
  } catch (err) {
    // Gone between listing and reading (a veth of a pod that stopped), or a plain file.
    if (isNotInterface(err)) return undefined;
    throw err;
  }
  const [flagsText = '', operText = '', typeText = '', addressText = '', indexText = ''] = texts;
  const flags = parseNumber(flagsText, 16, join(base, 'flags'));
  const [master, entries, uevent] = await Promise.all([
    readlink(join(base, 'master')).then((l) => basename(l), () => undefined),
    readdir(base).catch(() => [] as string[]),
    readFile(join(base, 'uevent'), 'utf8').catch(() => ''),
  ]);
  const devType = /^DEVTYPE=(.*)$/m.exec(uevent)?.[1]?.trim();
  return {
    name,
    index: parseNumber(indexText, 10, join(base, 'ifindex')),
    up: (flags & IFF_UP) !== 0,
    broadcast: (flags & IFF_BROADCAST) !== 0,
    loopback: (flags & IFF_LOOPBACK) !== 0,
    operState: operText.trim(),
    type: parseNumber(typeText, 10, join(base, 'type')),
    mac: addressText.trim().toLowerCase(),
    noArp: (flags & IFF_NOARP) !== 0,
    master,
    uppers: entries.filter((e) => e.startsWith('upper_')).map((e) => e.slice('upper_'.length)).sort(compareStrings),
    devType: devType === '' ? undefined : devType,
  };
}

/** Reads every interface under `sysfs` (normally /sys/class/net), sorted by name. */
export async function readInterfaces(sysfs = '/sys/class/net'): Promise<InterfaceState[]> {
  let names: string[];
  try {
    names = await readdir(sysfs);
  } catch (err) {
    throw new HeraldError('Internal', `list interfaces in ${sysfs}: ${errorMessage(err)}`, { cause: err });
  }
  const states = await Promise.all(names.sort(compareStrings).map((n) => readOne(sysfs, n)));
  return states.filter((s): s is InterfaceState => s !== undefined);
}
