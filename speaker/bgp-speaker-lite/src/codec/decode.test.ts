import { describe, expect, it } from '@jest/globals';
import {
  AttrType,
  decodeMessage,
  encodeMessage,
  formatPrefix,
  OpenMessageSubcode,
  UpdateMessageSubcode,
  type CodecContext,
  type DecodeResult,
  type OpenMessage,
} from './index.js';

const ctx4: CodecContext = { fourOctetAs: true, extendedMessages: false };
const ctx2: CodecContext = { fourOctetAs: false, extendedMessages: false };

function withHeader(type: number, body: readonly number[]): Uint8Array {
  const length = 19 + body.length;
  return Uint8Array.from([...new Array<number>(16).fill(0xff), length >> 8, length & 0xff, type, ...body]);
}

function u16(n: number): number[] {
  return [n >> 8, n & 0xff];
}

/** An UPDATE from raw parts (RFC 4271 §4.3). */
function update(attrs: readonly number[], nlri: readonly number[] = [], withdrawn: readonly number[] = []): Uint8Array {
  return withHeader(2, [...u16(withdrawn.length), ...withdrawn, ...u16(attrs.length), ...attrs, ...nlri]);
}

// Attribute building blocks (flags, type, length, value).
const ORIGIN_IGP = [0x40, 1, 1, 0];
const AS_PATH_65001 = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9];
const NEXT_HOP = [0x40, 3, 4, 192, 0, 2, 1];
const MANDATORY = [...ORIGIN_IGP, ...AS_PATH_65001, ...NEXT_HOP];
const NLRI = [24, 203, 0, 113, 32, 198, 51, 100, 1]; // 203.0.113.0/24, 198.51.100.1/32
const MP_REACH_V6 = [0x80, 14, 28, 0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1];

function outcome(result: DecodeResult): string {
  return result.outcome;
}

function withdrawnText(result: DecodeResult): string[] {
  if (result.outcome !== 'treat-as-withdraw') throw new Error(`expected treat-as-withdraw, got ${result.outcome}`);
  return result.withdrawn.map(formatPrefix);
}

