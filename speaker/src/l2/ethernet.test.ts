import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ETHERTYPE, buildEthernet, fromHex, isMulticastMAC, parseEthernet, parseMAC, toHex, type EthernetReason } from './ethernet.js';
import { arbMAC, mac, mutated } from './__fixtures__/arbitraries.js';

const REASONS: readonly EthernetReason[] = ['frameTooShort', 'notEthernetII', 'stackedVlanTags'];

const arbEthertype = fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== ETHERTYPE.VLAN && t !== ETHERTYPE.QinQ);
const arbVlan = fc.record({ id: fc.integer({ min: 0, max: 4095 }), priority: fc.integer({ min: 0, max: 7 }), dropEligible: fc.boolean() });

describe('MAC addresses', () => {
  it('accepts either case and keeps the canonical lower-case form', () => {
    expect(parseMAC('02:30:AB:00:00:01')).toBe('02:30:ab:00:00:01');
    expect(parseMAC('02-30-ab-00-00-01')).toBeUndefined();
    expect(parseMAC('02:30:ab:00:00')).toBeUndefined();
  });

  it('tells group addresses by the I/G bit of the first octet (RFC 7042 2.1)', () => {
    expect(isMulticastMAC(mac('33:33:ff:00:00:10'))).toBe(true);
    expect(isMulticastMAC(mac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isMulticastMAC(mac('02:30:00:00:00:01'))).toBe(false);
  });
});

describe('Ethernet II frames', () => {
  it('pads a short frame to the 60-octet minimum (IEEE 802.3 minFrameSize less the FCS)', () => {
    const f = buildEthernet({ dst: mac('ff:ff:ff:ff:ff:ff'), src: mac('02:30:00:00:00:01'), ethertype: ETHERTYPE.ARP, payload: fromHex('0102') });
    expect(toHex(f)).toBe(
      'ffffffffffff' + // destination: broadcast
        '023000000001' + // source
        '0806' + // EtherType: ARP
        '0102' + // payload
        '00'.repeat(44), // padding to 60 octets
    );
  });

  it('writes and reads one 802.1Q tag: TPID 0x8100, PCP 3 bits, DEI 1 bit, VID 12 bits', () => {
    const f = buildEthernet({
      dst: mac('ff:ff:ff:ff:ff:ff'),
      src: mac('02:30:00:00:00:01'),
      ethertype: ETHERTYPE.ARP,
      vlan: { id: 100, priority: 5, dropEligible: true },
      payload: new Uint8Array(46),
    });
    // TCI = 101 1 000001100100 = 0xb064
    expect(toHex(f.subarray(12, 18))).toBe('8100' + 'b064' + '0806');
    const p = parseEthernet(f);
    expect(p).toMatchObject({ ok: true, value: { ethertype: ETHERTYPE.ARP, vlan: { id: 100, priority: 5, dropEligible: true } } });
    expect(p.ok && p.value.payload.length).toBe(46);
  });

  it('refuses 802.3 length frames, QinQ and stacked tags, and runts', () => {
    const base = buildEthernet({ dst: mac('ff:ff:ff:ff:ff:ff'), src: mac('02:30:00:00:00:01'), ethertype: 0x05dc, payload: new Uint8Array(46) });
    expect(parseEthernet(base)).toEqual({ ok: false, reason: 'notEthernetII' });
    const qinq = Uint8Array.from(base);
    qinq.set([0x88, 0xa8], 12);
    expect(parseEthernet(qinq)).toEqual({ ok: false, reason: 'stackedVlanTags' });
    const doubleTag = Uint8Array.from(base);
    doubleTag.set([0x81, 0x00, 0x00, 0x64, 0x81, 0x00], 12);
    expect(parseEthernet(doubleTag)).toEqual({ ok: false, reason: 'stackedVlanTags' });
    expect(parseEthernet(base.subarray(0, 13))).toEqual({ ok: false, reason: 'frameTooShort' });
    expect(parseEthernet(fromHex('ffffffffffff 023000000001 8100 00'))).toEqual({ ok: false, reason: 'frameTooShort' });
  });

  it('gives back every field it was built from', () => {
    fc.assert(
      fc.property(arbMAC, arbMAC, arbEthertype, fc.option(arbVlan, { nil: undefined }), fc.uint8Array({ maxLength: 1500 }), (dst, src, ethertype, vlan, payload) => {
        const f = buildEthernet(vlan ? { dst, src, ethertype, vlan, payload } : { dst, src, ethertype, payload });
        const p = parseEthernet(f);
        expect(p.ok).toBe(true);
        if (!p.ok) return;
        expect(p.value.dst).toBe(dst);
        expect(p.value.src).toBe(src);
        expect(p.value.ethertype).toBe(ethertype);
        expect(p.value.vlan).toEqual(vlan);
        expect(p.value.payload.subarray(0, payload.length)).toEqual(payload);
        expect(p.value.payload.subarray(payload.length).every((x) => x === 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random or mutated input, and refuses with a known reason', () => {
    const valid = fc
      .tuple(arbMAC, arbMAC, arbEthertype, fc.option(arbVlan, { nil: undefined }), fc.uint8Array({ maxLength: 64 }))
      .map(([dst, src, ethertype, vlan, payload]) => buildEthernet(vlan ? { dst, src, ethertype, vlan, payload } : { dst, src, ethertype, payload }));
    fc.assert(
      fc.property(mutated(valid), (b) => {
        const p = parseEthernet(b);
        if (!p.ok) expect(REASONS).toContain(p.reason);
      }),
      { numRuns: 2000 },
    );
  });
});
