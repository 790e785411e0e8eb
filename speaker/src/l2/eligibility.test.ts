import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { IPAddressPoolSchema, L2AdvertisementSchema } from '@herald/shared/api';
import type { IPAddressPool, L2Advertisement, L2AdvertisementInput } from '@herald/shared/api';
import { formatIP } from '@herald/shared/ip';
import {
  assignmentsFor,
  endpointsByService,
  evaluateL2,
  nodeView,
  planL2,
  serviceView,
  EXCLUDE_FROM_LB_LABEL,
  POOL_ANNOTATION,
  type IPPlan,
  type L2Plan,
  type L2World,
} from './eligibility.js';

// ---- fixtures ---------------------------------------------------------------------------

function node(name: string, o: { labels?: Record<string, string>; networkUnavailable?: 'True' | 'False' } = {}): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        ...(o.networkUnavailable === undefined ? [] : [{ type: 'NetworkUnavailable', status: o.networkUnavailable }]),
      ],
    },
  };
}

function pool(name: string, addresses: string[], labels: Record<string, string> = {}): IPAddressPool {
  return IPAddressPoolSchema.parse({ metadata: { name, namespace: 'herald-system', labels }, spec: { addresses } });
}

function adv(name: string, spec: L2AdvertisementInput['spec'] = {}): L2Advertisement {
  return L2AdvertisementSchema.parse({ metadata: { name, namespace: 'herald-system' }, spec });
}

interface SvcOpts {
  policy?: 'Local' | 'Cluster';
  pool?: string;
  type?: string;
  deleting?: boolean;
  lbClass?: string;
  hostnames?: string[];
  labels?: Record<string, string>;
}

function svc(key: string, ips: string[], o: SvcOpts = {}): V1Service {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    metadata: {
      namespace,
      name,
      ...(o.labels === undefined ? {} : { labels: o.labels }),
      ...(o.pool === undefined ? {} : { annotations: { [POOL_ANNOTATION]: o.pool } }),
      ...(o.deleting ? { deletionTimestamp: new Date('2026-11-21T00:00:00Z') } : {}),
    },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ...(o.policy === undefined ? {} : { externalTrafficPolicy: o.policy }),
      ...(o.lbClass === undefined ? {} : { loadBalancerClass: o.lbClass }),
    },
    status: { loadBalancer: { ingress: [...ips.map((ip) => ({ ip })), ...(o.hostnames ?? []).map((hostname) => ({ hostname }))] } },
  };
}

interface Ep {
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

let sliceSeq = 0;
function slice(key: string, eps: Ep[]): V1EndpointSlice {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    addressType: 'IPv4',
    metadata: { namespace, name: `${name}-${++sliceSeq}`, labels: { 'kubernetes.io/service-name': name } },
    endpoints: eps.map((e, i) => ({
      addresses: [`10.244.0.${i + 1}`],
      ...(e.node === undefined ? {} : { nodeName: e.node }),
      ...(e.ready === undefined && e.serving === undefined && e.terminating === undefined
        ? {}
        : {
            conditions: {
              ...(e.ready === undefined ? {} : { ready: e.ready }),
              ...(e.serving === undefined ? {} : { serving: e.serving }),
              ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
            },
          }),
    })),
  };
}

const NODES = ['node-a', 'node-b', 'node-c', 'node-d'];

/** Four healthy, alive nodes, one pool 192.0.2.0/24 + 2001:db8::/120, one catch-all advertisement. */
function world(over: Partial<L2World> = {}): L2World {
  return {
    nodes: NODES.map((n) => node(n)),
    pools: [pool('default', ['192.0.2.0/24', '2001:db8::/120'])],
    advertisements: [adv('all')],
    services: [],
    endpointSlices: [],
    alive: NODES,
    ...over,
  };
}

/** Endpoints on every node, for Services whose policy is not under test. */
const everywhere = (key: string): V1EndpointSlice => slice(key, NODES.map((n) => ({ node: n })));

function ipPlan(p: L2Plan, ip: string): IPPlan {
  const e = p.ips.get(ip);
  if (e === undefined) throw new Error(`no plan for ${ip}; have ${[...p.ips.keys()].join(', ')}`);
  return e;
}

const excluded = (e: IPPlan): Record<string, string> => Object.fromEntries(e.excluded);

/** Everything a plan says, in its own order: two equal summaries mean equal plans. */
const summary = (p: L2Plan): unknown =>
  [...p.ips].map(([k, v]) => [k, v.owner, v.reason, v.pool, v.services, v.eligible, [...v.excluded], [...v.interfaces]]);

