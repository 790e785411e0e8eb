#!/usr/bin/env node
// `npm run package`: the production tree of each binary, the one the images ship.
//
//   node .ci/package.mjs [--out DIR] [--skip-build] [--allow-drift]
//
// For each binary (controller, speaker) it writes DIR/<binary>/ (default DIR: dist-package/)
// holding the binary's package.json and dist/, and a node_modules/ with its production
// dependencies only: the workspaces it needs at runtime as real directories (packed with
// `npm pack`, so each workspace's `files` list decides what ships; the native addon's .node
// is in @herald/native's dist/), and third-party packages at the versions package-lock.json
// pins (the root lock file seeds the install, and any version it does not list fails the
// run: the tree ships what the tests ran against). Run it as `node DIR/<binary>/dist/main.js`.
//
// --skip-build packages whatever dist/ holds now (the integration test does so: `npm test`
// has built everything just before).
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BINARIES = [
  { pkg: '@herald/controller', dir: 'controller' },
  { pkg: '@herald/speaker', dir: 'speaker' },
];
// Never in a production tree, whatever a dependency declares (the test asserts the same).
const NEVER = ['jest', 'ts-jest', 'typescript', 'eslint', 'fast-check', 'turbo', '@herald/e2e-harness', '@herald/lab', '@herald/bench'];

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(1);
}
const say = (line) => process.stderr.write(`package: ${line}\n`);
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

// Nested npm runs must not inherit the settings `npm run package` exports for its own
// project (local prefix, workspace selection): the staging folder is a project of its own.
function npmEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^npm_(package|lifecycle)_/.test(k) || /^npm_config_(local_prefix|prefix|workspaces?|include_workspace_root)$/i.test(k)) delete env[k];
  }
  return env;
}

function run(cmd, args, cwd, opts = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: npmEnv(), maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout ?? '';
}

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'dist-package') },
    'skip-build': { type: 'boolean', default: false },
    'allow-drift': { type: 'boolean', default: false },
  },
});
const OUT = resolve(opts.out);

// Workspaces by package name.
const workspaces = new Map();
for (const dir of readJson(join(ROOT, 'package.json')).workspaces) {
  const manifest = join(ROOT, dir, 'package.json');
  if (existsSync(manifest)) workspaces.set(readJson(manifest).name, { dir: join(ROOT, dir), manifest: readJson(manifest) });
}

/** The workspaces `pkg` needs at runtime, itself included (runtime `dependencies` only). */
function runtimeWorkspaces(pkg) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    const ws = workspaces.get(name);
    if (!ws) fail(`${name} is not a workspace`);
    seen.add(name);
    for (const dep of Object.keys(ws.manifest.dependencies ?? {})) if (workspaces.has(dep)) visit(dep);
  };
  visit(pkg);
  return [...seen];
}

