/**
 * The I/O edge of one BGP peer: TCP connections (node:net) around {@link fsm.Session}s, the
 * codec between them, and the peer's Adj-RIB-Out.
 *
 * Bytes in: socket → `MessageFramer` → {@link decodeMessage} → session events.
 * Actions out: `sendOpen`/`sendKeepalive`/`sendNotification` → {@link encodeMessage} → socket;
 * `established` → the whole Adj-RIB-Out packed into UPDATEs, then End-of-RIB per family
 * (RFC 4724 §2); a ROUTE-REFRESH (RFC 2918 §4) re-sends the family's Adj-RIB-Out.
 *
 * TCP establishment is active (we dial), passive (`passive`: only accept, through a
 * {@link BgpListener}) or both (dial, and accept through a listener). As in RFC 4271 §8 one
 * state machine runs per connection: the peer's main session, plus a second one while two
 * connections to the peer exist. The second connection is settled by collision detection
 * (RFC 4271 §6.8, `fsm.resolveCollision`) as soon as an OPEN tells us the peer's identifier;
 * the surviving session becomes the main one. Events (`state`, `established`, `down`) describe
 * the main session only.
 *
 * TCP MD5 (RFC 2385), TTL and GTSM (RFC 5082) go through an injected {@link SocketSecurity}
 * (see `socket-security.ts`): this package loads no native code.
 * @packageDocumentation
 */

import type * as net from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { AS_TRANS, CeaseSubcode, ErrorCode, OpenMessageSubcode } from '../codec/constants.js';
import { decodeMessage } from '../codec/decode.js';
import { encodeMessage, shutdownCommunicationData } from '../codec/encode.js';
import { maxMessageLength } from '../codec/header.js';
import { endOfRib, packUpdates, type PackContext } from '../codec/pack.js';
import { formatIpv4, parseIpv4 } from '../codec/prefix.js';
import type { Afi, BgpMessage, DecodeResult, OpenMessage as WireOpen, Prefix, UpdateMessage } from '../codec/types.js';
import * as fsm from '../fsm/index.js';
import { AdjRibOut, toAdvertisements, withGracefulShutdown, type PeerRoute, type RibDiff, type RibRoute } from './adjribout.js';
import { BgpConnection, type ConnectionInfo } from './connection.js';
import { canonicalAddress, type BgpListener } from './listener.js';
import { dialTcp, secureAccepted, type SocketSecurity, type TcpSecurityOptions } from './socket-security.js';

/** The smallest logger this package needs; a pino logger fits. */
export interface PeerLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Graceful Restart (RFC 4724) as we advertise it. */
export interface GracefulRestartOptions {
  /** Restart Time (RFC 4724 §3): seconds the peer keeps our routes after the session drops; 0..4095. */
  readonly restartTimeSec: number;
  /**
   * This process has restarted (RFC 4724 §3, the R bit). Set in the OPENs we send until the
   * first session reaches Established, never after (RFC 4724 §4.2).
   */
  readonly restarting?: boolean;
  /**
   * The per-family Forwarding State (F) bit. True by default: the node forwards to its
   * services whether or not the speaker runs, so forwarding survives a speaker restart.
   */
  readonly forwardingPreserved?: boolean;
}

/** Options of {@link BgpPeer}. */
export interface BgpPeerOptions {
  readonly localAsn: number;
  /** A number, or `internal`/`external` to accept the AS from the peer's OPEN (see `fsm.PeerAsn`). */
  readonly peerAsn: fsm.PeerAsn;
  /** Source address of our TCP connections. */
  readonly localAddress?: string;
  /** The peer's IP address; also what a {@link BgpListener} matches incoming connections by. */
  readonly peerAddress: string;
  /** Peer's TCP port we dial; 179 by default (RFC 4271 §8.2.1). */
  readonly port?: number;
  /** Our BGP Identifier, dotted quad. */
  readonly routerId: string;
  /** Hold time we propose; 90 s by default. */
  readonly holdTimeSec?: number;
  /** Families to negotiate (Multiprotocol capability, RFC 4760); IPv4 unicast by default. */
  readonly families?: readonly Afi[];
  /** First reconnect delay after a failure (doubles per failure); see `fsm.sessionConfig`. */
  readonly connectRetryMs?: number;
  /** Cap on the reconnect delay (and on the connect timeout); 30 s by default. */
  readonly connectRetryMaxMs?: number;
  /** Passive TCP establishment (RFC 4271 §8.1.1): never dial, only accept. Needs `listener`. */
  readonly passive?: boolean;
  /**
   * Where the peer's connections are accepted. The peer registers its address there on
   * {@link BgpPeer.start} and leaves on {@link BgpPeer.stop}. Without it, the peer only dials.
   */
  readonly listener?: BgpListener;
  /** TCP MD5 key (RFC 2385). Needs `socketSecurity`; on a listener, the key is set on its socket. */
  readonly password?: string;
  /**
   * TTL of our segments: commonly 1 for directly connected eBGP and 255 for eBGP multihop and
   * iBGP. Unset: the kernel's default (64). Ignored, with a warning, without `socketSecurity`.
   */
  readonly ttl?: number;
  /** GTSM (RFC 5082): lowest TTL accepted from the peer (255: directly connected). Needs `socketSecurity`; implies `ttl` 255 unless set. */
  readonly minTtl?: number;
  /** The native socket options (TCP MD5, TTL, minimum TTL); `@herald/native` provides them. */
  readonly socketSecurity?: SocketSecurity;
  /** Advertise Graceful Restart (RFC 4724). */
  readonly gracefulRestart?: GracefulRestartOptions;
  readonly clock?: Clock;
  readonly log?: PeerLogger;
  /** Called with each socket we dial, after its TCP options are set and before it connects. */
  readonly onSocket?: (socket: net.Socket) => void;
}

