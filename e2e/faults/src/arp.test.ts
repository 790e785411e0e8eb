import { describe, expect, it } from '@jest/globals';
import { answerSpans, doubleAnswers, parseArpLine, type ArpEvent } from './arp.js';

const PROBER = '02:30:00:00:fe:01';
const A = '02:30:00:00:00:11';
const B = '02:30:00:00:00:12';

describe('parseArpLine', () => {
  it('reads requests, replies and gratuitous ARPs as tcpdump -n -e -tt prints them', () => {
    expect(parseArpLine('1763700000.123456 02:30:00:00:fe:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 tell 192.0.2.251, length 28')).toEqual({
      at: 1763700000123.456,
      kind: 'request',
      src: PROBER,
      ip: '192.0.2.100',
    });
    expect(parseArpLine('1763700000.200000 02:30:00:00:00:12 > 02:30:00:00:fe:01, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at 02:30:00:00:00:12, length 28')).toMatchObject({
      kind: 'reply',
      src: B,
      ip: '192.0.2.100',
      mac: B,
    });
    expect(parseArpLine('1763700000.300000 02:30:00:00:00:11 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28')).toMatchObject({
      kind: 'garp',
      src: A,
      mac: A,
    });
    expect(parseArpLine('listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes')).toBeUndefined();
  });
});

/** A prober request every 50 ms from `from` to `to` (ms), each answered by `answer(t)`. */
function rounds(from: number, to: number, answer: (t: number) => string[]): ArpEvent[] {
  const out: ArpEvent[] = [];
  for (let t = from; t < to; t += 50) {
    out.push({ at: t, kind: 'request', src: PROBER, ip: '192.0.2.100' });
    for (const mac of answer(t)) out.push({ at: t + 1, kind: 'reply', src: mac, ip: '192.0.2.100', mac });
  }
  return out;
}

describe('doubleAnswers', () => {
  it('sees no overlap in a clean handover, even with a gap', () => {
    const ev = rounds(0, 2_000, (t) => (t < 1_000 ? [A] : t < 1_400 ? [] : [B]));
    const r = doubleAnswers(ev, '192.0.2.100', PROBER, 300);
    expect(r.maxOverlapMs).toBe(0);
    expect(r.doubleAnsweredRequests).toBe(0);
    expect(r.requests).toBe(40);
    expect(r.answeredRequests).toBe(32);
  });

  it('measures how long two nodes both answered', () => {
    const ev = rounds(0, 3_000, (t) => (t < 1_000 ? [A] : t < 1_500 ? [A, B] : [B]));
    const r = doubleAnswers(ev, '192.0.2.100', PROBER, 300);
    expect(r.maxOverlapMs).toBe(450);
    expect(r.overlaps[0]?.macs).toEqual([A, B]);
    expect(r.doubleAnsweredRequests).toBe(10);
  });

  it('counts a stray reply within the other node answering as a double answer of 0 ms', () => {
    const ev = rounds(0, 1_000, (t) => (t === 500 ? [A, B] : [B]));
    const r = doubleAnswers(ev, '192.0.2.100', PROBER, 300);
    expect(r.maxOverlapMs).toBe(0);
    expect(r.doubleAnsweredRequests).toBe(1);
  });

  it('counts gratuitous ARPs as answering, and splits spans at long pauses', () => {
    const ev: ArpEvent[] = [
      ...rounds(0, 1_000, () => [A]),
      { at: 800, kind: 'garp', src: B, ip: '192.0.2.100', mac: B },
      { at: 850, kind: 'garp', src: B, ip: '192.0.2.100', mac: B },
      { at: 5_000, kind: 'garp', src: B, ip: '192.0.2.100', mac: B },
    ];
    expect(answerSpans(ev, '192.0.2.100', 300).map((s) => [s.mac, s.start, s.end])).toEqual([
      [A, 1, 951],
      [B, 800, 850],
      [B, 5_000, 5_000],
    ]);
    expect(doubleAnswers(ev, '192.0.2.100', PROBER, 300).maxOverlapMs).toBe(50);
  });
});
