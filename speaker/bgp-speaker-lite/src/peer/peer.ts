/**
 * The I/O edge of one BGP peer: a TCP connection (node:net) around one {@link fsm.Session}, the
 * codec between them, and the peer's Adj-RIB-Out.
 *
 * Bytes in: socket → {@link MessageFramer} → {@link decodeMessage} → session events.
 * Actions out: `sendOpen`/`sendKeepalive`/`sendNotification` → {@link encodeMessage} → socket;
 * `established` → the whole Adj-RIB-Out packed into UPDATEs, then End-of-RIB per family
 * (RFC 4724 §2); a ROUTE-REFRESH (RFC 2918 §4) re-sends the family's Adj-RIB-Out.
 *
 * Active TCP establishment only: the session never accepts connections (the `listen`,
 * `acceptIncoming` and `rejectIncoming` actions are no-ops), so it needs a peer that connects to
 * nobody or accepts our connection (e.g. GoBGP `passive-mode`).
 * @packageDocumentation
 */

import * as net from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { AS_TRANS, CeaseSubcode, ErrorCode, OpenMessageSubcode } from '../codec/constants.js';
import { decodeMessage } from '../codec/decode.js';
import { encodeMessage, shutdownCommunicationData } from '../codec/encode.js';
import { MessageFramer } from '../codec/framer.js';
import { maxMessageLength } from '../codec/header.js';
import { endOfRib, packUpdates, type PackContext } from '../codec/pack.js';
import { formatIpv4, parseIpv4 } from '../codec/prefix.js';
import type { Afi, BgpMessage, DecodeResult, OpenMessage as WireOpen, Prefix, UpdateMessage } from '../codec/types.js';
import * as fsm from '../fsm/index.js';
import { AdjRibOut, toAdvertisements, type PeerRoute, type RibDiff, type RibRoute } from './adjribout.js';

/** The smallest logger this package needs; a pino logger fits. */
export interface PeerLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Options of {@link BgpPeer}. */
export interface BgpPeerOptions {
  readonly localAsn: number;
  readonly peerAsn: number;
  /** Source address of our TCP connection. */
  readonly localAddress?: string;
  readonly peerAddress: string;
  /** Peer's TCP port; 179 by default (RFC 4271 §8.2.1). */
  readonly port?: number;
  /** Our BGP Identifier, dotted quad. */
  readonly routerId: string;
  /** Hold time we propose; 90 s by default. */
  readonly holdTimeSec?: number;
  /** Families to negotiate (Multiprotocol capability, RFC 4760); IPv4 unicast by default. */
  readonly families?: readonly Afi[];
  /** First reconnect delay after a failure (doubles per failure); see `fsm.sessionConfig`. */
  readonly connectRetryMs?: number;
  readonly clock?: Clock;
  readonly log?: PeerLogger;
  /**
   * Called with each new socket right after it is created, before it connects. The hook for
   * TCP MD5 (RFC 2385) and TTL security (RFC 5082), which need the native addon: Node cannot set
   * those options on a TCP socket itself.
   */
  readonly onSocket?: (socket: net.Socket) => void;
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

/**
 * One BGP peer over TCP with its Adj-RIB-Out. Call {@link BgpPeer.start}; routes set with
 * {@link BgpPeer.setRoutes} are advertised whenever the session is Established.
 */
export class BgpPeer {
  readonly #opts: BgpPeerOptions;
  readonly #log: PeerLogger | undefined;
  readonly #session: fsm.Session<UpdateMessage>;
  readonly #rib = new AdjRibOut();
  readonly #listeners: { [K in keyof BgpPeerEvents]: Array<BgpPeerEvents[K]> } = { state: [], established: [], down: [] };
  readonly #counters: PeerCounters = {
    updatesSent: 0,
    prefixesAdvertised: 0,
    prefixesWithdrawn: 0,
    messagesReceived: 0,
    updatesReceived: 0,
    routeRefreshesReceived: 0,
  };
  #framer = new MessageFramer();
  #ctx: PackContext = { fourOctetAs: false, extendedMessages: false };
  #negotiated: fsm.Negotiated | undefined;
  #socket: net.Socket | undefined;
  /** Bumped per connection, so events of a closed socket are ignored. */
  #generation = 0;

