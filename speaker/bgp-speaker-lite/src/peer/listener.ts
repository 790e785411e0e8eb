/**
 * Passive TCP establishment: one node:net server on a local address and port (179, or any port
 * in tests) shared by the {@link BgpPeer}s that accept connections there. Each accepted
 * connection goes to the peer registered for its remote address; a connection from anyone else
 * is closed at once (RFC 4271 §8: a speaker only talks to configured peers).
 *
 * TCP MD5 (RFC 2385) keys are per peer address on the listening socket, so the kernel checks
 * the handshake itself and accepted sockets inherit the key; a segment with a missing or wrong
 * signature never reaches Node.
 * @packageDocumentation
 */

import * as net from 'node:net';
import { formatAddress, parseAddress } from '../codec/prefix.js';
import { socketFd, type SocketSecurity } from './socket-security.js';
import type { PeerLogger } from './peer.js';

/** Options of {@link BgpListener}. */
export interface BgpListenerOptions {
  /** Local address to listen on; `::` (IPv4 and IPv6) by default. */
  readonly host?: string;
  /** Local port; 179 by default (RFC 4271 §8.2.1). 0 picks a free port (see {@link BgpListener.port}). */
  readonly port?: number;
  /**
   * Native socket options. When present, the listening socket sends with TTL 255, so that our
   * SYN-ACK passes a peer's GTSM check (RFC 5082 §3); needed for peers with a password unless
   * they bring their own.
   */
  readonly socketSecurity?: SocketSecurity;
  readonly log?: PeerLogger;
}

/** What a peer registers with {@link BgpListener.attach}. */
export interface ListenerAttachment {
  /** TCP MD5 key for the peer's address, set on the listening socket. */
  readonly password?: string;
  /** Used for the MD5 key when the listener has no `socketSecurity` of its own. */
  readonly socketSecurity?: SocketSecurity;
  /** Takes ownership of an accepted connection from the peer's address. */
  readonly onConnection: (socket: net.Socket) => void;
}

/**
 * The canonical text of an address, so that `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack
 * socket) and `2001:DB8::1` match `192.0.2.1` and `2001:db8::1`. Undefined for a non-address.
 */
export function canonicalAddress(text: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  const parsed = parseAddress(mapped?.[1] ?? text);
  return parsed === undefined ? undefined : formatAddress(parsed.afi, parsed.bytes);
}

/** A listening socket for BGP connections, shared by the peers that accept there. */
export class BgpListener {
  readonly #host: string;
  readonly #port: number;
  readonly #security: SocketSecurity | undefined;
  readonly #log: PeerLogger | undefined;
  readonly #peers = new Map<string, ListenerAttachment>();
  readonly #server: net.Server;
  #listening = false;
  #rejected = 0;

  constructor(options: BgpListenerOptions = {}) {
    this.#host = options.host ?? '::';
    this.#port = options.port ?? 179;
    this.#security = options.socketSecurity;
    this.#log = options.log;
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#onConnection(socket));
    this.#server.on('error', (err) => this.#log?.warn({ event: 'bgpListenerError', host: this.#host, port: this.#port, err }, `listen ${this.#host}:${this.#port}: ${err.message}`));
  }

  /** The local port, once listening (the chosen one when the port option was 0). */
  get port(): number {
    const address = this.#server.address();
    return address !== null && typeof address === 'object' ? address.port : this.#port;
  }

  /** The local address listened on. */
  get host(): string {
    return this.#host;
  }

  /** Connections closed because no peer is registered for their remote address. */
  get rejectedConnections(): number {
    return this.#rejected;
  }

  /** Binds and listens; then sets the MD5 keys of the peers attached so far. Rejects on a bind or option error. */
  async listen(): Promise<void> {
    if (this.#listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`listen ${this.#host}:${this.#port}: ${err.message}`, { cause: err }));
      this.#server.once('error', onError);
      this.#server.listen({ host: this.#host, port: this.#port, exclusive: true }, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#listening = true;
    try {
      const fd = socketFd(this.#server);
      if (this.#security !== undefined) this.#security.setTtl(fd, 255);
      for (const [address, a] of this.#peers) this.#setKey(fd, address, a, a.password ?? null);
    } catch (err) {
      await this.close();
      throw err;
    }
    this.#log?.info({ event: 'bgpListening', host: this.#host, port: this.port }, `BGP listening on ${this.#host}:${this.port}`);
  }

  /**
   * Registers the peer at `peerAddress` (one per address) and sets its MD5 key on the
   * listening socket. Returns the function that unregisters it and removes the key. Throws if
   * the address is taken, is not an address, or the key cannot be set.
   */
  attach(peerAddress: string, attachment: ListenerAttachment): () => void {
    const address = canonicalAddress(peerAddress);
    if (address === undefined) throw new RangeError(`invalid peer address ${JSON.stringify(peerAddress)}`);
    if (this.#peers.has(address)) throw new Error(`listener ${this.#host}:${this.#port}: peer ${address} is already attached`);
    if (attachment.password !== undefined && (this.#security ?? attachment.socketSecurity) === undefined) {
      throw new Error(`listener ${this.#host}:${this.#port}: peer ${address} has a password but no socketSecurity is available`);
    }
    if (this.#listening && attachment.password !== undefined) this.#setKey(socketFd(this.#server), address, attachment, attachment.password);
    this.#peers.set(address, attachment);
    return () => {
      if (this.#peers.get(address) !== attachment) return;
      this.#peers.delete(address);
      if (!this.#listening || attachment.password === undefined) return;
      try {
        this.#setKey(socketFd(this.#server), address, attachment, null);
      } catch (err) {
        this.#log?.warn({ event: 'bgpMd5RemoveFailed', peer: address, err }, `remove TCP MD5 key of ${address}: ${String(err)}`);
      }
    };
  }

  /** Stops listening. Connections already handed to peers stay theirs. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    this.#listening = false;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #setKey(fd: number, address: string, a: ListenerAttachment, key: string | null): void {
    const security = this.#security ?? a.socketSecurity;
    if (security === undefined) return;
    security.setMd5(fd, address, key);
  }

  #onConnection(socket: net.Socket): void {
    const remote = socket.remoteAddress === undefined ? undefined : canonicalAddress(socket.remoteAddress);
    const attachment = remote === undefined ? undefined : this.#peers.get(remote);
    if (attachment === undefined) {
      this.#rejected++;
      this.#log?.warn(
        { event: 'bgpUnknownPeer', remote: socket.remoteAddress, port: this.port, reason: 'noPeerForAddress' },
        `refused BGP connection from ${socket.remoteAddress ?? 'unknown'}: no peer configured for it`,
      );
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    attachment.onConnection(socket);
  }
}
