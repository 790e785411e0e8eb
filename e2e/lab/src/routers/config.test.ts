import { describe, expect, it } from '@jest/globals';
import { keepaliveFor, resolveConfig } from './config.js';

const base = { asn: 64512, routerId: '192.0.2.201' };

describe('resolveConfig', () => {
  it('fills in both families, hold time 90 s, passive sessions and canonical addresses', () => {
    const c = resolveConfig({ ...base, neighbors: [{ address: '2001:DB8:0::0011', asn: 64512 }, { address: '192.0.2.11', asn: 4_200_000_001 }] });
    expect(c.families).toEqual(['ipv4', 'ipv6']);
    expect(c.holdTimeSec).toBe(90);
    expect(c.neighbors[0]).toMatchObject({ address: '2001:db8::11', family: 'ipv6', ibgp: true, passive: true, multihop: false, gracefulRestart: false, holdTimeSec: 90, families: ['ipv4', 'ipv6'] });
    expect(c.neighbors[1]).toMatchObject({ address: '192.0.2.11', family: 'ipv4', ibgp: false });
  });

  it.each([
    ['a hold time of 2 s (RFC 4271 4.2)', { ...base, holdTimeSec: 2, neighbors: [] }],
    ['an ASN of 0', { ...base, asn: 0, neighbors: [] }],
    ['a router id that is not a dotted quad', { ...base, routerId: '2001:db8::1', neighbors: [] }],
    ['a neighbour that is not an address', { ...base, neighbors: [{ address: 'router.example', asn: 1 }] }],
    ['the same neighbour twice', { ...base, neighbors: [{ address: '192.0.2.11', asn: 1 }, { address: '192.0.2.11', asn: 2 }] }],
    ['a password with a space', { ...base, neighbors: [{ address: '192.0.2.11', asn: 1, password: 'a b' }] }],
    ['a neighbour family the router does not run', { ...base, families: ['ipv4' as const], neighbors: [{ address: '192.0.2.11', asn: 1, families: ['ipv6' as const] }] }],
    ['a BFD multiplier of 1', { ...base, neighbors: [{ address: '192.0.2.11', asn: 1, bfd: { rxMs: 300, txMs: 300, multiplier: 1 } }] }],
  ])('refuses %s', (_what, config) => {
    expect(() => resolveConfig(config)).toThrow(expect.objectContaining({ code: 'BadOptions' }));
  });

  it('derives keepalives as a third of the hold time', () => {
    expect([keepaliveFor(90), keepaliveFor(3), keepaliveFor(0), keepaliveFor(10)]).toEqual([30, 1, 0, 3]);
  });
});
