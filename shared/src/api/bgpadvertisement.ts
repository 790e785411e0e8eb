/**
 * BGPAdvertisement: announce addresses of selected pools to BGP peers, with path attributes
 * (MetalLB metallb.io/v1beta1 BGPAdvertisement).
 * @packageDocumentation
 */
import { z } from 'zod';
import { CommunityRefSchema } from './community.js';
import { defineKind, objectSchema } from './kind.js';
import { conditionList, LIMITS, nameList, selectorList } from './meta.js';
import { uniqueItemsRule, withRules } from './rules.js';

/** BGPAdvertisement.spec. Every field is optional: an empty spec announces every pool to every peer. */
export const BGPAdvertisementSpecSchema = z
  .object({
    aggregationLength: z
      .int()
      .min(0)
      .max(32)
      .default(32)
      .meta({
        description:
          'Prefix length IPv4 addresses are announced with; below 32, Service addresses are rolled up into one prefix.',
      }),
    aggregationLengthV6: z
      .int()
      .min(0)
      .max(128)
      .default(128)
      .meta({
        description:
          'Prefix length IPv6 addresses are announced with; below 128, Service addresses are rolled up into one prefix.',
      }),
    localPref: z
      .int()
      .min(0)
      .max(4294967295)
      .optional()
      .meta({
        description:
          'LOCAL_PREF path attribute (RFC 4271 5.1.5), sent to iBGP peers only; higher is preferred.',
      }),
    communities: withRules(z.array(CommunityRefSchema).max(LIMITS.references), [uniqueItemsRule('communities')])
      .optional()
      .meta({
        description:
          'Communities to attach: A:B (RFC 1997), large:A:B:C (RFC 8092), or the name of an alias from a Community object.',
      }),
    ipAddressPools: nameList('ipAddressPools', 'Pools to announce, by name.'),
    ipAddressPoolSelectors: selectorList(
      'Selects pools to announce by label. When neither this nor ipAddressPools selects a pool, every pool is announced.',
    ),
    nodeSelectors: selectorList('Limits the nodes announced as next hops; empty means every node.'),
    peers: nameList('peers', 'BGPPeers to announce to, by name; empty means every peer.'),
  })
  .meta({ description: 'Which pools to announce over BGP, to which peers, from which nodes, with which attributes.' });
/** BGPAdvertisement.spec after defaults. */
export type BGPAdvertisementSpec = z.infer<typeof BGPAdvertisementSpecSchema>;

/** BGPAdvertisement.status: nothing yet; the per-Service state is in ServiceBGPStatus. */
export const BGPAdvertisementStatusSchema = z
  .object({
    conditions: conditionList(),
  })
  .meta({ description: 'Observed state: the Valid condition, written by the controller (is this object in force as written, or is its last valid version?).' });
/** BGPAdvertisement.status. */
export type BGPAdvertisementStatus = z.infer<typeof BGPAdvertisementStatusSchema>;

/** A whole BGPAdvertisement object; a missing spec is an empty one, with defaults. */
export const BGPAdvertisementSchema = objectSchema(
  'BGPAdvertisement',
  BGPAdvertisementSpecSchema.prefault({}),
  BGPAdvertisementStatusSchema,
);
/** A BGPAdvertisement after parsing (defaults applied). */
export type BGPAdvertisement = z.infer<typeof BGPAdvertisementSchema>;
/** A BGPAdvertisement as written by a user. */
export type BGPAdvertisementInput = z.input<typeof BGPAdvertisementSchema>;

/** Identity and CRD presentation of BGPAdvertisement. */
export const BGPAdvertisementKind = defineKind({
  kind: 'BGPAdvertisement',
  plural: 'bgpadvertisements',
  shortNames: ['hbgpadv'],
  description: 'BGPAdvertisement announces the addresses of the selected pools to BGP peers.',
  schema: BGPAdvertisementSchema,
  printerColumns: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
  ],
});
