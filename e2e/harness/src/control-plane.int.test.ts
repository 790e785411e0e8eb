import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive } from './process.js';
import { readCrds } from './control-plane.js';
import { DEFAULT_CRD_DIR } from './index.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const cli = (...args: string[]): { status: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
};

describe('a process that started a control plane', () => {
  it('takes etcd and kube-apiserver with it when a signal ends it', async () => {
    const script = `import('${new URL('../dist/index.js', import.meta.url).href}').then(async (m) => { const cp = await m.startControlPlane({ crdDir: null }); process.stdout.write(cp.dir + '\\n'); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const state = JSON.parse(readFileSync(join(dir, 'control-plane.json'), 'utf8')) as { etcd: { pid: number }; apiserver: { pid: number } };
    expect(isAlive(state.etcd.pid) && isAlive(state.apiserver.pid)).toBe(true);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    await new Promise((r) => setTimeout(r, 200));
    expect(isAlive(state.etcd.pid) || isAlive(state.apiserver.pid)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('control-plane CLI', () => {
  it('starts with `up`, serves kubectl and dual-stack Services, and `down` leaves nothing behind', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'herald-cli-')), 'cp');
    const up = cli('up', '--dir', dir);
    try {
      expect(up.stderr).toContain('up in');
      expect(up.status).toBe(0);
      expect(up.stdout.trim()).toBe(join(dir, 'kubeconfig'));
      const state = JSON.parse(readFileSync(join(dir, 'control-plane.json'), 'utf8')) as { etcd: { pid: number }; apiserver: { pid: number } };
      expect(isAlive(state.etcd.pid) && isAlive(state.apiserver.pid)).toBe(true);

      // Every CRD from the chart is installed and served.
      const crds = cli('kubectl', '--dir', dir, '--', 'get', 'crd', '-o', 'name');
      expect(crds.status).toBe(0);
      const want = readCrds(DEFAULT_CRD_DIR).map((c) => `customresourcedefinition.apiextensions.k8s.io/${c.name}`).sort();
      expect(want).toHaveLength(9); // the nine herald.io kinds
      expect(crds.stdout.trim().split('\n').filter((l) => l.endsWith('.herald.io')).sort()).toEqual(want);

      // Dual-stack Service CIDRs: a RequireDualStack Service gets a cluster IP of each family.
      const svc = JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dual', namespace: 'default' },
        spec: { type: 'ClusterIP', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], ports: [{ port: 80 }] },
      });
      const created = spawnSync(process.execPath, [CLI, 'kubectl', '--dir', dir, '--', 'create', '-f', '-', '-o', 'jsonpath={.spec.clusterIPs}'], { input: svc, encoding: 'utf8' });
      expect(created.stderr).toBe('');
      const ips = JSON.parse(created.stdout) as string[];
      expect(ips).toHaveLength(2);
      expect(ips[0]).toMatch(/^10\.96\./);
      expect(ips[1]).toMatch(/^fd00:10:96::/);

      const down = cli('down', '--dir', dir);
      expect(down.status).toBe(0);
      expect(isAlive(state.etcd.pid) || isAlive(state.apiserver.pid)).toBe(false);
      expect(existsSync(dir)).toBe(false);
      // Twice is harmless.
      expect(cli('down', '--dir', dir).status).toBe(0);
    } finally {
      cli('down', '--dir', dir);
    }
  });

  it('exits 2 with the usage on unknown arguments, and 1 when kubectl has no control plane', () => {
    const bad = cli('up', '--nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('usage: control-plane');
    const none = cli('kubectl', '--dir', join(tmpdir(), 'herald-no-such-cp'), '--', 'get', 'ns');
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no control plane in');
  });
});
