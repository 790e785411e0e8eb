/**
 * The sandbox end to end, as a user runs it: `main.js up --json` in its own process (a real
 * 3-node cluster with its own prefix and folder, Herald's images built and pushed, the
 * packaged chart installed, FRR, an nginx ingress Pod, backend Pods), then `down` from this
 * process. Root only; whatever fails, afterAll stops and sweeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readState as readClusterState, type ClusterState } from '@herald/e2e-cluster';
import { listNamespaces } from '@herald/lab';
import { downSandbox, INGRESS_ROUTES } from './sandbox.js';
import type { Answer, Report } from './table.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/sandbox: skipping the end-to-end test: it needs root (CI runs it as root)\n');
const suite = ROOT ? describe : describe.skip;

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const HTTP_HOST = fileURLToPath(new URL('../dist/http-host.js', import.meta.url));
/** A prefix and folder of its own: never the cluster CLI's (`hc`), the on-cluster suite's (`hoc`) or a user's sandbox (`hsb`). */
const PREFIX = 'hsbt';
const DIR = '/tmp/herald-sandbox-test';
const NODE_IPS = ['198.18.0.11', '198.18.0.12', '198.18.0.13'];
/** Cold (first image build) can take minutes; warm, the sandbox aims at 120 s. */
const UP_TIMEOUT_MS = 900_000;

const inRange = (ip: string, base: string, from: number, to: number): boolean => {
  const last = Number(ip.slice(base.length));
  return ip.startsWith(base) && last >= from && last <= to;
};

