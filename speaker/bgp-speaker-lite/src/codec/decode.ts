/**
 * Decoder: one complete message's octets in, a typed message or the RFC 4271 §6 / RFC 7606
 * outcome out. Pure; never throws on any input.
 *
 * OPEN (RFC 4271 §4.2; RFC 9072 §2 extended parameter lengths; RFC 5492 §4 capabilities):
 * ```
 * | Version (1) | My Autonomous System (2) | Hold Time (2) | BGP Identifier (4) |
 * | Opt Parm Len (1) | Optional Parameters: { Parm. Type (1) | Parm. Length (1) | Value } ... |
 * RFC 9072: Opt Parm Len = 255, then | Non-Ext OP Type = 255 | Extended Opt. Parm. Length (2) |
 *           and each parameter is { Parm. Type (1) | Parm. Length (2) | Value }
 * Capability (RFC 5492 §4): | Capability Code (1) | Capability Length (1) | Capability Value |
 *   Multiprotocol (code 1, RFC 4760 §8):  | AFI (2) | Reserved (1) | SAFI (1) |
 *   Route Refresh (code 2, RFC 2918 §2):  empty
 *   Extended Message (code 6, RFC 8654 §3): empty
 *   Graceful Restart (code 64, RFC 4724 §3): | R N 0 0 | Restart Time (12 bits) |
 *                                            then per family | AFI (2) | SAFI (1) | F 0000000 |
 *   4-octet AS (code 65, RFC 6793 §3):    | AS number (4) |
 * ```
 * UPDATE (RFC 4271 §4.3):
 * ```
 * | Withdrawn Routes Length (2) | Withdrawn Routes (variable) |
 * | Total Path Attribute Length (2) | Path Attributes (variable) | NLRI (variable) |
 * Path attribute: | Attr. Flags (1) | Attr. Type Code (1) | Length (1, or 2 if Extended Length) | Value |
 *   flags: O (0x80) optional, T (0x40) transitive, P (0x20) partial, E (0x10) extended length
 * AS_PATH segment: | Segment Type (1) | Segment Length in ASes (1) | ASes (2 or 4 octets each) |
 * MP_REACH_NLRI (RFC 4760 §3): | AFI (2) | SAFI (1) | Next Hop Length (1) | Next Hop | Reserved (1) | NLRI |
 * MP_UNREACH_NLRI (RFC 4760 §4): | AFI (2) | SAFI (1) | Withdrawn Routes |
 * ```
 * NOTIFICATION (RFC 4271 §4.5), Cease/2 and Cease/4 data (RFC 9003 §2):
 * ```
 * | Error code (1) | Error subcode (1) | Data: | Length (1) | Shutdown Communication (UTF-8) | |
 * ```
 * ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3.2): | AFI (2) | Subtype (1) | SAFI (1) |
 *
 * Error handling of UPDATEs follows RFC 7606: per-attribute approaches (§7), attribute flags
 * and duplicate attributes (§3), attribute length overrun (§4), NLRI syntax (§5.3), and the
 * strongest approach wins when several errors occur (§3).
 * @module
 */
import {
  AttrFlag,
  AttrType,
  BGP_VERSION,
  CapabilityCode,
  CeaseSubcode,
  ErrorCode,
  HEADER_LENGTH,
  MessageHeaderSubcode,
  MessageType,
  OpenMessageSubcode,
  OptionalParameterType,
  ROUTE_REFRESH_LENGTH,
  RouteRefreshSubcode,
  UpdateMessageSubcode,
} from './constants.js';
import { checkHeader, markerIntact, maxMessageLength, notification } from './header.js';
import { formatIpv4, formatIpv6, readPrefixes } from './prefix.js';
import type {
  Afi,
  AsPathSegment,
  AsPathSegmentType,
  AttributeError,
  AttributeErrorReason,
  Capabilities,
  DecodeContext,
  DecodeResult,
  DecodeSessionReset,
  Family,
  LargeCommunity,
  NotificationMessage,
  Origin,
  PathAttributes,
  Prefix,
  SessionResetReason,
  UpdateMessage,
} from './types.js';