/** A deterministic shuffle (Fisher-Yates on a seeded LCG). */
function shuffled<T>(xs: Iterable<T>, seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---- node rules -------------------------------------------------------------------------

describe('node eligibility', () => {
  it('lets every healthy node with a live speaker announce', () => {
    const e = ipPlan(planL2(world({ services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] })), '192.0.2.10');
    expect(e.eligible).toEqual(NODES);
    expect(e.excluded.size).toBe(0);
    expect(NODES).toContain(e.owner);
    expect(e.reason).toBe('preferred');
  });

  it('excludes a node whose NetworkUnavailable condition is True, but not one where it is False', () => {
    const nodes = [node('node-a', { networkUnavailable: 'True' }), node('node-b', { networkUnavailable: 'False' }), node('node-c'), node('node-d')];
    const e = ipPlan(planL2(world({ nodes, services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] })), '192.0.2.10');
    expect(excluded(e)).toEqual({ 'node-a': 'networkUnavailable' });
    expect(e.eligible).toEqual(['node-b', 'node-c', 'node-d']);
  });

  it('excludes a node labelled exclude-from-external-load-balancers, whatever the value', () => {
    const nodes = [
      node('node-a', { labels: { [EXCLUDE_FROM_LB_LABEL]: '' } }),
      node('node-b', { labels: { [EXCLUDE_FROM_LB_LABEL]: 'false' } }),
      node('node-c', { labels: { 'node.kubernetes.io/other': 'x' } }),
      node('node-d'),
    ];
    const e = ipPlan(planL2(world({ nodes, services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] })), '192.0.2.10');
    expect(excluded(e)).toEqual({ 'node-a': 'excludedByLabel', 'node-b': 'excludedByLabel' });
    expect(e.eligible).toEqual(['node-c', 'node-d']);
  });

  it('excludes a node whose speaker is not alive, and reports an alive speaker without a Node as nodeNotFound', () => {
    const e = ipPlan(
      planL2(world({ alive: ['node-a', 'node-b', 'node-c', 'ghost'], services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] })),
      '192.0.2.10',
    );
    expect(excluded(e)).toEqual({ ghost: 'nodeNotFound', 'node-d': 'speakerNotAlive' });
    expect(e.eligible).toEqual(['node-a', 'node-b', 'node-c']);
  });

  it('reports the first failing rule in the fixed order', () => {
    const nodes = [
      node('node-a', { networkUnavailable: 'True', labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' } }),
      node('node-b', { labels: { [EXCLUDE_FROM_LB_LABEL]: 'true', zone: 'b' } }),
      node('node-c', { labels: { zone: 'c' } }),
      node('node-d', { labels: { zone: 'a' } }),
    ];
    const advertisements = [adv('zone-a-c', { nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'c'] }] }] })];
    const e = ipPlan(
      planL2(world({ nodes, advertisements, alive: ['node-a', 'node-b', 'node-d'], services: [svc('web/a', ['192.0.2.10'], { policy: 'Local' })], endpointSlices: [slice('web/a', [{ node: 'node-a' }, { node: 'node-b' }, { node: 'node-c' }])] })),
      '192.0.2.10',
    );
    // node-a fails three rules, node-b two, node-c two (not selected, not alive): each reports its first.
    expect(excluded(e)).toEqual({
      'node-a': 'networkUnavailable',
      'node-b': 'excludedByLabel',
      'node-c': 'speakerNotAlive',
      'node-d': 'noLocalEndpoint',
    });
    expect(e.owner).toBeUndefined();
    expect(e.reason).toBe('noEligibleNode');
  });

  it('limits announcing nodes to the nodeSelectors of the advertisement, and an empty list selects every node', () => {
    const nodes = NODES.map((n, i) => node(n, { labels: { rack: i < 2 ? 'r1' : 'r2' } }));
    const services = [svc('web/a', ['192.0.2.10'])];
    const endpointSlices = [everywhere('web/a')];
    const r1 = ipPlan(planL2(world({ nodes, services, endpointSlices, advertisements: [adv('r1', { nodeSelectors: [{ matchLabels: { rack: 'r1' } }] })] })), '192.0.2.10');
    expect(r1.eligible).toEqual(['node-a', 'node-b']);
    expect(excluded(r1)).toEqual({ 'node-c': 'notSelectedByAdvertisement', 'node-d': 'notSelectedByAdvertisement' });
    const all = ipPlan(planL2(world({ nodes, services, endpointSlices, advertisements: [adv('all', { nodeSelectors: [] })] })), '192.0.2.10');
    expect(all.eligible).toEqual(NODES);
  });

  it('lets a node announce when any advertisement of the pool selects it', () => {
    const nodes = NODES.map((n, i) => node(n, { labels: { rack: `r${i}` } }));
    const advertisements = [
      adv('r0', { nodeSelectors: [{ matchLabels: { rack: 'r0' } }] }),
      adv('r2', { nodeSelectors: [{ matchLabels: { rack: 'r9' } }, { matchLabels: { rack: 'r2' } }] }),
    ];
    const e = ipPlan(planL2(world({ nodes, advertisements, services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] })), '192.0.2.10');
    expect(e.eligible).toEqual(['node-a', 'node-c']);
  });
});

