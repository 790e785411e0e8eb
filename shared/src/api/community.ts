/**
 * Community: named aliases for BGP community values, usable in BGPAdvertisement.communities
 * (MetalLB metallb.io/v1beta1 Community). Also the community text formats and their rules.
 * @packageDocumentation
 */
import { z } from 'zod';
import { conditionList } from './meta.js';
import { defineKind, objectSchema } from './kind.js';
import { withRules } from './rules.js';
import type { CheckedRule } from './rules.js';

// RFC 1997 section 3: a community is 32 bits, written as two 16-bit halves `ASN:value`.
const STANDARD = '^[0-9]{1,5}:[0-9]{1,5}$';
// RFC 8092 section 3: a large community is three 32-bit fields, `global:local1:local2`.
const LARGE = '^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$';
/** An alias name: starts with a letter and has no `:`, so it cannot be taken for a value. */
export const COMMUNITY_ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

const U16 = 0xffff;
const U32 = 0xffffffff;

/** A parsed community value. */
export type CommunityValue =
  | { readonly kind: 'standard'; readonly high: number; readonly low: number }
  | { readonly kind: 'large'; readonly global: number; readonly local1: number; readonly local2: number };

/**
 * Parses `A:B` (RFC 1997, each 0..65535) or `large:A:B:C` (RFC 8092, each 0..4294967295).
 * @returns the value, or `undefined` for anything else (including alias names).
 */
export function parseCommunity(text: string): CommunityValue | undefined {
  if (new RegExp(STANDARD).test(text)) {
    const [high, low] = text.split(':').map(Number);
    if (high === undefined || low === undefined || high > U16 || low > U16) return undefined;
    return { kind: 'standard', high, low };
  }
  if (new RegExp(LARGE).test(text)) {
    const [, global, local1, local2] = text.split(':').map(Number);
    if (global === undefined || local1 === undefined || local2 === undefined) return undefined;
    if (global > U32 || local1 > U32 || local2 > U32) return undefined;
    return { kind: 'large', global, local1, local2 };
  }
  return undefined;
}

const rangeRules: readonly CheckedRule<string>[] = [
  {
    rule: `!self.matches('${STANDARD}') || (int(self.split(':')[0]) <= 65535 && int(self.split(':')[1]) <= 65535)`,
    message: 'a standard community A:B needs both A and B in 0..65535 (RFC 1997)',
    holds: (self) => !new RegExp(STANDARD).test(self) || parseCommunity(self) !== undefined,
  },
  {
    rule: `!self.matches('${LARGE}') || (int(self.split(':')[1]) <= 4294967295 && int(self.split(':')[2]) <= 4294967295 && int(self.split(':')[3]) <= 4294967295)`,
    message: 'a large community large:A:B:C needs A, B and C in 0..4294967295 (RFC 8092)',
    holds: (self) => !new RegExp(LARGE).test(self) || parseCommunity(self) !== undefined,
  },
];

/** A community value, `A:B` or `large:A:B:C`. */
export const CommunityValueSchema = withRules(z.string().min(1).max(38), [
  {
    rule: `self.matches('${STANDARD}') || self.matches('${LARGE}')`,
    message: "a community value must be 'A:B' (standard, RFC 1997) or 'large:A:B:C' (large, RFC 8092)",
    holds: (self) => new RegExp(STANDARD).test(self) || new RegExp(LARGE).test(self),
  },
  ...rangeRules,
]);

/** A community value or the name of an alias defined in a Community object. */
export const CommunityRefSchema = withRules(z.string().min(1).max(63), [
  {
    rule: `self.matches('${STANDARD}') || self.matches('${LARGE}') || self.matches('${COMMUNITY_ALIAS_PATTERN.source}')`,
    message:
      "each community must be 'A:B' (RFC 1997), 'large:A:B:C' (RFC 8092) or the name of an alias from a Community object (a letter, then letters, digits, '_', '.', '-')",
    holds: (self) =>
      new RegExp(STANDARD).test(self) || new RegExp(LARGE).test(self) || COMMUNITY_ALIAS_PATTERN.test(self),
  },
  ...rangeRules,
]);

/** Maximum aliases in one Community object; the uniqueness rule is O(n²) in CEL. */
export const MAX_COMMUNITY_ALIASES = 128;

/** One alias: a name and the value it stands for. */
export const CommunityAliasSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(COMMUNITY_ALIAS_PATTERN)
      .meta({ description: 'Alias name, used in BGPAdvertisement.spec.communities.' }),
    value: CommunityValueSchema.meta({
      description: 'Community the alias stands for: A:B (standard) or large:A:B:C (large).',
    }),
  })
  .meta({ description: 'A named BGP community.' });
/** One community alias. */
export type CommunityAlias = z.infer<typeof CommunityAliasSchema>;

/** Community.spec. */
export const CommunitySpecSchema = z
  .object({
    communities: withRules(z.array(CommunityAliasSchema).max(MAX_COMMUNITY_ALIASES), [
      {
        rule: 'self.all(c, self.exists_one(d, d.name == c.name))',
        message: 'alias names must be unique within a Community: rename or remove the repeated name',
        holds: (self) => new Set(self.map((c) => c.name)).size === self.length,
      },
    ])
      .optional()
      .meta({ description: 'The aliases.' }),
  })
  .meta({ description: 'Aliases for BGP communities.' });
/** Community.spec. */
export type CommunitySpec = z.infer<typeof CommunitySpecSchema>;

/** Community.status: nothing yet. */
export const CommunityStatusSchema = z
  .object({
    conditions: conditionList(),
  })
  .meta({ description: 'Observed state: the Valid condition, written by the controller (is this object in force as written, or is its last valid version?).' });
/** Community.status. */
export type CommunityStatus = z.infer<typeof CommunityStatusSchema>;

/** A whole Community object. */
export const CommunitySchema = objectSchema('Community', CommunitySpecSchema.prefault({}), CommunityStatusSchema);
/** A Community after parsing. */
export type Community = z.infer<typeof CommunitySchema>;
/** A Community as written by a user. */
export type CommunityInput = z.input<typeof CommunitySchema>;

/** Identity and CRD presentation of Community. */
export const CommunityKind = defineKind({
  kind: 'Community',
  plural: 'communities',
  shortNames: ['hcomm'],
  description: 'Community names BGP community values so that BGPAdvertisements can refer to them by alias.',
  schema: CommunitySchema,
  printerColumns: [],
});
