import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { contentKey, imagesCacheDir } from './cache.js';
import { ImagesError } from './errors.js';
import { run, type LogSink } from './exec.js';

/** What `debianRootfs` installs: Debian 12, the same release as the official bases' (bookworm). */
export const DEBIAN_SUITE = 'bookworm';
/**
 * Packages on top of minbase. One tree serves every stand-in: the builder takes all of it
 * (node:20-bookworm has a C toolchain and python3 for node-gyp), the runtime and nginx
 * images copy only the files of the packages they name from it.
 */
export const ROOTFS_PACKAGES = ['build-essential', 'python3', 'ca-certificates', 'nginx'] as const;
/** Bump when the recipe below changes in a way its inputs do not show. */
const RECIPE = 1;

export interface RootfsOptions {
  readonly cacheDir?: string;
  /** Debian mirror; default $HERALD_DEBIAN_MIRROR or deb.debian.org (what this machine's apt uses). */
  readonly mirror?: string;
  readonly log?: LogSink;
}

export interface Rootfs {
  readonly dir: string;
  readonly key: string;
  /** True when debootstrap ran now; false when the cached tree was reused. */
  readonly built: boolean;
  readonly seconds: number;
}

function dpkgArch(): string {
  return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
}

/**
 * A Debian bookworm tree (`debootstrap --variant=minbase` plus ROOTFS_PACKAGES), cached
 * under the images cache keyed by everything that decides its content, so only the first
 * run pays for debootstrap (about a minute and a half on 2 cores).
 */
export async function debianRootfs(opts: RootfsOptions = {}): Promise<Rootfs> {
  const started = Date.now();
  const cache = opts.cacheDir ?? imagesCacheDir();
  const mirror = opts.mirror ?? process.env['HERALD_DEBIAN_MIRROR'] ?? 'http://deb.debian.org/debian';
  const arch = dpkgArch();
  const key = contentKey('rootfs', RECIPE, DEBIAN_SUITE, 'minbase', arch, [...ROOTFS_PACKAGES], mirror);
  const dir = join(cache, `debian-${DEBIAN_SUITE}-${key}`);
  if (existsSync(join(dir, 'etc/os-release'))) return { dir, key, built: false, seconds: (Date.now() - started) / 1000 };

  if (process.getuid?.() !== 0) throw new ImagesError('Usage', 'debootstrap needs root (it creates device nodes and chroots)');
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  // Built beside its final place and renamed when complete: an interrupted run leaves no
  // tree that a later run would take for a finished one.
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const args = ['--variant=minbase', `--arch=${arch}`, `--include=${ROOTFS_PACKAGES.join(',')}`, `--cache-dir=${debs}`, DEBIAN_SUITE, tmp, mirror];
    await run('debootstrap', args, opts.log ? { log: opts.log } : {});
    // What an image build never needs: the package lists and downloaded archives (the
    // official images drop them too), man pages and docs.
    for (const p of ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/doc', 'usr/share/man', 'usr/share/info']) {
      rmSync(join(tmp, p), { recursive: true, force: true });
      mkdirSync(join(tmp, p), { recursive: true });
    }
    mkdirSync(join(tmp, 'var/lib/apt/lists/partial'), { recursive: true });
    mkdirSync(join(tmp, 'var/cache/apt/archives/partial'), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another run finished the same tree first: theirs is as good as ours.
      if (!existsSync(join(dir, 'etc/os-release'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir, key, built: true, seconds: (Date.now() - started) / 1000 };
}
