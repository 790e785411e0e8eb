/**
 * The I/O edge: a BGP peer over TCP (node:net) around one session state machine, with its
 * Adj-RIB-Out. The only part of the package that opens sockets.
 * @packageDocumentation
 */
export {
  BgpPeer,
  toFsmOpen,
  toWireOpen,
  type BgpPeerEvents,
  type BgpPeerOptions,
  type PeerCounters,
  type PeerDown,
  type PeerLogger,
  type PeerStateChange,
} from './peer.js';
export {
  AdjRibOut,
  buildRib,
  diffRib,
  normalizeRoute,
  parseLargeCommunity,
  toAdvertisements,
  type AttributeContext,
  type PeerRoute,
  type RibDiff,
  type RibRoute,
} from './adjribout.js';
