import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportImage, imageConfig, imageSize, runInImage, startInImage, withMountedImage, type RunningContainer } from './buildah.js';
import { buildHeraldImages, type HeraldImage } from './herald.js';
import { pushImage } from './push.js';
import { buildStandins, type Standins } from './standins.js';
import { buildTestImages, type TestImages } from './test-images.js';

/**
 * Builds Herald's images from the root Dockerfile with buildah on the local stand-ins of
 * its base images (as CI and the cluster tests do; no registry is reachable here), and the
 * test images, then checks what a cluster would otherwise find out late: sizes, the
 * speaker's native addon loading with the image's own Node, both binaries starting with
 * every module present, no development package, the users the chart expects, and the
 * test images serving. Root only (buildah's store, debootstrap, mounts).
 *
 * Cold (empty caches) this takes about 10 minutes on 2 cores: debootstrap, npm ci in the
 * builder, the TypeScript build. Warm (unchanged sources) about a minute: every step is
 * cached by content.
 */

const ROOT = process.getuid?.() === 0 && spawnSync('buildah', ['--version']).status === 0;
const suite = ROOT ? describe : describe.skip;
/** The target the task set: at most 200 MB uncompressed each, on the distroless bases. */
const MAX_IMAGE_BYTES = 200_000_000;
/** Tooling that must never reach a production image (the same list as package.int.test.ts). */
const DEV_TOOLING = /^(jest|jest-.+|@jest\/.+|ts-jest|typescript|typescript-eslint|@typescript-eslint\/.+|eslint|eslint-.+|@eslint\/.+|fast-check|turbo|turbo-.+|@herald\/(e2e-.+|lab|bench|sandbox|faults|cli))$/;
const TAG = 'int-test';

/** Package names under a node_modules folder, nested ones too. */
function packageNames(nodeModules: string): string[] {
  const out: string[] = [];
  const visit = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir)) {
      if (e.startsWith('.')) continue;
      const p = join(dir, e);
      if (e.startsWith('@')) visit(p);
      else if (existsSync(join(p, 'package.json'))) {
        out.push((JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { name: string }).name);
        visit(join(p, 'node_modules'));
      }
    }
  };
  visit(nodeModules);
  return out;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) visit(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  visit(dir);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** GET until it answers (a container takes a moment to start), at most `ms`. */
async function getWhenUp(url: string, ms = 15_000): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2_000) });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** GET / on 127.0.0.1:port with a Host header (fetch may not set Host; node:http may). */
function getWithHost(port: number, host: string): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: host }, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host} on port ${port}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

