import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { eventually, testKubeconfigPath } from './testing.js';
import { resolveTools } from './tools.js';

/**
 * `npm run package` (.ci/package.mjs) builds the tree each image ships. These tests
 * package into a folder outside the repository, where the monorepo's node_modules is out
 * of reach, and start the binaries from that tree alone against the test API server: a
 * runtime dependency missing from a package.json, or a file missing from a `files`
 * list, fails here rather than in a cluster.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, '.ci/package.mjs');

/** The workspaces each binary needs at run time, and nothing else of the monorepo's. */
const RUNTIME_WORKSPACES = {
  controller: ['@herald/shared'],
  speaker: ['@herald/native', '@herald/shared', 'bgp-speaker-lite'],
} as const;
type Binary = keyof typeof RUNTIME_WORKSPACES;
const OURS = /^(@herald\/.*|bgp-speaker-lite)$/;
/** Development tooling that must never reach a production tree. */
const DEV_TOOLING = /^(jest|jest-.+|@jest\/.+|ts-jest|typescript|typescript-eslint|@typescript-eslint\/.+|eslint|eslint-.+|@eslint\/.+|fast-check|turbo|turbo-.+)$/;

interface Pkg {
  readonly name: string;
  readonly dir: string;
  readonly dependencies: Record<string, string>;
}

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

