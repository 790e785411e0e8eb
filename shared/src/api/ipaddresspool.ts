/**
 * IPAddressPool: addresses Herald may assign to LoadBalancer Services
 * (MetalLB metallb.io/v1beta1 IPAddressPool).
 * @packageDocumentation
 */
import { z } from 'zod';
import { rangesOverlap } from '../ip/index.js';
import type { IPRange } from '../ip/index.js';
import { defineKind, objectSchema } from './kind.js';
import { celIsCIDR, celParseCIDR, cidrRange, poolEntryRange, splitPoolRange } from './ip.js';
import { conditionList, CountSchema, LIMITS, NamespaceNameSchema, selectorList } from './meta.js';
import { uniqueItemsRule, withRules } from './rules.js';

/**
 * Entries per pool. The overlap rule is O(n²) in CEL; 64 entries keep its cost estimate far
 * below the apiserver's per-rule budget. Split larger sets over several pools.
 */
export const MAX_POOL_ENTRIES = 64;

/** Longest entry: two full IPv6 addresses, a dash and some spaces around it. */
const MAX_POOL_ENTRY_LENGTH = 96;

/** One pool entry: a CIDR, or `start-end` with two IPs of one family (spaces around `-` allowed). */
export const PoolEntrySchema = withRules(z.string().min(1).max(MAX_POOL_ENTRY_LENGTH), [
  {
    rule: "isCIDR(self) || (self.split('-').size() == 2 && isIP(self.split('-')[0].trim()) && isIP(self.split('-')[1].trim()))",
    message:
      "each address must be a CIDR such as 192.168.10.0/24 or 2001:db8::/120, or a range of two IPs 'start-end' such as 192.168.10.10-192.168.10.20",
    holds: (self) => {
      if (celIsCIDR(self)) return true;
      const range = splitPoolRange(self);
      return range?.start !== undefined && range.end !== undefined;
    },
  },
  {
    rule: "isCIDR(self) || self.split('-').size() != 2 || !isIP(self.split('-')[0].trim()) || !isIP(self.split('-')[1].trim()) || ip(self.split('-')[0].trim()).family() == ip(self.split('-')[1].trim()).family()",
    message: 'the start and end of an address range must be of the same IP family: both IPv4 or both IPv6',
    holds: (self) => {
      const range = splitPoolRange(self);
      return range?.start === undefined || range.end === undefined || range.start.family === range.end.family;
    },
  },
]);

/**
 * What the CEL rules cannot check, since CEL's ip library has no ordering: ranges that run
 * backwards, and overlaps that involve a range. Enforced by zod, i.e. by the controller.
 */
function rangeIssues(addresses: readonly string[]): string[] {
  const issues: string[] = [];
  const ranges: { entry: string; range: IPRange; cidr: boolean }[] = [];
  for (const entry of addresses) {
    const ends = splitPoolRange(entry);
    const sameFamily = ends?.start !== undefined && ends.end !== undefined && ends.start.family === ends.end.family;
    if (!celIsCIDR(entry) && sameFamily && ends.start.value > ends.end.value) {
      issues.push(`address range ${entry} runs backwards: its start must not be after its end`);
      continue;
    }
    const range = poolEntryRange(entry);
    if (range !== undefined) ranges.push({ entry, range, cidr: celIsCIDR(entry) });
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i];
      const b = ranges[j];
      // CIDR-with-CIDR overlaps are the CEL rule's; duplicates are the uniqueness rule's.
      if (!a || !b || (a.cidr && b.cidr) || a.entry === b.entry) continue;
      if (rangesOverlap(a.range, b.range)) issues.push(`addresses ${a.entry} and ${b.entry} overlap: remove one or shrink it`);
    }
  }
  return issues;
}

/** The address list of a pool: non-empty, no duplicates, no overlapping CIDRs. */
export const PoolAddressesSchema = withRules(z.array(PoolEntrySchema).min(1).max(MAX_POOL_ENTRIES), [
  uniqueItemsRule('addresses'),
  {
    // Two prefixes overlap exactly when one contains the other's network address.
    rule: 'self.all(a, !isCIDR(a) || self.all(b, a == b || !isCIDR(b) || !cidr(a).containsIP(cidr(b).masked().ip())))',
    message: 'CIDRs in one pool must not overlap: remove the CIDR that lies inside another',
    holds: (self) => {
      const cidrs = self.flatMap((entry) => {
        const parsed = celParseCIDR(entry);
        return parsed === undefined ? [] : [{ entry, range: cidrRange(parsed) }];
      });
      return cidrs.every((a) => cidrs.every((b) => a.entry === b.entry || !rangesOverlap(a.range, b.range)));
    },
  },
]).superRefine((addresses, ctx) => {
  for (const message of rangeIssues(addresses)) ctx.addIssue({ code: 'custom', message });
});

