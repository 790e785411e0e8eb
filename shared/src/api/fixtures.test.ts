import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generateCrds } from '../crdgen/crd.js';
import type { JSONSchemaProps } from '../crdgen/structural.js';
import { ALL_KINDS } from './index.js';

const FIXTURES = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

interface Fixture {
  readonly file: string;
  readonly object: { kind: string; metadata: { annotations?: Record<string, string> } };
}

function load(dir: 'good' | 'bad'): Fixture[] {
  const path = join(FIXTURES, dir);
  return readdirSync(path)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, object: parse(readFileSync(join(path, file), 'utf8')) as Fixture['object'] }));
}

function schemaFor(kind: string) {
  const def = ALL_KINDS.find((k) => k.kind === kind);
  if (!def) throw new Error(`no herald.io kind ${kind}`);
  return def.schema;
}

/** Every x-kubernetes-validations message in the generated CRDs. */
function ruleMessages(): string[] {
  const out: string[] = [];
  const walk = (s: JSONSchemaProps | undefined): void => {
    if (!s) return;
    for (const v of s['x-kubernetes-validations'] ?? []) out.push(v.message);
    walk(s.items);
    walk(s.additionalProperties);
    for (const p of Object.values(s.properties ?? {})) walk(p);
  };
  for (const f of generateCrds()) walk(f.crd.spec.versions[0]?.schema.openAPIV3Schema);
  return out;
}

const good = load('good');
const bad = load('bad');
const messages = ruleMessages();

describe('good fixtures', () => {
  it('cover each of the nine kinds once', () => {
    expect(good.map((f) => f.object.kind).sort()).toEqual(ALL_KINDS.map((k) => k.kind).sort());
  });

  it.each(good.map((f) => [f.file, f] as const))('%s parses with zod', (_file, f) => {
    const result = schemaFor(f.object.kind).safeParse(f.object);
    expect(result.error?.issues ?? []).toEqual([]);
  });
});

describe('bad fixtures', () => {
  it('number at least 20 and span the kinds', () => {
    expect(bad.length).toBeGreaterThanOrEqual(20);
    expect(new Set(bad.map((f) => f.object.kind)).size).toBeGreaterThanOrEqual(7);
  });

  it.each(bad.map((f) => [f.file, f] as const))('%s fails zod with exactly one issue', (_file, f) => {
    const expected = f.object.metadata.annotations?.['test.herald.io/expect'];
    expect(typeof expected).toBe('string');
    const result = schemaFor(f.object.kind).safeParse(f.object);
    expect(result.success).toBe(false);
    const issues = result.error?.issues ?? [];
    expect(issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toHaveLength(1);
    // When the apiserver's message is one of Herald's CEL messages, zod says the same.
    if (messages.some((m) => m.includes(expected ?? ''))) {
      expect(issues[0]?.message).toContain(expected);
    }
  });
});
