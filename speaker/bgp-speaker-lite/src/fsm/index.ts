/**
 * The BGP session state machine (RFC 4271 section 8): pure transition function, OPEN checks and
 * capability negotiation, collision resolution, and a timer-owning driver.
 * @packageDocumentation
 */
export * from './types.js';
export { BGP_VERSION, IPV4_UNICAST, backoffMs, buildOpen, checkOpen, keepaliveMsFor, negotiateCapabilities, peerAsnOf, sessionConfig } from './open.js';
export type { OpenCheck, OpenRejectReason } from './open.js';
export { resolveCollision } from './collision.js';
export type { CollisionDecision, CollisionInput, CollisionReason, ConnectionRole } from './collision.js';
export { initialSessionState, transition } from './transition.js';
export { Session } from './session.js';
export type { IoAction, SessionOptions, SessionTransitionInfo } from './session.js';
