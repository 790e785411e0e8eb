import { describe, expect, it } from '@jest/globals';
import { explain, explainAllocation, renderExplanation } from './explain.js';
import { parseStatusObjects } from './objects.js';
import { NOW, bgpAd, bgpPeer, bgpStatus, event, l2Ad, l2Status, lease, node, pool, service, session, slice, world } from './__fixtures__/world.js';

describe('explain: allocation (the controller allocator replayed)', () => {
  it('says why each pool was refused when a Service gets no IP', () => {
    const holder = service('a', 'holder', { ips: ['10.0.0.0'], pool: 'small' });
    const svc = service('b', 'web');
    const pools = [
      pool('small', { addresses: ['10.0.0.0/32'] }),
      pool('team-a', { addresses: ['10.1.0.0/24'], serviceAllocation: { namespaces: ['a'] } }),
      pool('manual', { addresses: ['10.2.0.0/24'], autoAssign: false }),
      pool('v6', { addresses: ['2001:db8::/120'] }),
    ];
    const a = explainAllocation(world(svc, { services: [holder, svc], pools }));
    expect(a.outcome).toBe('refused');
    expect(a.reason).toBe('PoolExhausted');
    expect(a.pools).toEqual([
      { pool: 'manual', verdict: 'autoAssignOff', detail: 'autoAssign is false: used only when requested by name or IP' },
      { pool: 'team-a', verdict: 'notAdmitted', detail: 'serviceAllocation.namespaces does not include b' },
      { pool: 'small', verdict: 'exhausted', detail: 'no free IPv4 address' },
      { pool: 'v6', verdict: 'lacksFamily', detail: 'has no IPv4 addresses' },
    ]);
  });

  it('shows an invalid pool as invalid and names the request it refused', () => {
    const svc = service('b', 'web', { annotations: { 'herald.io/address-pool': 'broken' } });
    const a = explainAllocation(world(svc, { pools: [pool('broken', { addresses: ['not-an-ip'] }), pool('ok', { addresses: ['10.0.0.0/30'] })] }));
    expect(a).toMatchObject({ outcome: 'refused', reason: 'NoMatchingPool' });
    expect(a.message).toContain('the requested pool broken is invalid');
    expect(a.pools.find((p) => p.pool === 'ok')).toEqual({ pool: 'ok', verdict: 'notConsidered', detail: 'not considered: the Service requests pool broken' });
  });

  it('says the controller is lagging when the allocator would assign an IP now', () => {
    const svc = service('b', 'web');
    const a = explainAllocation(world(svc, { pools: [pool('p', { addresses: ['10.0.0.0/30'] })] }));
    expect(a.outcome).toBe('pending');
    expect(a.message).toContain('would assign 10.0.0.0 from pool p now');
    expect(a.message).toContain('--namespace herald-system');
  });

  it('keeps a Service on the IPs it holds', () => {
    const svc = service('b', 'web', { ips: ['10.0.0.2'], pool: 'p' });
    const a = explainAllocation(world(svc, { pools: [pool('p', { addresses: ['10.0.0.0/30'] }), pool('q', { addresses: ['10.9.0.0/30'] })] }));
    expect(a).toMatchObject({ outcome: 'holds', message: 'holds 10.0.0.2 from pool p: its request is still met' });
    expect(a.pools).toEqual([
      { pool: 'p', verdict: 'chosen', detail: 'holds 10.0.0.2' },
      { pool: 'q', verdict: 'notConsidered', detail: 'not needed: the Service keeps its IPs' },
    ]);
  });

  it.each([
    ['a Service of another loadBalancerClass', { loadBalancerClass: 'other.io/lb' }, 'OtherLoadBalancerClass'],
    ['a ClusterIP Service', { type: 'ClusterIP' }, 'NotLoadBalancer'],
  ])('does not allocate for %s', (_what, spec, reason) => {
    const svc = service('b', 'web', { spec });
    expect(explainAllocation(world(svc, { pools: [pool('p', { addresses: ['10.0.0.0/30'] })] }))).toMatchObject({ outcome: 'notHandled', reason });
  });

  it('reports a malformed annotation as an invalid request', () => {
    const svc = service('b', 'web', { annotations: { 'metallb.universe.tf/loadBalancerIPs': 'ten' } });
    expect(explainAllocation(world(svc, { pools: [pool('p', { addresses: ['10.0.0.0/30'] })] }))).toMatchObject({
      outcome: 'invalidRequest',
      reason: 'InvalidRequest',
      message: 'annotation metallb.universe.tf/loadBalancerIPs: "ten" is not an IP address',
    });
  });
});

