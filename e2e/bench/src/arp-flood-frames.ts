/**
 * The ARP frames of the arp-flood bench, built and read by hand (the speaker's codec is
 * internal to its package), and the matching of replies to requests. Pure.
 *
 * RFC 826 over Ethernet: dst(6) src(6) type 0x0806 (2), then htype 1 (2), ptype 0x0800 (2),
 * hlen 6, plen 4, op (2: 1 request, 2 reply), sha(6) spa(4) tha(6) tpa(4): 42 octets.
 *
 * Each request carries its own sender hardware address, `02:a7:` and the request's slot
 * number (32 bits): a responder, the speaker as the Linux kernel, unicasts its reply to that
 * address (RFC 826), so the reply names the request it answers.
 */

export const ARP_FRAME_LENGTH = 42;
const ETHERTYPE_ARP = 0x0806;
const OP_REQUEST = 1;
const OP_REPLY = 2;
/** Locally administered, unicast: the first octet's low two bits are 1 (local) and 0 (unicast). */
const SLOT_MAC_PREFIX = [0x02, 0xa7] as const;

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':').map((h) => Number.parseInt(h, 16));
  if (parts.length !== 6 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from(parts);
}

export const macText = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** The sender hardware address that names request slot `slot` (0 <= slot < 2^32). */
export function slotMac(slot: number): Buffer {
  const b = Buffer.alloc(6);
  b[0] = SLOT_MAC_PREFIX[0];
  b[1] = SLOT_MAC_PREFIX[1];
  b.writeUInt32BE(slot >>> 0, 2);
  return b;
}

/** The slot a MAC names, or undefined for any other MAC. */
export function macSlot(mac: Uint8Array, offset = 0): number | undefined {
  if (mac[offset] !== SLOT_MAC_PREFIX[0] || mac[offset + 1] !== SLOT_MAC_PREFIX[1]) return undefined;
  return Buffer.from(mac.buffer, mac.byteOffset + offset + 2, 4).readUInt32BE(0);
}

/**
 * A broadcast ARP request "who has `targetIp`? tell `senderIp`", from slot `slot`'s MAC
 * (Ethernet source and ARP sender hardware address alike, as a host would send it).
 * Returns a frame to reuse: {@link setSlot} rewrites only the two MACs.
 */
export function arpRequest(senderIp: string, targetIp: string, slot: number): Buffer {
  const f = Buffer.alloc(ARP_FRAME_LENGTH);
  f.fill(0xff, 0, 6);
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(OP_REQUEST, 20);
  ipv4Bytes(senderIp).copy(f, 28);
  // tha (32..37) stays zero: unknown, RFC 826.
  ipv4Bytes(targetIp).copy(f, 38);
  setSlot(f, slot);
  return f;
}

/** Rewrites a request frame's Ethernet source and sender hardware address for `slot`. */
export function setSlot(frame: Buffer, slot: number): void {
  const mac = slotMac(slot);
  mac.copy(frame, 6);
  mac.copy(frame, 22);
}

export interface ArpReply {
  readonly senderMac: string;
  readonly senderIp: string;
  /** The slot named by the target hardware address, if it is one of ours. */
  readonly slot: number | undefined;
}

/** Reads an Ethernet/IPv4 ARP reply; undefined for anything else. */
export function parseArpReply(f: Uint8Array): ArpReply | undefined {
  if (f.length < ARP_FRAME_LENGTH) return undefined;
  const b = Buffer.from(f.buffer, f.byteOffset, f.length);
  if (b.readUInt16BE(12) !== ETHERTYPE_ARP || b.readUInt16BE(14) !== 1 || b.readUInt16BE(16) !== 0x0800 || b[18] !== 6 || b[19] !== 4) return undefined;
  if (b.readUInt16BE(20) !== OP_REPLY) return undefined;
  return { senderMac: macText(b.subarray(22, 28)), senderIp: [...b.subarray(28, 32)].join('.'), slot: macSlot(b, 32) };
}

/**
 * Matches replies to requests by slot: request i uses slot `i % slots`, so a slot comes round
 * every `slots / rate` seconds. A reply is credited to the latest request of its slot sent at
 * or before it arrived that has no reply yet; one that finds none is a duplicate (or came
 * after its slot was reused: later than `slots / rate`).
 */
export class ReplyMatcher {
  readonly sentAt: Float64Array;
  readonly latencyMs: Float64Array;
  #sent = 0;
  #answered = 0;
  #unmatched = 0;

  constructor(
    readonly total: number,
    readonly slots: number,
  ) {
    this.sentAt = new Float64Array(total);
    this.latencyMs = new Float64Array(total).fill(Number.NaN);
  }

  get sent(): number {
    return this.#sent;
  }
  get answered(): number {
    return this.#answered;
  }
  get unmatched(): number {
    return this.#unmatched;
  }

  /** Records request number `sent` as sent at `at` (ms); returns its slot. */
  sentOne(at: number): number {
    const i = this.#sent++;
    this.sentAt[i] = at;
    return i % this.slots;
  }

  /** A reply naming `slot` arrived at `at` (ms). */
  reply(slot: number, at: number): void {
    // The latest request of this slot: the highest i < sent with i % slots == slot.
    const last = this.#sent - 1;
    let i = last - ((((last - slot) % this.slots) + this.slots) % this.slots);
    for (; i >= 0; i -= this.slots) {
      if ((this.sentAt[i] ?? Infinity) > at) continue;
      if (Number.isNaN(this.latencyMs[i] ?? 0)) {
        this.latencyMs[i] = at - (this.sentAt[i] ?? at);
        this.#answered++;
        return;
      }
      break;
    }
    this.#unmatched++;
  }

  /** Latencies of the answered requests, in ms. */
  latencies(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#sent; i++) {
      const l = this.latencyMs[i] ?? Number.NaN;
      if (!Number.isNaN(l)) out.push(l);
    }
    return out;
  }
}