/** Options of {@link BgpPeer.shutdown}. */
export interface ShutdownOptions {
  /** Shutdown Communication (RFC 9003, was RFC 8203) sent with the Cease. */
  readonly message?: string;
  /**
   * RFC 8326: when Established, first re-advertise every route with GRACEFUL_SHUTDOWN for this
   * long (on the injected clock), then withdraw them, then close. 0 or absent: close at once.
   */
  readonly gracefulWaitMs?: number;
}

/** Counters for metrics. */
export interface PeerCounters {
  updatesSent: number;
  /** Prefixes announced, cumulative over sessions (a re-announcement counts again). */
  prefixesAdvertised: number;
  prefixesWithdrawn: number;
  messagesReceived: number;
  updatesReceived: number;
  routeRefreshesReceived: number;
  /** Connection collisions settled (RFC 4271 §6.8). */
  collisionsResolved: number;
}

/** A state change of the session. */
export interface PeerStateChange {
  readonly from: fsm.SessionStateName;
  readonly to: fsm.SessionStateName;
  readonly event: fsm.SessionEventType;
}

/** The session went down (from any state past Idle). */
export interface PeerDown {
  readonly from: fsm.SessionStateName;
  readonly reason: fsm.SessionDownReason;
  readonly notification?: fsm.Notification;
}

/** Events of {@link BgpPeer}. */
export interface BgpPeerEvents {
  state: (change: PeerStateChange) => void;
  established: (negotiated: fsm.Negotiated) => void;
  down: (down: PeerDown) => void;
  /** An UPDATE received while Established. This speaker keeps no Adj-RIB-In: for observers and tests. */
  update: (update: UpdateMessage) => void;
}

const AFI_NUMBER: Readonly<Record<Afi, number>> = { ipv4: 1, ipv6: 2 };
const SAFI_UNICAST = 1;

function afiName(afi: number, safi: number): Afi | undefined {
  if (safi !== SAFI_UNICAST) return undefined;
  return afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : undefined;
}

function ipv4ToU32(text: string): number {
  const b = parseIpv4(text);
  if (b === undefined) throw new RangeError(`invalid BGP identifier ${JSON.stringify(text)}: want a dotted quad`);
  return (((b[0] ?? 0) << 24) >>> 0) + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0);
}

function u32ToIpv4(n: number): string {
  return formatIpv4(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
}

/** The state machine's OPEN as the codec writes it. */
export function toWireOpen(open: fsm.OpenMessage): WireOpen {
  const caps = open.capabilities;
  const gr = caps.gracefulRestart;
  return {
    type: 'open',
    // The codec takes the real AS and writes AS_TRANS into My AS itself (RFC 6793 §4.1).
    asn: caps.fourOctetAsn ?? open.asn,
    holdTime: open.holdTime,
    bgpId: u32ToIpv4(open.bgpId),
    capabilities: {
      multiprotocol: (caps.multiprotocol ?? []).map((f) => ({ afi: f.afi, safi: f.safi })),
      routeRefresh: caps.routeRefresh === true,
      extendedMessage: caps.extendedMessage === true,
      fourOctetAs: caps.fourOctetAsn !== undefined,
      ...(gr === undefined
        ? {}
        : {
            gracefulRestart: {
              restartState: gr.restarting,
              notification: false,
              restartTime: gr.restartTimeSec,
              families: gr.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: f.forwardingPreserved })),
            },
          }),
      unknown: [],
    },
  };
}

/** A decoded OPEN as the state machine reads it. */
export function toFsmOpen(open: WireOpen): fsm.OpenMessage {
  const caps = open.capabilities;
  const gr = caps.gracefulRestart;
  const capabilities: fsm.Capabilities = {
    ...(caps.multiprotocol.length > 0 ? { multiprotocol: caps.multiprotocol.map((f) => ({ afi: f.afi, safi: f.safi })) } : {}),
    ...(caps.fourOctetAs ? { fourOctetAsn: open.asn } : {}),
    ...(caps.routeRefresh ? { routeRefresh: true } : {}),
    ...(caps.extendedMessage ? { extendedMessage: true } : {}),
    ...(gr === undefined
      ? {}
      : {
          gracefulRestart: {
            restartTimeSec: gr.restartTime,
            restarting: gr.restartState,
            families: gr.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingPreserved: f.forwardingState })),
          },
        }),
  };
  return {
    type: 'open',
    // The codec decodes the version check itself (RFC 4271 §6.2) and drops the field.
    version: fsm.BGP_VERSION,
    asn: open.asn > 0xffff ? AS_TRANS : open.asn,
    holdTime: open.holdTime,
    bgpId: ipv4ToU32(open.bgpId),
    capabilities,
  };
}


/** States in which a session owns an open connection with an OPEN sent. */
const OPENING: ReadonlySet<fsm.SessionStateName> = new Set(['OpenSent', 'OpenConfirm']);
const CONNECTED: ReadonlySet<fsm.SessionStateName> = new Set(['OpenSent', 'OpenConfirm', 'Established']);

/** RFC 4724 §3: the Restart Time is a 12-bit field. */
const MAX_RESTART_TIME_SEC = 4095;

/** One state machine and the connection it runs on (RFC 4271 §8: one machine per connection). */
class Link {
  readonly session: fsm.Session<UpdateMessage>;
  conn: BgpConnection | undefined;
  /** The connection the event being handled is about (for accept, reject and track). */
  subject: BgpConnection | undefined;

  constructor(make: (link: Link) => fsm.Session<UpdateMessage>) {
    this.session = make(this);
  }

  get state(): fsm.SessionStateName {
    return this.session.state.name;
  }
}

