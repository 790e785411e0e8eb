/**
 * Wire format of the speakers' membership protocol (SWIM, see ADR 0006): one UDP datagram
 * per message, at most {@link MAX_DATAGRAM} bytes, authenticated with HMAC-SHA256.
 *
 * Layout (big-endian):
 * ```
 *  0      version      u8   (= 1)
 *  1      type         u8   MessageType
 *  2      flags        u8   bit 0: the sender asks for the receiver's full state (join)
 *  3      seq          u32
 *  7      from         str8 sender's member name
 *         body         by type:
 *                        ping          target name (str8; empty when the sender does not know it, on join)
 *                        ack           -
 *                        ping-req      target: name str8, address, port u16
 *                        indirect-ack  target name str8
 *                        alive|suspect|dead|leave  -  (gossip only: the updates carry the payload)
 *         count        u8   piggybacked member updates
 *         update*      state u8, incarnation u32, port u16, address, name str8, by str8
 *         tag          32   HMAC-SHA256(key, every byte above)
 * address = family u8 (4 | 6) + 4 or 16 octets;  str8 = length u8 + UTF-8 (at most 253 octets,
 * the longest Kubernetes node name).
 * ```
 * @packageDocumentation
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HeraldError } from '@herald/shared/core';
import { formatIP, parseIP } from '@herald/shared/ip';

/** Wire version; a receiver drops any other. */
export const WIRE_VERSION = 1;
/** Largest datagram produced: fits the IPv6 minimum MTU (1280) with IP and UDP headers. */
export const MAX_DATAGRAM = 1200;
/** Length of the HMAC-SHA256 tag that ends every datagram. */
export const TAG_LEN = 32;
/** Longest name on the wire, in UTF-8 octets. */
export const MAX_NAME_BYTES = 253;

export type MessageType = 'ping' | 'ack' | 'ping-req' | 'indirect-ack' | 'alive' | 'suspect' | 'dead' | 'leave';
const TYPES: readonly MessageType[] = ['ping', 'ack', 'ping-req', 'indirect-ack', 'alive', 'suspect', 'dead', 'leave'];

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** Where a member listens. `address` is canonical IPv4 or IPv6 text. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** One gossiped fact about a member. `by` names who suspects it ('' when not a suspicion). */
export interface MemberUpdate extends Endpoint {
  readonly name: string;
  readonly incarnation: number;
  readonly state: MemberState;
  readonly by: string;
}

interface Common {
  readonly seq: number;
  readonly from: string;
  /** The sender asks for our full membership (set on join). */
  readonly syncRequest: boolean;
  readonly updates: readonly MemberUpdate[];
}

export type Message =
  | (Common & { readonly type: 'ping'; readonly target: string })
  | (Common & { readonly type: 'ack' })
  | (Common & { readonly type: 'ping-req'; readonly target: string; readonly targetEndpoint: Endpoint })
  | (Common & { readonly type: 'indirect-ack'; readonly target: string })
  | (Common & { readonly type: 'alive' | 'suspect' | 'dead' | 'leave' });

/** Why a datagram was dropped; also the `reason` label of the drop counter. */
export type DropReason = 'truncated' | 'tooLarge' | 'badVersion' | 'badTag' | 'badType' | 'badField' | 'trailingBytes';
export const DROP_REASONS: readonly DropReason[] = ['truncated', 'tooLarge', 'badVersion', 'badTag', 'badType', 'badField', 'trailingBytes'];

export type DecodeResult = { readonly ok: true; readonly msg: Message } | { readonly ok: false; readonly reason: DropReason };

/** Shortest possible datagram: header with an empty name, empty body, no updates, tag. */
const MIN_LEN = 7 + 1 + 1 + TAG_LEN;

/**
 * Keys for signing and verifying. The first signs; any verifies, so a key rotates in two
 * rollouts: add the new key second, then move it first, then drop the old one (ADR 0006).
 */
export type Keys = readonly [Buffer, ...Buffer[]];

function tag(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

const nameBytes = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  if (b.length > MAX_NAME_BYTES) throw new HeraldError('Internal', `membership codec: name longer than ${MAX_NAME_BYTES} octets: ${s.slice(0, 40)}...`);
  return b;
};

