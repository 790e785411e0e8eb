import { describe, expect, it } from '@jest/globals';
import {
  decodeMessage,
  encodeMessage,
  encodePathAttributes,
  formatPrefix,
  packUpdates,
  parsePrefix,
  WellKnownCommunity,
  type CodecContext,
  type PathAttributes,
  type Prefix,
  type RouteAdvertisement,
  type UpdateMessage,
} from './index.js';

const ctx: CodecContext = { fourOctetAs: true, extendedMessages: false };
const extended: CodecContext = { fourOctetAs: true, extendedMessages: true };

const attrsA: PathAttributes = {
  origin: 'igp',
  asPath: [{ type: 'sequence', asns: [64512] }],
  nextHop: '192.0.2.10',
  localPref: 100,
  communities: [WellKnownCommunity.NO_EXPORT],
};

function v4Hosts(count: number, base = 10): Prefix[] {
  return Array.from({ length: count }, (_, i) => parsePrefix(`${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`));
}

function v6Hosts(count: number): Prefix[] {
  return Array.from({ length: count }, (_, i) => parsePrefix(`2001:db8::${(i + 1).toString(16)}/128`));
}

/** Encodes, checks the size bound, decodes, and collects what the peer would see. */
function deliver(messages: UpdateMessage[], context: CodecContext, max: number): { announced: Map<string, PathAttributes>; withdrawn: Set<string> } {
  const announced = new Map<string, PathAttributes>();
  const withdrawn = new Set<string>();
  for (const message of messages) {
    const bytes = encodeMessage(message, context);
    expect(bytes.length).toBeLessThanOrEqual(max);
    const result = decodeMessage(bytes, context);
    if (result.outcome !== 'ok' || result.message.type !== 'update') throw new Error(`packed UPDATE did not decode cleanly: ${result.outcome}`);
    const { attributes, nlri, withdrawn: gone } = result.message;
    const { mpReach, mpUnreach, ...rest } = attributes;
    for (const p of [...gone, ...(mpUnreach?.withdrawn ?? [])]) withdrawn.add(formatPrefix(p));
    for (const p of nlri) announced.set(formatPrefix(p), rest);
    for (const p of mpReach?.nlri ?? []) announced.set(formatPrefix(p), { ...rest, mpReach: { ...mpReach!, nlri: [] } });
  }
  return { announced, withdrawn };
}

