/**
 * CLI: writes charts/herald/crds/herald.io_<plural>.yaml and the API reference page
 * docs/reference/crds.md from the zod schemas.
 *   node dist/crdgen/main.js            write the files (and delete stale CRDs)
 *   node dist/crdgen/main.js --check    exit 1 and name the files that differ
 *   --dir <path>                        another CRD output directory
 *   --docs <path>                       another path for the reference page
 */
import { dirname, join, resolve } from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateCrds } from './crd.js';
import { compareDocs, defaultDocsPath, generateCrdReference } from './docs.js';
import { compareWithDirectory, defaultCrdDirectory } from './files.js';

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      check: { type: 'boolean', default: false },
      dir: { type: 'string' },
      docs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: crdgen [--check] [--dir <charts/herald/crds>] [--docs <docs/reference/crds.md>]\n');
    return 0;
  }
  const dir = values.dir === undefined ? defaultCrdDirectory() : resolve(values.dir);
  const docsPath = values.docs === undefined ? defaultDocsPath() : resolve(values.docs);
  const files = generateCrds();
  const differences = compareWithDirectory(files, dir);
  const reference = generateCrdReference();
  const docsDifference = compareDocs(reference, docsPath);

  if (values.check) {
    if (differences.length === 0 && docsDifference === undefined) {
      process.stdout.write(`crdgen: ${files.length} CRDs in ${dir} and ${docsPath} are up to date\n`);
      return 0;
    }
    for (const d of differences) process.stderr.write(`crdgen: ${d.kind}: ${join(dir, d.fileName)}\n`);
    if (docsDifference !== undefined) process.stderr.write(`crdgen: ${docsDifference}: ${docsPath}\n`);
    process.stderr.write('crdgen: CRDs or their reference are out of date; run `npm run gen:crds` and commit the result\n');
    return 1;
  }

  mkdirSync(dir, { recursive: true });
  const changed = new Set(differences.map((d) => d.fileName));
  for (const f of files) {
    if (changed.has(f.fileName)) writeFileSync(join(dir, f.fileName), f.yaml);
  }
  for (const d of differences) {
    if (d.kind === 'stale') rmSync(join(dir, d.fileName));
    process.stdout.write(`crdgen: ${d.kind === 'stale' ? 'deleted' : 'wrote'} ${join(dir, d.fileName)}\n`);
  }
  process.stdout.write(`crdgen: ${files.length} CRDs in ${dir}, ${differences.length} changed\n`);
  if (docsDifference !== undefined) {
    mkdirSync(dirname(docsPath), { recursive: true });
    writeFileSync(docsPath, reference);
    process.stdout.write(`crdgen: wrote ${docsPath}\n`);
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`crdgen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