// ---- MetalLB 0.16 selectors -------------------------------------------------------------

describe('serviceSelectors and preferredNodeSelectors', () => {
  it('announces only the Services an advertisement\'s serviceSelectors match, and says why not for the rest', () => {
    const services = [svc('web/public', ['192.0.2.10'], { labels: { expose: 'lan' } }), svc('web/private', ['192.0.2.11'])];
    const p = planL2(world({ services, endpointSlices: services.map((x) => everywhere(`web/${x.metadata?.name ?? ''}`)), advertisements: [adv('lan', { serviceSelectors: [{ matchLabels: { expose: 'lan' } }] })] }));
    expect(ipPlan(p, '192.0.2.10').owner).toBeDefined();
    expect(ipPlan(p, '192.0.2.11')).toMatchObject({ owner: undefined, reason: 'serviceNotSelected' });
  });

  it('announces an IP shared by two Services when either matches, with one owner', () => {
    const services = [svc('web/a', ['192.0.2.10'], { labels: { expose: 'lan' } }), svc('web/b', ['192.0.2.10'])];
    const p = planL2(world({ services, endpointSlices: [everywhere('web/a'), everywhere('web/b')], advertisements: [adv('lan', { serviceSelectors: [{ matchLabels: { expose: 'lan' } }] })] }));
    const e = ipPlan(p, '192.0.2.10');
    expect(e.services).toEqual(['web/a', 'web/b']);
    expect(e.owner).toBeDefined();
  });

  it('elects among preferred nodes while one is eligible, and falls back to the rest', () => {
    const nodes = NODES.map((n, i) => node(n, { labels: { tier: i < 2 ? 'edge' : 'core' } }));
    const advertisements = [adv('pref', { preferredNodeSelectors: [{ matchLabels: { tier: 'edge' } }] })];
    const services = Array.from({ length: 12 }, (_, i) => svc(`web/s${i}`, [`192.0.2.${20 + i}`]));
    const endpointSlices = services.map((x) => everywhere(`web/${x.metadata?.name ?? ''}`));
    const p = planL2(world({ nodes, advertisements, services, endpointSlices }));
    for (const [, e] of p.ips) {
      expect(['node-a', 'node-b']).toContain(e.owner);
      // Still eligible everywhere: the preference only narrows the election.
      expect(e.eligible).toEqual(NODES);
    }
    // Both edge nodes' speakers die: the core nodes take over.
    const fallback = planL2(world({ nodes, advertisements, services, endpointSlices, alive: ['node-c', 'node-d'] }));
    for (const [, e] of fallback.ips) expect(['node-c', 'node-d']).toContain(e.owner);
  });

  it('keeps one owner for a shared IP when the preferred node serves only one of its Services', () => {
    const nodes = NODES.map((n) => node(n, { labels: { tier: n === 'node-a' ? 'edge' : 'core' } }));
    const advertisements = [adv('pref', { preferredNodeSelectors: [{ matchLabels: { tier: 'edge' } }] })];
    const services = [svc('web/a', ['192.0.2.10'], { policy: 'Local' }), svc('web/b', ['192.0.2.10'], { policy: 'Local' })];
    const endpointSlices = [slice('web/a', [{ node: 'node-a' }, { node: 'node-b' }]), slice('web/b', [{ node: 'node-b' }, { node: 'node-c' }])];
    const e = ipPlan(planL2(world({ nodes, advertisements, services, endpointSlices })), '192.0.2.10');
    // node-a is preferred but lacks web/b's endpoint: the owner is the one node serving both.
    expect(e.owner).toBe('node-b');
  });
});

// ---- traffic policy and endpoints -------------------------------------------------------

