import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { LabError } from './errors.js';
import { createLab, distScript, listNamespaces, type Lab } from './lab.js';
import { run } from './run.js';

const ROOT = process.getuid?.() === 0;
const describeRoot = ROOT ? describe : describe.skip;

const VIP4 = '192.0.2.100';
const VIP6 = '2001:db8::100';
/** Announced by nobody and DNATed by no node. */
const STRAY4 = '192.0.2.101';
const STRAY6 = '2001:db8::101';
/** Long enough for a GET across the bridge (a few ms), short enough to keep the unanswered cases quick. */
const SHORT = { timeoutMs: 500 };

async function ours(prefix: string): Promise<string[]> {
  return [...(await listNamespaces())].filter((n) => n.startsWith(`${prefix}-`));
}

function processGone(pid: number): boolean {
  try {
    return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describeRoot('nodes serving a LoadBalancer IP through nftables DNAT, as kube-proxy would (needs root)', () => {
  let lab: Lab;

  /** What the speaker will do with ARP/NDP: make the client send the VIP's frames to `node`. */
  async function pointVip(vip: string, node: string): Promise<void> {
    const r = await lab.exec('client', 'ip', ['neigh', 'replace', vip, 'lladdr', lab.host(node).mac, 'dev', 'eth0', 'nud', 'permanent']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
  }

  async function dnatRules(host: string): Promise<string[]> {
    const r = await lab.exec(host, 'nft', ['list', 'chain', 'inet', 'herald_lab', 'prerouting']);
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l.includes(' dnat '));
  }

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, client: true });
    await Promise.all(
      lab.nodes.map(async (n) => {
        await lab.serveHttp(n);
        await lab.dnat(n, VIP4);
        await lab.dnat(n, VIP6);
      }),
    );
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("answers on each node's own addresses, IPv4 and IPv6, with the node's name", async () => {
    for (const n of lab.nodes) {
      const h = lab.host(n);
      await expect(lab.httpGet('client', h.ipv4, { port: 8080 })).resolves.toMatchObject({ ok: true, status: 200, body: `${n}\n`, code: 'OK' });
      await expect(lab.httpGet('client', h.ipv6, { port: 8080 })).resolves.toMatchObject({ ok: true, status: 200, body: `${n}\n`, code: 'OK' });
    }
  });

  it('delivers the IPv4 VIP to whichever node the client resolves it to', async () => {
    await pointVip(VIP4, 'node-1');
    await expect(lab.httpGet('client', VIP4)).resolves.toMatchObject({ ok: true, status: 200, body: 'node-1\n' });
    await pointVip(VIP4, 'node-2');
    await expect(lab.httpGet('client', VIP4)).resolves.toMatchObject({ ok: true, status: 200, body: 'node-2\n' });
  });

  it('delivers the IPv6 VIP to whichever node the client resolves it to', async () => {
    await pointVip(VIP6, 'node-1');
    await expect(lab.httpGet('client', VIP6)).resolves.toMatchObject({ ok: true, status: 200, body: 'node-1\n' });
    await pointVip(VIP6, 'node-2');
    await expect(lab.httpGet('client', VIP6)).resolves.toMatchObject({ ok: true, status: 200, body: 'node-2\n' });
  });

  it('does not hold the VIP as an address on any node', async () => {
    for (const n of lab.nodes) {
      const r = await lab.exec(n, 'ip', ['-j', 'addr', 'show']);
      expect(r.stdout).not.toContain(`"${VIP4}"`);
      expect(r.stdout).not.toContain(`"${VIP6}"`);
    }
  });

  it('leaves a VIP that no node DNATs unanswered, even when its frames reach a node', async () => {
    await pointVip(STRAY4, 'node-1');
    await pointVip(STRAY6, 'node-1');
    for (const ip of [STRAY4, STRAY6]) {
      const r = await lab.httpGet('client', ip, SHORT);
      expect(r).toMatchObject({ ok: false });
      expect(r.status).toBeUndefined();
      expect(r.code).not.toBe('OK');
    }
  });

  it('answers nothing on a VIP port it was not told about', async () => {
    await pointVip(VIP4, 'node-1');
    await expect(lab.httpGet('client', VIP4, { port: 81, ...SHORT })).resolves.toMatchObject({ ok: false });
  });

  it('keeps one rule per VIP and port, however often dnat is called, and re-targets it on a new toPort', async () => {
    await pointVip(VIP4, 'node-1');
    await lab.serveHttp('node-1', { port: 8081, name: 'node-1-alt' });
    await lab.dnat('node-1', VIP4);
    await lab.dnat('node-1', VIP4);
    expect((await dnatRules('node-1')).filter((l) => l.includes(`daddr ${VIP4} `))).toHaveLength(1);

    await lab.dnat('node-1', VIP4, { toPort: 8081 });
    await expect(lab.httpGet('client', VIP4)).resolves.toMatchObject({ ok: true, body: 'node-1-alt\n' });
    await lab.dnat('node-1', VIP4, { port: 8443 });
    await expect(lab.httpGet('client', VIP4, { port: 8443 })).resolves.toMatchObject({ ok: true, body: 'node-1\n' });
    expect((await dnatRules('node-1')).filter((l) => l.includes(`daddr ${VIP4} `))).toHaveLength(2);

    await lab.dnat('node-1', VIP4);
    await expect(lab.httpGet('client', VIP4)).resolves.toMatchObject({ ok: true, body: 'node-1\n' });
  });

  it('accepts an IPv6 VIP however it is written: one rule for 2001:DB8:0::100 and 2001:db8::100', async () => {
    await lab.dnat('node-2', '2001:DB8:0::100');
    expect((await dnatRules('node-2')).filter((l) => l.includes(`daddr ${VIP6} `))).toHaveLength(1);
  });

  it('stops answering for a VIP after undnat, and leaves the node serving its other VIPs', async () => {
    await pointVip(VIP4, 'node-1');
    await pointVip(VIP6, 'node-1');
    await expect(lab.httpGet('client', VIP4)).resolves.toMatchObject({ ok: true, body: 'node-1\n' });

    await lab.undnat('node-1', VIP4);
    expect((await dnatRules('node-1')).filter((l) => l.includes(`daddr ${VIP4} `))).toEqual([]);
    await expect(lab.httpGet('client', VIP4, SHORT)).resolves.toMatchObject({ ok: false });
    await expect(lab.httpGet('client', VIP4, { port: 8443, ...SHORT })).resolves.toMatchObject({ ok: false });
    await expect(lab.httpGet('client', VIP6)).resolves.toMatchObject({ ok: true, body: 'node-1\n' });
    // node-2 still serves it.
    await pointVip(VIP4, 'node-2');
    await expect(lab.httpGet('client', VIP4)).resolves.toMatchObject({ ok: true, body: 'node-2\n' });

    await lab.undnat('node-1', VIP6);
    await expect(lab.httpGet('client', VIP6, SHORT)).resolves.toMatchObject({ ok: false });
  });

  it('treats undnat with nothing to remove as done, even where no table exists', async () => {
    await lab.undnat('node-1', VIP4);
    await lab.undnat('client', VIP4);
    const r = await lab.exec('client', 'nft', ['list', 'tables']);
    expect(r.stdout).not.toContain('herald_lab');
  });

  it('refuses a VIP, address or port that is none with BadOptions', async () => {
    await expect(lab.dnat('node-1', '192.0.2.300')).rejects.toMatchObject({ code: 'BadOptions' });
    await expect(lab.dnat('node-1', VIP4, { toPort: 70_000 })).rejects.toMatchObject({ code: 'BadOptions' });
    await expect(lab.undnat('node-1', 'node-1')).rejects.toThrow(LabError);
    await expect(lab.dnat('node-9', VIP4)).rejects.toMatchObject({ code: 'UnknownHost' });
    await expect(lab.httpGet('client', 'example.com')).rejects.toMatchObject({ code: 'BadOptions' });
  });

  it('fails serveHttp with the responder\'s reason when the port is taken', async () => {
    await expect(lab.serveHttp('node-2')).rejects.toThrow(/EADDRINUSE/);
  });

  it('runs a responder that prints its listening line and exits 0 on SIGTERM', async () => {
    const child = lab.spawn('node-2', process.execPath, [distScript('responder.js'), '--port', '9090', '--name', 'term'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', () => reject(new Error(`responder exited early: ${out}`)));
    });
    expect(JSON.parse(line)).toEqual({ event: 'listening', port: 9090 });
    await expect(lab.httpGet('client', lab.host('node-2').ipv6, { port: 9090 })).resolves.toMatchObject({ ok: true, body: 'term\n' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await expect(exited).resolves.toBe(0);
  });

  // Last: tears the lab down (afterAll would too, on any failure above).
  it('leaves no namespaces and no responders behind after destroy', async () => {
    const pids = (await Promise.all(lab.nodes.map((n) => run('ip', ['netns', 'pids', lab.host(n).ns])))).flatMap((r) => r.stdout.split('\n').filter(Boolean).map(Number));
    expect(pids.length).toBeGreaterThanOrEqual(3);
    await lab.destroy();
    expect(await ours(lab.prefix)).toEqual([]);
    expect(pids.filter((p) => !processGone(p))).toEqual([]);
  });
});
