/**
 * ARP for Ethernet and IPv4 (RFC 826), with the probe and announcement semantics
 * of RFC 5227. Pure: no I/O; parsers never throw.
 *
 * RFC 826 packet layout for Ethernet/IPv4 (28 octets, after the Ethernet header):
 *
 *   0        2        4     5     6        8         14        18        24        28
 *   +--------+--------+-----+-----+--------+---------+---------+---------+---------+
 *   | ar$hrd | ar$pro |ar$hln|ar$pln| ar$op | ar$sha  | ar$spa  | ar$tha  | ar$tpa  |
 *   | 0x0001 | 0x0800 |  6  |  4  | 1 or 2 | 6 octets| 4 octets| 6 octets| 4 octets|
 *   +--------+--------+-----+-----+--------+---------+---------+---------+---------+
 */
import type { IP } from '@herald/shared/ip';
import {
  BROADCAST_MAC,
  ETHERTYPE,
  ZERO_MAC,
  buildEthernet,
  macFromBytes,
  parseEthernet,
  readU16,
  writeMAC,
  writeU16,
  type EthernetFrame,
  type EthernetReason,
  type MAC,
  type Parsed,
  type VlanTag,
} from './ethernet.js';

/** An IPv4 address (the shared IP type, narrowed to family 4). */
export type IPv4 = IP & { readonly family: 4 };

export function isIPv4(ip: IP): ip is IPv4 {
  return ip.family === 4;
}

export type ArpOperation = 'request' | 'reply';

export interface ArpPacket {
  readonly operation: ArpOperation;
  readonly senderMAC: MAC;
  readonly senderIP: IPv4;
  readonly targetMAC: MAC;
  readonly targetIP: IPv4;
}

export type ArpReason =
  | 'arpTooShort'
  | 'badHardwareType'
  | 'badProtocolType'
  | 'badHardwareLength'
  | 'badProtocolLength'
  | 'unknownOperation';

const ARP_LEN = 28;
// RFC 826 "Packet format"; the values are IANA's ARP parameters registry.
const HTYPE_ETHERNET = 1;
const OP_REQUEST = 1;
const OP_REPLY = 2;

function readIPv4(b: Uint8Array, offset: number): IPv4 {
  const v = ((b[offset] ?? 0) * 2 ** 24 + ((b[offset + 1] ?? 0) << 16) + ((b[offset + 2] ?? 0) << 8) + (b[offset + 3] ?? 0));
  return { family: 4, value: BigInt(v) };
}

function writeIPv4(b: Uint8Array, offset: number, ip: IPv4): void {
  const v = Number(ip.value & 0xffffffffn);
  b[offset] = (v >>> 24) & 0xff;
  b[offset + 1] = (v >>> 16) & 0xff;
  b[offset + 2] = (v >>> 8) & 0xff;
  b[offset + 3] = v & 0xff;
}

/**
 * Parses an ARP packet (the Ethernet payload). Trailing octets (Ethernet padding)
 * are ignored. Only Ethernet/IPv4 is accepted: RFC 826 lets a receiver check
 * ar$hrd/ar$pro/ar$hln/ar$pln and drop what it does not speak.
 */
export function parseArp(b: Uint8Array): Parsed<ArpPacket, ArpReason> {
  if (b.length < ARP_LEN) return { ok: false, reason: 'arpTooShort' };
  if (readU16(b, 0) !== HTYPE_ETHERNET) return { ok: false, reason: 'badHardwareType' };
  if (readU16(b, 2) !== ETHERTYPE.IPv4) return { ok: false, reason: 'badProtocolType' };
  if (b[4] !== 6) return { ok: false, reason: 'badHardwareLength' };
  if (b[5] !== 4) return { ok: false, reason: 'badProtocolLength' };
  const op = readU16(b, 6);
  // RFC 826 defines only request and reply; RARP (RFC 903) and InARP (RFC 2390)
  // opcodes are other protocols and not for us.
  if (op !== OP_REQUEST && op !== OP_REPLY) return { ok: false, reason: 'unknownOperation' };
  return {
    ok: true,
    value: {
      operation: op === OP_REQUEST ? 'request' : 'reply',
      senderMAC: macFromBytes(b, 8),
      senderIP: readIPv4(b, 14),
      targetMAC: macFromBytes(b, 18),
      targetIP: readIPv4(b, 24),
    },
  };
}

/** Encodes the 28-octet ARP packet. */
export function encodeArp(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  writeU16(b, 0, HTYPE_ETHERNET);
  writeU16(b, 2, ETHERTYPE.IPv4);
  b[4] = 6;
  b[5] = 4;
  writeU16(b, 6, p.operation === 'request' ? OP_REQUEST : OP_REPLY);
  writeMAC(b, 8, p.senderMAC);
  writeIPv4(b, 14, p.senderIP);
  writeMAC(b, 18, p.targetMAC);
  writeIPv4(b, 24, p.targetIP);
  return b;
}

