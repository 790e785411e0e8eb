/**
 * What the CRD generator needs to know about a kind, kept next to its zod schemas.
 * @packageDocumentation
 */
import { z } from 'zod';
import { API_VERSION, CATEGORY, GROUP, VERSION } from './group.js';
import { ObjectMetaSchema } from './meta.js';

/** A column of `kubectl get` output (apiextensions.k8s.io/v1 CustomResourceColumnDefinition). */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description?: string;
  /** 0 is shown by default; higher only with `-o wide`. */
  readonly priority?: number;
}

/** Identity and presentation of one herald.io kind, plus the zod schema of its objects. */
export interface KindDefinition<K extends string = string, P extends string = string, S extends z.ZodType = z.ZodType> {
  readonly group: typeof GROUP;
  readonly version: typeof VERSION;
  readonly apiVersion: typeof API_VERSION;
  readonly kind: K;
  readonly listKind: `${K}List`;
  /** Resource name in URLs and in the CRD name `<plural>.herald.io`. */
  readonly plural: P;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly scope: 'Namespaced';
  /** One paragraph for `kubectl explain`. */
  readonly description: string;
  /** zod schema of a whole object (apiVersion, kind, metadata, spec, status). */
  readonly schema: S;
  readonly printerColumns: readonly PrinterColumn[];
}

/** Input for {@link defineKind}. */
export interface KindOptions<K extends string, P extends string, S extends z.ZodType> {
  readonly kind: K;
  readonly plural: P;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly schema: S;
  readonly printerColumns: readonly PrinterColumn[];
}

/** The `Age` column kubectl shows by default; custom columns replace it unless listed. */
export const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** Builds a {@link KindDefinition} for a namespaced herald.io/v1beta1 kind. */
export function defineKind<K extends string, P extends string, S extends z.ZodType>(
  options: KindOptions<K, P, S>,
): KindDefinition<K, P, S> {
  return {
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    kind: options.kind,
    listKind: `${options.kind}List`,
    plural: options.plural,
    singular: options.kind.toLowerCase(),
    shortNames: options.shortNames,
    categories: [CATEGORY],
    scope: 'Namespaced',
    description: options.description,
    schema: options.schema,
    printerColumns: [...options.printerColumns, AGE_COLUMN],
  };
}

/**
 * The object envelope of a kind: `apiVersion` and `kind` (filled in when absent, refused
 * when different), loose metadata, then spec and status.
 */
export function objectSchema<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K,
  spec: Spec,
  status: Status,
) {
  return z.object({
    apiVersion: z.literal(API_VERSION).default(API_VERSION),
    kind: z.literal(kind).default(kind),
    metadata: ObjectMetaSchema,
    spec,
    status: status.optional(),
  });
}