// RFC 9003 §2: invalid UTF-8 must not be interpreted, so decode strictly; keep a leading BOM as text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function u8(b: Uint8Array, o: number): number {
  return b[o] ?? 0;
}
function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) * 0x1000000 + (((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0));
}

function sessionReset(
  reason: SessionResetReason,
  note: NotificationMessage,
  errors: AttributeError[] = [],
  family?: Family,
): DecodeSessionReset {
  const result: DecodeSessionReset = { ok: false, outcome: 'session-reset', reason, notification: note, errors };
  if (family !== undefined) result.family = family;
  return result;
}

/**
 * Decodes one complete message (header included). `bytes` must hold exactly one message, as
 * the {@link MessageFramer} cuts them. Never throws: malformed input yields the RFC 4271 §6
 * NOTIFICATION to send, or for UPDATEs the RFC 7606 outcome.
 */
export function decodeMessage(bytes: Uint8Array, ctx: DecodeContext): DecodeResult {
  if (bytes.length < HEADER_LENGTH) {
    if (!markerIntact(bytes, 0, bytes.length)) {
      return sessionReset(
        'connection-not-synchronized',
        notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.CONNECTION_NOT_SYNCHRONIZED),
      );
    }
    const data = new Uint8Array([bytes.length >> 8, bytes.length & 0xff]);
    return sessionReset('bad-message-length', notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.BAD_MESSAGE_LENGTH, data));
  }
  const header = checkHeader(bytes, 0, maxMessageLength(ctx.extendedMessages));
  if (!header.ok) return sessionReset(header.reason, header.notification);
  if (header.length !== bytes.length) {
    const data = bytes.slice(16, 18);
    return sessionReset('bad-message-length', notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.BAD_MESSAGE_LENGTH, data));
  }
  switch (header.type) {
    case MessageType.OPEN:
      return decodeOpen(bytes, header.length);
    case MessageType.UPDATE:
      return decodeUpdate(bytes, header.length, ctx);
    case MessageType.NOTIFICATION:
      return decodeNotification(bytes, header.length);
    case MessageType.KEEPALIVE:
      return { ok: true, outcome: 'ok', message: { type: 'keepalive' } };
    default:
      return decodeRouteRefresh(bytes, header.length);
  }
}

// ---------------------------------------------------------------------------------------------
// OPEN

function openError(reason: SessionResetReason, subcode: number, data?: Uint8Array): DecodeSessionReset {
  return sessionReset(reason, notification(ErrorCode.OPEN_MESSAGE_ERROR, subcode, data));
}

/** RFC 4271 §6.2: a recognized but malformed optional parameter gets subcode 0 (Unspecific). */
function malformedOpen(reason: SessionResetReason): DecodeSessionReset {
  return openError(reason, OpenMessageSubcode.UNSPECIFIC);
}

interface CapabilityState {
  caps: Capabilities;
  asn4: number | undefined;
}

function readGracefulRestart(b: Uint8Array, start: number, length: number, state: CapabilityState): boolean {
  if (length < 2 || (length - 2) % 4 !== 0) return false;
  const word = u16(b, start);
  const families: Array<Family & { forwardingState: boolean }> = [];
  for (let p = start + 2; p < start + length; p += 4) {
    families.push({ afi: u16(b, p), safi: u8(b, p + 2), forwardingState: (u8(b, p + 3) & 0x80) !== 0 });
  }
  state.caps.gracefulRestart = {
    restartState: (word & 0x8000) !== 0,
    notification: (word & 0x4000) !== 0,
    restartTime: word & 0x0fff,
    families,
  };
  return true;
}

/** One capability; false when a capability this codec knows has the wrong length. */
function readCapability(b: Uint8Array, code: number, start: number, length: number, state: CapabilityState): boolean {
  const caps = state.caps;
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      if (length !== 4) return false;
      caps.multiprotocol.push({ afi: u16(b, start), safi: u8(b, start + 3) });
      return true;
    case CapabilityCode.ROUTE_REFRESH:
      caps.routeRefresh = true;
      return length === 0;
    case CapabilityCode.EXTENDED_MESSAGE:
      caps.extendedMessage = true;
      return length === 0;
    case CapabilityCode.GRACEFUL_RESTART:
      return readGracefulRestart(b, start, length, state);
    case CapabilityCode.FOUR_OCTET_AS:
      state.asn4 = u32(b, start);
      return length === 4;
    default:
      caps.unknown.push({ code, value: b.slice(start, start + length) });
      return true;
  }
}

