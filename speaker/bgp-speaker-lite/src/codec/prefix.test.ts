import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BgpCodecError, formatAddress, formatCommunity, formatPrefix, parseAddress, parseCommunity, parsePrefix, prefixEquals } from './index.js';

describe('prefixes and addresses', () => {
  it('parses an IPv4 prefix into its family, length and zero-padded address', () => {
    expect(parsePrefix('192.0.2.0/24')).toEqual({ afi: 'ipv4', length: 24, bytes: Uint8Array.from([192, 0, 2, 0]) });
    expect(formatPrefix(parsePrefix('192.0.2.0/24'))).toBe('192.0.2.0/24');
  });

  it('treats a bare address as a host prefix', () => {
    expect(formatPrefix(parsePrefix('198.51.100.1'))).toBe('198.51.100.1/32');
    expect(formatPrefix(parsePrefix('2001:db8::1'))).toBe('2001:db8::1/128');
  });

  it('prints IPv6 in RFC 5952 canonical form', () => {
    expect(formatPrefix(parsePrefix('2001:0DB8:0000:0000:0000:0000:0000:0000/32'))).toBe('2001:db8::/32');
    expect(formatPrefix(parsePrefix('2001:db8:0:0:1:0:0:1/128'))).toBe('2001:db8::1:0:0:1/128');
    expect(formatPrefix(parsePrefix('2001:db8:0:1:1:1:1:1/128'))).toBe('2001:db8:0:1:1:1:1:1/128');
    expect(formatPrefix(parsePrefix('::/0'))).toBe('::/0');
    expect(formatPrefix(parsePrefix('::ffff:c000:201/128'))).toBe('::ffff:192.0.2.1/128');
    expect(formatPrefix(parsePrefix('64:ff9b::192.0.2.1/128'))).toBe('64:ff9b::c000:201/128');
    expect(formatPrefix(parsePrefix('fe80::/10'))).toBe('fe80::/10');
  });

  it('rejects malformed text and host bits past the length', () => {
    for (const bad of ['192.0.2.0/33', '192.0.2/24', '192.0.2.1/24', '01.2.3.4/32', '2001:db8::/129', '2001:db8::1::1', '2001:db8:1/48', '1.2.3.4/', 'x']) {
      expect(() => parsePrefix(bad)).toThrow(BgpCodecError);
    }
  });

  it('formats any address back to text that parses to the same octets', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ minLength: 16, maxLength: 16 }), (v4, raw) => {
        const bytes = v4 ? raw.subarray(0, 4) : raw;
        const afi = v4 ? 'ipv4' : 'ipv6';
        const text = formatAddress(afi, bytes);
        expect(parseAddress(text)).toEqual({ afi, bytes: Uint8Array.from(bytes) });
      }),
    );
  });

  it('compares prefixes by family, length and address', () => {
    expect(prefixEquals(parsePrefix('10.0.0.0/8'), parsePrefix('10.0.0.0/8'))).toBe(true);
    expect(prefixEquals(parsePrefix('10.0.0.0/8'), parsePrefix('10.0.0.0/16'))).toBe(false);
  });

  it('reads and writes communities as asn:value', () => {
    expect(parseCommunity('65535:0')).toBe(0xffff0000);
    expect(formatCommunity(0xffffff01)).toBe('65535:65281');
    expect(() => parseCommunity('65536:1')).toThrow(BgpCodecError);
  });
});
