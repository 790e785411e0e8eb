import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '@herald/lab';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/speaker announce: skipping the L2 announcer e2e test: it needs root (CI runs it as root)\n');
const describeRoot = ROOT ? describe : describe.skip;

// The compiled CLI: the lab runs it with `ip netns exec`, outside Jest's module system.
const CLI = fileURLToPath(new URL('../../dist/announce/cli.js', import.meta.url));
const V4 = '192.0.2.100';
const V6 = '2001:db8::100';
const UNOWNED_V4 = '192.0.2.101';
const UNOWNED_V6 = '2001:db8::101';
// The solicited-node group of 2001:db8::100 (ff02::1:ff00:100), as an Ethernet MAC.
const V6_GROUP = '33:33:ff:00:01:00';

/** Starts the announcer CLI in `host` and resolves once it logs `ready`. */
function startAnnouncer(lab: Lab, host: string): Promise<ChildProcess> {
  const child = lab.spawn(host, process.execPath, [CLI, '--ifname', 'eth0', '--ip', V4, '--ip', V6], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`announcer in ${host} not ready after 10 s: ${out}${err}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"event":"ready"')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`announcer in ${host} exited ${code}: ${out}${err}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeRoot('the L2 announcer on a LAN with a Linux client (needs root, arping, ndisc6)', () => {
  let lab: Lab;
  let node1: ChildProcess | undefined;
  let node2: ChildProcess | undefined;

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, client: true });
    // Let the client learn from announcements it did not ask for: Linux ignores a
    // gratuitous ARP for an address it has no entry for unless arp_accept=1, and creates
    // an entry from an unsolicited NA only with accept_untracked_na=1 on a forwarding
    // interface.
    for (const s of ['net.ipv4.conf.eth0.arp_accept=1', 'net.ipv6.conf.eth0.accept_untracked_na=1', 'net.ipv6.conf.eth0.forwarding=1']) {
      const r = await lab.exec('client', 'sysctl', ['-w', s]);
      if (r.status !== 0) throw new Error(`sysctl -w ${s}: ${r.stderr}`);
    }
    node1 = await startAnnouncer(lab, 'node-1');
  }, 30_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('answers arping for an owned IPv4 address with node-1\'s MAC', async () => {
    const r = await lab.exec('client', 'arping', ['-c', '1', '-w', '2', '-r', '-i', 'eth0', V4]);
    expect(r).toMatchObject({ status: 0 });
    expect(r.stdout.trim().toLowerCase()).toBe(lab.host('node-1').mac);
  });

  it('answers ndisc6 for an owned IPv6 address with node-1\'s MAC, having joined its solicited-node group', async () => {
    const maddr = await lab.exec('node-1', 'ip', ['maddr', 'show', 'dev', 'eth0']);
    expect(maddr.stdout).toContain(V6_GROUP);
    const r = await lab.exec('client', 'ndisc6', ['-1', '-q', '-r', '1', V6, 'eth0']);
    expect(r).toMatchObject({ status: 0 });
    expect(r.stdout.trim().toLowerCase()).toBe(lab.host('node-1').mac);
  });

  it('stays silent for addresses it does not own', async () => {
    const arp = await lab.exec('client', 'arping', ['-c', '1', '-w', '1', '-r', '-i', 'eth0', UNOWNED_V4]);
    expect(arp.status).not.toBe(0);
    expect(arp.stdout.trim()).toBe('');
    const nd = await lab.exec('client', 'ndisc6', ['-1', '-q', '-r', '1', '-w', '500', UNOWNED_V6, 'eth0']);
    expect(nd.status).not.toBe(0);
    expect(nd.stdout.trim()).toBe('');
  });

  it('moves the client\'s neighbour entries to node-2 without the client asking when the announcement moves', async () => {
    const n1 = lab.host('node-1').mac;
    const n2 = lab.host('node-2').mac;
    // node-1's burst at start created the entries (the client never resolved these
    // addresses itself: arping and ndisc6 use their own sockets, not the kernel's table).
    await until('client entries for node-1', async () => {
      const [a, b] = await Promise.all([lab.neighbour('client', V4), lab.neighbour('client', V6)]);
      return a?.mac === n1 && b?.mac === n1 ? true : undefined;
    });
    // Linux ignores an ARP update within locktime (1 s) of the previous one.
    await new Promise((r) => setTimeout(r, 1_100));

    expect(await stop(node1 as ChildProcess)).toBe(0);
    node1 = undefined;
    const left = await lab.exec('node-1', 'ip', ['maddr', 'show', 'dev', 'eth0']);
    expect(left.stdout).not.toContain(V6_GROUP);

    node2 = await startAnnouncer(lab, 'node-2');
    await until('client entries for node-2', async () => {
      const [a, b] = await Promise.all([lab.neighbour('client', V4), lab.neighbour('client', V6)]);
      return a?.mac === n2 && b?.mac === n2 ? true : undefined;
    });

    // And node-2 answers an active question, while it still says nothing for 192.0.2.101.
    const r = await lab.exec('client', 'arping', ['-c', '1', '-w', '2', '-r', '-i', 'eth0', V4]);
    expect(r.stdout.trim().toLowerCase()).toBe(n2);
    const silent = await lab.exec('client', 'arping', ['-c', '1', '-w', '1', '-r', '-i', 'eth0', UNOWNED_V4]);
    expect(silent.status).not.toBe(0);
    expect(await stop(node2)).toBe(0);
  });

  it('leaves no solicited-node group behind when the announcer is killed with SIGKILL', async () => {
    // The NDP socket holds the membership, so the kernel drops it with the dead process's
    // sockets; an `ip maddr add` made by the announcer would have stayed.
    const child = await startAnnouncer(lab, 'node-1');
    const joined = await lab.exec('node-1', 'ip', ['maddr', 'show', 'dev', 'eth0']);
    expect(joined.stdout).toContain(V6_GROUP);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const left = await lab.exec('node-1', 'ip', ['maddr', 'show', 'dev', 'eth0']);
    expect(left.stdout).not.toContain(V6_GROUP);
  });
});
