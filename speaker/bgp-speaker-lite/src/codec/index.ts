/**
 * The pure BGP-4 message codec: bytes in, messages out, and back. No I/O, no timers.
 *
 * Every message starts with the RFC 4271 §4.1 header:
 * ```
 * | Marker (16 octets, all ones) | Length (2) | Type (1): 1 OPEN, 2 UPDATE, 3 NOTIFICATION, 4 KEEPALIVE, 5 ROUTE-REFRESH |
 * ```
 * - {@link MessageFramer} cuts a TCP stream into messages and checks headers (RFC 4271 §6.1);
 * - {@link decodeMessage} turns one message into a typed {@link BgpMessage}, or into the
 *   NOTIFICATION to send / the RFC 7606 outcome;
 * - {@link encodeMessage} writes a message; {@link packUpdates} packs routes into the fewest UPDATEs;
 * - {@link mutationFuzz} checks that no input makes the framer or decoder throw.
 * @module
 */
export {
  AS_TRANS,
  AsPathSegmentCode,
  AfiCode,
  AttrFlag,
  AttrType,
  BGP_VERSION,
  CapabilityCode,
  CeaseSubcode,
  ErrorCode,
  FsmErrorSubcode,
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_SHUTDOWN_COMMUNICATION_LENGTH,
  MessageHeaderSubcode,
  MessageType,
  OpenMessageSubcode,
  OptionalParameterType,
  OriginCode,
  RouteRefreshSubcode,
  SafiCode,
  UpdateMessageSubcode,
  WellKnownCommunity,
} from './constants.js';
export type * from './types.js';
export { BgpCodecError, type BgpCodecErrorCode } from './errors.js';
export { decodeMessage } from './decode.js';
export { encodeMessage, encodePathAttributes, shutdownCommunicationData } from './encode.js';
export { MessageFramer, type Frame, type MessageFramerOptions } from './framer.js';
export { maxMessageLength } from './header.js';
export { asPathLength, ceaseNotification, keepalive, mergeAs4Path } from './messages.js';
export { endOfRib, isEndOfRib, packUpdates, type PackContext, type RouteAdvertisement } from './pack.js';
export {
  formatAddress,
  formatCommunity,
  formatPrefix,
  isCanonical,
  parseAddress,
  parseCommunity,
  parsePrefix,
  prefixEquals,
} from './prefix.js';
export { mutationFuzz, type FuzzOptions, type FuzzReport } from './fuzz.js';
