/**
 * IPv6 Neighbor Discovery, the part an L2 announcer needs: receive Neighbor
 * Solicitations, send solicited and unsolicited Neighbor Advertisements
 * (RFC 4861), with the ICMPv6 checksum of RFC 4443 2.3 over the RFC 8200 8.1
 * pseudo-header, and RFC 4291 2.7.1 solicited-node multicast. Pure: no I/O;
 * parsers never throw.
 *
 * IPv6 header (RFC 8200 3), 40 octets:
 *
 *   0    4                      8       10     11      12        28        40
 *   +----+----------------------+--------+------+-------+---------+---------+
 *   |ver6| traffic class, flow  |pay. len|next 58|hop 255| source  | dest    |
 *   +----+----------------------+--------+------+-------+---------+---------+
 *
 * Neighbor Solicitation (RFC 4861 4.3) / Advertisement (4.4), the ICMPv6 body:
 *
 *   0      1      2         4                  8                 24
 *   +------+------+---------+------------------+-----------------+---------+
 *   | type | code | checksum| NS: reserved     | target address  | options |
 *   | 135/ |  0   |         | NA: R S O + 29   |   (16 octets)   |  ...    |
 *   | 136  |      |         |  reserved bits   |                 |         |
 *   +------+------+---------+------------------+-----------------+---------+
 *
 * Options (4.6): type (1 octet), length in units of 8 octets (1 octet), data.
 * Source/Target Link-Layer Address (4.6.1) on Ethernet: type 1/2, length 1, MAC
 * (RFC 2464 8).
 */
import type { IP } from '@herald/shared/ip';
import {
  ETHERTYPE,
  buildEthernet,
  isMulticastMAC,
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

/** An IPv6 address (the shared IP type, narrowed to family 6). */
export type IPv6 = IP & { readonly family: 6 };

export function isIPv6(ip: IP): ip is IPv6 {
  return ip.family === 6;
}

export interface NeighborSolicitation {
  readonly source: IPv6;
  readonly destination: IPv6;
  readonly target: IPv6;
  /** The Source Link-Layer Address option, when present. */
  readonly sourceLinkLayer?: MAC;
}

export interface NeighborAdvertisement {
  readonly source: IPv6;
  readonly destination: IPv6;
  readonly target: IPv6;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  /** The Target Link-Layer Address option, when present. */
  readonly targetLinkLayer?: MAC;
}

export type NdpReason =
  | 'ipv6TooShort'
  | 'notIPv6'
  | 'ipv6Truncated'
  | 'notICMPv6'
  | 'notNeighborSolicitation'
  | 'notNeighborAdvertisement'
  | 'badHopLimit'
  | 'badCode'
  | 'badChecksum'
  | 'icmpTooShort'
  | 'multicastTarget'
  | 'unspecifiedSourceNotToSolicitedNode'
  | 'unspecifiedSourceWithLinkLayerOption'
  | 'solicitedToMulticast'
  | 'zeroLengthOption'
  | 'truncatedOption'
  | 'badLinkLayerOption';

const IPV6_HEADER_LEN = 40;
const NEXT_HEADER_ICMPV6 = 58; // IANA protocol number for IPv6-ICMP
const ICMP_NS = 135;
const ICMP_NA = 136;
const NDP_MIN_LEN = 24; // RFC 4861 7.1.1 / 7.1.2: "ICMP length ... is 24 or more octets"
const OPT_SOURCE_LL = 1;
const OPT_TARGET_LL = 2;
// RFC 4861 3.1: every ND message is sent with hop limit 255, and a receiver that
// sees less knows it crossed a router, i.e. came from off-link.
const ND_HOP_LIMIT = 255;

const MASK128 = (1n << 128n) - 1n;
const MULTICAST_PREFIX = 0xffn << 120n; // ff00::/8 (RFC 4291 2.7)
const SOLICITED_NODE_PREFIX = 0xff0200000000000000000001ff000000n; // ff02::1:ff00:0/104 (RFC 4291 2.7.1)
const SOLICITED_NODE_MASK = MASK128 ^ 0xffffffn;
/** ff02::1, the link-local all-nodes group (RFC 4291 2.7.1). */
export const ALL_NODES: IPv6 = { family: 6, value: 0xff020000000000000000000000000001n };
/** ::, the unspecified address (RFC 4291 2.5.2). */
export const UNSPECIFIED: IPv6 = { family: 6, value: 0n };

export function isMulticastIPv6(ip: IPv6): boolean {
  return (ip.value & MULTICAST_PREFIX) === MULTICAST_PREFIX;
}

/** RFC 4291 2.7.1: ff02::1:ff00:0/104 with the low 24 bits of `ip`. */
export function solicitedNodeMulticast(ip: IPv6): IPv6 {
  return { family: 6, value: SOLICITED_NODE_PREFIX | (ip.value & 0xffffffn) };
}

function isSolicitedNodeMulticast(ip: IPv6): boolean {
  return (ip.value & SOLICITED_NODE_MASK) === SOLICITED_NODE_PREFIX;
}

/** RFC 2464 7: an IPv6 multicast address maps to 33:33 and its low 32 bits. */
export function multicastMAC(ip: IPv6): MAC {
  const b = new Uint8Array(6);
  b[0] = 0x33;
  b[1] = 0x33;
  writeIPv6Low32(b, 2, ip.value);
  return macFromBytes(b);
}

function writeIPv6Low32(b: Uint8Array, offset: number, v: bigint): void {
  const low = Number(v & 0xffffffffn);
  b[offset] = (low >>> 24) & 0xff;
  b[offset + 1] = (low >>> 16) & 0xff;
  b[offset + 2] = (low >>> 8) & 0xff;
  b[offset + 3] = low & 0xff;
}

function readIPv6(b: Uint8Array, offset: number): IPv6 {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[offset + i] ?? 0);
  return { family: 6, value: v };
}

