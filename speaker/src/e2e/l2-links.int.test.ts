/**
 * L2 mode on the host links users really have: a node whose uplink is a port of a Linux
 * bridge with its own MAC, a node whose host address lives on a macvlan, and a node with
 * an extra NOARP link on the same segment. Checked from the client with tcpdump: exactly
 * one reply per request, and the gratuitous ARPs / unsolicited NAs on gain from one MAC.
 * Needs root, tcpdump, arping, ndisc6 (CI installs them). Bonding cannot run here (no
 * module): it is unit-tested on captured sysfs state in ../l2/interfaces.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { Bed, sleep, startBed, until } from './bed.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/speaker e2e: skipping the L2 links suite: it needs root (CI runs it as root)\n');
const describeRoot = ROOT ? describe : describe.skip;

const POOL = ['192.0.2.150-192.0.2.159', '2001:db8::150-2001:db8::159'];
const BRIDGE_MAC = '02:31:00:00:00:01';
const MACVLAN_MAC = '02:31:00:00:00:02';
const NOARP_MAC = '02:31:00:00:00:03';

/** A tcpdump on the client's eth0; `stop` returns the source MAC of every matching frame that names `mustContain`. */
async function capture(bed: Bed, filter: string): Promise<{ stop: (mustContain: string) => Promise<string[]> }> {
  const child: ChildProcess = bed.lab.spawn('client', 'tcpdump', ['-i', 'eth0', '-n', '-e', '-l', '-Z', 'root', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('tcpdump did not start')), 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return {
    stop: async (mustContain) => {
      await sleep(200);
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      });
      return out
        .split('\n')
        .filter((l) => l.includes(mustContain))
        .map((l) => /^\S+\s+([0-9a-f:]{17})\s+>/i.exec(l)?.[1]?.toLowerCase())
        .filter((m): m is string => m !== undefined);
    },
  };
}

async function sh(bed: Bed, host: string, script: string): Promise<void> {
  const r = await bed.lab.exec(host, 'sh', ['-ec', script]);
  if (r.status !== 0) throw new Error(`${host}: ${script}: ${r.stderr}`);
}

describeRoot('L2 mode on bridged, macvlan and NOARP host links (IPv4 and IPv6)', () => {
  let bed: Bed;
  const expected: Record<string, string> = {};

  beforeAll(async () => {
    bed = await startBed({ nodes: 3, pool: POOL });
    const [n1, n2, n3] = bed.lab.nodes as [string, string, string];
    const move = (h: string, to: string): string => {
      const x = bed.lab.host(h);
      return `ip addr del ${x.ipv4}/24 dev eth0; ip addr del ${x.ipv6}/64 dev eth0; ip addr add ${x.ipv4}/24 dev ${to}; ip addr add ${x.ipv6}/64 dev ${to} nodad`;
    };
    // node-1: the uplink is a port of br0, which has its own MAC and holds the host's addresses.
    await sh(bed, n1, `ip link add br0 type bridge stp_state 0 forward_delay 0; ip link set br0 address ${BRIDGE_MAC}; ip link set eth0 master br0; ip link set br0 up; ${move(n1, 'br0')}`);
    // node-2: the host lives on a macvlan of its uplink.
    await sh(bed, n2, `ip link add link eth0 name mv0 type macvlan mode bridge; ip link set mv0 address ${MACVLAN_MAC}; ip link set mv0 up; ${move(n2, 'mv0')}`);
    // node-3: a second link on the same LAN, marked NOARP.
    const ns3 = bed.lab.host(n3).ns;
    const r = await bed.lab.exec(n3, 'ip', ['link', 'add', 'lan1', 'type', 'veth', 'peer', 'name', `${n3}-l1`, 'netns', bed.lab.lanNs]);
    if (r.status !== 0) throw new Error(`veth for ${ns3}: ${r.stderr}`);
    await sh(bed, n3, `ip link set lan1 address ${NOARP_MAC}; ip link set lan1 arp off; ip link set lan1 up`);
    const lan = await bed.lab.exec(n3, 'ip', ['-n', bed.lab.lanNs, 'link', 'set', `${n3}-l1`, 'master', 'br0', 'up']);
    if (lan.status !== 0) throw new Error(`LAN port: ${lan.stderr}`);
    expected[n1] = BRIDGE_MAC;
    expected[n2] = MACVLAN_MAC;
    expected[n3] = bed.macOf(n3);
    for (const h of bed.lab.nodes) await bed.labelNode(h, { 'herald.io/l2-host': h });
    await bed.startSpeakers();
  }, 180_000);

  afterAll(async () => {
    await bed?.destroy();
  }, 60_000);

  it('answers every request once, from the one MAC of the elected node, and announces a gain from that MAC only', async () => {
    await bed.createService('links', { families: [4, 6] });
    const ips = await bed.ips('links', 2);
    const v4 = ips.find((i) => !i.includes(':')) ?? '';
    const v6 = ips.find((i) => i.includes(':')) ?? '';
    for (const host of bed.lab.nodes) {
      const mac = expected[host] ?? '';
      // Nobody first, so that the target gains the IPs (and announces the gain).
      await bed.setAdvertisement({ nodeSelectors: [{ matchLabels: { 'herald.io/l2-host': 'none' } }] });
      await until('no owner', async () => (await bed.l2Nodes('links')).length === 0);
      const garps = await capture(bed, 'arp and arp[14:4] == arp[24:4]');
      const nas = await capture(bed, 'icmp6 and ip6[40] == 136');
      await bed.setAdvertisement({ nodeSelectors: [{ matchLabels: { 'herald.io/l2-host': host } }] });
      await until(`${host} owns the IPs`, async () => (await bed.l2Nodes('links')).join() === bed.nodeName(host));
      await sleep(1_500);
      const gainV4 = await garps.stop(v4);
      const gainV6 = await nas.stop(`tgt is ${v6}`);
      expect({ host, v4: [...new Set(gainV4)], v6: [...new Set(gainV6)] }).toEqual({ host, v4: [mac], v6: [mac] });

      // Active: a fresh question gets exactly one answer, from that MAC.
      const replies = await capture(bed, 'arp[6:2] == 2');
      await bed.flushClient(v4);
      expect(await bed.ask(v4)).toContain(mac);
      const arpReplies = await replies.stop(v4);
      expect({ host, arpReplies }).toEqual({ host, arpReplies: [mac] });
      const solicited = await capture(bed, 'icmp6 and ip6[40] == 136 and not ip6 dst ff02::1');
      await bed.flushClient(v6);
      expect(await bed.ask(v6)).toContain(mac);
      const naReplies = await solicited.stop(`tgt is ${v6}`);
      expect({ host, naReplies }).toEqual({ host, naReplies: [mac] });
    }
  }, 120_000);

  it('says which links it skips and why, in the ServiceL2Status interfaces', async () => {
    await bed.setAdvertisement({ nodeSelectors: [{ matchLabels: { 'herald.io/l2-host': 'node-1' } }] });
    await until('node-1 reports br0 only', async () => {
      const st = (await bed.custom.listNamespacedCustomObject({ group: 'herald.io', version: 'v1beta1', namespace: bed.ns, plural: 'servicel2statuses' })) as { items: { status?: { serviceName?: string; interfaces?: { name: string }[] } }[] };
      const mine = st.items.filter((i) => i.status?.serviceName === 'links').map((i) => i.status?.interfaces?.map((x) => x.name));
      return JSON.stringify(mine) === JSON.stringify([['br0']]);
    });
  });
});
