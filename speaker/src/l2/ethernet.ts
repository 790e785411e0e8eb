/**
 * Ethernet II framing (IEEE 802.3 clause 3, with the EtherType interpretation of
 * the type/length field) and one IEEE 802.1Q VLAN tag. Pure: bytes in, values
 * out, no I/O. Parsers never throw; they return `{ ok: false, reason }`.
 *
 * Wire layout (octets), without the FCS, which the NIC adds and strips:
 *
 *   0      6      12          14
 *   +------+------+-----------+---------------------+
 *   | dst  | src  | EtherType | payload (46..1500)  |
 *   +------+------+-----------+---------------------+
 *
 * 802.1Q-tagged: a 4-octet tag sits between src and the EtherType:
 *
 *   12            14                 16          18
 *   +-------------+------------------+-----------+---------+
 *   | TPID 0x8100 | PCP:3 DEI:1 VID:12| EtherType | payload |
 *   +-------------+------------------+-----------+---------+
 *
 * VLAN policy: one tag is *recognised* and reported (`vlan`), not dropped, and
 * builders can add one. Whether to answer a tagged request is the announcer's
 * decision, not the codec's, because the tag means different things by path:
 * - Linux removes the outer tag before a packet socket sees the frame (in the
 *   NIC with rx-vlan-offload, else in software on receive) and reports it in
 *   PACKET_AUXDATA. If no VLAN device claims it, a socket on the parent
 *   interface receives VLAN 100's ARP looking untagged; an untagged reply would
 *   land in the native VLAN. So the announcer must learn the tag (from the
 *   frame or from auxdata) to drop the request, or to answer with the same tag.
 * - In-line tags do arrive from capture files, TAP devices and test labs, and
 *   a sender on a parent interface must write the tag itself.
 * Stacked tags (802.1ad QinQ, or 0x8100 twice) are refused with
 * `stackedVlanTags`: a speaker on a Kubernetes node does not sit on a provider
 * bridge, and a single reported VLAN could not describe them.
 */

/** A MAC address in canonical text: six lower-case hex pairs joined by ':'. */
export type MAC = string & { readonly __brand: 'MAC' };

/** A parse result: the value, or the reason the input was refused. */
export type Parsed<T, R extends string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: R };

/** EtherTypes this package speaks (IEEE Registration Authority assignments). */
export const ETHERTYPE = {
  IPv4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QinQ: 0x88a8,
  IPv6: 0x86dd,
} as const;

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff' as MAC;
export const ZERO_MAC = '00:00:00:00:00:00' as MAC;

const HEADER_LEN = 14;
const TAG_LEN = 4;
// IEEE 802.3 4.4.2: minFrameSize is 64 octets including the 4-octet FCS, so 60
// before it. Linux pads short frames in the driver; padding here makes the bytes
// we hand to the socket the bytes on the wire, which is what golden tests pin.
const MIN_FRAME_LEN = 60;
// IEEE 802.3 3.2.6: a type/length value >= 0x0600 is an EtherType; up to 0x05DC
// (1500) it is an 802.3 length with LLC after it, which nothing here speaks, and
// the values in between are undefined.
const MIN_ETHERTYPE = 0x0600;

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Parses `aa:bb:cc:dd:ee:ff` (either case); undefined when it is not a MAC. */
export function parseMAC(s: string): MAC | undefined {
  const lower = s.toLowerCase();
  return MAC_RE.test(lower) ? (lower as MAC) : undefined;
}

/** The MAC in `bytes[offset..offset+6)`; the caller has checked the length. */
export function macFromBytes(bytes: Uint8Array, offset = 0): MAC {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':') as MAC;
}

/** Writes a MAC into `out` at `offset`. */
export function writeMAC(out: Uint8Array, offset: number, mac: MAC): void {
  for (let i = 0; i < 6; i++) out[offset + i] = parseInt(mac.slice(i * 3, i * 3 + 2), 16);
}