describe('traffic policy', () => {
  it('with Local, lets only nodes with a ready endpoint announce', () => {
    const e = ipPlan(
      planL2(world({ services: [svc('web/a', ['192.0.2.10'], { policy: 'Local' })], endpointSlices: [slice('web/a', [{ node: 'node-b', ready: true }, { node: 'node-c', ready: false, serving: false }])] })),
      '192.0.2.10',
    );
    expect(e.eligible).toEqual(['node-b']);
    expect(e.owner).toBe('node-b');
    expect(excluded(e)).toEqual({ 'node-a': 'noLocalEndpoint', 'node-c': 'noLocalEndpoint', 'node-d': 'noLocalEndpoint' });
  });

  it('with Local, counts a terminating endpoint that still serves', () => {
    const e = ipPlan(
      planL2(world({ services: [svc('web/a', ['192.0.2.10'], { policy: 'Local' })], endpointSlices: [slice('web/a', [{ node: 'node-c', ready: false, serving: true, terminating: true }])] })),
      '192.0.2.10',
    );
    expect(e.eligible).toEqual(['node-c']);
  });

  it('reads absent conditions as ready, and an absent serving as the ready value', () => {
    const e = ipPlan(
      planL2(world({ services: [svc('web/a', ['192.0.2.10'], { policy: 'Local' })], endpointSlices: [slice('web/a', [{ node: 'node-a' }, { node: 'node-b', serving: true }, { node: 'node-c', ready: false }])] })),
      '192.0.2.10',
    );
    expect(e.eligible).toEqual(['node-a', 'node-b']);
  });

  it('with Cluster, lets every node announce as long as some endpoint serves anywhere', () => {
    // The one endpoint is on no node the speakers know (or none at all): kube-proxy still forwards to it.
    const e = ipPlan(planL2(world({ services: [svc('web/a', ['192.0.2.10'], { policy: 'Cluster' })], endpointSlices: [slice('web/a', [{ ready: false, serving: true }])] })), '192.0.2.10');
    expect(e.eligible).toEqual(NODES);
  });

  it.each(['Local', 'Cluster'] as const)('with %s and no serving endpoint anywhere, nobody announces', (policy) => {
    const p = planL2(
      world({
        services: [svc('web/a', ['192.0.2.10'], { policy }), svc('web/b', ['192.0.2.11'], { policy })],
        endpointSlices: [slice('web/a', [{ node: 'node-a', ready: false, serving: false }])],
      }),
    );
    for (const ip of ['192.0.2.10', '192.0.2.11']) {
      const e = ipPlan(p, ip);
      expect(e.owner).toBeUndefined();
      expect(e.reason).toBe('noServingEndpoints');
      expect(e.eligible).toEqual([]);
      expect(excluded(e)).toEqual(Object.fromEntries(NODES.map((n) => [n, 'noServingEndpoints'])));
    }
    expect(assignmentsFor(p, 'node-a')).toEqual([]);
  });

  it('does not count endpoints of a same-named Service in another namespace', () => {
    const e = ipPlan(planL2(world({ services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('other/a')] })), '192.0.2.10');
    expect(e.reason).toBe('noServingEndpoints');
  });
});

// ---- shared IPs ---------------------------------------------------------------------------

