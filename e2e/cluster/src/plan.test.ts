import { describe, expect, it } from '@jest/globals';
import { ClusterError } from './errors.js';
import { allHosts, findHost, hostBatch, planCluster, planNamespaces, planRootLinks, rootBatch, rootRoutes } from './plan.js';

describe('planCluster', () => {
  it('gives node-i the address .10+i, pod CIDR 10.244.i.0/24 and a fixed MAC by default', () => {
    const plan = planCluster();
    expect(plan.nodes.map((n) => [n.name, n.ns, n.ipv4, n.mac, n.podCidr, n.podGateway, n.cgroup])).toEqual([
      ['node-1', 'hc-node-1', '203.0.113.11', '02:48:00:00:00:11', '10.244.1.0/24', '10.244.1.1', 'hc-node-1'],
      ['node-2', 'hc-node-2', '203.0.113.12', '02:48:00:00:00:12', '10.244.2.0/24', '10.244.2.1', 'hc-node-2'],
      ['node-3', 'hc-node-3', '203.0.113.13', '02:48:00:00:00:13', '10.244.3.0/24', '10.244.3.1', 'hc-node-3'],
    ]);
    expect([plan.client.ns, plan.client.ipv4, plan.router.ns, plan.router.ipv4]).toEqual(['hc-client', '203.0.113.250', 'hc-router', '203.0.113.201']);
  });

  it('derives the IPv6 networks from the IPv4 ones, inside fd00::/8 and clear of fd00::/64', () => {
    const plan = planCluster();
    expect(plan.ipv6).toBe(true);
    expect([plan.bridge.subnet6, plan.bridge.ipv6, plan.clusterCidr6, plan.serviceCidr6]).toEqual(['fd00:203:0:113::/64', 'fd00:203:0:113::1', 'fd00:10:244::/56', 'fd00:10:96::/112']);
    expect(plan.nodes.map((n) => [n.ipv6, n.podCidr6, n.podGateway6])).toEqual([
      ['fd00:203:0:113::11', 'fd00:10:244:1::/64', 'fd00:10:244:1::1'],
      ['fd00:203:0:113::12', 'fd00:10:244:2::/64', 'fd00:10:244:2::1'],
      ['fd00:203:0:113::13', 'fd00:10:244:3::/64', 'fd00:10:244:3::1'],
    ]);
    expect(plan.client.ipv6).toBe('fd00:203:0:113::250');
    const other = planCluster({ lanSubnet: '198.51.100.0/24', clusterCidr: '10.245.0.0/16', serviceCidr: '10.97.0.0/16' });
    expect([other.bridge.subnet6, other.clusterCidr6, other.serviceCidr6]).toEqual(['fd00:198:51:100::/64', 'fd00:10:245::/56', 'fd00:10:97::/112']);
  });

  it('puts the API server and the registry on the bridge host-side address, and the pause image in the registry', () => {
    const plan = planCluster({ lanSubnet: '198.51.100.0/24', apiPort: 7443, registryPort: 5001 });
    expect(plan.bridge).toEqual({ name: 'hc-br0', mac: '02:48:00:00:00:01', ipv4: '198.51.100.1', prefixLength: 24, subnet: '198.51.100.0/24', ipv6: 'fd00:198:51:100::1', subnet6: 'fd00:198:51:100::/64' });
    expect(plan.apiServer.url).toBe('https://198.51.100.1:7443');
    expect(plan.registry).toBe('198.51.100.1:5001');
    expect(plan.pauseImage).toMatch(/^198\.51\.100\.1:5001\/herald\/pause:\w+$/);
    expect(plan.kubernetesServiceIp).toBe('10.96.0.1');
  });

  it('keeps every interface name within the kernel limit of 15 bytes at the largest size', () => {
    const plan = planCluster({ prefix: 'abcdef', nodes: 50 });
    for (const l of planRootLinks(plan)) expect(l.length).toBeLessThanOrEqual(15);
    expect(planNamespaces(plan)).toHaveLength(52);
  });

  it('keeps every node file under the cluster folder, the sockets short enough for Unix sockets', () => {
    const plan = planCluster({ dir: '/tmp/x' });
    for (const n of plan.nodes) {
      for (const p of Object.values(n.paths)) expect(p.startsWith(`/tmp/x/nodes/${n.name}`)).toBe(true);
      expect(`${n.paths.containerdSocket}.ttrpc`.length).toBeLessThan(108);
    }
  });

  it.each([
    [{ nodes: 0 }, /nodes/],
    [{ nodes: 51 }, /nodes/],
    [{ prefix: 'toolong1' }, /prefix/],
    [{ prefix: 'Hc' }, /prefix/],
    [{ lanSubnet: '10.0.0.0/16' }, /lanSubnet/],
    [{ lanSubnet: '10.300.0.0/24' }, /octet/],
    [{ clusterCidr: '10.96.0.0/16', serviceCidr: '10.96.0.0/16' }, /differ/],
    [{ dir: `/tmp/${'x'.repeat(70)}` }, /characters/],
    [{ dir: '/tmp/a b' }, /spaces/],
    [{ apiPort: 5000 }, /differ/],
    [{ proxyMode: 'ipvs' as 'nftables' }, /IPVS/],
  ])('refuses %j', (opts, message) => {
    expect(() => planCluster(opts)).toThrow(ClusterError);
    expect(() => planCluster(opts)).toThrow(message);
  });

  it('finds hosts by name or namespace, and names the hosts it has when it cannot', () => {
    const plan = planCluster({ nodes: 2 });
    expect(findHost(plan, 'router').ns).toBe('hc-router');
    expect(findHost(plan, 'hc-node-2').name).toBe('node-2');
    expect(() => findHost(plan, 'node-3')).toThrow(/hosts: node-1, node-2, client, router/);
    expect(allHosts(plan).map((h) => h.name)).toEqual(['node-1', 'node-2', 'client', 'router']);
  });
});

