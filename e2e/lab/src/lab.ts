import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { LabError } from './errors.js';
import { onProcessExit } from '@herald/e2e-harness';
import type { HttpResult } from './http.js';
import { canonicalIp, dnatScript, deleteScript, dnatComment, isVipComment, LIST_CHAIN_ARGS, ruleHandles } from './nat.js';
import { hostBatch, lanBatch, planLab, planNamespaces, type HostPlan, type LabOptions, type LabPlan } from './plan.js';
import { describeFailure, run, runSync, type ExecResult, type RunOptions } from './run.js';

/** One host of the lab. */
export type LabHost = HostPlan;

/** A neighbour-table entry as `ip -j neigh show` reports it. */
export interface Neighbour {
  readonly ip: string;
  /** Absent while the entry is INCOMPLETE or FAILED. */
  readonly mac?: string;
  /** Kernel NUD states, e.g. `['REACHABLE']`, `['STALE']`, `['FAILED']`. */
  readonly state: readonly string[];
}

/** The outcome of {@link Lab.reachable}. */
export interface ProbeResult {
  readonly reachable: boolean;
  /** `CONNECTED`, `ECONNREFUSED`, `TIMEOUT`, or the socket error code. */
  readonly code: string;
  readonly ms: number;
}

/** Options of {@link Lab.spawn}: Node's, except `detached`, which the lab needs (one process group per spawn). */
export type LabSpawnOptions = Omit<SpawnOptions, 'detached'>;

/** A built lab. Every method that touches a host throws `LabError('UnknownHost')` for a name it does not hold. */
export interface Lab {
  readonly prefix: string;
  /** The namespace holding the bridge `br0` and the hosts' bridge-side ports. */
  readonly lanNs: string;
  /** A private folder (Unix sockets, kubeconfig copies); removed by `destroy`. */
  readonly dir: string;
  /** Host name -> host. */
  readonly hosts: Readonly<Record<string, LabHost>>;
  /** Node host names in order: `node-1` .. `node-N`. */
  readonly nodes: readonly string[];
  /** The namespaces this lab created (and `destroy` deletes). */
  readonly namespaces: readonly string[];
  /** The host, or `LabError('UnknownHost')`. */
  host(name: string): LabHost;
  /** Runs `cmd args` inside the host's namespace (`ip netns exec`) to completion. */
  exec(host: string, cmd: string, args?: readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Starts a long-lived process inside the host's namespace; `destroy` kills its process group. */
  spawn(host: string, cmd: string, args?: readonly string[], opts?: LabSpawnOptions): ChildProcess;
  /**
   * Hands a process started elsewhere (e.g. in the root namespace) to the lab, so
   * `destroy` kills it. It must lead its own process group (`detached: true`).
   */
  adopt(child: ChildProcess): void;
  /** Cuts the host's link at the bridge side (as unplugging a cable would; the host sees NO-CARRIER). */
  linkDown(host: string): Promise<void>;
  /** Restores it; with `ipv6Dad: 'wait'`, returns once the host has no tentative address. */
  linkUp(host: string): Promise<void>;
  /** The host's neighbour entry for `ip` on eth0, if it has one. */
  neighbour(host: string, ip: string): Promise<Neighbour | undefined>;
  /**
   * A ping that needs no ICMP tool: a TCP connection attempt from `from` to `ip:port`
   * (default port 9, normally closed). A SYN-ACK or a RST both prove that the target's
   * kernel answered, so neighbour resolution and the round trip worked; a timeout or an
   * unreachable error means they did not.
   */
  reachable(from: string, ip: string, opts?: { port?: number; timeoutMs?: number }): Promise<ProbeResult>;
  /**
   * Starts an HTTP responder in the host's namespace (`dist/responder.js`, spawned like
   * {@link Lab.spawn}, so `destroy` stops it): it listens on `[::]:port` (IPv4 too, default
   * port 8080) and answers every request with 200, the body `name\n` and the header
   * `x-herald-node: name` (default name: the host name). Resolves once it listens.
   */
  serveHttp(host: string, opts?: { port?: number; name?: string }): Promise<void>;
  /**
   * Makes the host deliver TCP to `vip:port` (default 80) locally, the way kube-proxy
   * serves a LoadBalancer IP: an nftables rule in the host's namespace (table
   * `inet herald_lab`, chain `prerouting`, nat hook at dstnat priority, both created
   * on first use) DNATs it to the host's own eth0 address of the VIP's family, port
   * `toPort` (default 8080). The VIP is not added to the host. Calling it again for the
   * same VIP and port replaces the rule. The rules go with the namespace on `destroy`.
   */
  dnat(host: string, vip: string, opts?: { port?: number; toPort?: number }): Promise<void>;
  /** Removes every DNAT rule of `vip` (all ports) from the host; nothing to remove is fine. */
  undnat(host: string, vip: string): Promise<void>;
  /**
   * One HTTP GET of `http://ip:port/` (default port 80, timeout 2 s) from inside `from`'s
   * namespace (`dist/http-get.js`). Never rejects for a network failure: `ok` is false and
   * `code` says why (`TIMEOUT`, `ECONNREFUSED`, `EHOSTUNREACH`, ...).
   */
  httpGet(from: string, ip: string, opts?: { port?: number; timeoutMs?: number }): Promise<HttpResult>;
  /** Kills what the lab spawned and deletes exactly the namespaces it created. Safe to call twice. */
  destroy(): Promise<void>;
}

/** A script shipped in dist/; the same path from src/ (under ts-jest) and from dist/. */
export function distScript(name: string): string {
  return fileURLToPath(new URL(`../dist/${name}`, import.meta.url));
}

const netnsList = z.array(z.looseObject({ name: z.string() }));
const neighList = z.array(z.looseObject({ dst: z.string(), lladdr: z.string().optional(), state: z.array(z.string()).optional() }));
const addrList = z.array(z.looseObject({ ifname: z.string().optional(), addr_info: z.array(z.looseObject({ local: z.string().optional(), tentative: z.boolean().optional(), dadfailed: z.boolean().optional() })).optional() }));
const probeOut = z.object({ reachable: z.boolean(), code: z.string(), ms: z.number() });
const httpOut = z.object({ ok: z.boolean(), status: z.number().optional(), body: z.string().optional(), code: z.string(), ms: z.number() });
const listeningLine = z.object({ event: z.literal('listening'), port: z.number() });

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  try {
    return schema.parse(text.trim() === '' ? [] : JSON.parse(text));
  } catch (err) {
    throw new LabError('BadOutput', `${what}: unexpected output ${JSON.stringify(text.slice(0, 200))}`, { cause: err });
  }
}

