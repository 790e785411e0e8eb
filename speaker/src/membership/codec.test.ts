import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatIP } from '@herald/shared/ip';
import { MAX_DATAGRAM, TAG_LEN, decode, encode, encodeBounded, signRaw, type MemberUpdate, type Message } from './codec.js';

const key = Buffer.from('herald-test-key-0123456789abcdef');
const otherKey = Buffer.from('another-key-fedcba9876543210....');

const arbName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 253);
const arbAddress = fc.oneof(
  fc.ipV4(),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => formatIP({ family: 6, value })),
);
const arbUpdate: fc.Arbitrary<MemberUpdate> = fc.record({
  name: arbName,
  address: arbAddress,
  port: fc.integer({ min: 0, max: 65535 }),
  incarnation: fc.integer({ min: 0, max: 0xffffffff }),
  state: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
  by: fc.oneof(fc.constant(''), arbName),
});
const common = {
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  from: arbName,
  syncRequest: fc.boolean(),
  updates: fc.array(arbUpdate, { maxLength: 8 }),
};
const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ ...common, type: fc.constant('ping' as const), target: fc.oneof(fc.constant(''), arbName) }),
  fc.record({ ...common, type: fc.constant('ack' as const) }),
  fc.record({
    ...common,
    type: fc.constant('ping-req' as const),
    target: arbName,
    targetEndpoint: fc.record({ address: arbAddress, port: fc.integer({ min: 0, max: 65535 }) }),
  }),
  fc.record({ ...common, type: fc.constant('indirect-ack' as const), target: arbName }),
  fc.record({ ...common, type: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'leave' as const) }),
);

const golden: Message = {
  type: 'ping',
  seq: 0x01020304,
  from: 'node-a',
  syncRequest: false,
  target: 'node-b',
  updates: [
    { name: 'node-c', address: '10.0.0.3', port: 7946, incarnation: 5, state: 'suspect', by: 'node-a' },
    { name: 'node-d', address: 'fd00::4', port: 7946, incarnation: 1, state: 'alive', by: '' },
  ],
};
// version 1, type ping, flags 0, seq, "node-a", target "node-b", 2 updates
// (suspect inc 5 port 7946 v4 10.0.0.3 "node-c" by "node-a"; alive inc 1 port 7946 v6 fd00::4 "node-d" by ""), tag.
const goldenHex =
  '01000001020304066e6f64652d61066e6f64652d620201000000051f0a040a000003066e6f64652d63066e6f64652d61' +
  '00000000011f0a06fd000000000000000000000000000004066e6f64652d6400' +
  '842ec8e8f6d9a241d32fb31dc58d7dc9e0ef023402968ec76aecb8b71725a828';

describe('membership codec', () => {
  it('encodes a ping with piggybacked updates to the documented bytes', () => {
    expect(encode(golden, key).toString('hex')).toBe(goldenHex);
    expect(decode(Buffer.from(goldenHex, 'hex'), [key])).toEqual({ ok: true, msg: golden });
  });

  it('round-trips any message that fits', () => {
    fc.assert(
      fc.property(arbMessage, (msg) => {
        const e = encodeBounded(msg, key);
        const r = decode(e.bytes, [key]);
        expect(r).toEqual({ ok: true, msg: { ...msg, updates: msg.updates.slice(0, e.included) } });
      }),
      { numRuns: 500 },
    );
  });

  it('never produces a datagram over 1200 bytes, leaving out the updates that do not fit', () => {
    fc.assert(
      fc.property(arbMessage, fc.array(arbUpdate, { minLength: 20, maxLength: 60 }), (msg, more) => {
        const e = encodeBounded({ ...msg, updates: [...msg.updates, ...more] }, key);
        expect(e.bytes.length).toBeLessThanOrEqual(MAX_DATAGRAM);
        expect(e.included).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
    const longName = 'n'.repeat(253);
    const big: Message = {
      type: 'ping-req',
      seq: 1,
      from: longName,
      syncRequest: true,
      target: longName,
      targetEndpoint: { address: 'fd00::1', port: 1 },
      updates: [{ name: longName, address: 'fd00::2', port: 2, incarnation: 1, state: 'suspect', by: longName }],
    };
    expect(encode(big, key).length).toBeLessThanOrEqual(MAX_DATAGRAM);
  });

  it('rejects any flipped bit after the version byte as badTag', () => {
    const good = Buffer.from(goldenHex, 'hex');
    fc.assert(
      fc.property(fc.integer({ min: 8, max: good.length * 8 - 1 }), (bit) => {
        const bad = Buffer.from(good);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(decode(bad, [key])).toEqual({ ok: false, reason: 'badTag' });
      }),
    );
  });

  it('rejects a message signed with another key', () => {
    expect(decode(encode(golden, otherKey), [key])).toEqual({ ok: false, reason: 'badTag' });
  });

  it('accepts either key during rotation and signs with the first', () => {
    const signedOld = encode(golden, key);
    const signedNew = encode(golden, otherKey);
    expect(decode(signedOld, [otherKey, key]).ok).toBe(true);
    expect(decode(signedNew, [otherKey, key]).ok).toBe(true);
    expect(decode(signedNew, [key]).ok).toBe(false);
  });

  it('names the reason for short, oversized, foreign-version and garbage input, and never throws', () => {
    const good = Buffer.from(goldenHex, 'hex');
    expect(decode(Buffer.alloc(0), [key])).toEqual({ ok: false, reason: 'truncated' });
    expect(decode(good.subarray(0, 20), [key])).toEqual({ ok: false, reason: 'truncated' });
    // Cut after the minimum length: the tag no longer covers what is left.
    expect(decode(good.subarray(0, good.length - 5), [key])).toEqual({ ok: false, reason: 'badTag' });
    expect(decode(Buffer.alloc(MAX_DATAGRAM + 1, 1), [key])).toEqual({ ok: false, reason: 'tooLarge' });
    const v2 = Buffer.from(good);
    v2[0] = 2;
    expect(decode(v2, [key])).toEqual({ ok: false, reason: 'badVersion' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1300 }), (bytes) => {
        const r = decode(Buffer.from(bytes), [key]);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects malformed bodies behind a valid tag (a buggy or hostile key holder)', () => {
    const body = Buffer.from(goldenHex, 'hex').subarray(0, -TAG_LEN);
    expect(decode(signRaw(body.subarray(0, body.length - 3), key), [key])).toEqual({ ok: false, reason: 'truncated' });
    expect(decode(signRaw(Buffer.concat([body, Buffer.from([0])]), key), [key])).toEqual({ ok: false, reason: 'trailingBytes' });
    const badType = Buffer.from(body);
    badType[1] = 42;
    expect(decode(signRaw(badType, key), [key])).toEqual({ ok: false, reason: 'badType' });
    const badState = Buffer.from(body);
    badState[22] = 9; // state of the first update
    expect(decode(signRaw(badState, key), [key])).toEqual({ ok: false, reason: 'badField' });
    const badFamily = Buffer.from(body);
    badFamily[29] = 5; // address family of the first update
    expect(decode(signRaw(badFamily, key), [key])).toEqual({ ok: false, reason: 'badField' });
    // Arbitrary signed bodies: any outcome but an exception.
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void decode(signRaw(Buffer.concat([Buffer.from([1]), Buffer.from(b)]), key), [key])));
  });
});
