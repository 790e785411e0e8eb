import { describe, expect, it } from '@jest/globals';
import { celIsCIDR, celIsIP, celParseCIDR, cidrRange, poolEntryRange, splitPoolRange } from './ip.js';

describe('celIsIP, as the Kubernetes CEL ip library', () => {
  it.each(['192.0.2.1', '0.0.0.0', '::', '::1', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '64:ff9b::192.0.2.1'])(
    'accepts %s',
    (text) => {
      expect(celIsIP(text)).toBe(true);
    },
  );

  it.each([
    ['192.168.010.1', 'leading zero (refused by netip since Go 1.17)'],
    ['256.1.1.1', 'octet above 255'],
    ['::ffff:192.0.2.1', 'IPv4-mapped (refused by the Kubernetes CEL ip library)'],
    ['::ffff:c000:201', 'IPv4-mapped in hex'],
    ['fe80::1%eth0', 'zone'],
    ['1::2::3', 'two ::'],
    [' 192.0.2.1', 'leading space'],
    ['', 'empty'],
  ])('refuses %s (%s)', (text) => {
    expect(celIsIP(text)).toBe(false);
  });
});

describe('celParseCIDR, as the Kubernetes CEL cidr library', () => {
  it('keeps host bits, as MetalLB accepts 10.0.0.1/24', () => {
    const cidr = celParseCIDR('10.0.0.1/24');
    expect(cidr?.prefixLength).toBe(24);
    expect(cidr && cidrRange(cidr)).toEqual({ family: 4, first: 0x0a000000n, last: 0x0a0000ffn });
  });

  it.each(['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/024', '10.0.0.0', '10.0.0.0/', 'x/8', '::ffff:10.0.0.0/104'])(
    'refuses %s',
    (text) => {
      expect(celIsCIDR(text)).toBe(false);
    },
  );
});

describe('pool entries', () => {
  it('trims spaces around the dash of a range, as MetalLB does', () => {
    expect(splitPoolRange('192.0.2.1 - 192.0.2.9')).toEqual({
      start: { family: 4, value: 0xc0000201n },
      end: { family: 4, value: 0xc0000209n },
    });
  });

  it('needs exactly one dash', () => {
    expect(splitPoolRange('192.0.2.1')).toBeUndefined();
    expect(splitPoolRange('192.0.2.1-192.0.2.5-192.0.2.9')).toBeUndefined();
  });

  it('covers a range inclusively and refuses one that runs backwards or mixes families', () => {
    expect(poolEntryRange('192.0.2.1-192.0.2.9')).toEqual({ family: 4, first: 0xc0000201n, last: 0xc0000209n });
    expect(poolEntryRange('192.0.2.9-192.0.2.1')).toBeUndefined();
    expect(poolEntryRange('192.0.2.1-2001:db8::1')).toBeUndefined();
  });
});
