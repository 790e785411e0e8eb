import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BFD_STATES, decodeControl, encodeControl, type BfdControlPacket } from './codec.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const packet = (overrides: Partial<BfdControlPacket> = {}): BfdControlPacket => ({
  diag: 0,
  state: 'Up',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  authenticationPresent: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 0x1122_3344,
  yourDiscriminator: 0x5566_7788,
  desiredMinTxUs: 300_000,
  requiredMinRxUs: 300_000,
  requiredMinEchoRxUs: 0,
  ...overrides,
});

// Vers 1 | Diag | Sta P F C A D M | Mult | Len 24 | My | Your | DesTx | ReqRx | ReqEchoRx
const GOLDEN_UP_POLL = '20 e0 03 18 11223344 55667788 000493e0 000493e0 00000000';
const GOLDEN_DOWN_DIAG1 = '21 40 05 18 0000002a 00000000 000f4240 000186a0 00000000';

describe('BFD Control packet codec', () => {
  it('encodes an Up packet with the Poll bit to the golden bytes', () => {
    expect(hex(encodeControl(packet({ poll: true })))).toBe(GOLDEN_UP_POLL.replace(/\s+/g, ''));
  });

  it('decodes the golden Down packet with diag 1 and no Your Discriminator', () => {
    expect(decodeControl(fromHex(GOLDEN_DOWN_DIAG1))).toEqual({
      ok: true,
      packet: packet({
        diag: 1,
        state: 'Down',
        detectMult: 5,
        myDiscriminator: 42,
        yourDiscriminator: 0,
        desiredMinTxUs: 1_000_000,
        requiredMinRxUs: 100_000,
      }),
    });
  });

  it('sets each flag bit where RFC 5880 4.1 puts it', () => {
    const flags = ['poll', 'final', 'controlPlaneIndependent', 'authenticationPresent', 'demand', 'multipoint'] as const;
    flags.forEach((flag, i) => {
      expect(encodeControl(packet({ state: 'AdminDown', [flag]: true }))[1]).toBe(0x20 >> i);
    });
    expect(BFD_STATES.map((state) => encodeControl(packet({ state }))[1])).toEqual([0x00, 0x40, 0x80, 0xc0]);
  });

  it('ignores bytes past the Length field', () => {
    const bytes = new Uint8Array(30);
    bytes.set(fromHex(GOLDEN_UP_POLL));
    expect(decodeControl(bytes)).toMatchObject({ ok: true, packet: { poll: true } });
  });

  it('decodes from a view into a larger buffer', () => {
    const buffer = new Uint8Array(40);
    buffer.set(fromHex(GOLDEN_UP_POLL), 8);
    expect(decodeControl(buffer.subarray(8, 32))).toMatchObject({ ok: true, packet: { myDiscriminator: 0x1122_3344 } });
  });

  const withByte = (bytes: Uint8Array, index: number, value: number): Uint8Array => {
    const copy = Uint8Array.from(bytes);
    copy[index] = value;
    return copy;
  };
  const good = encodeControl(packet());

  it.each<[string, Uint8Array, string]>([
    ['fewer than 4 bytes', good.subarray(0, 3), 'truncated'],
    ['version 0', withByte(good, 0, 0x00), 'badVersion'],
    ['version 2', withByte(good, 0, 0x40), 'badVersion'],
    ['Length below 24', withByte(good, 3, 23), 'lengthTooShort'],
    ['the A bit with Length 24 (no room for an auth section)', withByte(good, 1, 0xc4), 'lengthTooShort'],
    ['Length beyond the payload', good.subarray(0, 20), 'lengthExceedsPayload'],
    ['Detect Mult 0', encodeControl(packet({ detectMult: 0 })), 'zeroDetectMult'],
    ['the Multipoint bit', encodeControl(packet({ multipoint: true })), 'multipoint'],
    ['My Discriminator 0', encodeControl(packet({ myDiscriminator: 0 })), 'zeroMyDiscriminator'],
    ['Your Discriminator 0 in state Up', encodeControl(packet({ yourDiscriminator: 0 })), 'zeroYourDiscriminatorNotDown'],
    ['Your Discriminator 0 in state Init', encodeControl(packet({ yourDiscriminator: 0, state: 'Init' })), 'zeroYourDiscriminatorNotDown'],
    ['an authentication section (we do not do BFD authentication)', (() => {
      const bytes = new Uint8Array(28);
      bytes.set(encodeControl(packet({ authenticationPresent: true })));
      bytes[3] = 28;
      bytes.set([1, 4, 0, 0], 24); // Simple Password, Auth Len 4
      return bytes;
    })(), 'authenticationUnsupported'],
    ['both Poll and Final', encodeControl(packet({ poll: true, final: true })), 'pollAndFinal'],
  ])('discards a packet with %s', (_title, bytes, reason) => {
    expect(decodeControl(bytes)).toEqual({ ok: false, reason });
  });

  it('accepts Your Discriminator 0 in states Down and AdminDown', () => {
    expect(decodeControl(encodeControl(packet({ yourDiscriminator: 0, state: 'Down' }))).ok).toBe(true);
    expect(decodeControl(encodeControl(packet({ yourDiscriminator: 0, state: 'AdminDown' }))).ok).toBe(true);
  });

  const arbValidPacket: fc.Arbitrary<BfdControlPacket> = fc
    .record({
      diag: fc.integer({ min: 0, max: 31 }),
      state: fc.constantFrom(...BFD_STATES),
      poll: fc.boolean(),
      final: fc.boolean(),
      controlPlaneIndependent: fc.boolean(),
      authenticationPresent: fc.constant(false),
      demand: fc.boolean(),
      multipoint: fc.constant(false),
      detectMult: fc.integer({ min: 1, max: 255 }),
      myDiscriminator: fc.integer({ min: 1, max: 0xffff_ffff }),
      yourDiscriminator: fc.integer({ min: 0, max: 0xffff_ffff }),
      desiredMinTxUs: fc.integer({ min: 0, max: 0xffff_ffff }),
      requiredMinRxUs: fc.integer({ min: 0, max: 0xffff_ffff }),
      requiredMinEchoRxUs: fc.integer({ min: 0, max: 0xffff_ffff }),
    })
    .filter((p) => !(p.poll && p.final) && (p.yourDiscriminator !== 0 || p.state === 'Down' || p.state === 'AdminDown'));

  it('round-trips every valid packet', () => {
    fc.assert(
      fc.property(arbValidPacket, (p) => {
        const bytes = encodeControl(p);
        expect(bytes.length).toBe(24);
        expect(decodeControl(bytes)).toEqual({ ok: true, packet: p });
      }),
    );
  });

  it('never throws on arbitrary bytes, and re-encodes whatever it accepts to the same 24 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = decodeControl(bytes);
        if (!result.ok) return;
        // Everything but the Length byte (we always send 24) comes back as it was.
        const again = encodeControl(result.packet);
        expect(hex(again.subarray(0, 3)) + hex(again.subarray(4))).toBe(hex(bytes.subarray(0, 3)) + hex(bytes.subarray(4, 24)));
      }),
      { numRuns: 2000 },
    );
  });
});