function writeIPv6(b: Uint8Array, offset: number, ip: IPv6): void {
  for (let i = 0; i < 4; i++) writeIPv6Low32(b, offset + 12 - i * 4, (ip.value & MASK128) >> BigInt(i * 32));
}

/**
 * RFC 4443 2.3: the 16-bit one's complement of the one's complement sum of the
 * RFC 8200 8.1 pseudo-header (source, destination, upper-layer length as 32
 * bits, three zero octets, next header) and the ICMPv6 message. Over a message
 * whose checksum field is filled in, a correct checksum makes this return 0.
 */
export function icmpv6Checksum(source: IPv6, destination: IPv6, icmp: Uint8Array): number {
  const pseudo = new Uint8Array(40);
  writeIPv6(pseudo, 0, source);
  writeIPv6(pseudo, 16, destination);
  writeIPv6Low32(pseudo, 32, BigInt(icmp.length));
  pseudo[39] = NEXT_HEADER_ICMPV6;
  let sum = onesSum(pseudo, 0) + onesSum(icmp, 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function onesSum(b: Uint8Array, sum: number): number {
  for (let i = 0; i + 1 < b.length; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  // RFC 1071 4.1: an odd trailing octet is padded with a zero octet on the right.
  if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  // Fold as we go so that the running sum stays a small integer.
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

interface Icmpv6 {
  readonly source: IPv6;
  readonly destination: IPv6;
  readonly body: Uint8Array;
}

/**
 * The common part of RFC 4861 7.1.1 and 7.1.2: an IPv6 packet with no extension
 * headers carrying ICMPv6 of type `type`, hop limit 255, code 0, a correct
 * checksum and at least 24 octets. Extension headers are refused (`notICMPv6`):
 * ND messages are sent without them in practice, and walking them is a
 * parsing surface an announcer does not need.
 */
function parseNdIcmp(p: Uint8Array, type: number): Parsed<Icmpv6, NdpReason> {
  if (p.length < IPV6_HEADER_LEN) return { ok: false, reason: 'ipv6TooShort' };
  if ((p[0] ?? 0) >> 4 !== 6) return { ok: false, reason: 'notIPv6' };
  const payloadLen = readU16(p, 4);
  // The payload length bounds the message; Ethernet padding after it is ignored.
  // 0 means a jumbogram (RFC 2675), which needs a hop-by-hop header: not ND.
  if (payloadLen === 0 || p.length < IPV6_HEADER_LEN + payloadLen) return { ok: false, reason: 'ipv6Truncated' };
  if (p[6] !== NEXT_HEADER_ICMPV6) return { ok: false, reason: 'notICMPv6' };
  const body = p.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + payloadLen);
  if (body[0] !== type) return { ok: false, reason: type === ICMP_NS ? 'notNeighborSolicitation' : 'notNeighborAdvertisement' };
  if (p[7] !== ND_HOP_LIMIT) return { ok: false, reason: 'badHopLimit' };
  if (body[1] !== 0) return { ok: false, reason: 'badCode' };
  if (body.length < NDP_MIN_LEN) return { ok: false, reason: 'icmpTooShort' };
  const source = readIPv6(p, 8);
  const destination = readIPv6(p, 24);
  if (icmpv6Checksum(source, destination, body) !== 0) return { ok: false, reason: 'badChecksum' };
  return { ok: true, value: { source, destination, body } };
}

/**
 * Walks the options from `offset` (RFC 4861 4.6) and returns the link-layer
 * address option of type `want`, if any. Unknown options are skipped (RFC 4861
 * 4.6: "Receivers MUST silently ignore any options they do not recognize").
 */
function findLinkLayerOption(body: Uint8Array, offset: number, want: number): Parsed<MAC | undefined, NdpReason> {
  let found: MAC | undefined;
  let i = offset;
  while (i < body.length) {
    if (i + 2 > body.length) return { ok: false, reason: 'truncatedOption' };
    const optType = body[i] ?? 0;
    const len = (body[i + 1] ?? 0) * 8;
    // RFC 4861 7.1.1/7.1.2: "All included options have a length that is greater than zero."
    if (len === 0) return { ok: false, reason: 'zeroLengthOption' };
    if (i + len > body.length) return { ok: false, reason: 'truncatedOption' };
    if (optType === want) {
      // RFC 2464 8: on Ethernet the option is exactly 8 octets.
      if (len !== 8) return { ok: false, reason: 'badLinkLayerOption' };
      found = macFromBytes(body, i + 2);
    }
    i += len;
  }
  return { ok: true, value: found };
}

/** Parses and validates an IPv6 packet carrying a Neighbor Solicitation (RFC 4861 7.1.1). */
export function parseNeighborSolicitation(p: Uint8Array): Parsed<NeighborSolicitation, NdpReason> {
  const icmp = parseNdIcmp(p, ICMP_NS);
  if (!icmp.ok) return icmp;
  const { source, destination, body } = icmp.value;
  const target = readIPv6(body, 8);
  if (isMulticastIPv6(target)) return { ok: false, reason: 'multicastTarget' };
  const sll = findLinkLayerOption(body, NDP_MIN_LEN, OPT_SOURCE_LL);
  if (!sll.ok) return sll;
  if (source.value === 0n) {
    // A DAD probe (RFC 4862 5.4.2): it must go to a solicited-node group and, having
    // no address to bind it to, must not carry a link-layer address.
    if (!isSolicitedNodeMulticast(destination)) return { ok: false, reason: 'unspecifiedSourceNotToSolicitedNode' };
    if (sll.value !== undefined) return { ok: false, reason: 'unspecifiedSourceWithLinkLayerOption' };
  }
  const ns = { source, destination, target };
  return { ok: true, value: sll.value === undefined ? ns : { ...ns, sourceLinkLayer: sll.value } };
}

/** Parses and validates an IPv6 packet carrying a Neighbor Advertisement (RFC 4861 7.1.2). */
export function parseNeighborAdvertisement(p: Uint8Array): Parsed<NeighborAdvertisement, NdpReason> {
  const icmp = parseNdIcmp(p, ICMP_NA);
  if (!icmp.ok) return icmp;
  const { source, destination, body } = icmp.value;
  const target = readIPv6(body, 8);
  if (isMulticastIPv6(target)) return { ok: false, reason: 'multicastTarget' };
  const flags = body[4] ?? 0;
  const solicited = (flags & 0x40) !== 0;
  // RFC 4861 7.1.2: "If the IP Destination Address is a multicast address the Solicited flag is zero."
  if (solicited && isMulticastIPv6(destination)) return { ok: false, reason: 'solicitedToMulticast' };
  const tll = findLinkLayerOption(body, NDP_MIN_LEN, OPT_TARGET_LL);
  if (!tll.ok) return tll;
  const na = { source, destination, target, router: (flags & 0x80) !== 0, solicited, override: (flags & 0x20) !== 0 };
  return { ok: true, value: tll.value === undefined ? na : { ...na, targetLinkLayer: tll.value } };
}

function encodeNd(source: IPv6, destination: IPv6, type: number, flags: number, target: IPv6, optType: number, mac: MAC | undefined): Uint8Array {
  const icmpLen = NDP_MIN_LEN + (mac === undefined ? 0 : 8);
  const p = new Uint8Array(IPV6_HEADER_LEN + icmpLen);
  p[0] = 0x60; // version 6, traffic class 0, flow label 0
  writeU16(p, 4, icmpLen);
  p[6] = NEXT_HEADER_ICMPV6;
  p[7] = ND_HOP_LIMIT;
  writeIPv6(p, 8, source);
  writeIPv6(p, 24, destination);
  const body = p.subarray(IPV6_HEADER_LEN);
  body[0] = type;
  body[4] = flags;
  writeIPv6(body, 8, target);
  if (mac !== undefined) {
    body[24] = optType;
    body[25] = 1;
    writeMAC(body, 26, mac);
  }
  writeU16(body, 2, icmpv6Checksum(source, destination, body));
  return p;
}

/** Encodes a Neighbor Solicitation as an IPv6 packet (hop limit 255, checksum filled in). */
export function encodeNeighborSolicitation(ns: NeighborSolicitation): Uint8Array {
  return encodeNd(ns.source, ns.destination, ICMP_NS, 0, ns.target, OPT_SOURCE_LL, ns.sourceLinkLayer);
}

/** Encodes a Neighbor Advertisement as an IPv6 packet (hop limit 255, checksum filled in). */
export function encodeNeighborAdvertisement(na: NeighborAdvertisement): Uint8Array {
  const flags = (na.router ? 0x80 : 0) | (na.solicited ? 0x40 : 0) | (na.override ? 0x20 : 0);
  return encodeNd(na.source, na.destination, ICMP_NA, flags, na.target, OPT_TARGET_LL, na.targetLinkLayer);
}

/**
 * The advertisement answering `ns` for an address we announce (RFC 4861 7.2.4):
 * - unspecified source (a DAD probe for our address): S=0, to all-nodes ff02::1,
 *   which is how RFC 4862 5.4.3 defends an address;
 * - otherwise S=1, unicast to the solicitation's source;
 * - O=1: the speaker that owns the address is authoritative for it, and a
 *   failover must replace the old owner's cache entries;
 * - R=0: the speaker answers as a host, not a router;
 * - the Target Link-Layer Address option is always included (7.2.4 makes it
 *   mandatory for multicast solicitations and optional otherwise; including it
 *   costs 8 octets and lets the requester skip another exchange).
 * The IPv6 source is the target itself, as Linux does for its own addresses
 * (ndisc_send_na); RFC 4861 7.2.4 only asks for an address of the interface,
 * and the announced address is one, in effect.
 */
export function solicitedAdvertisement(ns: NeighborSolicitation, ownMAC: MAC): NeighborAdvertisement {
  const dad = ns.source.value === 0n;
  return {
    source: ns.target,
    destination: dad ? ALL_NODES : ns.source,
    target: ns.target,
    router: false,
    solicited: !dad,
    override: true,
    targetLinkLayer: ownMAC,
  };
}

/**
 * An unsolicited advertisement announcing `target` at `ownMAC` (RFC 4861 7.2.6):
 * to all-nodes, S=0, O=1 so that receivers replace a stale entry (a failover),
 * with the Target Link-Layer Address option.
 */
export function unsolicitedAdvertisement(target: IPv6, ownMAC: MAC): NeighborAdvertisement {
  return { source: target, destination: ALL_NODES, target, router: false, solicited: false, override: true, targetLinkLayer: ownMAC };
}

export interface NeighborSolicitationFrame {
  readonly ethernet: EthernetFrame;
  readonly ns: NeighborSolicitation;
}

/** Parses an Ethernet frame carrying a Neighbor Solicitation. */
export function parseNeighborSolicitationFrame(
  frame: Uint8Array,
): Parsed<NeighborSolicitationFrame, EthernetReason | NdpReason | 'notIPv6Frame'> {
  const eth = parseEthernet(frame);
  if (!eth.ok) return eth;
  if (eth.value.ethertype !== ETHERTYPE.IPv6) return { ok: false, reason: 'notIPv6Frame' };
  const ns = parseNeighborSolicitation(eth.value.payload);
  if (!ns.ok) return ns;
  return { ok: true, value: { ethernet: eth.value, ns: ns.value } };
}

/**
 * Frames an advertisement. A multicast destination maps to its RFC 2464 7 MAC
 * and `peerMAC` is not used; a unicast one goes to `peerMAC` (the solicitation's
 * Source Link-Layer Address option, or failing that its Ethernet source: see
 * `peerMACOf`).
 */
export function advertisementFrame(na: NeighborAdvertisement, ownMAC: MAC, peerMAC: MAC, vlan?: VlanTag): Uint8Array {
  const dst = isMulticastIPv6(na.destination) ? multicastMAC(na.destination) : peerMAC;
  const payload = encodeNeighborAdvertisement(na);
  return buildEthernet(vlan ? { dst, src: ownMAC, ethertype: ETHERTYPE.IPv6, vlan, payload } : { dst, src: ownMAC, ethertype: ETHERTYPE.IPv6, payload });
}

/**
 * Where to send a unicast answer to `f`: RFC 4861 7.2.3 makes the Source
 * Link-Layer Address option authoritative; without it, the Ethernet source
 * (unless that is a group address, which no host sends from).
 */
export function peerMACOf(f: NeighborSolicitationFrame): MAC | undefined {
  if (f.ns.sourceLinkLayer !== undefined) return f.ns.sourceLinkLayer;
  return isMulticastMAC(f.ethernet.src) ? undefined : f.ethernet.src;
}

/** Why a received solicitation gets no advertisement. */
export type NdpIgnoreReason = 'notOwned' | 'noPeerAddress';

export type NdpAnswer = { readonly frame: Uint8Array } | { readonly frame: undefined; readonly reason: NdpIgnoreReason };

/** Decides whether to answer a solicitation and, if so, frames the advertisement. */
export function answerNeighborSolicitation(f: NeighborSolicitationFrame, ownMAC: MAC, owns: (ip: IPv6) => boolean): NdpAnswer {
  if (!owns(f.ns.target)) return { frame: undefined, reason: 'notOwned' };
  const na = solicitedAdvertisement(f.ns, ownMAC);
  // A DAD answer is multicast and needs no peer address.
  const peer = isMulticastIPv6(na.destination) ? ownMAC : peerMACOf(f);
  if (peer === undefined) return { frame: undefined, reason: 'noPeerAddress' };
  return { frame: advertisementFrame(na, ownMAC, peer, f.ethernet.vlan) };
}

/** An unsolicited advertisement frame for `target`, to all-nodes (33:33:00:00:00:01). */
export function unsolicitedAdvertisementFrame(target: IPv6, ownMAC: MAC, vlan?: VlanTag): Uint8Array {
  // The destination is multicast, so the peer MAC argument is not used.
  return advertisementFrame(unsolicitedAdvertisement(target, ownMAC), ownMAC, ownMAC, vlan);
}
