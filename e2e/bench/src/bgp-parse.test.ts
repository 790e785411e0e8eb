import { describe, expect, it } from '@jest/globals';
import {
  BGP_KEEPALIVE,
  BGP_OPEN,
  BGP_UPDATE,
  BgpStreamReader,
  PcapReader,
  WallClock,
  birdProtocolCount,
  birdReply,
  decodeUpdateBody,
  frrBfdStatus,
  frrPathNextHops,
  frrSummaryCount,
  frrVtyReply,
  gobgpAdjInRequest,
  gobgpNeighbor,
  gobgpTableCounts,
  hostPrefixes,
  kernelGateways,
  tcpOfFrame,
  type WireMessage,
} from './bgp-parse.js';

// ---- builders for captured traffic ------------------------------------------------------------

const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const ip4 = (s: string): number[] => s.split('.').map(Number);

function bgpMessage(type: number, body: number[] = []): number[] {
  return [...new Array<number>(16).fill(0xff), ...u16(19 + body.length), type, ...body];
}

/** RFC 4271 4.3: withdrawn routes, path attributes (ORIGIN, AS_PATH, NEXT_HOP), NLRI. */
function update(nlri: number[][], withdrawn: number[][] = []): number[] {
  const w = withdrawn.flat();
  const attrs = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, ...u32(4_200_000_001), 0x40, 3, 4, ...ip4('192.0.2.11')];
  return bgpMessage(BGP_UPDATE, [...u16(w.length), ...w, ...u16(attrs.length), ...attrs, ...nlri.flat()]);
}

function frame(src: string, dst: string, seq: number, payload: number[], flags = 0x18): number[] {
  const tcp = [...u16(40000), ...u16(179), ...u32(seq), ...u32(0), 0x50, flags, ...u16(65535), 0, 0, 0, 0];
  const ip = [0x45, 0, ...u16(20 + tcp.length + payload.length), 0, 0, 0x40, 0, 64, 6, 0, 0, ...ip4(src), ...ip4(dst)];
  return [...new Array<number>(6).fill(2), ...new Array<number>(6).fill(4), 0x08, 0x00, ...ip, ...tcp, ...payload];
}

function pcap(records: Array<{ at: number; frame: number[] }>): Uint8Array {
  const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  const out = [...le32(0xa1b2c3d4), 2, 0, 4, 0, ...le32(0), ...le32(0), ...le32(262144), ...le32(1)];
  for (const r of records) {
    const sec = Math.floor(r.at / 1000);
    const usec = Math.round((r.at - sec * 1000) * 1000);
    out.push(...le32(sec), ...le32(usec), ...le32(r.frame.length), ...le32(r.frame.length), ...r.frame);
  }
  return Uint8Array.from(out);
}

function readAll(bytes: Uint8Array, chunk: number): { msgs: WireMessage[]; reader: BgpStreamReader } {
  const p = new PcapReader();
  const reader = new BgpStreamReader();
  const msgs: WireMessage[] = [];
  for (let i = 0; i < bytes.length; i += chunk) {
    for (const pkt of p.push(bytes.slice(i, i + chunk))) {
      const seg = tcpOfFrame(pkt.data, p.linkType);
      if (seg) msgs.push(...reader.push(pkt.at, seg));
    }
  }
  return { msgs, reader };
}

