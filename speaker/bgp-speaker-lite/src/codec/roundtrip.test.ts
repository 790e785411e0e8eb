// Property-based round trips: for every message type, decode(encode(m)) is m, and encoding the
// decoded message gives the same octets again.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  AttrFlag,
  AttrType,
  ceaseNotification,
  decodeMessage,
  encodeMessage,
  formatAddress,
  mergeAs4Path,
  type AsPathSegment,
  type BgpMessage,
  type CodecContext,
  type NotificationMessage,
  type OpenMessage,
  type PathAttributes,
  type Prefix,
  type RawAttribute,
  type UpdateMessage,
} from './index.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function prefixArb(afi: 'ipv4' | 'ipv6'): fc.Arbitrary<Prefix> {
  const size = afi === 'ipv4' ? 4 : 16;
  return fc.record({ length: fc.integer({ min: 0, max: size * 8 }), raw: fc.uint8Array({ minLength: size, maxLength: size }) }).map(({ length, raw }) => {
    const bytes = Uint8Array.from(raw, (b, i) => b & ((0xff << (8 - Math.max(0, Math.min(8, length - 8 * i)))) & 0xff));
    return { afi, length, bytes };
  });
}

const ipv4Arb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatAddress('ipv4', b));
const ipv6Arb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatAddress('ipv6', b));

function asnArb(fourOctet: boolean): fc.Arbitrary<number> {
  return fc.integer({ min: 1, max: fourOctet ? 0xffffffff : 0xffff });
}

function pathArb(fourOctet: boolean, plain = false): fc.Arbitrary<AsPathSegment[]> {
  const types = plain ? (['sequence', 'set'] as const) : (['sequence', 'set', 'confed-sequence', 'confed-set'] as const);
  const segment = fc.record({ type: fc.constantFrom(...types), asns: fc.array(asnArb(fourOctet), { minLength: 1, maxLength: 12 }) });
  // AS4_PATH (plain) is never empty: RFC 6793 §6 calls that malformed.
  return fc.array(segment, { minLength: plain ? 1 : 0, maxLength: 4 });
}

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(AttrType).filter((t) => t !== AttrType.ORIGINATOR_ID && t !== AttrType.CLUSTER_LIST && t !== AttrType.EXTENDED_COMMUNITIES));

const rawAttributeArb: fc.Arbitrary<RawAttribute> = fc
  .record({
    typeCode: fc.integer({ min: 0, max: 255 }).filter((t) => !KNOWN_TYPES.has(t)),
    transitive: fc.boolean(),
    partial: fc.boolean(),
    extended: fc.boolean(),
    value: fc.uint8Array({ maxLength: 300 }),
  })
  .map(({ typeCode, transitive, partial, extended, value }) => ({
    flags:
      AttrFlag.OPTIONAL |
      (transitive ? AttrFlag.TRANSITIVE : 0) |
      (partial ? AttrFlag.PARTIAL : 0) |
      (extended || value.length > 255 ? AttrFlag.EXTENDED_LENGTH : 0),
    typeCode,
    value,
  }));

function attributesArb(ctx: CodecContext): fc.Arbitrary<PathAttributes> {
  const aggregator = fc.record({ asn: asnArb(ctx.fourOctetAs), address: ipv4Arb });
  const v6Reach = fc.record(
    { afi: fc.constant('ipv6' as const), nextHop: ipv6Arb, linkLocalNextHop: ipv6Arb, nlri: fc.array(prefixArb('ipv6'), { maxLength: 8 }) },
    { requiredKeys: ['afi', 'nextHop', 'nlri'] },
  );
  const v4Reach = fc.record({ afi: fc.constant('ipv4' as const), nextHop: fc.oneof(ipv4Arb, ipv6Arb), nlri: fc.array(prefixArb('ipv4'), { maxLength: 8 }) });
  const model = {
    origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
    asPath: pathArb(ctx.fourOctetAs),
    nextHop: ipv4Arb,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true as const),
    aggregator,
    communities: fc.array(u32, { minLength: 1, maxLength: 8 }),
    largeCommunities: fc.uniqueArray(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 5, selector: (t) => t.join(':') }),
    mpReach: fc.oneof(v6Reach, v4Reach),
    mpUnreach: fc.oneof(
      fc.record({ afi: fc.constant('ipv4' as const), withdrawn: fc.array(prefixArb('ipv4'), { maxLength: 6 }) }),
      fc.record({ afi: fc.constant('ipv6' as const), withdrawn: fc.array(prefixArb('ipv6'), { maxLength: 6 }) }),
    ),
    unknown: fc.uniqueArray(rawAttributeArb, { minLength: 1, maxLength: 3, selector: (a) => a.typeCode }),
    // RFC 6793: AS4_PATH / AS4_AGGREGATOR only exist towards 2-octet peers.
    ...(ctx.fourOctetAs ? {} : { as4Path: pathArb(true, true), as4Aggregator: fc.record({ asn: asnArb(true), address: ipv4Arb }) }),
  };
  return fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<PathAttributes>;
}

