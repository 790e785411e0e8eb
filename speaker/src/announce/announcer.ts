/**
 * The L2 announcer: the I/O edge around the pure ARP/NDP codecs of `../l2`. It owns two
 * AF_PACKET sockets on one interface (ARP, and ICMPv6 Neighbor Solicitations), answers
 * requests for the addresses it is told it owns, and announces an address when it gains
 * it. Which node owns an address is decided elsewhere (election); this only obeys.
 *
 * Neighbor Solicitations for an owned IPv6 address go to its solicited-node group (RFC
 * 4861 7.2.2), whose MAC (RFC 2464 7) a NIC filters out unless the interface has joined
 * it. The NDP socket itself holds those memberships (PACKET_ADD_MEMBERSHIP), so they end
 * with the socket, even when the speaker is killed: nothing is left behind on the
 * interface (ADR 0004). Chosen over allmulti, which would copy every multicast frame of
 * the LAN (mDNS, MLD, ...) into the NIC's receive path and is one flag shared with
 * anything else on the node.
 */
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, openPacketSocket, type BpfInstruction, type PacketSocket, type PacketSocketOptions } from '@herald/native';
import { errorMessage, type Clock, type Logger, type TimerHandle } from '@herald/shared/core';
import { formatIP, ipKey, type IP } from '@herald/shared/ip';
import {
  BROADCAST_MAC,
  answerArp,
  answerNeighborSolicitation,
  arpFrame,
  gratuitousArpFrame,
  isIPv4,
  isIPv6,
  isMulticastMAC,
  macFromBytes,
  multicastMAC,
  parseArpFrame,
  parseNeighborSolicitationFrame,
  solicitedNodeMulticast,
  unsolicitedAdvertisementFrame,
  type IPv4,
  type IPv6,
  type MAC,
} from '../l2/index.js';

/** The two protocols, as counter keys and log fields. */
export type L2Protocol = 'arp' | 'ndp';

/**
 * Why a received frame got no answer: a codec's parse reason (`badHopLimit`,
 * `badChecksum`, ...), its ignore reason (`notOwned`, `announcement`, ...), or one of the
 * announcer's own:
 * - `notForUs`: unicast to another MAC (a cache-refresh probe to a previous owner that a
 *   switch flooded); answering it would fight the owner the client is asking;
 * - `vlanTagged`: the request carried an 802.1Q tag; this announcer serves the untagged
 *   LAN of its interface (a VLAN is served by an announcer on the VLAN device).
 */
export type DropReason = string;

/** Counters since creation, for metrics. */
export interface AnnouncerStats {
  readonly answered: Readonly<Record<L2Protocol, number>>;
  readonly gratuitousSent: Readonly<Record<L2Protocol, number>>;
  readonly dropped: Readonly<Record<L2Protocol, Readonly<Record<DropReason, number>>>>;
  readonly sendErrors: number;
  /** Failed joins and leaves of solicited-node groups; a failed join is retried at the next `setOwned`. */
  readonly multicastErrors: number;
}

export interface L2AnnouncerOptions {
  readonly ifname: string;
  readonly log: Logger;
  readonly clock: Clock;
  /**
   * When each announcement of a burst goes out, in ms after the gain. RFC 5227 2.3 and
   * RFC 4861 7.2.6 (MAX_NEIGHBOR_ADVERTISEMENT = 3) both ask for a few copies, since any
   * one may be lost. Note Linux ignores an ARP update within `locktime` (1 s) of the
   * previous one, so a burst does not overturn an entry refreshed under a second ago.
   */
  readonly burstOffsetsMs?: readonly number[];
  /** Opens the packet sockets (which also hold the multicast memberships); tests pass fakes. */
  readonly openSocket?: (opts: PacketSocketOptions) => PacketSocket;
}

const DEFAULT_BURST_MS = [0, 50, 200] as const;