/** RFC 7042 2.1: the group bit is the least significant bit of the first octet. */
export function isMulticastMAC(mac: MAC): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** An 802.1Q tag: VLAN identifier, priority code point and drop-eligible indicator. */
export interface VlanTag {
  readonly id: number;
  readonly priority: number;
  readonly dropEligible: boolean;
}

export interface EthernetFrame {
  readonly dst: MAC;
  readonly src: MAC;
  /** The EtherType of the payload (the inner one when tagged). */
  readonly ethertype: number;
  /** Present when the frame carried one 802.1Q tag. */
  readonly vlan?: VlanTag;
  /** Everything after the header, including any padding to the minimum frame size. */
  readonly payload: Uint8Array;
}

export type EthernetReason = 'frameTooShort' | 'notEthernetII' | 'stackedVlanTags';

/** Parses an Ethernet II frame (without FCS). The payload is a view, not a copy. */
export function parseEthernet(frame: Uint8Array): Parsed<EthernetFrame, EthernetReason> {
  if (frame.length < HEADER_LEN) return { ok: false, reason: 'frameTooShort' };
  const dst = macFromBytes(frame, 0);
  const src = macFromBytes(frame, 6);
  let type = readU16(frame, 12);
  let offset = HEADER_LEN;
  let vlan: VlanTag | undefined;
  if (type === ETHERTYPE.QinQ) return { ok: false, reason: 'stackedVlanTags' };
  if (type === ETHERTYPE.VLAN) {
    if (frame.length < HEADER_LEN + TAG_LEN) return { ok: false, reason: 'frameTooShort' };
    const tci = readU16(frame, 14);
    // IEEE 802.1Q 9.6: PCP is the top 3 bits, DEI the next, VID the low 12.
    vlan = { id: tci & 0x0fff, priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0 };
    type = readU16(frame, 16);
    offset += TAG_LEN;
    if (type === ETHERTYPE.VLAN || type === ETHERTYPE.QinQ) return { ok: false, reason: 'stackedVlanTags' };
  }
  if (type < MIN_ETHERTYPE) return { ok: false, reason: 'notEthernetII' };
  const payload = frame.subarray(offset);
  return { ok: true, value: vlan ? { dst, src, ethertype: type, vlan, payload } : { dst, src, ethertype: type, payload } };
}

export interface EthernetFrameInput {
  readonly dst: MAC;
  readonly src: MAC;
  readonly ethertype: number;
  /** Tag the frame with this VLAN; priority and DEI default to 0. */
  readonly vlan?: { readonly id: number; readonly priority?: number; readonly dropEligible?: boolean };
  readonly payload: Uint8Array;
}

/** Builds an Ethernet II frame, padded with zeros to the 60-octet minimum. */
export function buildEthernet(f: EthernetFrameInput): Uint8Array {
  const headerLen = HEADER_LEN + (f.vlan ? TAG_LEN : 0);
  const out = new Uint8Array(Math.max(MIN_FRAME_LEN, headerLen + f.payload.length));
  writeMAC(out, 0, f.dst);
  writeMAC(out, 6, f.src);
  let offset = 12;
  if (f.vlan) {
    writeU16(out, 12, ETHERTYPE.VLAN);
    const tci = (((f.vlan.priority ?? 0) & 7) << 13) | (f.vlan.dropEligible ? 0x1000 : 0) | (f.vlan.id & 0x0fff);
    writeU16(out, 14, tci);
    offset += TAG_LEN;
  }
  writeU16(out, offset, f.ethertype);
  out.set(f.payload, headerLen);
  return out;
}

/** Big-endian (network order) 16-bit read; the caller has checked the bounds. */
export function readU16(b: Uint8Array, offset: number): number {
  return ((b[offset] ?? 0) << 8) | (b[offset + 1] ?? 0);
}

export function writeU16(b: Uint8Array, offset: number, v: number): void {
  b[offset] = (v >> 8) & 0xff;
  b[offset + 1] = v & 0xff;
}

/** Lower-case hex of bytes, for logs and golden tests. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Bytes from hex; whitespace and '|' separators are ignored (golden fixtures use them). */
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  const out = new Uint8Array(clean.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
