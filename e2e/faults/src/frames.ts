/**
 * Malformed ARP and NDP frames for fault 4, each built to fail exactly one of the checks
 * RFC 826 / RFC 4861 7.1.1 ask a receiver to make, and named after the reason the speaker
 * counts it under (`herald_l2_frames_dropped_total{protocol, reason}`). Everything else in
 * each frame is valid (checksums included), so the intended check is the one that fails.
 * Pure: bytes out, no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface GarbageFrame {
  /** Name of the malformation; also the expected drop reason unless `reason` is undefined. */
  readonly kind: string;
  readonly protocol: 'arp' | 'ndp';
  /** The reason the speaker must count it under; undefined for random frames (any reason). */
  readonly reason: string | undefined;
  readonly frame: Buffer;
}

export interface FrameAddresses {
  /** Ethernet and ARP/NDP source MAC: a MAC of nobody's, so any answer is easy to spot. */
  readonly srcMac: string;
  readonly srcIPv4: string;
  readonly srcIPv6: string;
  /** The Service IPs the speaker announces (the frames ask about them). */
  readonly targetIPv4: string;
  readonly targetIPv6: string;
}

export const macBytes = (mac: string): Buffer => Buffer.from(mac.replaceAll(':', ''), 'hex');

export function ipv4Bytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(ip.split('.').map(Number));
}

export function ipv6Bytes(ip: string): Buffer {
  if (!isIPv6(ip) || ip.includes('.')) throw new Error(`not an IPv6 address: ${ip}`);
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** RFC 4291 2.7.1: ff02::1:ff00:0/104 plus the low 24 bits of the address. */
export function solicitedNode(target: Buffer): Buffer {
  return Buffer.concat([Buffer.from('ff0200000000000000000001ff', 'hex'), target.subarray(13, 16)]);
}

/** RFC 2464 7: 33:33 and the low 32 bits of the IPv6 multicast address. */
export function multicastMac(group: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x33, 0x33]), group.subarray(12, 16)]);
}

/** RFC 4443 2.3: the one's complement sum over the IPv6 pseudo-header and the ICMPv6 message. */
export function icmpv6Checksum(src: Buffer, dst: Buffer, icmp: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  const data = Buffer.concat([pseudo, icmp, Buffer.alloc(icmp.length % 2)]);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += data.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const ethernet = (dst: Buffer, src: Buffer, type: number): Buffer => {
  const h = Buffer.alloc(14);
  dst.copy(h, 0);
  src.copy(h, 6);
  h.writeUInt16BE(type, 12);
  return h;
};

/** An ARP request (RFC 826) for `a.targetIPv4`, broadcast; `edit` breaks the 28-octet packet. */
function arp(a: FrameAddresses, edit: (p: Buffer) => Buffer = (p) => p): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE(1, 0); // hardware type Ethernet
  p.writeUInt16BE(0x0800, 2); // protocol type IPv4
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(1, 6); // request
  macBytes(a.srcMac).copy(p, 8);
  ipv4Bytes(a.srcIPv4).copy(p, 14);
  ipv4Bytes(a.targetIPv4).copy(p, 24);
  return Buffer.concat([ethernet(Buffer.alloc(6, 0xff), macBytes(a.srcMac), 0x0806), edit(p)]);
}

interface NsParts {
  hopLimit?: number;
  code?: number;
  src?: Buffer;
  target?: Buffer;
  /** The options after the 24 fixed octets (default: a source link-layer address option). */
  options?: Buffer;
  /** Replaces the ICMPv6 message (no checksum is computed then). */
  icmp?: Buffer;
  /** Added to the computed checksum (non-zero breaks it). */
  checksumDelta?: number;
  /** Added to the IPv6 payload length field. */
  lengthDelta?: number;
  version?: number;
}

