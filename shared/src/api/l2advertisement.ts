/**
 * L2Advertisement: announce addresses of selected pools with ARP (RFC 826) and NDP
 * (RFC 4861) from one elected node (MetalLB metallb.io/v1beta1 L2Advertisement).
 * @packageDocumentation
 */
import { z } from 'zod';
import { defineKind, objectSchema } from './kind.js';
import { conditionList, InterfaceNameSchema, LIMITS, nameList, selectorList } from './meta.js';
import { uniqueItemsRule, withRules } from './rules.js';

/** L2Advertisement.spec. Every field is optional: an empty spec announces every pool from every node. */
export const L2AdvertisementSpecSchema = z
  .object({
    ipAddressPools: nameList('ipAddressPools', 'Pools to announce, by name.'),
    ipAddressPoolSelectors: selectorList(
      'Selects pools to announce by label. When neither this nor ipAddressPools selects a pool, every pool is announced.',
    ),
    nodeSelectors: selectorList('Limits the nodes that may announce; empty means every node.'),
    serviceSelectors: selectorList(
      'Announces only the Services whose labels match one of these; empty means every Service. An IP shared by several Services is announced when any of them matches.',
    ),
    preferredNodeSelectors: selectorList(
      'Nodes preferred as the announcing node: the owner is elected among the eligible nodes that match one of these while any does, else among the other eligible nodes.',
    ),
    interfaces: withRules(z.array(InterfaceNameSchema).max(LIMITS.references), [uniqueItemsRule('interfaces')])
      .optional()
      .meta({ description: 'Interfaces to announce from; empty means every interface of the node.' }),
  })
  .meta({ description: 'Which pools to announce over layer 2, from which nodes and interfaces.' });
/** L2Advertisement.spec. */
export type L2AdvertisementSpec = z.infer<typeof L2AdvertisementSpecSchema>;

/** L2Advertisement.status: nothing yet; the per-Service state is in ServiceL2Status. */
export const L2AdvertisementStatusSchema = z
  .object({
    conditions: conditionList(),
  })
  .meta({ description: 'Observed state: the Valid condition, written by the controller (is this object in force as written, or is its last valid version?).' });
/** L2Advertisement.status. */
export type L2AdvertisementStatus = z.infer<typeof L2AdvertisementStatusSchema>;

/** A whole L2Advertisement object; a missing spec is an empty one. */
export const L2AdvertisementSchema = objectSchema(
  'L2Advertisement',
  L2AdvertisementSpecSchema.prefault({}),
  L2AdvertisementStatusSchema,
);
/** An L2Advertisement after parsing. */
export type L2Advertisement = z.infer<typeof L2AdvertisementSchema>;
/** An L2Advertisement as written by a user. */
export type L2AdvertisementInput = z.input<typeof L2AdvertisementSchema>;

/** Identity and CRD presentation of L2Advertisement. */
export const L2AdvertisementKind = defineKind({
  kind: 'L2Advertisement',
  plural: 'l2advertisements',
  shortNames: ['hl2adv'],
  description: 'L2Advertisement announces the addresses of the selected pools over layer 2 (ARP for IPv4, NDP for IPv6).',
  schema: L2AdvertisementSchema,
  printerColumns: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
  ],
});
