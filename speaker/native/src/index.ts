/**
 * `@herald/native`: the few Linux socket operations Node cannot do itself (ADR 0004).
 * AF_PACKET sockets carry ARP and NDP as whole Ethernet frames and hold the interface's
 * memberships of link-layer multicast groups; `setTcpMd5`, `setMinTtl`
 * and `setTtl` set RFC 2385 and RFC 5082 (GTSM) options on a socket Node already owns.
 *
 * Errors are `Error`s shaped like Node's system errors: the message carries context
 * (`open AF_PACKET on eth9: No such device`), `code` the errno name (`ENODEV`),
 * `errno` the negative errno and `syscall` the failing call. Bad arguments throw
 * `TypeError`/`RangeError` with Node's `ERR_*` codes.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';

/** Ethertypes Herald listens to. */
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

interface Binding {
  interfaceInfo(ifname: string): InterfaceInfo;
  packetOpen(ifname: string, ethertype: number, filter: Buffer | null): { handle: object; ifindex: number; mac: Buffer };
  packetRecvStart(handle: object, cb: (err: Error | null, frame: Buffer | undefined) => void): void;
  packetSend(handle: object, frame: Buffer): void;
  packetMembership(handle: object, mac: Buffer, add: boolean): void;
  packetClose(handle: object): void;
  setTcpMd5(fd: number, peer: string, key: string | null): void;
  setMinTtl(fd: number, ttl: number): void;
  setTtl(fd: number, ttl: number): void;
}

// Built by scripts/build-addon.mjs into dist/, next to the compiled wrapper; the same
// relative path also works from src/ (tests run the TypeScript sources).
const binding = createRequire(import.meta.url)('../dist/herald_native.node') as Binding;

/** An interface as the kernel reports it (SIOCGIFINDEX, SIOCGIFHWADDR, SIOCGIFMTU, SIOCGIFFLAGS). */
export interface InterfaceInfo {
  readonly ifindex: number;
  /** The first 6 bytes of the hardware address (all zero for loopback). */
  readonly mac: Buffer;
  readonly mtu: number;
  /** ARPHRD_* hardware type: 1 for Ethernet, 772 for loopback. */
  readonly hwtype: number;
  readonly flags: { readonly up: boolean; readonly broadcast: boolean; readonly loopback: boolean; readonly multicast: boolean };
}

/** Reads an interface's index, MAC, MTU and flags in the caller's network namespace. */
export function interfaceInfo(ifname: string): InterfaceInfo {
  return binding.interfaceInfo(ifname);
}

/** One classic BPF instruction (`struct sock_filter`), as `tcpdump -dd` prints it. */
export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export interface PacketSocketOptions {
  /** The Ethernet interface to bind to. */
  readonly ifname: string;
  /** Receive only this ethertype (e.g. {@link ETHERTYPE_ARP}); sending is not restricted. */
  readonly ethertype: number;
  /**
   * A kernel-side filter, so that a busy interface's traffic is not copied into the
   * process (IPv6 carries far more than NDP). Attached before the socket is bound.
   */
  readonly filter?: readonly BpfInstruction[];
}

/** Receive statistics of a {@link PacketSocket}, for metrics. */
export interface PacketSocketStats {
  readonly framesReceived: number;
  readonly receiveErrors: number;
}

/**
 * An AF_PACKET socket bound to one interface and ethertype. Frames are complete Ethernet
 * frames, sent and received as the wire carries them (no padding added for short frames);
 * frames this host sends are not received. Receiving starts at the first
 * {@link PacketSocket.onFrame} and keeps the process alive until {@link PacketSocket.close}.
 */
export interface PacketSocket {
  readonly ifname: string;
  readonly ifindex: number;
  /** The interface's MAC address when the socket was opened (a copy). */
  readonly mac: Buffer;
  readonly closed: boolean;
  readonly stats: PacketSocketStats;
  /** Sends one frame; throws on a short frame (< 14 bytes), a closed socket or a kernel error. */
  send(frame: Buffer): void;
  /** Sets the handler for received frames (replacing an earlier one) and starts receiving. */
  onFrame(cb: (frame: Buffer) => void): void;
  /**
   * Sets the handler for receive errors (e.g. `ENETDOWN` when the link goes down).
   * Receiving continues after an error. Without a handler errors are only counted in
   * {@link PacketSocket.stats}, so that a flapping link never crashes the speaker.
   */
  onError(cb: (err: Error) => void): void;
  /**
   * Joins a link-layer multicast group on the socket's interface (PACKET_ADD_MEMBERSHIP),
   * so that the NIC stops filtering out frames sent to it: an IPv6 solicited-node group
   * such as `33:33:ff:00:01:00` (RFC 2464 7). The membership belongs to this socket: the
   * kernel drops it when the socket closes, also when the process dies (SIGKILL, a crash),
   * so nothing is left behind on the interface. The kernel counts memberships per socket:
   * each join needs its own {@link PacketSocket.dropMembership}. Another holder of the same
   * group (the kernel for a local address, another socket) keeps its own reference.
   *
   * `mac` is 6 bytes or `xx:xx:xx:xx:xx:xx`, and must be a multicast (group) address.
   * Throws `ERR_SOCKET_CLOSED` on a closed socket, or the kernel's error with context
   * (`PACKET_ADD_MEMBERSHIP 33:33:ff:00:01:00 on eth0: No such device`).
   */
  addMembership(mac: Buffer | string): void;
  /**
   * Leaves a group joined with {@link PacketSocket.addMembership} (PACKET_DROP_MEMBERSHIP).
   * Leaving a group this socket has not joined, or leaving after close, does nothing.
   */
  dropMembership(mac: Buffer | string): void;
  /** Closes the socket and stops receiving; closing again does nothing. Drops its memberships. */
  close(): void;
}