function readCapabilities(b: Uint8Array, start: number, end: number, state: CapabilityState): boolean {
  let p = start;
  while (p < end) {
    if (end - p < 2) return false;
    const code = u8(b, p);
    const length = u8(b, p + 1);
    if (p + 2 + length > end) return false;
    if (!readCapability(b, code, p + 2, length, state)) return false;
    p += 2 + length;
  }
  return true;
}

/** Walks the optional parameters (RFC 4271 §4.2, RFC 9072 §2); returns an error or undefined. */
function readOptionalParameters(b: Uint8Array, length: number, state: CapabilityState): DecodeSessionReset | undefined {
  let p = 29;
  let wide = false;
  const optLength = u8(b, 28);
  if (optLength === 255 && length > 29 && u8(b, 29) === OptionalParameterType.EXTENDED_LENGTH) {
    if (length < 32 || 32 + u16(b, 30) !== length) return malformedOpen('malformed-optional-parameters');
    p = 32;
    wide = true;
  } else if (29 + optLength !== length) {
    return malformedOpen('malformed-optional-parameters');
  }
  const headerLength = wide ? 3 : 2;
  while (p < length) {
    if (length - p < headerLength) return malformedOpen('malformed-optional-parameters');
    const type = u8(b, p);
    const paramLength = wide ? u16(b, p + 1) : u8(b, p + 1);
    const start = p + headerLength;
    if (start + paramLength > length) return malformedOpen('malformed-optional-parameters');
    if (type !== OptionalParameterType.CAPABILITIES) {
      return openError('unsupported-optional-parameter', OpenMessageSubcode.UNSUPPORTED_OPTIONAL_PARAMETER);
    }
    if (!readCapabilities(b, start, start + paramLength, state)) return malformedOpen('malformed-capability');
    p = start + paramLength;
  }
  return undefined;
}

function decodeOpen(b: Uint8Array, length: number): DecodeResult {
  if (u8(b, 19) !== BGP_VERSION) {
    // RFC 4271 §6.2: Data is the 2-octet version we support.
    return openError('unsupported-version', OpenMessageSubcode.UNSUPPORTED_VERSION_NUMBER, new Uint8Array([0, BGP_VERSION]));
  }
  const myAs = u16(b, 20);
  const holdTime = u16(b, 22);
  const bgpId = u32(b, 24);
  // RFC 7607 §2: AS 0 in OPEN is Bad Peer AS.
  if (myAs === 0) return openError('bad-peer-as', OpenMessageSubcode.BAD_PEER_AS);
  // RFC 4271 §6.2: a Hold Time of one or two seconds is rejected.
  if (holdTime === 1 || holdTime === 2) return openError('unacceptable-hold-time', OpenMessageSubcode.UNACCEPTABLE_HOLD_TIME);
  // RFC 6286 §2.2: the BGP Identifier is a non-zero 4-octet value.
  if (bgpId === 0) return openError('bad-bgp-identifier', OpenMessageSubcode.BAD_BGP_IDENTIFIER);
  const state: CapabilityState = {
    caps: { multiprotocol: [], routeRefresh: false, extendedMessage: false, fourOctetAs: false, unknown: [] },
    asn4: undefined,
  };
  const error = readOptionalParameters(b, length, state);
  if (error !== undefined) return error;
  if (state.asn4 === 0) return openError('bad-peer-as', OpenMessageSubcode.BAD_PEER_AS);
  state.caps.fourOctetAs = state.asn4 !== undefined;
  return {
    ok: true,
    outcome: 'ok',
    // RFC 6793 §4.1: a NEW speaker takes the peer's AS from the capability.
    message: { type: 'open', asn: state.asn4 ?? myAs, holdTime, bgpId: formatIpv4(b, 24), capabilities: state.caps },
  };
}

