/**
 * The sandbox end to end, as a user runs it: `main.js up --json` in its own process (its own
 * control plane, lab, controller, speakers, FRR, nginx), then `down` from this process.
 * Root only (network namespaces); whatever fails, afterAll stops and sweeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listNamespaces } from '@herald/lab';
import { downSandbox, INGRESS_ROUTES } from './sandbox.js';
import type { Answer, Report } from './table.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/sandbox: skipping the end-to-end test: it needs root (CI runs it as root)\n');
const suite = ROOT ? describe : describe.skip;

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const HTTP_HOST = fileURLToPath(new URL('../dist/http-host.js', import.meta.url));
const NODE_IPS = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];

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

suite('npm run sandbox', () => {
  const prefix = `sbx${randomBytes(3).toString('hex')}`;
  const dir = join(mkdtempSync(join(tmpdir(), 'herald-sandbox-test-')), 'box');
  let child: ChildProcess | undefined;
  let exit: Promise<number | null>;
  let stderr = '';
  let report: Report;

  beforeAll(async () => {
    child = spawn(process.execPath, [MAIN, 'up', '--json', '--dir', dir, '--prefix', prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = child;
    exit = new Promise((resolve) => c.once('exit', (code) => resolve(code)));
    c.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-8_000);
    });
    report = await new Promise<Report>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no report after 60 s; stderr:\n${stderr}`)), 60_000);
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
  }, 75_000);

  afterAll(async () => {
    // Also after a failure: stop the foreground process and sweep what it left.
    await downSandbox(dir).catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }, 60_000);

  it('reports the L2 ingress by both host names and the BGP Service, each announced, routed and answered', () => {
    process.stderr.write(`sandbox up in ${(report.elapsedMs / 1000).toFixed(1)} s\n`);
    expect(report.rows.map((r) => [r.service, r.hostName, r.mode])).toEqual([
      ['ingress', 'app1.sandbox.test', 'L2'],
      ['ingress', 'app2.sandbox.test', 'L2'],
      ['web', undefined, 'BGP'],
    ]);
    const [app1, app2, web] = report.rows;
    if (!app1 || !app2 || !web) throw new Error('rows missing');

    // One Herald IP, one elected node, two host names routed by nginx to two backends there.
    expect(app2.ip).toBe(app1.ip);
    expect(inRange(app1.ip, '192.0.2.', 100, 119)).toBe(true);
    expect(app1.nodes).toHaveLength(1);
    const owner = app1.nodes[0] ?? '';
    expect(owner).toMatch(/^node-[123]$/);
    expect(app2.nodes).toEqual([owner]);
    expect(app1.answer).toMatchObject({ ok: true, status: 200, body: `app1@${owner}` });
    expect(app2.answer).toMatchObject({ ok: true, status: 200, body: `app2@${owner}` });
    expect(app1.route).toEqual({ source: 'connected', prefix: '192.0.2.0/24', nextHops: [] });

    // Every node announces the BGP IP; FRR holds and installs an ECMP route over all three.
    expect(inRange(web.ip, '198.51.100.', 10, 19)).toBe(true);
    expect(web.nodes).toEqual(['node-1', 'node-2', 'node-3']);
    expect(web.route).toEqual({ source: 'bgp', prefix: `${web.ip}/32`, nextHops: NODE_IPS, installed: true });
    expect(web.answer).toMatchObject({ ok: true, status: 200 });
    expect(web.answer.body).toMatch(/^node-[123]$/);
  });

  it('stays up after the report: nginx keeps routing by host name and refuses an unknown one', () => {
    const ip = report.rows[0]?.ip ?? '';
    const get = (hostName: string): Answer => {
      const r = spawnSync('ip', ['netns', 'exec', report.clientNs, process.execPath, HTTP_HOST, hostName, ip, '80', '2000'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`http-host.js: ${r.stderr}`);
      return JSON.parse(r.stdout) as Answer;
    };
    for (const r of INGRESS_ROUTES) expect(get(r.hostName).body).toMatch(new RegExp(`^${r.app}@node-[123]$`));
    expect(get('nope.sandbox.test')).toMatchObject({ ok: false, status: 404, body: 'no route for host nope.sandbox.test' });
    expect(child?.exitCode).toBeNull();
  });

  it('down stops the foreground process and leaves no namespace, process or file behind', async () => {
    expect(await downSandbox(dir)).toBe('stopped');
    expect(await exit).toBe(0);
    const left = [...(await listNamespaces())].filter((n) => n.startsWith(`${prefix}-`));
    expect(left).toEqual([]);
    const mine = processes().filter((p) => p.pid !== process.pid && (p.cmd.includes(dir) || p.cmd.includes(`herald-${prefix}`) || p.cmd.includes(`-${prefix}-`)));
    expect(mine).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(tmpdir()).filter((f) => f.includes(`-${prefix}-`))).toEqual([]);
  }, 60_000);
});
