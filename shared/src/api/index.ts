/**
 * Herald's API, group herald.io version v1beta1: zod schemas, inferred types and kind
 * constants for every custom resource. The CRD YAML in charts/herald/crds is generated
 * from these schemas (see crdgen).
 * @packageDocumentation
 */
import { BFDProfileKind } from './bfdprofile.js';
import { BGPAdvertisementKind } from './bgpadvertisement.js';
import { BGPPeerKind } from './bgppeer.js';
import { BGPSessionStateKind } from './bgpsessionstate.js';
import { CommunityKind } from './community.js';
import { IPAddressPoolKind } from './ipaddresspool.js';
import type { KindDefinition } from './kind.js';
import { L2AdvertisementKind } from './l2advertisement.js';
import { ServiceBGPStatusKind } from './servicebgpstatus.js';
import { ServiceL2StatusKind } from './servicel2status.js';

export * from './bfdprofile.js';
export * from './bgpadvertisement.js';
export * from './bgppeer.js';
export * from './bgpsessionstate.js';
export * from './community.js';
export * from './duration.js';
export * from './group.js';
export * from './ip.js';
export * from './ipaddresspool.js';
export * from './kind.js';
export * from './l2advertisement.js';
export * from './meta.js';
export * from './rules.js';
export * from './servicebgpstatus.js';
export * from './servicel2status.js';

/** Every herald.io kind, in a fixed order (configuration kinds first, then status kinds). */
export const ALL_KINDS: readonly KindDefinition[] = [
  IPAddressPoolKind,
  L2AdvertisementKind,
  BGPAdvertisementKind,
  BGPPeerKind,
  BFDProfileKind,
  CommunityKind,
  ServiceL2StatusKind,
  ServiceBGPStatusKind,
  BGPSessionStateKind,
];
