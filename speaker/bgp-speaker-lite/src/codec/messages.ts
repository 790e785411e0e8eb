/**
 * Builders and readers for messages a session needs often.
 *
 * Cease NOTIFICATION with a Shutdown Communication (RFC 9003 §2, obsoleting RFC 8203):
 * ```
 * | Error Code 6 | Subcode 2 or 4 | Length (1) | Shutdown Communication (Length octets of UTF-8) |
 * ```
 * AS4_PATH (RFC 6793 §3) has the AS_PATH layout with 4-octet AS numbers:
 * ```
 * | Segment Type (1) | Segment Length (1) | AS numbers (4 octets each) | ...
 * ```
 * @module
 */
import { CeaseSubcode, ErrorCode, MAX_SHUTDOWN_COMMUNICATION_LENGTH } from './constants.js';
import { shutdownCommunicationData } from './encode.js';
import type { AsPathSegment, KeepaliveMessage, NotificationMessage } from './types.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** KEEPALIVE (RFC 4271 §4.4). */
export function keepalive(): KeepaliveMessage {
  return { type: 'keepalive' };
}

/**
 * A Cease NOTIFICATION (RFC 4486). For Administrative Shutdown (2) and Administrative Reset (4)
 * an optional Shutdown Communication is attached (RFC 9003 §2), cut to 255 octets at a
 * character boundary.
 */
export function ceaseNotification(subcode: number, shutdownCommunication?: string): NotificationMessage {
  const withText =
    shutdownCommunication !== undefined &&
    shutdownCommunication !== '' &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET);
  if (!withText) return { type: 'notification', code: ErrorCode.CEASE, subcode, data: new Uint8Array(0) };
  let bytes = utf8Encoder.encode(shutdownCommunication);
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION_LENGTH) {
    let cut = MAX_SHUTDOWN_COMMUNICATION_LENGTH;
    // Back off over UTF-8 continuation octets (10xxxxxx) so no character is split.
    while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const text = utf8Decoder.decode(bytes);
  return { type: 'notification', code: ErrorCode.CEASE, subcode, data: shutdownCommunicationData(text), shutdownCommunication: text };
}

/** Number of ASes a path counts for in route selection: a set counts once, confederation segments not at all (RFC 4271 §9.1.2.2, RFC 5065 §5.3). */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const segment of segments) {
    if (segment.type === 'sequence') n += segment.asns.length;
    else if (segment.type === 'set') n += 1;
  }
  return n;
}

/**
 * Reconstructs the 4-octet AS path a 2-octet peer passed on (RFC 6793 §4.2.3): when AS_PATH
 * counts fewer ASes than AS4_PATH, AS4_PATH is ignored; otherwise the leading ASes of AS_PATH
 * that AS4_PATH lacks are put in front of AS4_PATH.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[] | undefined): AsPathSegment[] {
  if (as4Path === undefined) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const total = asPathLength(asPath);
  const tail = asPathLength(as4Path);
  if (total < tail) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  let need = total - tail;
  const lead: AsPathSegment[] = [];
  for (const segment of asPath) {
    if (need === 0) break;
    if (segment.type === 'sequence') {
      const take = Math.min(need, segment.asns.length);
      lead.push({ type: 'sequence', asns: segment.asns.slice(0, take) });
      need -= take;
    } else {
      lead.push({ type: segment.type, asns: [...segment.asns] });
      if (segment.type === 'set') need -= 1;
    }
  }
  return [...lead, ...as4Path.map((s) => ({ type: s.type, asns: [...s.asns] }))];
}
