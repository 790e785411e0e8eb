import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ARP_FRAME_LENGTH, ReplyMatcher, arpRequest, macBytes, macSlot, parseArpReply, setSlot, slotMac } from './arp-flood-frames.js';
import { log2Histogram } from './arp-flood-client.js';

/** The reply a responder builds (RFC 826): unicast to the requester's hardware address. */
function replyTo(request: Buffer, ownMac: string): Buffer {
  const r = Buffer.from(request);
  const own = macBytes(ownMac);
  request.copy(r, 0, 22, 28); // Ethernet dst = the request's sha
  own.copy(r, 6);
  r.writeUInt16BE(2, 20);
  own.copy(r, 22);
  request.copy(r, 28, 38, 42); // spa = the asked address
  request.copy(r, 32, 22, 32); // tha, tpa = the requester's sha, spa
  return r;
}

describe('arp-flood frames', () => {
  it('builds a broadcast RFC 826 request whose sender MAC names its slot', () => {
    const f = arpRequest('192.0.2.250', '192.0.2.100', 0x01020304);
    expect(f.length).toBe(ARP_FRAME_LENGTH);
    expect(f.toString('hex')).toBe(
      'ffffffffffff' + '02a701020304' + '0806' + '0001' + '0800' + '06' + '04' + '0001' + '02a701020304' + 'c00002fa' + '000000000000' + 'c0000264',
    );
    setSlot(f, 7);
    expect(macSlot(f, 6)).toBe(7);
    expect(macSlot(f, 22)).toBe(7);
  });

  it('reads the slot back from a reply, for any slot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (slot) => {
        const reply = parseArpReply(replyTo(arpRequest('192.0.2.250', '192.0.2.100', slot), '02:30:00:00:00:12'));
        expect(reply).toEqual({ senderMac: '02:30:00:00:00:12', senderIp: '192.0.2.100', slot });
      }),
    );
    expect(macSlot(macBytes('02:30:00:00:00:12'))).toBeUndefined();
    expect(slotMac(5).toString('hex')).toBe('02a700000005');
  });

  it('ignores requests, short frames and other protocols', () => {
    const req = arpRequest('192.0.2.250', '192.0.2.100', 1);
    expect(parseArpReply(req)).toBeUndefined();
    expect(parseArpReply(req.subarray(0, 30))).toBeUndefined();
    const ip = Buffer.from(replyTo(req, '02:30:00:00:00:12'));
    ip.writeUInt16BE(0x0800, 12);
    expect(parseArpReply(ip)).toBeUndefined();
  });

  it('rejects addresses that are not IPv4 or MACs', () => {
    expect(() => arpRequest('192.0.2', '192.0.2.1', 0)).toThrow('not an IPv4 address');
    expect(() => macBytes('02:30')).toThrow('not a MAC address');
  });
});

describe('ReplyMatcher', () => {
  it('credits each reply to the latest unanswered request of its slot sent before it', () => {
    const m = new ReplyMatcher(6, 2);
    for (let i = 0; i < 6; i++) m.sentOne(i * 10); // slots 0,1,0,1,0,1 at 0..50 ms
    m.reply(0, 45); // the slot-0 request at 40 ms
    m.reply(1, 33); // the slot-1 request at 30 ms (the one at 50 ms was not sent yet)
    m.reply(0, 46); // slot 0 at 40 ms is answered already: a duplicate
    expect(m.answered).toBe(2);
    expect(m.unmatched).toBe(1);
    expect(m.latencies()).toEqual([3, 5]);
  });

  it('counts a lost request as unanswered instead of shifting later replies onto it', () => {
    const m = new ReplyMatcher(4, 4);
    for (let i = 0; i < 4; i++) m.sentOne(i);
    m.reply(0, 1.5);
    m.reply(2, 2.5); // slot 1's request got no reply
    m.reply(3, 3.5);
    expect(m.latencies()).toEqual([1.5, 0.5, 0.5]);
    expect(m.answered).toBe(3);
  });

  it('bins latencies by powers of two', () => {
    expect(log2Histogram([])).toEqual([]);
    const h = log2Histogram([0.01, 0.02, 0.1, 0.1, 3]);
    expect(h[0]).toEqual({ upToMs: 1 / 64, count: 1 });
    expect(h.reduce((a, b) => a + b.count, 0)).toBe(5);
    expect(h[h.length - 1]?.upToMs).toBe(4);
  });
});
