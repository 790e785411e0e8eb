/**
 * The CRD generator: herald.io zod schemas in, apiextensions.k8s.io/v1 CRDs and the API
 * reference page out.
 * @packageDocumentation
 */
export { buildCrd, crdFileName, generateCrds, GENERATED_HEADER, openAPIV3Schema, renderYaml } from './crd.js';
export type { CrdFile, CustomResourceDefinition } from './crd.js';
export { compareDocs, defaultDocsPath, DOCS_HEADER, generateCrdReference } from './docs.js';
export { compareWithDirectory, defaultCrdDirectory } from './files.js';
export type { CrdDifference } from './files.js';
export { toStructuralSchema } from './structural.js';
export type { JSONSchemaProps } from './structural.js';
