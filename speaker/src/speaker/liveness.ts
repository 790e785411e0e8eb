/**
 * Which speakers are alive, from two sources (ADR 0007):
 * - one Lease per speaker, renewed every few seconds through the API server: slow (a dead
 *   speaker is noticed after the lease duration) but never wrong, because a Lease is only
 *   renewed by a live process that can reach the API server;
 * - SWIM membership over UDP between the speakers: sub-second, but only as good as the
 *   gossip network.
 *
 * While membership runs it decides: alive or suspect is alive, dead, left or never heard
 * of is not (a speaker gossiping with another key, or unreachable over UDP, must never be
 * given an IP: nobody could tell when it dies). Without membership, a fresh Lease is alive.
 * Leases never override membership: during an API server outage every Lease looks stale,
 * and the data plane must not change because the control plane is down.
 * Pure: the caller passes the clock reading.
 * @packageDocumentation
 */
import type { MemberState } from '../membership/index.js';

/** What this speaker knows of one peer's Lease. */
export interface LeaseObservation {
  /**
   * Local clock time when this speaker last saw the Lease change (its renewTime or holder).
   * Never the holder's own timestamp: comparing clocks across machines would let skew
   * decide liveness (client-go's leader election does the same).
   */
  readonly observedAt: number;
  readonly durationMs: number;
  /** Local clock time when this speaker first saw the Lease. */
  readonly firstSeenAt: number;
}

export type LivenessReason =
  /** This speaker. */
  | 'self'
  /**
   * This speaker, when other speakers hold fresh Leases and membership has heard from none
   * of them: just started and not joined yet, or a wrong gossip key, or blocked UDP. It must
   * not announce, or it would see itself alone and claim every IP the others announce.
   */
  | 'selfIsolated'
  /**
   * This speaker, when it sees fewer than half of the speakers with fresh Leases alive
   * (itself included): it is far more likely cut off than they all died. It must not
   * announce, or after its link comes back it would claim, from a stale view, IPs the
   * others now own, and clients would follow it. Dead speakers' Leases expire after their
   * duration, so a real mass failure ends this within one Lease duration.
   */
  | 'selfMinority'
  /** Membership says alive (or suspect: not yet confirmed dead). */
  | 'member'
  /** Fresh Lease; membership is not running (no key Secret, or the socket failed). */
  | 'leaseOnly'
  | 'leaseExpired'
  | 'membershipDead'
  | 'membershipLeft'
  /** Fresh Lease, but membership has not heard from it: not joined yet, another key, or unreachable over UDP. */
  | 'membershipUnknown';

export interface Liveness {
  readonly alive: boolean;
  readonly reason: LivenessReason;
}

export interface LivenessInput {
  readonly self: string;
  readonly now: number;
  /**
   * Local time of our last successful Lease renewal, undefined before the first. While our
   * own renewals fail we cannot see others renew either, so Leases are judged as of then.
   */
  readonly selfRenewedAt: number | undefined;
  /**
   * The start time of our latest renewal that came back to us through the Lease watch,
   * undefined before the first. The watch delivers changes in order, so at that moment we
   * had seen every peer renewal written before ours: the Lease view is current as of then,
   * and no later. A speaker cut off from the API server (its link down) keeps a view frozen
   * there, however long ago; judging peers' Leases against `now` instead made a node whose
   * link came back after 8 s find every peer's Lease expired, count itself the only speaker,
   * and claim every IP before its watch caught up (seen on a real cluster).
   */
  readonly viewCurrentAt?: number | undefined;
  readonly selfLeaseDurationMs: number;
  readonly leases: ReadonlyMap<string, LeaseObservation>;
  /** Undefined while membership is not running; otherwise the state of each member it knows. */
  readonly membership: ReadonlyMap<string, MemberState> | undefined;
  /** When membership started (local time); undefined while not running. */
  readonly membershipSince: number | undefined;
}

/** The liveness of every speaker with a Lease (and of this one). Deterministic. */
export function computeLiveness(input: LivenessInput): Map<string, Liveness> {
  const out = new Map<string, Liveness>();
  const selfFresh = input.selfRenewedAt !== undefined && input.now - input.selfRenewedAt < input.selfLeaseDurationMs;
  const renewedAsOf = selfFresh || input.selfRenewedAt === undefined ? input.now : input.selfRenewedAt;
  const asOf = input.viewCurrentAt === undefined ? renewedAsOf : Math.min(renewedAsOf, input.viewCurrentAt);
  const peers = new Map<string, Liveness>();
  let freshPeers = 0;
  for (const [node, lease] of [...input.leases].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (node === input.self) continue;
    if (asOf - lease.observedAt < lease.durationMs) freshPeers++;
    peers.set(node, peerLiveness(input, lease, node, asOf));
  }
  const heardAny = input.membership !== undefined && [...input.membership.keys()].some((n) => n !== input.self);
  const isolated = input.membership !== undefined && input.membershipSince !== undefined && freshPeers > 0 && !heardAny;
  let alivePeers = 0;
  for (const v of peers.values()) if (v.alive) alivePeers++;
  // Strictly fewer than half: in a two-speaker cluster the survivor of a crash keeps going.
  const minority = input.membership !== undefined && 2 * (alivePeers + 1) < freshPeers + 1;
  out.set(input.self, isolated ? { alive: false, reason: 'selfIsolated' } : minority ? { alive: false, reason: 'selfMinority' } : { alive: true, reason: 'self' });
  for (const [k, v] of peers) out.set(k, v);
  return out;
}

function peerLiveness(input: LivenessInput, lease: LeaseObservation, node: string, asOf: number): Liveness {
  const leaseFresh = asOf - lease.observedAt < lease.durationMs;
  if (input.membership === undefined || input.membershipSince === undefined) return leaseFresh ? { alive: true, reason: 'leaseOnly' } : { alive: false, reason: 'leaseExpired' };
  const state = input.membership.get(node);
  if (state === 'alive' || state === 'suspect') return { alive: true, reason: 'member' };
  if (state === 'dead') return { alive: false, reason: 'membershipDead' };
  if (state === 'left') return { alive: false, reason: 'membershipLeft' };
  return leaseFresh ? { alive: false, reason: 'membershipUnknown' } : { alive: false, reason: 'leaseExpired' };
}

/** Alive speakers' names, sorted. */
export function aliveNodes(l: ReadonlyMap<string, Liveness>): string[] {
  return [...l].filter(([, v]) => v.alive).map(([k]) => k).sort();
}