/** A Neighbor Solicitation (RFC 4861 4.3) for `a.targetIPv6` to its solicited-node group, with `parts` changed. */
function ns(a: FrameAddresses, parts: NsParts = {}): Buffer {
  const src = parts.src ?? ipv6Bytes(a.srcIPv6);
  const target = parts.target ?? ipv6Bytes(a.targetIPv6);
  const dst = solicitedNode(ipv6Bytes(a.targetIPv6));
  const sll = Buffer.concat([Buffer.from([1, 1]), macBytes(a.srcMac)]);
  let icmp = parts.icmp;
  if (icmp === undefined) {
    icmp = Buffer.concat([Buffer.from([135, parts.code ?? 0, 0, 0, 0, 0, 0, 0]), target, parts.options ?? sll]);
    icmp.writeUInt16BE((icmpv6Checksum(src, dst, icmp) + (parts.checksumDelta ?? 0)) & 0xffff, 2);
  }
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(((parts.version ?? 6) << 28) >>> 0, 0);
  ip.writeUInt16BE(icmp.length + (parts.lengthDelta ?? 0), 4);
  ip[6] = 58;
  ip[7] = parts.hopLimit ?? 255;
  src.copy(ip, 8);
  dst.copy(ip, 24);
  return Buffer.concat([ethernet(multicastMac(dst), macBytes(a.srcMac), 0x86dd), ip, icmp]);
}

/** The well-formed request of each protocol, which the owner answers: the baseline the malformed ones break. */
export function validFrames(a: FrameAddresses): { arp: Buffer; ndp: Buffer } {
  return { arp: arp(a), ndp: ns(a) };
}

/** One frame of each deterministic malformation. */
export function garbageFrames(a: FrameAddresses): GarbageFrame[] {
  const f = (kind: string, protocol: 'arp' | 'ndp', frame: Buffer): GarbageFrame => ({ kind, protocol, reason: kind, frame });
  const set = (off: number, v: number, bytes = 2) => (p: Buffer): Buffer => {
    if (bytes === 2) p.writeUInt16BE(v, off);
    else p[off] = v;
    return p;
  };
  return [
    f('arpTooShort', 'arp', arp(a, (p) => p.subarray(0, 20))),
    f('badHardwareType', 'arp', arp(a, set(0, 6))),
    f('badProtocolType', 'arp', arp(a, set(2, 0x86dd))),
    f('badHardwareLength', 'arp', arp(a, set(4, 8, 1))),
    f('badProtocolLength', 'arp', arp(a, set(5, 16, 1))),
    f('unknownOperation', 'arp', arp(a, set(6, 9))),
    // A jumbo-sized frame of the same kind: the trailing octets must not matter.
    { kind: 'oversizedUnknownOperation', protocol: 'arp', reason: 'unknownOperation', frame: arp(a, (p) => Buffer.concat([set(6, 3)(p), Buffer.alloc(1472, 0xa5)])) },
    f('badHopLimit', 'ndp', ns(a, { hopLimit: 64 })),
    f('badCode', 'ndp', ns(a, { code: 1 })),
    f('badChecksum', 'ndp', ns(a, { checksumDelta: 1 })),
    f('icmpTooShort', 'ndp', ns(a, { icmp: Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]) })),
    f('ipv6Truncated', 'ndp', ns(a, { lengthDelta: 100 })),
    f('notIPv6', 'ndp', ns(a, { version: 4 })),
    f('zeroLengthOption', 'ndp', ns(a, { options: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]) })),
    f('truncatedOption', 'ndp', ns(a, { options: Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]) })),
    f('badLinkLayerOption', 'ndp', ns(a, { options: Buffer.concat([Buffer.from([1, 2]), macBytes(a.srcMac), Buffer.alloc(8)]) })),
    f('multicastTarget', 'ndp', ns(a, { target: ipv6Bytes('ff02::1') })),
    f('unspecifiedSourceWithLinkLayerOption', 'ndp', ns(a, { src: Buffer.alloc(16) })),
  ];
}

/**
 * A random frame the speaker's sockets will receive: ARP with a random payload, or IPv6 that
 * passes the speaker's kernel filter (next header 58, ICMPv6 type 135) with the rest random.
 */
export function randomFrame(a: FrameAddresses, random: (n: number) => Buffer): GarbageFrame {
  const pick = random(3);
  const len = 1 + (pick.readUInt16BE(1) % 300);
  const src = macBytes(a.srcMac);
  if ((pick[0] ?? 0) % 2 === 0) {
    return { kind: 'randomArp', protocol: 'arp', reason: undefined, frame: Buffer.concat([ethernet(Buffer.alloc(6, 0xff), src, 0x0806), random(len)]) };
  }
  const body = random(40 + len);
  body[6] = 58;
  body[40] = 135;
  return { kind: 'randomNdp', protocol: 'ndp', reason: undefined, frame: Buffer.concat([ethernet(multicastMac(solicitedNode(ipv6Bytes(a.targetIPv6))), src, 0x86dd), body]) };
}
