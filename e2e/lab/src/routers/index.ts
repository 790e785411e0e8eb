/**
 * Real BGP routers (FRR 8.4, BIRD 2.0, GoBGP 3.x) in lab hosts, with one normalised view of
 * what they learned, and a bgp-speaker-lite stand-in for Herald's speaker in lab nodes.
 * @packageDocumentation
 */
export { startRouter, waitForNeighbor, waitForNoRoute, waitForRoute } from './router.js';
export { waitFor, type WaitOptions } from './poll.js';
export { startBgpNode, type BgpNode } from './bgp-node-client.js';
export type { BgpNodeConfig, BgpNodeEvent, BgpNodePeer, LabRoute } from './bgp-node-protocol.js';
export type {
  Afi,
  BfdState,
  BfdTimers,
  KernelRoute,
  LearnedPath,
  LearnedRoute,
  NeighborConfig,
  NeighborStatus,
  Router,
  RouterConfig,
  RouterKind,
  SessionState,
} from './types.js';
