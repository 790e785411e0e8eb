// Sends real frames between two network namespaces joined by a veth pair, and joins
// multicast groups on it. Needs root (network namespaces, CAP_NET_RAW); skipped otherwise.
// Nothing touches the caller's namespace: the veth pairs are created inside the test's own
// namespaces. The senders, receivers and group members are child processes started with
// `ip netns exec`, running the built dist/.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

const suffix = randomBytes(3).toString('hex');
const NS_A = `hn-a-${suffix}`;
const NS_B = `hn-b-${suffix}`;
const IFNAME = 'hn0';
const MAC_A = '02:48:4e:00:00:0a';
const MAC_B = '02:48:4e:00:00:0b';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const macBytes = (mac: string): Buffer => Buffer.from(mac.replaceAll(':', ''), 'hex');

/** Gratuitous ARP (RFC 5227 announcement): a request for the sender's own address, broadcast. */
function gratuitousArp(mac: Buffer, addr: readonly number[]): Buffer {
  return Buffer.concat([
    Buffer.alloc(6, 0xff), mac, Buffer.from([0x08, 0x06]), // Ethernet: broadcast, ARP
    Buffer.from([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]), // htype 1, ptype IPv4, hlen 6, plen 4, op request
    mac, Buffer.from(addr), Buffer.alloc(6), Buffer.from(addr),
  ]);
}

/** An IPv6 frame to ff02::1 from fe80::1 with the given next header, hop limit and payload. */
function ipv6Frame(mac: Buffer, nextHeader: number, hopLimit: number, payload: Buffer): Buffer {
  const hdr = Buffer.alloc(40);
  hdr.writeUInt32BE(0x6000_0000, 0);
  hdr.writeUInt16BE(payload.length, 4);
  hdr[6] = nextHeader;
  hdr[7] = hopLimit;
  hdr[8] = 0xfe;
  hdr[9] = 0x80;
  hdr[23] = 1;
  hdr[24] = 0xff;
  hdr[25] = 0x02;
  hdr[39] = 1;
  return Buffer.concat([Buffer.from([0x33, 0x33, 0, 0, 0, 1]), mac, Buffer.from([0x86, 0xdd]), hdr, payload]);
}

/** An unsolicited neighbour advertisement for 2001:db8::99 (checksum left zero: only this test reads it). */
function neighbourAdvertisement(mac: Buffer): Buffer {
  const na = Buffer.alloc(32);
  na[0] = 136; // RFC 4861 4.4: type 136
  na[4] = 0x20; // override flag
  Buffer.from('20010db8000000000000000000000099', 'hex').copy(na, 8);
  na[24] = 2; // target link-layer address option, length 1 (8 bytes)
  na[25] = 1;
  mac.copy(na, 26);
  return ipv6Frame(mac, 58, 255, na);
}

// tcpdump -dd 'ip6 and ip6[6] == 58 and ip6[40] == 136', by hand: keep only neighbour advertisements.
const NA_FILTER = [
  { code: 0x28, jt: 0, jf: 0, k: 12 }, // ldh [12]: ethertype
  { code: 0x15, jt: 0, jf: 5, k: 0x86dd },
  { code: 0x30, jt: 0, jf: 0, k: 20 }, // ldb [20]: next header
  { code: 0x15, jt: 0, jf: 3, k: 58 },
  { code: 0x30, jt: 0, jf: 0, k: 54 }, // ldb [54]: ICMPv6 type
  { code: 0x15, jt: 0, jf: 1, k: 136 },
  { code: 0x06, jt: 0, jf: 0, k: 0x40000 },
  { code: 0x06, jt: 0, jf: 0, k: 0 },
];

