import { describe, expect, it } from '@jest/globals';
import { BgpCodecError } from '../codec/errors.js';
import { packUpdates } from '../codec/pack.js';
import { formatPrefix } from '../codec/prefix.js';
import { AdjRibOut, buildRib, diffRib, normalizeRoute, parseLargeCommunity, toAdvertisements, withGracefulShutdown, type PeerRoute } from './adjribout.js';

const r = (prefix: string, extra: Partial<PeerRoute> = {}): PeerRoute => ({ prefix, nextHop: '192.0.2.1', ...extra });
const keys = (prefixes: readonly { length: number; bytes: Uint8Array; afi: 'ipv4' | 'ipv6' }[]): string[] => prefixes.map(formatPrefix);

describe('normalizeRoute', () => {
  it('treats routes as equal whatever the order or repetition of their communities', () => {
    const a = normalizeRoute(r('10.0.0.1/32', { communities: ['65535:0', '64512:7', '65535:0'], largeCommunities: ['1:2:3', '1:1:9'] }));
    const b = normalizeRoute(r('10.0.0.1/32', { communities: ['64512:7', '65535:0'], largeCommunities: ['1:1:9', '1:2:3', '1:2:3'] }));
    expect(a.attrKey).toBe(b.attrKey);
    expect(a.communities).toEqual([64512 * 0x10000 + 7, 0xffff_0000]);
    expect(a.largeCommunities).toEqual([
      [1, 1, 9],
      [1, 2, 3],
    ]);
  });

  it('canonicalises the prefix key and the IPv6 next hop', () => {
    const v6 = normalizeRoute({ prefix: '2001:DB8:0::1/128', nextHop: '2001:db8:0:0::ff' });
    expect(v6.key).toBe('2001:db8::1/128');
    expect(v6.nextHop).toBe('2001:db8::ff');
  });

  it('rejects a next hop of the other family, host bits, bad communities and out-of-range numbers', () => {
    expect(() => normalizeRoute({ prefix: '10.0.0.1/32', nextHop: '2001:db8::1' })).toThrow(BgpCodecError);
    expect(() => normalizeRoute(r('10.0.0.1/24'))).toThrow(/host bits/);
    expect(() => normalizeRoute(r('10.0.0.1/32', { communities: ['70000:1'] }))).toThrow(BgpCodecError);
    expect(() => normalizeRoute(r('10.0.0.1/32', { med: -1 }))).toThrow(RangeError);
    expect(() => normalizeRoute(r('10.0.0.1/32', { nextHop: 'gateway' }))).toThrow(/bad next hop/);
  });

  it('parses large communities as three unsigned 32-bit numbers', () => {
    expect(parseLargeCommunity('4200000001:0:4294967295')).toEqual([4200000001, 0, 4294967295]);
    expect(() => parseLargeCommunity('4294967296:0:0')).toThrow(BgpCodecError);
    expect(() => parseLargeCommunity('1:2')).toThrow(BgpCodecError);
  });
});

describe('diffRib', () => {
  it('announces new and changed routes and withdraws removed ones, leaving unchanged ones alone', () => {
    const current = buildRib([r('10.0.0.1/32'), r('10.0.0.2/32'), r('10.0.0.3/32', { med: 5 })]);
    const next = buildRib([r('10.0.0.1/32'), r('10.0.0.3/32', { med: 6 }), r('10.0.0.4/32')]);
    const diff = diffRib(current, next);
    expect(diff.announce.map((x) => x.key)).toEqual(['10.0.0.3/32', '10.0.0.4/32']);
    expect(keys(diff.withdraw)).toEqual(['10.0.0.2/32']);
  });

  it('finds nothing to send when the set is the same', () => {
    const diff = diffRib(buildRib([r('10.0.0.1/32', { communities: ['1:1', '2:2'] })]), buildRib([r('10.0.0.1/32', { communities: ['2:2', '1:1'] })]));
    expect(diff).toEqual({ announce: [], withdraw: [] });
  });

  it('keeps the last route of a prefix listed twice', () => {
    const rib = buildRib([r('10.0.0.1/32', { med: 1 }), r('10.0.0.1/32', { med: 2 })]);
    expect([...rib.values()].map((x) => x.med)).toEqual([2]);
  });
});

