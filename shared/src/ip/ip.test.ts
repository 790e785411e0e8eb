import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { Address6 } from 'ip-address';
import { formatIP, formatRange, isAddressParseError, parseIP, parsePoolAddress, rangeSize, type IP } from './ip.js';

const arbV4: fc.Arbitrary<IP> = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4, value }));
const arbV6: fc.Arbitrary<IP> = fc
  .tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 6 }))
  // Zero out some groups so that '::' compression paths are exercised often.
  .map(([v, zeros]) => ({ family: 6, value: zeros.reduce((acc, g) => acc & ~(0xffffn << BigInt(g * 16)), v) }));

describe('IP text', () => {
  it('round-trips every IPv4 and IPv6 value through its canonical text', () => {
    fc.assert(
      fc.property(fc.oneof(arbV4, arbV6), (ip) => {
        const text = formatIP(ip);
        expect(parseIP(text)).toEqual(ip);
        expect(isIP(text)).toBe(ip.family);
      }),
      { numRuns: 5000 },
    );
  });

  it('formats IPv6 as RFC 5952 canonical text, agreeing with ip-address', () => {
    fc.assert(
      fc.property(arbV6, (ip) => {
        expect(formatIP(ip)).toBe(Address6.fromBigInt(ip.value).correctForm());
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // RFC 5952 4.2.2: one zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3: the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3: the first of equal runs
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['::', '::'],
    ['0.0.0.0', '0.0.0.0'],
  ])('canonicalises %s as %s', (input, want) => {
    const ip = parseIP(input);
    expect(ip && formatIP(ip)).toBe(want);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::', ':1', '1.2.3.-1'])(
    'refuses %j',
    (input) => {
      expect(parseIP(input)).toBeUndefined();
    },
  );

  it('accepts exactly what Node accepts, apart from zones and leading zeros', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 12 })), (s) => {
        const ours = parseIP(s) !== undefined;
        const node = isIP(s) !== 0 && !s.includes('%') && !/(^|[.:])0\d/.test(s.split(':').pop() ?? '');
        if (!s.includes(':')) expect(ours).toBe(node);
        else if (ours) expect(isIP(s)).toBe(6);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('pool address entries', () => {
  it('reads a CIDR, masking host bits like Go net.ParseCIDR', () => {
    const r = parsePoolAddress('192.168.10.7/24');
    expect(r).toEqual({ family: 4, first: 0xc0a80a00n, last: 0xc0a80affn });
  });

  it('reads a range, with or without spaces around the dash', () => {
    expect(parsePoolAddress('10.0.0.10 - 10.0.0.20')).toEqual({ family: 4, first: 0x0a00000an, last: 0x0a000014n });
    expect(parsePoolAddress('2001:db8::1-2001:db8::ff')).toMatchObject({ family: 6, first: 0x20010db8000000000000000000000001n });
  });

  it('sizes an IPv6 /64 exactly', () => {
    const r = parsePoolAddress('2001:db8:1:2::/64');
    if (isAddressParseError(r)) throw new Error(r.message);
    expect(rangeSize(r)).toBe(1n << 64n);
    expect(formatRange(r)).toBe('2001:db8:1:2::/64');
  });

  it.each([
    ['10.0.0.0/33', 'exceeds 32'],
    ['10.0.0.5-10.0.0.1', 'after its end'],
    ['10.0.0.1-2001:db8::1', 'mix IPv4 and IPv6'],
    ['10.0.0.1', 'expected a CIDR'],
    ['foo/24', 'not a CIDR'],
    ['10.0.0.0/0x', 'prefix length'],
  ])('refuses %s, saying why', (entry, why) => {
    const r = parsePoolAddress(entry);
    expect(isAddressParseError(r) && r.message).toContain(why);
  });

  it('formats a non-aligned range as first-last', () => {
    const r = parsePoolAddress('10.0.0.1-10.0.0.4');
    if (isAddressParseError(r)) throw new Error(r.message);
    expect(formatRange(r)).toBe('10.0.0.1-10.0.0.4');
  });
});
