import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ALL_KINDS } from '../api/index.js';
import { generateCrds } from './crd.js';
import { compareWithDirectory, defaultCrdDirectory } from './files.js';
import { toStructuralSchema } from './structural.js';
import type { JSONSchemaProps } from './structural.js';

const files = generateCrds();

/** Every node of a schema with its path, depth first. */
function* nodes(schema: JSONSchemaProps, path: string): Generator<[string, JSONSchemaProps]> {
  yield [path, schema];
  if (schema.items) yield* nodes(schema.items, `${path}[]`);
  if (schema.additionalProperties) yield* nodes(schema.additionalProperties, `${path}{}`);
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* nodes(child, `${path}.${name}`);
}

const schemas = files.map((f) => {
  const schema = f.crd.spec.versions[0]?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`${f.fileName} has no schema`);
  return [f.fileName, schema] as const;
});

describe('generated CRDs', () => {
  it('match charts/herald/crds byte for byte', () => {
    const differences = compareWithDirectory(files, defaultCrdDirectory()).map((d) => `${d.kind}: ${d.fileName}`);
    // On failure: run `npm run gen:crds` and commit charts/herald/crds.
    expect({ hint: 'run `npm run gen:crds` and commit charts/herald/crds', differences }).toEqual({
      hint: 'run `npm run gen:crds` and commit charts/herald/crds',
      differences: [],
    });
  });

  it('are deterministic', () => {
    expect(generateCrds().map((f) => f.yaml)).toEqual(files.map((f) => f.yaml));
  });

  it('define every herald.io kind once, in herald.io_<plural>.yaml', () => {
    expect(files.map((f) => f.fileName)).toEqual(ALL_KINDS.map((k) => `herald.io_${k.plural}.yaml`).sort());
    for (const f of files) {
      expect(f.crd.metadata.name).toBe(`${f.crd.spec.names.plural}.herald.io`);
      expect(f.crd.spec.scope).toBe('Namespaced');
      expect(f.crd.spec.names.categories).toContain('herald');
    }
  });

  it('serve v1beta1 with a status subresource and printer columns', () => {
    for (const f of files) {
      const [version, ...others] = f.crd.spec.versions;
      expect(others).toEqual([]);
      expect(version?.name).toBe('v1beta1');
      expect(version?.served && version.storage).toBe(true);
      expect(version?.subresources).toEqual({ status: {} });
      expect(version?.additionalPrinterColumns.map((c) => c.name)).toContain('Age');
    }
  });

  it("use MetalLB's printer columns for pools and peers", () => {
    const columns = (plural: string) =>
      files.find((f) => f.crd.spec.names.plural === plural)?.crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name);
    expect(columns('ipaddresspools')).toEqual(expect.arrayContaining(['Auto Assign', 'Avoid Buggy IPs', 'Addresses']));
    expect(columns('bgppeers')).toEqual(expect.arrayContaining(['Address', 'ASN', 'BFD Profile', 'Multi Hops']));
  });
});

describe('structural schemas', () => {
  it.each(schemas)('%s types every node', (_file, schema) => {
    for (const [path, node] of nodes(schema, '')) {
      const typed = node.type !== undefined || node['x-kubernetes-int-or-string'] === true;
      expect({ path, typed }).toEqual({ path, typed: true });
    }
  });

  it.each(schemas)('%s uses no keyword a structural schema forbids', (_file, schema) => {
    const forbidden = ['$ref', '$defs', 'definitions', 'allOf', 'oneOf', 'not', 'const', 'propertyNames', 'nullable'];
    for (const [path, node] of nodes(schema, '')) {
      const record = node as Record<string, unknown>;
      expect({ path, keys: Object.keys(record).filter((k) => forbidden.includes(k)) }).toEqual({ path, keys: [] });
      expect({ path, additionalProperties: record['additionalProperties'] === false }).toEqual({
        path,
        additionalProperties: false,
      });
      if (node.properties) expect({ path, both: node.additionalProperties !== undefined }).toEqual({ path, both: false });
      if (node.anyOf) {
        // The only anyOf allowed: int-or-string with untyped siblings.
        expect({ path, anyOf: node.anyOf, intOrString: node['x-kubernetes-int-or-string'], type: node.type }).toEqual({
          path,
          anyOf: [{ type: 'integer' }, { type: 'string' }],
          intOrString: true,
          type: undefined,
        });
      }
    }
  });

  it.each(schemas)('%s leaves metadata to the apiserver', (_file, schema) => {
    expect(schema.properties?.['metadata']).toEqual({ type: 'object' });
  });

  it.each(schemas)('%s bounds every list and string below spec and status (CEL cost estimate)', (_file, schema) => {
    for (const part of ['spec', 'status']) {
      const root = schema.properties?.[part];
      if (!root) continue;
      for (const [path, node] of nodes(root, part)) {
        if (node.type === 'array') expect({ path, maxItems: typeof node.maxItems }).toEqual({ path, maxItems: 'number' });
        if (node.type === 'string' && node.enum === undefined && node.format === undefined) {
          expect({ path, maxLength: typeof node.maxLength }).toEqual({ path, maxLength: 'number' });
        }
      }
    }
  });

  it.each(schemas)('%s gives every CEL rule a message; only transition rules use oldSelf', (_file, schema) => {
    for (const [path, node] of nodes(schema, '')) {
      for (const v of node['x-kubernetes-validations'] ?? []) {
        expect({ path, rule: v.rule.length > 0, message: v.message.length > 10 }).toEqual({
          path,
          rule: true,
          message: true,
        });
        if (v.rule.includes('oldSelf')) expect(v.rule).toBe('self == oldSelf');
      }
    }
  });

  it('marks address counts int-or-string so IPv6 counts stay exact', () => {
    const pool = schemas.find(([file]) => file === 'herald.io_ipaddresspools.yaml')?.[1];
    const available = pool?.properties?.['status']?.properties?.['availableIPv6'];
    expect(available?.['x-kubernetes-int-or-string']).toBe(true);
    expect(pool?.properties?.['status']?.properties?.['conditions']).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
  });

  it('structures label selectors as matchLabels and matchExpressions', () => {
    const peer = schemas.find(([file]) => file === 'herald.io_bgppeers.yaml')?.[1];
    const selector = peer?.properties?.['spec']?.properties?.['nodeSelectors']?.items;
    expect(Object.keys(selector?.properties ?? {})).toEqual(['matchExpressions', 'matchLabels']);
    expect(selector?.properties?.['matchLabels']?.additionalProperties?.type).toBe('string');
  });
});

describe('toStructuralSchema', () => {
  it('refuses unions other than int-or-string', () => {
    expect(() => toStructuralSchema(z.object({ a: z.union([z.string(), z.boolean()]) }))).toThrow(/int-or-string.* at \.a$/);
    expect(() => toStructuralSchema(z.object({ b: z.union([z.string(), z.object({})]) }))).toThrow(/anyOf.* at \.b$/);
  });

  it('refuses free-form objects', () => {
    expect(() => toStructuralSchema(z.object({ a: z.looseObject({}) }))).toThrow(/free-form/);
  });

  it('refuses types JSON cannot carry', () => {
    expect(() => toStructuralSchema(z.object({ a: z.date() }))).toThrow();
  });

  it('drops the ±2^53 bounds zod puts on plain integers', () => {
    expect(toStructuralSchema(z.int())).toEqual({ type: 'integer', format: 'int64' });
    expect(toStructuralSchema(z.int().min(1).max(10))).toEqual({
      type: 'integer',
      format: 'int32',
      minimum: 1,
      maximum: 10,
    });
  });
});
