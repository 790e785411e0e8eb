/**
 * One TCP connection of a BGP peer: the socket, the framer that cuts its byte stream into
 * messages, and the encoding context negotiated on it. A peer has up to two at a time, while a
 * connection collision (RFC 4271 §6.8) is being settled.
 * @packageDocumentation
 */

import type * as net from 'node:net';
import { MessageFramer } from '../codec/framer.js';
import type { PackContext } from '../codec/pack.js';
import type { ConnectionRole } from '../fsm/index.js';

/** Addresses of a connection, for logs, status and tests. */
export interface ConnectionInfo {
  /** `initiated`: we connected; `accepted`: the peer did. */
  readonly role: ConnectionRole;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/** How long a closing connection may take to flush and see the peer's FIN. */
const CLOSE_TIMEOUT_MS = 1_000;

/** A TCP connection with its framing state. */
export class BgpConnection {
  readonly role: ConnectionRole;
  readonly socket: net.Socket;
  framer = new MessageFramer();
  ctx: PackContext = { fourOctetAs: false, extendedMessages: false };
  /** The peer advertised Graceful Restart (RFC 4724) in its OPEN on this connection. */
  peerGracefulRestart = false;
  #released = false;
  readonly #closed: Promise<void>;

  constructor(socket: net.Socket, role: ConnectionRole) {
    this.socket = socket;
    this.role = role;
    this.#closed = new Promise<void>((resolve) => {
      if (socket.closed) resolve();
      else socket.once('close', () => resolve());
    });
  }

  /** False once {@link BgpConnection.close} was called or the socket is gone. */
  get usable(): boolean {
    return !this.#released && !this.socket.destroyed;
  }

  /** Resolves when the socket has closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  get info(): ConnectionInfo {
    const s = this.socket;
    return { role: this.role, localAddress: s.localAddress, localPort: s.localPort, remoteAddress: s.remoteAddress, remotePort: s.remotePort };
  }

  write(bytes: Uint8Array): void {
    if (this.usable) this.socket.write(bytes);
  }

  /**
   * Closes the connection; events after this are the caller's to ignore. `graceful` flushes
   * what was written (e.g. a NOTIFICATION) and sends FIN, destroying the socket if the peer
   * has not closed within a second; `abort` destroys it at once (what is already in the
   * kernel's buffer may still go out).
   */
  close(mode: 'graceful' | 'abort' = 'graceful'): Promise<void> {
    if (this.#released) return this.#closed;
    this.#released = true;
    const s = this.socket;
    if (mode === 'abort' || s.connecting || s.destroyed) {
      s.destroy();
      return this.#closed;
    }
    s.end();
    const timer = setTimeout(() => s.destroy(), CLOSE_TIMEOUT_MS);
    timer.unref();
    s.once('close', () => clearTimeout(timer));
    return this.#closed;
  }
}
