/**
 * Kubernetes building blocks shared by the herald.io kinds: object metadata, label selectors
 * (metav1.LabelSelector), conditions (metav1.Condition) and name formats.
 * @packageDocumentation
 */
import { z } from 'zod';
import { uniqueItemsRule, withRules } from './rules.js';

/** RFC 1123 DNS label (namespace names), as Kubernetes validates it. */
export const DNS1123_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 DNS subdomain (most object names, node names). */
export const DNS1123_SUBDOMAIN_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const QUALIFIED_NAME_PATTERN =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Label value: empty, or up to 63 alphanumerics with `-_.` inside. */
const LABEL_VALUE_PATTERN = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Upper bounds that keep the apiserver's CEL cost estimate small; see each use. */
export const LIMITS = {
  /** Selectors per list (nodeSelectors, ipAddressPoolSelectors, ...). */
  selectors: 16,
  /** matchExpressions per selector. */
  matchExpressions: 16,
  /** values per match expression. */
  matchValues: 64,
  /** Names in a by-name reference list (ipAddressPools, peers, namespaces). */
  references: 64,
} as const;

/** Name of another object in the same namespace (a DNS subdomain). */
export const ObjectNameSchema = z.string().min(1).max(253).regex(DNS1123_SUBDOMAIN_PATTERN);

/** Name of a namespace (a DNS label). */
export const NamespaceNameSchema = z.string().min(1).max(63).regex(DNS1123_LABEL_PATTERN);

/** Name of a Service (an RFC 1035 DNS label). */
export const ServiceNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);

/** Name of a node (a DNS subdomain). */
export const NodeNameSchema = z.string().min(1).max(253).regex(DNS1123_SUBDOMAIN_PATTERN);

/**
 * A Linux interface name: at most IFNAMSIZ-1 = 15 bytes, no `/`, `:` or whitespace
 * (the kernel's dev_valid_name()).
 */
export const InterfaceNameSchema = z
  .string()
  .min(1)
  .max(15)
  .regex(/^[^/:\s]+$/);

/**
 * Object metadata as the apiserver returns it. Loose: fields Herald does not read
 * (managedFields, ...) are kept, never refused.
 */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z
    .array(
      z.looseObject({
        apiVersion: z.string(),
        kind: z.string(),
        name: z.string(),
        uid: z.string(),
        controller: z.boolean().optional(),
        blockOwnerDeletion: z.boolean().optional(),
      }),
    )
    .optional(),
});
/** Object metadata (metav1.ObjectMeta), loosely typed. */
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

/** A label selector requirement (metav1.LabelSelectorRequirement). */
export const LabelSelectorRequirementSchema = withRules(
  z.object({
    key: z
      .string()
      .min(1)
      .max(317)
      .regex(QUALIFIED_NAME_PATTERN)
      .meta({ description: 'The label key that the selector applies to.' }),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
      .meta({ description: "The key's relationship to a set of values." }),
    values: z
      .array(z.string().max(63).regex(LABEL_VALUE_PATTERN))
      .max(LIMITS.matchValues)
      .optional()
      .meta({ description: 'Label values; non-empty for In and NotIn, empty for Exists and DoesNotExist.' }),
  }),
  [
    {
      // metav1.LabelSelectorAsSelector refuses these; catch them at admission instead of in the controller.
      rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
      message: 'matchExpressions: operators In and NotIn need at least one value; Exists and DoesNotExist take no values',
      holds: (self) =>
        self.operator === 'In' || self.operator === 'NotIn'
          ? (self.values?.length ?? 0) > 0
          : (self.values?.length ?? 0) === 0,
    },
  ],
).meta({
  description: 'A selector requirement: a key, an operator and values.',
});
/** A label selector requirement. */
export type LabelSelectorRequirement = z.infer<typeof LabelSelectorRequirementSchema>;

/**
 * A label selector (metav1.LabelSelector). The results of matchLabels and matchExpressions
 * are ANDed; an empty selector matches everything.
 */
export const LabelSelectorSchema = z
  .object({
    matchLabels: z
      .record(z.string(), z.string().max(63).regex(LABEL_VALUE_PATTERN))
      .optional()
      .meta({ description: 'Labels that must all be present with these values.' }),
    matchExpressions: z
      .array(LabelSelectorRequirementSchema)
      .max(LIMITS.matchExpressions)
      .optional()
      .meta({ description: 'Requirements that must all hold.' }),
  })
  .meta({
    description: 'A label selector; matchLabels and matchExpressions are ANDed, an empty selector matches everything.',
    // Same as metav1.LabelSelector (+structType=atomic): server-side apply replaces it whole.
    'x-kubernetes-map-type': 'atomic',
  });
/** A label selector. */
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/** A list of label selectors; an object is selected when any of them matches. */
export function selectorList(description: string) {
  return z.array(LabelSelectorSchema).max(LIMITS.selectors).optional().meta({ description });
}

/** A list of object names in the same namespace, duplicates refused. */
export function nameList(what: string, description: string) {
  return withRules(z.array(ObjectNameSchema).max(LIMITS.references), [uniqueItemsRule(what)])
    .optional()
    .meta({ description });
}

/** Standard condition (metav1.Condition), as written by Herald's controllers. */
export const ConditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(QUALIFIED_NAME_PATTERN)
      .meta({ description: 'Type of condition in CamelCase, e.g. Ready.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'Status of the condition.' }),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({ description: 'The .metadata.generation the condition was set for.' }),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .meta({ description: 'Last time the condition changed status (RFC 3339).' }),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .meta({ description: 'Programmatic identifier of the reason for the last transition, in CamelCase.' }),
    message: z.string().max(32768).meta({ description: 'Human-readable details about the transition.' }),
  })
  .meta({ description: 'Condition of one aspect of the resource (metav1.Condition).' });
/** A standard condition. */
export type Condition = z.infer<typeof ConditionSchema>;

/** The conditions list, a list-map keyed by `type` (one condition per type). */
export function conditionList() {
  return z
    .array(ConditionSchema)
    .max(32)
    .optional()
    .meta({
      description: 'Current state of the resource, one condition per type.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
}

/**
 * A count that is exact at any size: a JSON integer up to 2^53-1, beyond that a decimal
 * string (an IPv6 /64 holds 2^64 addresses; a float would round). Rendered in the CRD as
 * `x-kubernetes-int-or-string`.
 */
export const CountSchema = z
  .union([z.int().min(0), z.string().max(40).regex(/^(0|[1-9][0-9]*)$/)])
  .meta({ 'x-kubernetes-int-or-string': true });
/** A count: a safe integer or, beyond 2^53-1, a decimal string. */
export type Count = z.infer<typeof CountSchema>;

/** Encodes a count for {@link CountSchema}: a number while exact, else a decimal string. */
export function toCount(n: bigint): Count {
  if (n < 0n) throw new RangeError(`count must not be negative: ${n}`);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString(10);
}

/** Decodes a {@link Count} to an exact bigint. */
export function fromCount(c: Count): bigint {
  return BigInt(c);
}

/**
 * Marks a status field as write-once: status objects describe one (Service, node) pair and are
 * replaced, never repointed (MetalLB's status kinds have the same rule).
 */
export function immutable<S extends z.ZodType>(schema: S, name: string): S {
  return withRules(schema, [
    {
      rule: 'self == oldSelf',
      message: `${name} is immutable: delete the object and create a new one`,
      transition: true,
    },
  ]);
}