describe('shared IPs', () => {
  it('gives both IPs of each dual-stack Service the same owner', () => {
    const services = Array.from({ length: 20 }, (_, i) => svc(`web/s${i}`, [`192.0.2.${10 + i}`, `2001:db8::${(16 + i).toString(16)}`]));
    const p = planL2(world({ services, endpointSlices: services.map((s) => everywhere(`web/${s.metadata?.name}`)) }));
    const owners = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const v4 = ipPlan(p, `192.0.2.${10 + i}`).owner;
      expect(v4).toBeDefined();
      expect(ipPlan(p, `2001:db8::${(16 + i).toString(16)}`).owner).toBe(v4);
      owners.add(v4 as string);
    }
    // Grouping must not stop the Services spreading over the nodes.
    expect(owners.size).toBe(4);
  });

  it('elects the IPs of a dual-stack Service separately when no node may announce both', () => {
    const p = planL2(
      world({
        pools: [pool('v4', ['192.0.2.0/24']), pool('v6', ['2001:db8::/120'])],
        advertisements: [adv('a4', { ipAddressPools: ['v4'], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-a' } }] }), adv('a6', { ipAddressPools: ['v6'], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-b' } }] })],
        services: [svc('web/ds', ['192.0.2.10', '2001:db8::10'])],
        endpointSlices: [everywhere('web/ds')],
      }),
    );
    expect(ipPlan(p, '192.0.2.10').owner).toBe('node-a');
    expect(ipPlan(p, '2001:db8::10').owner).toBe('node-b');
  });

  it('gives an IP shared by two Services one owner that serves both', () => {
    const p = planL2(
      world({
        services: [svc('web/http', ['192.0.2.10'], { policy: 'Local' }), svc('web/dns', ['192.0.2.10'], { policy: 'Local' })],
        endpointSlices: [slice('web/http', [{ node: 'node-a' }, { node: 'node-b' }, { node: 'node-c' }]), slice('web/dns', [{ node: 'node-b' }, { node: 'node-c' }, { node: 'node-d' }])],
      }),
    );
    const e = ipPlan(p, '192.0.2.10');
    expect(p.ips.size).toBe(1);
    expect(e.services).toEqual(['web/dns', 'web/http']);
    expect(e.eligible).toEqual(['node-b', 'node-c']);
    expect(excluded(e)).toEqual({ 'node-a': 'noLocalEndpoint', 'node-d': 'noLocalEndpoint' });
    expect(['node-b', 'node-c']).toContain(e.owner);
    expect(assignmentsFor(p, e.owner as string)).toEqual([{ ip: e.ip, interfaces: 'default', services: ['web/dns', 'web/http'] }]);
  });

  it('lets a Local Service narrow the owner of an IP it shares with a Cluster one', () => {
    const e = ipPlan(
      planL2(
        world({
          services: [svc('web/a', ['192.0.2.10'], { policy: 'Cluster' }), svc('web/b', ['192.0.2.10'], { policy: 'Local' })],
          endpointSlices: [everywhere('web/a'), slice('web/b', [{ node: 'node-d' }])],
        }),
      ),
      '192.0.2.10',
    );
    expect(e.eligible).toEqual(['node-d']);
    expect(e.owner).toBe('node-d');
  });

  it('finds nobody when sharing Services have their local endpoints on disjoint nodes', () => {
    const e = ipPlan(
      planL2(
        world({
          services: [svc('web/a', ['192.0.2.10'], { policy: 'Local' }), svc('web/b', ['192.0.2.10'], { policy: 'Local' })],
          endpointSlices: [slice('web/a', [{ node: 'node-a' }]), slice('web/b', [{ node: 'node-b' }])],
        }),
      ),
      '192.0.2.10',
    );
    expect(e.owner).toBeUndefined();
    expect(e.reason).toBe('noEligibleNode');
    expect(excluded(e)).toEqual(Object.fromEntries(NODES.map((n) => [n, 'noLocalEndpoint'])));
  });

  it('keeps announcing a shared IP when one of its Services has no endpoints at all', () => {
    const e = ipPlan(
      planL2(
        world({
          services: [svc('web/a', ['192.0.2.10'], { policy: 'Local' }), svc('web/b', ['192.0.2.10'], { policy: 'Local' })],
          endpointSlices: [slice('web/a', [{ node: 'node-c' }])],
        }),
      ),
      '192.0.2.10',
    );
    expect(e.services).toEqual(['web/a', 'web/b']);
    expect(e.owner).toBe('node-c');
  });
});

// ---- pools and advertisements ---------------------------------------------------------------

describe('pool of an IP', () => {
  const pools = [pool('a-wide', ['192.0.2.0/24']), pool('b-narrow', ['192.0.2.8-192.0.2.15'])];
  const plan = (o: SvcOpts): IPPlan =>
    ipPlan(planL2(world({ pools, services: [svc('web/a', ['192.0.2.10'], o)], endpointSlices: [everywhere('web/a')] })), '192.0.2.10');

  it('takes the pool the allocation annotation names when that pool holds the IP', () => {
    expect(plan({ pool: 'b-narrow' }).pool).toBe('b-narrow');
  });

  it('falls back to the first pool by name that holds the IP when the annotation is absent, wrong or stale', () => {
    expect(plan({}).pool).toBe('a-wide');
    expect(plan({ pool: 'missing' }).pool).toBe('a-wide');
    const other = ipPlan(
      planL2(world({ pools: [...pools, pool('c-other', ['198.51.100.0/24'])], services: [svc('web/a', ['192.0.2.10'], { pool: 'c-other' })], endpointSlices: [everywhere('web/a')] })),
      '192.0.2.10',
    );
    expect(other.pool).toBe('a-wide');
  });

  it('announces no IP outside every pool: notInAnyPool', () => {
    const p = planL2(world({ services: [svc('web/a', ['198.51.100.7'])], endpointSlices: [everywhere('web/a')] }));
    const e = ipPlan(p, '198.51.100.7');
    expect(e).toMatchObject({ pool: undefined, owner: undefined, reason: 'notInAnyPool', eligible: [] });
    for (const n of NODES) expect(assignmentsFor(p, n)).toEqual([]);
  });
});

