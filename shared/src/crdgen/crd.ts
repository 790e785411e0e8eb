/**
 * Builds the apiextensions.k8s.io/v1 CustomResourceDefinitions of the herald.io kinds from
 * their zod schemas, and renders them as deterministic YAML (one file per CRD).
 * @packageDocumentation
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { ALL_KINDS } from '../api/index.js';
import type { KindDefinition, PrinterColumn } from '../api/index.js';
import { toStructuralSchema } from './structural.js';
import type { JSONSchemaProps } from './structural.js';

/** A CustomResourceDefinition, as much of apiextensions.k8s.io/v1 as Herald uses. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

/** One generated file: its name in charts/herald/crds, the document and its YAML text. */
export interface CrdFile {
  readonly fileName: string;
  readonly crd: CustomResourceDefinition;
  readonly yaml: string;
}

// Wording of the Kubernetes API conventions, as every CRD carries it.
const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** Header of every generated file. */
export const GENERATED_HEADER =
  '# Generated from the zod schemas in shared/src/api by shared/src/crdgen. DO NOT EDIT.\n# Regenerate with: npm run gen:crds\n';

function specAndStatus(def: KindDefinition): { spec: z.ZodType; status: z.ZodType } {
  if (!(def.schema instanceof z.ZodObject)) throw new Error(`crdgen: ${def.kind} schema is not a z.object`);
  const shape = def.schema.shape as Record<string, z.ZodType | undefined>;
  const spec = shape['spec'];
  const status = shape['status'];
  if (!spec || !status) throw new Error(`crdgen: ${def.kind} schema needs spec and status`);
  return { spec, status };
}

/** The openAPIV3Schema of a kind: envelope fields as Kubernetes expects them, then spec and status. */
export function openAPIV3Schema(def: KindDefinition): JSONSchemaProps {
  const body = toStructuralSchema(z.object(specAndStatus(def)));
  return {
    description: def.description,
    type: 'object',
    properties: {
      apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
      kind: { description: KIND_DESCRIPTION, type: 'string' },
      // The apiserver validates metadata itself; a CRD may not constrain more than name.
      metadata: { type: 'object' },
      ...body.properties,
    },
    ...(body.required ? { required: body.required } : {}),
  };
}

/** The CustomResourceDefinition of one kind. */
export function buildCrd(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}` },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [...def.categories],
      },
      scope: def.scope,
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: openAPIV3Schema(def) },
        },
      ],
    },
  };
}

/** Renders a CRD as YAML: keys sorted, no line folding, so output is byte-stable. */
export function renderYaml(crd: CustomResourceDefinition): string {
  return GENERATED_HEADER + stringify(crd, { sortMapEntries: true, lineWidth: 0, minContentWidth: 0 });
}

/** File name of a CRD in charts/herald/crds, the controller-gen convention `<group>_<plural>.yaml`. */
export function crdFileName(def: KindDefinition): string {
  return `${def.group}_${def.plural}.yaml`;
}

/**
 * Every herald.io CRD, in memory, sorted by file name. This is exactly what `npm run gen:crds`
 * writes to charts/herald/crds.
 */
export function generateCrds(kinds: readonly KindDefinition[] = ALL_KINDS): CrdFile[] {
  return kinds
    .map((def) => {
      const crd = buildCrd(def);
      return { fileName: crdFileName(def), crd, yaml: renderYaml(crd) };
    })
    .sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
}
