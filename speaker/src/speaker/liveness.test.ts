import { describe, expect, it } from '@jest/globals';
import type { MemberState } from '../membership/index.js';
import { aliveNodes, computeLiveness, type LeaseObservation, type LivenessInput } from './liveness.js';

const lease = (observedAt: number, firstSeenAt = 0): LeaseObservation => ({ observedAt, firstSeenAt, durationMs: 10_000 });

function input(over: Partial<LivenessInput>): LivenessInput {
  return {
    self: 'a',
    now: 100_000,
    selfRenewedAt: 99_000,
    selfLeaseDurationMs: 10_000,
    leases: new Map([
      ['a', lease(99_000)],
      ['b', lease(99_000)],
      ['c', lease(99_000)],
    ]),
    membership: new Map<string, MemberState>([
      ['b', 'alive'],
      ['c', 'alive'],
    ]),
    membershipSince: 50_000,
    ...over,
  };
}

describe('speaker liveness', () => {
  it('counts speakers alive when membership says alive or suspect, and not when it says dead or left', () => {
    const l = computeLiveness(input({ membership: new Map<string, MemberState>([['b', 'suspect'], ['c', 'dead']]) }));
    expect(l.get('b')).toEqual({ alive: true, reason: 'member' });
    expect(l.get('c')).toEqual({ alive: false, reason: 'membershipDead' });
    const left = computeLiveness(input({ membership: new Map<string, MemberState>([['b', 'left'], ['c', 'alive']]) }));
    expect(left.get('b')).toEqual({ alive: false, reason: 'membershipLeft' });
    expect(aliveNodes(left)).toEqual(['a', 'c']);
  });

  it('never counts a speaker membership has not heard of, whatever its Lease says', () => {
    const leases = new Map([
      ['a', lease(99_000)],
      ['b', lease(99_000)],
      ['n', lease(99_900, 99_900)],
    ]);
    const membership = new Map<string, MemberState>([['b', 'alive']]);
    expect(computeLiveness(input({ leases, membership })).get('n')).toEqual({ alive: false, reason: 'membershipUnknown' });
  });

  it('keeps a speaker that membership sees alive even when its Lease looks stale (API server outage)', () => {
    const l = computeLiveness(input({ leases: new Map([['b', lease(10_000)], ['c', lease(10_000)]]) }));
    expect(aliveNodes(l)).toEqual(['a', 'b', 'c']);
  });

  it('judges Leases as of the last own renewal the watch delivered, so a node back from a cut does not claim everything', () => {
    // Link cut at 91 s for 9 s: our renewals and the watch stopped; the link is back and our
    // first renewal just succeeded (99.9 s), but the watch has not caught up. The peers'
    // Leases were last seen at 89 s; membership still holds them dead from the cut.
    const back = input({
      selfRenewedAt: 99_900,
      viewCurrentAt: 91_000,
      leases: new Map([
        ['a', lease(91_000)],
        ['b', lease(89_000)],
        ['c', lease(89_000)],
      ]),
      membership: new Map<string, MemberState>([
        ['b', 'dead'],
        ['c', 'dead'],
      ]),
    });
    expect(computeLiveness(back).get('a')).toEqual({ alive: false, reason: 'selfMinority' });
    // Judged against the clock instead, both peers look expired and we look alone and alive.
    expect(computeLiveness({ ...back, viewCurrentAt: undefined }).get('a')).toEqual({ alive: true, reason: 'self' });
    // Once the watch delivers a renewal of ours past their expiry, they really are expired.
    expect(computeLiveness({ ...back, viewCurrentAt: 99_500 }).get('a')).toEqual({ alive: true, reason: 'self' });
  });

  it('falls back to Lease freshness when membership is not running', () => {
    const leases = new Map([
      ['b', lease(95_000)],
      ['c', lease(85_000)],
    ]);
    const l = computeLiveness(input({ leases, membership: undefined, membershipSince: undefined }));
    expect(l.get('b')).toEqual({ alive: true, reason: 'leaseOnly' });
    expect(l.get('c')).toEqual({ alive: false, reason: 'leaseExpired' });
  });

  it('judges Leases as of its own last renewal while it cannot renew, so an API outage expires nobody', () => {
    const leases = new Map([['b', lease(60_000)]]);
    const cutOff = input({ leases, membership: undefined, membershipSince: undefined, now: 200_000, selfRenewedAt: 62_000 });
    expect(computeLiveness(cutOff).get('b')).toEqual({ alive: true, reason: 'leaseOnly' });
    const renewing = input({ leases, membership: undefined, membershipSince: undefined, now: 200_000, selfRenewedAt: 199_000 });
    expect(computeLiveness(renewing).get('b')).toEqual({ alive: false, reason: 'leaseExpired' });
  });

  it('stands itself down while it has heard from none of the speakers whose Leases are fresh (not joined yet, or a wrong key)', () => {
    const l = computeLiveness(input({ membership: new Map() }));
    expect(l.get('a')).toEqual({ alive: false, reason: 'selfIsolated' });
    expect(aliveNodes(l)).toEqual([]);
    // Alone (no other fresh Lease), it is alive.
    expect(computeLiveness(input({ membership: new Map(), leases: new Map([['a', lease(99_000)], ['z', lease(80_000)]]) })).get('a')?.alive).toBe(true);
  });

  it('stands down while it sees fewer than half of the speakers with fresh Leases alive (its link is cut)', () => {
    const l = computeLiveness(input({ membership: new Map<string, MemberState>([['b', 'dead'], ['c', 'dead']]) }));
    expect(l.get('a')).toEqual({ alive: false, reason: 'selfMinority' });
    // Once the dead speakers' Leases expire, a lone survivor carries on.
    const later = computeLiveness(input({ now: 120_000, selfRenewedAt: 119_000, leases: new Map([['a', lease(119_000)], ['b', lease(99_000)], ['c', lease(99_000)]]), membership: new Map<string, MemberState>([['b', 'dead'], ['c', 'dead']]) }));
    expect(later.get('a')).toEqual({ alive: true, reason: 'self' });
  });

  it('keeps going as the survivor of two, and with half of four', () => {
    const two = input({ leases: new Map([['a', lease(99_000)], ['b', lease(99_000)]]), membership: new Map<string, MemberState>([['b', 'dead']]) });
    expect(computeLiveness(two).get('a')).toEqual({ alive: true, reason: 'self' });
    const four = input({
      leases: new Map([['a', lease(99_000)], ['b', lease(99_000)], ['c', lease(99_000)], ['d', lease(99_000)]]),
      membership: new Map<string, MemberState>([['b', 'alive'], ['c', 'dead'], ['d', 'dead']]),
    });
    expect(computeLiveness(four).get('a')).toEqual({ alive: true, reason: 'self' });
  });
});