/** Names of all network namespaces on the machine (`ip netns list`). */
export async function listNamespaces(): Promise<Set<string>> {
  const r = await run('ip', ['-j', 'netns', 'list']);
  if (r.status !== 0) throw new LabError('CommandFailed', describeFailure('ip -j netns list', r));
  return new Set(parseJson(netnsList, r.stdout, 'ip -j netns list').map((n) => n.name));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const isRunning = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined || !isRunning(c)) return;
  try {
    process.kill(-c.pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

/** Resolves once the child has exited, or after `ms`; leaves no timer behind. */
function exitWithin(c: ChildProcess, ms: number): Promise<void> {
  if (!isRunning(c)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      c.off('exit', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    c.once('exit', done);
  });
}

async function stopChild(c: ChildProcess, graceMs: number): Promise<void> {
  killGroup(c, 'SIGTERM');
  await exitWithin(c, graceMs);
  if (!isRunning(c)) return;
  killGroup(c, 'SIGKILL');
  await exitWithin(c, 2_000);
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LabError('BadOptions', `${what}: want a TCP port 1..65535 (got ${port})`);
  return port;
}

function checkIp(text: string, what: string): { ip: string; family: 4 | 6 } {
  const ip = canonicalIp(text);
  if (!ip) throw new LabError('BadOptions', `${what} ${JSON.stringify(text)}: want an IPv4 or IPv6 address`);
  return ip;
}

/**
 * Waits for the responder's `{"event":"listening"}` line. Fails with its stderr if it
 * exits first or stays silent (and then kills it). Keeps draining stderr afterwards.
 */
function waitListening(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const finish = (e?: LabError): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    };
    const onOut = (b: Buffer): void => {
      out += b.toString('utf8');
      const lines = out.split('\n');
      if (lines.slice(0, -1).some((l) => listeningLine.safeParse(safeJson(l)).success)) finish();
    };
    const onExit = (code: number | null, signal: string | null): void => finish(new LabError('CommandFailed', `${what}: exited (${code ?? signal}) before listening: ${err.trim()}`));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      finish(new LabError('CommandFailed', `${what}: not listening after ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.stderr?.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-2_000);
    });
    child.stdout?.on('data', onOut);
    child.on('exit', onExit);
  });
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Lets a long-lived helper neither keep this process alive nor block on a full pipe; its stdin stays open as its lifeline. */
function background(child: ChildProcess): void {
  child.stdout?.resume();
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
  (child.stdin as { unref?: () => void } | null)?.unref?.();
}

const deleteBatch = (names: readonly string[]): string => names.map((n) => `netns del ${n}\n`).join('');

// Inside the LAN namespace IPv6 is off: bridge ports then send no DAD, MLD or
// router solicitations of their own, so a capture on the LAN shows the hosts only.
// Where br_netfilter is loaded, each new namespace starts with bridge-nf-call-* = 1, and the
// bridge then checks IPv6/IPv4 headers itself and drops malformed packets a real switch would
// deliver: turn that off, so tests of malformed input reach the hosts.
const LAN_SCRIPT =
  'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && ' +
  'for f in /proc/sys/net/bridge/bridge-nf-call-*; do if [ -w "$f" ]; then echo 0 > "$f"; fi; done; exec ip -b -';
const HOST_SCRIPT_NO_DAD = 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad && exec ip -b -';
const HOST_SCRIPT = 'exec ip -b -';

class LabImpl implements Lab {
  readonly prefix: string;
  readonly lanNs: string;
  readonly hosts: Readonly<Record<string, LabHost>>;
  readonly nodes: readonly string[];
  readonly dir: string;
  private readonly created: string[] = [];
  private readonly children = new Set<ChildProcess>();
  /** Per namespace, the tail of its nft changes: dnat/undnat on one host run one at a time. */
  private readonly nftQueues = new Map<string, Promise<void>>();
  private destroyed = false;
  private destroying: Promise<void> | undefined;
  private readonly unregister: () => void;

  constructor(private readonly plan: LabPlan) {
    this.prefix = plan.prefix;
    this.lanNs = plan.lanNs;
    this.hosts = Object.freeze(Object.fromEntries(plan.hosts.map((h) => [h.name, h])));
    this.nodes = plan.hosts.filter((h) => h.role === 'node').map((h) => h.name);
    this.dir = mkdtempSync(join(tmpdir(), `herald-lab-${plan.prefix}-`));
    this.unregister = onProcessExit(() => this.destroySync());
  }

  get namespaces(): readonly string[] {
    return [...this.created];
  }

  host(name: string): LabHost {
    const h = this.hosts[name];
    if (!h) throw new LabError('UnknownHost', `lab ${this.prefix} has no host ${JSON.stringify(name)} (hosts: ${Object.keys(this.hosts).join(', ')})`);
    return h;
  }

  private alive(): void {
    if (this.destroyed) throw new LabError('Destroyed', `lab ${this.prefix} is destroyed`);
  }

  /** Creates the namespaces, the bridge and the hosts; on any failure, undoes it. */
  async build(existing: ReadonlySet<string>): Promise<void> {
    try {
      const names = planNamespaces(this.plan);
      // `ip netns add` refuses a name that exists, so this is also the race-free check.
      const add = await run('ip', ['-b', '-'], { input: names.map((n) => `netns add ${n}\n`).join('') });
      const now = await listNamespaces();
      this.created.push(...names.filter((n) => now.has(n) && !existing.has(n)));
      if (add.status !== 0) throw new LabError(/File exists/.test(add.stderr) ? 'NameTaken' : 'CommandFailed', describeFailure('ip netns add', add));

      const lan = await run('ip', ['netns', 'exec', this.lanNs, 'sh', '-c', LAN_SCRIPT], { input: lanBatch(this.plan) });
      if (lan.status !== 0) throw new LabError('CommandFailed', describeFailure(`bridge in ${this.lanNs}`, lan));

      const script = this.plan.ipv6Dad === 'skip' ? HOST_SCRIPT_NO_DAD : HOST_SCRIPT;
      const results = await Promise.all(this.plan.hosts.map((h) => run('ip', ['netns', 'exec', h.ns, 'sh', '-c', script], { input: hostBatch(h) })));
      results.forEach((r, i) => {
        if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`host ${this.plan.hosts[i]?.ns ?? i}`, r));
      });
      if (this.plan.ipv6Dad === 'wait') await this.waitForDad(this.plan.hosts);
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  private async waitForDad(hosts: readonly HostPlan[], timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let pending = [...hosts];
    while (pending.length > 0) {
      const states = await Promise.all(
        pending.map(async (h) => {
          const r = await run('ip', ['-n', h.ns, '-6', '-j', 'addr', 'show', 'dev', h.ifname]);
          if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`ip -6 addr show in ${h.ns}`, r));
          const infos = parseJson(addrList, r.stdout, `ip -6 -j addr show in ${h.ns}`).flatMap((l) => l.addr_info ?? []);
          const failed = infos.find((a) => a.dadfailed);
          if (failed) throw new LabError('CommandFailed', `${h.ns}: duplicate address detection failed for ${failed.local ?? '?'}`);
          return infos.some((a) => a.tentative);
        }),
      );
      pending = pending.filter((_, i) => states[i]);
      if (pending.length === 0) return;
      if (Date.now() > deadline) throw new LabError('CommandFailed', `IPv6 addresses still tentative after ${timeoutMs} ms in ${pending.map((h) => h.ns).join(', ')}`);
      await sleep(100);
    }
  }

  async exec(host: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<ExecResult> {
    this.alive();
    return run('ip', ['netns', 'exec', this.host(host).ns, cmd, ...args], opts);
  }

  spawn(host: string, cmd: string, args: readonly string[] = [], opts: LabSpawnOptions = {}): ChildProcess {
    this.alive();
    // `ip netns exec` execs the command in place, so the pid (and process group) is the command's own.
    const child = spawnChild('ip', ['netns', 'exec', this.host(host).ns, cmd, ...args], { ...opts, detached: true });
    this.adopt(child);
    return child;
  }

  adopt(child: ChildProcess): void {
    this.alive();
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  private async link(host: string, state: 'up' | 'down'): Promise<void> {
    this.alive();
    const h = this.host(host);
    const r = await run('ip', ['-n', this.lanNs, 'link', 'set', 'dev', h.port, state]);
    if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`link ${state} ${h.port} in ${this.lanNs}`, r));
  }

  linkDown(host: string): Promise<void> {
    return this.link(host, 'down');
  }

  async linkUp(host: string): Promise<void> {
    await this.link(host, 'up');
    if (this.plan.ipv6Dad === 'wait') await this.waitForDad([this.host(host)]);
  }

  async neighbour(host: string, ip: string): Promise<Neighbour | undefined> {
    this.alive();
    const h = this.host(host);
    const r = await run('ip', ['-n', h.ns, '-j', 'neigh', 'show', 'to', ip, 'dev', h.ifname]);
    if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`ip neigh show ${ip} in ${h.ns}`, r));
    const e = parseJson(neighList, r.stdout, `ip -j neigh show in ${h.ns}`)[0];
    if (!e) return undefined;
    return e.lladdr === undefined ? { ip: e.dst, state: e.state ?? [] } : { ip: e.dst, mac: e.lladdr, state: e.state ?? [] };
  }

  async reachable(from: string, ip: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<ProbeResult> {
    const timeoutMs = opts.timeoutMs ?? 1_000;
    const r = await this.exec(from, process.execPath, [distScript('probe.js'), ip, String(opts.port ?? 9), String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
    if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`probe ${ip} from ${from}`, r));
    return parseJson(probeOut, r.stdout, 'probe.js');
  }

  async serveHttp(host: string, opts: { port?: number; name?: string } = {}): Promise<void> {
    const h = this.host(host);
    const port = checkPort(opts.port ?? 8080, 'serveHttp port');
    const name = opts.name ?? host;
    const args = [distScript('responder.js'), '--port', String(port), '--name', name, '--exit-on-stdin-close'];
    // A piped stdin is the responder's lifeline: if this process dies, the pipe closes and it exits.
    const child = this.spawn(host, process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    await waitListening(child, `responder ${JSON.stringify(name)} in ${h.ns} on port ${port}`, 10_000);
    background(child);
  }

  async dnat(host: string, vip: string, opts: { port?: number; toPort?: number } = {}): Promise<void> {
    this.alive();
    const h = this.host(host);
    const v = checkIp(vip, 'dnat vip');
    const rule = { vip: v.ip, port: checkPort(opts.port ?? 80, 'dnat port'), to: v.family === 4 ? h.ipv4 : h.ipv6, toPort: checkPort(opts.toPort ?? 8080, 'dnat toPort') };
    const comment = dnatComment(rule.vip, rule.port);
    await this.nftSerial(h, async () => {
      const stale = await this.dnatHandles(h, (c) => c === comment);
      await this.nft(h, dnatScript(rule, stale), `dnat ${rule.vip}:${rule.port} -> ${rule.to}:${rule.toPort}`);
    });
  }

  async undnat(host: string, vip: string): Promise<void> {
    this.alive();
    const h = this.host(host);
    const v = checkIp(vip, 'undnat vip');
    await this.nftSerial(h, async () => {
      const handles = await this.dnatHandles(h, (c) => isVipComment(c, v.ip));
      if (handles.length > 0) await this.nft(h, deleteScript(handles), `undnat ${v.ip}`);
    });
  }

  async httpGet(from: string, ip: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<HttpResult> {
    const timeoutMs = opts.timeoutMs ?? 2_000;
    const port = checkPort(opts.port ?? 80, 'httpGet port');
    // An address, never a name: a name would send the script to a resolver.
    const target = checkIp(ip, 'httpGet ip').ip;
    const r = await this.exec(from, process.execPath, [distScript('http-get.js'), target, String(port), String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
    if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`http-get ${ip}:${port} from ${from}`, r));
    const o = parseJson(httpOut, r.stdout, 'http-get.js');
    return { ok: o.ok, code: o.code, ms: o.ms, ...(o.status === undefined ? {} : { status: o.status }), ...(o.body === undefined ? {} : { body: o.body }) };
  }

  private nftSerial(h: HostPlan, fn: () => Promise<void>): Promise<void> {
    const next = (this.nftQueues.get(h.ns) ?? Promise.resolve()).then(fn);
    this.nftQueues.set(h.ns, next.catch(() => undefined));
    return next;
  }

  private async nft(h: HostPlan, script: string, what: string): Promise<void> {
    const r = await run('ip', ['netns', 'exec', h.ns, 'nft', '-f', '-'], { input: script });
    if (r.status !== 0) throw new LabError('CommandFailed', describeFailure(`nft in ${h.ns}: ${what}`, r));
  }

  /** Handles of the lab's DNAT rules in the host whose comment passes `keep`; none while the chain does not exist. */
  private async dnatHandles(h: HostPlan, keep: (comment: string | undefined) => boolean): Promise<number[]> {
    const r = await run('ip', ['netns', 'exec', h.ns, 'nft', ...LIST_CHAIN_ARGS]);
    if (r.status !== 0) {
      if (/No such file or directory/.test(r.stderr)) return [];
      throw new LabError('CommandFailed', describeFailure(`nft list chain in ${h.ns}`, r));
    }
    try {
      return ruleHandles(r.stdout, keep);
    } catch (err) {
      throw new LabError('BadOutput', `nft -j list chain in ${h.ns}: unexpected output ${JSON.stringify(r.stdout.slice(0, 200))}`, { cause: err });
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    this.destroyed = true;
    try {
      await Promise.all([...this.children].map((c) => stopChild(c, 3_000)));
      await this.deleteNamespaces((input) => run('ip', ['-force', '-b', '-'], { input }));
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      // Namespaces that would not go stay registered: the exit hook tries once more.
      if (this.created.length === 0) this.unregister();
    }
  }

  /** The exit-hook path: no event loop left, so SIGKILL at once and delete synchronously. */
  private destroySync(): void {
    if (this.destroyed && this.created.length === 0) return;
    this.destroyed = true;
    for (const c of this.children) killGroup(c, 'SIGKILL');
    if (this.created.length > 0) runSync('ip', ['-force', '-b', '-'], deleteBatch(this.created));
    this.created.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async deleteNamespaces(del: (input: string) => Promise<ExecResult>): Promise<void> {
    if (this.created.length === 0) return;
    const r = await del(deleteBatch(this.created));
    const left = await listNamespaces();
    const stuck = this.created.filter((n) => left.has(n));
    this.created.length = 0;
    this.created.push(...stuck);
    if (stuck.length > 0) throw new LabError('CommandFailed', describeFailure(`deleting namespaces ${stuck.join(', ')}`, r));
  }
}

/**
 * Builds a lab: one namespace `<prefix>-lan` with a bridge (STP and multicast
 * snooping off), and one namespace per host whose `eth0` is a port of it.
 * Refuses (`LabError('NameTaken')`) if any of its namespace names exists. Needs root.
 */
export async function createLab(opts: LabOptions): Promise<Lab> {
  if (process.getuid?.() !== 0) throw new LabError('NotRoot', 'the lab creates network namespaces and needs root');
  const plan = planLab(opts);
  const existing = await listNamespaces();
  const taken = planNamespaces(plan).filter((n) => existing.has(n));
  if (taken.length > 0) throw new LabError('NameTaken', `namespaces already exist: ${taken.join(', ')} (another lab with prefix ${plan.prefix}?)`);
  const lab = new LabImpl(plan);
  await lab.build(existing);
  return lab;
}

/** Builds a lab, runs `fn`, and destroys the lab however `fn` ends. */
export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}
