import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import {
  BFDProfileSchema,
  BGPAdvertisementSchema,
  BGPPeerSchema,
  BGPSessionStateSchema,
  CommunitySchema,
  fromCount,
  IPAddressPoolSchema,
  L2AdvertisementSchema,
  parseCommunity,
  ServiceBGPStatusSchema,
  ServiceL2StatusSchema,
  toCount,
} from './index.js';

/** Messages of the issues zod reports, empty when the value parses. */
function problems(schema: z.ZodType, value: unknown): string[] {
  return schema.safeParse(value).error?.issues.map((i) => i.message) ?? [];
}

const meta = { name: 'x', namespace: 'herald-system' };
const pool = (spec: Record<string, unknown>) => ({
  apiVersion: 'herald.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: meta,
  spec: { addresses: ['192.168.10.0/24'], ...spec },
});
const peer = (spec: Record<string, unknown>) => ({
  apiVersion: 'herald.io/v1beta1',
  kind: 'BGPPeer',
  metadata: meta,
  spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', ...spec },
});

describe('object envelope', () => {
  it('parses an object as the apiserver returns it, keeping metadata it does not model', () => {
    const fromApi = {
      ...pool({}),
      metadata: {
        ...meta,
        uid: '6a1c',
        resourceVersion: '42',
        generation: 3,
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
        somethingNew: true,
      },
      status: { availableIPv4: 256, assignedIPv4: 0 },
    };
    const parsed = IPAddressPoolSchema.parse(fromApi);
    expect(parsed.metadata['managedFields']).toEqual([{ manager: 'kubectl', operation: 'Apply' }]);
    expect(parsed.metadata['somethingNew']).toBe(true);
    expect(parsed.status?.availableIPv4).toBe(256);
  });

  it('fills in apiVersion and kind when a list item omits them', () => {
    const parsed = IPAddressPoolSchema.parse({ metadata: meta, spec: { addresses: ['10.0.0.0/8'] } });
    expect(parsed.apiVersion).toBe('herald.io/v1beta1');
    expect(parsed.kind).toBe('IPAddressPool');
  });

  it('refuses a MetalLB object that kept its metallb.io apiVersion', () => {
    expect(problems(IPAddressPoolSchema, { ...pool({}), apiVersion: 'metallb.io/v1beta1' })).toHaveLength(1);
  });

  it('refuses another kind', () => {
    expect(problems(IPAddressPoolSchema, { ...pool({}), kind: 'BGPPeer' })).toHaveLength(1);
  });

  it('drops unknown spec fields instead of failing, as the apiserver prunes them', () => {
    const parsed = IPAddressPoolSchema.parse(pool({ fromTheFuture: 1 }));
    expect(parsed.spec).not.toHaveProperty('fromTheFuture');
  });
});

describe('IPAddressPool', () => {
  it("applies MetalLB's defaults: autoAssign true, avoidBuggyIPs false", () => {
    const parsed = IPAddressPoolSchema.parse(pool({}));
    expect(parsed.spec.autoAssign).toBe(true);
    expect(parsed.spec.avoidBuggyIPs).toBe(false);
  });

  it('requires a spec with at least one address', () => {
    expect(problems(IPAddressPoolSchema, { ...pool({}), spec: undefined })).toHaveLength(1);
    expect(problems(IPAddressPoolSchema, pool({ addresses: [] }))).toHaveLength(1);
  });

  it('accepts CIDRs with host bits, ranges with spaces and IPv6', () => {
    expect(
      problems(IPAddressPoolSchema, pool({ addresses: ['10.0.0.1/24', '10.1.0.1 - 10.1.0.9', '2001:db8::/64'] })),
    ).toEqual([]);
  });

  it('refuses a range that runs backwards (checked by the controller: CEL cannot order IPs)', () => {
    expect(problems(IPAddressPoolSchema, pool({ addresses: ['10.0.0.9-10.0.0.1'] }))).toEqual([
      'address range 10.0.0.9-10.0.0.1 runs backwards: its start must not be after its end',
    ]);
  });

  it('refuses a range that overlaps another entry (checked by the controller)', () => {
    expect(problems(IPAddressPoolSchema, pool({ addresses: ['10.0.0.0/24', '10.0.0.200-10.0.1.5'] }))).toEqual([
      'addresses 10.0.0.0/24 and 10.0.0.200-10.0.1.5 overlap: remove one or shrink it',
    ]);
  });

  it('refuses the same CIDR written two ways as overlapping', () => {
    expect(problems(IPAddressPoolSchema, pool({ addresses: ['10.0.0.1/24', '10.0.0.0/24'] }))).toEqual([
      'CIDRs in one pool must not overlap: remove the CIDR that lies inside another',
    ]);
  });

  it('keeps IPv6 counts beyond 2^53 exact as decimal strings', () => {
    const huge = 1n << 64n;
    expect(toCount(huge)).toBe('18446744073709551616');
    expect(toCount(255n)).toBe(255);
    expect(fromCount(toCount(huge))).toBe(huge);
    const parsed = IPAddressPoolSchema.parse({ ...pool({}), status: { availableIPv6: toCount(huge) } });
    expect(parsed.status?.availableIPv6).toBe('18446744073709551616');
    expect(problems(IPAddressPoolSchema, { ...pool({}), status: { availableIPv6: '1e20' } })).toHaveLength(1);
  });
});

