import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseIP } from '@herald/shared/ip';
import { ETHERTYPE, buildEthernet, fromHex, toHex, type EthernetReason } from './ethernet.js';
import {
  ALL_NODES,
  UNSPECIFIED,
  answerNeighborSolicitation,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  icmpv6Checksum,
  multicastMAC,
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  parseNeighborSolicitationFrame,
  solicitedAdvertisement,
  solicitedNodeMulticast,
  unsolicitedAdvertisementFrame,
  type IPv6,
  type NdpReason,
  type NeighborAdvertisement,
  type NeighborSolicitation,
} from './ndp.js';
import { arbIPv6, arbMAC, arbUnicastIPv6, asV6, mac, mutated } from './__fixtures__/arbitraries.js';

const v6 = (s: string): IPv6 => asV6(parseIP(s));
const OURS = mac('02:30:00:00:00:01');
const PEER = mac('02:30:00:00:00:02');
const VIP = v6('2001:db8::10');
const PEER_IP = v6('2001:db8::1');

const REASONS: readonly (NdpReason | EthernetReason | 'notIPv6Frame')[] = [
  'ipv6TooShort', 'notIPv6', 'ipv6Truncated', 'notICMPv6', 'notNeighborSolicitation', 'notNeighborAdvertisement',
  'badHopLimit', 'badCode', 'badChecksum', 'icmpTooShort', 'multicastTarget', 'unspecifiedSourceNotToSolicitedNode',
  'unspecifiedSourceWithLinkLayerOption', 'solicitedToMulticast', 'zeroLengthOption', 'truncatedOption',
  'badLinkLayerOption', 'frameTooShort', 'notEthernetII', 'stackedVlanTags', 'notIPv6Frame',
];

const hex = (s: string): Uint8Array => fromHex(s.replace(/\|[^\n]*/g, ''));

// A Neighbor Solicitation for 2001:db8::10 from 2001:db8::1, as a Linux host
// sends it. The checksum, by hand (RFC 4443 2.3 over the RFC 8200 8.1
// pseudo-header; 16-bit words, one's complement sum):
//   source 2001:db8::1            2001 + 0db8 + 0001          = 0x02dba
//   destination ff02::1:ff00:10   ff02 + 0001 + ff00 + 0010   = 0x1fe13
//   upper-layer length 32, next header 58                     = 0x00020 + 0x0003a
//   ICMPv6 8700 (checksum 0000), reserved 0000 0000           = 0x08700
//   target 2001:db8::10           2001 + 0db8 + 0010          = 0x02dc9
//   option 0101, 0230 0000 0002                               = 0x00333
//   total 0x2e423; fold: e423 + 2 = 0xe425; complement        = 0x1bda
const NS_PACKET = hex(`
  60 00 00 00                                     | version 6, traffic class 0, flow label 0
  00 20                                           | payload length 32 = 24 + one 8-octet option
  3a                                              | next header 58, ICMPv6
  ff                                              | hop limit 255 (RFC 4861 7.1.1)
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 | source 2001:db8::1
  ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 10 | destination ff02::1:ff00:10, solicited-node of the target
  87                                              | type 135, Neighbor Solicitation
  00                                              | code 0
  1b da                                           | checksum (derived above)
  00 00 00 00                                     | reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10 | target 2001:db8::10
  01 01 02 30 00 00 00 02                         | option 1 (Source Link-Layer Address), length 1, 02:30:00:00:00:02
`);

// Our answer: S=1, O=1, to the solicitation's source; checksum
//   2001+0db8+0010 + 2001+0db8+0001 + 0020+003a + 8800 + 6000 + 2001+0db8+0010 + 0201+0230+0000+0001
//   = 0x175d8; fold 75d8 + 1 = 0x75d9; complement = 0x8a26
const NA_PACKET = hex(`
  60 00 00 00 00 20 3a ff                         | IPv6, payload 32, ICMPv6, hop limit 255
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10 | source: the target itself (what Linux does for its own addresses)
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 | destination: the solicitation's source (RFC 4861 7.2.4)
  88 00 8a 26                                     | type 136, code 0, checksum
  60 00 00 00                                     | R=0 S=1 O=1, reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10 | target 2001:db8::10
  02 01 02 30 00 00 00 01                         | option 2 (Target Link-Layer Address), length 1, our MAC
`);