describe('advertisement selection', () => {
  const pools = [pool('gold', ['192.0.2.0/28'], { tier: 'gold' }), pool('silver', ['192.0.2.16/28'], { tier: 'silver' })];
  const services = [svc('web/g', ['192.0.2.1']), svc('web/s', ['192.0.2.17'])];
  const endpointSlices = [everywhere('web/g'), everywhere('web/s')];
  const reasons = (ads: L2Advertisement[]): [string, string][] => {
    const p = planL2(world({ pools, services, endpointSlices, advertisements: ads }));
    return [ipPlan(p, '192.0.2.1'), ipPlan(p, '192.0.2.17')].map((e) => [e.pool as string, e.reason]);
  };

  it('selects a pool by name', () => {
    expect(reasons([adv('by-name', { ipAddressPools: ['gold'] })])).toEqual([
      ['gold', 'preferred'],
      ['silver', 'noL2Advertisement'],
    ]);
  });

  it('selects a pool by label selector', () => {
    expect(reasons([adv('by-label', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'silver' } }] })])).toEqual([
      ['gold', 'noL2Advertisement'],
      ['silver', 'preferred'],
    ]);
  });

  it('selects every pool when neither names nor selectors are given', () => {
    expect(reasons([adv('all')])).toEqual([
      ['gold', 'preferred'],
      ['silver', 'preferred'],
    ]);
    expect(reasons([adv('all-empty', { ipAddressPools: [], ipAddressPoolSelectors: [] })])).toEqual([
      ['gold', 'preferred'],
      ['silver', 'preferred'],
    ]);
  });

  it('does not announce a pool no advertisement selects, and says so for every node', () => {
    const p = planL2(world({ pools, services, endpointSlices, advertisements: [] }));
    const e = ipPlan(p, '192.0.2.1');
    expect(e.reason).toBe('noL2Advertisement');
    expect(excluded(e)).toEqual(Object.fromEntries(NODES.map((n) => [n, 'notSelectedByAdvertisement'])));
  });
});

describe('interfaces', () => {
  const nodes = NODES.map((n, i) => node(n, { labels: { rack: i < 2 ? 'r1' : 'r2' } }));
  const plan = (advertisements: L2Advertisement[]): IPPlan =>
    ipPlan(planL2(world({ nodes, advertisements, services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] })), '192.0.2.10');

  it('allows, per node, the union of the interfaces of the advertisements that select the pool and the node', () => {
    const e = plan([
      adv('r1', { interfaces: ['eth1', 'eth0'], nodeSelectors: [{ matchLabels: { rack: 'r1' } }] }),
      adv('all', { interfaces: ['eth0', 'bond0'] }),
      adv('other-pool', { interfaces: ['eth9'], ipAddressPools: ['nope'] }),
    ]);
    expect(Object.fromEntries(e.interfaces)).toEqual({
      'node-a': ['bond0', 'eth0', 'eth1'],
      'node-b': ['bond0', 'eth0', 'eth1'],
      'node-c': ['bond0', 'eth0'],
      'node-d': ['bond0', 'eth0'],
    });
  });

  it("answers 'default' where any selecting advertisement lists no interfaces", () => {
    const e = plan([adv('r1', { interfaces: ['eth1'], nodeSelectors: [{ matchLabels: { rack: 'r1' } }] }), adv('r2', { nodeSelectors: [{ matchLabels: { rack: 'r2' } }] }), adv('r2-empty', { interfaces: [], nodeSelectors: [{ matchLabels: { rack: 'r2' } }] })]);
    expect(Object.fromEntries(e.interfaces)).toEqual({ 'node-a': ['eth1'], 'node-b': ['eth1'], 'node-c': 'default', 'node-d': 'default' });
  });

  it('hands the owner its interfaces for each IP it announces', () => {
    const p = planL2(world({ advertisements: [adv('eth', { interfaces: ['eth1'] })], services: [svc('web/a', ['192.0.2.10'])], endpointSlices: [everywhere('web/a')] }));
    const owner = ipPlan(p, '192.0.2.10').owner as string;
    expect(assignmentsFor(p, owner)).toEqual([{ ip: ipPlan(p, '192.0.2.10').ip, interfaces: ['eth1'], services: ['web/a'] }]);
    for (const n of NODES.filter((x) => x !== owner)) expect(assignmentsFor(p, n)).toEqual([]);
  });
});

