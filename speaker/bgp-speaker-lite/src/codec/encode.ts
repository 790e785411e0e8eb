/**
 * Encoder: a typed message in, its octets out, laid out as RFC 4271 §4 and the extensions say.
 *
 * Path attribute (RFC 4271 §4.3):
 * ```
 * | Attr. Flags (1) | Attr. Type Code (1) | Attr. Length (1, or 2 with Extended Length) | Value |
 *   O (0x80) optional   T (0x40) transitive   P (0x20) partial   E (0x10) extended length
 * ```
 * Flags are set per attribute: well-known ones T only, MED and MP_(UN)REACH_NLRI O only, the
 * other optional transitive ones O|T; E only when the value exceeds 255 octets. Attributes go
 * out MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1), then in ascending type code
 * (RFC 4271 §5), then unknown attributes in their given order.
 *
 * OPEN capabilities go in one Capabilities optional parameter (RFC 5492 §4), in this order:
 * Multiprotocol (one per family), Route Refresh, Extended Message, Graceful Restart, 4-octet AS,
 * unknown. Parameters longer than 255 octets use the RFC 9072 §2 extended length.
 *
 * The encoder throws {@link BgpCodecError} for values that cannot be represented (field
 * widths, address text, a message longer than the negotiated maximum).
 * @module
 */
import {
  AS_TRANS,
  AsPathSegmentCode,
  AttrFlag,
  AttrType,
  BGP_VERSION,
  CapabilityCode,
  CeaseSubcode,
  ErrorCode,
  MAX_MESSAGE_LENGTH,
  MAX_SHUTDOWN_COMMUNICATION_LENGTH,
  MessageType,
  OptionalParameterType,
} from './constants.js';
import { BgpCodecError } from './errors.js';
import { maxMessageLength } from './header.js';
import { addressLength, parseIpv4, parseIpv6 } from './prefix.js';
import type {
  Aggregator,
  AsPathSegment,
  AsPathSegmentType,
  BgpMessage,
  EncodeContext,
  MpReach,
  MpUnreach,
  NotificationMessage,
  OpenMessage,
  PathAttributes,
  Prefix,
  RouteRefreshMessage,
  UpdateMessage,
} from './types.js';

const utf8 = new TextEncoder();

/** A growable output buffer. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf[this.pos++] = v >>> 24;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Sets a 2-octet field written earlier at `at`. */
  patch16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new BgpCodecError('value-out-of-range', `${what} ${String(value)} is not an integer in 0..${max}`);
  }
  return value;
}

function ipv4Bytes(text: string, what: string): Uint8Array {
  const bytes = parseIpv4(text);
  if (bytes === undefined) throw new BgpCodecError('invalid-address', `${what} ${JSON.stringify(text)} is not an IPv4 address`);
  return bytes;
}

function ipv6Bytes(text: string, what: string): Uint8Array {
  const bytes = parseIpv6(text);
  if (bytes === undefined) throw new BgpCodecError('invalid-address', `${what} ${JSON.stringify(text)} is not an IPv6 address`);
  return bytes;
}

/** Writes one NLRI entry (RFC 4271 §4.3), clearing any bits past the prefix length. */
export function writePrefix(w: ByteWriter, prefix: Prefix): void {
  const size = addressLength(prefix.afi);
  checkUint(prefix.length, size * 8, `${prefix.afi} prefix length`);
  if (prefix.bytes.length !== size) {
    throw new BgpCodecError('invalid-prefix', `${prefix.afi} prefix holds ${prefix.bytes.length} octets, want ${size}`);
  }
  const n = (prefix.length + 7) >> 3;
  w.u8(prefix.length);
  w.bytes(prefix.bytes.subarray(0, n));
  if ((prefix.length & 7) !== 0) w.buf[w.pos - 1] = (w.buf[w.pos - 1] ?? 0) & (0xff << (8 - (prefix.length & 7)));
}

function writePrefixes(w: ByteWriter, prefixes: readonly Prefix[], afi: Prefix['afi'], where: string): void {
  for (const prefix of prefixes) {
    if (prefix.afi !== afi) throw new BgpCodecError('invalid-prefix', `${where} holds only ${afi} prefixes`);
    writePrefix(w, prefix);
  }
}

// ---------------------------------------------------------------------------------------------
// Path attributes

/** Starts an attribute; the value follows, then {@link endAttribute} with the returned mark. */
function beginAttribute(w: ByteWriter, flags: number, typeCode: number): number {
  w.u8(flags);
  w.u8(typeCode);
  w.u16(0);
  return w.pos;
}