// The same answer in its Ethernet frame: unicast to the SLLA option's address.
const NA_FRAME = hex(`
  02 30 00 00 00 02 | destination: the requester
  02 30 00 00 00 01 | source: us
  86 dd             | EtherType IPv6
`);

// An unsolicited advertisement (RFC 4861 7.2.6) of 2001:db8::10: checksum
//   2001+0db8+0010 + ff02+0001 + 0020+003a + 8800 + 2000 + 2001+0db8+0010 + 0201+0230+0000+0001
//   = 0x20721; fold 0721 + 2 = 0x0723; complement = 0xf8dc
const UNSOLICITED_FRAME = hex(`
  33 33 00 00 00 01                               | Ethernet destination: ff02::1 mapped per RFC 2464 7
  02 30 00 00 00 01                               | source: us
  86 dd                                           | EtherType IPv6
  60 00 00 00 00 20 3a ff                         | IPv6, payload 32, ICMPv6, hop limit 255
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10 | source 2001:db8::10
  ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01 | destination ff02::1, all nodes
  88 00 f8 dc                                     | type 136, code 0, checksum
  20 00 00 00                                     | R=0 S=0 O=1
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10 | target
  02 01 02 30 00 00 00 01                         | Target Link-Layer Address: us
`);

// Duplicate Address Detection for 2001:db8::10 (RFC 4862 5.4.2): unspecified
// source, no option; checksum 0x2b32e -> b32e + 2 = 0xb330 -> 0x4ccf.
const DAD_PACKET = hex(`
  60 00 00 00 00 18 3a ff                         | IPv6, payload 24, ICMPv6, hop limit 255
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 | source ::
  ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 10 | destination ff02::1:ff00:10
  87 00 4c cf 00 00 00 00                         | NS, code 0, checksum, reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10 | target
`);

function frameOf(packet: Uint8Array, dst = multicastMAC(solicitedNodeMulticast(VIP)), src = PEER): Uint8Array {
  return buildEthernet({ dst, src, ethertype: ETHERTYPE.IPv6, payload: packet });
}

function withChecksum(p: Uint8Array): Uint8Array {
  const c = Uint8Array.from(p);
  c[42] = 0;
  c[43] = 0;
  const src = { family: 6 as const, value: BigInt('0x' + toHex(c.subarray(8, 24))) };
  const dst = { family: 6 as const, value: BigInt('0x' + toHex(c.subarray(24, 40))) };
  const sum = icmpv6Checksum(src, dst, c.subarray(40));
  c[42] = sum >> 8;
  c[43] = sum & 0xff;
  return c;
}

const arbNS: fc.Arbitrary<NeighborSolicitation> = fc.oneof(
  fc.record({ source: arbUnicastIPv6, destination: arbIPv6, target: arbUnicastIPv6, sourceLinkLayer: arbMAC }, { requiredKeys: ['source', 'destination', 'target'] }),
  // RFC 4861 7.1.1: a DAD solicitation goes to a solicited-node group and has no SLLA option.
  arbUnicastIPv6.map((target) => ({ source: UNSPECIFIED, destination: solicitedNodeMulticast(target), target })),
);

const arbNA: fc.Arbitrary<NeighborAdvertisement> = fc
  .record(
    { source: arbIPv6, destination: arbIPv6, target: arbUnicastIPv6, router: fc.boolean(), solicited: fc.boolean(), override: fc.boolean(), targetLinkLayer: arbMAC },
    { requiredKeys: ['source', 'destination', 'target', 'router', 'solicited', 'override'] },
  )
  .map((na) => (na.destination.value >> 120n === 0xffn ? { ...na, solicited: false } : na));

describe('solicited-node multicast', () => {
  it('maps an address to ff02::1:ffXX:XXXX and that to 33:33:ff:XX:XX:XX (RFC 4291 2.7.1, RFC 2464 7)', () => {
    expect(solicitedNodeMulticast(v6('2001:db8::abcd:1234:5678'))).toEqual(v6('ff02::1:ff34:5678'));
    expect(multicastMAC(solicitedNodeMulticast(v6('fe80::230:ff:fe00:1')))).toBe('33:33:ff:00:00:01');
    expect(multicastMAC(ALL_NODES)).toBe('33:33:00:00:00:01');
  });
});