  constructor(options: BgpPeerOptions) {
    this.#opts = options;
    this.#log = options.log;
    const families = options.families ?? ['ipv4'];
    const config = fsm.sessionConfig({
      localAsn: options.localAsn,
      peerAsn: options.peerAsn,
      localBgpId: ipv4ToU32(options.routerId),
      ...(options.holdTimeSec !== undefined ? { holdTimeSec: options.holdTimeSec } : {}),
      ...(options.connectRetryMs !== undefined ? { connectRetryMs: options.connectRetryMs } : {}),
      capabilities: { multiprotocol: families.map((f) => ({ afi: AFI_NUMBER[f], safi: SAFI_UNICAST })), routeRefresh: true },
    });
    this.#session = new fsm.Session<UpdateMessage>({
      config,
      clock: options.clock ?? systemClock,
      onAction: (action) => this.#onAction(action),
      onTransition: (info) => {
        if (info.from.name === info.to.name) return;
        const change: PeerStateChange = { from: info.from.name, to: info.to.name, event: info.event.type };
        this.#log?.info(
          { event: 'bgpState', peer: this.#opts.peerAddress, from: change.from, to: change.to, trigger: change.event },
          `BGP ${change.from} -> ${change.to}`,
        );
        for (const fn of this.#listeners.state) fn(change);
      },
    });
  }

  /** The session state (RFC 4271 §8.2.2). */
  get state(): fsm.SessionStateName {
    return this.#session.state.name;
  }

  /** What the OPEN exchange agreed, while Established. */
  get negotiated(): fsm.Negotiated | undefined {
    return this.#negotiated;
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

  /** ManualStart: connect, and reconnect with backoff after failures. */
  start(): void {
    this.#session.start(false);
  }

  /**
   * ManualStop: Cease/Administrative Shutdown with an optional Shutdown Communication
   * (RFC 9003, was RFC 8203), close, stay Idle. The peer withdraws our routes; the Adj-RIB-Out
   * is kept for the next {@link BgpPeer.start}.
   */
  stop(shutdownCommunication?: string): void {
    const data = shutdownCommunication === undefined || shutdownCommunication === '' ? undefined : shutdownCommunicationData(shutdownCommunication);
    this.#session.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, data);
    this.#closeSocket();
  }

  /**
   * Replaces the Adj-RIB-Out. When Established, sends only the difference, packed into as few
   * UPDATEs as fit. Throws on an invalid route and then changes nothing.
   */
  setRoutes(routes: readonly PeerRoute[]): RibDiff {
    const diff = this.#rib.replace(routes);
    if (this.#negotiated !== undefined) this.#sendRoutes(diff.announce, diff.withdraw);
    return diff;
  }

  // ---- actions -------------------------------------------------------------------------

  #onAction(action: fsm.IoAction<UpdateMessage>): void {
    switch (action.type) {
      case 'connect':
        this.#dial();
        return;
      case 'dropTcp':
        this.#closeSocket();
        return;
      case 'sendOpen':
        this.#send(toWireOpen(action.open));
        return;
      case 'sendKeepalive':
        this.#send({ type: 'keepalive' });
        return;
      case 'sendNotification':
        this.#send({ type: 'notification', code: action.code, subcode: action.subcode, data: action.data });
        return;
      case 'established':
        this.#onEstablished(action.negotiated);
        return;
      case 'sessionDown':
        this.#onDown(action);
        return;
      // Routes received are not used: this speaker only advertises. Active establishment only
      // (see the module comment): no listener, so nothing to accept or refuse.
      case 'deliverUpdate':
      case 'listen':
      case 'acceptIncoming':
      case 'rejectIncoming':
      case 'secondConnection':
      case 'releaseResources':
        return;
    }
  }

  #onEstablished(negotiated: fsm.Negotiated): void {
    this.#negotiated = negotiated;
    this.#ctx = { fourOctetAs: negotiated.fourOctetAsn, extendedMessages: negotiated.extendedMessage };
    this.#framer.maxMessageLength = maxMessageLength(negotiated.extendedMessage);
    this.#log?.info(
      { event: 'bgpEstablished', peer: this.#opts.peerAddress, peerAsn: negotiated.peerAsn, holdTimeSec: negotiated.holdTimeSec },
      'BGP session established',
    );
    for (const fn of this.#listeners.established) fn(negotiated);
    this.#sendRoutes([...this.#rib.routes], []);
    // RFC 4724 §2: End-of-RIB after the initial update, one per family.
    for (const afi of this.#families()) this.#send(endOfRib(afi));
  }

  #onDown(action: Extract<fsm.IoAction, { type: 'sessionDown' }>): void {
    this.#negotiated = undefined;
    const down: PeerDown = {
      from: action.from,
      reason: action.reason,
      ...(action.notification !== undefined ? { notification: action.notification } : {}),
    };
    this.#log?.warn(
      { event: 'bgpDown', peer: this.#opts.peerAddress, from: down.from, reason: down.reason, code: down.notification?.code, subcode: down.notification?.subcode },
      'BGP session down',
    );
    for (const fn of this.#listeners.down) fn(down);
  }

  #families(): Set<Afi> {
    const out = new Set<Afi>();
    for (const f of this.#negotiated?.families ?? []) {
      const name = afiName(f.afi, f.safi);
      if (name !== undefined) out.add(name);
    }
    return out;
  }

  /** Packs and sends announcements and withdrawals of the negotiated families. */
  #sendRoutes(announce: readonly RibRoute[], withdraw: readonly Prefix[]): void {
    const negotiated = this.#negotiated;
    if (negotiated === undefined) return;
    const families = this.#families();
    const routes = toAdvertisements(
      announce.filter((r) => families.has(r.afi)),
      { localAsn: this.#opts.localAsn, ibgp: negotiated.ibgp },
    );
    const withdrawn = withdraw.filter((p) => families.has(p.afi));
    if (routes.length === 0 && withdrawn.length === 0) return;
    let updates: UpdateMessage[];
    try {
      updates = packUpdates(routes, withdrawn, this.#ctx);
    } catch (err) {
      // Only attributes too large for any message get here; the rest of the session is fine.
      this.#log?.warn({ event: 'bgpPackFailed', peer: this.#opts.peerAddress, err }, 'cannot pack routes into UPDATEs');
      return;
    }
    for (const update of updates) this.#send(update);
  }

  #send(message: BgpMessage): void {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(message, this.#ctx);
    } catch (err) {
      this.#log?.warn({ event: 'bgpEncodeFailed', peer: this.#opts.peerAddress, type: message.type, err }, 'cannot encode message');
      return;
    }
    socket.write(bytes);
    if (message.type === 'update') {
      this.#counters.updatesSent++;
      this.#counters.prefixesAdvertised += message.nlri.length + (message.attributes.mpReach?.nlri.length ?? 0);
      this.#counters.prefixesWithdrawn += message.withdrawn.length + (message.attributes.mpUnreach?.withdrawn.length ?? 0);
    }
  }

  // ---- TCP -----------------------------------------------------------------------------

  #dial(): void {
    this.#closeSocket();
    const generation = ++this.#generation;
    this.#framer = new MessageFramer();
    this.#ctx = { fourOctetAs: false, extendedMessages: false };
    const port = this.#opts.port ?? 179;
    const socket = net.connect({
      host: this.#opts.peerAddress,
      port,
      ...(this.#opts.localAddress !== undefined ? { localAddress: this.#opts.localAddress } : {}),
      noDelay: true,
    });
    this.#socket = socket;
    this.#opts.onSocket?.(socket);
    const current = (): boolean => generation === this.#generation;
    socket.once('connect', () => {
      if (current()) this.#session.handle({ type: 'Tcp_CR_Acked' });
    });
    socket.on('data', (chunk: Buffer) => {
      if (current()) this.#onData(chunk, current);
    });
    socket.on('error', (err) => {
      if (current()) this.#log?.warn({ event: 'bgpTcpError', peer: this.#opts.peerAddress, port, err }, `dial ${this.#opts.peerAddress}:${port}: ${err.message}`);
    });
    socket.on('close', () => {
      if (!current()) return;
      this.#socket = undefined;
      this.#generation++;
      this.#session.handle({ type: 'TcpConnectionFails' });
    });
  }

  /** Closes the connection after flushing what was written (e.g. a NOTIFICATION). */
  #closeSocket(): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    this.#generation++;
    socket.end();
    // Do not wait for the peer's FIN forever.
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('close', () => socket.setTimeout(0));
  }

  #onData(chunk: Uint8Array, current: () => boolean): void {
    for (const frame of this.#framer.push(chunk)) {
      if (!current()) return;
      if (!frame.ok) {
        // RFC 4271 §6.1: the stream cannot be resynchronised.
        this.#session.handle({ type: 'BGPHeaderErr', subcode: frame.notification.subcode, data: frame.notification.data });
        return;
      }
      this.#counters.messagesReceived++;
      this.#onDecoded(decodeMessage(frame.bytes, this.#ctx));
    }
  }

  #onDecoded(result: DecodeResult): void {
    if (result.outcome === 'treat-as-withdraw') {
      // RFC 7606 §2: the session stays up; we keep no routes from the peer, so only the hold timer cares.
      this.#session.handle({ type: 'UpdateMsg', update: { type: 'update', withdrawn: result.withdrawn, attributes: {}, nlri: [] } });
      return;
    }
    if (result.outcome === 'session-reset') {
      this.#onSessionReset(result.notification);
      return;
    }
    this.#onMessage(result.message);
  }

  #onSessionReset(n: { code: number; subcode: number; data: Uint8Array }): void {
    const fields = { subcode: n.subcode, data: n.data };
    if (n.code === ErrorCode.MESSAGE_HEADER_ERROR) this.#session.handle({ type: 'BGPHeaderErr', ...fields });
    else if (n.code === ErrorCode.OPEN_MESSAGE_ERROR) this.#session.handle({ type: 'BGPOpenMsgErr', ...fields });
    else if (n.code === ErrorCode.UPDATE_MESSAGE_ERROR) this.#session.handle({ type: 'UpdateMsgErr', ...fields });
    else {
      // E.g. ROUTE-REFRESH Message Error (RFC 7313 §5), which the state machine has no event for.
      this.#send({ type: 'notification', code: n.code, subcode: n.subcode, data: n.data });
      this.#closeSocket();
      this.#session.handle({ type: 'TcpConnectionFails' });
    }
  }

  #onMessage(message: BgpMessage): void {
    switch (message.type) {
      case 'open':
        this.#session.handle({ type: 'BGPOpen', open: toFsmOpen(message) });
        return;
      case 'keepalive':
        this.#session.handle({ type: 'KeepAliveMsg' });
        return;
      case 'update':
        this.#counters.updatesReceived++;
        this.#session.handle({ type: 'UpdateMsg', update: message });
        return;
      case 'notification': {
        const notification = { code: message.code, subcode: message.subcode, data: message.data };
        const versionError = message.code === ErrorCode.OPEN_MESSAGE_ERROR && message.subcode === OpenMessageSubcode.UNSUPPORTED_VERSION_NUMBER;
        this.#session.handle(versionError ? { type: 'NotifMsgVerErr', notification } : { type: 'NotifMsg', notification });
        return;
      }
      case 'route-refresh':
        this.#onRouteRefresh(message.afi, message.safi, message.subtype);
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
}
