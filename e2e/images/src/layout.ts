import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ImagesError } from './errors.js';

/**
 * Building image trees from Debian packages the way distroless does: an image gets the
 * files of the packages it names (as dpkg installed them in a debootstrap tree), not a
 * whole distribution, so it holds no shell, no package manager and no docs.
 */

/** Debian 12's merged /usr: these top-level names are links into /usr. */
export const MERGED_USR_LINKS = { bin: 'usr/bin', sbin: 'usr/sbin', lib: 'usr/lib', lib64: 'usr/lib64' } as const;

/** Lays out an empty root: the merged-/usr links, /tmp (1777), /root, /etc, /run. */
export function initRoot(root: string): void {
  for (const [link, target] of Object.entries(MERGED_USR_LINKS)) {
    mkdirSync(join(root, target), { recursive: true });
    if (!existsSync(join(root, link))) symlinkSync(target, join(root, link));
  }
  for (const d of ['etc', 'root', 'run', 'var/tmp']) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
}

/** The files dpkg recorded for `pkg` in a Debian tree (`/var/lib/dpkg/info/PKG[:ARCH].list`). */
export function packageFiles(rootfs: string, pkg: string): string[] {
  const info = join(rootfs, 'var/lib/dpkg/info');
  for (const name of [`${pkg}.list`, ...['amd64', 'arm64', 'armhf', 'i386', 'ppc64el', 's390x', 'riscv64'].map((a) => `${pkg}:${a}.list`)]) {
    if (existsSync(join(info, name))) return readFileSync(join(info, name), 'utf8').split('\n').filter((l) => l.startsWith('/'));
  }
  throw new ImagesError('BadImage', `package ${pkg} is not installed in ${rootfs}`);
}

/**
 * Paths a runtime image never uses: documentation, translations, lintian overrides, gdb
 * pretty-printers, and glibc's iconv modules (8 MB; Node converts text with its own ICU).
 * Init scripts and units: nothing in a container starts services.
 */
const NEVER_SHIPPED = [
  /^\/usr\/share\/(doc|doc-base|man|info|locale|lintian|gcc|gdb|bug|reportbug|apport)(\/|$)/,
  /^\/usr\/lib\/[^/]+\/gconv(\/|$)/,
  /^\/etc\/(init\.d|logrotate\.d|ufw|default|systemd)(\/|$)/,
  /^\/(usr\/)?lib\/systemd(\/|$)/,
];

/** Whether a runtime image ships `path` (a path from a dpkg file list). */
export function shipped(path: string): boolean {
  return !NEVER_SHIPPED.some((re) => re.test(path));
}

/**
 * Copies the files of `packages` from `rootfs` into `root` (which `initRoot` laid out):
 * regular files with their modes, symbolic links as links, directories as listed. Paths
 * under /lib, /bin... land in /usr through the merged-/usr links. Returns the count.
 */
export function copyPackages(rootfs: string, root: string, packages: readonly string[]): number {
  let n = 0;
  for (const pkg of packages) {
    for (const path of packageFiles(rootfs, pkg)) {
      if (!shipped(path)) continue;
      const src = join(rootfs, path);
      const dst = join(root, path);
      let st;
      try {
        st = lstatSync(src);
      } catch {
        // Listed but absent: a file the tree's clean-up removed (docs) or a diversion.
        continue;
      }
      if (st.isDirectory()) {
        // The tree's merged-/usr links are listed as directories by older packages.
        if (!existsSync(dst)) mkdirSync(dst, { recursive: true });
        continue;
      }
      mkdirSync(dirname(dst), { recursive: true });
      if (existsSync(dst) || isLink(dst)) continue;
      if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
      else if (st.isFile()) {
        copyFileSync(src, dst);
        chmodSync(dst, st.mode & 0o7777);
      } else continue;
      n += 1;
    }
  }
  return n;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One account in /etc/passwd and /etc/group (same id for user and group). */
export interface Account {
  readonly name: string;
  readonly id: number;
  readonly home: string;
}

/** distroless's accounts: root, nobody and nonroot (65532, the uid the chart's controller runs as). */
export const DISTROLESS_ACCOUNTS: readonly Account[] = [
  { name: 'root', id: 0, home: '/root' },
  { name: 'nobody', id: 65534, home: '/nonexistent' },
  { name: 'nonroot', id: 65532, home: '/home/nonroot' },
];

/** /etc/passwd and /etc/group for `accounts`, with no login shell (the images have none). */
export function accountFiles(accounts: readonly Account[]): { passwd: string; group: string } {
  return {
    passwd: accounts.map((a) => `${a.name}:x:${a.id}:${a.id}:${a.name}:${a.home}:/sbin/nologin\n`).join(''),
    group: accounts.map((a) => `${a.name}:x:${a.id}:\n`).join(''),
  };
}

/** Writes /etc/passwd, /etc/group and /etc/nsswitch.conf for `accounts`. */
export function writeAccounts(root: string, accounts: readonly Account[]): void {
  const { passwd, group } = accountFiles(accounts);
  writeFileSync(join(root, 'etc/passwd'), passwd);
  writeFileSync(join(root, 'etc/group'), group);
  // glibc's own default without this file tries DNS before /etc/hosts.
  writeFileSync(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
}