describe('BGPPeer', () => {
  it("applies MetalLB's defaults: port 179, disableMP false", () => {
    const parsed = BGPPeerSchema.parse(peer({}));
    expect(parsed.spec.peerPort).toBe(179);
    expect(parsed.spec.disableMP).toBe(false);
    expect(parsed.spec.dualStackAddressFamily).toBe(false);
  });

  it('accepts dynamicASN instead of peerASN', () => {
    expect(problems(BGPPeerSchema, peer({ peerASN: undefined, dynamicASN: 'external' }))).toEqual([]);
  });

  it('accepts a zero hold time with zero keepalive (RFC 4271 4.4: no KEEPALIVEs)', () => {
    expect(problems(BGPPeerSchema, peer({ holdTime: '0s', keepaliveTime: '0s' }))).toEqual([]);
  });

  it('accepts Go durations with several units', () => {
    expect(problems(BGPPeerSchema, peer({ holdTime: '1m30s', keepaliveTime: '30s', connectTime: '2m' }))).toEqual(
      [],
    );
  });

  it('accepts a 4-octet ASN (RFC 6793)', () => {
    expect(problems(BGPPeerSchema, peer({ myASN: 4294967294 }))).toEqual([]);
  });

  it('allows ebgpMultiHop for eBGP, refuses it for iBGP', () => {
    expect(problems(BGPPeerSchema, peer({ ebgpMultiHop: true }))).toEqual([]);
    expect(problems(BGPPeerSchema, peer({ peerASN: 64500, ebgpMultiHop: true }))).toHaveLength(1);
  });

  it('allows an empty passwordSecret next to a password, as Go clients serialize one', () => {
    expect(problems(BGPPeerSchema, peer({ password: 'x', passwordSecret: {} }))).toEqual([]);
  });

  it('accepts an IPv6 session with an IPv6 source', () => {
    expect(problems(BGPPeerSchema, peer({ peerAddress: '2001:db8::1', sourceAddress: '2001:db8::2' }))).toEqual([]);
  });
});

describe('BGPAdvertisement', () => {
  it('defaults aggregation lengths to 32 and 128, even without a spec', () => {
    const parsed = BGPAdvertisementSchema.parse({ metadata: meta });
    expect(parsed.spec).toEqual({ aggregationLength: 32, aggregationLengthV6: 128 });
  });

  it('accepts standard and large communities and alias names', () => {
    const adv = { metadata: meta, spec: { communities: ['0:0', '65535:65535', 'large:4294967295:0:1', 'edge_1'] } };
    expect(problems(BGPAdvertisementSchema, adv)).toEqual([]);
  });
});

describe('L2Advertisement', () => {
  it('treats a missing spec as announcing every pool from every node', () => {
    expect(L2AdvertisementSchema.parse({ metadata: meta }).spec).toEqual({});
  });
});

describe('BFDProfile', () => {
  it('defaults to the RFC 5880 session MetalLB configures in FRR', () => {
    expect(BFDProfileSchema.parse({ metadata: meta }).spec).toEqual({
      receiveInterval: 300,
      transmitInterval: 300,
      detectMultiplier: 3,
      echoInterval: 50,
      echoMode: false,
      passiveMode: false,
      minimumTtl: 254,
    });
  });
});

describe('Community', () => {
  it('parses standard (RFC 1997) and large (RFC 8092) values', () => {
    expect(parseCommunity('65000:100')).toEqual({ kind: 'standard', high: 65000, low: 100 });
    expect(parseCommunity('large:1:2:3')).toEqual({ kind: 'large', global: 1, local1: 2, local2: 3 });
    expect(parseCommunity('65536:1')).toBeUndefined();
    expect(parseCommunity('edge')).toBeUndefined();
  });

  it('accepts an object without aliases', () => {
    expect(problems(CommunitySchema, { metadata: meta })).toEqual([]);
  });
});

describe('status kinds', () => {
  it('parse what the speakers write', () => {
    const l2 = { metadata: meta, status: { node: 'n1', serviceName: 'web', serviceNamespace: 'default' } };
    const bgp = { metadata: meta, status: { node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: [] } };
    const session = { metadata: meta, status: { node: 'n1', peer: '192.0.2.1', bgpStatus: 'Idle', bfdStatus: 'N/A' } };
    expect(problems(ServiceL2StatusSchema, l2)).toEqual([]);
    expect(problems(ServiceBGPStatusSchema, bgp)).toEqual([]);
    expect(problems(BGPSessionStateSchema, session)).toEqual([]);
  });

  it('parse objects the speaker has created but not yet given a status', () => {
    expect(problems(BGPSessionStateSchema, { metadata: meta, spec: {} })).toEqual([]);
  });
});
