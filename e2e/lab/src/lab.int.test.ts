import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LabError } from './errors.js';
import { createLab, listNamespaces, withLab, type Lab } from './lab.js';
import { randomPrefix } from './plan.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/lab: skipping network-namespace tests: they need root (CI runs them as root)\n');
const describeRoot = ROOT ? describe : describe.skip;
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

async function ours(prefix: string): Promise<string[]> {
  return [...(await listNamespaces())].filter((n) => n.startsWith(`${prefix}-`));
}

function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /\) [ZX] /.test(stat);
  } catch {
    return true;
  }
}

describeRoot('a lab of 3 nodes and a client (needs root)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ nodes: 3, client: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('names every namespace with the run prefix and gives hosts their planned addresses', async () => {
    expect(lab.namespaces).toEqual(['lan', 'node-1', 'node-2', 'node-3', 'client'].map((n) => `${lab.prefix}-${n}`));
    expect((await ours(lab.prefix)).sort()).toEqual([...lab.namespaces].sort());
    const r = await lab.exec('node-1', 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"address":"02:30:00:00:00:11"');
    expect(r.stdout).toContain('"local":"192.0.2.11"');
    expect(r.stdout).toContain('"local":"2001:db8::11"');
    const lo = await lab.exec('client', 'ip', ['-j', 'link', 'show', 'dev', 'lo']);
    expect(lo.stdout).toContain('"operstate":"UNKNOWN"');
    expect(lo.stdout).toContain('"UP"');
  });

  it('reaches node-2 from the client over IPv4 and IPv6, and the client then holds node-2\'s MAC for both', async () => {
    const n2 = lab.host('node-2');
    await expect(lab.reachable('client', n2.ipv4)).resolves.toMatchObject({ reachable: true });
    await expect(lab.reachable('client', n2.ipv6)).resolves.toMatchObject({ reachable: true });
    await expect(lab.neighbour('client', n2.ipv4)).resolves.toMatchObject({ ip: n2.ipv4, mac: n2.mac });
    await expect(lab.neighbour('client', n2.ipv6)).resolves.toMatchObject({ ip: n2.ipv6, mac: n2.mac });
    await expect(lab.neighbour('client', lab.host('node-3').ipv4)).resolves.toBeUndefined();
  });

  it('cuts node-2 off with linkDown and brings it back with linkUp', async () => {
    const n2 = lab.host('node-2');
    await lab.linkDown('node-2');
    try {
      await expect(lab.reachable('client', n2.ipv4, { timeoutMs: 500 })).resolves.toMatchObject({ reachable: false });
      await expect(lab.reachable('client', n2.ipv6, { timeoutMs: 500 })).resolves.toMatchObject({ reachable: false });
      // node-1 is unaffected.
      await expect(lab.reachable('client', lab.host('node-1').ipv4)).resolves.toMatchObject({ reachable: true });
      const carrier = await lab.exec('node-2', 'ip', ['-j', 'link', 'show', 'dev', 'eth0']);
      expect(carrier.stdout).toContain('NO-CARRIER');
    } finally {
      await lab.linkUp('node-2');
    }
    await expect(lab.reachable('client', n2.ipv4)).resolves.toMatchObject({ reachable: true });
    await expect(lab.reachable('client', n2.ipv6)).resolves.toMatchObject({ reachable: true });
  });

  it('throws UnknownHost for a host it does not have', () => {
    expect(() => lab.host('node-9')).toThrow(LabError);
  });
});