// ---- which Services ------------------------------------------------------------------------

describe('services considered', () => {
  it('announces only LoadBalancer IPs of live Services of our class, ignoring hostname-only ingress', () => {
    const services = [
      svc('web/lb', ['192.0.2.1']),
      svc('web/nodeport', ['192.0.2.2'], { type: 'NodePort' }),
      svc('web/gone', ['192.0.2.3'], { deleting: true }),
      svc('web/classy', ['192.0.2.4'], { lbClass: 'example.com/other' }),
      svc('web/hostname', [], { hostnames: ['lb.example.com'] }),
    ];
    const endpointSlices = services.map((s) => everywhere(`web/${s.metadata?.name ?? ''}`));
    expect([...planL2(world({ services, endpointSlices })).ips.keys()]).toEqual(['192.0.2.1']);
    expect([...planL2(world({ services, endpointSlices, loadBalancerClass: 'example.com/other' })).ips.keys()]).toEqual(['192.0.2.4']);
  });

  it('keeps announcing a shared IP for the live Service when the other is being deleted', () => {
    const p = planL2(world({ services: [svc('web/a', ['192.0.2.1'], { deleting: true }), svc('web/b', ['192.0.2.1'])], endpointSlices: [everywhere('web/b')] }));
    expect(ipPlan(p, '192.0.2.1').services).toEqual(['web/b']);
  });

  it('announces IPv6 IPs under their canonical text, after IPv4 ones', () => {
    const p = planL2(
      world({ services: [svc('web/v6', ['2001:DB8:0:0:0:0:0:20']), svc('web/dual', ['2001:db8::10', '192.0.2.10', 'not-an-ip'])], endpointSlices: [everywhere('web/v6'), everywhere('web/dual')] }),
    );
    expect([...p.ips.keys()]).toEqual(['192.0.2.10', '2001:db8::10', '2001:db8::20']);
    const e = ipPlan(p, '2001:db8::20');
    expect(e).toMatchObject({ pool: 'default', services: ['web/v6'], eligible: NODES });
    expect(formatIP(e.ip)).toBe('2001:db8::20');
    expect(NODES).toContain(e.owner);
  });
});

// ---- converters ------------------------------------------------------------------------------

describe('converters', () => {
  it('reads a Node: name, labels, NetworkUnavailable True only', () => {
    expect(nodeView(node('n1', { networkUnavailable: 'True' }))).toEqual({ name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, networkUnavailable: true });
    expect(nodeView(node('n1', { networkUnavailable: 'False' }))?.networkUnavailable).toBe(false);
    expect(nodeView({ metadata: {} })).toBeUndefined();
  });

  it('reads a Service: key, policy (Cluster by default), pool annotation, IPs without duplicates', () => {
    expect(serviceView(svc('ns/s', ['192.0.2.1', '192.0.2.01', '192.0.2.1'], { pool: 'p' }))).toEqual({
      key: 'ns/s',
      loadBalancer: true,
      loadBalancerClass: undefined,
      deleting: false,
      trafficPolicy: 'Cluster',
      allocatedFrom: 'p',
      labels: {},
      ips: [{ family: 4, value: 0xc0000201n }],
    });
    expect(serviceView(svc('ns/s', [], { policy: 'Local', deleting: true }))).toMatchObject({ trafficPolicy: 'Local', deleting: true, ips: [] });
  });

  it('indexes EndpointSlices by Service across slices, skipping slices of no Service', () => {
    const unlabelled: V1EndpointSlice = { addressType: 'IPv4', metadata: { namespace: 'web', name: 'x' }, endpoints: [{ addresses: ['10.0.0.1'], nodeName: 'node-z' }] };
    const idx = endpointsByService([slice('web/a', [{ node: 'node-a' }]), slice('web/a', [{ node: 'node-b', ready: false }, { node: 'node-c' }]), slice('web/b', []), unlabelled]);
    expect([...idx.keys()].sort()).toEqual(['web/a', 'web/b']);
    expect(idx.get('web/a')).toEqual({ serving: true, nodes: new Set(['node-a', 'node-c']) });
    expect(idx.get('web/b')).toEqual({ serving: false, nodes: new Set() });
  });
});

