// Builds the N-API addon with node-gyp and copies it into dist/, next to the compiled
// wrapper, so that dist/ alone (turbo's cached output) is a working package.
// binding.gyp lives in addon/, not in the package root: npm would otherwise give the
// package an implicit `node-gyp rebuild` install script, and Herald builds through
// turbo with no install scripts.
// Headers come from the running Node's own installation (<prefix>/include/node), as
// Debian's nodejs package and the official tarballs both ship them: no download.
// npm's bundled node-gyp is used when run through `npm run` (npm_config_node_gyp).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`build-addon: ${message}\n`);
  process.exit(1);
}

if (process.platform !== 'linux') fail(`the addon is Linux-only (AF_PACKET), not ${process.platform}`);

function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const require = createRequire(import.meta.url);
  for (const base of [pkgDir, join(dirname(process.execPath), '../lib/node_modules/npm')]) {
    try {
      return require.resolve('node-gyp/bin/node-gyp.js', { paths: [base] });
    } catch {
      // try the next place
    }
  }
  return fail('node-gyp not found: run through `npm run build`, or install node-gyp');
}

function findNodeDir() {
  const fromEnv = process.env.npm_config_nodedir;
  if (fromEnv) return fromEnv;
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) return prefix;
  return fail(`no Node headers under ${prefix}/include/node; set npm_config_nodedir`);
}

const args = [findNodeGyp(), 'rebuild', '--loglevel=warn', `--nodedir=${findNodeDir()}`];
const addonDir = join(pkgDir, 'addon');
const run = spawnSync(process.execPath, args, { cwd: addonDir, stdio: 'inherit' });
if (run.status !== 0) fail(`node-gyp exited with ${run.status ?? run.signal}`);

mkdirSync(join(pkgDir, 'dist'), { recursive: true });
copyFileSync(join(addonDir, 'build/Release/herald_native.node'), join(pkgDir, 'dist/herald_native.node'));
