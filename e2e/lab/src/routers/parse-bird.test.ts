import { describe, expect, it } from '@jest/globals';
import { fixture } from './__fixtures__/fixtures.js';
import { birdAsPath, birdPairs, parseBirdBfdSessions, parseBirdProtocols, parseBirdRouteLines, parseBirdRoutes } from './parse-bird.js';

const names = new Map([
  ['herald_192_0_2_11', '192.0.2.11'],
  ['herald_192_0_2_12', '192.0.2.12'],
  ['herald_2001_db8__11', '2001:db8::11'],
]);

describe('parseBirdRoutes (birdc show route all, BIRD 2.0.12)', () => {
  const v4 = parseBirdRoutes(fixture('bird-master4.txt'), fixture('bird-export-kernel4.txt'), names);
  const v6 = parseBirdRoutes(fixture('bird-master6.txt'), fixture('bird-export-kernel6.txt'), names);

  it('keeps BGP routes only (not the direct protocol\'s), grouped by prefix', () => {
    expect(v4.map((r) => r.prefix)).toEqual(['198.51.100.1/32', '198.51.100.11/32', '198.51.100.12/32', '203.0.113.1/32']);
    expect(v6.map((r) => r.prefix)).toEqual(['2001:db8:ff:1::1/128', '2001:db8:ff::1/128', '2001:db8:ff::11/128', '2001:db8:ff::12/128']);
  });

  it('takes ECMP next hops from the merged route exported to the kernel, and lists both paths best first', () => {
    const r = v4.find((x) => x.prefix === '198.51.100.1/32');
    expect(r?.nextHops).toEqual(['192.0.2.11', '192.0.2.12']);
    expect(r?.paths.map((p) => [p.nextHop, p.from, p.best])).toEqual([
      ['192.0.2.11', '192.0.2.11', true],
      ['192.0.2.12', '192.0.2.12', false],
    ]);
    expect(v6.find((x) => x.prefix === '2001:db8:ff::1/128')?.nextHops).toEqual(['2001:db8::11', '2001:db8::12']);
  });

  it('without the export view, gives the best route\'s next hop', () => {
    expect(parseBirdRoutes(fixture('bird-master4.txt')).find((x) => x.prefix === '198.51.100.1/32')?.nextHops).toEqual(['192.0.2.11']);
  });

  it('normalises attributes; BIRD keeps its default LOCAL_PREF 100 on eBGP routes', () => {
    expect(v4.find((x) => x.prefix === '198.51.100.11/32')).toMatchObject({
      nextHops: ['192.0.2.11'],
      asPath: [4_200_000_001],
      communities: ['64512:100', '65535:65281'],
      largeCommunities: ['4200000001:1:2'],
      localPref: 100,
      med: 10,
    });
    expect(v4.find((x) => x.prefix === '203.0.113.1/32')).toMatchObject({ localPref: 250, asPath: [], paths: [{ from: '2001:db8::11', nextHop: '192.0.2.11' }] });
  });

  it('reads the stale flag of graceful restart and continuation lines of long sets', () => {
    const text = [
      'BIRD 2.0.12 ready.',
      'Table master4:',
      '198.51.100.7/32      unicast [herald_192_0_2_12 2026-11-21 07:45:55] * (100s) [AS65000i]',
      '\tvia 192.0.2.12 on eth0',
      '\tType: BGP univ',
      '\tBGP.as_path: 65000 {65001 65002}',
      '\tBGP.next_hop: 192.0.2.12 fe80::30:ff:fe00:12',
      '\tBGP.community: (65000,1) (65000,2)',
      '\t\t(65000,3)',
      '',
    ].join('\n');
    const [r] = parseBirdRoutes(text, undefined, names);
    expect(r).toMatchObject({ prefix: '198.51.100.7/32', stale: true, asPath: [65000, 65001, 65002], communities: ['65000:1', '65000:2', '65000:3'], nextHops: ['192.0.2.12'], paths: [{ from: '192.0.2.12' }] });
  });

  it('splits route lines: protocol, source, primary mark, preference', () => {
    const lines = parseBirdRouteLines(fixture('bird-master4.txt'));
    expect(lines.find((l) => l.prefix === '203.0.113.1/32')).toMatchObject({ protocol: 'herald_2001_db8__11', from: '2001:db8::11', primary: true, preference: 100, stale: false, vias: ['192.0.2.11'] });
    expect(lines.filter((l) => l.prefix === '198.51.100.1/32').map((l) => l.primary)).toEqual([true, false]);
  });

  it('reads AS paths and pairs', () => {
    expect(birdAsPath('')).toEqual([]);
    expect(birdAsPath('4200000001 64512')).toEqual([4_200_000_001, 64512]);
    expect(birdPairs('(64512,7) (65535,0)')).toEqual(['64512:7', '65535:0']);
    expect(birdPairs('(4200000001, 1, 2) (1, 2, 3)')).toEqual(['4200000001:1:2', '1:2:3']);
  });
});

describe('parseBirdProtocols and parseBirdBfdSessions', () => {
  it('reports BGP protocols by neighbour address, with hold time and BFD state where BFD is configured', () => {
    const bfd = parseBirdBfdSessions(fixture('bird-bfd-sessions.txt'));
    expect([...bfd]).toEqual([['192.0.2.11', 'Down']]);
    expect(parseBirdProtocols(fixture('bird-protocols.txt'), bfd, new Set(['192.0.2.11']))).toEqual([
      { address: '192.0.2.11', state: 'Established', bfd: 'Down', holdTimeSec: 3 },
      { address: '192.0.2.12', state: 'Established', holdTimeSec: 3 },
      { address: '192.0.2.99', state: 'Active' },
      { address: '2001:db8::11', state: 'Established', holdTimeSec: 3 },
    ]);
  });

  it('reports a BFD neighbour without a session yet as Down', () => {
    expect(parseBirdProtocols(fixture('bird-protocols.txt'), new Map(), new Set(['192.0.2.12'])).find((n) => n.address === '192.0.2.12')?.bfd).toBe('Down');
  });
});