describe('ip batches', () => {
  const plan = planCluster({ nodes: 2, ipv6: false });
  const dual = planCluster({ nodes: 2 });

  it('routes each pod CIDR to its node from the root namespace', () => {
    expect(rootRoutes(plan)).toEqual(['10.244.1.0/24 via 203.0.113.11 dev hc-br0', '10.244.2.0/24 via 203.0.113.12 dev hc-br0']);
    const batch = rootBatch(plan);
    expect(batch).toContain('link add name hc-br0 address 02:48:00:00:00:01 type bridge stp_state 0 mcast_snooping 0\n');
    expect(batch).toContain('link add name hc-node-1 type veth peer name eth0 address 02:48:00:00:00:11 netns hc-node-1\n');
    expect(batch).toContain('link set dev hc-client master hc-br0 up\n');
    expect(batch.trimEnd().split('\n').slice(-2)).toEqual(rootRoutes(plan).map((r) => `route add ${r}`));
  });

  it('gives a node a default route via the bridge and a route to every other node pod CIDR, and plain hosts only their address', () => {
    const node1 = plan.nodes[0];
    if (!node1) throw new Error('no node');
    expect(hostBatch(plan, node1).trimEnd().split('\n')).toEqual([
      'link set dev lo up',
      'addr add 203.0.113.11/24 dev eth0',
      'link set dev eth0 up',
      'route add default via 203.0.113.1 dev eth0',
      'route add 10.244.2.0/24 via 203.0.113.12 dev eth0',
    ]);
    expect(hostBatch(plan, plan.client).trimEnd().split('\n')).toEqual(['link set dev lo up', 'addr add 203.0.113.250/24 dev eth0', 'link set dev eth0 up']);
  });

  it('adds the IPv6 addresses (no DAD wait), default route and pod routes when dual-stack', () => {
    const node2 = dual.nodes[1];
    if (!node2) throw new Error('no node');
    expect(hostBatch(dual, node2).trimEnd().split('\n')).toEqual([
      'link set dev lo up',
      'addr add 203.0.113.12/24 dev eth0',
      'addr add fd00:203:0:113::12/64 dev eth0 nodad',
      'link set dev eth0 up',
      'route add default via 203.0.113.1 dev eth0',
      'route add default via fd00:203:0:113::1 dev eth0',
      'route add 10.244.1.0/24 via 203.0.113.11 dev eth0',
      'route add fd00:10:244:1::/64 via fd00:203:0:113::11 dev eth0',
    ]);
    expect(rootRoutes(dual)).toContain('fd00:10:244:2::/64 via fd00:203:0:113::12 dev hc-br0');
    expect(rootBatch(dual)).toContain('addr add fd00:203:0:113::1/64 dev hc-br0 nodad\n');
  });
});
