import { describe, expect, it } from '@jest/globals';
import { fixture } from './__fixtures__/fixtures.js';
import { parseKernelRoutes } from './parse-kernel.js';

describe('parseKernelRoutes (ip -j route show)', () => {
  it('reads multipath routes installed by zebra (with nexthop objects) and by BIRD', () => {
    for (const name of ['frr-kernel-ipv4.json', 'bird-kernel-ipv4.json']) {
      const routes = parseKernelRoutes(fixture(name), 'ipv4');
      expect(routes.find((r) => r.prefix === '198.51.100.1/32')?.nextHops).toEqual(['192.0.2.11', '192.0.2.12']);
      expect(routes.find((r) => r.prefix === '198.51.100.12/32')?.nextHops).toEqual(['192.0.2.12']);
      expect(routes.find((r) => r.prefix === '192.0.2.0/24')).toEqual({ prefix: '192.0.2.0/24', nextHops: [], protocol: 'kernel' });
    }
    expect(parseKernelRoutes(fixture('frr-kernel-ipv4.json'), 'ipv4').find((r) => r.prefix === '203.0.113.1/32')?.protocol).toBe('bgp');
  });

  it('reads IPv6 routes and names the default route', () => {
    const v6 = parseKernelRoutes(fixture('frr-kernel-ipv6.json'), 'ipv6');
    expect(v6.find((r) => r.prefix === '2001:db8:ff::1/128')?.nextHops).toEqual(['2001:db8::11', '2001:db8::12']);
    expect(parseKernelRoutes('[{"dst":"default","gateway":"2001:db8::1"}]', 'ipv6')).toEqual([{ prefix: '::/0', nextHops: ['2001:db8::1'] }]);
    expect(parseKernelRoutes('', 'ipv4')).toEqual([]);
  });
});
