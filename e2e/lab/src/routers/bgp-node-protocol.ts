/**
 * The line protocol between {@link startBgpNode} (root namespace) and `bgp-node.js` (inside a
 * node's namespace). One zod schema per direction, parsed on both ends.
 */
import { z } from 'zod';

const u32 = z.number().int().min(0).max(0xffff_ffff);

/** A route as bgp-speaker-lite's `PeerRoute` takes it. */
export const labRoute = z.object({
  prefix: z.string(),
  nextHop: z.string(),
  communities: z.array(z.string()).exactOptional(),
  largeCommunities: z.array(z.string()).exactOptional(),
  localPref: u32.exactOptional(),
  med: u32.exactOptional(),
});
export type LabRoute = z.infer<typeof labRoute>;

export const bgpNodePeer = z.object({
  /** Name used in commands and events (e.g. the router's host name). */
  name: z.string().min(1),
  peerAddress: z.string(),
  peerAsn: u32,
  /** Overrides the node's ASN for this session (e.g. an iBGP session). */
  localAsn: u32.exactOptional(),
  localAddress: z.string().exactOptional(),
  port: z.number().int().min(1).max(65535).exactOptional(),
  holdTimeSec: z.number().int().min(0).max(65535).exactOptional(),
  families: z.array(z.enum(['ipv4', 'ipv6'])).min(1).default(['ipv4', 'ipv6']),
});
export type BgpNodePeer = z.input<typeof bgpNodePeer>;

export const bgpNodeConfig = z.object({
  localAsn: u32,
  routerId: z.ipv4(),
  holdTimeSec: z.number().int().min(0).max(65535).default(90),
  connectRetryMs: z.number().int().positive().default(500),
  peers: z.array(bgpNodePeer).min(1),
  /** Routes advertised to every peer from the start. */
  routes: z.array(labRoute).default([]),
});
export type BgpNodeConfig = z.input<typeof bgpNodeConfig>;

const peers = z.array(z.string()).exactOptional();
export const bgpNodeCommand = z.discriminatedUnion('op', [
  z.object({ op: z.literal('setRoutes'), id: z.number().int(), routes: z.array(labRoute), peers }),
  z.object({ op: z.literal('stop'), id: z.number().int(), peers }),
  z.object({ op: z.literal('start'), id: z.number().int(), peers }),
]);
export type BgpNodeCommand = z.infer<typeof bgpNodeCommand>;

/** When the script emitted the event (epoch ms); the client fills it in if absent. */
const at = z.number().exactOptional();
export const bgpNodeEvent = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), at }),
  z.object({ event: z.literal('ack'), id: z.number(), at }),
  z.object({ event: z.literal('error'), id: z.number().exactOptional(), message: z.string(), at }),
  z.object({ event: z.literal('state'), peer: z.string(), from: z.string(), to: z.string(), at }),
  z.object({ event: z.literal('established'), peer: z.string(), holdTimeSec: z.number(), at }),
  z.object({ event: z.literal('down'), peer: z.string(), from: z.string(), reason: z.string(), at }),
]);
export type BgpNodeEvent = z.infer<typeof bgpNodeEvent>;
