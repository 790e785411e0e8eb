import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  answerArp,
  answerArpFrame,
  arpFrame,
  encodeArp,
  gratuitousArp,
  gratuitousArpFrame,
  parseArp,
  parseArpFrame,
  type ArpPacket,
  type ArpReason,
} from './arp.js';
import { BROADCAST_MAC, ZERO_MAC, fromHex, toHex, type EthernetReason } from './ethernet.js';
import { arbIPv4, arbMAC, mac, mutated, v4 } from './__fixtures__/arbitraries.js';

const OURS = mac('02:30:00:00:00:01');
const PEER = mac('02:30:00:00:00:02');
const VIP = v4('192.0.2.10');
const PEER_IP = v4('192.0.2.1');

const REASONS: readonly (ArpReason | EthernetReason | 'notArp')[] = [
  'arpTooShort',
  'badHardwareType',
  'badProtocolType',
  'badHardwareLength',
  'badProtocolLength',
  'unknownOperation',
  'frameTooShort',
  'notEthernetII',
  'stackedVlanTags',
  'notArp',
];

// Golden frames, as a Linux host puts them on the wire (after driver padding,
// before the FCS). Layouts: Ethernet II (IEEE 802.3 3.1.1, EtherType 0x0806 per
// RFC 894/826) and the RFC 826 packet; RFC 5227 3 for the announcement.
const GRATUITOUS_192_0_2_10 = fromHex(`
  ff ff ff ff ff ff  | Ethernet destination: broadcast (RFC 5227 3: announcements are broadcast)
  02 30 00 00 00 01  | Ethernet source: our MAC
  08 06              | EtherType: ARP
  00 01              | ar$hrd: 1, Ethernet
  08 00              | ar$pro: 0x0800, IPv4
  06                 | ar$hln: 6
  04                 | ar$pln: 4
  00 01              | ar$op: 1, request (RFC 5227 3: an announcement is a request)
  02 30 00 00 00 01  | ar$sha: our MAC
  c0 00 02 0a        | ar$spa: 192.0.2.10
  00 00 00 00 00 00  | ar$tha: zero (RFC 5227 2.1.1, kept for the announcement)
  c0 00 02 0a        | ar$tpa: 192.0.2.10, equal to ar$spa
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 | padding to 60 octets
`.replace(/\|[^\n]*/g, ''));

const REQUEST_FOR_VIP = fromHex(`
  ff ff ff ff ff ff  | broadcast
  02 30 00 00 00 02  | the requester
  08 06              | ARP
  00 01 08 00 06 04  | Ethernet, IPv4, 6, 4
  00 01              | request
  02 30 00 00 00 02  | ar$sha: requester
  c0 00 02 01        | ar$spa: 192.0.2.1
  00 00 00 00 00 00  | ar$tha: unknown
  c0 00 02 0a        | ar$tpa: 192.0.2.10, who has it?
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 | padding
`.replace(/\|[^\n]*/g, ''));

const REPLY_FROM_US = fromHex(`
  02 30 00 00 00 02  | unicast back to the requester (RFC 826: "send it to ... ar$tha")
  02 30 00 00 00 01  | us
  08 06              | ARP
  00 01 08 00 06 04  | Ethernet, IPv4, 6, 4
  00 02              | reply
  02 30 00 00 00 01  | ar$sha: us
  c0 00 02 0a        | ar$spa: 192.0.2.10
  02 30 00 00 00 02  | ar$tha: the requester's ar$sha
  c0 00 02 01        | ar$tpa: the requester's ar$spa
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 | padding
`.replace(/\|[^\n]*/g, ''));

const arbPacket: fc.Arbitrary<ArpPacket> = fc.record({
  operation: fc.constantFrom('request' as const, 'reply' as const),
  senderMAC: arbMAC,
  senderIP: arbIPv4,
  targetMAC: arbMAC,
  targetIP: arbIPv4,
});