/** Fills in the length: one octet up to 255, else the Extended Length bit and two octets (RFC 4271 §4.3). */
function endAttribute(w: ByteWriter, mark: number): void {
  const length = w.pos - mark;
  checkUint(length, 0xffff, 'path attribute length');
  const flagsAt = mark - 4;
  if (length > 255) w.buf[flagsAt] = (w.buf[flagsAt] ?? 0) | AttrFlag.EXTENDED_LENGTH;
  if (((w.buf[flagsAt] ?? 0) & AttrFlag.EXTENDED_LENGTH) !== 0) {
    w.patch16(mark - 2, length);
    return;
  }
  w.buf.copyWithin(mark - 1, mark, w.pos);
  w.buf[mark - 2] = length;
  w.pos--;
}

const SEGMENT_CODES: Record<AsPathSegmentType, number> = {
  set: AsPathSegmentCode.AS_SET,
  sequence: AsPathSegmentCode.AS_SEQUENCE,
  'confed-sequence': AsPathSegmentCode.AS_CONFED_SEQUENCE,
  'confed-set': AsPathSegmentCode.AS_CONFED_SET,
};

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPTIONAL_TRANSITIVE = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
const OPTIONAL_NON_TRANSITIVE = AttrFlag.OPTIONAL;

/** RFC 6793 §4.2.2: towards a 2-octet peer, AS numbers above 65535 become AS_TRANS. */
function narrowAsn(asn: number, fourOctet: boolean): number {
  checkUint(asn, 0xffffffff, 'AS number');
  return fourOctet || asn <= 0xffff ? asn : AS_TRANS;
}

function writeSegments(w: ByteWriter, typeCode: number, segments: readonly AsPathSegment[], fourOctet: boolean): void {
  const mark = beginAttribute(w, typeCode === AttrType.AS_PATH ? WELL_KNOWN : OPTIONAL_TRANSITIVE, typeCode);
  for (const segment of segments) {
    checkUint(segment.asns.length, 255, 'AS_PATH segment length');
    w.u8(SEGMENT_CODES[segment.type]);
    w.u8(segment.asns.length);
    for (const asn of segment.asns) {
      if (fourOctet) w.u32(checkUint(asn, 0xffffffff, 'AS number'));
      else w.u16(narrowAsn(asn, false));
    }
  }
  endAttribute(w, mark);
}

function writeAggregator(w: ByteWriter, typeCode: number, aggregator: Aggregator, fourOctet: boolean): void {
  const mark = beginAttribute(w, OPTIONAL_TRANSITIVE, typeCode);
  if (fourOctet) w.u32(checkUint(aggregator.asn, 0xffffffff, 'AGGREGATOR AS'));
  else w.u16(narrowAsn(aggregator.asn, false));
  w.bytes(ipv4Bytes(aggregator.address, 'AGGREGATOR address'));
  endAttribute(w, mark);
}

function writeU32Attribute(w: ByteWriter, flags: number, typeCode: number, value: number, what: string): void {
  const mark = beginAttribute(w, flags, typeCode);
  w.u32(checkUint(value, 0xffffffff, what));
  endAttribute(w, mark);
}

function writeMpReach(w: ByteWriter, mp: MpReach): void {
  const mark = beginAttribute(w, OPTIONAL_NON_TRANSITIVE, AttrType.MP_REACH_NLRI);
  w.u16(mp.afi === 'ipv4' ? 1 : 2);
  w.u8(1);
  if (!mp.nextHop.includes(':')) {
    // An IPv4 next hop only suits IPv4 NLRI, and has no link-local companion.
    if (mp.afi !== 'ipv4' || mp.linkLocalNextHop !== undefined) {
      throw new BgpCodecError('invalid-address', `MP_REACH_NLRI next hop ${mp.nextHop} does not suit ${mp.afi} NLRI`);
    }
    w.u8(4);
    w.bytes(ipv4Bytes(mp.nextHop, 'MP_REACH_NLRI next hop'));
  } else {
    // RFC 2545 §3: the global address, optionally followed by the link-local one.
    w.u8(mp.linkLocalNextHop === undefined ? 16 : 32);
    w.bytes(ipv6Bytes(mp.nextHop, 'MP_REACH_NLRI next hop'));
    if (mp.linkLocalNextHop !== undefined) w.bytes(ipv6Bytes(mp.linkLocalNextHop, 'MP_REACH_NLRI link-local next hop'));
  }
  w.u8(0); // Reserved (RFC 4760 §3)
  writePrefixes(w, mp.nlri, mp.afi, 'MP_REACH_NLRI');
  endAttribute(w, mark);
}