function updateArb(ctx: CodecContext): fc.Arbitrary<UpdateMessage> {
  return fc
    .record({ withdrawn: fc.array(prefixArb('ipv4'), { maxLength: 10 }), attributes: attributesArb(ctx), nlri: fc.array(prefixArb('ipv4'), { maxLength: 10 }) })
    .map(({ withdrawn, attributes, nlri }) => {
      // Routes need ORIGIN and AS_PATH, and NEXT_HOP for NLRI-field routes (RFC 4271 §5, RFC 7606 §3).
      const announces = nlri.length > 0 || (attributes.mpReach?.nlri.length ?? 0) > 0;
      const attrs: PathAttributes = announces ? { origin: 'igp', asPath: [], ...attributes } : attributes;
      if (nlri.length > 0) attrs.nextHop ??= '192.0.2.1';
      return { type: 'update' as const, withdrawn, attributes: attrs, nlri };
    });
}

const familyArb = fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }) });

const openArb: fc.Arbitrary<OpenMessage> = fc
  .record({
    fourOctetAs: fc.boolean(),
    asn: u32.filter((n) => n > 0),
    holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
    bgpId: fc.tuple(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ minLength: 3, maxLength: 3 })).map(([a, rest]) => formatAddress('ipv4', Uint8Array.of(a, ...rest))),
    multiprotocol: fc.array(familyArb, { maxLength: 4 }),
    routeRefresh: fc.boolean(),
    extendedMessage: fc.boolean(),
    gracefulRestart: fc.option(
      fc.record({
        restartState: fc.boolean(),
        notification: fc.boolean(),
        restartTime: fc.integer({ min: 0, max: 4095 }),
        families: fc.array(fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), forwardingState: fc.boolean() }), { maxLength: 6 }),
      }),
      { nil: undefined },
    ),
    unknown: fc.array(
      fc.record({ code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 6, 64, 65].includes(c)), value: fc.uint8Array({ maxLength: 120 }) }),
      { maxLength: 5 },
    ),
  })
  .map(({ fourOctetAs, asn, holdTime, bgpId, gracefulRestart, ...caps }) => {
    const open: OpenMessage = {
      type: 'open',
      asn: fourOctetAs ? asn : (asn % 0xffff) + 1,
      holdTime,
      bgpId,
      capabilities: { ...caps, fourOctetAs },
    };
    if (gracefulRestart !== undefined) open.capabilities.gracefulRestart = gracefulRestart;
    return open;
  });

const CEASE_WITH_TEXT = [2, 4];
const notificationArb: fc.Arbitrary<NotificationMessage> = fc.oneof(
  fc
    .record({ code: fc.integer({ min: 0, max: 255 }), subcode: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 64 }) })
    .filter(({ code, subcode }) => !(code === 6 && CEASE_WITH_TEXT.includes(subcode)))
    .map((n) => ({ type: 'notification' as const, ...n })),
  fc
    .tuple(fc.constantFrom(2, 4), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }))
    .map(([subcode, text]) => ceaseNotification(subcode, text)),
);

const routeRefreshArb = fc.record({
  type: fc.constant('route-refresh' as const),
  afi: fc.integer({ min: 0, max: 0xffff }),
  safi: fc.integer({ min: 0, max: 255 }),
  subtype: fc.integer({ min: 0, max: 255 }),
});

function expectRoundTrip(message: BgpMessage, ctx: CodecContext): void {
  const bytes = encodeMessage(message, ctx);
  const decoded = decodeMessage(bytes, ctx);
  expect(decoded).toEqual({ ok: true, outcome: 'ok', message });
  if (decoded.ok) expect(encodeMessage(decoded.message, ctx)).toEqual(bytes);
}

const contexts: CodecContext[] = [
  { fourOctetAs: true, extendedMessages: true },
  { fourOctetAs: false, extendedMessages: true },
];

describe('encode → decode round trips', () => {
  it('returns every OPEN unchanged', () => {
    fc.assert(fc.property(openArb, (open) => expectRoundTrip(open, contexts[0]!)), { numRuns: 300 });
  });

  for (const ctx of contexts) {
    it(`returns every UPDATE unchanged (${ctx.fourOctetAs ? '4' : '2'}-octet AS numbers)`, () => {
      fc.assert(fc.property(updateArb(ctx), (update) => expectRoundTrip(update, ctx)), { numRuns: 400 });
    });
  }

  it('returns every NOTIFICATION unchanged, shutdown communications included', () => {
    fc.assert(fc.property(notificationArb, (n) => expectRoundTrip(n, contexts[0]!)), { numRuns: 300 });
  });

  it('returns KEEPALIVE and every ROUTE-REFRESH unchanged', () => {
    expectRoundTrip({ type: 'keepalive' }, contexts[0]!);
    fc.assert(fc.property(routeRefreshArb, (rr) => expectRoundTrip(rr, contexts[0]!)), { numRuns: 200 });
  });

  it('sends AS_TRANS plus AS4_PATH to a 2-octet peer and gets the 4-octet path back by merging (RFC 6793 §4.2)', () => {
    const ctx2 = contexts[1]!;
    fc.assert(
      fc.property(pathArb(true, true), (asPath) => {
        const update: UpdateMessage = { type: 'update', withdrawn: [], attributes: { origin: 'igp', asPath, nextHop: '192.0.2.1' }, nlri: [] };
        const decoded = decodeMessage(encodeMessage(update, ctx2), ctx2);
        if (!decoded.ok || decoded.message.type !== 'update') throw new Error('decode failed');
        const attrs = decoded.message.attributes;
        expect(attrs.asPath?.flatMap((s) => s.asns).every((asn) => asn <= 0xffff)).toBe(true);
        expect(mergeAs4Path(attrs.asPath ?? [], attrs.as4Path)).toEqual(asPath);
      }),
      { numRuns: 200 },
    );
  });
});