describe('ARP golden frames', () => {
  it('builds the RFC 5227 announcement for 192.0.2.10 byte for byte', () => {
    expect(toHex(gratuitousArpFrame(VIP, OURS))).toBe(toHex(GRATUITOUS_192_0_2_10));
    expect(GRATUITOUS_192_0_2_10.length).toBe(60);
  });

  it('answers a request for an owned IP with a reply whose target fields are the requester', () => {
    const req = parseArpFrame(REQUEST_FOR_VIP);
    expect(req.ok).toBe(true);
    if (!req.ok) return;
    expect(req.value.arp).toEqual({ operation: 'request', senderMAC: PEER, senderIP: PEER_IP, targetMAC: ZERO_MAC, targetIP: VIP });
    const a = answerArpFrame(req.value, OURS, (ip) => ip.value === VIP.value);
    expect(a.frame && toHex(a.frame)).toBe(toHex(REPLY_FROM_US));
  });

  it('answers on the VLAN the request came in on', () => {
    const tagged = Uint8Array.from([...REQUEST_FOR_VIP.subarray(0, 12), 0x81, 0x00, 0x00, 0x64, ...REQUEST_FOR_VIP.subarray(12)]);
    const req = parseArpFrame(tagged);
    expect(req.ok && req.value.ethernet.vlan?.id).toBe(100);
    if (!req.ok) return;
    const a = answerArpFrame(req.value, OURS, () => true);
    expect(a.frame && toHex(a.frame.subarray(12, 16))).toBe('81000064');
  });
});

describe('deciding whether to answer', () => {
  const request: ArpPacket = { operation: 'request', senderMAC: PEER, senderIP: PEER_IP, targetMAC: ZERO_MAC, targetIP: VIP };

  it('stays silent, with a reason, for replies, announcements and IPs it does not own', () => {
    expect(answerArp({ ...request, operation: 'reply' }, OURS, () => true)).toEqual({ reply: undefined, reason: 'notRequest' });
    expect(answerArp(gratuitousArp(VIP, PEER), OURS, () => true)).toEqual({ reply: undefined, reason: 'announcement' });
    expect(answerArp(request, OURS, () => false)).toEqual({ reply: undefined, reason: 'notOwned' });
  });

  it('defends an owned IP against an RFC 5227 probe (sender IP 0.0.0.0)', () => {
    const probe: ArpPacket = { ...request, senderIP: v4('0.0.0.0') };
    const a = answerArp(probe, OURS, () => true);
    expect(a.reply).toEqual({ operation: 'reply', senderMAC: OURS, senderIP: VIP, targetMAC: PEER, targetIP: v4('0.0.0.0') });
  });

  it('replies to any request for an owned IP with swapped fields (property)', () => {
    fc.assert(
      fc.property(arbPacket, arbMAC, (p, own) => {
        fc.pre(p.senderIP.value !== p.targetIP.value);
        const a = answerArp({ ...p, operation: 'request' }, own, (ip) => ip.value === p.targetIP.value);
        expect(a.reply).toEqual({ operation: 'reply', senderMAC: own, senderIP: p.targetIP, targetMAC: p.senderMAC, targetIP: p.senderIP });
      }),
    );
  });
});

describe('ARP parsing', () => {
  it('refuses each malformed header field with its own reason', () => {
    const arp = REQUEST_FOR_VIP.subarray(14);
    const edit = (i: number, v: number): Uint8Array => {
      const c = Uint8Array.from(arp);
      c[i] = v;
      return c;
    };
    expect(parseArp(arp.subarray(0, 27))).toEqual({ ok: false, reason: 'arpTooShort' });
    expect(parseArp(edit(1, 6))).toEqual({ ok: false, reason: 'badHardwareType' }); // IEEE 802 networks
    expect(parseArp(edit(2, 0x86))).toEqual({ ok: false, reason: 'badProtocolType' });
    expect(parseArp(edit(4, 8))).toEqual({ ok: false, reason: 'badHardwareLength' });
    expect(parseArp(edit(5, 16))).toEqual({ ok: false, reason: 'badProtocolLength' });
    expect(parseArp(edit(7, 3))).toEqual({ ok: false, reason: 'unknownOperation' }); // RARP request
    expect(parseArpFrame(fromHex('ffffffffffff 023000000002 0800'))).toEqual({ ok: false, reason: 'notArp' });
  });

  it('gives back every field of a packet it encoded, in and out of a frame', () => {
    fc.assert(
      fc.property(arbPacket, arbMAC, (p, src) => {
        expect(parseArp(encodeArp(p))).toEqual({ ok: true, value: p });
        const f = parseArpFrame(arpFrame(p, src, BROADCAST_MAC));
        expect(f.ok && f.value.arp).toEqual(p);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on random or mutated frames, and refuses with a known reason', () => {
    const valid = fc.tuple(arbPacket, arbMAC).map(([p, src]) => arpFrame(p, src, BROADCAST_MAC));
    fc.assert(
      fc.property(mutated(valid), (b) => {
        const p = parseArpFrame(b);
        if (!p.ok) expect(REASONS).toContain(p.reason);
        const q = parseArp(b);
        if (!q.ok) expect(REASONS).toContain(q.reason);
      }),
      { numRuns: 3000 },
    );
  });
});
