/**
 * @herald/speaker public API: the speaker's pure planners, for tools that must decide
 * exactly as the speaker does (`herald explain` says who announces an IP and why the
 * other nodes do not), and the names of its Leases.
 * @packageDocumentation
 */
export const PACKAGE = '@herald/speaker';

export {
  EXCLUDE_FROM_LB_LABEL,
  NODE_REASONS,
  POOL_ANNOTATION,
  SERVICE_NAME_LABEL,
  evaluateL2,
  planL2,
  type IPEligibility,
  type IPPlan,
  type IPReason,
  type L2Plan,
  type L2World,
  type NodeReason,
} from './l2/eligibility.js';
export type { OwnerReason } from './l2/election.js';
export { planBgp, type BgpIPPlan, type BgpIPReason, type BgpPlan, type BgpWorld } from './bgp/plan.js';
export { L2_WARNING_ANNOTATION, NODE_ANNOTATION, SPEAKER_LEASE_LABEL, SPEAKER_LEASE_LABEL_VALUE, speakerLeaseName } from './speaker/leases.js';
