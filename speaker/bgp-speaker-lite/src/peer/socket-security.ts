/**
 * TCP MD5 (RFC 2385), TTL and GTSM (RFC 5082) on BGP's TCP sockets. Node cannot set these
 * options itself; this package does not load native code either, so the caller injects the
 * three setters ({@link SocketSecurity}; `@herald/native` provides them). What lives here is
 * when and on which file descriptor they are applied:
 *
 * - Dialing: the options must be on the socket before the SYN leaves (the SYN carries the MD5
 *   signature and, for GTSM, the TTL). Node creates a TCP handle in `connect()` but issues the
 *   connect(2) a tick later (it defers the call even for an IP literal), and libuv creates the
 *   file descriptor only on bind(2) or connect(2). So {@link dialTcp} calls `connect()`, binds
 *   the handle itself in the same tick (to the source address, port 0), which yields the fd,
 *   sets the options, and lets Node's deferred connect(2) run on the bound socket. This uses
 *   Node's undocumented `socket._handle` (checked at run time, failing loudly if it changes).
 * - Listening: MD5 keys are per peer address on the listening socket; accepted sockets inherit
 *   them (see `listener.ts`). TTL and minimum TTL are set per peer on each accepted socket.
 * @packageDocumentation
 */

import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';

/**
 * The native socket options this package needs, injected (`@herald/native` has them). Each
 * takes the socket's file descriptor and throws on failure.
 */
export interface SocketSecurity {
  /** TCP_MD5SIG (RFC 2385) for `peer`; `key` null removes it. */
  setMd5(fd: number, peer: string, key: string | null): void;
  /** IP_TTL / IPV6_UNICAST_HOPS of outgoing segments. */
  setTtl(fd: number, ttl: number): void;
  /** IP_MINTTL / IPV6_MINHOPCOUNT (GTSM, RFC 5082): drop segments that arrive with less. */
  setMinTtl(fd: number, ttl: number): void;
}

/** Per-peer TCP options. */
export interface TcpSecurityOptions {
  /** TCP MD5 key (RFC 2385), at most 80 octets. */
  readonly password?: string;
  /** TTL of our segments: commonly 1 for directly connected eBGP, 255 for multihop and iBGP. */
  readonly ttl?: number;
  /** GTSM (RFC 5082): lowest TTL accepted from the peer, typically 255 (directly connected). */
  readonly minTtl?: number;
}

/** The subset of Node's TCP handle (`tcp_wrap`) this module uses. */
interface TcpHandle {
  readonly fd?: number;
  bind?(address: string, port: number): number;
  bind6?(address: string, port: number, flags: number): number;
}

const handleOf = (s: net.Socket | net.Server): TcpHandle | undefined => (s as unknown as { _handle?: TcpHandle | null })._handle ?? undefined;

/** The file descriptor of a connected/connecting socket or a listening server. Throws when Node has none. */
export function socketFd(s: net.Socket | net.Server): number {
  const fd = handleOf(s)?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor on the socket (Node internals changed, or the socket is closed)');
  return fd;
}

/** Whether dialing needs the socket options before connect(2). */
export function needsOptions(tcp: TcpSecurityOptions): boolean {
  return tcp.password !== undefined || tcp.ttl !== undefined || tcp.minTtl !== undefined;
}

/** RFC 5082 §3: a GTSM speaker sends with TTL 255, so default the TTL when only minTtl is set. */
export function effectiveTtl(tcp: TcpSecurityOptions): number | undefined {
  return tcp.ttl ?? (tcp.minTtl !== undefined ? 255 : undefined);
}

function applyOptions(fd: number, peer: string, tcp: TcpSecurityOptions, security: SocketSecurity, md5: boolean): void {
  if (md5 && tcp.password !== undefined) security.setMd5(fd, peer, tcp.password);
  const ttl = effectiveTtl(tcp);
  if (ttl !== undefined) security.setTtl(fd, ttl);
  if (tcp.minTtl !== undefined) security.setMinTtl(fd, tcp.minTtl);
}

function uvError(code: number, syscall: string, what: string): Error {
  let name: string;
  try {
    name = getSystemErrorName(code);
  } catch {
    name = `E${-code}`;
  }
  return Object.assign(new Error(`${syscall} ${what}: ${name}`), { code: name, errno: code, syscall });
}

/** Options of {@link dialTcp}. */
export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly tcp: TcpSecurityOptions;
  /** Required when `tcp` sets anything. */
  readonly security?: SocketSecurity;
}

/**
 * Opens a TCP connection to a BGP peer with the socket options in place before the SYN. The
 * returned socket is connecting; failures (including a failed option) arrive as its `error`
 * and `close` events, never as a throw.
 */
export function dialTcp(opts: DialOptions): net.Socket {
  const { host, port, localAddress, tcp, security } = opts;
  if (!needsOptions(tcp)) {
    return net.connect({ host, port, noDelay: true, ...(localAddress !== undefined ? { localAddress } : {}) });
  }
  const socket = new net.Socket();
  // No localAddress for Node: it would bind a second time (EINVAL) after the bind below.
  socket.connect({ host, port, noDelay: true });
  try {
    if (security === undefined) throw new Error('TCP MD5/TTL options need socketSecurity');
    const handle = handleOf(socket);
    const v6 = net.isIPv6(host);
    const local = localAddress ?? (v6 ? '::' : '0.0.0.0');
    const bind = v6 ? handle?.bind6?.bind(handle, local, 0, 0) : handle?.bind?.bind(handle, local, 0);
    if (bind === undefined) throw new Error('cannot bind the TCP handle before connect (Node internals changed)');
    const err = bind();
    if (err !== 0) throw uvError(err, 'bind', local);
    applyOptions(socketFd(socket), host, tcp, security, true);
  } catch (err) {
    // Destroyed before the deferred connect(2): nothing leaves the host without its options.
    socket.destroy(err instanceof Error ? err : new Error(String(err)));
  }
  return socket;
}

/**
 * Sets TTL and minimum TTL on an accepted socket (its MD5 key came with the listening socket).
 * Throws on failure; the caller closes the connection.
 */
export function secureAccepted(socket: net.Socket, tcp: TcpSecurityOptions, security: SocketSecurity | undefined): void {
  if (effectiveTtl(tcp) === undefined && tcp.minTtl === undefined) return;
  if (security === undefined) throw new Error('TTL options need socketSecurity');
  applyOptions(socketFd(socket), socket.remoteAddress ?? '', tcp, security, false);
}