describe('packUpdates', () => {
  it('fits 10,000 /32 routes with identical attributes into ceil(10000 / floor((4096 - 23 - attrs) / 5)) UPDATEs', () => {
    const routes = v4Hosts(10_000).map((prefix) => ({ prefix, attrs: attrsA }));
    const attrLength = encodePathAttributes(attrsA, ctx).length;
    const perMessage = Math.floor((4096 - 23 - attrLength) / 5);
    const messages = packUpdates(routes, [], { ...ctx, maxMessageLength: 4096 });
    expect(messages).toHaveLength(Math.ceil(10_000 / perMessage));
    const { announced } = deliver(messages, ctx, 4096);
    expect(announced.size).toBe(10_000);
    // Every message but the last is full: one more /32 would not have fitted.
    for (const m of messages.slice(0, -1)) expect(encodeMessage(m, ctx).length + 5).toBeGreaterThan(4096);
  });

  it('groups a mixed set by attributes, treating equal attributes in different objects as one group', () => {
    const attrsB: PathAttributes = { ...attrsA, localPref: 200 };
    const attrsC: PathAttributes = { ...attrsA, communities: [WellKnownCommunity.GRACEFUL_SHUTDOWN] };
    const hosts = v4Hosts(3000);
    const pick = [attrsA, attrsB, attrsC];
    const routes: RouteAdvertisement[] = hosts.map((prefix, i) => ({ prefix, attrs: i % 4 === 3 ? { ...attrsA } : pick[i % 3]! }));
    const messages = packUpdates(routes, [], ctx);
    const expected = [attrsA, attrsB, attrsC]
      .map((attrs) => {
        const count = routes.filter((r) => encodePathAttributes(r.attrs, ctx).join() === encodePathAttributes(attrs, ctx).join()).length;
        return Math.ceil(count / Math.floor((4096 - 23 - encodePathAttributes(attrs, ctx).length) / 5));
      })
      .reduce((a, b) => a + b, 0);
    expect(messages).toHaveLength(expected);
    const { announced } = deliver(messages, ctx, 4096);
    expect(announced.size).toBe(3000);
    for (const route of routes) expect(announced.get(formatPrefix(route.prefix))).toEqual(route.attrs);
  });

  it('packs IPv6 routes into MP_REACH_NLRI with the next hops of the group', () => {
    const attrs: PathAttributes = {
      origin: 'igp',
      asPath: [],
      localPref: 100,
      mpReach: { afi: 'ipv6', nextHop: '2001:db8::a', linkLocalNextHop: 'fe80::a', nlri: [] },
    };
    const routes = v6Hosts(2000).map((prefix) => ({ prefix, attrs }));
    const base = encodePathAttributes({ origin: 'igp', asPath: [], localPref: 100 }, ctx).length;
    // 4-octet MP_REACH_NLRI header (value > 255), AFI/SAFI/length/next hops/reserved = 37, 17 octets per /128.
    const perMessage = Math.floor((4096 - 23 - base - 4 - 37) / 17);
    const messages = packUpdates(routes, [], ctx);
    expect(messages).toHaveLength(Math.ceil(2000 / perMessage));
    expect(messages.every((m) => m.nlri.length === 0 && m.attributes.nextHop === undefined)).toBe(true);
    const { announced } = deliver(messages, ctx, 4096);
    expect(announced.size).toBe(2000);
    expect(announced.get('2001:db8::1/128')).toEqual(attrs);
  });

  it('needs fewer UPDATEs once extended messages allow 65535 octets', () => {
    const routes = v4Hosts(50_000).map((prefix) => ({ prefix, attrs: attrsA }));
    const small = packUpdates(routes, [], ctx);
    const big = packUpdates(routes, [], extended);
    const attrLength = encodePathAttributes(attrsA, ctx).length;
    expect(big).toHaveLength(Math.ceil(50_000 / Math.floor((65535 - 23 - attrLength) / 5)));
    expect(big.length).toBeLessThan(small.length / 10);
    expect(deliver(big, extended, 65535).announced.size).toBe(50_000);
  });

  it('puts withdrawals into the room left in announcement UPDATEs before starting new ones', () => {
    const routes = v4Hosts(100).map((prefix) => ({ prefix, attrs: attrsA }));
    const gone = [...v4Hosts(50, 172), ...v6Hosts(30)];
    const messages = packUpdates(routes, gone, ctx);
    expect(messages).toHaveLength(1);
    const { announced, withdrawn } = deliver(messages, ctx, 4096);
    expect(announced.size).toBe(100);
    expect(withdrawn.size).toBe(80);
  });

  it('packs withdrawals alone into ceil(n / floor((4096 - 23) / 5)) UPDATEs', () => {
    const messages = packUpdates([], v4Hosts(2000), ctx);
    expect(messages).toHaveLength(Math.ceil(2000 / Math.floor((4096 - 23) / 5)));
    expect(deliver(messages, ctx, 4096).withdrawn.size).toBe(2000);
  });

  it('announces a prefix that is both announced and withdrawn, with its last attributes', () => {
    const [p] = v4Hosts(1);
    const later: PathAttributes = { ...attrsA, med: 5 };
    const messages = packUpdates(
      [
        { prefix: p!, attrs: attrsA },
        { prefix: p!, attrs: later },
      ],
      [p!],
      ctx,
    );
    const { announced, withdrawn } = deliver(messages, ctx, 4096);
    expect(withdrawn.size).toBe(0);
    expect(announced.get(formatPrefix(p!))).toEqual(later);
  });

  it('returns nothing for nothing, and refuses routes without a usable next hop', () => {
    expect(packUpdates([], [], ctx)).toEqual([]);
    const { nextHop: _drop, ...noNextHop } = attrsA;
    expect(() => packUpdates([{ prefix: v4Hosts(1)[0]!, attrs: noNextHop }], [], ctx)).toThrow(/nextHop/);
    expect(() => packUpdates([{ prefix: v6Hosts(1)[0]!, attrs: attrsA }], [], ctx)).toThrow(/mpReach/);
  });
});
