/**
 * The UDP driver: binds a `node:dgram` socket and wires it to a {@link Swim} core. All
 * protocol logic is in the core; this file only moves datagrams.
 * @packageDocumentation
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock, Logger } from '@herald/shared/core';
import { HeraldError, silentLogger, systemClock } from '@herald/shared/core';
import type { Endpoint, Keys } from './codec.js';
import { MAX_DATAGRAM } from './codec.js';
import { Swim, type SwimConfig } from './swim.js';

export interface UdpMembershipOptions {
  /** Member name: the node name. */
  readonly name: string;
  /** Address to bind, IPv4 or IPv6; also the address others are told to use, so not a wildcard. */
  readonly address: string;
  /** Port to bind; 0 picks an ephemeral port (tests). */
  readonly port: number;
  readonly keys: Keys;
  readonly config?: Partial<SwimConfig>;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
}

/** A bound socket and the core it feeds. Create with {@link startUdpMembership}. */
export class UdpMembership {
  readonly swim: Swim;
  readonly #socket: Socket;
  #closed = false;

  private constructor(socket: Socket, swim: Swim) {
    this.#socket = socket;
    this.swim = swim;
  }

  /** Where this member listens (the actual port when 0 was asked for). */
  get endpoint(): Endpoint {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  /** Leaves gracefully, then closes the socket. */
  async leave(): Promise<void> {
    await this.swim.leave();
    await this.close();
  }

  /** Closes the socket without a goodbye (as a crash would). Idempotent. */
  close(): Promise<void> {
    this.swim.stop();
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  /** @internal */
  static async start(opts: UdpMembershipOptions): Promise<UdpMembership> {
    const log = (opts.log ?? silentLogger()).child({ component: 'membership-udp' });
    const socket = createSocket({ type: isIPv6(opts.address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(opts.address) });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new HeraldError('InvalidConfig', `membership: bind ${opts.address}:${opts.port}: ${err.message}`, { cause: err }));
      socket.once('error', onError);
      socket.bind({ address: opts.address, port: opts.port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    let closed = false;
    socket.on('close', () => (closed = true));
    const swim = new Swim({
      self: { name: opts.name, address: opts.address, port: socket.address().port },
      clock: opts.clock ?? systemClock,
      keys: opts.keys,
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.config ? { config: opts.config } : {}),
      log: opts.log ?? silentLogger(),
      send: (to, bytes) =>
        new Promise<void>((resolve, reject) => {
          if (closed) {
            reject(new HeraldError('Aborted', `membership: socket closed, not sending to ${to.address}:${to.port}`));
            return;
          }
          socket.send(bytes, to.port, to.address, (err) => (err ? reject(err) : resolve()));
        }),
    });
    // The socket keeps running after an error (an ICMP unreachable, say): log and go on.
    socket.on('error', (err) => log.warn({ event: 'socketError', err }));
    socket.on('message', (bytes, rinfo) => {
      // A datagram over the bound was not sent by a Herald speaker; let the core count it.
      swim.receive({ address: rinfo.address, port: rinfo.port }, bytes.length > MAX_DATAGRAM ? bytes.subarray(0, MAX_DATAGRAM + 1) : bytes);
    });
    return new UdpMembership(socket, swim);
  }
}

/** Binds a UDP socket on `address:port` and starts nothing yet: call `swim.join(seeds)` or `swim.start()`. */
export function startUdpMembership(opts: UdpMembershipOptions): Promise<UdpMembership> {
  return UdpMembership.start(opts);
}
