/**
 * What the scripted BGP peer of fault 4 sends each connection our speaker opens to it, and
 * what it expects back. RFC 4271 6: an error in a received message is answered with a
 * NOTIFICATION naming it, then the connection is closed. Pure.
 */
import { encodeMessage } from 'bgp-speaker-lite';

const MARKER = Buffer.alloc(16, 0xff);

/** Per connection, the peer plays the next of these (per remote address, in order). */
export type JunkVariant = 'noise' | 'badLength' | 'badType' | 'badVersion' | 'badUpdate' | 'flood' | 'truncated' | 'silent';

export const JUNK_VARIANTS: readonly JunkVariant[] = ['noise', 'badLength', 'badType', 'badVersion', 'badUpdate', 'flood', 'truncated', 'silent'];

/**
 * The NOTIFICATION (code, subcode) each variant must earn; absent: the connection just ends.
 * RFC 4271 6.1: bad marker = Connection Not Synchronized (1/1), length < 19 = Bad Message
 * Length (1/2), unknown type = Bad Message Type (1/3); 6.2: version = Unsupported Version
 * Number (2/1); 6.3: withdrawn routes length past the message = Malformed Attribute List (3/1).
 */
export const EXPECTED_NOTIFICATION: Partial<Record<JunkVariant, readonly [number, number]>> = {
  noise: [1, 1],
  badLength: [1, 2],
  badType: [1, 3],
  badVersion: [2, 1],
  badUpdate: [3, 1],
  flood: [1, 1],
};

export function header(length: number, type: number): Buffer {
  const h = Buffer.alloc(19);
  MARKER.copy(h);
  h.writeUInt16BE(length, 16);
  h[18] = type;
  return h;
}

/** A valid OPEN (IPv4 and IPv6 unicast, 4-octet AS) from `asn`. */
export function open(asn: number, bgpId: string): Buffer {
  return Buffer.from(
    encodeMessage(
      { type: 'open', asn, holdTime: 90, bgpId, capabilities: { multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], routeRefresh: true, extendedMessage: false, fourOctetAs: true, unknown: [] } },
      { fourOctetAs: false, extendedMessages: false },
    ),
  );
}

export const KEEPALIVE = header(19, 4);

/** Random bytes that cannot start with the marker. */
export function noise(random: (n: number) => Buffer, n: number): Buffer {
  const b = random(n);
  b[0] = 0;
  return b;
}

/** What to write first on a new connection of `variant` (`badUpdate` writes more later). */
export function firstBytes(variant: JunkVariant, asn: number, bgpId: string, random: (n: number) => Buffer): Buffer {
  switch (variant) {
    case 'noise':
      return noise(random, 64);
    case 'badLength':
      return header(5, 1);
    case 'badType':
      return header(19, 9);
    case 'badVersion': {
      const o = open(asn, bgpId);
      o[19] = 3;
      return o;
    }
    case 'badUpdate':
      return Buffer.concat([open(asn, bgpId), KEEPALIVE]);
    case 'flood':
      return noise(random, 256 * 1024);
    case 'truncated':
      return Buffer.concat([header(4096, 2), random(10)]);
    case 'silent':
      return Buffer.alloc(0);
  }
}

/** An UPDATE whose Withdrawn Routes Length (65535) runs past the message. */
export const BAD_UPDATE = Buffer.concat([header(23, 2), Buffer.from([0xff, 0xff, 0, 0])]);

/** One message header read from the speaker. */
export interface Received {
  readonly type: number;
  /** For a NOTIFICATION. */
  readonly code?: number;
  readonly subcode?: number;
}

/** Cuts complete messages off the front of `buf`; returns them and what is left. Stops at anything that is not a message. */
export function readMessages(buf: Buffer): { messages: Received[]; rest: Buffer; bad: boolean } {
  const messages: Received[] = [];
  let off = 0;
  while (buf.length - off >= 19) {
    if (!buf.subarray(off, off + 16).equals(MARKER)) return { messages, rest: buf.subarray(off), bad: true };
    const len = buf.readUInt16BE(off + 16);
    if (len < 19) return { messages, rest: buf.subarray(off), bad: true };
    if (buf.length - off < len) break;
    const type = buf[off + 18] ?? 0;
    messages.push(type === 3 ? { type, code: buf[off + 19] ?? 0, subcode: buf[off + 20] ?? 0 } : { type });
    off += len;
  }
  return { messages, rest: buf.subarray(off), bad: false };
}

/** One connection as the scripted peer reports it. */
export interface JunkConnection {
  readonly remote: string;
  readonly variant: JunkVariant;
  /** Message types the speaker sent (1 OPEN, 2 UPDATE, 3 NOTIFICATION, 4 KEEPALIVE). */
  readonly received: readonly number[];
  readonly notifications: readonly (readonly [number, number])[];
  readonly ms: number;
}

/** Connections whose variant expects a NOTIFICATION the speaker did not send (or sent another). */
export function unexpected(conns: readonly JunkConnection[]): JunkConnection[] {
  return conns.filter((c) => {
    const want = EXPECTED_NOTIFICATION[c.variant];
    if (want === undefined) return false;
    return !c.notifications.some(([code, sub]) => code === want[0] && sub === want[1]);
  });
}
