/**
 * @herald/shared: Herald's API (herald.io/v1beta1 zod schemas and types) and the CRD generator.
 * @packageDocumentation
 */
export * from './api/index.js';
export * from './crdgen/index.js';