/** Command lines of every process on the machine. */
function processes(): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.push({ pid: Number(d), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

suite('npm run sandbox on the real cluster', () => {
  let child: ChildProcess | undefined;
  let exit: Promise<number | null>;
  let stderr = '';
  let report: Report;
  let cluster: ClusterState | undefined;

  beforeAll(async () => {
    child = spawn(process.execPath, [MAIN, 'up', '--json', '--dir', DIR, '--prefix', PREFIX], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = child;
    exit = new Promise((resolve) => c.once('exit', (code) => resolve(code)));
    c.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-16_000);
    });
    report = await new Promise<Report>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no report after ${UP_TIMEOUT_MS / 1000} s; stderr:\n${stderr}`)), UP_TIMEOUT_MS);
      c.stdout?.on('data', (b: Buffer) => {
        out += b.toString('utf8');
        const line = out.split('\n')[0];
        if (out.includes('\n') && line !== undefined) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as Report);
        }
      });
      void exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`sandbox exited (${code}) before its report; stderr:\n${stderr}`));
      });
    });
    cluster = readClusterState(join(DIR, 'cluster'));
  }, UP_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    // Also after a failure: stop the foreground process and sweep what it left.
    await downSandbox(DIR).catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(DIR, { recursive: true, force: true });
  }, 180_000);

  it('reports the L2 ingress by both host names and the BGP Service, each announced, routed and answered by real Pods', () => {
    process.stderr.write(`sandbox up in ${(report.elapsedMs / 1000).toFixed(1)} s ${JSON.stringify(report.timings)}\n`);
    expect(report.rows.map((r) => [r.service, r.hostName, r.mode])).toEqual([
      ['ingress', 'app1.sandbox.test', 'L2'],
      ['ingress', 'app2.sandbox.test', 'L2'],
      ['web', undefined, 'BGP'],
    ]);
    const [app1, app2, web] = report.rows;
    if (!app1 || !app2 || !web) throw new Error('rows missing');

    // One Herald IP on the LAN, one elected node; nginx routes the two names to two Deployments.
    expect(app2.ip).toBe(app1.ip);
    expect(inRange(app1.ip, '198.18.0.', 100, 119)).toBe(true);
    expect(app1.nodes).toHaveLength(1);
    expect(app1.nodes[0]).toMatch(/^node-[123]$/);
    expect(app2.nodes).toEqual(app1.nodes);
    expect(app1.answer).toMatchObject({ ok: true, status: 200 });
    expect(app1.answer.body).toMatch(/^app1@node-[123]$/);
    expect(app2.answer).toMatchObject({ ok: true, status: 200 });
    expect(app2.answer.body).toMatch(/^app2@node-[123]$/);
    expect(app1.route).toEqual({ source: 'connected', prefix: '198.18.0.0/24', nextHops: [] });

    // Every node announces the BGP IP; FRR holds and installs an ECMP route over all three.
    expect(inRange(web.ip, '198.51.100.', 10, 19)).toBe(true);
    expect(web.nodes).toEqual(['node-1', 'node-2', 'node-3']);
    expect(web.route).toEqual({ source: 'bgp', prefix: `${web.ip}/32`, nextHops: NODE_IPS, installed: true });
    expect(web.answer).toMatchObject({ ok: true, status: 200 });
    expect(web.answer.body).toMatch(/^web@node-[123]$/);
  });

  it('runs Herald from its chart and the apps as Pods of the cluster, in the namespaces the report names', () => {
    const kubectl = (args: string[]): string => {
      const r = spawnSync(cluster?.tools.kubectl ?? 'kubectl', ['--kubeconfig', report.kubeconfig, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const pods = JSON.parse(kubectl(['get', 'pods', '-A', '-o', 'json'])) as { items: { metadata: { namespace: string; labels?: Record<string, string> } }[] };
    const count = (ns: string, key: string, value: string): number => pods.items.filter((p) => p.metadata.namespace === ns && p.metadata.labels?.[key] === value).length;
    expect(count('herald-system', 'app.kubernetes.io/component', 'speaker')).toBe(3);
    expect(count('herald-system', 'app.kubernetes.io/component', 'controller')).toBeGreaterThanOrEqual(1);
    expect(count('sandbox', 'app', 'ingress')).toBe(1);
    for (const app of ['app1', 'app2', 'web']) expect(count('sandbox', 'app', app)).toBe(3);
    expect(kubectl(['-n', 'herald-system', 'get', 'secrets', '-o', 'name'])).toMatch(/sh\.helm\.release\.v1\.herald\.v1/);
  });

  it('stays up after the report: nginx keeps routing by host name and refuses an unknown one', () => {
    const ip = report.rows[0]?.ip ?? '';
    const get = (hostName: string): Answer => {
      const r = spawnSync('ip', ['netns', 'exec', report.clientNs, process.execPath, HTTP_HOST, hostName, ip, '80', '2000'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`http-host.js: ${r.stderr}`);
      return JSON.parse(r.stdout) as Answer;
    };
    for (const r of INGRESS_ROUTES) expect(get(r.hostName).body).toMatch(new RegExp(`^${r.app}@node-[123]$`));
    // Only nginx's default server answers this way: the request went through the ingress Pod.
    expect(get('nope.sandbox.test')).toMatchObject({ ok: false, status: 404, body: 'no route for host nope.sandbox.test' });
    expect(child?.exitCode).toBeNull();
  });

  it('down stops the foreground process and leaves no namespace, process, link or file behind', async () => {
    const pids = cluster?.processes.map((p) => p.pid) ?? [];
    expect(pids.length).toBeGreaterThan(0);
    expect(await downSandbox(DIR)).toBe('stopped');
    expect(await exit).toBe(0);
    const left = [...(await listNamespaces())].filter((n) => n.startsWith(`${PREFIX}-`));
    expect(left).toEqual([]);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(` ${PREFIX}-`));
    expect(links).toEqual([]);
    const all = processes();
    expect(all.filter((p) => pids.includes(p.pid) && p.cmd.includes(DIR))).toEqual([]);
    expect(all.filter((p) => p.pid !== process.pid && (p.cmd.includes(DIR) || p.cmd.includes(`herald-frr-${PREFIX}-`)))).toEqual([]);
    expect(existsSync(DIR)).toBe(false);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`herald-frr-${PREFIX}-`))).toEqual([]);
  }, 180_000);
});