describe('explain: announcement (the speaker planners)', () => {
  const pools = [pool('p', { addresses: ['10.0.0.0/30'] })];
  const nodes = [node('n1', { zone: 'x' }), node('n2', { zone: 'x' }), node('n3', { zone: 'x', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }), node('n4', { zone: 'y' })];

  it('names the L2 owner and why every other node does not announce', () => {
    const svc = service('b', 'web', { ips: ['10.0.0.1'], pool: 'p', condition: { status: 'True', reason: 'IPAllocated', message: 'assigned 10.0.0.1 from pool p' } });
    const e = explain(
      world(svc, {
        pools,
        nodes,
        l2Advertisements: [l2Ad('l2', { nodeSelectors: [{ matchLabels: { zone: 'x' } }] })],
        endpointSlices: [slice('b', 'web', ['n1'])],
        // n2's Lease expired 50 s ago: not alive.
        leases: [lease('n1'), lease('n2', 60_000), lease('n3'), lease('n4')],
        statusObjects: parseStatusObjects({ l2: [l2Status('b', 'web', 'n1', ['eth0'])], bgp: [], sessions: [] }),
        events: [event('IPAllocated', 'assigned 10.0.0.1 from pool p', NOW - 5_000)],
      }),
    );
    expect(e.healthy).toBe(true);
    expect(e.summary).toBe('b/web has 10.0.0.1 (pool p), announced over L2 by n1');
    const a = e.announcements[0];
    expect(a?.l2.owner).toBe('n1');
    expect(a?.l2.nodes.map((n) => [n.node, n.announces, n.reason])).toEqual([
      ['n1', true, 'owner'],
      ['n2', false, 'speakerNotAlive'],
      ['n3', false, 'excludedByLabel'],
      ['n4', false, 'notSelectedByAdvertisement'],
    ]);
    expect(a?.bgp).toMatchObject({ reason: 'noBGPAdvertisement', detail: 'no BGPAdvertisement selects pool p' });
    expect(e.speakers.find((s) => s.node === 'n2')).toMatchObject({ alive: false, expiredForMs: 50_000 });
    const text = renderExplanation(e);
    expect(text).toContain('Verdict:    ok: b/web has 10.0.0.1 (pool p), announced over L2 by n1');
    expect(text).toContain('L2: n1 answers (preferred: the highest-ranked eligible node for this IP)');
    expect(text).toMatch(/n2 {3,}no {3,}speakerNotAlive {3,}its speaker is not alive/);
    expect(text).toContain('n2 not alive (Lease expired 50s ago)');
    expect(text).toContain('L2:  n1 (interfaces eth0)');
    expect(text).toContain('herald.io/AddressAssigned=True IPAllocated: assigned 10.0.0.1 from pool p');
    expect(text).toMatch(/IPAllocated {3,}herald\.io\/herald-controller {3,}assigned 10\.0\.0\.1 from pool p/);
  });

  it('says an eligible node is not the owner because another was elected', () => {
    const svc = service('b', 'web', { ips: ['10.0.0.1'], pool: 'p' });
    const e = explain(world(svc, { pools, nodes: nodes.slice(0, 2), l2Advertisements: [l2Ad('l2')], endpointSlices: [slice('b', 'web', ['n1'])], leases: [lease('n1'), lease('n2')] }));
    const lines = e.announcements[0]?.l2.nodes ?? [];
    const owner = e.announcements[0]?.l2.owner ?? '';
    expect(lines.filter((n) => n.announces).map((n) => n.node)).toEqual([owner]);
    expect(lines.find((n) => n.node !== owner)).toMatchObject({ reason: 'eligible', detail: `eligible, but ${owner} was elected (one node answers ARP/NDP per IP)` });
    // Nobody reports it: the explanation is printed, but unhealthy.
    expect(e.healthy).toBe(false);
    expect(e.summary).toBe('b/web has 10.0.0.1 (pool p), but no node reports announcing it');
  });

  it('gives BGP reasons per node and shows the sessions of the announcing nodes', () => {
    const svc = service('b', 'web', { ips: ['10.0.0.1'], pool: 'p', spec: { externalTrafficPolicy: 'Local' } });
    const e = explain(
      world(svc, {
        pools,
        nodes,
        bgpAdvertisements: [bgpAd('adv', { ipAddressPools: ['p'] })],
        bgpPeers: [bgpPeer('r1', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', nodeSelectors: [{ matchLabels: { zone: 'x' } }] })],
        endpointSlices: [slice('b', 'web', ['n1', 'n4'])],
        leases: [lease('n1'), lease('n2'), lease('n3'), lease('n4')],
        statusObjects: parseStatusObjects({
          l2: [],
          bgp: [bgpStatus('b', 'web', 'n1', ['r1'])],
          sessions: [session('n1', 'r1', '192.0.2.1', { bgpStatus: 'Established', bfdStatus: 'N/A', establishedSince: new Date(NOW - 125_000).toISOString(), prefixesSent: 1 })],
        }),
      }),
    );
    expect(e.healthy).toBe(true);
    expect(e.announcements[0]?.l2).toMatchObject({ reason: 'noL2Advertisement', detail: 'no L2Advertisement selects pool p' });
    expect(e.announcements[0]?.bgp.nodes.map((n) => [n.node, n.reason])).toEqual([
      ['n1', 'announced'],
      ['n2', 'noLocalEndpoint'],
      ['n3', 'excludedByLabel'],
      ['n4', 'noPeer'],
    ]);
    expect(e.sessions).toEqual([expect.objectContaining({ node: 'n1', peer: 'r1', bgp: 'Established', uptimeMs: 125_000 })]);
    const text = renderExplanation(e);
    expect(text).toContain('BGP: n1 announces');
    expect(text).toContain('announced to r1');
    expect(text).toMatch(/n1 {3,}r1 {3,}192\.0\.2\.1 {3,}Established {3,}N\/A {3,}2m5s/);
  });

  it('does not count a BGP announcement from a node whose speaker is not alive', () => {
    const svc = service('b', 'web', { ips: ['10.0.0.1'], pool: 'p' });
    const e = explain(
      world(svc, {
        pools,
        nodes: [node('n1')],
        bgpAdvertisements: [bgpAd('adv')],
        bgpPeers: [bgpPeer('r1', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1' })],
        endpointSlices: [slice('b', 'web', ['n1'])],
      }),
    );
    expect(e.announcements[0]?.bgp.nodes).toEqual([expect.objectContaining({ node: 'n1', announces: false, reason: 'speakerNotAlive' })]);
  });

  it('keeps the last ten events, oldest first', () => {
    const svc = service('b', 'web');
    const events = Array.from({ length: 12 }, (_, i) => event(`R${i}`, `n${i}`, NOW - (12 - i) * 1000)).reverse();
    const e = explain(world(svc, { events }));
    expect(e.events.map((x) => x.reason)).toEqual(['R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9', 'R10', 'R11']);
  });

  it('says a Service without IP is unhealthy, with the allocator reason in the summary', () => {
    const svc = service('b', 'web', { condition: { status: 'False', reason: 'NoMatchingPool', message: 'no IPAddressPool exists in the controller namespace' } });
    const e = explain(world(svc));
    expect(e.healthy).toBe(false);
    expect(e.summary).toBe('b/web has no IP: NoMatchingPool: no IPAddressPool exists in the controller namespace');
    expect(e.announcements).toEqual([]);
    expect(renderExplanation(e)).toContain('Allocation: refused (NoMatchingPool): no IPAddressPool exists in the controller namespace');
  });
});
