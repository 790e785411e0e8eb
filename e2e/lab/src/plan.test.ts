import { describe, expect, it } from '@jest/globals';
import { LabError } from './errors.js';
import { hostBatch, lanBatch, planLab, planNamespaces } from './plan.js';

describe('planLab', () => {
  it('gives nodes, client and routers stable numbers shared by IPv4, IPv6 and MAC', () => {
    const plan = planLab({ nodes: 3, client: true, routers: ['frr', 'bird'], prefix: 'hlabc123' });
    expect(plan.hosts.map((h) => [h.name, h.ns, h.ipv4, h.ipv6, h.mac])).toEqual([
      ['node-1', 'hlabc123-node-1', '192.0.2.11', '2001:db8::11', '02:30:00:00:00:11'],
      ['node-2', 'hlabc123-node-2', '192.0.2.12', '2001:db8::12', '02:30:00:00:00:12'],
      ['node-3', 'hlabc123-node-3', '192.0.2.13', '2001:db8::13', '02:30:00:00:00:13'],
      ['client', 'hlabc123-client', '192.0.2.250', '2001:db8::250', '02:30:00:00:02:50'],
      ['frr', 'hlabc123-frr', '192.0.2.201', '2001:db8::201', '02:30:00:00:02:01'],
      ['bird', 'hlabc123-bird', '192.0.2.202', '2001:db8::202', '02:30:00:00:02:02'],
    ]);
    expect(planNamespaces(plan)[0]).toBe('hlabc123-lan');
    expect(plan.ipv6Dad).toBe('skip');
  });

  it('keeps a host\'s addresses when the rest of the lab changes', () => {
    const small = planLab({ nodes: 1, client: true });
    const big = planLab({ nodes: 20, client: true, routers: ['gobgp'] });
    expect(big.hosts.find((h) => h.name === 'client')?.ipv4).toBe(small.hosts.find((h) => h.name === 'client')?.ipv4);
  });

  it('uses a fresh hl<6 hex> prefix by default', () => {
    const a = planLab({ nodes: 1 }).prefix;
    expect(a).toMatch(/^hl[0-9a-f]{6}$/);
    expect(planLab({ nodes: 1 }).prefix).not.toBe(a);
  });

  it('honours other subnets', () => {
    const h = planLab({ nodes: 1, v4Subnet: '198.51.100.0/24', v6Subnet: '2001:db8:1:2::/64' }).hosts[0];
    expect([h?.ipv4, h?.ipv6]).toEqual(['198.51.100.11', '2001:db8:1:2::11']);
  });

  it.each([
    [{ nodes: 0 }],
    [{ nodes: 190 }],
    [{ nodes: 1.5 }],
    [{ nodes: 1, prefix: 'Bad' }],
    [{ nodes: 1, routers: ['node-4'] }],
    [{ nodes: 1, routers: ['client'] }],
    [{ nodes: 1, routers: ['a', 'a'] }],
    [{ nodes: 1, routers: ['a-very-long-router-name'] }],
    [{ nodes: 1, v4Subnet: '192.0.2.0/23' }],
    [{ nodes: 1, v6Subnet: '2001:db8::/48' }],
  ])('rejects %j', (opts) => {
    expect(() => planLab(opts)).toThrow(LabError);
  });

  it('spells out name/dev in ip batches, so a port named like an ip keyword stays a name', () => {
    const plan = planLab({ nodes: 1, routers: ['a'], prefix: 'hlx' });
    expect(lanBatch(plan)).toContain('link add name a type veth peer name eth0 address 02:30:00:00:02:01 netns hlx-a\nlink set dev a master br0 up\n');
    expect(lanBatch(plan)).toContain('link add name br0 type bridge stp_state 0 mcast_snooping 0');
    expect(hostBatch(plan.hosts[0]!)).toBe('link set dev lo up\naddr add 192.0.2.11/24 dev eth0\naddr add 2001:db8::11/64 dev eth0\nlink set dev eth0 up\n');
  });
});