// ---------------------------------------------------------------------------------------------
// NOTIFICATION, ROUTE-REFRESH

/** RFC 9003 §2: the Shutdown Communication, or undefined when absent, overrunning or not UTF-8. */
function readShutdownCommunication(data: Uint8Array): string | undefined {
  const length = data[0];
  if (length === undefined || length === 0 || 1 + length > data.length) return undefined;
  try {
    return utf8.decode(data.subarray(1, 1 + length));
  } catch {
    // Invalid UTF-8 is expected input here: RFC 9003 §2 says not to interpret it; the raw data stays in `data`.
    return undefined;
  }
}

function decodeNotification(b: Uint8Array, length: number): DecodeResult {
  const code = u8(b, 19);
  const subcode = u8(b, 20);
  const data = b.slice(21, length);
  const message: NotificationMessage = { type: 'notification', code, subcode, data };
  if (code === ErrorCode.CEASE && (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET)) {
    const text = readShutdownCommunication(data);
    if (text !== undefined) message.shutdownCommunication = text;
  }
  return { ok: true, outcome: 'ok', message };
}

function decodeRouteRefresh(b: Uint8Array, length: number): DecodeResult {
  if (length !== ROUTE_REFRESH_LENGTH) {
    // RFC 7313 §5: the Data field carries the complete ROUTE-REFRESH message.
    return sessionReset(
      'invalid-route-refresh-length',
      notification(ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, b.slice(0, length)),
    );
  }
  return { ok: true, outcome: 'ok', message: { type: 'route-refresh', afi: u16(b, 19), subtype: u8(b, 21), safi: u8(b, 22) } };
}

// ---------------------------------------------------------------------------------------------
// UPDATE

const SEVERITY_NONE = 0;
const SEVERITY_DISCARD = 1;
const SEVERITY_WITHDRAW = 2;

interface UpdateState {
  ctx: DecodeContext;
  attrs: PathAttributes;
  errors: AttributeError[];
  severity: number;
  reset: DecodeSessionReset | undefined;
  seen: Uint8Array;
}

function discard(s: UpdateState, typeCode: number, reason: AttributeErrorReason): void {
  s.errors.push({ typeCode, action: 'attribute-discard', reason });
  if (s.severity < SEVERITY_DISCARD) s.severity = SEVERITY_DISCARD;
}

function withdraw(s: UpdateState, typeCode: number, reason: AttributeErrorReason): void {
  s.errors.push({ typeCode, action: 'treat-as-withdraw', reason });
  s.severity = SEVERITY_WITHDRAW;
}

function updateError(s: UpdateState, reason: SessionResetReason, subcode: number, data?: Uint8Array, family?: Family): void {
  s.reset = sessionReset(reason, notification(ErrorCode.UPDATE_MESSAGE_ERROR, subcode, data), s.errors, family);
}

const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];
const SEGMENT_TYPES: readonly AsPathSegmentType[] = ['set', 'sequence', 'confed-sequence', 'confed-set'];

type SegmentsResult = AsPathSegment[] | 'malformed' | 'as-zero';

/** RFC 7606 §7.2: malformed on an unknown segment type, a zero-length segment, overrun or a lone trailing octet. */
function readSegments(b: Uint8Array, start: number, end: number, asnSize: 2 | 4): SegmentsResult {
  const segments: AsPathSegment[] = [];
  let zero = false;
  let p = start;
  while (p < end) {
    if (end - p < 2) return 'malformed';
    const type = SEGMENT_TYPES[u8(b, p) - 1];
    const count = u8(b, p + 1);
    if (type === undefined || count === 0 || p + 2 + count * asnSize > end) return 'malformed';
    const asns: number[] = new Array<number>(count);
    for (let i = 0, q = p + 2; i < count; i++, q += asnSize) {
      const asn = asnSize === 4 ? u32(b, q) : u16(b, q);
      if (asn === 0) zero = true;
      asns[i] = asn;
    }
    segments.push({ type, asns });
    p += 2 + count * asnSize;
  }
  // RFC 7607 §2: AS 0 in a path makes the attribute malformed.
  return zero ? 'as-zero' : segments;
}