describe('NDP golden packets', () => {
  it('encodes the solicitation a host sends, checksum included', () => {
    const ns: NeighborSolicitation = { source: PEER_IP, destination: solicitedNodeMulticast(VIP), target: VIP, sourceLinkLayer: PEER };
    expect(toHex(encodeNeighborSolicitation(ns))).toBe(toHex(NS_PACKET));
    expect(parseNeighborSolicitation(NS_PACKET)).toEqual({ ok: true, value: ns });
  });

  it('answers a solicitation for an owned address with S=1, O=1, unicast to the requester', () => {
    const f = parseNeighborSolicitationFrame(frameOf(NS_PACKET));
    expect(f.ok).toBe(true);
    if (!f.ok) return;
    const a = answerNeighborSolicitation(f.value, OURS, (ip) => ip.value === VIP.value);
    expect(a.frame && toHex(a.frame)).toBe(toHex(NA_FRAME) + toHex(NA_PACKET));
    expect(parseNeighborAdvertisement(NA_PACKET)).toEqual({
      ok: true,
      value: { source: VIP, destination: PEER_IP, target: VIP, router: false, solicited: true, override: true, targetLinkLayer: OURS },
    });
  });

  it('answers a DAD probe for an owned address to all-nodes with S=0 (RFC 4861 7.2.4)', () => {
    const ns = parseNeighborSolicitation(DAD_PACKET);
    expect(ns).toEqual({ ok: true, value: { source: UNSPECIFIED, destination: v6('ff02::1:ff00:10'), target: VIP } });
    if (!ns.ok) return;
    const na = solicitedAdvertisement(ns.value, OURS);
    expect(na).toMatchObject({ destination: ALL_NODES, solicited: false, override: true });
    const f = parseNeighborSolicitationFrame(frameOf(DAD_PACKET));
    const a = f.ok ? answerNeighborSolicitation(f.value, OURS, () => true) : undefined;
    expect(a?.frame && toHex(a.frame.subarray(0, 6))).toBe('333300000001');
  });

  it('builds the unsolicited advertisement that announces a failover', () => {
    expect(toHex(unsolicitedAdvertisementFrame(VIP, OURS))).toBe(toHex(UNSOLICITED_FRAME));
  });

  it('without a Source Link-Layer option, answers to the Ethernet source', () => {
    const ns = encodeNeighborSolicitation({ source: PEER_IP, destination: solicitedNodeMulticast(VIP), target: VIP });
    const f = parseNeighborSolicitationFrame(frameOf(ns, undefined, mac('02:30:00:00:00:77')));
    const a = f.ok ? answerNeighborSolicitation(f.value, OURS, () => true) : undefined;
    expect(a?.frame && toHex(a.frame.subarray(0, 6))).toBe('023000000077');
  });

  it('stays silent for addresses it does not own', () => {
    const f = parseNeighborSolicitationFrame(frameOf(NS_PACKET));
    expect(f.ok && answerNeighborSolicitation(f.value, OURS, () => false)).toEqual({ frame: undefined, reason: 'notOwned' });
  });
});