// ---- determinism, balance, cost -------------------------------------------------------------

/** 40 Services on 4 nodes across two pools, a mix of policies and sharing. */
function busyWorld(): L2World {
  const services: V1Service[] = [];
  const endpointSlices: V1EndpointSlice[] = [];
  for (let i = 0; i < 40; i++) {
    const key = `ns${i % 3}/svc-${i}`;
    const local = i % 5 === 0;
    services.push(svc(key, [i % 4 === 0 ? `2001:db8::${(i + 1).toString(16)}` : `192.0.2.${i + 1}`], local ? { policy: 'Local' } : {}));
    endpointSlices.push(local ? slice(key, [{ node: NODES[i % 4] as string }, { node: NODES[(i + 1) % 4] as string }]) : everywhere(key));
  }
  services.push(svc('ns0/shares-1', ['192.0.2.2']));
  endpointSlices.push(everywhere('ns0/shares-1'));
  return world({
    pools: [pool('v4', ['192.0.2.0/24']), pool('v6', ['2001:db8::/120'])],
    advertisements: [adv('a', { ipAddressPools: ['v4'], interfaces: ['eth0'] }), adv('b', { ipAddressPools: ['v6'] })],
    services,
    endpointSlices,
  });
}

describe('determinism and balance', () => {
  it('gives the same plan whatever order the caches list things in', () => {
    const w = busyWorld();
    const expected = summary(planL2(w));
    for (let seed = 1; seed <= 5; seed++) {
      const shuffledWorld: L2World = {
        nodes: shuffled(w.nodes, seed),
        pools: shuffled(w.pools, seed + 10),
        advertisements: shuffled(w.advertisements, seed + 20),
        services: shuffled(w.services, seed + 30),
        endpointSlices: shuffled(w.endpointSlices, seed + 40),
        alive: shuffled(w.alive, seed + 50),
      };
      expect(summary(planL2(shuffledWorld))).toEqual(expected);
    }
  });

  it('spreads 40 IPs over 4 nodes within ceil(1.25 x average)', () => {
    const services = Array.from({ length: 40 }, (_, i) => svc(`web/s${i}`, [`192.0.2.${i + 100}`]));
    const p = planL2(world({ services, endpointSlices: services.map((s) => everywhere(`web/${s.metadata?.name ?? ''}`)) }));
    expect(p.ips.size).toBe(40);
    expect([...p.ips.values()].every((e) => e.owner !== undefined)).toBe(true);
    const perNode = NODES.map((n) => assignmentsFor(p, n).length);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...perNode)).toBeLessThanOrEqual(Math.ceil((1.25 * 40) / 4));
    expect(Object.fromEntries(p.load)).toEqual(Object.fromEntries(NODES.map((n, i) => [n, perNode[i]])));
  });

  it('reports the eligibility it elects from', () => {
    const w = busyWorld();
    const evaluated = evaluateL2(w);
    const p = planL2(w);
    expect([...evaluated.keys()]).toEqual([...p.ips.keys()]);
    for (const [k, e] of evaluated) {
      const owner = p.ips.get(k)?.owner;
      if (owner !== undefined) expect(e.eligible).toContain(owner);
      for (const c of e.candidates) expect(c.key).toBe(k);
    }
  });

  it('plans 1000 Services on 100 nodes quickly enough to run on every change', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
    const services: V1Service[] = [];
    const endpointSlices: V1EndpointSlice[] = [];
    for (let i = 0; i < 1000; i++) {
      const key = `ns${i % 10}/svc-${i}`;
      const local = i % 2 === 0;
      services.push(svc(key, [`10.${Math.floor(i / 250)}.${i % 250}.1`], local ? { policy: 'Local' } : {}));
      endpointSlices.push(slice(key, [0, 1, 2].map((k) => ({ node: nodes[(i * 7 + k * 13) % 100] as string }))));
    }
    const w = world({ nodes: nodes.map((n) => node(n)), alive: nodes, pools: [pool('big', ['10.0.0.0/8'])], services, endpointSlices });
    planL2(w); // warm up the JIT
    const start = performance.now();
    const p = planL2(w);
    const ms = performance.now() - start;
    expect(p.ips.size).toBe(1000);
    expect([...p.ips.values()].every((e) => e.owner !== undefined)).toBe(true);
    // About 30 ms of eligibility and 70 ms of election here; the loose bound only
    // catches an accidental O(services x slices) or worse, not a slow CI machine.
    expect(ms).toBeLessThan(2000);
  });
});
