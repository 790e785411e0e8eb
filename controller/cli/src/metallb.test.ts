import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { ALL_KINDS, IPAddressPoolSchema, L2AdvertisementSchema } from '@herald/shared/api';
import { UsageError } from './errors.js';
import { convertMetalLB, hasLoss, parseDocuments, problemLines, renderImport, unknownFields } from './metallb.js';

const NS = 'herald-system';
const mlb = (kind: string, name: string, spec: Record<string, unknown>, version = 'v1beta1', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: `metallb.io/${version}`,
  kind,
  metadata: { name, namespace: 'metallb-system', uid: 'u', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z', ...extra },
  spec,
});

describe('convertMetalLB', () => {
  it('changes apiVersion and namespace of every kind Herald shares with MetalLB, and keeps labels', () => {
    const docs = [
      mlb('IPAddressPool', 'pool', { addresses: ['192.168.10.0/24'], autoAssign: false, avoidBuggyIPs: true, serviceAllocation: { priority: 1, namespaces: ['a'], serviceSelectors: [{ matchLabels: { x: 'y' } }] } }, 'v1beta1', {
        labels: { tier: 'gold' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'net' },
      }),
      mlb('L2Advertisement', 'l2', { ipAddressPools: ['pool'], interfaces: ['eth0'], nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] }] }),
      mlb('BGPAdvertisement', 'bgp', { aggregationLength: 24, localPref: 100, communities: ['65535:65282', 'edge'], ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }], peers: ['p1'] }),
      mlb('BFDProfile', 'fast', { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3, echoMode: false, minimumTtl: 254 }),
      mlb('Community', 'c', { communities: [{ name: 'edge', value: '64512:1' }] }),
      mlb('BGPPeer', 'p1', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', peerPort: 180, holdTime: '90s', keepaliveTime: '30s', connectTime: '10s', routerID: '10.0.0.1', bfdProfile: 'fast', ebgpMultiHop: true, enableGracefulRestart: true, dualStackAddressFamily: true, nodeSelectors: [{ matchLabels: { rack: 'r1' } }] }, 'v1beta2'),
      mlb('BGPPeer', 'dyn', { myASN: 64500, dynamicASN: 'external', peerAddress: '2001:db8::1', sourceAddress: '2001:db8::2', password: 'secret', disableMP: false }, 'v1beta2'),
    ];
    const r = convertMetalLB(docs, NS);
    expect(r.problems).toEqual([]);
    expect(hasLoss(r)).toBe(false);
    expect(r.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(['IPAddressPool/pool', 'L2Advertisement/l2', 'BGPAdvertisement/bgp', 'BGPPeer/dyn', 'BGPPeer/p1', 'BFDProfile/fast', 'Community/c']);
    const p = r.objects[0]?.object;
    expect(p).toEqual({
      apiVersion: 'herald.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'pool', namespace: NS, labels: { tier: 'gold' }, annotations: { team: 'net' } },
      spec: docs[0]?.['spec'],
    });
    for (const { object } of r.objects) {
      const schema = ALL_KINDS.find((k) => k.kind === object.kind)?.schema;
      expect(schema?.safeParse(object).success).toBe(true);
      expect(object.spec).toEqual(docs.find((d) => (d['metadata'] as { name: string }).name === object.metadata.name)?.['spec']);
    }
  });

  it('reports a MetalLB BGPPeer with a vrf, and a BFDProfile in echo mode, as errors: Herald refuses what it cannot do', () => {
    const r = convertMetalLB(
      [
        mlb('BGPPeer', 'v', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', vrf: 'red' }, 'v1beta2'),
        mlb('BFDProfile', 'echo', { echoMode: true }),
      ],
      NS,
    );
    const text = r.problems.map((p) => `${p.severity}: ${p.message}`).join('\n');
    expect(text).toMatch(/error: .*vrf is not supported/);
    expect(text).toMatch(/error: .*echoMode: true is not supported/);
  });

  it('drops fields Herald lacks, with a warning naming each path', () => {
    const r = convertMetalLB(
      [
        mlb('BGPPeer', 'unnumbered', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', interface: 'eth1' }, 'v1beta2'),
        mlb('IPAddressPool', 'p', { addresses: ['10.0.0.0/24'], serviceAllocation: { namespaces: ['a'], futureField: 1 }, avoidBuggyIPs: false }),
        mlb('L2Advertisement', 'l2', { nodeSelectors: [{ matchLabels: { a: 'b' }, extra: true }] }),
      ],
      NS,
    );
    expect(problemLines(r)).toEqual([
      'warning: metallb.io/v1beta2 BGPPeer metallb-system/unnumbered: spec.interface: Herald has no such field: dropped',
      'warning: metallb.io/v1beta1 IPAddressPool metallb-system/p: spec.serviceAllocation.futureField: Herald has no such field: dropped',
      'warning: metallb.io/v1beta1 L2Advertisement metallb-system/l2: spec.nodeSelectors[0].extra: Herald has no such field: dropped',
    ]);
    expect(hasLoss(r)).toBe(true);
    expect(r.objects.find((o) => o.object.kind === 'BGPPeer')?.object.spec).toEqual({ myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1' });
    expect(r.objects.find((o) => o.object.kind === 'IPAddressPool')?.object.spec).toEqual({ addresses: ['10.0.0.0/24'], serviceAllocation: { namespaces: ['a'] }, avoidBuggyIPs: false });
  });

  it('refuses objects Herald would refuse, with the schema message, and converts the rest', () => {
    const r = convertMetalLB(
      [
        mlb('BGPPeer', 'short-hold', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', holdTime: '2s' }, 'v1beta2'),
        mlb('IPAddressPool', 'overlap', { addresses: ['10.0.0.0/24', '10.0.0.0/25'] }),
        mlb('IPAddressPool', 'good', { addresses: ['10.1.0.0/24'] }),
      ],
      NS,
    );
    expect(problemLines(r)).toEqual([
      'error: metallb.io/v1beta2 BGPPeer metallb-system/short-hold: spec.holdTime: holdTime must be 0s (no keepalives) or at least 3s (RFC 4271 4.2): not converted',
      'error: metallb.io/v1beta1 IPAddressPool metallb-system/overlap: spec.addresses: CIDRs in one pool must not overlap: remove the CIDR that lies inside another: not converted',
    ]);
    expect(r.objects.map((o) => o.object.metadata.name)).toEqual(['good']);
  });

  it('turns the deprecated AddressPool into a pool and the advertisement its protocol implied', () => {
    const r = convertMetalLB(
      [
        mlb('AddressPool', 'l2pool', { protocol: 'layer2', addresses: ['10.0.0.0/24'], autoAssign: false }),
        mlb('AddressPool', 'bgppool', { protocol: 'bgp', addresses: ['10.1.0.0/24'], bgpAdvertisements: [{ aggregationLength: 32, localPref: 50 }, { aggregationLength: 24, communities: ['65535:65281'] }] }),
        mlb('AddressPool', 'odd', { protocol: 'vrrp', addresses: ['10.2.0.0/24'] }),
      ],
      NS,
    );
    expect(r.objects.map((o) => [o.object.kind, o.object.metadata.name, o.object.spec])).toEqual([
      ['IPAddressPool', 'bgppool', { addresses: ['10.1.0.0/24'] }],
      ['IPAddressPool', 'l2pool', { addresses: ['10.0.0.0/24'], autoAssign: false }],
      ['L2Advertisement', 'l2pool', { ipAddressPools: ['l2pool'] }],
      ['BGPAdvertisement', 'bgppool-0', { aggregationLength: 32, localPref: 50, ipAddressPools: ['bgppool'] }],
      ['BGPAdvertisement', 'bgppool-1', { aggregationLength: 24, communities: ['65535:65281'], ipAddressPools: ['bgppool'] }],
    ]);
    expect(problemLines(r)).toEqual([
      'note: metallb.io/v1beta1 AddressPool metallb-system/l2pool: deprecated AddressPool converted into IPAddressPool l2pool, L2Advertisement l2pool',
      'note: metallb.io/v1beta1 AddressPool metallb-system/bgppool: deprecated AddressPool converted into IPAddressPool bgppool, BGPAdvertisement bgppool-0, BGPAdvertisement bgppool-1',
      'error: metallb.io/v1beta1 AddressPool metallb-system/odd: spec.protocol must be layer2 or bgp, got "vrrp": not converted',
    ]);
  });

  it('skips status kinds and foreign objects with a note, and refuses unknown kinds and versions', () => {
    const r = convertMetalLB(
      [
        { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: 's', namespace: 'metallb-system' }, status: { node: 'n1' } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceBGPStatus', metadata: { name: 'b', namespace: 'metallb-system' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'metallb-system' } },
        mlb('MagicThing', 'm', {}),
        mlb('IPAddressPool', 'future', { addresses: ['10.0.0.0/24'] }, 'v2'),
        'just a string',
        { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: {}, spec: { addresses: ['10.0.0.0/24'] } },
      ],
      NS,
    );
    expect(problemLines(r)).toEqual([
      'note: metallb.io/v1beta1 ServiceL2Status metallb-system/s: status kind written by MetalLB: skipped (Herald writes its own)',
      'note: metallb.io/v1beta1 ServiceBGPStatus metallb-system/b: status kind written by MetalLB: skipped (Herald writes its own)',
      'note: v1 ConfigMap metallb-system/config: not a metallb.io resource: skipped',
      'error: metallb.io/v1beta1 MagicThing metallb-system/m: Herald has no equivalent of metallb.io MagicThing: not converted',
      'error: metallb.io/v2 IPAddressPool metallb-system/future: version v2 is not supported (supported: v1beta1): not converted',
      'error: object document 6: not a Kubernetes object (apiVersion and kind are required)',
      'error: metallb.io/v1beta1 IPAddressPool document 7: metadata.name is missing: not converted',
    ]);
    expect(r.objects).toEqual([]);
  });

  it('notes status-only inputs without counting them as a loss', () => {
    const r = convertMetalLB([{ apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: 's' } }], NS);
    expect(hasLoss(r)).toBe(false);
  });

  it('refuses a second object of the same kind and name (MetalLB namespaces collapse into one)', () => {
    const a = mlb('IPAddressPool', 'p', { addresses: ['10.0.0.0/24'] });
    const b = { ...mlb('IPAddressPool', 'p', { addresses: ['10.1.0.0/24'] }), metadata: { name: 'p', namespace: 'other' } };
    const r = convertMetalLB([a, b], NS);
    expect(r.objects).toHaveLength(1);
    expect(problemLines(r)).toEqual(['error: metallb.io/v1beta1 IPAddressPool other/p: IPAddressPool herald-system/p was already produced from metallb.io/v1beta1 IPAddressPool metallb-system/p: not converted (rename one)']);
  });

  it('points passwordSecret at Herald\'s namespace and says the Secret must be copied', () => {
    const r = convertMetalLB([mlb('BGPPeer', 'p', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', passwordSecret: { name: 'md5', namespace: 'metallb-system' } }, 'v1beta2'), mlb('BGPPeer', 'q', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.2', passwordSecret: { name: 'md5' } }, 'v1beta1')], NS);
    expect(r.objects.map((o) => o.object.spec['passwordSecret'])).toEqual([{ name: 'md5', namespace: NS }, { name: 'md5' }]);
    expect(problemLines(r)).toEqual([
      'warning: metallb.io/v1beta2 BGPPeer metallb-system/p: spec.passwordSecret: Herald reads Secrets only from its namespace: copy Secret metallb-system/md5 to herald-system',
      'note: metallb.io/v1beta1 BGPPeer metallb-system/q: metallb.io/v1beta1 BGPPeer is deprecated; converted as v1beta2',
      'warning: metallb.io/v1beta1 BGPPeer metallb-system/q: spec.passwordSecret: Herald reads Secrets only from its namespace: copy Secret metallb-system/md5 to herald-system',
    ]);
  });

  it('maps MetalLB 0.16 L2Advertisement serviceSelectors and preferredNodeSelectors instead of dropping them', () => {
    const spec = { ipAddressPools: ['pool'], serviceSelectors: [{ matchLabels: { expose: 'lan' } }], preferredNodeSelectors: [{ matchLabels: { tier: 'edge' } }] };
    const r = convertMetalLB([mlb('L2Advertisement', 'l2', spec)], NS);
    expect(r.problems).toEqual([]);
    expect(r.objects[0]?.object.spec).toEqual(spec);
  });

  it('treats null fields as absent, as the API server does', () => {
    const r = convertMetalLB([mlb('L2Advertisement', 'l2', { ipAddressPools: null, interfaces: ['eth0'] })], NS);
    expect(r.problems).toEqual([]);
    expect(r.objects[0]?.object.spec).toEqual({ interfaces: ['eth0'] });
  });
});

describe('unknownFields', () => {
  it('walks objects and arrays, and accepts anything in loose objects', () => {
    const spec = IPAddressPoolSchema.shape.spec;
    expect(unknownFields(spec, { addresses: ['x'], bogus: 1, serviceAllocation: { namespaceSelectors: [{ matchLabels: {}, nope: 2 }] } }, 'spec')).toEqual(['spec.bogus', 'spec.serviceAllocation.namespaceSelectors[0].nope']);
    expect(unknownFields(L2AdvertisementSchema, { metadata: { anything: 1 }, spec: {} }, '')).toEqual([]);
  });
});

describe('parseDocuments and renderImport', () => {
  it('reads multi-document YAML and flattens Lists', () => {
    const text = 'a: 1\n---\n---\nkind: List\nitems:\n- b: 2\n- c: 3\n';
    expect(parseDocuments(text, 'f.yaml')).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('calls malformed YAML a usage error naming the input', () => {
    expect(() => parseDocuments('a: [1,\n', 'f.yaml')).toThrow(UsageError);
    expect(() => parseDocuments('a: [1,\n', 'f.yaml')).toThrow(/^f\.yaml: invalid YAML: /);
  });

  it('writes YAML documents that say where each came from, and parse back to the objects', () => {
    const r = convertMetalLB([mlb('IPAddressPool', 'p', { addresses: ['10.0.0.0/24'] }), mlb('L2Advertisement', 'l2', {})], NS);
    const yaml = renderImport(r, 'yaml');
    expect(yaml.startsWith('---\n# converted from metallb.io/v1beta1 IPAddressPool metallb-system/p\napiVersion: herald.io/v1beta1\n')).toBe(true);
    expect(parseDocuments(yaml, 'out')).toEqual(r.objects.map((o) => o.object));
    const json = parse(renderImport(r, 'json')) as { kind: string; items: unknown[] };
    expect(json.kind).toBe('List');
    expect(json.items).toEqual(r.objects.map((o) => o.object));
  });
});
