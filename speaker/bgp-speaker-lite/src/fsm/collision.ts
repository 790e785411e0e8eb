/**
 * Connection collision detection (RFC 4271 6.8, RFC 6286 2.3): when the peer and we connect to
 * each other at the same time, exactly one of the two connections survives.
 * @packageDocumentation
 */

import { CeaseSubcode, ErrorCode, type Notification, type SessionStateName } from './types.js';

/** Which of the two connections. */
export type ConnectionRole = 'initiated' | 'accepted';

/** The two connections to one peer and the identities on both sides. */
export interface CollisionInput {
  readonly localBgpId: number;
  /** The peer's BGP Identifier, from the OPEN just received on either connection. */
  readonly remoteBgpId: number;
  readonly localAsn: number;
  readonly remoteAsn: number;
  /** State of the session on the connection we initiated. */
  readonly initiated: SessionStateName;
  /** State of the session on the connection the peer initiated. */
  readonly accepted: SessionStateName;
}

/** Why a connection was kept. */
export type CollisionReason =
  | 'noCollision'
  | 'establishedWins'
  | 'localIdentifierHigher'
  | 'remoteIdentifierHigher'
  | 'localAsnHigher'
  | 'remoteAsnHigher'
  | 'identicalIdentities';

/** Outcome of {@link resolveCollision}. */
export type CollisionDecision =
  | { readonly collision: false; readonly reason: 'noCollision' }
  | {
      readonly collision: true;
      readonly keep: ConnectionRole;
      /** Feed `OpenCollisionDump` to this connection's session; it sends `notification` and closes. */
      readonly dump: ConnectionRole;
      readonly reason: Exclude<CollisionReason, 'noCollision'>;
      readonly notification: Notification;
    };

const DUMP_NOTIFICATION: Notification = {
  code: ErrorCode.Cease,
  subcode: CeaseSubcode.ConnectionCollisionResolution,
  data: new Uint8Array(0),
};

const other = (role: ConnectionRole): ConnectionRole => (role === 'initiated' ? 'accepted' : 'initiated');

const decided = (keep: ConnectionRole, reason: Exclude<CollisionReason, 'noCollision'>): CollisionDecision => ({
  collision: true,
  keep,
  dump: other(keep),
  reason,
  notification: DUMP_NOTIFICATION,
});

const OPENING: ReadonlySet<SessionStateName> = new Set(['OpenSent', 'OpenConfirm']);

/**
 * Decides which connection survives. Call it when an OPEN arrives on either connection while the
 * other exists. Identifiers are compared as unsigned 32-bit integers; the connection initiated by
 * the speaker with the higher identifier survives (RFC 4271 6.8). Equal identifiers (possible
 * between different ASes under RFC 6286) fall back to the AS numbers (RFC 6286 2.3). A
 * connection already Established always wins (CollisionDetectEstablishedState is off).
 * Collision detection applies only while both are in OpenSent or OpenConfirm.
 */
export function resolveCollision(input: CollisionInput): CollisionDecision {
  if (input.initiated === 'Established') return decided('initiated', 'establishedWins');
  if (input.accepted === 'Established') return decided('accepted', 'establishedWins');
  if (!OPENING.has(input.initiated) || !OPENING.has(input.accepted)) return { collision: false, reason: 'noCollision' };
  const local = input.localBgpId >>> 0;
  const remote = input.remoteBgpId >>> 0;
  if (local > remote) return decided('initiated', 'localIdentifierHigher');
  if (local < remote) return decided('accepted', 'remoteIdentifierHigher');
  // RFC 6286 2.3: the connection initiated by the speaker with the larger AS number is kept.
  if (input.localAsn > input.remoteAsn) return decided('initiated', 'localAsnHigher');
  if (input.localAsn < input.remoteAsn) return decided('accepted', 'remoteAsnHigher');
  // Same identifier and same AS cannot pass checkOpen (Bad BGP Identifier from an internal
  // peer); if it happens anyway, keep one connection rather than none.
  return decided('initiated', 'identicalIdentities');
}