const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

function macBytes(mac: Buffer | string): Buffer {
  if (typeof mac !== 'string') return mac;
  if (!MAC_TEXT.test(mac)) {
    throw Object.assign(new TypeError(`mac must be 6 bytes or xx:xx:xx:xx:xx:xx, not "${mac}"`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  return Buffer.from(mac.replaceAll(':', ''), 'hex');
}

function encodeFilter(filter: readonly BpfInstruction[]): Buffer {
  const buf = Buffer.alloc(filter.length * 8);
  filter.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

class NativePacketSocket implements PacketSocket {
  readonly ifname: string;
  readonly ifindex: number;
  readonly #mac: Buffer;
  readonly #handle: object;
  #closed = false;
  #frameCb: ((frame: Buffer) => void) | undefined;
  #errorCb: ((err: Error) => void) | undefined;
  #framesReceived = 0;
  #receiveErrors = 0;

  constructor(ifname: string, opened: { handle: object; ifindex: number; mac: Buffer }) {
    this.ifname = ifname;
    this.ifindex = opened.ifindex;
    this.#mac = opened.mac;
    this.#handle = opened.handle;
  }

  get mac(): Buffer {
    return Buffer.from(this.#mac);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get stats(): PacketSocketStats {
    return { framesReceived: this.#framesReceived, receiveErrors: this.#receiveErrors };
  }

  send(frame: Buffer): void {
    binding.packetSend(this.#handle, frame);
  }

  onFrame(cb: (frame: Buffer) => void): void {
    const start = this.#frameCb === undefined;
    this.#frameCb = cb;
    if (start) binding.packetRecvStart(this.#handle, (err, frame) => this.#dispatch(err, frame));
  }

  onError(cb: (err: Error) => void): void {
    this.#errorCb = cb;
  }

  addMembership(mac: Buffer | string): void {
    binding.packetMembership(this.#handle, macBytes(mac), true);
  }

  dropMembership(mac: Buffer | string): void {
    binding.packetMembership(this.#handle, macBytes(mac), false);
  }

  close(): void {
    this.#closed = true;
    binding.packetClose(this.#handle);
  }

  #dispatch(err: Error | null, frame: Buffer | undefined): void {
    if (err !== null) {
      this.#receiveErrors++;
      this.#errorCb?.(err);
    } else if (frame !== undefined) {
      this.#framesReceived++;
      this.#frameCb?.(frame);
    }
  }
}

/**
 * Opens an AF_PACKET/SOCK_RAW socket bound to `ifname` that receives `ethertype` frames.
 * Needs CAP_NET_RAW. Throws with context, e.g. `open AF_PACKET on eth9: No such device`.
 */
export function openPacketSocket(opts: PacketSocketOptions): PacketSocket {
  const filter = opts.filter === undefined ? null : encodeFilter(opts.filter);
  return new NativePacketSocket(opts.ifname, binding.packetOpen(opts.ifname, opts.ethertype, filter));
}

/**
 * Sets (or with `key` null or empty, removes) the RFC 2385 TCP MD5 key for `peer` on a
 * TCP socket: on a listening socket, accepted connections inherit it. On an IPv6
 * socket an IPv4 peer is keyed by its v4-mapped address. Keys are at most 80 bytes of
 * UTF-8; removing a key that is not set succeeds.
 */
export function setTcpMd5(fd: number, peer: string, key: string | null): void {
  binding.setTcpMd5(fd, peer, key);
}

/**
 * GTSM (RFC 5082): the kernel drops segments that arrive with a TTL (hop limit) below
 * `ttl`, typically 255 for directly connected peers; 0 turns the check off. Sets
 * IP_MINTTL, and on IPv6 sockets also IPV6_MINHOPCOUNT.
 */
export function setMinTtl(fd: number, ttl: number): void {
  binding.setMinTtl(fd, ttl);
}

/** Sets the TTL (hop limit) of segments the socket sends: IP_TTL, and IPV6_UNICAST_HOPS on IPv6 sockets. */
export function setTtl(fd: number, ttl: number): void {
  binding.setTtl(fd, ttl);
}