// Receiver: prints "ready", then every frame from `from` as hex until one starts with `until`,
// then closes the socket and lets the event loop end (the poll handle must not hold it).
const RECEIVER = `
const { openPacketSocket } = await import(process.env.HN_DIST);
const cfg = JSON.parse(process.env.HN_CFG);
const s = openPacketSocket({ ifname: cfg.ifname, ethertype: cfg.ethertype, ...(cfg.filter ? { filter: cfg.filter } : {}) });
s.onError((err) => process.stdout.write(JSON.stringify({ error: err.message }) + '\\n'));
s.onFrame((frame) => {
  const hex = frame.toString('hex');
  if (hex.slice(12, 24) !== cfg.from) return;
  process.stdout.write(JSON.stringify({ frame: hex }) + '\\n');
  if (hex.startsWith(cfg.until)) {
    s.close();
    s.close();
  }
});
process.stdout.write(JSON.stringify({ ready: true, mac: s.mac.toString('hex'), ifindex: s.ifindex }) + '\\n');
`;

// Sender: reports its socket, the errors of bad sends, sends the frames, closes twice and
// sends after close; a handler set before close must not keep the process alive.
const SENDER = `
const { openPacketSocket, interfaceInfo } = await import(process.env.HN_DIST);
const cfg = JSON.parse(process.env.HN_CFG);
const s = openPacketSocket({ ifname: cfg.ifname, ethertype: cfg.ethertype });
const report = { mac: s.mac.toString('hex'), ifindex: s.ifindex, info: interfaceInfo(cfg.ifname) };
report.info.mac = report.info.mac.toString('hex');
const attempt = (f) => { try { f(); return 'no error'; } catch (e) { return e.name + ' ' + e.code + ': ' + e.message; } };
report.short = attempt(() => s.send(Buffer.alloc(5)));
report.notBuffer = attempt(() => s.send('frame'));
report.tooLong = attempt(() => s.send(Buffer.alloc(9000)));
s.onFrame(() => {});
for (const hex of cfg.frames) s.send(Buffer.from(hex, 'hex'));
s.close();
s.close();
report.afterClose = attempt(() => s.send(Buffer.from(cfg.frames[0], 'hex')));
report.closed = s.closed;
process.stdout.write(JSON.stringify(report) + '\\n');
`;

// Group member: opens an IPv6 packet socket, prints "ready", then runs one command per
// stdin line ({ id, op: addMembership | dropMembership | close, mac }) and prints its outcome.
// A mac "hex:..." is passed as a Buffer. Stdin's end lets the event loop end.
const MEMBER = `
import { createInterface } from 'node:readline';
const { openPacketSocket } = await import(process.env.HN_DIST);
const cfg = JSON.parse(process.env.HN_CFG);
const s = openPacketSocket({ ifname: cfg.ifname, ethertype: 0x86dd });
const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.name + ' ' + e.code + ': ' + e.message; } };
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, op, mac } = JSON.parse(line);
  const arg = typeof mac === 'string' && mac.startsWith('hex:') ? Buffer.from(mac.slice(4), 'hex') : mac;
  const result = op === 'close' ? attempt(() => s.close()) : attempt(() => s[op](arg));
  process.stdout.write(JSON.stringify({ id, result }) + '\\n');
});
process.stdout.write(JSON.stringify({ ready: true }) + '\\n');
`;

interface Child {
  proc: ChildProcess;
  /** Resolves with the next JSON line matching `pred`. */
  next(pred: (msg: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Every JSON line so far. */
  seen: readonly Record<string, unknown>[];
  exited: Promise<number | null>;
  stderr(): string;
}

const children: ChildProcess[] = [];

function runIn(ns: string, script: string, cfg: unknown, opts: { stdin?: boolean } = {}): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, HN_DIST: pathToFileURL(DIST).href, HN_CFG: JSON.stringify(cfg) };
  delete env['NODE_OPTIONS']; // Jest's --experimental-vm-modules is not for the child
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], {
    env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const seen: Record<string, unknown>[] = [];
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    seen.push(msg);
    for (const w of [...waiters]) {
      if (w.pred(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    seen,
    exited,
    stderr: () => err,
    next(pred, timeoutMs = 5000) {
      const found = seen.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching output from ${ns} in ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        void exited.then((code) => reject(new Error(`child in ${ns} exited (${code}) first; stderr: ${err}`)));
      });
    },
  };
}

