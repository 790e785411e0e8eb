/**
 * BFD (RFC 5880 Asynchronous mode) with UDP transport (RFC 5881 single-hop, RFC 5883
 * multi-hop): Control packet codec, pure per-session state machine, dgram driver.
 * @packageDocumentation
 */
export { BFD_CONTROL_LENGTH, BFD_STATES, BFD_VERSION, BfdDiag, decodeControl, encodeControl, validateControl } from './codec.js';
export type { BfdControlPacket, BfdDecodeResult, BfdDiscardReason, BfdState } from './codec.js';
export {
  SLOW_TX_US,
  adminDown,
  adminUp,
  controlPacket,
  createBfdSession,
  detectionDeadline,
  detectionTimeMs,
  jitteredIntervalMs,
  nextDeadline,
  receive,
  setParameters,
  tick,
  transmitIntervalMs,
} from './machine.js';
export type { BfdAction, BfdReceiveDiscard, BfdResult, BfdSessionConfig, BfdSessionState, Random } from './machine.js';
export { BFD_MULTI_HOP_PORT, BFD_SINGLE_HOP_PORT, BFD_SOURCE_PORTS, BfdUdp, BfdUdpSession } from './udp.js';
export type { BfdPeerOptions, BfdUdpDiscard, BfdUdpOptions } from './udp.js';
