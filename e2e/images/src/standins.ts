import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { contentKey, imagesCacheDir } from './cache.js';
import { imageExists } from './buildah.js';
import { ImagesError } from './errors.js';
import { run, type LogSink } from './exec.js';
import { withLock } from './lock.js';
import { DISTROLESS_ACCOUNTS, copyPackages, initRoot, writeAccounts } from './layout.js';
import { debianRootfs, type RootfsOptions } from './rootfs.js';
import { buildFromScratch, deriveImage } from './scratch.js';

/**
 * Local stand-ins for the official base images the Dockerfile names, built from Debian
 * packages and this machine's Node 20 (no registry is reachable here):
 * - builder: like node:20-bookworm: a Debian 12 tree with a C toolchain and python3, and
 *   Node with npm under /usr/local (so node-gyp finds headers in /usr/local/include/node).
 * - runtime: like gcr.io/distroless/nodejs20-debian12: Node at /nodejs/bin/node, the C
 *   and C++ runtime libraries it links, CA certificates, time zones, the distroless
 *   accounts; no shell, no package manager. The `nonroot` variant runs as 65532.
 */

export const STANDIN_REPOS = {
  builder: 'localhost/herald/standin-node',
  runtime: 'localhost/herald/standin-distroless-nodejs20',
} as const;
/** Bump when the recipes below change in a way their inputs do not show. */
const RECIPE = 1;

/** Packages whose files make the runtime stand-in (as distroless cc + nodejs: libc, libgcc, libstdc++, tzdata; not netbase, which minbase lacks and Node never reads). */
export const RUNTIME_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6', 'tzdata'] as const;

export interface Standins {
  /** For `--build-arg BUILDER_BASE=`. */
  readonly builder: string;
  /** For `--build-arg SPEAKER_BASE=` (root, as gcr.io/distroless/nodejs20-debian12). */
  readonly runtime: string;
  /** For `--build-arg CONTROLLER_BASE=` (65532, as ...nodejs20-debian12:nonroot). */
  readonly runtimeNonroot: string;
  readonly key: string;
  /** The Debian tree everything was taken from (test images use it too). */
  readonly rootfs: string;
  /** Seconds: debootstrap (0 when cached), and the images (0 when already in the store). */
  readonly seconds: { rootfs: number; images: number };
  readonly rootfsBuilt: boolean;
  readonly imagesBuilt: boolean;
}

/** This machine's Node installation: the binary, its npm and headers, and what identifies it. */
export function hostNode(execPath: string = process.execPath): { bin: string; prefix: string; modules: string; include: string; identity: unknown } {
  const bin = realpathSync(execPath);
  const prefix = dirname(dirname(bin));
  const modules = join(prefix, 'lib/node_modules');
  const include = join(prefix, 'include/node');
  const npm = JSON.parse(readFileSync(join(modules, 'npm/package.json'), 'utf8')) as { version: string };
  const st = statSync(bin);
  return { bin, prefix, modules, include, identity: { version: process.version, size: st.size, mtime: st.mtimeMs, npm: npm.version } };
}

export async function buildStandins(opts: RootfsOptions & { log?: LogSink } = {}): Promise<Standins> {
  return withLock(join(opts.cacheDir ?? imagesCacheDir(), 'standins.lock'), () => buildStandinsLocked(opts));
}

async function buildStandinsLocked(opts: RootfsOptions & { log?: LogSink }): Promise<Standins> {
  const node = hostNode();
  if (!process.version.startsWith('v20.')) throw new ImagesError('Usage', `the stand-ins mirror Node 20 images; this machine runs ${process.version}`);
  const rootfs = await debianRootfs(opts);
  const key = contentKey('standins', RECIPE, rootfs.key, node.identity, [...RUNTIME_PACKAGES]);
  const builder = `${STANDIN_REPOS.builder}:20-bookworm-${key}`;
  const runtime = `${STANDIN_REPOS.runtime}:${key}`;
  const runtimeNonroot = `${STANDIN_REPOS.runtime}:nonroot-${key}`;
  const started = Date.now();
  let imagesBuilt = false;

  if (!(await imageExists(builder))) {
    imagesBuilt = true;
    await buildFromScratch([builder], async (root) => {
      // cp keeps device nodes, owners and hard links that a Node copy would not.
      await run('cp', ['-a', `${rootfs.dir}/.`, `${root}/`]);
      // As the official image: Node under /usr/local, npm and npx as links to npm's scripts.
      copyFileSync(node.bin, join(root, 'usr/local/bin/node'));
      chmodSync(join(root, 'usr/local/bin/node'), 0o755);
      mkdirSync(join(root, 'usr/local/lib'), { recursive: true });
      mkdirSync(join(root, 'usr/local/include'), { recursive: true });
      // The whole node_modules: the npm that dpkg lists for Debian's nodejs is stale.
      await run('cp', ['-a', node.modules, join(root, 'usr/local/lib/')]);
      await run('cp', ['-a', node.include, join(root, 'usr/local/include/')]);
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
    }, {
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', NODE_VERSION: process.version.slice(1) },
      cmd: ['node'],
      labels: { 'io.herald.standin-for': 'node:20-bookworm' },
    });
  }

  const runtimeFill = (root: string): void => {
    initRoot(root);
    copyPackages(rootfs.dir, root, RUNTIME_PACKAGES);
    // The bundle update-ca-certificates generated (not in any package's file list).
    mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
    copyFileSync(join(rootfs.dir, 'etc/ssl/certs/ca-certificates.crt'), join(root, 'etc/ssl/certs/ca-certificates.crt'));
    copyFileSync(join(rootfs.dir, 'usr/lib/os-release'), join(root, 'usr/lib/os-release'));
    symlinkSync('../usr/lib/os-release', join(root, 'etc/os-release'));
    writeAccounts(root, DISTROLESS_ACCOUNTS);
    mkdirSync(join(root, 'home/nonroot'), { recursive: true });
    chownSync(join(root, 'home/nonroot'), 65532, 65532);
    chmodSync(join(root, 'home/nonroot'), 0o700);
    // distroless puts the official tarball's node at /nodejs/bin/node (and nothing else of it).
    mkdirSync(join(root, 'nodejs/bin'), { recursive: true });
    copyFileSync(node.bin, join(root, 'nodejs/bin/node'));
    chmodSync(join(root, 'nodejs/bin/node'), 0o755);
  };
  const runtimeConfig = {
    entrypoint: ['/nodejs/bin/node'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' },
    labels: { 'io.herald.standin-for': 'gcr.io/distroless/nodejs20-debian12' },
  };
  if (!(await imageExists(runtime))) {
    imagesBuilt = true;
    await buildFromScratch([runtime], runtimeFill, { ...runtimeConfig, user: '0', workingDir: '/' });
  }
  if (!(await imageExists(runtimeNonroot))) {
    imagesBuilt = true;
    // The same layer as `runtime`, only another default user, as distroless's :nonroot tags.
    await deriveImage(runtime, runtimeNonroot, { user: '65532', workingDir: '/home/nonroot' });
  }
  return {
    builder,
    runtime,
    runtimeNonroot,
    key,
    rootfs: rootfs.dir,
    seconds: { rootfs: rootfs.seconds, images: (Date.now() - started) / 1000 },
    rootfsBuilt: rootfs.built,
    imagesBuilt,
  };
}
