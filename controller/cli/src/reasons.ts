/**
 * Reason codes of the controller's allocator and the speaker's planners, as sentences.
 * The maps are exhaustive over the codes' types, so a reason added there fails the build
 * here until it is explained.
 * @packageDocumentation
 */
import type { BgpIPReason, IPReason, NodeReason, OwnerReason } from '@herald/speaker';

/** Why one node may not announce an IP over L2 (speaker `NodeReason`). */
export const NODE_REASON_TEXT: Readonly<Record<NodeReason, string>> = {
  nodeNotFound: 'a speaker runs there but no Node object of that name exists',
  networkUnavailable: 'its NetworkUnavailable condition is True',
  excludedByLabel: 'it carries the label node.kubernetes.io/exclude-from-external-load-balancers',
  notSelectedByAdvertisement: "no L2Advertisement of the IP's pool selects it (nodeSelectors)",
  speakerNotAlive: 'its speaker is not alive (no fresh herald-speaker Lease)',
  noLocalEndpoint: 'externalTrafficPolicy is Local and it has no ready or serving endpoint of the Service',
  noServingEndpoints: 'no Service of the IP has a ready or serving endpoint anywhere',
};

/** Why nobody announces an IP over L2 (speaker `IPReason`). */
export const IP_REASON_TEXT: Readonly<Record<IPReason, string>> = {
  notInAnyPool: 'no IPAddressPool contains the IP',
  noL2Advertisement: "no L2Advertisement selects the IP's pool",
  serviceNotSelected: "the L2Advertisements of the IP's pool have serviceSelectors that match none of its Services",
  noServingEndpoints: 'no Service of the IP has a ready or serving endpoint anywhere',
  noEligibleNode: 'every node fails a rule (see each node)',
};

/** How the L2 owner was elected (speaker `OwnerReason`). */
export const OWNER_REASON_TEXT: Readonly<Record<OwnerReason, string>> = {
  preferred: 'the highest-ranked eligible node for this IP',
  rebalanced: 'the nodes ranked above it were at capacity',
  overCapacity: 'every eligible node was at capacity; the least loaded took it',
};

/** Why one node does or does not announce an IP over BGP (speaker `BgpIPReason`). */
export const BGP_REASON_TEXT: Readonly<Record<BgpIPReason, string>> = {
  announced: 'announced',
  notInAnyPool: 'no IPAddressPool contains the IP',
  noBGPAdvertisement: "no BGPAdvertisement selects the IP's pool",
  nodeNotFound: 'no Node object of that name exists',
  networkUnavailable: 'its NetworkUnavailable condition is True',
  excludedByLabel: 'it carries the label node.kubernetes.io/exclude-from-external-load-balancers',
  nodeNotSelected: "no BGPAdvertisement of the IP's pool selects it (nodeSelectors)",
  noServingEndpoints: 'no Service of the IP has a ready or serving endpoint anywhere',
  noLocalEndpoint: 'externalTrafficPolicy is Local and it has no ready or serving endpoint of the Service',
  noPeer: "no BGPPeer that selects it is selected by an advertisement of the pool for the IP's family",
};

/** `reason: sentence` for a BGP reason, naming the peers when announced. */
export function bgpReasonLine(r: BgpIPReason, peers: readonly string[]): string {
  return r === 'announced' ? `announced to ${peers.join(', ')}` : `${r}: ${BGP_REASON_TEXT[r]}`;
}
