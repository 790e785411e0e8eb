import { describe, expect, it } from '@jest/globals';
import { fixture } from './__fixtures__/fixtures.js';
import { parseGobgpNeighbors, parseGobgpRib } from './parse-gobgp.js';

describe('parseGobgpRib (gobgp global rib -a AFI -j, GoBGP 3.10)', () => {
  const v4 = parseGobgpRib(fixture('gobgp-ipv4.json'));
  const v6 = parseGobgpRib(fixture('gobgp-ipv6.json'));

  it('lists every prefix with all its paths, best first; next hops are the best path\'s (no multipath in the RIB)', () => {
    expect(v4.map((r) => r.prefix)).toEqual(['198.51.100.1/32', '198.51.100.11/32', '198.51.100.12/32', '203.0.113.1/32']);
    const r = v4.find((x) => x.prefix === '198.51.100.1/32');
    expect(r?.nextHops).toEqual(['192.0.2.11']);
    expect(r?.paths.map((p) => [p.nextHop, p.from, p.best])).toEqual([
      ['192.0.2.11', '192.0.2.11', true],
      ['192.0.2.12', '192.0.2.12', false],
    ]);
  });

  it('takes IPv6 next hops from MP_REACH_NLRI and decodes communities from their 32-bit values', () => {
    expect(v6.find((x) => x.prefix === '2001:db8:ff::11/128')).toMatchObject({
      nextHops: ['2001:db8::11'],
      asPath: [4_200_000_001],
      communities: ['64512:100', '65535:65281'],
      largeCommunities: ['4200000001:1:2'],
      med: 10,
    });
    expect(v6.find((x) => x.prefix === '2001:db8:ff:1::1/128')).toMatchObject({ localPref: 250, asPath: [], paths: [{ from: '2001:db8::11' }] });
  });

  it('reads an empty table however the CLI prints it', () => {
    expect(parseGobgpRib('')).toEqual([]);
    expect(parseGobgpRib('null\n')).toEqual([]);
    expect(parseGobgpRib('{}')).toEqual([]);
  });

  it('reports stale paths (graceful restart)', () => {
    const text = JSON.stringify({ '198.51.100.7/32': [{ best: true, stale: true, attrs: [{ type: 3, nexthop: '192.0.2.12' }] }] });
    expect(parseGobgpRib(text)[0]).toMatchObject({ stale: true, asPath: [], communities: [] });
  });
});

describe('parseGobgpNeighbors (gobgp neighbor -j)', () => {
  it('maps the numeric session state and negotiated hold time', () => {
    expect(parseGobgpNeighbors(fixture('gobgp-neighbors.json'))).toEqual([
      { address: '192.0.2.11', state: 'Established', holdTimeSec: 3 },
      { address: '192.0.2.12', state: 'Established', holdTimeSec: 3 },
      { address: '192.0.2.99', state: 'Active' },
      { address: '2001:db8::11', state: 'Established', holdTimeSec: 3 },
    ]);
  });

  it('reads a neighbour that never had a session as Idle', () => {
    expect(parseGobgpNeighbors('[{"conf":{"neighbor_address":"192.0.2.11"},"state":{}}]')).toEqual([{ address: '192.0.2.11', state: 'Idle' }]);
  });
});
