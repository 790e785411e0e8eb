/**
 * The BFD Control packet (RFC 5880 4.1) and the reception checks of RFC 5880 6.8.6 that need
 * no session. Decoding never throws: malformed input yields a reason.
 *
 * Authentication (RFC 5880 4.2-4.4, 6.7) is not implemented: no session of ours sets
 * bfd.AuthType, so 6.8.6 requires every packet with the A bit set to be discarded, and we
 * discard it with the reason `authenticationUnsupported`. BFD here runs between a node and
 * its adjacent router over links the cluster already trusts, with GTSM (TTL 255) as the
 * spoofing defence (RFC 5881 5).
 * @packageDocumentation
 */

/** RFC 5880 4.1 session states; the index is the wire value. */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;

/** A BFD session state. */
export type BfdState = (typeof BFD_STATES)[number];

/** RFC 5880 4.1 diagnostic codes. */
export const BfdDiag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

/** The protocol version this codec speaks. */
export const BFD_VERSION = 1;

/** Length of the mandatory section; we never send an authentication section. */
export const BFD_CONTROL_LENGTH = 24;

/** Minimum Length with the A bit set: mandatory section plus Auth Type and Auth Len (6.8.6). */
const MIN_LENGTH_WITH_AUTH = 26;

/** A BFD Control packet's fields (RFC 5880 4.1). Version and Length are implied. */
export interface BfdControlPacket {
  /** 0-31; see {@link BfdDiag}. */
  readonly diag: number;
  readonly state: BfdState;
  /** P: the sender asks for verification or a parameter change (Poll Sequence). */
  readonly poll: boolean;
  /** F: the sender answers a Poll. */
  readonly final: boolean;
  /** C: the sender's BFD does not share fate with its control plane. */
  readonly controlPlaneIndependent: boolean;
  /** A: an authentication section follows. */
  readonly authenticationPresent: boolean;
  /** D: the sender wants to run Demand mode. */
  readonly demand: boolean;
  /** M: reserved for multipoint; must be zero. */
  readonly multipoint: boolean;
  /** 1-255. */
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds. */
  readonly desiredMinTxUs: number;
  /** Microseconds; 0: the sender does not want Control packets. */
  readonly requiredMinRxUs: number;
  /** Microseconds; 0: the sender does not support Echo. */
  readonly requiredMinEchoRxUs: number;
}

/** Why a received packet was discarded (RFC 5880 6.8.6, plus 6.5). */
export type BfdDiscardReason =
  | 'truncated'
  | 'badVersion'
  | 'lengthTooShort'
  | 'lengthExceedsPayload'
  | 'zeroDetectMult'
  | 'multipoint'
  | 'zeroMyDiscriminator'
  | 'zeroYourDiscriminatorNotDown'
  | 'authenticationUnsupported'
  | 'pollAndFinal';

/** Outcome of {@link decodeControl}. */
export type BfdDecodeResult =
  | { readonly ok: true; readonly packet: BfdControlPacket }
  | { readonly ok: false; readonly reason: BfdDiscardReason };

const FLAG_P = 0x20;
const FLAG_F = 0x10;
const FLAG_C = 0x08;
const FLAG_A = 0x04;
const FLAG_D = 0x02;
const FLAG_M = 0x01;

const bit = (on: boolean, flag: number): number => (on ? flag : 0);

/**
 * Encodes the mandatory section, 24 bytes:
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
 * |                       My Discriminator                        |
 * |                      Your Discriminator                       |
 * |                    Desired Min TX Interval                    |
 * |                   Required Min RX Interval                    |
 * |                 Required Min Echo RX Interval                 |
 * ```
 * Writes the fields as given (even ones {@link validateControl} would reject), so tests can
 * build bad packets; out-of-range numbers are truncated to their field widths.
 */
export function encodeControl(packet: BfdControlPacket): Uint8Array {
  const bytes = new Uint8Array(BFD_CONTROL_LENGTH);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, (BFD_VERSION << 5) | (packet.diag & 0x1f));
  view.setUint8(
    1,
    (BFD_STATES.indexOf(packet.state) << 6) |
      bit(packet.poll, FLAG_P) |
      bit(packet.final, FLAG_F) |
      bit(packet.controlPlaneIndependent, FLAG_C) |
      bit(packet.authenticationPresent, FLAG_A) |
      bit(packet.demand, FLAG_D) |
      bit(packet.multipoint, FLAG_M),
  );
  view.setUint8(2, packet.detectMult & 0xff);
  view.setUint8(3, BFD_CONTROL_LENGTH);
  view.setUint32(4, packet.myDiscriminator >>> 0);
  view.setUint32(8, packet.yourDiscriminator >>> 0);
  view.setUint32(12, packet.desiredMinTxUs >>> 0);
  view.setUint32(16, packet.requiredMinRxUs >>> 0);
  view.setUint32(20, packet.requiredMinEchoRxUs >>> 0);
  return bytes;
}

/**
 * The checks of RFC 5880 6.8.6 on the fields alone, in its order (session lookup and the
 * AdminDown check belong to the session). `undefined` when the packet is acceptable.
 */
export function validateControl(packet: BfdControlPacket): BfdDiscardReason | undefined {
  if (packet.detectMult === 0) return 'zeroDetectMult';
  if (packet.multipoint) return 'multipoint';
  if (packet.myDiscriminator === 0) return 'zeroMyDiscriminator';
  if (packet.yourDiscriminator === 0 && packet.state !== 'Down' && packet.state !== 'AdminDown') return 'zeroYourDiscriminatorNotDown';
  // 6.8.6: "If the A bit is set and no authentication is in use ... MUST be discarded."
  if (packet.authenticationPresent) return 'authenticationUnsupported';
  // 6.5: a packet MUST NOT have both the Poll and the Final bit set.
  if (packet.poll && packet.final) return 'pollAndFinal';
  return undefined;
}

/**
 * Decodes and checks a received UDP payload. Trailing bytes beyond the Length field are
 * ignored; an authentication section is never parsed (see the module notes).
 */
export function decodeControl(payload: Uint8Array): BfdDecodeResult {
  if (payload.length < 4) return { ok: false, reason: 'truncated' };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const b0 = view.getUint8(0);
  const b1 = view.getUint8(1);
  if (b0 >> 5 !== BFD_VERSION) return { ok: false, reason: 'badVersion' };
  const length = view.getUint8(3);
  const authenticationPresent = (b1 & FLAG_A) !== 0;
  if (length < (authenticationPresent ? MIN_LENGTH_WITH_AUTH : BFD_CONTROL_LENGTH)) return { ok: false, reason: 'lengthTooShort' };
  if (length > payload.length) return { ok: false, reason: 'lengthExceedsPayload' };
  const packet: BfdControlPacket = {
    diag: b0 & 0x1f,
    state: BFD_STATES[b1 >> 6] ?? 'AdminDown',
    poll: (b1 & FLAG_P) !== 0,
    final: (b1 & FLAG_F) !== 0,
    controlPlaneIndependent: (b1 & FLAG_C) !== 0,
    authenticationPresent,
    demand: (b1 & FLAG_D) !== 0,
    multipoint: (b1 & FLAG_M) !== 0,
    detectMult: view.getUint8(2),
    myDiscriminator: view.getUint32(4),
    yourDiscriminator: view.getUint32(8),
    desiredMinTxUs: view.getUint32(12),
    requiredMinRxUs: view.getUint32(16),
    requiredMinEchoRxUs: view.getUint32(20),
  };
  const reason = validateControl(packet);
  return reason === undefined ? { ok: true, packet } : { ok: false, reason };
}
