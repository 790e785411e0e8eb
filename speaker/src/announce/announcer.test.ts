import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { PacketSocket, PacketSocketOptions } from '@herald/native';
import { FakeClock, silentLogger } from '@herald/shared/core';
import { parseIP, type IP } from '@herald/shared/ip';
import {
  BROADCAST_MAC,
  ETHERTYPE,
  arpFrame,
  buildEthernet,
  encodeNeighborSolicitation,
  gratuitousArpFrame,
  multicastMAC,
  parseArpFrame,
  solicitedNodeMulticast,
  unsolicitedAdvertisementFrame,
  type IPv4,
  type IPv6,
  type MAC,
} from '../l2/index.js';
import { L2Announcer } from './announcer.js';

const OURS = '02:30:00:00:00:11' as MAC;
const PEER = '02:30:00:00:00:fa' as MAC;
const ip = (s: string): IP => {
  const v = parseIP(s);
  if (!v) throw new Error(s);
  return v;
};
const V4 = ip('192.0.2.100') as IPv4;
const V6 = ip('2001:db8::100') as IPv6;
const PEER_V4 = ip('192.0.2.250') as IPv4;
const PEER_V6 = ip('2001:db8::fa') as IPv6;

class FakeSocket implements PacketSocket {
  readonly ifindex = 2;
  readonly sent: Buffer[] = [];
  /** Membership operations in order, as `join MAC` / `leave MAC`. */
  readonly mcOps: string[] = [];
  /** Joined groups and their counts, as the kernel keeps them; emptied by close. */
  readonly groups = new Map<string, number>();
  /** Makes the next membership operations throw (a kernel error). */
  failMembership = 0;
  closed = false;
  stats = { framesReceived: 0, receiveErrors: 0 };
  #cb: ((f: Buffer) => void) | undefined;
  constructor(readonly ifname: string, readonly opts: PacketSocketOptions) {}
  get mac(): Buffer {
    return Buffer.from(OURS.split(':').map((h) => parseInt(h, 16)));
  }
  send(frame: Buffer): void {
    this.sent.push(Buffer.from(frame));
  }
  onFrame(cb: (f: Buffer) => void): void {
    this.#cb = cb;
  }
  onError(): void {}
  addMembership(mac: Buffer | string): void {
    const g = typeof mac === 'string' ? mac : [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    if (this.closed) throw new Error(`PACKET_ADD_MEMBERSHIP on ${this.ifname}: socket is closed`);
    if (this.failMembership > 0 && this.failMembership--) throw new Error(`PACKET_ADD_MEMBERSHIP ${g} on ${this.ifname}: No buffer space available`);
    this.mcOps.push(`join ${g}`);
    this.groups.set(g, (this.groups.get(g) ?? 0) + 1);
  }
  dropMembership(mac: Buffer | string): void {
    const g = typeof mac === 'string' ? mac : [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    this.mcOps.push(`leave ${g}`);
    const n = (this.groups.get(g) ?? 0) - 1;
    if (n > 0) this.groups.set(g, n);
    else this.groups.delete(g);
  }
  close(): void {
    this.closed = true;
    this.groups.clear();
  }
  receive(frame: Uint8Array): void {
    this.#cb?.(Buffer.from(frame));
  }
}

function setup() {
  const clock = new FakeClock();
  const sockets: FakeSocket[] = [];
  const a = new L2Announcer({
    ifname: 'eth0',
    log: silentLogger(),
    clock,
    openSocket: (opts) => {
      const s = new FakeSocket(opts.ifname, opts);
      sockets.push(s);
      return s;
    },
  });
  const arp = (): FakeSocket | undefined => sockets.find((s) => s.opts.ethertype === ETHERTYPE.ARP && !s.closed);
  const ndp = (): FakeSocket | undefined => sockets.find((s) => s.opts.ethertype === ETHERTYPE.IPv6 && !s.closed);
  const ndpSockets = (): FakeSocket[] => sockets.filter((s) => s.opts.ethertype === ETHERTYPE.IPv6);
  return { a, clock, sockets, arp, ndp, ndpSockets };
}

const arpRequest = (target: IPv4, dst: MAC = BROADCAST_MAC): Uint8Array =>
  arpFrame({ operation: 'request', senderMAC: PEER, senderIP: PEER_V4, targetMAC: '00:00:00:00:00:00' as MAC, targetIP: target }, PEER, dst);

function nsFrame(target: IPv6, hopLimit = 255): Uint8Array {
  const group = solicitedNodeMulticast(target);
  const payload = encodeNeighborSolicitation({ source: PEER_V6, destination: group, target, sourceLinkLayer: PEER });
  payload[7] = hopLimit; // the checksum does not cover the hop limit
  return buildEthernet({ dst: multicastMAC(group), src: PEER, ethertype: ETHERTYPE.IPv6, payload });
}

describe('L2Announcer', () => {
  it('announces a gained address with a burst of 3 at 0, 50 and 200 ms', () => {
    const { a, clock, arp, ndp } = setup();
    a.setOwned([V4, V6]);
    expect(arp()?.sent).toEqual([Buffer.from(gratuitousArpFrame(V4, OURS))]);
    expect(ndp()?.sent).toEqual([Buffer.from(unsolicitedAdvertisementFrame(V6, OURS))]);
    clock.advance(49);
    expect(arp()?.sent).toHaveLength(1);
    clock.advance(1);
    expect(arp()?.sent).toHaveLength(2);
    clock.advance(150);
    expect(arp()?.sent).toHaveLength(3);
    expect(ndp()?.sent).toHaveLength(3);
    clock.advance(10_000);
    expect(arp()?.sent).toHaveLength(3);
    expect(a.stats().gratuitousSent).toEqual({ arp: 3, ndp: 3 });
  });

  it('re-announces every owned address with a fresh burst when asked, replacing a burst in progress', () => {
    const { a, clock, arp, ndp } = setup();
    a.setOwned([V4, V6]);
    clock.advance(60);
    a.reannounce();
    clock.advance(1_000);
    // 2 of the first burst (0, 50 ms) and a full new one; the first's 200 ms copy was replaced.
    expect(arp()?.sent).toHaveLength(5);
    expect(ndp()?.sent).toHaveLength(5);
    expect(a.stats().gratuitousSent).toEqual({ arp: 5, ndp: 5 });
  });

  it('does not re-announce an address it keeps, and cancels the burst of one it loses', () => {
    const { a, clock, arp } = setup();
    a.setOwned([V4, ip('192.0.2.101')]);
    const s = arp();
    a.setOwned([ip('192.0.2.101')]);
    clock.advance(1_000);
    // V4 got only its immediate announcement; .101 its full burst of 3.
    expect(s?.sent.filter((f) => f.equals(Buffer.from(gratuitousArpFrame(V4, OURS))))).toHaveLength(1);
    expect(s?.sent).toHaveLength(4);
  });

  it('answers ARP requests for owned addresses, unicast to the requester', () => {
    const { a, arp } = setup();
    a.setOwned([V4]);
    const s = arp() as FakeSocket;
    s.sent.length = 0;
    s.receive(arpRequest(V4));
    expect(s.sent).toHaveLength(1);
    const reply = parseArpFrame(s.sent[0] as Buffer);
    expect(reply.ok && reply.value).toMatchObject({
      ethernet: { dst: PEER, src: OURS },
      arp: { operation: 'reply', senderMAC: OURS, senderIP: V4, targetMAC: PEER, targetIP: PEER_V4 },
    });
    expect(a.stats().answered.arp).toBe(1);
  });

  it('stays silent for unowned addresses, announcements and requests unicast to another MAC', () => {
    const { a, arp } = setup();
    a.setOwned([V4]);
    const s = arp() as FakeSocket;
    s.sent.length = 0;
    s.receive(arpRequest(ip('192.0.2.101') as IPv4));
    s.receive(gratuitousArpFrame(V4, PEER));
    s.receive(arpRequest(V4, '02:30:00:00:00:12' as MAC));
    expect(s.sent).toHaveLength(0);
    expect(a.stats().dropped.arp).toEqual({ notOwned: 1, announcement: 1, notForUs: 1 });
  });

  it('stops answering at once when the address is lost, and closes the socket with the last one', () => {
    const { a, arp, sockets } = setup();
    a.setOwned([V4]);
    const s = arp() as FakeSocket;
    a.setOwned([]);
    expect(s.closed).toBe(true);
    s.receive(arpRequest(V4));
    expect(a.stats().answered.arp).toBe(0);
    expect(sockets).toHaveLength(1);
  });

  it('answers Neighbor Solicitations for owned addresses with a solicited, override advertisement', () => {
    const { a, ndp } = setup();
    a.setOwned([V6]);
    const s = ndp() as FakeSocket;
    s.sent.length = 0;
    s.receive(nsFrame(V6));
    expect(s.sent).toHaveLength(1);
    const na = s.sent[0] as Buffer;
    expect(na.subarray(0, 6)).toEqual(Buffer.from([0x02, 0x30, 0, 0, 0, 0xfa]));
    expect(na[14 + 7]).toBe(255);
    expect(na[14 + 40]).toBe(136);
    expect(na[14 + 44]).toBe(0x60); // S and O set, R clear
    expect(a.stats().answered.ndp).toBe(1);
  });

  it('drops solicitations with a hop limit other than 255 (RFC 4861 7.1.1) and for unowned targets', () => {
    const { a, ndp } = setup();
    a.setOwned([V6]);
    const s = ndp() as FakeSocket;
    s.sent.length = 0;
    s.receive(nsFrame(V6, 254));
    s.receive(nsFrame(ip('2001:db8::101') as IPv6));
    expect(s.sent).toHaveLength(0);
    expect(a.stats().dropped.ndp).toEqual({ badHopLimit: 1, notOwned: 1 });
  });

  it('filters the IPv6 socket in the kernel to Neighbor Solicitations', () => {
    const { a, ndp } = setup();
    a.setOwned([V6]);
    expect(ndp()?.opts.filter?.length).toBeGreaterThan(0);
  });

  it('joins a solicited-node group on the NDP socket once per group and leaves it with the last address in it', async () => {
    const { a, ndp, ndpSockets } = setup();
    // ::100 and 1::100 share their low 24 bits, hence one group.
    const other = ip('2001:db8:0:1::100');
    const third = ip('2001:db8::200');
    a.setOwned([V6, other]);
    const s = ndp() as FakeSocket;
    expect([...s.groups]).toEqual([['33:33:ff:00:01:00', 1]]);
    a.setOwned([other, third]);
    expect(s.mcOps).toEqual(['join 33:33:ff:00:01:00', 'join 33:33:ff:00:02:00']);
    a.setOwned([third]);
    expect(s.mcOps).toEqual(['join 33:33:ff:00:01:00', 'join 33:33:ff:00:02:00', 'leave 33:33:ff:00:01:00']);
    expect([...s.groups.keys()]).toEqual(['33:33:ff:00:02:00']);
    // The socket closes with the last address, and its memberships with it.
    await a.close();
    expect(s.closed).toBe(true);
    expect(s.groups.size).toBe(0);
    expect(ndpSockets()).toHaveLength(1);
  });

  it('joins no group for IPv4 addresses', () => {
    const { a, arp, ndp } = setup();
    a.setOwned([V4]);
    expect(arp()?.mcOps).toEqual([]);
    expect(ndp()).toBeUndefined();
  });

  it('joins every owned group again on an NDP socket opened after the last one closed', () => {
    const { a, ndpSockets } = setup();
    const other = ip('2001:db8::200');
    a.setOwned([V6, other]);
    a.setOwned([V4]);
    a.setOwned([V4, V6, other]);
    const [first, second] = ndpSockets();
    expect(first?.closed).toBe(true);
    expect(second?.closed).toBe(false);
    expect([...(second?.groups.keys() ?? [])].sort()).toEqual(['33:33:ff:00:01:00', '33:33:ff:00:02:00']);
  });

  it('keeps the socket and its membership when one address in a group replaces another in the same call', () => {
    const { a, ndp, ndpSockets } = setup();
    a.setOwned([V6]);
    a.setOwned([ip('2001:db8:0:1::100')]);
    expect(ndpSockets()).toHaveLength(1);
    expect(ndp()?.mcOps).toEqual(['join 33:33:ff:00:01:00']);
  });

  it('counts a failed join instead of throwing, and joins on the next setOwned', () => {
    const sockets: FakeSocket[] = [];
    const a = new L2Announcer({
      ifname: 'eth0',
      log: silentLogger(),
      clock: new FakeClock(),
      openSocket: (opts) => {
        const s = new FakeSocket(opts.ifname, opts);
        s.failMembership = 1;
        sockets.push(s);
        return s;
      },
    });
    expect(() => a.setOwned([V6])).not.toThrow();
    expect(a.owned()).toEqual([V6]);
    expect(a.stats().multicastErrors).toBe(1);
    expect(sockets[0]?.groups.size).toBe(0);
    a.setOwned([V6]);
    expect(sockets[0]?.mcOps).toEqual(['join 33:33:ff:00:01:00']);
    expect(a.stats().multicastErrors).toBe(1);
  });

  it('throws when a socket cannot be opened, leaving that family not owned', () => {
    const a = new L2Announcer({
      ifname: 'eth9',
      log: silentLogger(),
      clock: new FakeClock(),
      openSocket: () => {
        throw new Error('open AF_PACKET on eth9: No such device');
      },
    });
    expect(() => a.setOwned([V4])).toThrow(/eth9/);
    expect(a.owned()).toEqual([]);
  });

  it('never throws on arbitrary frames', () => {
    const { a, arp, ndp } = setup();
    a.setOwned([V4, V6]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        arp()?.receive(bytes);
        ndp()?.receive(bytes);
      }),
    );
  });
});
