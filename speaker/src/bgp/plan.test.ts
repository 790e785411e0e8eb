import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import {
  BFDProfileSchema,
  BGPAdvertisementSchema,
  BGPPeerSchema,
  CommunitySchema,
  IPAddressPoolSchema,
  type BGPAdvertisement,
  type BGPAdvertisementInput,
  type BGPPeer,
  type BGPPeerInput,
  type IPAddressPool,
} from '@herald/shared/api';
import { parseIP } from '@herald/shared/ip';
import { EXCLUDE_FROM_LB_LABEL, POOL_ANNOTATION } from '../l2/eligibility.js';
import { aggregate, planBgp, sessionFamilies, type BgpWorld } from './plan.js';

const NS = 'herald-system';

function node(name: string, labels: Record<string, string> = {}, networkUnavailable = false): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: { conditions: networkUnavailable ? [{ type: 'NetworkUnavailable', status: 'True' }] : [] },
  };
}
const pool = (name: string, addresses: string[], labels: Record<string, string> = {}): IPAddressPool =>
  IPAddressPoolSchema.parse({ metadata: { name, namespace: NS, labels }, spec: { addresses } });
const adv = (name: string, spec: BGPAdvertisementInput['spec'] = {}): BGPAdvertisement =>
  BGPAdvertisementSchema.parse({ metadata: { name, namespace: NS }, spec });