if (!opts['skip-build']) {
  say('building (turbo, cached)');
  const filters = BINARIES.map((b) => `--filter=${b.pkg}...`);
  run('npx', ['--no-install', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], ROOT, {
    env: { ...npmEnv(), TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
  });
}

const needed = [...new Set(BINARIES.flatMap((b) => runtimeWorkspaces(b.pkg)))];
for (const name of needed) {
  if (!existsSync(join(workspaces.get(name).dir, 'dist'))) fail(`${name} has no dist/: build first (npm run build), or drop --skip-build`);
}

// Pack every needed workspace; its `files` list decides what ships.
const tmp = mkdtempSync(join(tmpdir(), 'herald-package-'));
// fail() exits at once: remove the tarballs on every way out.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
{
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp, ...needed.flatMap((n) => ['-w', n])], ROOT));
  const tarballs = new Map();
  for (const p of packed) {
    const ws = workspaces.get(p.name);
    const files = new Set(p.files.map((f) => f.path));
    const entry = ws.manifest.exports?.['.']?.default;
    if (typeof entry === 'string' && !files.has(entry.replace(/^\.\//, ''))) fail(`${p.name}: its entry point ${entry} is not in the packed files (check "files" in its package.json)`);
    // An addon's compiled .node must ship with it (speaker/native builds it into dist/).
    if (existsSync(join(ws.dir, 'addon/binding.gyp')) && ![...files].some((f) => f.endsWith('.node'))) fail(`${p.name}: no compiled .node file in the pack (was the addon built?)`);
    tarballs.set(p.name, join(tmp, p.filename));
  }

  const lock = readJson(join(ROOT, 'package-lock.json'));
  const locked = new Set();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at >= 0 && !entry.link) locked.add(`${path.slice(at + 'node_modules/'.length)}@${entry.version}`);
  }

  rmSync(OUT, { recursive: true, force: true });
  const summary = [];
  for (const bin of BINARIES) {
    const dest = join(OUT, bin.dir);
    mkdirSync(dest, { recursive: true });
    run('tar', ['-xzf', tarballs.get(bin.pkg), '--strip-components=1', '-C', dest], ROOT);
    const manifest = readJson(join(dest, 'package.json'));
    delete manifest.devDependencies;
    delete manifest.scripts;

    // Staging manifest: workspaces (the binary's transitive ones too, hoisted to the top)
    // come from their tarballs; everything else from the registry at the locked version.
    const wsDeps = runtimeWorkspaces(bin.pkg).filter((n) => n !== bin.pkg);
    const staging = { ...manifest, dependencies: { ...manifest.dependencies } };
    for (const n of wsDeps) staging.dependencies[n] = `file:${tarballs.get(n)}`;
    writeFileSync(join(dest, 'package.json'), `${JSON.stringify(staging, null, 2)}\n`);
    // Seed the install with the monorepo's lock (third-party, non-dev entries): npm keeps
    // the locked versions wherever they satisfy, and prunes the rest.
    const seeded = { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages: { '': { name: manifest.name, version: manifest.version, dependencies: staging.dependencies } } };
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path.startsWith('node_modules/') && !entry.link && !entry.dev && !workspaces.has(path.slice('node_modules/'.length))) seeded.packages[path] = entry;
    }
    writeFileSync(join(dest, 'package-lock.json'), `${JSON.stringify(seeded, null, 2)}\n`);
    say(`installing the production dependencies of ${bin.pkg}`);
    run('npm', ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--no-save'], dest);

    // The shipped manifest names its dependencies as the monorepo does; npm's lock files
    // would only point at the temporary tarballs.
    writeFileSync(join(dest, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(join(dest, 'package-lock.json'), { force: true });
    rmSync(join(dest, 'node_modules/.package-lock.json'), { force: true });

    const installed = listPackages(join(dest, 'node_modules'));
    const drift = installed.filter((p) => !workspaces.has(p.name) && !locked.has(`${p.name}@${p.version}`));
    if (drift.length > 0) {
      const msg = `${bin.pkg}: not the versions package-lock.json pins: ${drift.map((p) => `${p.name}@${p.version}`).join(', ')}`;
      if (opts['allow-drift']) say(`warning: ${msg}`);
      else fail(`${msg} (run \`npm install\` at the root to refresh the lock, or pass --allow-drift)`);
    }
    const requiredByProd = new Set([manifest, ...installed].flatMap((p) => [...Object.keys(p.dependencies ?? {}), ...Object.keys(p.optionalDependencies ?? {})]));
    const devOnly = new Set([...NEVER, ...Object.keys(readJson(join(ROOT, 'package.json')).devDependencies ?? {}), ...runtimeWorkspaces(bin.pkg).flatMap((n) => Object.keys(workspaces.get(n).manifest.devDependencies ?? {}))]);
    const leaked = installed.filter((p) => devOnly.has(p.name) && (NEVER.includes(p.name) || !requiredByProd.has(p.name)));
    if (leaked.length > 0) fail(`${bin.pkg}: development packages in the production tree: ${leaked.map((p) => p.name).join(', ')}`);

    // Declarations and source maps are never loaded at run time (no --enable-source-maps:
    // the maps point at sources the tree does not hold); they are 45% of the tree.
    const pruned = prune(dest);
    const { files, bytes } = treeSize(dest);
    summary.push({ dir: dest, files, bytes, packages: installed.length, pruned });
  }

  let total = 0;
  for (const s of summary) {
    total += s.bytes;
    process.stdout.write(`${relative(process.cwd(), s.dir) || '.'}: ${s.packages} packages, ${s.files} files, ${mib(s.bytes)} (${mib(s.pruned)} of declarations and source maps left out)\n`);
  }
  process.stdout.write(`${relative(process.cwd(), OUT) || '.'}: ${mib(total)} in all (native addon built for ${process.platform}-${process.arch})\n`);
}

/** Every package under a node_modules folder, nested ones too. */
function listPackages(nodeModules) {
  const out = [];
  const visit = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir)) {
      if (e.startsWith('.')) continue;
      const p = join(dir, e);
      if (e.startsWith('@')) {
        visit(p);
        continue;
      }
      const manifest = join(p, 'package.json');
      if (!existsSync(manifest)) continue;
      const m = readJson(manifest);
      out.push({ name: m.name, version: m.version, dir: p, dependencies: m.dependencies ?? {}, optionalDependencies: m.optionalDependencies ?? {} });
      visit(join(p, 'node_modules'));
    }
  };
  visit(nodeModules);
  return out;
}

/** Deletes declaration files and source maps under `dir`; returns the bytes freed. */
function prune(dir) {
  let bytes = 0;
  const visit = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isFile() && /(\.d\.[cm]?ts|\.map)$/.test(e)) {
        bytes += st.size;
        rmSync(p);
      }
    }
  };
  visit(dir);
  return bytes;
}

function treeSize(dir) {
  let files = 0;
  let bytes = 0;
  const visit = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else {
        files += 1;
        bytes += st.size;
      }
    }
  };
  visit(dir);
  return { files, bytes };
}

function mib(bytes) {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