type AttributeHandler = (s: UpdateState, b: Uint8Array, attrStart: number, start: number, length: number, flags: number) => void;

function readOrigin(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.1
  if (length !== 1) return withdraw(s, AttrType.ORIGIN, 'bad-length');
  const origin = ORIGINS[u8(b, start)];
  if (origin === undefined) return withdraw(s, AttrType.ORIGIN, 'invalid-value');
  s.attrs.origin = origin;
}

function readAsPath(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.2, RFC 6793 §4 (2- or 4-octet AS numbers by negotiation)
  const result = readSegments(b, start, start + length, s.ctx.fourOctetAs ? 4 : 2);
  if (result === 'malformed') return withdraw(s, AttrType.AS_PATH, 'malformed-as-path');
  if (result === 'as-zero') return withdraw(s, AttrType.AS_PATH, 'as-zero');
  s.attrs.asPath = result;
}

function readNextHop(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.3
  if (length !== 4) return withdraw(s, AttrType.NEXT_HOP, 'bad-length');
  s.attrs.nextHop = formatIpv4(b, start);
}

function readMed(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.4
  if (length !== 4) return withdraw(s, AttrType.MULTI_EXIT_DISC, 'bad-length');
  s.attrs.med = u32(b, start);
}

function readLocalPref(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.5
  if (length !== 4) return withdraw(s, AttrType.LOCAL_PREF, 'bad-length');
  s.attrs.localPref = u32(b, start);
}

function readAtomicAggregate(s: UpdateState, _b: Uint8Array, _a: number, _start: number, length: number): void {
  // RFC 7606 §7.6
  if (length !== 0) return discard(s, AttrType.ATOMIC_AGGREGATE, 'bad-length');
  s.attrs.atomicAggregate = true;
}

function readAggregator(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.7: 6 octets, or 8 with 4-octet AS numbers; RFC 7607 §2: AS 0 is malformed.
  const size = s.ctx.fourOctetAs ? 8 : 6;
  if (length !== size) return discard(s, AttrType.AGGREGATOR, 'bad-length');
  const asn = size === 8 ? u32(b, start) : u16(b, start);
  if (asn === 0) return discard(s, AttrType.AGGREGATOR, 'as-zero');
  s.attrs.aggregator = { asn, address: formatIpv4(b, start + size - 4) };
}

function readCommunities(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 7606 §7.8: a non-zero multiple of 4
  if (length === 0 || length % 4 !== 0) return withdraw(s, AttrType.COMMUNITIES, 'bad-length');
  const communities: number[] = new Array<number>(length / 4);
  for (let i = 0; i < communities.length; i++) communities[i] = u32(b, start + 4 * i);
  s.attrs.communities = communities;
}

