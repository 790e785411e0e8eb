/**
 * BFD over UDP on `node:dgram`: single-hop (RFC 5881, destination port 3784) and multi-hop
 * (RFC 5883, port 4784). One {@link BfdUdp} owns the receiving socket and demultiplexes packets
 * to its sessions by Your Discriminator, or by the peer's address while Your Discriminator is 0
 * (RFC 5880 6.8.6). Each session transmits from its own socket bound to a source port in
 * 49152-65535 (RFC 5881 4), with TTL 255 (RFC 5881 5).
 *
 * GTSM on receive is NOT enforced: RFC 5881 5 requires discarding single-hop packets whose TTL
 * is not 255, but Node's dgram cannot read a received packet's TTL nor set IP_MINTTL /
 * IPV6_MINHOPCOUNT. The `onSocket` hook hands over each socket as it is bound so the native
 * addon can set IP_MINTTL=255 on the receiving socket later; until then a spoofed packet from
 * off-link can reach a session (it still needs the right discriminators to do harm).
 * @packageDocumentation
 */

import dgram from 'node:dgram';
import net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { decodeControl, encodeControl } from './codec.js';
import {
  adminDown,
  adminUp,
  createBfdSession,
  receive,
  setParameters,
  tick,
  type BfdReceiveDiscard,
  type BfdResult,
  type BfdSessionConfig,
  type BfdSessionState,
  type Random,
} from './machine.js';

/** RFC 5881 4: destination port of single-hop Control packets. */
export const BFD_SINGLE_HOP_PORT = 3784;
/** RFC 5883 3: destination port of multi-hop Control packets. */
export const BFD_MULTI_HOP_PORT = 4784;
/** RFC 5881 4: source ports of Control packets. */
export const BFD_SOURCE_PORTS = { min: 49152, max: 65535 } as const;

/** Why a received datagram reached no session. */
export type BfdUdpDiscard = BfdReceiveDiscard | 'unknownSession';

/** Options of {@link BfdUdp.open}. */
export interface BfdUdpOptions {
  readonly mode: 'singleHop' | 'multiHop';
  /** Local address to receive on and send from; its family picks udp4 or udp6. */
  readonly localAddress: string;
  /** Port to receive on; 3784 or 4784 by mode. 0 picks a free port (tests). */
  readonly listenPort?: number;
  /** Range of source ports for sessions; RFC 5881 4 by default. */
  readonly sourcePorts?: { readonly min: number; readonly max: number };
  /** Outgoing TTL / hop limit; 255 (RFC 5881 5; also used for multi-hop). */
  readonly ttl?: number;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Called with each socket once bound, e.g. for the native addon to set IP_MINTTL. */
  readonly onSocket?: (socket: dgram.Socket, role: 'receive' | 'transmit') => void;
  /** Called for every datagram that reached no session, with the reason. */
  readonly onDiscard?: (reason: BfdUdpDiscard, from: dgram.RemoteInfo) => void;
  /**
   * Socket errors (e.g. EHOSTUNREACH while the peer is away). Without it they are dropped:
   * a dead path is reported by the detection timer, which is what BFD is for.
   */
  readonly onError?: (err: Error) => void;
}

/** Options of {@link BfdUdp.addSession}. */
export interface BfdPeerOptions {
  readonly peerAddress: string;
  /** The peer's receive port; 3784 or 4784 by mode. */
  readonly peerPort?: number;
  readonly config: BfdSessionConfig;
  /** Start in AdminDown. */
  readonly adminDown?: boolean;
  readonly onUp?: () => void;
  /** `diag` is the local diagnostic (see `BfdDiag`). */
  readonly onDown?: (diag: number) => void;
}

const bindSocket = (socket: dgram.Socket, port: number, address: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });

const closeSocket = (socket: dgram.Socket): Promise<void> =>
  new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      // Already closed (ERR_SOCKET_DGRAM_NOT_RUNNING): nothing left to release.
      resolve();
    }
  });