/** Which Services may take addresses from the pool (MetalLB `serviceAllocation`). */
export const ServiceAllocationSchema = z
  .object({
    priority: z
      .int()
      .min(-2147483648)
      .max(2147483647)
      .optional()
      .meta({
        description:
          'Preference among pools that match a Service: the lowest value wins; pools without a priority are used only when no pool with one can be.',
      }),
    namespaces: withRules(z.array(NamespaceNameSchema).max(LIMITS.references), [uniqueItemsRule('namespaces')])
      .optional()
      .meta({ description: 'Namespaces whose Services may use the pool.' }),
    namespaceSelectors: selectorList('Selects the namespaces whose Services may use the pool; an alternative to namespaces.'),
    serviceSelectors: selectorList('Selects the Services that may use the pool.'),
  })
  .meta({
    description:
      'Limits the pool to some namespaces and/or Services. Without it, any Service may use the pool (subject to autoAssign).',
  });
/** Which Services may take addresses from a pool. */
export type ServiceAllocation = z.infer<typeof ServiceAllocationSchema>;

/** IPAddressPool.spec. */
export const IPAddressPoolSpecSchema = z
  .object({
    addresses: PoolAddressesSchema.meta({
      description:
        'Address ranges the pool owns, each a CIDR (192.168.10.0/24) or a start-end range of one family (192.168.10.10-192.168.10.20).',
    }),
    autoAssign: z
      .boolean()
      .default(true)
      .meta({
        description:
          'When false, addresses are given only to Services that ask for this pool or one of its addresses.',
      }),
    avoidBuggyIPs: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Skip IPv4 addresses ending in .0 and .255, which some old consumer devices drop as smurf-attack protection.',
      }),
    serviceAllocation: ServiceAllocationSchema.optional(),
  })
  .meta({ description: 'Desired state of the pool.' });
/** IPAddressPool.spec after defaults. */
export type IPAddressPoolSpec = z.infer<typeof IPAddressPoolSpecSchema>;

/** IPAddressPool.status, written by the controller. */
export const IPAddressPoolStatusSchema = z
  .object({
    assignedIPv4: CountSchema.optional().meta({ description: 'Number of IPv4 addresses assigned to Services.' }),
    assignedIPv6: CountSchema.optional().meta({ description: 'Number of IPv6 addresses assigned to Services.' }),
    availableIPv4: CountSchema.optional().meta({ description: 'Number of IPv4 addresses still free.' }),
    availableIPv6: CountSchema.optional().meta({
      description: 'Number of IPv6 addresses still free; a decimal string when beyond 2^53-1.',
    }),
    conditions: conditionList(),
  })
  .meta({ description: 'Observed state of the pool.' });
/** IPAddressPool.status. */
export type IPAddressPoolStatus = z.infer<typeof IPAddressPoolStatusSchema>;

/** A whole IPAddressPool object. */
export const IPAddressPoolSchema = objectSchema('IPAddressPool', IPAddressPoolSpecSchema, IPAddressPoolStatusSchema);
/** An IPAddressPool after parsing (defaults applied). */
export type IPAddressPool = z.infer<typeof IPAddressPoolSchema>;
/** An IPAddressPool as written by a user (defaults optional). */
export type IPAddressPoolInput = z.input<typeof IPAddressPoolSchema>;

/** Identity and CRD presentation of IPAddressPool. */
export const IPAddressPoolKind = defineKind({
  kind: 'IPAddressPool',
  plural: 'ipaddresspools',
  shortNames: ['hpool'],
  description: 'IPAddressPool is a set of addresses Herald may assign to LoadBalancer Services.',
  schema: IPAddressPoolSchema,
  printerColumns: [
    { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
    { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs' },
    { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
    { name: 'Available IPv4', type: 'string', jsonPath: '.status.availableIPv4', priority: 1 },
    { name: 'Available IPv6', type: 'string', jsonPath: '.status.availableIPv6', priority: 1 },
  ],
});