function readLargeCommunities(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 8092 §6: a non-zero multiple of 12; §5: duplicates are removed silently.
  if (length === 0 || length % 12 !== 0) return withdraw(s, AttrType.LARGE_COMMUNITY, 'bad-length');
  const seen = new Set<string>();
  const out: LargeCommunity[] = [];
  for (let p = start; p < start + length; p += 12) {
    const value: LargeCommunity = [u32(b, p), u32(b, p + 4), u32(b, p + 8)];
    const key = `${value[0]}:${value[1]}:${value[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(value);
  }
  s.attrs.largeCommunities = out;
}

function readAs4Path(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 6793 §6: not used between NEW speakers; malformed ones (shorter than one AS, bad
  // segments) are discarded; confederation segments are dropped from it.
  if (s.ctx.fourOctetAs) return discard(s, AttrType.AS4_PATH, 'as4-attribute-from-new-speaker');
  const result = length < 6 ? 'malformed' : readSegments(b, start, start + length, 4);
  if (result === 'malformed') return discard(s, AttrType.AS4_PATH, 'malformed-as-path');
  if (result === 'as-zero') return discard(s, AttrType.AS4_PATH, 'as-zero');
  const plain = result.filter((seg) => seg.type === 'sequence' || seg.type === 'set');
  if (plain.length < result.length) discard(s, AttrType.AS4_PATH, 'confed-segment-in-as4-path');
  if (plain.length > 0) s.attrs.as4Path = plain;
}

function readAs4Aggregator(s: UpdateState, b: Uint8Array, _a: number, start: number, length: number): void {
  // RFC 6793 §6, as for AS4_PATH.
  if (s.ctx.fourOctetAs) return discard(s, AttrType.AS4_AGGREGATOR, 'as4-attribute-from-new-speaker');
  if (length !== 8) return discard(s, AttrType.AS4_AGGREGATOR, 'bad-length');
  const asn = u32(b, start);
  if (asn === 0) return discard(s, AttrType.AS4_AGGREGATOR, 'as-zero');
  s.attrs.as4Aggregator = { asn, address: formatIpv4(b, start + 4) };
}

/** IPv4/IPv6 unicast, the families this codec parses; undefined for the rest. */
function unicastAfi(afi: number, safi: number): Afi | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : undefined;
}

function keepRaw(s: UpdateState, b: Uint8Array, flags: number, typeCode: number, start: number, length: number): void {
  // RFC 4271 §4.3: the low four flag bits are unused and ignored on receipt.
  (s.attrs.unknown ??= []).push({ flags: flags & 0xf0, typeCode, value: b.slice(start, start + length) });
}

/** RFC 4760 §7 / RFC 7606 §7.11: MP attribute errors reset the session (or disable the AFI/SAFI). */
function mpError(s: UpdateState, reason: SessionResetReason, b: Uint8Array, attrStart: number, end: number, family?: Family): void {
  updateError(s, reason, UpdateMessageSubcode.OPTIONAL_ATTRIBUTE_ERROR, b.slice(attrStart, end), family);
}

function nextHopLengthValid(afi: Afi, length: number): boolean {
  // RFC 2545 §3: 16 or 32 octets for IPv6; RFC 8950 §3 allows the same for IPv4 NLRI.
  return length === 16 || length === 32 || (afi === 'ipv4' && length === 4);
}

function readMpReach(s: UpdateState, b: Uint8Array, attrStart: number, start: number, length: number, flags: number): void {
  const end = start + length;
  if (length < 5) return mpError(s, 'malformed-mp-reach', b, attrStart, end);
  const family: Family = { afi: u16(b, start), safi: u8(b, start + 2) };
  const nextHopLength = u8(b, start + 3);
  if (5 + nextHopLength > length) return mpError(s, 'malformed-mp-reach', b, attrStart, end, family);
  const afi = unicastAfi(family.afi, family.safi);
  if (afi === undefined) return keepRaw(s, b, flags, AttrType.MP_REACH_NLRI, start, length);
  if (!nextHopLengthValid(afi, nextHopLength)) return mpError(s, 'malformed-mp-reach', b, attrStart, end, family);
  const nlri: Prefix[] = [];
  // The Reserved octet after the next hop is ignored on receipt (RFC 4760 §3).
  if (!readPrefixes(b, start + 5 + nextHopLength, end, afi, nlri)) return mpError(s, 'malformed-mp-reach', b, attrStart, end, family);
  const nh = start + 4;
  s.attrs.mpReach =
    nextHopLength === 4
      ? { afi, nextHop: formatIpv4(b, nh), nlri }
      : nextHopLength === 16
        ? { afi, nextHop: formatIpv6(b, nh), nlri }
        : { afi, nextHop: formatIpv6(b, nh), linkLocalNextHop: formatIpv6(b, nh + 16), nlri };
}

function readMpUnreach(s: UpdateState, b: Uint8Array, attrStart: number, start: number, length: number, flags: number): void {
  const end = start + length;
  if (length < 3) return mpError(s, 'malformed-mp-unreach', b, attrStart, end);
  const family: Family = { afi: u16(b, start), safi: u8(b, start + 2) };
  const afi = unicastAfi(family.afi, family.safi);
  if (afi === undefined) return keepRaw(s, b, flags, AttrType.MP_UNREACH_NLRI, start, length);
  const withdrawn: Prefix[] = [];
  if (!readPrefixes(b, start + 3, end, afi, withdrawn)) return mpError(s, 'malformed-mp-unreach', b, attrStart, end, family);
  s.attrs.mpUnreach = { afi, withdrawn };
}

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPTIONAL_TRANSITIVE = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
const OPTIONAL_NON_TRANSITIVE = AttrFlag.OPTIONAL;

/** Handler and expected Optional/Transitive bits (RFC 4271 §5, RFC 4760, RFC 6793, RFC 1997, RFC 8092) per type code. */
const HANDLERS: ReadonlyMap<number, { read: AttributeHandler; flags: number }> = new Map([
  [AttrType.ORIGIN, { read: readOrigin, flags: WELL_KNOWN }],
  [AttrType.AS_PATH, { read: readAsPath, flags: WELL_KNOWN }],
  [AttrType.NEXT_HOP, { read: readNextHop, flags: WELL_KNOWN }],
  [AttrType.MULTI_EXIT_DISC, { read: readMed, flags: OPTIONAL_NON_TRANSITIVE }],
  [AttrType.LOCAL_PREF, { read: readLocalPref, flags: WELL_KNOWN }],
  [AttrType.ATOMIC_AGGREGATE, { read: readAtomicAggregate, flags: WELL_KNOWN }],
  [AttrType.AGGREGATOR, { read: readAggregator, flags: OPTIONAL_TRANSITIVE }],
  [AttrType.COMMUNITIES, { read: readCommunities, flags: OPTIONAL_TRANSITIVE }],
  [AttrType.MP_REACH_NLRI, { read: readMpReach, flags: OPTIONAL_NON_TRANSITIVE }],
  [AttrType.MP_UNREACH_NLRI, { read: readMpUnreach, flags: OPTIONAL_NON_TRANSITIVE }],
  [AttrType.AS4_PATH, { read: readAs4Path, flags: OPTIONAL_TRANSITIVE }],
  [AttrType.AS4_AGGREGATOR, { read: readAs4Aggregator, flags: OPTIONAL_TRANSITIVE }],
  [AttrType.LARGE_COMMUNITY, { read: readLargeCommunities, flags: OPTIONAL_TRANSITIVE }],
]);

function isMp(typeCode: number): boolean {
  return typeCode === AttrType.MP_REACH_NLRI || typeCode === AttrType.MP_UNREACH_NLRI;
}

function readAttribute(s: UpdateState, b: Uint8Array, attrStart: number, start: number, length: number): void {
  const flags = u8(b, attrStart);
  const typeCode = u8(b, attrStart + 1);
  if (s.seen[typeCode] === 1) {
    // RFC 7606 §3: a repeated MP attribute is a Malformed Attribute List; other repeats are dropped.
    if (isMp(typeCode)) return updateError(s, 'duplicate-mp-attribute', UpdateMessageSubcode.MALFORMED_ATTRIBUTE_LIST);
    return discard(s, typeCode, 'duplicate');
  }
  s.seen[typeCode] = 1;
  const handler = HANDLERS.get(typeCode);
  if (handler === undefined) {
    if ((flags & AttrFlag.OPTIONAL) === 0) {
      // RFC 4271 §6.3: Data is the unrecognized attribute (type, length and value).
      const data = b.slice(attrStart, start + length);
      return updateError(s, 'unrecognized-well-known-attribute', UpdateMessageSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, data);
    }
    return keepRaw(s, b, flags, typeCode, start, length);
  }
  if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== handler.flags) {
    // RFC 7606 §3: conflicting Optional/Transitive bits mean treat-as-withdraw. MP attributes are
    // still parsed, since their prefixes are what gets withdrawn.
    withdraw(s, typeCode, 'flags-conflict');
    if (!isMp(typeCode)) return;
  }
  handler.read(s, b, attrStart, start, length, flags);
}

function readAttributes(s: UpdateState, b: Uint8Array, start: number, end: number): void {
  let p = start;
  while (p < end && s.reset === undefined) {
    // RFC 7606 §4: fewer octets left than an attribute header, or a length overrunning the
    // Total Path Attribute Length, is treat-as-withdraw; the NLRI is still found from that total.
    const flags = u8(b, p);
    const headerLength = (flags & AttrFlag.EXTENDED_LENGTH) !== 0 ? 4 : 3;
    if (end - p < headerLength) return withdraw(s, end - p >= 2 ? u8(b, p + 1) : 0, 'attribute-overrun');
    const typeCode = u8(b, p + 1);
    const length = headerLength === 4 ? u16(b, p + 2) : u8(b, p + 2);
    if (p + headerLength + length > end) {
      // An MP attribute cut short cannot be parsed, so treat-as-withdraw is impossible (RFC 7606 §3).
      if (isMp(typeCode)) return mpError(s, typeCode === AttrType.MP_REACH_NLRI ? 'malformed-mp-reach' : 'malformed-mp-unreach', b, p, end);
      return withdraw(s, typeCode, 'attribute-overrun');
    }
    readAttribute(s, b, p, p + headerLength, length);
    p += headerLength + length;
  }
}

/** RFC 7606 §3: missing well-known mandatory attributes mean treat-as-withdraw (NEXT_HOP only for NLRI-field routes, RFC 4760 §3). */
function checkMandatory(s: UpdateState, nlri: Prefix[]): void {
  const hasNlri = nlri.length > 0;
  if (!hasNlri && (s.attrs.mpReach?.nlri.length ?? 0) === 0) return;
  if (s.seen[AttrType.ORIGIN] !== 1) withdraw(s, AttrType.ORIGIN, 'missing-well-known');
  if (s.seen[AttrType.AS_PATH] !== 1) withdraw(s, AttrType.AS_PATH, 'missing-well-known');
  if (hasNlri && s.seen[AttrType.NEXT_HOP] !== 1) withdraw(s, AttrType.NEXT_HOP, 'missing-well-known');
}

function decodeUpdate(b: Uint8Array, length: number, ctx: DecodeContext): DecodeResult {
  const withdrawnLength = u16(b, 19);
  // RFC 4271 §6.3: lengths that do not fit the message are a Malformed Attribute List.
  if (23 + withdrawnLength > length) {
    return sessionReset('malformed-attribute-list', notification(ErrorCode.UPDATE_MESSAGE_ERROR, UpdateMessageSubcode.MALFORMED_ATTRIBUTE_LIST));
  }
  const attrStart = 23 + withdrawnLength;
  const attrEnd = attrStart + u16(b, 21 + withdrawnLength);
  if (attrEnd > length) {
    return sessionReset('malformed-attribute-list', notification(ErrorCode.UPDATE_MESSAGE_ERROR, UpdateMessageSubcode.MALFORMED_ATTRIBUTE_LIST));
  }
  const withdrawn: Prefix[] = [];
  const nlri: Prefix[] = [];
  // RFC 7606 §3 and §5.3: syntactically incorrect Withdrawn Routes or NLRI fields reset the session.
  if (!readPrefixes(b, 21, 21 + withdrawnLength, 'ipv4', withdrawn) || !readPrefixes(b, attrEnd, length, 'ipv4', nlri)) {
    return sessionReset('invalid-network-field', notification(ErrorCode.UPDATE_MESSAGE_ERROR, UpdateMessageSubcode.INVALID_NETWORK_FIELD));
  }
  const s: UpdateState = { ctx, attrs: {}, errors: [], severity: SEVERITY_NONE, reset: undefined, seen: new Uint8Array(256) };
  readAttributes(s, b, attrStart, attrEnd);
  if (s.reset !== undefined) return s.reset;
  checkMandatory(s, nlri);
  if (s.severity === SEVERITY_WITHDRAW) {
    const all = [...withdrawn, ...nlri, ...(s.attrs.mpReach?.nlri ?? []), ...(s.attrs.mpUnreach?.withdrawn ?? [])];
    return { ok: false, outcome: 'treat-as-withdraw', withdrawn: all, errors: s.errors };
  }
  const message: UpdateMessage = { type: 'update', withdrawn, attributes: s.attrs, nlri };
  if (s.severity === SEVERITY_DISCARD) return { ok: true, outcome: 'attribute-discard', message, errors: s.errors };
  return { ok: true, outcome: 'ok', message };
}