function writeMpUnreach(w: ByteWriter, mp: MpUnreach): void {
  const mark = beginAttribute(w, OPTIONAL_NON_TRANSITIVE, AttrType.MP_UNREACH_NLRI);
  w.u16(mp.afi === 'ipv4' ? 1 : 2);
  w.u8(1);
  writePrefixes(w, mp.withdrawn, mp.afi, 'MP_UNREACH_NLRI');
  endAttribute(w, mark);
}

function hasWideAsn(segments: readonly AsPathSegment[]): boolean {
  return segments.some((segment) => segment.asns.some((asn) => asn > 0xffff));
}

/** RFC 6793 §4.2.2: AS4_PATH carries the path without confederation segments. */
function as4PathOf(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.filter((segment) => segment.type === 'set' || segment.type === 'sequence');
}

/**
 * RFC 6793 §4.2.2: towards a 2-octet peer, a path or aggregator with AS numbers above 65535
 * also goes out as AS4_PATH / AS4_AGGREGATOR (unless given explicitly). Between 4-octet
 * speakers these attributes are never sent (RFC 6793 §6).
 */
function writeAs4Attributes(w: ByteWriter, attrs: PathAttributes, fourOctet: boolean): void {
  if (fourOctet) return;
  const as4Path = attrs.as4Path ?? (attrs.asPath !== undefined && hasWideAsn(attrs.asPath) ? as4PathOf(attrs.asPath) : undefined);
  // An empty AS4_PATH would be malformed (RFC 6793 §6), so none is sent.
  if (as4Path !== undefined && as4Path.length > 0) writeSegments(w, AttrType.AS4_PATH, as4Path, true);
  const as4Aggregator = attrs.as4Aggregator ?? (attrs.aggregator !== undefined && attrs.aggregator.asn > 0xffff ? attrs.aggregator : undefined);
  if (as4Aggregator !== undefined) writeAggregator(w, AttrType.AS4_AGGREGATOR, as4Aggregator, true);
}

const ORIGIN_CODES = { igp: 0, egp: 1, incomplete: 2 } as const;

function writeCommunities(w: ByteWriter, attrs: PathAttributes): void {
  if (attrs.communities !== undefined && attrs.communities.length > 0) {
    const mark = beginAttribute(w, OPTIONAL_TRANSITIVE, AttrType.COMMUNITIES);
    for (const c of attrs.communities) w.u32(checkUint(c, 0xffffffff, 'community'));
    endAttribute(w, mark);
  }
}

function writeLargeCommunities(w: ByteWriter, attrs: PathAttributes): void {
  if (attrs.largeCommunities !== undefined && attrs.largeCommunities.length > 0) {
    const mark = beginAttribute(w, OPTIONAL_TRANSITIVE, AttrType.LARGE_COMMUNITY);
    for (const [global, local1, local2] of attrs.largeCommunities) {
      w.u32(checkUint(global, 0xffffffff, 'large community global administrator'));
      w.u32(checkUint(local1, 0xffffffff, 'large community local data 1'));
      w.u32(checkUint(local2, 0xffffffff, 'large community local data 2'));
    }
    endAttribute(w, mark);
  }
}

function writeUnknown(w: ByteWriter, attrs: PathAttributes): void {
  for (const raw of attrs.unknown ?? []) {
    // Flags as received (Partial included); the length width follows the value (RFC 4271 §4.3).
    const mark = beginAttribute(w, checkUint(raw.flags, 0xff, 'attribute flags') & 0xf0, checkUint(raw.typeCode, 0xff, 'attribute type'));
    w.bytes(raw.value);
    endAttribute(w, mark);
  }
}

