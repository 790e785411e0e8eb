/**
 * Message header checks (RFC 4271 §6.1), shared by the framer and the decoder.
 *
 * ```
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Marker (16 octets, all ones)               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Length (2)           |   Type (1)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * @module
 */
import {
  ErrorCode,
  HEADER_LENGTH,
  KEEPALIVE_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageHeaderSubcode,
  MessageType,
  MIN_NOTIFICATION_LENGTH,
  MIN_OPEN_LENGTH,
  MIN_UPDATE_LENGTH,
} from './constants.js';
import type { NotificationMessage, SessionResetReason } from './types.js';

/** A NOTIFICATION with raw data. */
export function notification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/** A valid header's length and type, or the header error and the NOTIFICATION it calls for. */
export type HeaderCheck =
  | { ok: true; length: number; type: number }
  | { ok: false; reason: SessionResetReason; notification: NotificationMessage };

/** The largest message the context allows (RFC 4271 §4.1, RFC 8654 §4). */
export function maxMessageLength(extendedMessages: boolean): number {
  return extendedMessages ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** True while the first `available` octets at `offset` (at most 16) are all ones. */
export function markerIntact(buf: Uint8Array, offset: number, available: number): boolean {
  const n = available < 16 ? available : 16;
  for (let i = 0; i < n; i++) if (buf[offset + i] !== 0xff) return false;
  return true;
}

function badLength(buf: Uint8Array, offset: number): HeaderCheck {
  // RFC 4271 §6.1: the Data field carries the erroneous Length field.
  const data = new Uint8Array([buf[offset + 16] ?? 0, buf[offset + 17] ?? 0]);
  return {
    ok: false,
    reason: 'bad-message-length',
    notification: notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.BAD_MESSAGE_LENGTH, data),
  };
}

/** RFC 4271 §6.1 per-type minimums; RFC 8654 §4 keeps OPEN within 4096 octets. ROUTE-REFRESH length is RFC 7313's, checked by the decoder. */
function typeLengthValid(type: number, length: number): boolean {
  switch (type) {
    case MessageType.OPEN:
      return length >= MIN_OPEN_LENGTH && length <= MAX_MESSAGE_LENGTH;
    case MessageType.UPDATE:
      return length >= MIN_UPDATE_LENGTH;
    case MessageType.NOTIFICATION:
      return length >= MIN_NOTIFICATION_LENGTH;
    case MessageType.KEEPALIVE:
      return length === KEEPALIVE_LENGTH;
    default:
      return true;
  }
}

/**
 * Checks the 19-octet header at `offset` (the caller guarantees 19 octets are there), in the
 * order of RFC 4271 §6.1: marker, length (19..max, then per type), type (1..5).
 */
export function checkHeader(buf: Uint8Array, offset: number, maxLength: number): HeaderCheck {
  if (!markerIntact(buf, offset, 16)) {
    return {
      ok: false,
      reason: 'connection-not-synchronized',
      notification: notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.CONNECTION_NOT_SYNCHRONIZED),
    };
  }
  const length = ((buf[offset + 16] ?? 0) << 8) | (buf[offset + 17] ?? 0);
  const type = buf[offset + 18] ?? 0;
  if (length < HEADER_LENGTH || length > maxLength) return badLength(buf, offset);
  if (type < MessageType.OPEN || type > MessageType.ROUTE_REFRESH) {
    return {
      ok: false,
      reason: 'bad-message-type',
      // RFC 4271 §6.1: the Data field carries the erroneous Type field.
      notification: notification(ErrorCode.MESSAGE_HEADER_ERROR, MessageHeaderSubcode.BAD_MESSAGE_TYPE, new Uint8Array([type])),
    };
  }
  if (!typeLengthValid(type, length)) return badLength(buf, offset);
  return { ok: true, length, type };
}