describe('OPEN errors (RFC 4271 §6.2)', () => {
  const good: OpenMessage = {
    type: 'open',
    asn: 64512,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, extendedMessage: false, fourOctetAs: true, unknown: [] },
  };
  const wire = encodeMessage(good, ctx4);
  const patched = (at: number, ...bytes: number[]): Uint8Array => {
    const copy = wire.slice();
    copy.set(bytes, at);
    return copy;
  };

  it('rejects a version other than 4 with Unsupported Version Number carrying version 4', () => {
    expect(decodeMessage(patched(19, 3), ctx4)).toEqual(
      expect.objectContaining({
        reason: 'unsupported-version',
        notification: expect.objectContaining({ code: 2, subcode: OpenMessageSubcode.UNSUPPORTED_VERSION_NUMBER, data: Uint8Array.of(0, 4) }),
      }),
    );
  });

  it('rejects hold times of 1 and 2 seconds', () => {
    for (const hold of [1, 2]) {
      expect(decodeMessage(patched(22, 0, hold), ctx4)).toEqual(
        expect.objectContaining({ reason: 'unacceptable-hold-time', notification: expect.objectContaining({ subcode: OpenMessageSubcode.UNACCEPTABLE_HOLD_TIME }) }),
      );
    }
    expect(decodeMessage(patched(22, 0, 0), ctx4).ok).toBe(true);
  });

  it('rejects BGP Identifier 0 (RFC 6286) and AS 0 (RFC 7607)', () => {
    expect(decodeMessage(patched(24, 0, 0, 0, 0), ctx4)).toEqual(expect.objectContaining({ reason: 'bad-bgp-identifier' }));
    expect(decodeMessage(patched(20, 0, 0), ctx4)).toEqual(expect.objectContaining({ reason: 'bad-peer-as' }));
  });

  it('rejects optional parameters other than Capabilities', () => {
    expect(decodeMessage(patched(29, 1), ctx4)).toEqual(
      expect.objectContaining({ notification: expect.objectContaining({ subcode: OpenMessageSubcode.UNSUPPORTED_OPTIONAL_PARAMETER }) }),
    );
  });

  it('answers malformed parameters and capabilities with OPEN Message Error / Unspecific', () => {
    expect(decodeMessage(patched(28, wire[28]! - 1), ctx4)).toEqual(expect.objectContaining({ reason: 'malformed-optional-parameters' }));
    // The Multiprotocol capability's length field (4) becomes 3.
    expect(decodeMessage(patched(32, 3), ctx4)).toEqual(
      expect.objectContaining({ reason: 'malformed-capability', notification: expect.objectContaining({ code: 2, subcode: 0 }) }),
    );
  });

  it('keeps capabilities it does not know', () => {
    const open: OpenMessage = { ...good, capabilities: { ...good.capabilities, unknown: [{ code: 70, value: new Uint8Array(0) }, { code: 73, value: Uint8Array.of(1, 2) }] } };
    expect(decodeMessage(encodeMessage(open, ctx4), ctx4)).toEqual({ ok: true, outcome: 'ok', message: open });
  });

  it('reads capabilities spread over several optional parameters', () => {
    // Opt Parm Len 12: Capabilities{Route Refresh}, then Capabilities{MP IPv6 unicast}.
    const body = [4, 0xfc, 0, 0, 90, 192, 0, 2, 1, 12, 2, 2, 2, 0, 2, 6, 1, 4, 0, 2, 0, 1];
    const result = decodeMessage(withHeader(1, body), ctx4);
    expect(result).toEqual(
      expect.objectContaining({ ok: true, message: expect.objectContaining({ capabilities: expect.objectContaining({ routeRefresh: true, multiprotocol: [{ afi: 2, safi: 1 }] }) }) }),
    );
  });

  it('encodes and decodes more than 255 octets of capabilities with RFC 9072 extended lengths', () => {
    const open: OpenMessage = {
      ...good,
      capabilities: { ...good.capabilities, unknown: Array.from({ length: 3 }, (_, i) => ({ code: 200 + i, value: new Uint8Array(120).fill(i) })) },
    };
    const bytes = encodeMessage(open, ctx4);
    expect([bytes[28], bytes[29]]).toEqual([255, 255]);
    expect(decodeMessage(bytes, ctx4)).toEqual({ ok: true, outcome: 'ok', message: open });
  });
});

describe('NOTIFICATION data', () => {
  const cease = (subcode: number, data: number[]): Uint8Array => withHeader(3, [6, subcode, ...data]);

  it('reads a UTF-8 shutdown communication from Cease/Administrative Reset', () => {
    const text = Buffer.from('Wartung – bis gleich', 'utf8');
    const result = decodeMessage(cease(4, [text.length, ...text]), ctx4);
    expect(result).toEqual(expect.objectContaining({ message: expect.objectContaining({ shutdownCommunication: 'Wartung – bis gleich' }) }));
  });

  it('keeps the raw data but no text when the communication is not valid UTF-8 or overruns', () => {
    for (const data of [
      [2, 0xc3, 0x28],
      [9, 0x41],
    ]) {
      const result = decodeMessage(cease(2, data), ctx4);
      expect(result).toEqual({ ok: true, outcome: 'ok', message: { type: 'notification', code: 6, subcode: 2, data: Uint8Array.from(data) } });
    }
  });

  it('does not read a communication from other Cease subcodes', () => {
    const result = decodeMessage(cease(3, [1, 0x41]), ctx4);
    expect(result).toEqual(expect.objectContaining({ message: expect.not.objectContaining({ shutdownCommunication: expect.anything() }) }));
  });
});