/** Writes all path attributes in canonical order (see the module comment). */
export function writePathAttributes(w: ByteWriter, attrs: PathAttributes, ctx: EncodeContext): void {
  if (attrs.mpReach !== undefined) writeMpReach(w, attrs.mpReach);
  if (attrs.mpUnreach !== undefined) writeMpUnreach(w, attrs.mpUnreach);
  if (attrs.origin !== undefined) {
    const mark = beginAttribute(w, WELL_KNOWN, AttrType.ORIGIN);
    w.u8(ORIGIN_CODES[attrs.origin]);
    endAttribute(w, mark);
  }
  if (attrs.asPath !== undefined) writeSegments(w, AttrType.AS_PATH, attrs.asPath, ctx.fourOctetAs);
  if (attrs.nextHop !== undefined) {
    const mark = beginAttribute(w, WELL_KNOWN, AttrType.NEXT_HOP);
    w.bytes(ipv4Bytes(attrs.nextHop, 'NEXT_HOP'));
    endAttribute(w, mark);
  }
  if (attrs.med !== undefined) writeU32Attribute(w, OPTIONAL_NON_TRANSITIVE, AttrType.MULTI_EXIT_DISC, attrs.med, 'MULTI_EXIT_DISC');
  if (attrs.localPref !== undefined) writeU32Attribute(w, WELL_KNOWN, AttrType.LOCAL_PREF, attrs.localPref, 'LOCAL_PREF');
  if (attrs.atomicAggregate === true) endAttribute(w, beginAttribute(w, WELL_KNOWN, AttrType.ATOMIC_AGGREGATE));
  if (attrs.aggregator !== undefined) writeAggregator(w, AttrType.AGGREGATOR, attrs.aggregator, ctx.fourOctetAs);
  writeCommunities(w, attrs);
  writeAs4Attributes(w, attrs, ctx.fourOctetAs);
  writeLargeCommunities(w, attrs);
  writeUnknown(w, attrs);
}