describeRoot('lab lifecycle (needs root)', () => {
  it('kills what it spawned and deletes exactly its namespaces, twice without harm', async () => {
    const lab = await createLab({ nodes: 1 });
    const other = await createLab({ nodes: 1 });
    try {
      const sleeper = lab.spawn('node-1', 'sleep', ['1000'], { stdio: 'ignore' });
      expect(sleeper.pid).toBeDefined();
      await lab.destroy();
      await lab.destroy();
      expect(processGone(sleeper.pid ?? 0)).toBe(true);
      expect(await ours(lab.prefix)).toEqual([]);
      // Another lab's namespaces are not touched.
      expect((await ours(other.prefix)).sort()).toEqual([...other.namespaces].sort());
      await expect(lab.exec('node-1', 'true')).rejects.toThrow(LabError);
    } finally {
      await other.destroy();
    }
  });

  it('leaves none of its namespaces when the test body throws', async () => {
    let prefix = '';
    await expect(
      withLab({ nodes: 2, client: true }, async (lab) => {
        prefix = lab.prefix;
        expect(await ours(prefix)).toHaveLength(4);
        throw new Error('test body failed');
      }),
    ).rejects.toThrow('test body failed');
    expect(prefix).not.toBe('');
    expect(await ours(prefix)).toEqual([]);
  });

  it('refuses to build when a namespace of the same name exists, and leaves that one alone', async () => {
    const prefix = randomPrefix();
    const first = await createLab({ nodes: 1, prefix });
    try {
      await expect(createLab({ nodes: 2, prefix })).rejects.toMatchObject({ code: 'NameTaken' });
      expect((await ours(prefix)).sort()).toEqual([...first.namespaces].sort());
      await expect(first.reachable('node-1', first.host('node-1').ipv4)).resolves.toMatchObject({ reachable: true });
    } finally {
      await first.destroy();
    }
  });

  it.each(['SIGTERM', 'SIGINT', 'uncaught exception'])('cleans up when its process ends by %s', async (how) => {
    const prefix = randomPrefix();
    const script = `
      const { createLab } = await import(${JSON.stringify(DIST_INDEX)});
      const lab = await createLab({ nodes: 1, prefix: ${JSON.stringify(prefix)} });
      const s = lab.spawn('node-1', 'sleep', ['1000'], { stdio: 'ignore' });
      process.stdout.write(JSON.stringify({ pid: s.pid }) + '\\n');
      if (${JSON.stringify(how)} === 'uncaught exception') setTimeout(() => { throw new Error('boom'); }, 50);
      else setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', () => reject(new Error(`child exited before building its lab: ${out}`)));
    });
    const { pid } = JSON.parse(line) as { pid: number };
    expect(await ours(prefix)).toHaveLength(2);
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    if (how !== 'uncaught exception') child.kill(how as NodeJS.Signals);
    await exited;
    expect(await ours(prefix)).toEqual([]);
    expect(processGone(pid)).toBe(true);
  });

  it('with ipv6Dad "wait", returns only once no address is tentative', async () => {
    await withLab({ nodes: 1, client: true, ipv6Dad: 'wait' }, async (lab) => {
      const r = await lab.exec('node-1', 'ip', ['-6', '-j', 'addr', 'show', 'dev', 'eth0', 'tentative']);
      expect(r.stdout).not.toContain('"local"');
      await expect(lab.reachable('client', lab.host('node-1').ipv6)).resolves.toMatchObject({ reachable: true });
    });
  });

  it.each([3, 20])('builds and tears down %i nodes + client quickly', async (nodes) => {
    const t0 = performance.now();
    const lab = await createLab({ nodes, client: true });
    const built = performance.now() - t0;
    let torn = 0;
    try {
      const last = lab.host(`node-${nodes}`);
      await expect(lab.reachable('client', last.ipv6)).resolves.toMatchObject({ reachable: true });
    } finally {
      const t1 = performance.now();
      await lab.destroy();
      torn = performance.now() - t1;
    }
    process.stderr.write(`@herald/lab: ${nodes} nodes + client: build ${built.toFixed(0)} ms, teardown ${torn.toFixed(0)} ms\n`);
    expect(built).toBeLessThan(10_000);
    expect(torn).toBeLessThan(10_000);
    expect(await ours(lab.prefix)).toEqual([]);
  });
});
