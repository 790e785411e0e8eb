import { describe, expect, it } from '@jest/globals';
import { fixture } from './__fixtures__/fixtures.js';
import { frrCommunity, parseFrrBfdPeers, parseFrrNeighbors, parseFrrRoutes } from './parse-frr.js';

describe('parseFrrRoutes (show bgp ... unicast json detail, FRR 8.4.4)', () => {
  const v4 = parseFrrRoutes(fixture('frr-ipv4.json'));
  const v6 = parseFrrRoutes(fixture('frr-ipv6.json'));

  it('lists every prefix, skipping the header element FRR puts first in each array', () => {
    expect(v4.map((r) => r.prefix)).toEqual(['198.51.100.1/32', '198.51.100.11/32', '198.51.100.12/32', '203.0.113.1/32']);
    expect(v6.map((r) => r.prefix)).toEqual(['2001:db8:ff:1::1/128', '2001:db8:ff::1/128', '2001:db8:ff::11/128', '2001:db8:ff::12/128']);
  });

  it('gives the best and multipath next hops of a prefix learned from two speakers', () => {
    const r = v4.find((x) => x.prefix === '198.51.100.1/32');
    expect(r?.nextHops).toEqual(['192.0.2.11', '192.0.2.12']);
    expect(r?.paths.map((p) => [p.nextHop, p.from, p.best])).toEqual([
      ['192.0.2.11', '192.0.2.11', true],
      ['192.0.2.12', '192.0.2.12', false],
    ]);
    expect(v6.find((x) => x.prefix === '2001:db8:ff::1/128')?.nextHops).toEqual(['2001:db8::11', '2001:db8::12']);
  });

  it('normalises AS path, communities (well-known names back to numbers), large communities and MED; no LOCAL_PREF on eBGP', () => {
    expect(v4.find((x) => x.prefix === '198.51.100.11/32')).toEqual({
      prefix: '198.51.100.11/32',
      nextHops: ['192.0.2.11'],
      asPath: [4_200_000_001],
      communities: ['64512:100', '65535:65281'],
      largeCommunities: ['4200000001:1:2'],
      med: 10,
      paths: [expect.objectContaining({ best: true })],
    });
  });

  it('keeps LOCAL_PREF of an iBGP path, learned over IPv6 for an IPv4 prefix', () => {
    expect(v4.find((x) => x.prefix === '203.0.113.1/32')).toMatchObject({ localPref: 250, asPath: [], paths: [{ from: '2001:db8::11', nextHop: '192.0.2.11' }] });
  });

  it('leaves out invalid paths and reports stale ones', () => {
    const text = JSON.stringify({
      routes: {
        '198.51.100.7/32': [
          { prefix: '198.51.100.7/32', version: 3 },
          { valid: false, nexthops: [{ ip: '192.0.2.13', afi: 'ipv4' }], peer: { peerId: '192.0.2.13', type: 'external' } },
          { valid: true, stale: true, bestpath: { overall: true }, nexthops: [{ ip: '192.0.2.12', afi: 'ipv4' }], peer: { peerId: '192.0.2.12', type: 'external' } },
        ],
        '198.51.100.8/32': [{ valid: false, nexthops: [{ ip: '192.0.2.13' }] }],
      },
    });
    const routes = parseFrrRoutes(text);
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ prefix: '198.51.100.7/32', stale: true, nextHops: ['192.0.2.12'], paths: [{ nextHop: '192.0.2.12', stale: true }] });
  });

  it('takes the global IPv6 next hop when FRR lists a link-local one too', () => {
    const text = JSON.stringify({ routes: { '2001:db8:ff::9/128': [{ valid: true, bestpath: true, nexthops: [{ ip: 'fe80::1', scope: 'link-local' }, { ip: '2001:DB8::12', scope: 'global' }] }] } });
    expect(parseFrrRoutes(text)[0]?.nextHops).toEqual(['2001:db8::12']);
  });

  it('maps FRR\'s names of well-known communities and refuses unknown ones', () => {
    expect(['gracefulShutdown', 'noExport', 'noAdvertise', 'noPeer', 'blackhole', 'localAs', 'acceptown', 'llgrStale', '65000:1'].map(frrCommunity)).toEqual([
      '65535:0',
      '65535:65281',
      '65535:65282',
      '65535:65284',
      '65535:666',
      '65535:65283',
      '65535:1',
      '65535:6',
      '65000:1',
    ]);
    expect(() => frrCommunity('somethingNew')).toThrow(expect.objectContaining({ code: 'BadOutput' }));
  });

  it('reads an empty table and refuses what is not JSON', () => {
    expect(parseFrrRoutes('{"vrfId": 0, "routes": {} }')).toEqual([]);
    expect(() => parseFrrRoutes('% Unknown command')).toThrow(expect.objectContaining({ code: 'BadOutput' }));
  });
});

describe('parseFrrNeighbors (show bgp neighbors json + show bfd peers json)', () => {
  it('reports session states, negotiated hold time and the BFD state for the neighbour with BFD only', () => {
    const bfd = parseFrrBfdPeers(fixture('frr-bfd-peers.json'));
    expect([...bfd]).toEqual([['192.0.2.11', 'Down']]);
    expect(parseFrrNeighbors(fixture('frr-neighbors.json'), bfd)).toEqual([
      { address: '192.0.2.11', state: 'Established', bfd: 'Down', holdTimeSec: 3 },
      { address: '192.0.2.12', state: 'Established', holdTimeSec: 3 },
      { address: '192.0.2.99', state: 'Active' },
      { address: '2001:db8::11', state: 'Established', holdTimeSec: 3 },
    ]);
  });

  it('falls back to bgpd\'s own view of BFD without bfdd\'s answer', () => {
    expect(parseFrrNeighbors(fixture('frr-neighbors.json')).find((n) => n.address === '192.0.2.11')?.bfd).toBe('Down');
  });

  it('maps decorated states such as "Idle (Admin)"', () => {
    expect(parseFrrNeighbors(JSON.stringify({ '192.0.2.11': { bgpState: 'Idle (Admin)' }, '192.0.2.12': { bgpState: 'OpenSent' } })).map((n) => n.state)).toEqual(['Idle', 'OpenSent']);
  });
});
