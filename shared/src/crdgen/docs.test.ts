import { describe, expect, it } from '@jest/globals';
import { ALL_KINDS } from '../api/index.js';
import { generateCrds } from './crd.js';
import { compareDocs, defaultDocsPath, DOCS_HEADER, generateCrdReference } from './docs.js';
import type { JSONSchemaProps } from './structural.js';

const page = generateCrdReference();

/** Every CEL rule message of a schema, depth first. */
function* messages(schema: JSONSchemaProps): Generator<string> {
  for (const v of schema['x-kubernetes-validations'] ?? []) yield v.message;
  if (schema.items) yield* messages(schema.items);
  if (schema.additionalProperties) yield* messages(schema.additionalProperties);
  for (const child of Object.values(schema.properties ?? {})) yield* messages(child);
}

/** The page's section of one kind: from its heading to the next kind's. */
function section(kind: string): string {
  const start = page.indexOf(`\n## ${kind}\n`);
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end === -1 ? undefined : end);
}

describe('the API reference page', () => {
  it('matches docs/reference/crds.md byte for byte', () => {
    // On failure: run `npm run gen:crds` and commit docs/reference/crds.md.
    expect({ hint: 'run `npm run gen:crds` and commit docs/reference/crds.md', difference: compareDocs(page, defaultDocsPath()) }).toEqual({
      hint: 'run `npm run gen:crds` and commit docs/reference/crds.md',
      difference: undefined,
    });
  });

  it('is deterministic and marked as generated', () => {
    expect(generateCrdReference()).toBe(page);
    expect(page.startsWith(DOCS_HEADER)).toBe(true);
    expect(page.endsWith('\n')).toBe(true);
  });

  it('has a section for every kind, with every top-level spec and status field', () => {
    for (const f of generateCrds()) {
      const kind = f.crd.spec.names.kind;
      const text = section(kind);
      expect({ kind, found: text.length > 0 }).toEqual({ kind, found: true });
      const schema = f.crd.spec.versions[0]?.schema.openAPIV3Schema;
      for (const part of ['spec', 'status']) {
        for (const field of Object.keys(schema?.properties?.[part]?.properties ?? {})) {
          expect({ kind, field: `${part}.${field}`, found: text.includes(`| \`${field}\` |`) }).toEqual({ kind, field: `${part}.${field}`, found: true });
        }
      }
    }
    expect(ALL_KINDS.length).toBe(generateCrds().length);
  });

  it('states every CEL rule message the CRDs carry', () => {
    for (const f of generateCrds()) {
      const schema = f.crd.spec.versions[0]?.schema.openAPIV3Schema;
      if (!schema) throw new Error(`${f.fileName} has no schema`);
      for (const message of messages(schema)) {
        // Immutability rules show as a constraint, not as a message.
        if (message.endsWith('delete the object and create a new one') || message.startsWith('enableGracefulRestart cannot be changed')) continue;
        expect({ file: f.fileName, message, found: page.includes(message) }).toEqual({ file: f.fileName, message, found: true });
      }
    }
  });

  it('documents defaults and bounds as the CRDs state them', () => {
    expect(section('BGPAdvertisement')).toContain('| `aggregationLength` | integer | `32` | value 0 to 32 |');
    expect(section('IPAddressPool')).toContain('| `addresses` | []string |  | **required**; 1 to 64 items;');
    expect(section('BGPPeer')).toContain('| `enableGracefulRestart` | boolean |  | immutable |');
  });

  it('documents label selectors and conditions once, and links to them', () => {
    expect(page.match(/^### LabelSelector$/gm)).toHaveLength(1);
    expect(page.match(/^### Condition$/gm)).toHaveLength(1);
    expect(page.match(/`matchExpressions\[\]\.operator`/g)).toHaveLength(1);
    expect(section('L2Advertisement')).toContain('[][LabelSelector](#labelselector)');
    expect(section('IPAddressPool')).toContain('[][Condition](#condition)');
  });
});