describe('UPDATE error handling (RFC 7606)', () => {
  it('decodes a well-formed UPDATE', () => {
    expect(outcome(decodeMessage(update(MANDATORY, NLRI), ctx4))).toBe('ok');
  });

  describe('treat-as-withdraw', () => {
    const cases: Array<[string, number[]]> = [
      ['ORIGIN of length 2 (§7.1)', [0x40, 1, 2, 0, 0, ...AS_PATH_65001, ...NEXT_HOP]],
      ['ORIGIN value 3 (§7.1)', [0x40, 1, 1, 3, ...AS_PATH_65001, ...NEXT_HOP]],
      ['AS_PATH with an unknown segment type (§7.2)', [...ORIGIN_IGP, 0x40, 2, 6, 5, 1, 0, 0, 0xfd, 0xe9, ...NEXT_HOP]],
      ['AS_PATH with a zero-length segment (§7.2)', [...ORIGIN_IGP, 0x40, 2, 2, 2, 0, ...NEXT_HOP]],
      ['AS_PATH whose segment overruns the attribute (§7.2)', [...ORIGIN_IGP, 0x40, 2, 6, 2, 2, 0, 0, 0xfd, 0xe9, ...NEXT_HOP]],
      ['AS_PATH with one octet left over (§7.2)', [...ORIGIN_IGP, 0x40, 2, 7, 2, 1, 0, 0, 0xfd, 0xe9, 2, ...NEXT_HOP]],
      ['AS_PATH containing AS 0 (RFC 7607)', [...ORIGIN_IGP, 0x40, 2, 6, 2, 1, 0, 0, 0, 0, ...NEXT_HOP]],
      ['NEXT_HOP of length 5 (§7.3)', [...ORIGIN_IGP, ...AS_PATH_65001, 0x40, 3, 5, 192, 0, 2, 1, 0]],
      ['MULTI_EXIT_DISC of length 3 (§7.4)', [...MANDATORY, 0x80, 4, 3, 0, 0, 1]],
      ['LOCAL_PREF of length 2 (§7.5)', [...MANDATORY, 0x40, 5, 2, 0, 1]],
      ['COMMUNITIES of length 0 (§7.8)', [...MANDATORY, 0xc0, 8, 0]],
      ['COMMUNITIES of length 5 (§7.8)', [...MANDATORY, 0xc0, 8, 5, 0xff, 0xff, 0, 0, 1]],
      ['LARGE_COMMUNITY of length 13 (RFC 8092 §6)', [...MANDATORY, 0xc0, 32, 13, ...new Array<number>(13).fill(1)]],
      ['ORIGIN flagged optional (§3, attribute flags)', [0xc0, 1, 1, 0, ...AS_PATH_65001, ...NEXT_HOP]],
      ['MULTI_EXIT_DISC flagged well-known (§3, attribute flags)', [...MANDATORY, 0x40, 4, 4, 0, 0, 0, 1]],
      ['a missing ORIGIN (§3)', [...AS_PATH_65001, ...NEXT_HOP]],
      ['a missing AS_PATH (§3)', [...ORIGIN_IGP, ...NEXT_HOP]],
      ['a missing NEXT_HOP with NLRI in the NLRI field (§3)', [...ORIGIN_IGP, ...AS_PATH_65001]],
      ['an attribute overrunning the Total Path Attribute Length (§4)', [...MANDATORY, 0x40, 5, 9, 0, 0, 0, 1]],
      ['two octets left, too few for an attribute header (§4)', [...MANDATORY, 0x40, 5]],
    ];
    for (const [what, attrs] of cases) {
      it(`withdraws the UPDATE's routes for ${what}`, () => {
        expect(withdrawnText(decodeMessage(update(attrs, NLRI), ctx4))).toEqual(['203.0.113.0/24', '198.51.100.1/32']);
      });
    }

    it('withdraws the Withdrawn Routes, NLRI, MP_REACH_NLRI and MP_UNREACH_NLRI prefixes alike', () => {
      const unreach = [0x80, 15, 6, 0, 2, 1, 16, 0x20, 0x01];
      const result = decodeMessage(update([...MP_REACH_V6, ...unreach, 0x40, 1, 1, 7, ...AS_PATH_65001, ...NEXT_HOP], NLRI, [8, 10]), ctx4);
      expect(withdrawnText(result)).toEqual(['10.0.0.0/8', '203.0.113.0/24', '198.51.100.1/32', '2001:db8:1::/48', '2001::/16']);
      expect(result).toEqual(expect.objectContaining({ errors: [{ typeCode: AttrType.ORIGIN, action: 'treat-as-withdraw', reason: 'invalid-value' }] }));
    });

    it('still parses an MP_REACH_NLRI with conflicting flags so its prefixes can be withdrawn', () => {
      const reach = [0xc0, ...MP_REACH_V6.slice(1)];
      expect(withdrawnText(decodeMessage(update([...reach, ...ORIGIN_IGP, ...AS_PATH_65001]), ctx4))).toEqual(['2001:db8:1::/48']);
    });

    it('applies the strongest approach when errors of several kinds occur (§3)', () => {
      const result = decodeMessage(update([...MANDATORY, 0x40, 6, 1, 0, 0xc0, 8, 0], NLRI), ctx4);
      expect(result).toEqual(
        expect.objectContaining({
          outcome: 'treat-as-withdraw',
          errors: [
            { typeCode: AttrType.ATOMIC_AGGREGATE, action: 'attribute-discard', reason: 'bad-length' },
            { typeCode: AttrType.COMMUNITIES, action: 'treat-as-withdraw', reason: 'bad-length' },
          ],
        }),
      );
    });
  });

  describe('attribute discard', () => {
    const discarded = (attrs: number[], ctx: CodecContext = ctx4): DecodeResult => decodeMessage(update([...MANDATORY, ...attrs], NLRI), ctx);

    it('drops an ATOMIC_AGGREGATE with a non-zero length (§7.6) and keeps the rest of the UPDATE', () => {
      const result = discarded([0x40, 6, 1, 0, 0x40, 5, 4, 0, 0, 0, 100]);
      expect(result).toEqual(
        expect.objectContaining({
          ok: true,
          outcome: 'attribute-discard',
          errors: [{ typeCode: AttrType.ATOMIC_AGGREGATE, action: 'attribute-discard', reason: 'bad-length' }],
          message: expect.objectContaining({ attributes: expect.objectContaining({ localPref: 100 }) }),
        }),
      );
      if (result.outcome === 'attribute-discard') expect(result.message.attributes.atomicAggregate).toBeUndefined();
    });

    it('drops an AGGREGATOR of the wrong length for the AS width (§7.7) or with AS 0 (RFC 7607)', () => {
      const aggregator2 = [0xc0, 7, 6, 0xfd, 0xe9, 192, 0, 2, 1];
      const aggregator4 = [0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 192, 0, 2, 1];
      const mandatory2 = [...ORIGIN_IGP, 0x40, 2, 4, 2, 1, 0xfd, 0xe9, ...NEXT_HOP];
      expect(outcome(decodeMessage(update([...MANDATORY, ...aggregator4], NLRI), ctx4))).toBe('ok');
      expect(outcome(decodeMessage(update([...mandatory2, ...aggregator2], NLRI), ctx2))).toBe('ok');
      expect(outcome(discarded(aggregator2))).toBe('attribute-discard');
      expect(outcome(decodeMessage(update([...mandatory2, ...aggregator4], NLRI), ctx2))).toBe('attribute-discard');
      expect(outcome(discarded([0xc0, 7, 8, 0, 0, 0, 0, 192, 0, 2, 1]))).toBe('attribute-discard');
    });

    it('keeps the first of repeated attributes and drops the others (§3)', () => {
      const result = decodeMessage(update([...MANDATORY, 0x40, 1, 1, 2], NLRI), ctx4);
      expect(result).toEqual(
        expect.objectContaining({
          outcome: 'attribute-discard',
          errors: [{ typeCode: AttrType.ORIGIN, action: 'attribute-discard', reason: 'duplicate' }],
          message: expect.objectContaining({ attributes: expect.objectContaining({ origin: 'igp' }) }),
        }),
      );
    });

    it('drops confederation segments from AS4_PATH and keeps the rest (RFC 6793 §6)', () => {
      const as4 = [0xc0, 17, 12, 3, 1, 0, 0, 0xfd, 0xe8, 2, 1, 0xfa, 0x56, 0xea, 0x01];
      const attrs = [...ORIGIN_IGP, 0x40, 2, 4, 2, 1, 0x5b, 0xa0, ...NEXT_HOP, ...as4];
      expect(decodeMessage(update(attrs, NLRI), ctx2)).toEqual(
        expect.objectContaining({
          outcome: 'attribute-discard',
          errors: [expect.objectContaining({ reason: 'confed-segment-in-as4-path' })],
          message: expect.objectContaining({ attributes: expect.objectContaining({ as4Path: [{ type: 'sequence', asns: [4200000001] }] }) }),
        }),
      );
    });

    it('drops AS4_PATH and AS4_AGGREGATOR between 4-octet speakers (RFC 6793 §6)', () => {
      const result = discarded([0xc0, 17, 6, 2, 1, 0, 0, 0xfd, 0xe9]);
      expect(result).toEqual(expect.objectContaining({ outcome: 'attribute-discard', errors: [expect.objectContaining({ reason: 'as4-attribute-from-new-speaker' })] }));
    });

    it('drops a malformed AS4_PATH from a 2-octet speaker (RFC 6793 §6)', () => {
      const attrs = [...ORIGIN_IGP, 0x40, 2, 4, 2, 1, 0x5b, 0xa0, ...NEXT_HOP, 0xc0, 17, 6, 2, 2, 0, 0, 0xfd, 0xe9];
      expect(decodeMessage(update(attrs, NLRI), ctx2)).toEqual(expect.objectContaining({ outcome: 'attribute-discard', errors: [expect.objectContaining({ reason: 'malformed-as-path' })] }));
    });

    it('removes duplicate large communities silently (RFC 8092 §5)', () => {
      const lc = [0, 0, 0xfc, 0, 0, 0, 0, 1, 0, 0, 0, 2];
      const result = decodeMessage(update([...MANDATORY, 0xc0, 32, 24, ...lc, ...lc], NLRI), ctx4);
      expect(result).toEqual(expect.objectContaining({ outcome: 'ok', message: expect.objectContaining({ attributes: expect.objectContaining({ largeCommunities: [[64512, 1, 2]] }) }) }));
    });
  });

  describe('session reset', () => {
    const reset = (bytes: Uint8Array, ctx: CodecContext = ctx4): { reason: string; subcode: number; data: number[] } => {
      const result = decodeMessage(bytes, ctx);
      if (result.outcome !== 'session-reset') throw new Error(`expected session-reset, got ${result.outcome}`);
      expect(result.notification.code).toBe(3);
      return { reason: result.reason, subcode: result.notification.subcode, data: [...result.notification.data] };
    };

    it('rejects an unrecognized well-known attribute with the attribute as data (RFC 4271 §6.3)', () => {
      expect(reset(update([...MANDATORY, 0x40, 99, 2, 7, 7], NLRI))).toEqual({
        reason: 'unrecognized-well-known-attribute',
        subcode: UpdateMessageSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
        data: [0x40, 99, 2, 7, 7],
      });
    });

    it('rejects a repeated MP_REACH_NLRI as a Malformed Attribute List (§3)', () => {
      expect(reset(update([...MP_REACH_V6, ...MP_REACH_V6, ...ORIGIN_IGP, ...AS_PATH_65001]))).toEqual(
        expect.objectContaining({ reason: 'duplicate-mp-attribute', subcode: UpdateMessageSubcode.MALFORMED_ATTRIBUTE_LIST }),
      );
    });

    it('rejects an MP_REACH_NLRI whose next-hop length does not suit IPv6, naming the family (§7.11)', () => {
      const reach = [0x80, 14, 14, 0, 2, 1, 8, ...new Array<number>(8).fill(1), 0, 8, 0x20];
      const result = decodeMessage(update([...reach, ...ORIGIN_IGP, ...AS_PATH_65001]), ctx4);
      expect(result).toEqual(
        expect.objectContaining({
          outcome: 'session-reset',
          reason: 'malformed-mp-reach',
          family: { afi: 2, safi: 1 },
          notification: expect.objectContaining({ subcode: UpdateMessageSubcode.OPTIONAL_ATTRIBUTE_ERROR }),
        }),
      );
    });

    it('rejects MP_REACH_NLRI and MP_UNREACH_NLRI with syntactically incorrect NLRI (§5.3)', () => {
      const reach = [...MP_REACH_V6];
      reach[MP_REACH_V6.length - 7] = 129;
      expect(reset(update([...reach, ...ORIGIN_IGP, ...AS_PATH_65001])).reason).toBe('malformed-mp-reach');
      expect(reset(update([0x80, 15, 5, 0, 2, 1, 64, 0x20])).reason).toBe('malformed-mp-unreach');
    });

    it('rejects an MP attribute cut short by the Total Path Attribute Length (§4)', () => {
      expect(reset(update([...ORIGIN_IGP, 0x80, 15, 9, 0, 2, 1])).reason).toBe('malformed-mp-unreach');
    });

    it('rejects lengths that do not fit the message with Malformed Attribute List (RFC 4271 §6.3)', () => {
      expect(reset(withHeader(2, [0, 9, 0, 0]))).toEqual({ reason: 'malformed-attribute-list', subcode: 1, data: [] });
      expect(reset(withHeader(2, [0, 0, 0, 9, 0x40]))).toEqual({ reason: 'malformed-attribute-list', subcode: 1, data: [] });
    });

    it('rejects syntactically incorrect NLRI and Withdrawn Routes with Invalid Network Field (§5.3)', () => {
      expect(reset(update(MANDATORY, [33, 1, 2, 3, 4, 5]))).toEqual({ reason: 'invalid-network-field', subcode: 10, data: [] });
      expect(reset(update(MANDATORY, [24, 1, 2]))).toEqual({ reason: 'invalid-network-field', subcode: 10, data: [] });
      expect(reset(update([], [], [16, 10]))).toEqual({ reason: 'invalid-network-field', subcode: 10, data: [] });
    });
  });

  describe('what is kept', () => {
    it('keeps unknown optional attributes with their flags, Partial bit included', () => {
      const result = decodeMessage(update([...MANDATORY, 0xe0, 99, 2, 7, 7, 0x90, 98, 0, 1, 5], NLRI), ctx4);
      expect(result).toEqual(
        expect.objectContaining({
          outcome: 'ok',
          message: expect.objectContaining({
            attributes: expect.objectContaining({
              unknown: [
                { flags: 0xe0, typeCode: 99, value: Uint8Array.of(7, 7) },
                { flags: 0x90, typeCode: 98, value: Uint8Array.of(5) },
              ],
            }),
          }),
        }),
      );
    });

    it('keeps MP_REACH_NLRI of a family it does not parse as a raw attribute', () => {
      const vpn = [0x80, 14, 10, 0, 1, 128, 4, 192, 0, 2, 1, 0, 0];
      const result = decodeMessage(update([...vpn, ...ORIGIN_IGP, ...AS_PATH_65001]), ctx4);
      expect(result).toEqual(
        expect.objectContaining({
          outcome: 'ok',
          message: expect.objectContaining({ attributes: expect.objectContaining({ unknown: [{ flags: 0x80, typeCode: 14, value: Uint8Array.from(vpn.slice(3)) }] }) }),
        }),
      );
    });

    it('accepts an UPDATE with only withdrawals and no attributes', () => {
      expect(decodeMessage(update([], [], [8, 10]), ctx4)).toEqual(
        expect.objectContaining({ outcome: 'ok', message: expect.objectContaining({ withdrawn: [expect.objectContaining({ length: 8 })] }) }),
      );
    });

    it('reads 2-octet AS_PATH and AS4_PATH from a peer without 4-octet AS support', () => {
      const attrs = [...ORIGIN_IGP, 0x40, 2, 6, 2, 2, 0x5b, 0xa0, 0xfd, 0xe9, ...NEXT_HOP, 0xc0, 17, 10, 2, 2, 0xfa, 0x56, 0xea, 0x01, 0, 0, 0xfd, 0xe9];
      const result = decodeMessage(update(attrs, NLRI), ctx2);
      expect(result).toEqual(
        expect.objectContaining({
          outcome: 'ok',
          message: expect.objectContaining({
            attributes: expect.objectContaining({
              asPath: [{ type: 'sequence', asns: [23456, 65001] }],
              as4Path: [{ type: 'sequence', asns: [4200000001, 65001] }],
            }),
          }),
        }),
      );
    });
  });
});