export interface ArpFrame {
  readonly ethernet: EthernetFrame;
  readonly arp: ArpPacket;
}

/** Parses an Ethernet frame carrying ARP. */
export function parseArpFrame(frame: Uint8Array): Parsed<ArpFrame, EthernetReason | ArpReason | 'notArp'> {
  const eth = parseEthernet(frame);
  if (!eth.ok) return eth;
  if (eth.value.ethertype !== ETHERTYPE.ARP) return { ok: false, reason: 'notArp' };
  const arp = parseArp(eth.value.payload);
  if (!arp.ok) return arp;
  return { ok: true, value: { ethernet: eth.value, arp: arp.value } };
}

/**
 * The reply to a request (RFC 826 "Packet Reception"): swap the sender fields into
 * the target fields, put our hardware address in as sender, set the opcode to
 * reply. The target fields are the requester's, so the reply also answers an
 * RFC 5227 probe (sender IP 0.0.0.0): the prober sees a packet whose sender IP is
 * the address it wanted and backs off, which is how an address is defended.
 */
export function arpReply(request: ArpPacket, ownMAC: MAC): ArpPacket {
  return {
    operation: 'reply',
    senderMAC: ownMAC,
    senderIP: request.targetIP,
    targetMAC: request.senderMAC,
    targetIP: request.senderIP,
  };
}

/**
 * An RFC 5227 section 3 ARP Announcement for `ip`: a request with sender IP ==
 * target IP and target hardware address zero (2.1.1: "SHOULD be set to all
 * zeroes"), broadcast. Receivers that have `ip` in their cache update it to `mac`
 * (RFC 826: the merge step runs before the opcode is looked at); an announcement
 * is chosen over a gratuitous reply because every stack processes requests.
 */
export function gratuitousArp(ip: IPv4, mac: MAC): ArpPacket {
  return { operation: 'request', senderMAC: mac, senderIP: ip, targetMAC: ZERO_MAC, targetIP: ip };
}

/** An ARP packet in an Ethernet frame from `src` to `dst` (RFC 894 framing, padded). */
export function arpFrame(p: ArpPacket, src: MAC, dst: MAC, vlan?: VlanTag): Uint8Array {
  const payload = encodeArp(p);
  return buildEthernet(vlan ? { dst, src, ethertype: ETHERTYPE.ARP, vlan, payload } : { dst, src, ethertype: ETHERTYPE.ARP, payload });
}

/** A gratuitous ARP (announcement) frame, broadcast. */
export function gratuitousArpFrame(ip: IPv4, mac: MAC, vlan?: VlanTag): Uint8Array {
  return arpFrame(gratuitousArp(ip, mac), mac, BROADCAST_MAC, vlan);
}

/** Why a received ARP packet gets no reply. */
export type ArpIgnoreReason = 'notRequest' | 'announcement' | 'notOwned';

export type ArpAnswer = { readonly reply: ArpPacket } | { readonly reply: undefined; readonly reason: ArpIgnoreReason };

/**
 * Decides whether to answer `p`, given which IPv4 addresses this node announces.
 * A request for an owned address gets a reply; the reply goes back unicast to
 * the requester's hardware address (`arpFrame(reply, ownMAC, reply.targetMAC)`).
 */
export function answerArp(p: ArpPacket, ownMAC: MAC, owns: (ip: IPv4) => boolean): ArpAnswer {
  if (p.operation !== 'request') return { reply: undefined, reason: 'notRequest' };
  // RFC 5227 3: an announcement (sender IP == target IP) asks for nothing; replying
  // to another host's announcement of our address would only fight over it.
  if (p.senderIP.value === p.targetIP.value) return { reply: undefined, reason: 'announcement' };
  if (!owns(p.targetIP)) return { reply: undefined, reason: 'notOwned' };
  return { reply: arpReply(p, ownMAC) };
}

export type ArpFrameAnswer = { readonly frame: Uint8Array } | { readonly frame: undefined; readonly reason: ArpIgnoreReason };

/**
 * `answerArp` on a received frame, framing the reply: unicast to the requester's
 * hardware address (RFC 826), on the VLAN the request came in on.
 */
export function answerArpFrame(f: ArpFrame, ownMAC: MAC, owns: (ip: IPv4) => boolean): ArpFrameAnswer {
  const a = answerArp(f.arp, ownMAC, owns);
  if (a.reply === undefined) return { frame: undefined, reason: a.reason };
  return { frame: arpFrame(a.reply, ownMAC, a.reply.targetMAC, f.ethernet.vlan) };
}