/** One BFD session over UDP. Create it with {@link BfdUdp.addSession}. */
export class BfdUdpSession {
  readonly peerAddress: string;
  readonly #peerPort: number;
  readonly #socket: dgram.Socket;
  readonly #owner: BfdUdp;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #options: BfdPeerOptions;
  readonly #onError: ((err: Error) => void) | undefined;
  #state: BfdSessionState;
  #timer: TimerHandle | undefined;
  #closed = false;

  /** @internal */
  constructor(owner: BfdUdp, socket: dgram.Socket, options: BfdPeerOptions, peerPort: number, env: { clock: Clock; random: Random; onError: ((err: Error) => void) | undefined }) {
    this.#owner = owner;
    this.#socket = socket;
    this.#options = options;
    this.peerAddress = options.peerAddress;
    this.#peerPort = peerPort;
    this.#clock = env.clock;
    this.#random = env.random;
    this.#onError = env.onError;
    this.#state = createBfdSession(options.config, this.#clock.now(), options.adminDown === true ? { adminDown: true } : {});
  }

  /** The current state variables. */
  get state(): BfdSessionState {
    return this.#state;
  }

  get localDiscriminator(): number {
    return this.#state.config.localDiscriminator;
  }

  /** The local source port (RFC 5881 4: fixed for the session's lifetime). */
  get sourcePort(): number {
    return this.#socket.address().port;
  }

  adminDown(diag?: number): void {
    this.#apply(adminDown(this.#state, this.#clock.now(), diag, this.#random));
  }

  adminUp(): void {
    this.#apply(adminUp(this.#state, this.#clock.now(), this.#random));
  }

  /** Throws `RangeError` on invalid values. */
  setParameters(parameters: Parameters<typeof setParameters>[1]): void {
    this.#apply(setParameters(this.#state, parameters, this.#clock.now(), this.#random));
  }

  /** Stops the session at once, without telling the peer (use `adminDown` first for that). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#owner._forget(this);
    await closeSocket(this.#socket);
  }

  /** @internal Starts transmitting. */
  _start(): void {
    this.#apply(tick(this.#state, this.#clock.now(), this.#random));
  }

  /** @internal A decoded packet for this session. */
  _receive(packet: Parameters<typeof receive>[1]): BfdResult {
    const result = receive(this.#state, packet, this.#clock.now(), this.#random);
    this.#apply(result);
    return result;
  }

  #apply(result: BfdResult): void {
    if (this.#closed) return;
    this.#state = result.state;
    for (const action of result.actions) {
      switch (action.type) {
        case 'send':
          this.#socket.send(encodeControl(action.packet), this.#peerPort, this.peerAddress, (err) => {
            if (err) this.#onError?.(err);
          });
          break;
        case 'sessionUp':
          this.#options.onUp?.();
          break;
        case 'sessionDown':
          this.#options.onDown?.(action.diag);
          break;
        case 'schedule':
          this.#schedule(action.at);
          break;
      }
    }
  }

  #schedule(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#apply(tick(this.#state, this.#clock.now(), this.#random));
    }, Math.max(0, at - this.#clock.now()));
  }
}

/** A set of BFD sessions sharing one receiving socket. */
export class BfdUdp {
  readonly #options: BfdUdpOptions;
  readonly #socket: dgram.Socket;
  readonly #type: 'udp4' | 'udp6';
  readonly #byDiscriminator = new Map<number, BfdUdpSession>();
  readonly #byPeer = new Map<string, BfdUdpSession>();
  #closed = false;

  private constructor(options: BfdUdpOptions, socket: dgram.Socket, type: 'udp4' | 'udp6') {
    this.#options = options;
    this.#socket = socket;
    this.#type = type;
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', (err) => this.#options.onError?.(err));
  }

  /** Binds the receiving socket. */
  static async open(options: BfdUdpOptions): Promise<BfdUdp> {
    const type = net.isIPv6(options.localAddress) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    const port = options.listenPort ?? (options.mode === 'singleHop' ? BFD_SINGLE_HOP_PORT : BFD_MULTI_HOP_PORT);
    try {
      await bindSocket(socket, port, options.localAddress);
    } catch (err) {
      await closeSocket(socket);
      throw new Error(`bind BFD ${options.mode} receive socket ${options.localAddress}:${port}: ${(err as Error).message}`, { cause: err });
    }
    options.onSocket?.(socket, 'receive');
    return new BfdUdp(options, socket, type);
  }