// Classic BPF run by the kernel on each IPv6 frame (offsets assume an untagged frame):
// keep ICMPv6 (next header 58 at 14+6) Neighbor Solicitations (type 135 at 14+40), drop
// the rest, so that a node's ordinary IPv6 traffic is never copied into this process.
// Equivalent to `tcpdump -dd 'ip6[6] == 58 and ip6[40] == 135'`.
const NS_FILTER: readonly BpfInstruction[] = [
  { code: 0x30, jt: 0, jf: 0, k: 20 }, // ldb [20]
  { code: 0x15, jt: 0, jf: 3, k: 58 }, // jeq #58
  { code: 0x30, jt: 0, jf: 0, k: 54 }, // ldb [54]
  { code: 0x15, jt: 0, jf: 1, k: 135 }, // jeq #135
  { code: 0x06, jt: 0, jf: 0, k: 0x40000 }, // ret #262144 (whole frame)
  { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret #0
];

interface Owned {
  readonly ip: IP;
  readonly timers: TimerHandle[];
}

/**
 * Answers ARP and NDP for the addresses this node owns on one interface.
 *
 * - {@link L2Announcer.setOwned} declares the full set. A gained address is announced
 *   with a burst (gratuitous ARP as an RFC 5227 announcement; unsolicited NA with
 *   Override, RFC 4861 7.2.6); a lost one is no longer answered from that call on and
 *   its pending announcements are cancelled.
 * - Requests are answered only for owned addresses; the codecs enforce RFC 826 / RFC
 *   4861 7.1.1 validity (hop limit 255, checksum, option lengths).
 * - Sockets are opened when the first address of their family is gained and closed with
 *   the last, so a node that owns nothing copies no traffic. The NDP socket is a member
 *   of the solicited-node group of every owned IPv6 address, and only while it is owned.
 * - A received frame never makes it throw: bad frames are counted by reason.
 */
export class L2Announcer {
  readonly ifname: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #burst: readonly number[];
  readonly #open: (opts: PacketSocketOptions) => PacketSocket;
  readonly #owned = new Map<string, Owned>();
  #arp: PacketSocket | undefined;
  #ndp: PacketSocket | undefined;
  // The solicited-node groups the current NDP socket has joined: empty for a socket just
  // opened, and forgotten with a closed one (closing dropped its memberships).
  readonly #joined = new Set<MAC>();
  #closed = false;
  readonly #answered: Record<L2Protocol, number> = { arp: 0, ndp: 0 };
  readonly #gratuitous: Record<L2Protocol, number> = { arp: 0, ndp: 0 };
  readonly #dropped: Record<L2Protocol, Record<DropReason, number>> = { arp: {}, ndp: {} };
  #sendErrors = 0;
  #multicastErrors = 0;

  constructor(opts: L2AnnouncerOptions) {
    this.ifname = opts.ifname;
    this.#log = opts.log.child({ component: 'l2-announcer', ifname: opts.ifname });
    this.#clock = opts.clock;
    this.#burst = opts.burstOffsetsMs ?? DEFAULT_BURST_MS;
    this.#open = opts.openSocket ?? openPacketSocket;
  }

  /** The addresses answered for now. */
  owned(): IP[] {
    return [...this.#owned.values()].map((o) => o.ip);
  }

  /**
   * Declares every address this node must answer for on the interface. Throws only if a
   * packet socket cannot be opened (no such interface, no CAP_NET_RAW); the addresses of
   * that family are then not owned, and a later call retries.
   */
  setOwned(ips: readonly IP[]): void {
    if (this.#closed) throw new Error(`L2Announcer on ${this.ifname} is closed`);
    const want = new Map(ips.map((ip) => [ipKey(ip), ip]));
    for (const [key, o] of this.#owned) {
      if (!want.has(key)) this.#lose(key, o);
    }
    const gained = [...want].filter(([key]) => !this.#owned.has(key)).map(([, ip]) => ip);
    // Open before gaining, so that a failure leaves that family not owned rather than
    // owned and deaf.
    let failure: unknown;
    for (const family of [4, 6] as const) {
      if (!gained.some((ip) => ip.family === family)) continue;
      try {
        this.#socket(family);
      } catch (err) {
        failure ??= err;
        for (const ip of gained.filter((g) => g.family === family)) gained.splice(gained.indexOf(ip), 1);
      }
    }
    for (const ip of gained) this.#gain(ip);
    this.#closeIdleSockets();
    this.#syncGroups();
    if (failure !== undefined) throw failure;
  }

  /**
   * Resolves once every multicast join and leave asked for so far has run. They run
   * within {@link L2Announcer.setOwned} (a socket option, no process to wait for), so
   * this resolves at once; it stays for callers that wait before reporting ready.
   */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Sends a fresh announcement burst for every owned address. For when clients may have
   * been misled: a speaker that was cut off came back and, from a stale view, announced
   * addresses it no longer owns; the rightful owner never lost them, so nothing else would
   * correct the clients' neighbour entries.
   */
  reannounce(): void {
    for (const o of this.#owned.values()) {
      for (const t of o.timers) this.#clock.clearTimeout(t);
      o.timers.length = 0;
      this.#burstFor(o);
    }
  }

  /** A snapshot of the counters. */
  stats(): AnnouncerStats {
    return {
      answered: { ...this.#answered },
      gratuitousSent: { ...this.#gratuitous },
      dropped: { arp: { ...this.#dropped.arp }, ndp: { ...this.#dropped.ndp } },
      sendErrors: this.#sendErrors,
      multicastErrors: this.#multicastErrors,
    };
  }

  /** Stops answering, cancels announcements, closes the sockets and so leaves the groups. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.setOwned([]);
      this.#closed = true;
    }
    return Promise.resolve();
  }

  #gain(ip: IP): void {
    const o: Owned = { ip, timers: [] };
    this.#owned.set(ipKey(ip), o);
    this.#log.info({ event: 'gained', ip: formatIP(ip) }, 'announcing');
    this.#burstFor(o);
  }

  #burstFor(o: Owned): void {
    for (const ms of this.#burst) {
      if (ms <= 0) this.#announce(o);
      else o.timers.push(this.#clock.setTimeout(() => this.#announce(o), ms));
    }
  }

  #lose(key: string, o: Owned): void {
    this.#owned.delete(key);
    for (const t of o.timers) this.#clock.clearTimeout(t);
    this.#log.info({ event: 'lost', ip: formatIP(o.ip) }, 'no longer announcing');
  }

  #announce(o: Owned): void {
    // A timer that fires after the loss (clearTimeout raced it) must not announce.
    if (this.#owned.get(ipKey(o.ip)) !== o) return;
    if (isIPv4(o.ip) && this.#arp) {
      if (this.#send(this.#arp, gratuitousArpFrame(o.ip, this.#mac(this.#arp)), 'gratuitous ARP')) this.#gratuitous.arp++;
    } else if (isIPv6(o.ip) && this.#ndp) {
      if (this.#send(this.#ndp, unsolicitedAdvertisementFrame(o.ip, this.#mac(this.#ndp)), 'unsolicited NA')) this.#gratuitous.ndp++;
    }
  }

  #socket(family: 4 | 6): PacketSocket {
    if (family === 4) {
      this.#arp ??= this.#openSocket(ETHERTYPE_ARP, undefined, (f) => this.#onArp(f));
      return this.#arp;
    }
    if (!this.#ndp) {
      this.#ndp = this.#openSocket(ETHERTYPE_IPV6, NS_FILTER, (f) => this.#onNdp(f));
      this.#joined.clear();
    }
    return this.#ndp;
  }

  #openSocket(ethertype: number, filter: readonly BpfInstruction[] | undefined, onFrame: (f: Buffer) => void): PacketSocket {
    const s = this.#open(filter === undefined ? { ifname: this.ifname, ethertype } : { ifname: this.ifname, ethertype, filter });
    s.onError((err) => this.#log.warn({ event: 'receiveError', err: errorMessage(err) }, 'packet socket receive failed'));
    s.onFrame((f) => {
      try {
        onFrame(f);
      } catch (err) {
        // The codecs do not throw; this is a bug, and a bug must not stop the socket.
        this.#log.error({ event: 'frameHandlerFailed', err: errorMessage(err) }, 'frame handler threw');
      }
    });
    return s;
  }

  #closeIdleSockets(): void {
    const owned = [...this.#owned.values()];
    if (this.#arp && !owned.some((o) => o.ip.family === 4)) {
      this.#arp.close();
      this.#arp = undefined;
    }
    if (this.#ndp && !owned.some((o) => o.ip.family === 6)) {
      this.#ndp.close();
      this.#ndp = undefined;
      this.#joined.clear();
    }
  }

  /**
   * Makes the NDP socket's memberships match the owned IPv6 addresses: one per
   * solicited-node group (addresses whose low 24 bits agree share one). Reconciled from
   * the owned set rather than counted per change, so a socket opened again joins every
   * group afresh and a join that failed is tried again on the next call.
   */
  #syncGroups(): void {
    const s = this.#ndp;
    if (!s) return;
    const want = new Set<MAC>();
    for (const o of this.#owned.values()) if (isIPv6(o.ip)) want.add(multicastMAC(solicitedNodeMulticast(o.ip)));
    for (const group of [...this.#joined]) {
      if (!want.has(group) && this.#membership(s, 'leave', group)) this.#joined.delete(group);
    }
    for (const group of want) {
      if (!this.#joined.has(group) && this.#membership(s, 'join', group)) this.#joined.add(group);
    }
  }

  #membership(s: PacketSocket, op: 'join' | 'leave', group: MAC): boolean {
    try {
      if (op === 'join') s.addMembership(group);
      else s.dropMembership(group);
      this.#log.debug({ event: `multicast-${op}`, group }, `multicast ${op} ${group}`);
      return true;
    } catch (err) {
      // Without the group the NIC may filter out solicitations for the address; unicast
      // ones (cache refreshes) still arrive, and the next setOwned tries again.
      this.#multicastErrors++;
      this.#log.error({ event: `multicast-${op}-failed`, group, err: errorMessage(err) }, `multicast ${op} ${group} failed`);
      return false;
    }
  }

  #onArp(frame: Buffer): void {
    const s = this.#arp;
    if (!s) return;
    const parsed = parseArpFrame(frame);
    if (!parsed.ok) return this.#drop('arp', parsed.reason);
    const { ethernet, arp } = parsed.value;
    const own = this.#mac(s);
    if (ethernet.vlan) return this.#drop('arp', 'vlanTagged');
    if (ethernet.dst !== own && ethernet.dst !== BROADCAST_MAC) return this.#drop('arp', 'notForUs');
    const answer = answerArp(arp, own, (ip: IPv4) => this.#owned.has(ipKey(ip)));
    if (answer.reply === undefined) return this.#drop('arp', answer.reason);
    if (this.#send(s, arpFrame(answer.reply, own, answer.reply.targetMAC), 'ARP reply')) this.#answered.arp++;
  }

  #onNdp(frame: Buffer): void {
    const s = this.#ndp;
    if (!s) return;
    const parsed = parseNeighborSolicitationFrame(frame);
    if (!parsed.ok) return this.#drop('ndp', parsed.reason);
    const own = this.#mac(s);
    const dst = parsed.value.ethernet.dst;
    if (parsed.value.ethernet.vlan) return this.#drop('ndp', 'vlanTagged');
    if (dst !== own && !isMulticastMAC(dst)) return this.#drop('ndp', 'notForUs');
    const answer = answerNeighborSolicitation(parsed.value, own, (ip: IPv6) => this.#owned.has(ipKey(ip)));
    if (answer.frame === undefined) return this.#drop('ndp', answer.reason);
    if (this.#send(s, Buffer.from(answer.frame), 'neighbor advertisement')) this.#answered.ndp++;
  }

  #drop(proto: L2Protocol, reason: DropReason): void {
    const d = this.#dropped[proto];
    d[reason] = (d[reason] ?? 0) + 1;
  }

  #send(s: PacketSocket, frame: Uint8Array, what: string): boolean {
    try {
      s.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      return true;
    } catch (err) {
      // ENETDOWN while the link is down, for instance: count and carry on; the next
      // request (or the speaker's re-announcement on link up) tries again.
      this.#sendErrors++;
      this.#log.warn({ event: 'sendFailed', what, err: errorMessage(err) }, `send ${what} failed`);
      return false;
    }
  }

  #mac(s: PacketSocket): MAC {
    return macFromBytes(s.mac);
  }
}