function packages(nodeModules: string): Pkg[] {
  const out: Pkg[] = [];
  const visit = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir)) {
      if (e.startsWith('.')) continue;
      const p = join(dir, e);
      if (e.startsWith('@')) visit(p);
      else if (existsSync(join(p, 'package.json'))) {
        const m = readJson(join(p, 'package.json'));
        out.push({ name: String(m['name']), dir: p, dependencies: (m['dependencies'] ?? {}) as Record<string, string> });
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

/** Module specifiers a compiled ES module imports (static, dynamic, re-exports, require). */
function specifiers(code: string): string[] {
  const out: string[] = [];
  for (const re of [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm, /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of code.matchAll(re)) out.push(m[1] ?? '');
  }
  return out;
}

const packageName = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const BUILTINS = new Set(builtinModules);

/** Where Node would find `name` from `fromDir`, searching node_modules folders up to `top`. */
function locate(name: string, fromDir: string, top: string): string | undefined {
  for (let d = fromDir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (d === top || d === dirname(d)) return undefined;
  }
}

interface Run {
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal: NodeJS.Signals) => void;
  readonly event: (name: string, timeoutMs?: number) => Promise<Record<string, unknown>>;
}

describe('the packaged production tree', () => {
  let work: string;
  let out: string;
  let summary: string;
  const tree = (b: Binary): string => join(out, b);

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'herald-package-test-'));
    out = join(work, 'dist-package');
    // `npm test` builds every workspace just before; packaging what dist/ holds keeps this
    // test from racing turbo for the build.
    const r = spawnSync(process.execPath, [SCRIPT, '--skip-build', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) throw new Error(`.ci/package.mjs exited ${r.status ?? r.signal}: ${r.stderr}`);
    summary = r.stdout;
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('reports the size of each tree', () => {
    expect(summary).toMatch(/controller: \d+ packages, \d+ files, [\d.]+ MiB/);
    expect(summary).toMatch(/speaker: \d+ packages, \d+ files, [\d.]+ MiB/);
  });

  it('lies where no other node_modules folder can satisfy an import', () => {
    for (let d = dirname(out); d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')) ? join(d, 'node_modules') : undefined).toBeUndefined();
    expect(existsSync('/node_modules')).toBe(false);
  });

  it.each(Object.keys(RUNTIME_WORKSPACES) as Binary[])('%s: holds the compiled binary and exactly its runtime workspaces, as real directories', (b) => {
    const t = tree(b);
    expect(existsSync(join(t, 'dist/main.js'))).toBe(true);
    const manifest = readJson(join(t, 'package.json'));
    expect(manifest['name']).toBe(`@herald/${b}`);
    expect(manifest['devDependencies']).toBeUndefined();
    const ours = packages(join(t, 'node_modules')).filter((p) => OURS.test(p.name));
    expect(ours.map((p) => p.name).sort()).toEqual([...RUNTIME_WORKSPACES[b]]);
    for (const p of ours) expect(lstatSync(p.dir).isSymbolicLink()).toBe(false);
    // Symbolic links only as npm's command shims, never in place of a package.
    const links = files(t).filter((f) => lstatSync(f).isSymbolicLink() && !f.includes('/node_modules/.bin/'));
    expect(links).toEqual([]);
    if (b === 'speaker') expect(existsSync(join(t, 'node_modules/@herald/native/dist/herald_native.node'))).toBe(true);
  });

  it.each(Object.keys(RUNTIME_WORKSPACES) as Binary[])('%s: ships compiled code only, and no development package', (b) => {
    const t = tree(b);
    const all = packages(join(t, 'node_modules'));
    expect(all.filter((p) => DEV_TOOLING.test(p.name)).map((p) => p.name)).toEqual([]);
    // A devDependency of a package we ship is there only because some production package requires it.
    const requiredInProd = new Set([readJson(join(t, 'package.json'))['dependencies'] as object, ...all.map((p) => p.dependencies)].flatMap((d) => Object.keys(d)));
    const manifests = [join(ROOT, 'package.json'), ...[`@herald/${b}`, ...RUNTIME_WORKSPACES[b]].map((n) => join(ROOT, workspaceDir(n), 'package.json'))];
    const devDeps = new Set(manifests.flatMap((m) => Object.keys((readJson(m)['devDependencies'] ?? {}) as object)));
    expect(all.filter((p) => devDeps.has(p.name) && !requiredInProd.has(p.name)).map((p) => p.name)).toEqual([]);
    // Our packages hold dist/ and their manifest: no sources, tests, source maps or test beds.
    for (const dir of [t, ...all.filter((p) => OURS.test(p.name)).map((p) => p.dir)]) {
      const own = files(dir).map((f) => relative(dir, f)).filter((f) => !f.startsWith('node_modules/'));
      expect(own.filter((f) => !(f === 'package.json' || f.startsWith('dist/')))).toEqual([]);
      expect(own.filter((f) => /\.test\.js$|\.map$|^dist\/(e2e|testkit)\//.test(f))).toEqual([]);
    }
  });

  it.each(Object.keys(RUNTIME_WORKSPACES) as Binary[])('%s: every package our code imports is a declared dependency present in the tree', (b) => {
    const t = tree(b);
    const ours = [{ name: `@herald/${b}`, dir: t, dependencies: readJson(join(t, 'package.json'))['dependencies'] as Record<string, string> }, ...packages(join(t, 'node_modules')).filter((p) => OURS.test(p.name))];
    const problems: string[] = [];
    let imports = 0;
    for (const p of ours) {
      for (const f of files(join(p.dir, 'dist')).filter((x) => x.endsWith('.js'))) {
        for (const spec of specifiers(readFileSync(f, 'utf8'))) {
          if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(packageName(spec))) continue;
          imports += 1;
          const name = packageName(spec);
          if (name === p.name) continue;
          if (!(name in p.dependencies)) problems.push(`${relative(t, f)} imports ${spec}, not in ${p.name}'s dependencies`);
          else if (!locate(name, dirname(f), t)) problems.push(`${relative(t, f)} imports ${spec}, absent from the tree`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(imports).toBeGreaterThan(10);
  });

  describe('started from the tree alone', () => {
    const ns = `pkg-${randomBytes(3).toString('hex')}`;
    const node = `herald-pkg-${randomBytes(3).toString('hex')}`;
    const lbClass = `test.herald.io/${ns}`;
    const running: Run[] = [];
    let kubectlBin: string;
    const kubectl = (args: string[], input?: string): string => {
      const r = spawnSync(kubectlBin, ['--kubeconfig', testKubeconfigPath(), ...args], { encoding: 'utf8', timeout: 30_000, ...(input === undefined ? {} : { input }) });
      if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    /** Starts a binary with its tree as cwd and an environment that points nowhere else. */
    const start = (b: Binary, args: string[]): Run => {
      const child = spawn(process.execPath, [join(tree(b), 'dist/main.js'), ...args], {
        cwd: tree(b),
        env: { PATH: process.env['PATH'] ?? '', HOME: work },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const logs: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout }).on('line', (l) => {
        try {
          logs.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          logs.push({ raw: l });
        }
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      let gone = false;
      void exited.then(() => (gone = true));
      const run: Run = {
        logs,
        stderr: () => stderr,
        exited,
        kill: (signal) => child.kill(signal),
        event: (name, timeoutMs = 20_000) =>
          eventually(`${b} to log event ${name}`, async () => {
            if (gone) throw new Error(`${b} exited; stderr: ${stderr.slice(-2000)}`);
            return logs.find((l) => l['event'] === name);
          }, timeoutMs),
      };
      running.push(run);
      return run;
    };

    const readyz = async (run: Run): Promise<void> => {
      const started = await run.event('starting');
      await eventually('/readyz to answer 200', async () => (await fetch(`http://127.0.0.1:${String(started['healthPort'])}/readyz`)).status === 200);
    };

    beforeAll(() => {
      kubectlBin = resolveTools({ build: false }).kubectl;
      kubectl(['create', 'namespace', ns]);
      kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'kubernetes.io/hostname': node } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } }));
    });

    afterAll(() => {
      for (const r of running) r.kill('SIGKILL');
      kubectl(['delete', 'node', node, '--ignore-not-found', '--wait=false']);
      kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    });

    it('the controller syncs its caches, assigns an IP and exits 0 on SIGTERM', async () => {
      kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p', namespace: ns }, spec: { addresses: ['10.231.7.0/30'] } }));
      const c = start('controller', ['--namespace', ns, '--kubeconfig', testKubeconfigPath(), '--lb-class', lbClass, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--log-level', 'info']);
      await c.event('cachesSynced');
      await readyz(c);
      kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { type: 'LoadBalancer', loadBalancerClass: lbClass, allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] } }));
      const ip = await eventually('an IP in the Service status', async () => kubectl(['get', 'service', 'web', '-n', ns, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']).trim() || undefined);
      expect(ip).toBe('10.231.7.0');
      c.kill('SIGTERM');
      expect(await c.exited).toBe(0);
      expect(c.stderr()).toBe('');
      expect(c.logs.filter((l) => 'raw' in l)).toEqual([]);
    });

    it('the speaker, with its native addon and bgp-speaker-lite, starts and exits 0 on SIGTERM', async () => {
      const s = start('speaker', ['--namespace', ns, '--node-name', node, '--kubeconfig', testKubeconfigPath(), '--lb-class', lbClass, '--bind-addr', '127.0.0.1', '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--log-level', 'info']);
      await s.event('started');
      await readyz(s);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.stderr()).toBe('');
      expect(s.logs.filter((l) => 'raw' in l)).toEqual([]);
    });
  });
});

/** The folder of a workspace, from the root manifest's list. */
function workspaceDir(name: string): string {
  for (const dir of readJson(join(ROOT, 'package.json'))['workspaces'] as string[]) {
    const manifest = join(ROOT, dir, 'package.json');
    if (existsSync(manifest) && readJson(manifest)['name'] === name) return dir;
  }
  throw new Error(`${name} is not a workspace`);
}
