/**
 * The generated CRDs against the files in charts/herald/crds: shared by the CLI's `--check`
 * and the golden test.
 * @packageDocumentation
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CrdFile } from './crd.js';

/** charts/herald/crds of this repository (same depth from src/crdgen and dist/crdgen). */
export function defaultCrdDirectory(): string {
  return fileURLToPath(new URL('../../../charts/herald/crds/', import.meta.url));
}

/** A file that does not match the generator's output. */
export interface CrdDifference {
  readonly fileName: string;
  /** missing: not on disk; changed: content differs; stale: on disk, no longer generated. */
  readonly kind: 'missing' | 'changed' | 'stale';
}

/** Files in `dir` look generated when named like `herald.io_<plural>.yaml`. */
const GENERATED_NAME = /^herald\.io_[a-z0-9]+\.yaml$/;

/** Compares generated CRDs with the files in `dir`. Empty result means up to date. */
export function compareWithDirectory(files: readonly CrdFile[], dir: string): CrdDifference[] {
  const out: CrdDifference[] = [];
  for (const f of files) {
    const path = join(dir, f.fileName);
    if (!existsSync(path)) out.push({ fileName: f.fileName, kind: 'missing' });
    else if (readFileSync(path, 'utf8') !== f.yaml) out.push({ fileName: f.fileName, kind: 'changed' });
  }
  const expected = new Set(files.map((f) => f.fileName));
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (GENERATED_NAME.test(name) && !expected.has(name)) out.push({ fileName: name, kind: 'stale' });
    }
  }
  return out;
}