describe('RFC 4861 7.1.1 validation', () => {
  const edit = (p: Uint8Array, at: number, bytes: number[], fixChecksum = true): Uint8Array => {
    const c = Uint8Array.from(p);
    c.set(bytes, at);
    return fixChecksum ? withChecksum(c) : c;
  };

  it.each<[string, Uint8Array, NdpReason]>([
    ['hop limit below 255 (it crossed a router)', edit(NS_PACKET, 7, [64]), 'badHopLimit'],
    ['ICMP code not 0', edit(NS_PACKET, 41, [1]), 'badCode'],
    ['a wrong checksum', edit(NS_PACKET, 42, [0x1b, 0xdb], false), 'badChecksum'],
    ['ICMP shorter than 24 octets', withChecksum(Uint8Array.from([...NS_PACKET.subarray(0, 4), 0, 20, ...NS_PACKET.subarray(6, 60)])), 'icmpTooShort'],
    ['a multicast target', edit(NS_PACKET, 48, [0xff, 0x02]), 'multicastTarget'],
    ['unspecified source to a non-solicited-node group', edit(DAD_PACKET, 24, [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 'unspecifiedSourceNotToSolicitedNode'],
    ['unspecified source with a Source Link-Layer option', edit(NS_PACKET, 8, new Array<number>(16).fill(0)), 'unspecifiedSourceWithLinkLayerOption'],
    ['an option of length 0', edit(NS_PACKET, 65, [0]), 'zeroLengthOption'],
    ['an option running past the end', edit(NS_PACKET, 65, [2]), 'truncatedOption'],
    ['a link-layer option that is not 8 octets', withChecksum(Uint8Array.from([...NS_PACKET.subarray(0, 4), 0, 40, ...NS_PACKET.subarray(6, 65), 2, ...NS_PACKET.subarray(66), 0, 0, 0, 0, 0, 0, 0, 0])), 'badLinkLayerOption'],
    ['an IPv6 payload longer than the packet', edit(NS_PACKET, 4, [0, 0x28], false), 'ipv6Truncated'],
    ['a Neighbor Advertisement', NA_PACKET, 'notNeighborSolicitation'],
    ['an extension header before ICMPv6', edit(NS_PACKET, 6, [0], false), 'notICMPv6'],
    ['IPv4', edit(NS_PACKET, 0, [0x45], false), 'notIPv6'],
  ])('refuses a solicitation with %s', (_what, packet, reason) => {
    expect(parseNeighborSolicitation(packet)).toEqual({ ok: false, reason });
  });

  it('ignores unknown options (RFC 4861 4.6) and Ethernet padding after the payload', () => {
    const nonce = [14, 1, 1, 2, 3, 4, 5, 6]; // RFC 3971 Nonce option
    const withNonce = withChecksum(Uint8Array.from([...NS_PACKET.subarray(0, 4), 0, 40, ...NS_PACKET.subarray(6), ...nonce]));
    expect(parseNeighborSolicitation(withNonce)).toMatchObject({ ok: true, value: { sourceLinkLayer: PEER } });
    expect(parseNeighborSolicitation(Uint8Array.from([...NS_PACKET, 0, 0, 0, 0]))).toMatchObject({ ok: true });
  });

  it('refuses a solicited advertisement sent to a multicast group (RFC 4861 7.1.2)', () => {
    const na = encodeNeighborAdvertisement({ source: VIP, destination: ALL_NODES, target: VIP, router: false, solicited: true, override: true });
    expect(parseNeighborAdvertisement(na)).toEqual({ ok: false, reason: 'solicitedToMulticast' });
  });
});

describe('NDP properties', () => {
  it('gives back every field of a solicitation it encoded', () => {
    fc.assert(
      fc.property(arbNS, (ns) => {
        expect(parseNeighborSolicitation(encodeNeighborSolicitation(ns))).toEqual({ ok: true, value: ns });
      }),
      { numRuns: 1000 },
    );
  });

  it('gives back every field of an advertisement it encoded', () => {
    fc.assert(
      fc.property(arbNA, (na) => {
        expect(parseNeighborAdvertisement(encodeNeighborAdvertisement(na))).toEqual({ ok: true, value: na });
      }),
      { numRuns: 1000 },
    );
  });

  it('answers every valid solicitation with an advertisement that validates and targets the same address', () => {
    fc.assert(
      fc.property(arbNS, arbMAC, (ns, own) => {
        const na = solicitedAdvertisement(ns, own);
        const back = parseNeighborAdvertisement(encodeNeighborAdvertisement(na));
        expect(back).toEqual({ ok: true, value: na });
        expect(na.target).toEqual(ns.target);
        expect(na.solicited).toBe(ns.source.value !== 0n);
        expect(na.destination).toEqual(ns.source.value === 0n ? ALL_NODES : ns.source);
      }),
    );
  });

  it('rejects any single flipped bit after the flow label (checksum or a field check catches it)', () => {
    fc.assert(
      fc.property(arbNS, fc.nat(), (ns, bit) => {
        const p = encodeNeighborSolicitation(ns);
        const i = 32 + (bit % ((p.length - 4) * 8));
        const c = Uint8Array.from(p);
        c[i >> 3] = (c[i >> 3] ?? 0) ^ (1 << (i & 7));
        expect(parseNeighborSolicitation(c).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random or mutated input, and refuses with a known reason', () => {
    const valid = fc.tuple(arbNS, arbMAC).map(([ns, src]) => frameOf(encodeNeighborSolicitation(ns), undefined, src));
    fc.assert(
      fc.property(mutated(valid), (b) => {
        for (const r of [parseNeighborSolicitationFrame(b), parseNeighborSolicitation(b), parseNeighborAdvertisement(b), parseNeighborSolicitation(b.subarray(14))]) {
          if (!r.ok) expect(REASONS).toContain(r.reason);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