/** The path attributes alone, as they appear in an UPDATE; also the canonical form `packUpdates` groups routes by. */
export function encodePathAttributes(attrs: PathAttributes, ctx: EncodeContext): Uint8Array {
  const w = new ByteWriter(128);
  writePathAttributes(w, attrs, ctx);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Messages

function writeCapability(w: ByteWriter, code: number, write: () => void): void {
  w.u8(code);
  w.u8(0);
  const start = w.pos;
  write();
  w.buf[start - 1] = checkUint(w.pos - start, 255, `capability ${code} length`);
}

function writeCapabilities(w: ByteWriter, msg: OpenMessage): void {
  const caps = msg.capabilities;
  for (const family of caps.multiprotocol) {
    writeCapability(w, CapabilityCode.MULTIPROTOCOL, () => {
      w.u16(checkUint(family.afi, 0xffff, 'AFI'));
      w.u8(0);
      w.u8(checkUint(family.safi, 0xff, 'SAFI'));
    });
  }
  if (caps.routeRefresh) writeCapability(w, CapabilityCode.ROUTE_REFRESH, () => undefined);
  if (caps.extendedMessage) writeCapability(w, CapabilityCode.EXTENDED_MESSAGE, () => undefined);
  const gr = caps.gracefulRestart;
  if (gr !== undefined) {
    writeCapability(w, CapabilityCode.GRACEFUL_RESTART, () => {
      w.u16((gr.restartState ? 0x8000 : 0) | (gr.notification ? 0x4000 : 0) | checkUint(gr.restartTime, 0x0fff, 'restart time'));
      for (const family of gr.families) {
        w.u16(checkUint(family.afi, 0xffff, 'AFI'));
        w.u8(checkUint(family.safi, 0xff, 'SAFI'));
        w.u8(family.forwardingState ? 0x80 : 0);
      }
    });
  }
  if (caps.fourOctetAs) writeCapability(w, CapabilityCode.FOUR_OCTET_AS, () => w.u32(checkUint(msg.asn, 0xffffffff, 'AS number')));
  for (const raw of caps.unknown) writeCapability(w, checkUint(raw.code, 0xff, 'capability code'), () => w.bytes(raw.value));
}

function writeOpen(w: ByteWriter, msg: OpenMessage): void {
  checkUint(msg.asn, 0xffffffff, 'AS number');
  if (msg.asn > 0xffff && !msg.capabilities.fourOctetAs) {
    throw new BgpCodecError('value-out-of-range', `AS ${msg.asn} needs the 4-octet AS capability (RFC 6793)`);
  }
  w.u8(BGP_VERSION);
  w.u16(msg.asn > 0xffff ? AS_TRANS : msg.asn);
  w.u16(checkUint(msg.holdTime, 0xffff, 'hold time'));
  w.bytes(ipv4Bytes(msg.bgpId, 'BGP Identifier'));
  const caps = new ByteWriter(64);
  writeCapabilities(caps, msg);
  const value = caps.buf.subarray(0, caps.pos);
  if (value.length === 0) {
    w.u8(0);
  } else if (value.length + 2 <= 255) {
    w.u8(value.length + 2);
    w.u8(OptionalParameterType.CAPABILITIES);
    w.u8(value.length);
    w.bytes(value);
  } else {
    // RFC 9072 §2: Opt Parm Len 255, Non-Ext OP Type 255, 2-octet total, 2-octet parameter lengths.
    w.u8(255);
    w.u8(OptionalParameterType.EXTENDED_LENGTH);
    w.u16(checkUint(value.length + 3, 0xffff, 'optional parameters length'));
    w.u8(OptionalParameterType.CAPABILITIES);
    w.u16(value.length);
    w.bytes(value);
  }
}

function writeUpdate(w: ByteWriter, msg: UpdateMessage, ctx: EncodeContext): void {
  const withdrawnAt = w.pos;
  w.u16(0);
  writePrefixes(w, msg.withdrawn, 'ipv4', 'Withdrawn Routes');
  w.patch16(withdrawnAt, w.pos - withdrawnAt - 2);
  const attrsAt = w.pos;
  w.u16(0);
  writePathAttributes(w, msg.attributes, ctx);
  w.patch16(attrsAt, w.pos - attrsAt - 2);
  writePrefixes(w, msg.nlri, 'ipv4', 'NLRI');
}

/** Data of a Cease with a Shutdown Communication (RFC 9003 §2): a length octet, then UTF-8. */
export function shutdownCommunicationData(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  checkUint(bytes.length, MAX_SHUTDOWN_COMMUNICATION_LENGTH, 'shutdown communication length (octets)');
  const data = new Uint8Array(1 + bytes.length);
  data[0] = bytes.length;
  data.set(bytes, 1);
  return data;
}

function writeNotification(w: ByteWriter, msg: NotificationMessage): void {
  w.u8(checkUint(msg.code, 0xff, 'error code'));
  w.u8(checkUint(msg.subcode, 0xff, 'error subcode'));
  if (msg.shutdownCommunication === undefined) {
    w.bytes(msg.data);
    return;
  }
  if (msg.code !== ErrorCode.CEASE || (msg.subcode !== CeaseSubcode.ADMINISTRATIVE_SHUTDOWN && msg.subcode !== CeaseSubcode.ADMINISTRATIVE_RESET)) {
    throw new BgpCodecError('value-out-of-range', 'a shutdown communication belongs to Cease/Administrative Shutdown or Reset (RFC 9003)');
  }
  // Data already holding this communication (possibly with octets after it) goes out as is.
  const communication = shutdownCommunicationData(msg.shutdownCommunication);
  const prefix = msg.data.subarray(0, communication.length);
  w.bytes(prefix.length === communication.length && prefix.every((b, i) => b === communication[i]) ? msg.data : communication);
}

function writeRouteRefresh(w: ByteWriter, msg: RouteRefreshMessage): void {
  w.u16(checkUint(msg.afi, 0xffff, 'AFI'));
  w.u8(checkUint(msg.subtype, 0xff, 'route refresh subtype'));
  w.u8(checkUint(msg.safi, 0xff, 'SAFI'));
}

const TYPE_CODES = {
  open: MessageType.OPEN,
  update: MessageType.UPDATE,
  notification: MessageType.NOTIFICATION,
  keepalive: MessageType.KEEPALIVE,
  'route-refresh': MessageType.ROUTE_REFRESH,
} as const;

function writeBody(w: ByteWriter, msg: BgpMessage, ctx: EncodeContext): void {
  switch (msg.type) {
    case 'open':
      return writeOpen(w, msg);
    case 'update':
      return writeUpdate(w, msg, ctx);
    case 'notification':
      return writeNotification(w, msg);
    case 'route-refresh':
      return writeRouteRefresh(w, msg);
    case 'keepalive':
      return;
  }
}

/**
 * Encodes one message, header included. Throws {@link BgpCodecError} when a value does not fit
 * its field or the message exceeds the maximum length: 4096 octets, or 65535 with extended
 * messages except for OPEN and KEEPALIVE (RFC 8654 §4).
 */
export function encodeMessage(msg: BgpMessage, ctx: EncodeContext): Uint8Array {
  const w = new ByteWriter(msg.type === 'update' ? 512 : 64);
  for (let i = 0; i < 16; i++) w.u8(0xff);
  w.u16(0);
  w.u8(TYPE_CODES[msg.type]);
  writeBody(w, msg, ctx);
  const max = msg.type === 'open' || msg.type === 'keepalive' ? MAX_MESSAGE_LENGTH : maxMessageLength(ctx.extendedMessages);
  if (w.pos > max) {
    throw new BgpCodecError('message-too-long', `${msg.type} message of ${w.pos} octets exceeds the maximum of ${max}`);
  }
  w.patch16(16, w.pos);
  return w.finish();
}