  /** The address and port packets are received on. */
  get address(): { readonly address: string; readonly port: number } {
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /** The sessions, keyed by local discriminator. */
  get sessions(): ReadonlyMap<number, BfdUdpSession> {
    return this.#byDiscriminator;
  }

  /**
   * Adds a session and starts it (its first packet goes out at once unless it is passive or
   * AdminDown). One session per peer address and per local discriminator.
   */
  async addSession(peer: BfdPeerOptions): Promise<BfdUdpSession> {
    if (this.#closed) throw new Error('BFD: addSession after close');
    const discriminator = peer.config.localDiscriminator;
    if (this.#byDiscriminator.has(discriminator)) throw new Error(`BFD: local discriminator ${discriminator} already in use`);
    if (this.#byPeer.has(peer.peerAddress)) throw new Error(`BFD: a session to ${peer.peerAddress} exists already`);
    const socket = await this.#bindTransmitSocket();
    const peerPort = peer.peerPort ?? (this.#options.mode === 'singleHop' ? BFD_SINGLE_HOP_PORT : BFD_MULTI_HOP_PORT);
    let session: BfdUdpSession;
    try {
      session = new BfdUdpSession(this, socket, peer, peerPort, {
        clock: this.#options.clock ?? systemClock,
        random: this.#options.random ?? Math.random,
        onError: this.#options.onError,
      });
    } catch (err) {
      await closeSocket(socket);
      throw err;
    }
    this.#byDiscriminator.set(discriminator, session);
    this.#byPeer.set(peer.peerAddress, session);
    session._start();
    return session;
  }

  /** Stops every session and the receiving socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#byDiscriminator.values()].map((s) => s.close()));
    await closeSocket(this.#socket);
  }

  /** @internal Called by a closing session. */
  _forget(session: BfdUdpSession): void {
    if (this.#byDiscriminator.get(session.localDiscriminator) === session) this.#byDiscriminator.delete(session.localDiscriminator);
    if (this.#byPeer.get(session.peerAddress) === session) this.#byPeer.delete(session.peerAddress);
  }

  async #bindTransmitSocket(): Promise<dgram.Socket> {
    const { min, max } = this.#options.sourcePorts ?? BFD_SOURCE_PORTS;
    const random = this.#options.random ?? Math.random;
    let lastError: unknown;
    // Random ports, retried on collision: RFC 5881 4 wants them unique per session.
    for (let attempt = 0; attempt < 32; attempt++) {
      const port = min + Math.floor(random() * (max - min + 1));
      const socket = dgram.createSocket({ type: this.#type, reuseAddr: false });
      try {
        await bindSocket(socket, port, this.#options.localAddress);
      } catch (err) {
        lastError = err;
        await closeSocket(socket);
        continue;
      }
      socket.on('error', (err) => this.#options.onError?.(err));
      socket.setTTL(this.#options.ttl ?? 255);
      this.#options.onSocket?.(socket, 'transmit');
      return socket;
    }
    throw new Error(`bind BFD source port in ${min}-${max} on ${this.#options.localAddress}: ${(lastError as Error | undefined)?.message ?? 'no port'}`, {
      cause: lastError,
    });
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const decoded = decodeControl(msg);
    if (!decoded.ok) {
      this.#options.onDiscard?.(decoded.reason, rinfo);
      return;
    }
    const { packet } = decoded;
    const session =
      packet.yourDiscriminator !== 0 ? this.#byDiscriminator.get(packet.yourDiscriminator) : this.#byPeer.get(rinfo.address);
    if (session === undefined) {
      this.#options.onDiscard?.('unknownSession', rinfo);
      return;
    }
    const result = session._receive(packet);
    if (result.discarded !== undefined) this.#options.onDiscard?.(result.discarded, rinfo);
  }
}