describe('BGP benchmark parsing', () => {
  it('numbers consecutive /32 prefixes across octet boundaries', () => {
    expect(hostPrefixes('198.18.0.254', 3)).toEqual(['198.18.0.254/32', '198.18.0.255/32', '198.18.1.0/32']);
    expect(hostPrefixes('198.18.0.0', 10_000).at(-1)).toBe('198.18.39.15/32');
    expect(() => hostPrefixes('255.255.255.255', 2)).toThrow(RangeError);
  });

  it('decodes the NLRI and withdrawn routes of an UPDATE body', () => {
    const msg = update([[32, 198, 18, 0, 1], [24, 203, 0, 113], [0]], [[32, 198, 18, 0, 9]]);
    expect(decodeUpdateBody(Uint8Array.from(msg.slice(19)))).toEqual({ nlri: ['198.18.0.1/32', '203.0.113.0/24', '0.0.0.0/0'], withdrawn: ['198.18.0.9/32'] });
    // A prefix longer than 32 bits or cut short is not IPv4 unicast: no guess.
    expect(decodeUpdateBody(Uint8Array.from([0, 0, 0, 0, 33, 1, 2, 3, 4, 5]))).toBeUndefined();
    expect(decodeUpdateBody(Uint8Array.from([0, 0, 0, 0, 32, 1, 2]))).toBeUndefined();
  });

  it('reassembles BGP messages split across TCP segments and pcap chunks, skipping a retransmission', () => {
    const a = '192.0.2.11';
    const b = '192.0.2.201';
    const open = bgpMessage(BGP_OPEN, [4, ...u16(23456), ...u16(90), ...ip4(a), 0]);
    const ka = bgpMessage(BGP_KEEPALIVE);
    const upd = update([[32, 198, 18, 0, 0], [32, 198, 18, 0, 1]]);
    const stream = [...open, ...ka, ...upd];
    const cut = open.length + ka.length + 10;
    const seq = 1000;
    const bytes = pcap([
      { at: 1_700_000_000_000.5, frame: frame(a, b, seq - 1, [], 0x02) }, // SYN
      { at: 1_700_000_000_001, frame: frame(a, b, seq, stream.slice(0, cut)) },
      { at: 1_700_000_000_002, frame: frame(a, b, seq, stream.slice(0, cut)) }, // retransmitted
      { at: 1_700_000_000_003.25, frame: frame(a, b, seq + cut, stream.slice(cut)) },
    ]);
    for (const chunk of [1, 7, 64, bytes.length]) {
      const { msgs, reader } = readAll(bytes, chunk);
      expect(msgs.map((m) => m.type)).toEqual([BGP_OPEN, BGP_KEEPALIVE, BGP_UPDATE]);
      const u = msgs[2];
      expect(u).toMatchObject({ src: a, dst: b, nlri: ['198.18.0.0/32', '198.18.0.1/32'], withdrawn: [], length: upd.length });
      // Stamped with the segment that completed the message, microsecond precision.
      expect(u?.at).toBeCloseTo(1_700_000_000_003.25, 3);
      expect(reader.skipped).toBe(0);
    }
  });

  it('resynchronises on the next marker after a capture gap', () => {
    const a = '192.0.2.11';
    const b = '192.0.2.201';
    const first = update([[32, 198, 18, 0, 0]]);
    const second = update([[32, 198, 18, 0, 7]]);
    const bytes = pcap([
      { at: 1, frame: frame(a, b, 0, [], 0x02) },
      { at: 2, frame: frame(a, b, 1, first.slice(0, 20)) },
      // first.slice(20) was never captured
      { at: 3, frame: frame(a, b, 1 + first.length, second) },
    ]);
    const { msgs } = readAll(bytes, bytes.length);
    expect(msgs.map((m) => m.nlri)).toEqual([['198.18.0.7/32']]);
  });

  it('ignores frames that are not TCP over IPv4', () => {
    const arp = [...new Array<number>(12).fill(1), 0x08, 0x06, ...new Array<number>(28).fill(0)];
    expect(tcpOfFrame(Uint8Array.from(arp))).toBeUndefined();
    expect(tcpOfFrame(Uint8Array.from(frame('192.0.2.1', '192.0.2.2', 5, [1, 2, 3])))).toMatchObject({ seq: 5, srcPort: 40000, dstPort: 179, payload: Uint8Array.from([1, 2, 3]) });
  });

  it('reads the routers\' count queries', () => {
    const summary = JSON.stringify({ peers: { '192.0.2.11': { state: 'Established', pfxRcd: 10000 }, '192.0.2.12': { state: 'Active', pfxRcd: 0 } } });
    expect(frrSummaryCount(summary, '192.0.2.11')).toEqual({ established: true, prefixes: 10000 });
    expect(frrSummaryCount(summary, '192.0.2.12')).toEqual({ established: false, prefixes: 0 });
    expect(frrSummaryCount(summary, '192.0.2.99')).toBeUndefined();

    const bird = [
      'Name       Proto      Table      State  Since         Info',
      'herald_192_0_2_11 BGP        ---        up     08:00:54.512  Established',
      '  BGP state:          Established',
      '    Neighbor address: 192.0.2.11',
      '  Channel ipv4',
      '    State:          UP',
      '    Routes:         9990 imported, 0 exported, 9990 preferred',
      '  Channel ipv6',
      '    Routes:         10 imported, 0 exported, 10 preferred',
    ].join('\n');
    expect(birdProtocolCount(bird)).toEqual({ established: true, prefixes: 10000 });
    expect(birdProtocolCount('  BGP state:          Passive\n   Channel ipv4\n     State:          DOWN\n')).toEqual({ established: false, prefixes: 0 });
    expect(birdProtocolCount('syntax error')).toBeUndefined();

    const gobgp = JSON.stringify({
      state: { session_state: 6, messages: { received: { update: 1 }, sent: { update: 13, total: 20 } } },
      afi_safis: [{ state: { family: { afi: 1, safi: 1 }, received: 10000, accepted: 10000 } }],
    });
    expect(gobgpNeighbor(gobgp)).toEqual({ established: true, prefixes: 10000, updatesReceived: 1, updatesSent: 13 });
    expect(gobgpNeighbor(JSON.stringify({ state: { session_state: 3, messages: { received: {}, sent: {} } } }))).toEqual({ established: false, prefixes: 0, updatesReceived: 0, updatesSent: 0 });
  });

  it('reads next hops from FRR and the kernel, and BFD state', () => {
    const path = (ip: string): unknown => ({ nexthops: [{ ip, afi: 'ipv4', used: true }], peer: { peerId: ip } });
    expect(frrPathNextHops(JSON.stringify({ prefix: '198.51.100.250/32', paths: [path('192.0.2.12'), path('192.0.2.11')] }))).toEqual(['192.0.2.11', '192.0.2.12']);
    expect(frrPathNextHops('{\n}\n')).toEqual([]);
    const multi = [{ dst: '198.51.100.250', nhid: 11, protocol: 'bgp', nexthops: [{ gateway: '192.0.2.12', dev: 'eth0' }, { gateway: '192.0.2.11', dev: 'eth0' }] }];
    expect(kernelGateways(JSON.stringify(multi))).toEqual(['192.0.2.11', '192.0.2.12']);
    expect(kernelGateways(JSON.stringify([{ dst: '198.51.100.250', gateway: '192.0.2.11' }]))).toEqual(['192.0.2.11']);
    expect(kernelGateways('')).toEqual([]);
    const bfd = JSON.stringify([{ peer: '192.0.2.11', status: 'up' }, { peer: '192.0.2.12', status: 'down' }]);
    expect(frrBfdStatus(bfd, '192.0.2.12')).toBe('down');
    expect(frrBfdStatus(bfd, '192.0.2.13')).toBeUndefined();
  });

  it('asks GoBGP for one neighbour\'s Adj-RIB-In and reads the counts (gRPC framing, protobuf by hand)', () => {
    const name = [...Buffer.from('192.0.2.11')];
    // type ADJ_IN (2), family { afi 1, safi 1 }, name
    const body = [0x08, 2, 0x12, 4, 0x08, 1, 0x10, 1, 0x1a, name.length, ...name];
    expect([...gobgpAdjInRequest('192.0.2.11')]).toEqual([0, 0, 0, 0, body.length, ...body]);
    // num_destination 10000, num_path 10000, num_accepted 9999 (varints)
    const resp = [0x08, 0x90, 0x4e, 0x10, 0x90, 0x4e, 0x18, 0x8f, 0x4e];
    expect(gobgpTableCounts(Uint8Array.from([0, 0, 0, 0, resp.length, ...resp]))).toEqual({ destinations: 10000, paths: 10000, accepted: 9999 });
    // proto3 leaves zeros out: an empty message is all zero.
    expect(gobgpTableCounts(Uint8Array.from([0, 0, 0, 0, 0]))).toEqual({ destinations: 0, paths: 0, accepted: 0 });
    expect(gobgpTableCounts(Uint8Array.from([0, 0, 0, 0, 3, 0x08, 0x90]))).toBeUndefined();
  });

  it('frames replies on FRR vty and BIRD control sockets', () => {
    const text = Buffer.from('{"a":1}\n');
    expect(frrVtyReply(Uint8Array.from([...text, 0, 0]))).toBeUndefined();
    expect(frrVtyReply(Uint8Array.from([...text, 0, 0, 0, 0]))).toEqual({ text: '{"a":1}\n', status: 0 });
    expect(frrVtyReply(Uint8Array.from([...Buffer.from('% Unknown command\n'), 0, 0, 0, 2]))).toEqual({ text: '% Unknown command\n', status: 2 });
    expect(birdReply('2002-Name       Proto\n1002-herald_x BGP\n')).toBeUndefined();
    expect(birdReply('2002-Name       Proto\n1002-herald_x BGP\n     BGP state: Established\n0000 \n')).toBe('Name       Proto\nherald_x BGP\n    BGP state: Established\n\n');
  });

  it('keeps a sub-millisecond wall clock on the whole-millisecond clock it is calibrated against', () => {
    // True wall time = mono + 1000.4; Date.now() truncates to whole milliseconds.
    let mono = 0;
    const wall = (): number => Math.floor(mono + 1000.4);
    const c = new WallClock(
      () => {
        mono += 0.05;
        return mono;
      },
      wall,
    );
    c.calibrate(3);
    expect(c.now() - mono).toBeGreaterThan(1000.3);
    expect(c.now() - mono).toBeLessThanOrEqual(1000.4);
  });

  it('never runs ahead of the wall clock when preempted between the two reads', () => {
    // Every third wall read is late by 2 ms (the process lost the CPU in between).
    let mono = 0;
    let reads = 0;
    const c = new WallClock(
      () => mono,
      () => {
        mono += 0.05;
        if (++reads % 3 === 0) mono += 2;
        return Math.floor(mono + 1000.4);
      },
    );
    c.calibrate(60);
    expect(c.now() - mono).toBeLessThanOrEqual(1000.4);
    expect(c.now() - mono).toBeGreaterThan(1000.3);
  });
});
