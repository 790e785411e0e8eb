/**
 * The I/O edge: a BGP peer over TCP (node:net) around the session state machine, with its
 * Adj-RIB-Out; the listener for passive TCP establishment; the TCP MD5/TTL hooks. The only
 * part of the package that opens sockets.
 * @packageDocumentation
 */
export {
  BgpPeer,
  toFsmOpen,
  toWireOpen,
  type BgpPeerEvents,
  type BgpPeerOptions,
  type GracefulRestartOptions,
  type PeerCounters,
  type PeerDown,
  type PeerLogger,
  type PeerStateChange,
  type ShutdownOptions,
} from './peer.js';
export { BgpListener, canonicalAddress, type BgpListenerOptions, type ListenerAttachment } from './listener.js';
export type { ConnectionInfo } from './connection.js';
export type { SocketSecurity, TcpSecurityOptions } from './socket-security.js';
export {
  AdjRibOut,
  buildRib,
  diffRib,
  normalizeRoute,
  parseLargeCommunity,
  toAdvertisements,
  withGracefulShutdown,
  type AttributeContext,
  type PeerRoute,
  type RibDiff,
  type RibRoute,
} from './adjribout.js';