function addrBytes(address: string): Buffer {
  const ip = parseIP(address);
  if (!ip) throw new HeraldError('Internal', `membership codec: not an IP address: ${address}`);
  const out = Buffer.alloc(ip.family === 4 ? 5 : 17);
  out[0] = ip.family;
  let v = ip.value;
  for (let i = out.length - 1; i >= 1; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const str8 = (s: string): Buffer => {
  const b = nameBytes(s);
  return Buffer.concat([Buffer.from([b.length]), b]);
};
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/** Encoded size of one update, for packing under the datagram bound. */
export function encodeUpdate(u: MemberUpdate): Buffer {
  const head = Buffer.alloc(7);
  head[0] = STATES.indexOf(u.state);
  head.writeUInt32BE(u.incarnation >>> 0, 1);
  head.writeUInt16BE(u.port, 5);
  return Buffer.concat([head, addrBytes(u.address), str8(u.name), str8(u.by)]);
}

function encodeHeadAndBody(msg: Message): Buffer {
  const head = Buffer.alloc(7);
  head[0] = WIRE_VERSION;
  head[1] = TYPES.indexOf(msg.type);
  head[2] = msg.syncRequest ? 1 : 0;
  head.writeUInt32BE(msg.seq >>> 0, 3);
  const parts = [head, str8(msg.from)];
  switch (msg.type) {
    case 'ping':
    case 'indirect-ack':
      parts.push(str8(msg.target));
      break;
    case 'ping-req':
      parts.push(str8(msg.target), addrBytes(msg.targetEndpoint.address), u16(msg.targetEndpoint.port));
      break;
    default:
      break;
  }
  return Buffer.concat(parts);
}

function seal(unsigned: Buffer, key: Buffer): Buffer {
  return Buffer.concat([unsigned, tag(key, unsigned)]);
}

/** Result of {@link encodeBounded}: the datagram and how many of the updates it carries. */
export interface Encoded {
  readonly bytes: Buffer;
  readonly included: number;
}

/**
 * Encodes `msg` with as many of its updates, in order, as fit in `maxBytes` (never more than
 * {@link MAX_DATAGRAM}), and signs it with `key`. Updates that do not fit are left out, so the
 * caller piggybacks them on a later message. Throws only on a programming error (a name over
 * 253 octets, an address that is not an IP); the header and one update always fit.
 */
export function encodeBounded(msg: Message, key: Buffer, maxBytes = MAX_DATAGRAM): Encoded {
  const limit = Math.min(maxBytes, MAX_DATAGRAM);
  const head = encodeHeadAndBody(msg);
  const ups: Buffer[] = [];
  let size = head.length + 1 + TAG_LEN;
  for (const u of msg.updates) {
    if (ups.length === 255) break;
    const b = encodeUpdate(u);
    if (size + b.length > limit) break;
    ups.push(b);
    size += b.length;
  }
  if (size > limit) throw new HeraldError('Internal', `membership codec: header alone exceeds ${limit} bytes`);
  return { bytes: seal(Buffer.concat([head, Buffer.from([ups.length]), ...ups]), key), included: ups.length };
}

/** Encodes `msg` whole; throws if its updates do not all fit in {@link MAX_DATAGRAM}. */
export function encode(msg: Message, key: Buffer): Buffer {
  const e = encodeBounded(msg, key);
  if (e.included !== msg.updates.length) {
    throw new HeraldError('Internal', `membership codec: ${msg.updates.length} updates do not fit in ${MAX_DATAGRAM} bytes`);
  }
  return e.bytes;
}

/** Signs arbitrary bytes as a datagram; for tests of the parser behind the tag check. */
export function signRaw(unsigned: Buffer, key: Buffer): Buffer {
  return seal(unsigned, key);
}

class Truncated extends Error {}
class BadField extends Error {}

/** A bounds-checked reader; throws {@link Truncated} past the end. */
class Reader {
  #off = 0;
  constructor(private readonly buf: Buffer) {}
  get remaining(): number {
    return this.buf.length - this.#off;
  }
  u8(): number {
    if (this.remaining < 1) throw new Truncated();
    return this.buf[this.#off++] as number;
  }
  u16(): number {
    if (this.remaining < 2) throw new Truncated();
    const v = this.buf.readUInt16BE(this.#off);
    this.#off += 2;
    return v;
  }
  u32(): number {
    if (this.remaining < 4) throw new Truncated();
    const v = this.buf.readUInt32BE(this.#off);
    this.#off += 4;
    return v;
  }
  bytes(n: number): Buffer {
    if (this.remaining < n) throw new Truncated();
    const b = this.buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return b;
  }
  str8(): string {
    const b = this.bytes(this.u8());
    const s = b.toString('utf8');
    // Invalid UTF-8 would decode to U+FFFD and re-encode differently: names must round-trip.
    if (!Buffer.from(s, 'utf8').equals(b)) throw new BadField();
    return s;
  }
  address(): string {
    const family = this.u8();
    if (family !== 4 && family !== 6) throw new BadField();
    const b = this.bytes(family === 4 ? 4 : 16);
    let v = 0n;
    for (const o of b) v = (v << 8n) | BigInt(o);
    return formatIP({ family, value: v });
  }
}

function readUpdate(r: Reader): MemberUpdate {
  const state = STATES[r.u8()];
  if (state === undefined) throw new BadField();
  const incarnation = r.u32();
  const port = r.u16();
  const address = r.address();
  const name = r.str8();
  const by = r.str8();
  return { name, address, port, incarnation, state, by };
}

function verify(bytes: Buffer, keys: readonly Buffer[]): boolean {
  const body = bytes.subarray(0, bytes.length - TAG_LEN);
  const got = bytes.subarray(bytes.length - TAG_LEN);
  let ok = false;
  // Every key is tried (no early exit), so timing does not tell which key matched.
  for (const k of keys) ok = timingSafeEqual(tag(k, body), got) || ok;
  return ok;
}

function parse(body: Buffer): DecodeResult {
  const r = new Reader(body);
  r.u8(); // version, checked by the caller
  const type = TYPES[r.u8()];
  if (type === undefined) return { ok: false, reason: 'badType' };
  const flags = r.u8();
  const seq = r.u32();
  const from = r.str8();
  const syncRequest = (flags & 1) === 1;
  let msg: Message;
  const common = { seq, from, syncRequest, updates: [] as MemberUpdate[] };
  switch (type) {
    case 'ping':
    case 'indirect-ack':
      msg = { ...common, type, target: r.str8() };
      break;
    case 'ping-req': {
      const target = r.str8();
      const address = r.address();
      msg = { ...common, type, target, targetEndpoint: { address, port: r.u16() } };
      break;
    }
    default:
      msg = { ...common, type };
  }
  const count = r.u8();
  for (let i = 0; i < count; i++) common.updates.push(readUpdate(r));
  if (r.remaining !== 0) return { ok: false, reason: 'trailingBytes' };
  return { ok: true, msg };
}

/**
 * Decodes and authenticates one datagram. Never throws: any input yields a message or a
 * {@link DropReason}. The tag is checked before the body is parsed, so nothing an
 * unauthenticated sender writes reaches the parser past the version byte.
 */
export function decode(bytes: Buffer, keys: readonly Buffer[]): DecodeResult {
  if (bytes.length > MAX_DATAGRAM) return { ok: false, reason: 'tooLarge' };
  if (bytes.length < 1) return { ok: false, reason: 'truncated' };
  // The version comes before the tag: a future version may authenticate differently, and
  // during a rolling upgrade `badVersion` says more than `badTag`.
  if (bytes[0] !== WIRE_VERSION) return { ok: false, reason: 'badVersion' };
  if (bytes.length < MIN_LEN) return { ok: false, reason: 'truncated' };
  if (!verify(bytes, keys)) return { ok: false, reason: 'badTag' };
  try {
    return parse(bytes.subarray(0, bytes.length - TAG_LEN));
  } catch (err) {
    if (err instanceof Truncated) return { ok: false, reason: 'truncated' };
    if (err instanceof BadField) return { ok: false, reason: 'badField' };
    return { ok: false, reason: 'badField' };
  }
}