type DownAction = Extract<fsm.IoAction, { type: 'sessionDown' }>;

/**
 * One BGP peer over TCP with its Adj-RIB-Out. Call {@link BgpPeer.start}; routes set with
 * {@link BgpPeer.setRoutes} are advertised whenever the session is Established.
 */
export class BgpPeer {
  readonly #opts: BgpPeerOptions;
  readonly #log: PeerLogger | undefined;
  readonly #clock: Clock;
  readonly #config: fsm.SessionConfig;
  readonly #tcp: TcpSecurityOptions;
  readonly #peerAddress: string;
  readonly #rib = new AdjRibOut();
  readonly #listeners: { [K in keyof BgpPeerEvents]: Array<BgpPeerEvents[K]> } = { state: [], established: [], down: [], update: [] };
  readonly #counters: PeerCounters = {
    updatesSent: 0,
    prefixesAdvertised: 0,
    prefixesWithdrawn: 0,
    messagesReceived: 0,
    updatesReceived: 0,
    routeRefreshesReceived: 0,
    collisionsResolved: 0,
  };
  /** The session the peer's events describe. */
  #main: Link;
  /** A second connection's session, until collision detection settles it. */
  #extra: Link | undefined;
  /** Our outgoing connection while it is being set up (the main session's `connect`). */
  #dialing: BgpConnection | undefined;
  #negotiated: fsm.Negotiated | undefined;
  #detach: (() => void) | undefined;
  #everEstablished = false;
  /** RFC 8326: routes go out with GRACEFUL_SHUTDOWN. */
  #gracefulShutdown = false;
  /**
   * The whole Adj-RIB-Out packed and encoded before the session is up, for the context we
   * expect it to negotiate: a session that comes up (again) then sends its initial UPDATEs
   * (RFC 4271 §9.2) without packing thousands of routes on the critical path. Dropped when
   * the routes change; not used when the negotiation differs from the guess.
   */
  #initial: { readonly key: string; readonly frames: readonly Uint8Array[]; readonly prefixes: number } | undefined;
  /** Routes have been withdrawn for shutdown: send none. */
  #quiesced = false;
  /** Close connections at once instead of flushing (BFD Down). */
  #abortClose = false;
  /** The main session is down and the second connection takes over after the step. */
  #promote = false;
  readonly #closing = new Set<Promise<void>>();

  constructor(options: BgpPeerOptions) {
    this.#opts = options;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    const peerAddress = canonicalAddress(options.peerAddress);
    if (peerAddress === undefined) throw new RangeError(`invalid peerAddress ${JSON.stringify(options.peerAddress)}: want an IP address`);
    this.#peerAddress = peerAddress;
    this.#tcp = this.#tcpOptions(options);
    if (options.passive === true && options.listener === undefined) throw new RangeError('a passive BgpPeer needs a listener');
    const families = options.families ?? ['ipv4'];
    const gr = options.gracefulRestart;
    if (gr !== undefined && !(Number.isInteger(gr.restartTimeSec) && gr.restartTimeSec >= 0 && gr.restartTimeSec <= MAX_RESTART_TIME_SEC)) {
      throw new RangeError(`gracefulRestart.restartTimeSec ${gr.restartTimeSec}: want an integer 0..${MAX_RESTART_TIME_SEC} (RFC 4724 §3)`);
    }
    const multiprotocol = families.map((f) => ({ afi: AFI_NUMBER[f], safi: SAFI_UNICAST }));
    this.#config = fsm.sessionConfig({
      localAsn: options.localAsn,
      peerAsn: options.peerAsn,
      localBgpId: ipv4ToU32(options.routerId),
      ...(options.holdTimeSec !== undefined ? { holdTimeSec: options.holdTimeSec } : {}),
      ...(options.connectRetryMs !== undefined ? { connectRetryMs: options.connectRetryMs } : {}),
      ...(options.connectRetryMaxMs !== undefined ? { connectRetryMaxMs: options.connectRetryMaxMs } : {}),
      capabilities: {
        multiprotocol,
        routeRefresh: true,
        ...(gr === undefined
          ? {}
          : {
              gracefulRestart: {
                restartTimeSec: gr.restartTimeSec,
                // Set per OPEN (see #withRestartState).
                restarting: false,
                families: multiprotocol.map((f) => ({ ...f, forwardingPreserved: gr.forwardingPreserved ?? true })),
              },
            }),
      },
    });
    this.#main = this.#newLink();
  }

  /** The session state (RFC 4271 §8.2.2). */
  get state(): fsm.SessionStateName {
    return this.#main.state;
  }

  /** The peer's address in canonical form. */
  get peerAddress(): string {
    return this.#peerAddress;
  }

  /** What the OPEN exchange agreed, while Established. */
  get negotiated(): fsm.Negotiated | undefined {
    return this.#negotiated;
  }

  /** The connection the session runs on, from OpenSent on. */
  get connection(): ConnectionInfo | undefined {
    return this.#main.conn?.info;
  }

  /** A snapshot of the counters. */
  get counters(): Readonly<PeerCounters> {
    return { ...this.#counters };
  }

  /** The Adj-RIB-Out. */
  get routes(): RibRoute[] {
    return [...this.#rib.routes];
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof BgpPeerEvents>(event: K, fn: BgpPeerEvents[K]): () => void {
    const list = this.#listeners[event] as Array<BgpPeerEvents[K]>;
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /**
   * ManualStart (or ManualStart_with_PassiveTcpEstablishment when `passive`): accept
   * connections on the listener, dial unless passive, and reconnect with backoff after
   * failures. Throws if the listener already has a peer at this address.
   */
  start(): void {
    this.#gracefulShutdown = false;
    this.#quiesced = false;
    const listener = this.#opts.listener;
    if (listener !== undefined && this.#detach === undefined) {
      this.#detach = listener.attach(this.#peerAddress, {
        ...(this.#opts.password !== undefined ? { password: this.#opts.password } : {}),
        ...(this.#opts.socketSecurity !== undefined ? { socketSecurity: this.#opts.socketSecurity } : {}),
        onConnection: (socket) => this.#onIncoming(socket),
      });
    }
    this.#main.session.start(this.#opts.passive === true);
  }

  /**
   * ManualStop: Cease/Administrative Shutdown with an optional Shutdown Communication
   * (RFC 9003, was RFC 8203), close, stay Idle, leave the listener. The peer withdraws our
   * routes; the Adj-RIB-Out is kept for the next {@link BgpPeer.start}.
   */
  stop(shutdownCommunication?: string): void {
    const data = shutdownCommunication === undefined || shutdownCommunication === '' ? undefined : shutdownCommunicationData(shutdownCommunication);
    this.#extra?.session.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, data);
    this.#main.session.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, data);
    this.#closeDial();
    this.#detach?.();
    this.#detach = undefined;
  }

  /**
   * Graceful shutdown. When Established and `gracefulWaitMs` > 0 (RFC 8326 §4): re-advertise
   * every route with the GRACEFUL_SHUTDOWN community, so that the peer moves traffic to other
   * paths while ours still work; wait; withdraw every route. Then Cease/Administrative Shutdown
   * with the Shutdown Communication (RFC 9003) and close, as {@link BgpPeer.stop}. Resolves
   * once the connections are closed. If the session drops during the wait, it closes at once.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const waitMs = options.gracefulWaitMs ?? 0;
    if (this.#negotiated !== undefined && waitMs > 0) {
      this.#gracefulShutdown = true;
      this.#log?.info({ event: 'bgpGracefulShutdown', peer: this.#peerAddress, waitMs }, 'BGP graceful shutdown: re-advertising with GRACEFUL_SHUTDOWN');
      this.#sendRoutes([...this.#rib.routes], []);
      await this.#waitUnlessDown(waitMs);
      if (this.#negotiated !== undefined) this.#sendRoutes([], [...this.#rib.routes].map((r) => r.prefix));
      this.#quiesced = true;
    }
    this.stop(options.message);
    await Promise.all([...this.#closing]);
  }

  /**
   * The BFD session protecting this peer went Down (RFC 5882 §4.2): take the session down at
   * once, without waiting for the hold timer. Sends Cease/BFD Down (RFC 9384) as a best effort,
   * drops the connection without waiting for a flush, reports `down` with reason `bfdDown`,
   * and reconnects with the usual backoff. Does nothing before OpenSent.
   */
  bfdDown(): void {
    this.#abortClose = true;
    try {
      if (this.#extra !== undefined) this.#feed(this.#extra, undefined, { type: 'BfdDown' });
      this.#feed(this.#main, undefined, { type: 'BfdDown' });
    } finally {
      this.#abortClose = false;
    }
  }

  /**
   * Replaces the Adj-RIB-Out. When Established, sends only the difference, packed into as few
   * UPDATEs as fit. Throws on an invalid route and then changes nothing.
   */
  setRoutes(routes: readonly PeerRoute[]): RibDiff {
    const diff = this.#rib.replace(routes);
    if (diff.announce.length > 0 || diff.withdraw.length > 0) this.#initial = undefined;
    if (this.#negotiated !== undefined) this.#sendRoutes(diff.announce, diff.withdraw);
    else this.#prepareInitial();
    return diff;
  }

  // ---- sessions ------------------------------------------------------------------------

  #tcpOptions(o: BgpPeerOptions): TcpSecurityOptions {
    if (o.socketSecurity === undefined) {
      if (o.password !== undefined) throw new RangeError('password (TCP MD5, RFC 2385) needs socketSecurity');
      if (o.minTtl !== undefined) throw new RangeError('minTtl (GTSM, RFC 5082) needs socketSecurity');
      if (o.ttl !== undefined) {
        this.#log?.warn({ event: 'bgpTtlIgnored', peer: o.peerAddress, ttl: o.ttl }, 'ttl ignored: no socketSecurity to set it with');
      }
      return {};
    }
    return {
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
      ...(o.minTtl !== undefined ? { minTtl: o.minTtl } : {}),
    };
  }

  #newLink(initialState?: fsm.SessionState): Link {
    return new Link(
      (link) =>
        new fsm.Session<UpdateMessage>({
          config: this.#config,
          clock: this.#clock,
          ...(initialState !== undefined ? { initialState } : {}),
          onAction: (action) => this.#onAction(link, action),
          onTransition: (info) => this.#onTransition(link, info),
        }),
    );
  }

  /**
   * Hands an event about `conn` to a link's session. Never called for a link from that link's
   * own actions (the event would be queued and run with the wrong subject).
   */
  #feed(link: Link, conn: BgpConnection | undefined, event: fsm.SessionEvent<UpdateMessage>): void {
    const previous = link.subject;
    link.subject = conn;
    try {
      link.session.handle(event);
    } finally {
      link.subject = previous;
    }
  }

  #linkOf(conn: BgpConnection): Link | undefined {
    if (this.#main.conn === conn) return this.#main;
    if (this.#extra?.conn === conn) return this.#extra;
    return undefined;
  }

  #onTransition(link: Link, info: fsm.SessionTransitionInfo<UpdateMessage>): void {
    if (link === this.#extra) {
      // A second connection lives only until it wins or loses.
      if (!CONNECTED.has(info.to.name)) this.#dropExtra();
      return;
    }
    if (link !== this.#main) return;
    const extra = this.#extra;
    if (this.#promote || (extra !== undefined && OPENING.has(extra.state) && !CONNECTED.has(info.to.name))) {
      this.#promote = false;
      if (extra !== undefined) {
        this.#promoteExtra(extra, info);
        return;
      }
    }
    if (info.from.name !== info.to.name) this.#emitState({ from: info.from.name, to: info.to.name, event: info.event.type });
  }

  #emitState(change: PeerStateChange): void {
    this.#log?.info(
      { event: 'bgpState', peer: this.#peerAddress, from: change.from, to: change.to, trigger: change.event },
      `BGP ${change.from} -> ${change.to}`,
    );
    for (const fn of this.#listeners.state) fn(change);
  }

  /** The main session lost its connection while a second one is under way: that one carries on. */
  #promoteExtra(extra: Link, info: fsm.SessionTransitionInfo<UpdateMessage>): void {
    const old = this.#main;
    this.#extra = undefined;
    this.#main = extra;
    if (old.conn !== undefined) this.#track(old.conn.close());
    old.conn = undefined;
    this.#closeDial();
    // Cancels the old session's timers, including an automatic restart.
    old.session.dispose();
    this.#log?.info({ event: 'bgpConnectionTakeover', peer: this.#peerAddress, role: extra.conn?.role, state: extra.state }, 'BGP session continues on the second connection');
    if (info.from.name !== extra.state) this.#emitState({ from: info.from.name, to: extra.state, event: info.event.type });
  }

  #dropExtra(): void {
    const extra = this.#extra;
    if (extra === undefined) return;
    this.#extra = undefined;
    if (extra.conn !== undefined) this.#track(extra.conn.close(this.#abortClose ? 'abort' : 'graceful'));
    extra.conn = undefined;
    extra.session.dispose();
  }

  // ---- actions -------------------------------------------------------------------------

  #onAction(link: Link, action: fsm.IoAction<UpdateMessage>): void {
    switch (action.type) {
      case 'connect':
        if (link === this.#main) this.#dial();
        return;
      case 'dropTcp':
        this.#drop(link);
        return;
      case 'sendOpen':
        this.#send(link, toWireOpen(this.#withRestartState(action.open)));
        return;
      case 'sendKeepalive':
        this.#send(link, { type: 'keepalive' });
        return;
      case 'sendNotification':
        this.#send(link, { type: 'notification', code: action.code, subcode: action.subcode, data: action.data });
        return;
      case 'acceptIncoming':
        if (link.subject === undefined) return;
        link.conn = link.subject;
        link.session.handle({ type: 'TcpConnectionConfirmed' });
        return;
      case 'rejectIncoming':
        if (link.subject !== undefined) this.#track(link.subject.close());
        return;
      case 'secondConnection':
        this.#secondConnection(link, action.handling);
        return;
      case 'established':
        this.#onEstablished(link, action.negotiated);
        return;
      case 'sessionDown':
        this.#onDown(link, action);
        return;
      case 'deliverUpdate':
        // Routes received are not used (this speaker only advertises); observers may look.
        if (link === this.#main) for (const fn of this.#listeners.update) fn(action.update);
        return;
      // Listening is tied to start/stop; in Idle the state machine refuses connections itself
      // (`rejectIncoming`).
      case 'listen':
      case 'releaseResources':
        return;
    }
  }

  #drop(link: Link): void {
    const mode = this.#abortClose ? 'abort' : 'graceful';
    if (link.conn !== undefined) this.#track(link.conn.close(mode));
    link.conn = undefined;
    // A new connection the machine refuses (Tcp_CR_Acked in Idle).
    const subject = link.subject;
    if (subject !== undefined && this.#linkOf(subject) === undefined) this.#track(subject.close(mode));
    if (link === this.#main) this.#closeDial();
  }

  #closeDial(): void {
    if (this.#dialing !== undefined) this.#track(this.#dialing.close('abort'));
    this.#dialing = undefined;
  }

  #track(closed: Promise<void>): void {
    this.#closing.add(closed);
    void closed.finally(() => this.#closing.delete(closed));
  }

  /** RFC 4271 §6.8: a second connection while the session is past Active. */
  #secondConnection(link: Link, handling: 'track' | 'close'): void {
    const conn = link.subject;
    if (conn === undefined) return;
    if (handling === 'close' || link !== this.#main || this.#extra !== undefined) {
      // CollisionDetectEstablishedState is off: an Established session keeps its connection.
      this.#log?.info({ event: 'bgpSecondConnectionClosed', peer: this.#peerAddress, role: conn.role, state: link.state }, 'closing a second connection to the peer');
      this.#track(conn.close());
      return;
    }
    const extra = this.#newLink({
      name: conn.role === 'accepted' ? 'Active' : 'Connect',
      connectRetryCounter: 0,
      passive: link.session.state.passive,
      enabled: true,
    });
    this.#extra = extra;
    this.#log?.info({ event: 'bgpSecondConnection', peer: this.#peerAddress, role: conn.role, state: link.state }, 'second connection to the peer: collision detection');
    if (conn.role === 'accepted') {
      this.#feed(extra, conn, { type: 'TcpConnection_Valid' });
    } else {
      extra.conn = conn;
      this.#feed(extra, conn, { type: 'Tcp_CR_Acked' });
    }
  }

  /**
   * RFC 4271 §6.8 on the arrival of an OPEN on `link` while another connection exists: keeps
   * the connection initiated by the speaker with the higher BGP Identifier and dumps the other
   * (OpenCollisionDump: Cease/Connection Collision Resolution). Returns whether `link` survives.
   */
  #resolveCollision(link: Link, conn: BgpConnection, open: fsm.OpenMessage): boolean {
    const other = link === this.#main ? this.#extra : this.#main;
    if (other === undefined || other.conn === undefined || !CONNECTED.has(other.state)) return true;
    let dump: Link;
    let reason: string;
    if (other.conn.role === conn.role) {
      // Both from the peer: it gave up on the older one (the main session's), unless that is Established.
      [dump, reason] = this.#main.state === 'Established' ? [this.#extra ?? link, 'establishedWins'] : [this.#main, 'peerReconnected'];
    } else {
      const initiated = conn.role === 'initiated' ? link : other;
      const accepted = conn.role === 'accepted' ? link : other;
      const decision = fsm.resolveCollision({
        localBgpId: this.#config.localBgpId,
        remoteBgpId: open.bgpId,
        localAsn: this.#config.localAsn,
        remoteAsn: fsm.peerAsnOf(open),
        initiated: initiated.state,
        accepted: accepted.state,
      });
      if (!decision.collision) return true;
      dump = decision.dump === 'initiated' ? initiated : accepted;
      reason = decision.reason;
    }
    this.#counters.collisionsResolved++;
    this.#log?.info(
      { event: 'bgpCollision', peer: this.#peerAddress, reason, dumped: dump.conn?.role, dumpedState: dump.state },
      `connection collision: closing the ${dump.conn?.role ?? ''} connection (${reason})`,
    );
    this.#feed(dump, dump.conn, { type: 'OpenCollisionDump' });
    return dump !== link;
  }

  /** RFC 4724 §3, §4.2: the R bit only in the sessions of a restart, until one is Established. */
  #withRestartState(open: fsm.OpenMessage): fsm.OpenMessage {
    const gr = open.capabilities.gracefulRestart;
    if (gr === undefined) return open;
    const restarting = this.#opts.gracefulRestart?.restarting === true && !this.#everEstablished;
    return gr.restarting === restarting ? open : { ...open, capabilities: { ...open.capabilities, gracefulRestart: { ...gr, restarting } } };
  }

  #onEstablished(link: Link, negotiated: fsm.Negotiated): void {
    const conn = link.conn;
    if (link !== this.#main || conn === undefined) {
      // Collision detection runs before a second connection can get here.
      this.#log?.warn({ event: 'bgpUnexpectedEstablished', peer: this.#peerAddress }, 'second connection reached Established');
      return;
    }
    // RFC 4271 §6.8: an Established connection wins any collision.
    if (this.#extra !== undefined) this.#feed(this.#extra, this.#extra.conn, { type: 'OpenCollisionDump' });
    this.#everEstablished = true;
    this.#negotiated = negotiated;
    conn.ctx = { fourOctetAs: negotiated.fourOctetAsn, extendedMessages: negotiated.extendedMessage };
    conn.framer.maxMessageLength = maxMessageLength(negotiated.extendedMessage);
    this.#log?.info(
      { event: 'bgpEstablished', peer: this.#peerAddress, peerAsn: negotiated.peerAsn, holdTimeSec: negotiated.holdTimeSec, role: conn.role },
      'BGP session established',
    );
    for (const fn of this.#listeners.established) fn(negotiated);
    const initial = this.#initial;
    if (initial !== undefined && !this.#quiesced && initial.key === this.#contextKey(this.#families(), negotiated.ibgp, conn.ctx)) {
      for (const frame of initial.frames) conn.write(frame);
      this.#counters.updatesSent += initial.frames.length;
      this.#counters.prefixesAdvertised += initial.prefixes;
    } else this.#sendRoutes([...this.#rib.routes], []);
    // RFC 4724 §2: End-of-RIB after the initial update, one per family.
    for (const afi of this.#families()) this.#send(link, endOfRib(afi));
  }

  #onDown(link: Link, action: DownAction): void {
    const fields = {
      peer: this.#peerAddress,
      from: action.from,
      reason: action.reason,
      code: action.notification?.code,
      subcode: action.notification?.subcode,
    };
    if (link !== this.#main) {
      this.#log?.info({ event: 'bgpConnectionDown', ...fields }, 'second connection closed');
      return;
    }
    const extra = this.#extra;
    if (extra !== undefined && OPENING.has(extra.state) && action.from !== 'Established' && action.reason !== 'manualStop') {
      // Not a session going down: the second connection carries on (see #promoteExtra).
      this.#promote = true;
      this.#log?.info({ event: 'bgpConnectionDown', ...fields }, 'connection closed; the session continues on the second connection');
      return;
    }
    this.#negotiated = undefined;
    const down: PeerDown = {
      from: action.from,
      reason: action.reason,
      ...(action.notification !== undefined ? { notification: action.notification } : {}),
    };
    this.#log?.warn({ event: 'bgpDown', ...fields }, 'BGP session down');
    for (const fn of this.#listeners.down) fn(down);
    // Off the event that took the session down: the next session's UPDATEs, ready in advance.
    setImmediate(() => this.#prepareInitial());
  }

  #families(): Set<Afi> {
    const out = new Set<Afi>();
    for (const f of this.#negotiated?.families ?? []) {
      const name = afiName(f.afi, f.safi);
      if (name !== undefined) out.add(name);
    }
    return out;
  }

  /** What packing depends on, as one comparable string. */
  #contextKey(families: ReadonlySet<Afi>, ibgp: boolean, ctx: PackContext): string {
    return JSON.stringify([[...families].sort(), ibgp, ctx.fourOctetAs, ctx.extendedMessages, this.#gracefulShutdown]);
  }

  /** The routes of `families` as UPDATEs for a session with `ibgp` and `ctx`. Throws only on attributes too large for any message. */
  #pack(announce: readonly RibRoute[], withdraw: readonly Prefix[], families: ReadonlySet<Afi>, ibgp: boolean, ctx: PackContext): UpdateMessage[] {
    const chosen = announce.filter((r) => families.has(r.afi));
    const routes = toAdvertisements(this.#gracefulShutdown ? chosen.map(withGracefulShutdown) : chosen, { localAsn: this.#opts.localAsn, ibgp });
    const withdrawn = withdraw.filter((p) => families.has(p.afi));
    if (routes.length === 0 && withdrawn.length === 0) return [];
    return packUpdates(routes, withdrawn, ctx);
  }

  /**
   * Packs and encodes the whole Adj-RIB-Out for the session we expect: our configured
   * families, iBGP when the peer AS is ours, 4-octet AS (we always offer it, RFC 6793), no
   * extended messages (we do not offer them).
   */
  #prepareInitial(): void {
    if (this.#negotiated !== undefined || this.#initial !== undefined || this.#rib.size === 0) return;
    const peerAsn = this.#opts.peerAsn;
    const ibgp = peerAsn === 'internal' || peerAsn === this.#opts.localAsn;
    const ctx: PackContext = { fourOctetAs: true, extendedMessages: false };
    const families = new Set<Afi>(this.#opts.families ?? ['ipv4']);
    try {
      const updates = this.#pack([...this.#rib.routes], [], families, ibgp, ctx);
      const frames = updates.map((u) => encodeMessage(u, ctx));
      const prefixes = updates.reduce((n, u) => n + u.nlri.length + (u.attributes.mpReach?.nlri.length ?? 0), 0);
      this.#initial = { key: this.#contextKey(families, ibgp, ctx), frames, prefixes };
    } catch {
      // Sent (and reported) the usual way once Established.
      this.#initial = undefined;
    }
  }

  /** Packs and sends announcements and withdrawals of the negotiated families on the main session. */
  #sendRoutes(announce: readonly RibRoute[], withdraw: readonly Prefix[]): void {
    const negotiated = this.#negotiated;
    const conn = this.#main.conn;
    if (negotiated === undefined || conn === undefined || this.#quiesced) return;
    let updates: UpdateMessage[];
    try {
      updates = this.#pack(announce, withdraw, this.#families(), negotiated.ibgp, conn.ctx);
    } catch (err) {
      // Only attributes too large for any message get here; the rest of the session is fine.
      this.#log?.warn({ event: 'bgpPackFailed', peer: this.#peerAddress, err }, 'cannot pack routes into UPDATEs');
      return;
    }
    for (const update of updates) this.#send(this.#main, update);
  }

  #send(link: Link, message: BgpMessage): void {
    const conn = link.conn;
    if (conn === undefined || !conn.usable) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(message, conn.ctx);
    } catch (err) {
      this.#log?.warn({ event: 'bgpEncodeFailed', peer: this.#peerAddress, type: message.type, err }, 'cannot encode message');
      return;
    }
    conn.write(bytes);
    if (message.type === 'update') {
      this.#counters.updatesSent++;
      this.#counters.prefixesAdvertised += message.nlri.length + (message.attributes.mpReach?.nlri.length ?? 0);
      this.#counters.prefixesWithdrawn += message.withdrawn.length + (message.attributes.mpUnreach?.withdrawn.length ?? 0);
    }
  }

  // ---- TCP -----------------------------------------------------------------------------

  #dial(): void {
    this.#closeDial();
    const port = this.#opts.port ?? 179;
    const socket = dialTcp({
      host: this.#peerAddress,
      port,
      ...(this.#opts.localAddress !== undefined ? { localAddress: this.#opts.localAddress } : {}),
      tcp: this.#tcp,
      ...(this.#opts.socketSecurity !== undefined ? { security: this.#opts.socketSecurity } : {}),
    });
    const conn = new BgpConnection(socket, 'initiated');
    this.#dialing = conn;
    this.#opts.onSocket?.(socket);
    socket.once('connect', () => this.#onDialConnected(conn));
    this.#wire(conn, `dial ${this.#peerAddress}:${port}`);
  }

  #onDialConnected(conn: BgpConnection): void {
    if (conn !== this.#dialing || !conn.usable) return;
    this.#dialing = undefined;
    const main = this.#main;
    // RFC 4271 §8.2.2: in Connect or Active, Tcp_CR_Acked puts the session on this connection;
    // later, it is a second connection (`secondConnection`), and in Idle it is dropped.
    if ((main.state === 'Connect' || main.state === 'Active') && main.conn === undefined) main.conn = conn;
    this.#feed(main, conn, { type: 'Tcp_CR_Acked' });
  }

  /** A connection from the peer's address, from the listener. */
  #onIncoming(socket: net.Socket): void {
    const conn = new BgpConnection(socket, 'accepted');
    this.#wire(conn, `accept ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    try {
      secureAccepted(socket, this.#tcp, this.#opts.socketSecurity);
    } catch (err) {
      this.#log?.warn({ event: 'bgpSocketOptionsFailed', peer: this.#peerAddress, err }, `set TTL on accepted connection: ${String(err)}`);
      this.#track(conn.close('abort'));
      return;
    }
    const main = this.#main;
    if (main.state === 'Established' && main.conn?.peerGracefulRestart === true) {
      this.#peerRestarted(conn);
      return;
    }
    this.#feed(main, conn, { type: 'TcpConnection_Valid' });
    if (this.#linkOf(conn) === undefined && conn.usable) this.#track(conn.close());
  }

  /**
   * RFC 4724 §4.2: a new connection from a peer that advertised Graceful Restart, while we
   * still consider its session Established, means the old connection is gone: close it (the
   * session goes down) and carry on with the new one.
   */
  #peerRestarted(conn: BgpConnection): void {
    this.#log?.info({ event: 'bgpPeerRestarted', peer: this.#peerAddress }, 'new connection from a Graceful Restart peer: replacing the old one (RFC 4724 §4.2)');
    const old = this.#main;
    this.#dropExtra();
    this.#feed(old, undefined, { type: 'TcpConnectionFails' });
    const fresh = this.#newLink({ name: 'Active', connectRetryCounter: 0, passive: old.session.state.passive, enabled: true });
    old.session.dispose();
    this.#main = fresh;
    this.#emitState({ from: old.state, to: fresh.state, event: 'TcpConnection_Valid' });
    this.#feed(fresh, conn, { type: 'TcpConnection_Valid' });
  }

  #wire(conn: BgpConnection, what: string): void {
    const socket = conn.socket;
    socket.on('data', (chunk: Buffer) => {
      const link = this.#linkOf(conn);
      if (link !== undefined && conn.usable) this.#onData(link, conn, chunk);
    });
    socket.on('error', (err) => {
      if (conn.usable) this.#log?.warn({ event: 'bgpTcpError', peer: this.#peerAddress, err }, `${what}: ${err.message}`);
    });
    socket.on('close', () => this.#onClosed(conn));
  }

  #onClosed(conn: BgpConnection): void {
    if (conn === this.#dialing) {
      this.#dialing = undefined;
      const main = this.#main;
      if (main.state === 'Connect' && main.conn === undefined) this.#feed(main, conn, { type: 'TcpConnectionFails' });
      return;
    }
    const link = this.#linkOf(conn);
    if (link !== undefined) this.#feed(link, conn, { type: 'TcpConnectionFails' });
  }

  #onData(link: Link, conn: BgpConnection, chunk: Uint8Array): void {
    for (const frame of conn.framer.push(chunk)) {
      if (this.#linkOf(conn) !== link || !conn.usable) return;
      if (!frame.ok) {
        // RFC 4271 §6.1: the stream cannot be resynchronised.
        this.#feed(link, conn, { type: 'BGPHeaderErr', subcode: frame.notification.subcode, data: frame.notification.data });
        return;
      }
      this.#counters.messagesReceived++;
      this.#onDecoded(link, conn, decodeMessage(frame.bytes, conn.ctx));
    }
  }

  #onDecoded(link: Link, conn: BgpConnection, result: DecodeResult): void {
    if (result.outcome === 'treat-as-withdraw') {
      // RFC 7606 §2: the session stays up; we keep no routes from the peer, so only the hold timer cares.
      this.#feed(link, conn, { type: 'UpdateMsg', update: { type: 'update', withdrawn: result.withdrawn, attributes: {}, nlri: [] } });
      return;
    }
    if (result.outcome === 'session-reset') {
      this.#onSessionReset(link, conn, result.notification);
      return;
    }
    this.#onMessage(link, conn, result.message);
  }

  #onSessionReset(link: Link, conn: BgpConnection, n: { code: number; subcode: number; data: Uint8Array }): void {
    const fields = { subcode: n.subcode, data: n.data };
    if (n.code === ErrorCode.MESSAGE_HEADER_ERROR) this.#feed(link, conn, { type: 'BGPHeaderErr', ...fields });
    else if (n.code === ErrorCode.OPEN_MESSAGE_ERROR) this.#feed(link, conn, { type: 'BGPOpenMsgErr', ...fields });
    else if (n.code === ErrorCode.UPDATE_MESSAGE_ERROR) this.#feed(link, conn, { type: 'UpdateMsgErr', ...fields });
    else if (n.code === ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR) this.#feed(link, conn, { type: 'RouteRefreshMsgErr', ...fields });
    else {
      // A code the state machine has no event for (the codec produces none today): send it,
      // then fail the connection (dropTcp flushes the NOTIFICATION first).
      this.#send(link, { type: 'notification', code: n.code, subcode: n.subcode, data: n.data });
      this.#feed(link, conn, { type: 'TcpConnectionFails' });
    }
  }

  #onMessage(link: Link, conn: BgpConnection, message: BgpMessage): void {
    switch (message.type) {
      case 'open': {
        const open = toFsmOpen(message);
        conn.peerGracefulRestart = message.capabilities.gracefulRestart !== undefined;
        if (!this.#resolveCollision(link, conn, open)) return;
        this.#feed(link, conn, { type: 'BGPOpen', open });
        return;
      }
      case 'keepalive':
        this.#feed(link, conn, { type: 'KeepAliveMsg' });
        return;
      case 'update':
        this.#counters.updatesReceived++;
        this.#feed(link, conn, { type: 'UpdateMsg', update: message });
        return;
      case 'notification': {
        const notification = { code: message.code, subcode: message.subcode, data: message.data };
        const versionError = message.code === ErrorCode.OPEN_MESSAGE_ERROR && message.subcode === OpenMessageSubcode.UNSUPPORTED_VERSION_NUMBER;
        this.#feed(link, conn, versionError ? { type: 'NotifMsgVerErr', notification } : { type: 'NotifMsg', notification });
        return;
      }
      case 'route-refresh':
        if (link === this.#main) this.#onRouteRefresh(message.afi, message.safi, message.subtype);
        return;
    }
  }

  /** RFC 2918 §4: re-advertise the Adj-RIB-Out of the family. BoRR/EoRR (RFC 7313) are ignored. */
  #onRouteRefresh(afi: number, safi: number, subtype: number): void {
    this.#counters.routeRefreshesReceived++;
    const family = afiName(afi, safi);
    if (this.#negotiated === undefined || subtype !== 0 || family === undefined) return;
    this.#sendRoutes(
      [...this.#rib.routes].filter((r) => r.afi === family),
      [],
    );
  }

  /** Waits `ms` on the clock, or less if the session goes down meanwhile. */
  #waitUnlessDown(ms: number): Promise<void> {
    const clock = this.#clock;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        off();
        clock.clearTimeout(timer);
        resolve();
      };
      const off = this.on('down', done);
      const timer = clock.setTimeout(done, ms);
    });
  }
}
