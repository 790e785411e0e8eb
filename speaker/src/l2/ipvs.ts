/**
 * kube-proxy in IPVS mode binds every Service IP, LoadBalancer IPs included, to the dummy
 * device `kube-ipvs0` on every node. With the kernel's default `arp_ignore=0` each node then
 * answers ARP for every VIP from its own MAC, beside the elected speaker, and clients flip
 * between nodes (MetalLB #153). kube-proxy's `ipvs.strictARP: true` sets
 * `net.ipv4.conf.all.arp_ignore=1` (answer only for addresses on the receiving interface)
 * and `arp_announce=2`, which fixes it. The speaker cannot see kube-proxy's configuration
 * from the node, but it can see the effect: the device exists and the sysctl is 0.
 *
 * {@link ipvsArpHazard} is pure; {@link readArpIgnore} reads the sysctls. IPVS cannot run on
 * our test machines (no module), so the hazard is tested on captured state.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The device kube-proxy's IPVS mode puts every Service IP on. */
export const KUBE_IPVS_DEVICE = 'kube-ipvs0';

export type L2Hazard = {
  readonly reason: 'ipvsWithoutStrictARP';
  readonly message: string;
  /** Interfaces whose kernel answers ARP for the VIPs on kube-ipvs0. */
  readonly interfaces: readonly string[];
};

/**
 * Whether the kernel answers ARP for addresses on kube-ipvs0 on any of `announcing`. The
 * kernel uses the larger of `all` and the interface's own arp_ignore (ip-sysctl.rst).
 * @param devices - every interface name on the node
 * @param arpIgnore - arp_ignore per interface name, and under `all`
 */
export function ipvsArpHazard(devices: readonly string[], announcing: readonly string[], arpIgnore: ReadonlyMap<string, number>): L2Hazard | undefined {
  if (!devices.includes(KUBE_IPVS_DEVICE)) return undefined;
  const all = arpIgnore.get('all') ?? 0;
  const answering = announcing.filter((i) => Math.max(all, arpIgnore.get(i) ?? 0) === 0).sort();
  if (answering.length === 0) return undefined;
  return {
    reason: 'ipvsWithoutStrictARP',
    interfaces: answering,
    message:
      `kube-proxy runs in IPVS mode (${KUBE_IPVS_DEVICE} exists) without strictARP: this node's kernel answers ARP for every LoadBalancer IP on ` +
      `${answering.join(', ')}, beside the elected speaker. Set ipvs.strictARP: true in kube-proxy's configuration (docs/l2-quickstart.md)`,
  };
}

/** arp_ignore of `all` and of each named interface; an unreadable one is left out (read as 0). */
export async function readArpIgnore(names: readonly string[], dir = '/proc/sys/net/ipv4/conf'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(
    ['all', ...names].map(async (n) => {
      try {
        const v = Number((await readFile(join(dir, n, 'arp_ignore'), 'utf8')).trim());
        if (Number.isInteger(v)) out.set(n, v);
      } catch {
        // Gone, or no IPv4 on it: nothing to answer there.
      }
    }),
  );
  return out;
}