suite('images built with buildah', () => {
  let standins: Standins;
  let herald: Record<'controller' | 'speaker', HeraldImage>;
  let test: TestImages;
  const seconds: Record<string, number> = {};

  beforeAll(async () => {
    let t = Date.now();
    standins = await buildStandins();
    seconds['standins'] = (Date.now() - t) / 1000;
    t = Date.now();
    const { images } = await buildHeraldImages({ tag: TAG, bases: { builder: standins.builder, controller: standins.runtimeNonroot, speaker: standins.runtime } });
    seconds['herald'] = (Date.now() - t) / 1000;
    herald = Object.fromEntries(images.map((i) => [i.target, i])) as typeof herald;
    t = Date.now();
    test = await buildTestImages();
    seconds['test'] = (Date.now() - t) / 1000;
    process.stderr.write(`images.int.test: built in ${JSON.stringify(seconds)} s; ${images.map((i) => `${i.image} ${(i.bytes / 1e6).toFixed(1)} MB`).join(', ')}\n`);
  }, 1_800_000);

  it.each(['controller', 'speaker'] as const)('%s: is at most 200 MB uncompressed on the distroless stand-in', async (b) => {
    expect(herald[b].bytes).toBeGreaterThan(50_000_000);
    expect(herald[b].bytes).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
    expect(await imageSize(herald[b].image)).toBe(herald[b].bytes);
  });

  it('runs the controller as 65532 and the speaker as root, each with node /app/dist/main.js as its entry point', async () => {
    const c = await imageConfig(herald.controller.image);
    const s = await imageConfig(herald.speaker.image);
    expect([c.user, s.user]).toEqual(['65532:65532', '0:0']);
    for (const x of [c, s]) expect(x.entrypoint).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);
    expect(c.env).toContain('NODE_ENV=production');
  });

  it("loads the speaker's native addon with the image's own Node and libc", async () => {
    const r = await runInImage(herald.speaker.image, [
      '/nodejs/bin/node',
      '-e',
      // A plain require of the compiled addon: dlopen fails here on a missing library or a
      // glibc older than the builder's.
      "const a = require('/app/node_modules/@herald/native/dist/herald_native.node'); process.stdout.write(JSON.stringify(Object.keys(a).sort()))",
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as string[]).length).toBeGreaterThan(2);
    // And through the package's own ESM entry, as the speaker imports it.
    const esm = await runInImage(herald.speaker.image, ['/nodejs/bin/node', '--input-type=module', '-e', "const n = await import('/app/node_modules/@herald/native/dist/index.js'); process.stdout.write(typeof n.openPacketSocket)"]);
    expect(esm).toMatchObject({ code: 0, stdout: 'function' });
  });

  it.each([
    ['controller', ['--namespace', 'herald-system']],
    ['speaker', ['--namespace', 'herald-system', '--node-name', 'node-1']],
  ] as const)('%s: prints its usage for an unknown flag, and fails cleanly without a kubeconfig', async (b, flags) => {
    // Every static import resolves before main runs: usage printed means no module is missing.
    const usage = await runInImage(herald[b].image, ['/nodejs/bin/node', '/app/dist/main.js', '--no-such-flag']);
    expect(usage.stderr).toMatch(new RegExp(`usage: herald-${b}`));
    expect(usage.code).toBe(2);
    const noConfig = await runInImage(herald[b].image, ['/nodejs/bin/node', '/app/dist/main.js', ...flags]);
    expect(noConfig.stderr).toMatch(/no Kubernetes configuration/);
    expect(noConfig.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|ERR_DLOPEN_FAILED|Cannot find (module|package)/);
    expect(noConfig.code).toBe(1);
  });

  it.each(['controller', 'speaker'] as const)('%s: holds the production tree only: no development package, no sources, no shell or npm', async (b) => {
    await withMountedImage(herald[b].image, (root) => {
      const names = packageNames(join(root, 'app/node_modules'));
      expect(names).toContain('@kubernetes/client-node');
      expect(names.filter((n) => DEV_TOOLING.test(n))).toEqual([]);
      // Our packages (the binary and its workspaces) ship compiled code only; third-party
      // packages ship what their authors publish.
      const all = files(join(root, 'app')).map((f) => f.slice(join(root, 'app').length + 1));
      const ours = all.filter((f) => !f.startsWith('node_modules/') || /^node_modules\/(@herald\/[^/]+|bgp-speaker-lite)\//.test(f));
      expect(ours.filter((f) => /\.ts$|\.map$|\.test\.js$/.test(f))).toEqual([]);
      expect(ours.map((f) => f.replace(/^node_modules\/(@herald\/[^/]+|bgp-speaker-lite)\//, '')).filter((f) => f !== 'package.json' && !f.startsWith('dist/') && !f.startsWith('node_modules/'))).toEqual([]);
      for (const p of ['bin/sh', 'usr/bin/npm', 'usr/local/bin/npm', 'usr/bin/apt-get']) expect(existsSync(join(root, p)) || isLink(join(root, p))).toBe(false);
    });
  });

  describe('the test images', () => {
    const running: RunningContainer[] = [];
    let work: string;
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'herald-images-test-'));
    });
    afterAll(async () => {
      await Promise.all(running.map((r) => r.stop()));
      rmSync(work, { recursive: true, force: true });
    });

    it('the backend is one static binary, a few hundred KB', async () => {
      expect(await imageSize(test.backend)).toBeLessThan(2_000_000);
      expect((await imageConfig(test.backend)).entrypoint).toEqual(['/echo-server']);
    });

    it('the backend names its app, node and pod; nginx routes a conf.d host to it', async () => {
      const backendPort = await freePort();
      const backend = await startInImage(test.backend, ['/echo-server'], { network: 'host', env: { PORT: String(backendPort), NODE_NAME: 'node-7', POD_NAME: 'app1-5d9c7b-x2x7z' } });
      running.push(backend);
      const direct = await getWhenUp(`http://127.0.0.1:${backendPort}/any/path`);
      expect(direct.status).toBe(200);
      expect(await direct.text()).toBe('app1@node-7\n');
      expect(direct.headers.get('x-pod')).toBe('app1-5d9c7b-x2x7z');

      // What an ingress ConfigMap mounted at /etc/nginx/conf.d would hold.
      const nginxPort = await freePort();
      const confd = join(work, 'conf.d');
      mkdirSync(confd);
      writeFileSync(
        join(confd, 'ingress.conf'),
        [
          'server {',
          `  listen 127.0.0.1:${nginxPort};`,
          '  server_name app1.test;',
          `  location / { proxy_pass http://127.0.0.1:${backendPort}; proxy_set_header Host $host; }`,
          '}',
          'server {',
          `  listen 127.0.0.1:${nginxPort} default_server;`,
          '  return 404;',
          '}',
          '',
        ].join('\n'),
      );
      const nginx = await startInImage(test.nginx, ['/usr/sbin/nginx', '-g', 'daemon off;'], { network: 'host', volumes: [`${confd}:/etc/nginx/conf.d:ro`] });
      running.push(nginx);
      await getWhenUp(`http://127.0.0.1:${nginxPort}/`);
      const routed = await getWithHost(nginxPort, 'app1.test');
      expect(routed).toMatchObject({ status: 200, body: 'app1@node-7\n' });
      expect(routed.headers['x-node']).toBe('node-7');
      expect((await getWithHost(nginxPort, 'other.test')).status).toBe(404);
      // Debian's nginx.conf logs to files; the image links them to the container's output.
      await new Promise((r) => setTimeout(r, 300));
      expect(nginx.output()).toMatch(/"GET \/ HTTP\/1\.1" 200/);
    });
  });

  it('exports an image as an archive that containerd imports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-images-export-'));
    try {
      const file = join(dir, 'backend.tar');
      await exportImage(test.backend, file);
      const listing = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
      expect(listing.stdout).toMatch(/manifest\.json/);
      // docker-archive's manifest names the image, so an import gives it the same name.
      const manifest = spawnSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }).stdout;
      expect(manifest).toContain(test.backend);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The cluster harness builds distribution's registry into the tools cache; test the push
  // against it when it is there.
  const registryBin = findRegistry();
  (registryBin ? it : it.skip)('pushes an image to a plain-HTTP registry, which then serves its manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-registry-'));
    const port = await freePort();
    writeFileSync(join(dir, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    const child = spawn(registryBin ?? '', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    try {
      await getWhenUp(`http://127.0.0.1:${port}/v2/`);
      const ref = await pushImage(test.backend, `127.0.0.1:${port}`);
      expect(ref).toBe(`127.0.0.1:${port}/${test.backend.replace(/^localhost\//, '')}`);
      const [repo, tag] = ref.slice(ref.indexOf('/') + 1).split(':');
      const m = await fetch(`http://127.0.0.1:${port}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(m.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** distribution's `registry` binary in the tools cache, if the cluster harness built it. */
function findRegistry(): string | undefined {
  const root = process.env['HERALD_TOOLS_CACHE'] ?? join(homedir(), '.cache', 'herald', 'tools');
  const found: string[] = [];
  const visit = (d: string, depth: number): void => {
    if (depth > 3 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) visit(join(d, e.name), depth + 1);
      else if (e.name === 'registry' || e.name === 'distribution-registry') found.push(join(d, e.name));
    }
  };
  visit(root, 0);
  return found[0];
}