describe('AdjRibOut', () => {
  it('reports the full set first, then only the changes', () => {
    const rib = new AdjRibOut();
    const first = rib.replace([r('10.0.0.1/32'), r('10.0.0.2/32')]);
    expect(first.announce).toHaveLength(2);
    expect(first.withdraw).toHaveLength(0);
    const second = rib.replace([r('10.0.0.2/32')]);
    expect(second.announce).toHaveLength(0);
    expect(keys(second.withdraw)).toEqual(['10.0.0.1/32']);
    expect(rib.size).toBe(1);
  });

  it('keeps its contents when the new set has an invalid route', () => {
    const rib = new AdjRibOut();
    rib.replace([r('10.0.0.1/32')]);
    expect(() => rib.replace([r('10.0.0.2/32'), r('not-a-prefix')])).toThrow(BgpCodecError);
    expect([...rib.routes].map((x) => x.key)).toEqual(['10.0.0.1/32']);
  });
});

describe('toAdvertisements', () => {
  const ctx = { fourOctetAs: true, extendedMessages: false };

  it('gives an external peer our AS as the path and no LOCAL_PREF; routes with equal attributes share one UPDATE', () => {
    const routes = buildRib([
      r('10.0.0.1/32', { localPref: 200, communities: ['65535:0'] }),
      r('10.0.0.2/32', { localPref: 200, communities: ['65535:0'] }),
      r('10.0.0.3/32', { med: 10 }),
    ]);
    const adv = toAdvertisements(routes.values(), { localAsn: 4_200_000_001, ibgp: false });
    expect(adv[0]?.attrs).toBe(adv[1]?.attrs);
    expect(adv[0]?.attrs).toEqual({
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [4_200_000_001] }],
      nextHop: '192.0.2.1',
      communities: [0xffff_0000],
    });
    expect(packUpdates(adv, [], ctx)).toHaveLength(2);
  });

  it('gives an internal peer an empty path and LOCAL_PREF, and IPv6 routes an MP_REACH next hop', () => {
    const routes = buildRib([r('10.0.0.1/32', { localPref: 200 }), { prefix: '2001:db8::1/128', nextHop: '2001:db8::ff' }]);
    const [v4, v6] = toAdvertisements(routes.values(), { localAsn: 64512, ibgp: true });
    expect(v4?.attrs).toMatchObject({ asPath: [], localPref: 200 });
    expect(v6?.attrs).toMatchObject({ asPath: [], mpReach: { afi: 'ipv6', nextHop: '2001:db8::ff', nlri: [] } });
    expect(v6?.attrs.nextHop).toBeUndefined();
  });
});

describe('withGracefulShutdown', () => {
  it('adds GRACEFUL_SHUTDOWN (RFC 8326) once, keeps communities sorted, and keeps shared attributes shared', () => {
    const [a, b, c] = [...buildRib([
      { prefix: '198.51.100.1/32', nextHop: '192.0.2.1', communities: ['65535:1', '64512:9'] },
      { prefix: '198.51.100.2/32', nextHop: '192.0.2.1', communities: ['64512:9', '65535:1'] },
      { prefix: '198.51.100.3/32', nextHop: '192.0.2.1', communities: ['65535:0'] },
    ]).values()].map(withGracefulShutdown);
    expect(a?.communities).toEqual([0xfc00_0009, 0xffff_0000, 0xffff_0001]);
    expect(a?.attrKey).toBe(b?.attrKey);
    expect(c?.communities).toEqual([0xffff_0000]);
  });
});
