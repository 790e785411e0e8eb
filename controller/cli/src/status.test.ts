import { describe, expect, it } from '@jest/globals';
import { parseStatusObjects } from './objects.js';
import { buildStatus, renderStatus } from './status.js';
import { NOW, NS, bgpStatus, l2Status, pool, service, session } from './__fixtures__/world.js';

const valid = { type: 'Valid', status: 'True', reason: 'Valid', message: '1 address range(s) in use', lastTransitionTime: '2025-01-01T00:00:00Z' };

describe('buildStatus', () => {
  const pools = [
    pool('dual', { addresses: ['10.0.0.0/30', '2001:db8::/64'] }, { assignedIPv4: 1, availableIPv4: 3, assignedIPv6: 1, availableIPv6: '18446744073709551615', conditions: [valid] }),
    pool('fresh', { addresses: ['10.9.0.0/24'] }),
    pool('broken', { addresses: ['10.0.0.0/31'] }, { assignedIPv4: 0, availableIPv4: 0, conditions: [{ ...valid, status: 'False', reason: 'Overlap', message: '10.0.0.0/31 overlaps 10.0.0.0/30 of pool dual' }] }),
  ];

  it('reports per-family use exactly, even for an IPv6 /64', () => {
    const r = buildStatus({ namespace: NS, now: NOW, pools, services: [], statusObjects: parseStatusObjects({ l2: [], bgp: [], sessions: [] }) });
    expect(r.pools.map((p) => [p.name, p.valid, p.families])).toEqual([
      ['broken', 'False', [{ family: 'IPv4', assigned: '0', available: '0', total: '0', percent: null }]],
      [
        'dual',
        'True',
        [
          { family: 'IPv4', assigned: '1', available: '3', total: '4', percent: 25 },
          { family: 'IPv6', assigned: '1', available: '18446744073709551615', total: '18446744073709551616', percent: 0 },
        ],
      ],
      ['fresh', 'Unknown', [{ family: 'IPv4', assigned: '', available: '', total: '', percent: null }]],
    ]);
    expect(r.problems).toEqual(['pool broken is invalid: 10.0.0.0/31 overlaps 10.0.0.0/30 of pool dual']);
  });

  it('lists our Services with mode, nodes and peers, and the problems among them', () => {
    const services = [
      service('a', 'l2', { ips: ['10.0.0.1'], pool: 'dual', condition: { status: 'True', reason: 'IPAllocated', message: 'ok' } }),
      service('a', 'both', { ips: ['10.0.0.2'], pool: 'dual' }),
      service('a', 'silent', { ips: ['10.0.0.3'], pool: 'dual' }),
      service('a', 'pending', { condition: { status: 'False', reason: 'PoolExhausted', message: 'no free IPv4 address' } }),
      service('a', 'foreign', { spec: { loadBalancerClass: 'other.io/lb' } }),
      service('a', 'cluster-ip', { spec: { type: 'ClusterIP' } }),
    ];
    const statusObjects = parseStatusObjects({
      l2: [l2Status('a', 'l2', 'n1'), l2Status('a', 'both', 'n2')],
      bgp: [bgpStatus('a', 'both', 'n1', ['r1']), bgpStatus('a', 'both', 'n3', ['r2'])],
      sessions: [session('n1', 'r1', '192.0.2.1', { bgpStatus: 'Established', bfdStatus: 'N/A', establishedSince: new Date(NOW - 3_600_000).toISOString(), prefixesSent: 2 }), session('n3', 'r2', '192.0.2.2', { bgpStatus: 'Connect', bfdStatus: 'N/A' })],
    });
    const r = buildStatus({ namespace: NS, now: NOW, pools: [], services, statusObjects });
    expect(r.services.map((s) => [s.service, s.mode, s.nodes, s.peers])).toEqual([
      ['a/both', 'L2+BGP', ['n1', 'n2', 'n3'], ['r1', 'r2']],
      ['a/l2', 'L2', ['n1'], []],
      ['a/pending', 'none', [], []],
      ['a/silent', 'none', [], []],
    ]);
    expect(r.problems).toEqual([
      'Service a/pending has no IP: PoolExhausted: no free IPv4 address',
      'Service a/silent has 10.0.0.3 but no node reports announcing it (run: herald explain a/silent)',
      'BGP session n3 -> r2 (192.0.2.2) is Connect',
    ]);
    const text = renderStatus(r);
    expect(text).toMatch(/a\/both {3,}10\.0\.0\.2 {3,}dual {3,}L2\+BGP {3,}n1, n2, n3 {3,}r1, r2 {3,}<none>/);
    expect(text).toMatch(/a\/l2 {3,}10\.0\.0\.1 {3,}dual {3,}L2 {3,}n1 {3,}<none> {3,}True IPAllocated/);
    expect(text).toMatch(/n1 {3,}r1 {3,}192\.0\.2\.1 {3,}Established {3,}N\/A {3,}1h {3,}2 {3,}<none>/);
    expect(text).toContain('PROBLEMS\n- Service a/pending has no IP');
  });

  it('the --lb-class decides which Services are ours', () => {
    const services = [service('a', 'mine', { spec: { loadBalancerClass: 'example.com/lb' } }), service('a', 'classless')];
    const r = buildStatus({ namespace: NS, lbClass: 'example.com/lb', now: NOW, pools: [], services, statusObjects: parseStatusObjects({ l2: [], bgp: [], sessions: [] }) });
    expect(r.services.map((s) => s.service)).toEqual(['a/mine']);
  });

  it('lists invalid configuration objects first, of every kind, before the pools', () => {
    const bad = (kind: string, name: string, message: string): Record<string, unknown> => ({ kind, metadata: { name }, status: { conditions: [{ ...valid, status: 'False', reason: 'InvalidSpec', message }] } });
    const r = buildStatus({
      namespace: NS,
      now: NOW,
      pools,
      services: [],
      statusObjects: parseStatusObjects({ l2: [], bgp: [], sessions: [] }),
      configObjects: [bad('BGPPeer', 'tor', 'spec.peerAddress: not an IP'), { kind: 'L2Advertisement', metadata: { name: 'ok' }, status: { conditions: [valid] } }, bad('BFDProfile', 'fast', 'too fast')],
    });
    expect(r.invalid.map((o) => `${o.kind}/${o.name}`)).toEqual(['IPAddressPool/broken', 'BFDProfile/fast', 'BGPPeer/tor']);
    expect(r.problems.slice(0, 3)).toEqual([
      'pool broken is invalid: 10.0.0.0/31 overlaps 10.0.0.0/30 of pool dual',
      'BFDProfile fast is invalid: too fast',
      'BGPPeer tor is invalid: spec.peerAddress: not an IP',
    ]);
    const text = renderStatus(r);
    expect(text.startsWith('INVALID CONFIGURATION')).toBe(true);
    expect(text.indexOf('BGPPeer')).toBeLessThan(text.indexOf('POOLS'));
  });

  it('renders an empty, healthy installation', () => {
    const r = buildStatus({ namespace: NS, now: NOW, pools: [pool('p', { addresses: ['10.0.0.0/30'] }, { assignedIPv4: 0, availableIPv4: 4, conditions: [valid] })], services: [], statusObjects: parseStatusObjects({ l2: [], bgp: [], sessions: [] }) });
    expect(r.problems).toEqual([]);
    expect(renderStatus(r)).toBe(
      [
        'POOLS (namespace herald-system)',
        'NAME   VALID   IPV4 USED   IPV6 USED   ADDRESSES',
        'p      True    0/4 (0%)    -           10.0.0.0/30',
        '',
        'SERVICES',
        'no LoadBalancer Service handled by Herald',
        '',
        'BGP SESSIONS',
        'no BGPSessionState',
        '',
        'PROBLEMS',
        'none',
        '',
      ].join('\n'),
    );
  });
});