const peer = (name: string, spec: Partial<BGPPeerInput['spec']> = {}): BGPPeer =>
  BGPPeerSchema.parse({ metadata: { name, namespace: NS }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', ...spec } });

function svc(key: string, ips: string[], o: { policy?: 'Local'; pool?: string; lbClass?: string; type?: string } = {}): V1Service {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    metadata: { namespace, name, ...(o.pool === undefined ? {} : { annotations: { [POOL_ANNOTATION]: o.pool } }) },
    spec: { type: o.type ?? 'LoadBalancer', ...(o.policy ? { externalTrafficPolicy: o.policy } : {}), ...(o.lbClass ? { loadBalancerClass: o.lbClass } : {}) },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}
let seq = 0;
function slice(key: string, nodes: Array<string | { node: string; ready: boolean }>): V1EndpointSlice {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    addressType: 'IPv4',
    metadata: { namespace, name: `${name}-${seq++}`, labels: { 'kubernetes.io/service-name': name } },
    endpoints: nodes.map((n, i) =>
      typeof n === 'string' ? { addresses: [`10.0.0.${i + 1}`], nodeName: n, conditions: { ready: true } } : { addresses: [`10.0.0.${i + 1}`], nodeName: n.node, conditions: { ready: n.ready, serving: n.ready } },
    ),
  };
}

function world(o: Partial<BgpWorld> = {}): BgpWorld {
  return {
    node: 'node-1',
    nodes: [node('node-1'), node('node-2')],
    services: [svc('default/web', ['192.0.2.10'])],
    endpointSlices: [slice('default/web', ['node-2'])],
    pools: [pool('public', ['192.0.2.0/24', '2001:db8::/64'])],
    advertisements: [adv('all')],
    peers: [peer('tor')],
    bfdProfiles: [],
    communities: [],
    ...o,
  };
}

describe('planBgp', () => {
  it('announces a Service IP as a /32 to every peer selecting the node (Cluster: endpoints on another node suffice)', () => {
    const plan = planBgp(world({ peers: [peer('tor-a'), peer('tor-b', { peerAddress: '192.0.2.2' })] }));
    expect([...plan.sessions.keys()]).toEqual(['tor-a', 'tor-b']);
    expect(plan.routes.get('tor-a')).toEqual([{ prefix: '192.0.2.10/32', family: 4, communities: [], largeCommunities: [], localPref: undefined }]);
    expect(plan.routes.get('tor-b')?.map((r) => r.prefix)).toEqual(['192.0.2.10/32']);
    expect(plan.ips.get('192.0.2.10')).toMatchObject({ reason: 'announced', pool: 'public', peers: ['tor-a', 'tor-b'], services: ['default/web'] });
    expect(plan.services.get('default/web')).toEqual(['tor-a', 'tor-b']);
  });

  it('eTP Local announces only from nodes with a ready or serving local endpoint', () => {
    const services = [svc('default/web', ['192.0.2.10'], { policy: 'Local' })];
    const on2 = planBgp(world({ services, endpointSlices: [slice('default/web', ['node-2'])] }));
    expect(on2.ips.get('192.0.2.10')?.reason).toBe('noLocalEndpoint');
    expect(on2.routes.get('tor')).toEqual([]);
    expect(on2.services.size).toBe(0);
    const notReady = planBgp(world({ services, endpointSlices: [slice('default/web', [{ node: 'node-1', ready: false }])] }));
    expect(notReady.ips.get('192.0.2.10')?.reason).toBe('noServingEndpoints');
    const on1 = planBgp(world({ services, endpointSlices: [slice('default/web', ['node-1'])] }));
    expect(on1.ips.get('192.0.2.10')?.reason).toBe('announced');
  });

  it('withdraws when the Service has no endpoints, is not a LoadBalancer, or has another class', () => {
    expect(planBgp(world({ endpointSlices: [] })).ips.get('192.0.2.10')?.reason).toBe('noServingEndpoints');
    expect(planBgp(world({ services: [svc('default/web', ['192.0.2.10'], { type: 'ClusterIP' })] })).ips.size).toBe(0);
    expect(planBgp(world({ services: [svc('default/web', ['192.0.2.10'], { lbClass: 'other' })] })).ips.size).toBe(0);
    const classed = planBgp(world({ services: [svc('default/web', ['192.0.2.10'], { lbClass: 'herald' })], loadBalancerClass: 'herald' }));
    expect(classed.ips.get('192.0.2.10')?.reason).toBe('announced');
  });

  it('gives the first failing rule as the reason', () => {
    expect(planBgp(world({ pools: [pool('other', ['198.51.100.0/24'])] })).ips.get('192.0.2.10')?.reason).toBe('notInAnyPool');
    expect(planBgp(world({ advertisements: [] })).ips.get('192.0.2.10')?.reason).toBe('noBGPAdvertisement');
    expect(planBgp(world({ advertisements: [adv('x', { ipAddressPools: ['other'] })] })).ips.get('192.0.2.10')?.reason).toBe('noBGPAdvertisement');
    expect(planBgp(world({ nodes: [node('node-2')] })).ips.get('192.0.2.10')?.reason).toBe('nodeNotFound');
    expect(planBgp(world({ nodes: [node('node-1', {}, true)] })).ips.get('192.0.2.10')?.reason).toBe('networkUnavailable');
    expect(planBgp(world({ nodes: [node('node-1', { [EXCLUDE_FROM_LB_LABEL]: '' })] })).ips.get('192.0.2.10')?.reason).toBe('excludedByLabel');
    expect(planBgp(world({ advertisements: [adv('x', { nodeSelectors: [{ matchLabels: { rack: 'a' } }] })] })).ips.get('192.0.2.10')?.reason).toBe('nodeNotSelected');
    expect(planBgp(world({ advertisements: [adv('x', { peers: ['nobody'] })] })).ips.get('192.0.2.10')?.reason).toBe('noPeer');
    expect(planBgp(world({ peers: [peer('tor', { nodeSelectors: [{ matchLabels: { rack: 'a' } }] })] })).sessions.size).toBe(0);
  });

  it('selects peers by node labels and narrows them by the advertisement', () => {
    const plan = planBgp(
      world({
        nodes: [node('node-1', { rack: 'a' })],
        peers: [peer('rack-a', { nodeSelectors: [{ matchLabels: { rack: 'a' } }] }), peer('rack-b', { peerAddress: '192.0.2.3', nodeSelectors: [{ matchLabels: { rack: 'b' } }] }), peer('spine', { peerAddress: '192.0.2.4' })],
        advertisements: [adv('only-spine', { peers: ['spine'] })],
      }),
    );
    expect([...plan.sessions.keys()]).toEqual(['rack-a', 'spine']);
    expect(plan.routes.get('rack-a')).toEqual([]);
    expect(plan.routes.get('spine')?.map((r) => r.prefix)).toEqual(['192.0.2.10/32']);
  });

  it('selects pools by name and by label selector', () => {
    const pools = [pool('a', ['192.0.2.0/25'], { tier: 'gold' }), pool('b', ['192.0.2.128/25'])];
    const services = [svc('default/x', ['192.0.2.10']), svc('default/y', ['192.0.2.200'])];
    const endpointSlices = [slice('default/x', ['node-1']), slice('default/y', ['node-1'])];
    const bySelector = planBgp(world({ pools, services, endpointSlices, advertisements: [adv('gold', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }] })] }));
    expect(bySelector.routes.get('tor')?.map((r) => r.prefix)).toEqual(['192.0.2.10/32']);
    const byName = planBgp(world({ pools, services, endpointSlices, advertisements: [adv('b', { ipAddressPools: ['b'] })] }));
    expect(byName.routes.get('tor')?.map((r) => r.prefix)).toEqual(['192.0.2.200/32']);
  });

  it('aggregates, merging the attributes of advertisements that yield one prefix (union of communities, highest local preference)', () => {
    const services = [svc('default/x', ['192.0.2.10']), svc('default/y', ['192.0.2.77'])];
    const plan = planBgp(
      world({
        services,
        endpointSlices: [slice('default/x', ['node-1']), slice('default/y', ['node-1'])],
        peers: [peer('ibgp', { peerASN: 64500 })],
        communities: [CommunitySchema.parse({ metadata: { name: 'aliases', namespace: NS }, spec: { communities: [{ name: 'no-export', value: '65535:65281' }, { name: 'big', value: 'large:4200000001:1:2' }] } })],
        advertisements: [
          adv('agg', { aggregationLength: 24, localPref: 100, communities: ['64500:1', 'no-export'] }),
          adv('agg2', { aggregationLength: 24, localPref: 200, communities: ['big', '64500:1'] }),
        ],
      }),
    );
    expect(plan.routes.get('ibgp')).toEqual([
      { prefix: '192.0.2.0/24', family: 4, communities: ['64500:1', '65535:65281'], largeCommunities: ['4200000001:1:2'], localPref: 200 },
    ]);
    expect(plan.problems).toEqual([]);
  });

  it('reports an unknown community alias and a missing BFD profile, and still announces', () => {
    const plan = planBgp(world({ advertisements: [adv('a', { communities: ['nope', '1:2'] })], peers: [peer('tor', { bfdProfile: 'fast' })] }));
    expect(plan.problems.map((p) => [p.kind, p.name, p.reason])).toEqual([
      ['BGPPeer', 'tor', 'UnknownBFDProfile'],
      ['BGPAdvertisement', 'a', 'UnknownCommunity'],
    ]);
    expect(plan.routes.get('tor')?.[0]?.communities).toEqual(['1:2']);
    expect(plan.sessions.get('tor')?.bfd).toBeUndefined();
    const withProfile = planBgp(world({ peers: [peer('tor', { bfdProfile: 'fast' })], bfdProfiles: [BFDProfileSchema.parse({ metadata: { name: 'fast', namespace: NS }, spec: { receiveInterval: 100, transmitInterval: 100 } })] }));
    expect(withProfile.sessions.get('tor')?.bfd).toMatchObject({ receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 });
  });

  it('sends IPv6 routes to IPv6 peers, or to IPv4 peers with dualStackAddressFamily (RFC 4760)', () => {
    const services = [svc('default/web', ['192.0.2.10', '2001:db8::10'])];
    const v4only = planBgp(world({ services, peers: [peer('v4'), peer('v6', { peerAddress: '2001:db8::1' })] }));
    expect(v4only.routes.get('v4')?.map((r) => r.prefix)).toEqual(['192.0.2.10/32']);
    expect(v4only.routes.get('v6')?.map((r) => r.prefix)).toEqual(['2001:db8::10/128']);
    const dual = planBgp(world({ services, peers: [peer('v4', { dualStackAddressFamily: true })] }));
    expect(dual.routes.get('v4')?.map((r) => r.prefix)).toEqual(['192.0.2.10/32', '2001:db8::10/128']);
    expect(sessionFamilies(dual.sessions.get('v4')!.spec)).toEqual([4, 6]);
  });

  it('a shared IP is announced when any of its Services serves; each Local Service must have a local endpoint', () => {
    const services = [svc('a/x', ['192.0.2.10']), svc('b/y', ['192.0.2.10'])];
    const oneServes = planBgp(world({ services, endpointSlices: [slice('a/x', ['node-2'])] }));
    expect(oneServes.ips.get('192.0.2.10')).toMatchObject({ reason: 'announced', services: ['a/x', 'b/y'] });
    expect([...oneServes.services.keys()]).toEqual(['a/x', 'b/y']);
    const local = [svc('a/x', ['192.0.2.10']), svc('b/y', ['192.0.2.10'], { policy: 'Local' })];
    const remote = planBgp(world({ services: local, endpointSlices: [slice('a/x', ['node-1']), slice('b/y', ['node-2'])] }));
    expect(remote.ips.get('192.0.2.10')?.reason).toBe('noLocalEndpoint');
  });

  it('uses the pool named by the allocation annotation when it holds the IP', () => {
    const pools = [pool('a', ['192.0.2.0/24']), pool('z', ['192.0.2.10/32'])];
    const plan = planBgp(world({ pools, services: [svc('default/web', ['192.0.2.10'], { pool: 'z' })], advertisements: [adv('z', { ipAddressPools: ['z'] })] }));
    expect(plan.ips.get('192.0.2.10')).toMatchObject({ pool: 'z', reason: 'announced' });
  });

  it('aggregate masks host bits for both families', () => {
    expect(aggregate(parseIP('192.0.2.77')!, 24)).toBe('192.0.2.0/24');
    expect(aggregate(parseIP('192.0.2.77')!, 0)).toBe('0.0.0.0/0');
    expect(aggregate(parseIP('2001:db8::abcd')!, 64)).toBe('2001:db8::/64');
    expect(aggregate(parseIP('2001:db8::abcd')!, 128)).toBe('2001:db8::abcd/128');
  });

  it('does not depend on the order of its inputs', () => {
    const services = Array.from({ length: 6 }, (_, i) => svc(`ns/s${i}`, [`192.0.2.${10 + i}`], i % 2 ? { policy: 'Local' } : {}));
    const slices = services.map((_, i) => slice(`ns/s${i}`, [i % 3 ? 'node-1' : 'node-2']));
    const ads = [adv('a', { aggregationLength: 30, communities: ['1:1'] }), adv('b', { localPref: 5, communities: ['2:2'] }), adv('c', { peers: ['p2'] })];
    const peers = [peer('p1'), peer('p2', { peerAddress: '192.0.2.2' })];
    const base = world({ services, endpointSlices: slices, advertisements: ads, peers });
    const expected = JSON.stringify([...planBgp(base).routes]);
    fc.assert(
      fc.property(fc.shuffledSubarray(services, { minLength: 6 }), fc.shuffledSubarray(ads, { minLength: 3 }), fc.shuffledSubarray(peers, { minLength: 2 }), (s, a, p) => {
        expect(JSON.stringify([...planBgp({ ...base, services: s, advertisements: a, peers: p }).routes])).toBe(expected);
      }),
    );
  });
});
