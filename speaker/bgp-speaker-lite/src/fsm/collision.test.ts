import { describe, expect, it } from '@jest/globals';
import { resolveCollision, type CollisionInput } from './collision.js';

const input = (overrides: Partial<CollisionInput>): CollisionInput => ({
  localBgpId: 0x0a00_0001,
  remoteBgpId: 0x0a00_0002,
  localAsn: 64512,
  remoteAsn: 64513,
  initiated: 'OpenConfirm',
  accepted: 'OpenSent',
  ...overrides,
});

describe('resolveCollision', () => {
  it('keeps the connection the peer initiated when the peer has the higher identifier', () => {
    expect(resolveCollision(input({}))).toEqual({
      collision: true,
      keep: 'accepted',
      dump: 'initiated',
      reason: 'remoteIdentifierHigher',
      notification: { code: 6, subcode: 7, data: new Uint8Array(0) },
    });
  });

  it('keeps the connection we initiated when we have the higher identifier', () => {
    expect(resolveCollision(input({ localBgpId: 0x0a00_0003 }))).toMatchObject({ collision: true, keep: 'initiated', dump: 'accepted', reason: 'localIdentifierHigher' });
  });

  it('compares identifiers as unsigned 32-bit integers', () => {
    // 0xC0000201 (192.0.2.1) is negative as a signed 32-bit integer.
    expect(resolveCollision(input({ localBgpId: 0xc000_0201 | 0, remoteBgpId: 0x0a00_0001 }))).toMatchObject({ keep: 'initiated' });
  });

  it('breaks a tie of identifiers by AS number (RFC 6286 2.3)', () => {
    expect(resolveCollision(input({ remoteBgpId: 0x0a00_0001, localAsn: 65000, remoteAsn: 64513 }))).toMatchObject({ keep: 'initiated', reason: 'localAsnHigher' });
    expect(resolveCollision(input({ remoteBgpId: 0x0a00_0001 }))).toMatchObject({ keep: 'accepted', reason: 'remoteAsnHigher' });
  });

  it('keeps an Established connection whatever the identifiers', () => {
    expect(resolveCollision(input({ accepted: 'Established' }))).toMatchObject({ keep: 'accepted', dump: 'initiated', reason: 'establishedWins' });
    expect(resolveCollision(input({ initiated: 'Established' }))).toMatchObject({ keep: 'initiated', reason: 'establishedWins' });
  });

  it('finds no collision while either connection has not reached OpenSent', () => {
    expect(resolveCollision(input({ accepted: 'Active' }))).toEqual({ collision: false, reason: 'noCollision' });
    expect(resolveCollision(input({ initiated: 'Idle' }))).toEqual({ collision: false, reason: 'noCollision' });
  });
});
