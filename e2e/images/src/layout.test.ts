import { afterEach, describe, expect, it } from '@jest/globals';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISTROLESS_ACCOUNTS, accountFiles, copyPackages, initRoot, shipped } from './layout.js';

describe('shipped', () => {
  it.each([
    ['/usr/lib/x86_64-linux-gnu/libc.so.6', true],
    ['/lib64/ld-linux-x86-64.so.2', true],
    ['/etc/nginx/nginx.conf', true],
    ['/usr/share/zoneinfo/UTC', true],
    ['/usr/share/doc/libc6/copyright', false],
    ['/usr/share/locale/de/LC_MESSAGES/libc.mo', false],
    ['/usr/share/gcc/python/libstdcxx/v6/printers.py', false],
    ['/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so', false],
    ['/etc/init.d/nginx', false],
    ['/lib/systemd/system/nginx.service', false],
  ])('%s: %s', (path, expected) => {
    expect(shipped(path)).toBe(expected);
  });
});

describe('accountFiles', () => {
  it("writes distroless's accounts, nonroot as 65532, with no login shell", () => {
    const { passwd, group } = accountFiles(DISTROLESS_ACCOUNTS);
    expect(passwd).toContain('nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
    expect(passwd.split('\n')[0]).toBe('root:x:0:0:root:/root:/sbin/nologin');
    expect(group).toContain('nonroot:x:65532:\n');
  });
});

describe('copyPackages', () => {
  let work: string | undefined;
  afterEach(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('copies the listed files of merged-/usr packages into /usr, links as links, skipping docs', () => {
    work = mkdtempSync(join(tmpdir(), 'herald-layout-'));
    const rootfs = join(work, 'rootfs');
    const root = join(work, 'root');
    // A tiny Debian 12 tree: /lib links to usr/lib, one package with a library, a link and a doc.
    initRoot(rootfs);
    mkdirSync(join(rootfs, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
    writeFileSync(join(rootfs, 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13'), 'ELF', { mode: 0o644 });
    symlinkSync('libz.so.1.2.13', join(rootfs, 'usr/lib/x86_64-linux-gnu/libz.so.1'));
    mkdirSync(join(rootfs, 'usr/share/doc/zlib1g'), { recursive: true });
    writeFileSync(join(rootfs, 'usr/share/doc/zlib1g/copyright'), 'text');
    mkdirSync(join(rootfs, 'var/lib/dpkg/info'), { recursive: true });
    writeFileSync(join(rootfs, 'var/lib/dpkg/info/zlib1g:amd64.list'), ['/.', '/lib', '/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu/libz.so.1', '/lib/x86_64-linux-gnu/libz.so.1.2.13', '/usr/share/doc/zlib1g/copyright', ''].join('\n'));

    initRoot(root);
    expect(copyPackages(rootfs, root, ['zlib1g'])).toBe(2);
    expect(readlinkSync(join(root, 'lib'))).toBe('usr/lib');
    expect(readFileSync(join(root, 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13'), 'utf8')).toBe('ELF');
    expect(lstatSync(join(root, 'usr/lib/x86_64-linux-gnu/libz.so.1')).isSymbolicLink()).toBe(true);
    expect(() => statSync(join(root, 'usr/share/doc/zlib1g/copyright'))).toThrow();
    expect(statSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it('fails on a package the tree does not have', () => {
    work = mkdtempSync(join(tmpdir(), 'herald-layout-'));
    mkdirSync(join(work, 'var/lib/dpkg/info'), { recursive: true });
    expect(() => copyPackages(work ?? '', join(work ?? '', 'root'), ['nginx'])).toThrow(/package nginx is not installed/);
  });
});