let commandId = 0;

/** Runs one command in a {@link MEMBER} child and resolves with its outcome ('ok' or the error). */
async function command(child: Child, op: 'addMembership' | 'dropMembership' | 'close', mac?: string): Promise<string> {
  const id = ++commandId;
  child.proc.stdin?.write(`${JSON.stringify({ id, op, mac })}\n`);
  return (await child.next((m) => m['id'] === id))['result'] as string;
}

/** The link-layer multicast groups of `ifname` in `ns`, as `ip maddr` lists them. */
function groups(ns: string, ifname: string): string[] {
  return ip('-n', ns, 'maddr', 'show', 'dev', ifname).split('\n').flatMap((l) => {
    const m = /^\s*link\s+(\S+)/.exec(l);
    return m?.[1] === undefined ? [] : [m[1]];
  });
}

/** Exit code of `child`, or a failure if it is still running after `ms` (a leaked poll handle). */
async function exitWithin(child: Child, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`child did not exit within ${ms} ms; stderr: ${child.stderr()}`)), ms);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const lab = isRoot ? describe : describe.skip;
const title = isRoot ? 'packet sockets between two network namespaces' : 'packet sockets between two network namespaces (skipped: needs root)';

lab(title, () => {
  const created: string[] = [];

  beforeAll(() => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` in speaker/native first`);
    const existing = ip('netns', 'list');
    for (const ns of [NS_A, NS_B]) {
      if (existing.split('\n').some((l) => l.split(' ')[0] === ns)) throw new Error(`network namespace ${ns} already exists; refusing to touch it`);
    }
    for (const ns of [NS_A, NS_B]) {
      ip('netns', 'add', ns);
      created.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('-n', NS_A, 'link', 'add', IFNAME, 'address', MAC_A, 'type', 'veth', 'peer', 'name', IFNAME, 'address', MAC_B, 'netns', NS_B);
    ip('-n', NS_A, 'addr', 'add', '192.0.2.1/24', 'dev', IFNAME);
    ip('-n', NS_B, 'addr', 'add', '192.0.2.2/24', 'dev', IFNAME);
    ip('-n', NS_A, 'link', 'set', IFNAME, 'up');
    ip('-n', NS_B, 'link', 'set', IFNAME, 'up');
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of created) ip('netns', 'del', ns);
  });

  it('carries a gratuitous ARP from one namespace to the other byte for byte', async () => {
    const garp = gratuitousArp(macBytes(MAC_A), [192, 0, 2, 1]);
    const receiver = runIn(NS_B, RECEIVER, { ifname: IFNAME, ethertype: 0x0806, from: MAC_A.replaceAll(':', ''), until: garp.toString('hex') });
    const ready = await receiver.next((m) => m['ready'] === true);
    expect(ready['mac']).toBe(MAC_B.replaceAll(':', ''));

    const sender = runIn(NS_A, SENDER, { ifname: IFNAME, ethertype: 0x0806, frames: [garp.toString('hex')] });
    const report = await sender.next((m) => 'afterClose' in m);
    expect(report).toMatchObject({
      mac: MAC_A.replaceAll(':', ''),
      info: { mac: MAC_A.replaceAll(':', ''), mtu: 1500, hwtype: 1, flags: { up: true, broadcast: true, loopback: false, multicast: true } },
      short: `RangeError ERR_OUT_OF_RANGE: send on ${IFNAME}: frame of 5 bytes is shorter than an Ethernet header`,
      notBuffer: 'TypeError ERR_INVALID_ARG_TYPE: frame must be a Buffer',
      tooLong: `Error EMSGSIZE: send on ${IFNAME}: Message too long`,
      afterClose: `Error ERR_SOCKET_CLOSED: send on ${IFNAME}: socket is closed`,
      closed: true,
    });
    expect(report['ifindex']).toBe((report['info'] as { ifindex: number }).ifindex);
    expect(await exitWithin(sender, 5000)).toBe(0);

    const got = await receiver.next((m) => m['frame'] === garp.toString('hex'));
    expect(got['frame']).toBe(garp.toString('hex')); // 42 bytes: a veth adds no padding
    expect(await exitWithin(receiver, 5000)).toBe(0);
  }, 20_000);

  it('reports ENETDOWN when the link goes down and keeps receiving once it is back', async () => {
    const garp = gratuitousArp(macBytes(MAC_A), [192, 0, 2, 1]);
    const receiver = runIn(NS_B, RECEIVER, { ifname: IFNAME, ethertype: 0x0806, from: MAC_A.replaceAll(':', ''), until: garp.toString('hex') });
    await receiver.next((m) => m['ready'] === true);
    ip('-n', NS_B, 'link', 'set', IFNAME, 'down');
    const down = await receiver.next((m) => 'error' in m);
    expect(down['error']).toBe(`receive on ${IFNAME}: Network is down`);
    ip('-n', NS_B, 'link', 'set', IFNAME, 'up');

    const sender = runIn(NS_A, SENDER, { ifname: IFNAME, ethertype: 0x0806, frames: [garp.toString('hex')] });
    expect(await exitWithin(sender, 5000)).toBe(0);
    await receiver.next((m) => m['frame'] === garp.toString('hex'));
    expect(await exitWithin(receiver, 5000)).toBe(0);
  }, 20_000);

  it('filters in the kernel and shows the received IPv6 hop limit (RFC 4861 needs 255)', async () => {
    const mac = macBytes(MAC_A);
    const na = neighbourAdvertisement(mac);
    const noNext = ipv6Frame(mac, 59, 64, Buffer.alloc(0));
    const receiver = runIn(NS_B, RECEIVER, {
      ifname: IFNAME,
      ethertype: 0x86dd,
      filter: NA_FILTER,
      from: MAC_A.replaceAll(':', ''),
      until: na.toString('hex').slice(0, 2 * 54),
    });
    await receiver.next((m) => m['ready'] === true);

    const sender = runIn(NS_A, SENDER, { ifname: IFNAME, ethertype: 0x86dd, frames: [noNext.toString('hex'), na.toString('hex')] });
    await sender.next((m) => 'afterClose' in m);
    expect(await exitWithin(sender, 5000)).toBe(0);

    const got = Buffer.from((await receiver.next((m) => m['frame'] === na.toString('hex')))['frame'] as string, 'hex');
    expect(got[14 + 7]).toBe(255); // IPv6 hop limit as received
    expect(await exitWithin(receiver, 5000)).toBe(0);
    // The filter let only advertisements through: the next-header-59 frame sent first never arrived.
    const nextHeaders = receiver.seen.flatMap((m) => (typeof m['frame'] === 'string' ? [Buffer.from(m['frame'], 'hex')[20]] : []));
    expect(nextHeaders).not.toContain(59);
  }, 20_000);

  describe('multicast membership', () => {
    // Solicited-node groups (RFC 4291 2.7.1) as Ethernet MACs (RFC 2464 7): ff02::1:ff00:100
    // and ff02::1:ff12:3456. Neither is the group of the veth's own link-local address.
    const G1 = '33:33:ff:00:01:00';
    const G2 = '33:33:ff:12:34:56';

    it('lists a joined group on the interface until the last join is dropped, counting joins as the kernel does', async () => {
      const member = runIn(NS_B, MEMBER, { ifname: IFNAME }, { stdin: true });
      await member.next((m) => m['ready'] === true);
      const before = groups(NS_B, IFNAME); // the kernel's own (all-hosts, ...)
      expect(before).not.toContain(G1);

      expect(await command(member, 'addMembership', G1)).toBe('ok');
      expect(await command(member, 'addMembership', G1)).toBe('ok');
      expect(await command(member, 'addMembership', `hex:${G2.replaceAll(':', '')}`)).toBe('ok');
      expect(groups(NS_B, IFNAME)).toEqual(expect.arrayContaining([G1, G2]));

      expect(await command(member, 'dropMembership', G2)).toBe('ok');
      expect(await command(member, 'dropMembership', G1)).toBe('ok');
      expect(groups(NS_B, IFNAME)).not.toContain(G2);
      expect(groups(NS_B, IFNAME)).toContain(G1); // joined twice, dropped once
      expect(await command(member, 'dropMembership', G1)).toBe('ok');
      expect(groups(NS_B, IFNAME)).not.toContain(G1);
      // Leaving a group not joined is the state asked for, not an error.
      expect(await command(member, 'dropMembership', G2)).toBe('ok');
      // The kernel's own groups are left as they were.
      expect(groups(NS_B, IFNAME)).toEqual(before);

      expect(await command(member, 'addMembership', MAC_B)).toBe(
        'TypeError ERR_INVALID_ARG_VALUE: mac must be a 6-byte Buffer holding a multicast MAC (group bit set)',
      );
      expect(await command(member, 'addMembership', 'hex:3333ff0001')).toMatch(/^TypeError ERR_INVALID_ARG_VALUE: /);
      expect(await command(member, 'addMembership', '33-33-ff-00-01-00')).toBe(
        'TypeError ERR_INVALID_ARG_VALUE: mac must be 6 bytes or xx:xx:xx:xx:xx:xx, not "33-33-ff-00-01-00"',
      );

      expect(await command(member, 'addMembership', G1)).toBe('ok');
      expect(await command(member, 'close')).toBe('ok');
      expect(groups(NS_B, IFNAME)).not.toContain(G1); // close dropped it
      expect(await command(member, 'addMembership', G1)).toBe(`Error ERR_SOCKET_CLOSED: PACKET_ADD_MEMBERSHIP on ${IFNAME}: socket is closed`);
      expect(await command(member, 'dropMembership', G1)).toBe('ok');
      member.proc.stdin?.end();
      expect(await exitWithin(member, 5000)).toBe(0);
    }, 20_000);

    it('leaves nothing behind when the process holding the membership is killed with SIGKILL', async () => {
      const member = runIn(NS_B, MEMBER, { ifname: IFNAME }, { stdin: true });
      await member.next((m) => m['ready'] === true);
      expect(await command(member, 'addMembership', G2)).toBe('ok');
      expect(groups(NS_B, IFNAME)).toContain(G2);
      member.proc.kill('SIGKILL');
      await member.exited;
      expect(member.proc.signalCode).toBe('SIGKILL');
      expect(groups(NS_B, IFNAME)).not.toContain(G2);
    }, 20_000);

    it('names the group, the interface and the errno when the kernel refuses to join', async () => {
      // A second veth pair, deleted under the open socket: the kernel no longer knows its index.
      ip('-n', NS_A, 'link', 'add', 'hn9', 'type', 'veth', 'peer', 'name', 'hn8');
      const member = runIn(NS_A, MEMBER, { ifname: 'hn9' }, { stdin: true });
      try {
        await member.next((m) => m['ready'] === true);
      } finally {
        ip('-n', NS_A, 'link', 'del', 'hn9');
      }
      expect(await command(member, 'addMembership', G1)).toBe(`Error ENODEV: PACKET_ADD_MEMBERSHIP ${G1} on hn9: No such device`);
      member.proc.stdin?.end();
      expect(await exitWithin(member, 5000)).toBe(0);
    }, 20_000);
  });
});
