import { Watch, type V1Service } from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { createInterface } from 'node:readline';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { startPinger, type Ping } from '@herald/lab';
import { sleep, startBed, type Bed } from '@herald/speaker/testbed';
import { flag, percentile, round } from './stats.js';
import { guardTeardown } from './teardown.js';

/**
 * `npm run bench -- l2-failover [--trials N]`
 *
 * The L2 speaker on the network-namespace test bed (4 node namespaces each running the real
 * speaker, the real controller, a client namespace), against a fresh local control plane.
 * N trials (default 20) of each:
 * - sigkill: the owner's speaker is SIGKILLed; time until the client's neighbour entry for
 *   the IP holds the new owner's MAC, seen in a streaming `ip monitor neigh` in the client;
 * - linkCut: the owner node's link is cut at the bridge; the same time;
 * - handoff: the owner's speaker gets SIGTERM while the client GETs the IP every 10 ms
 *   (100 ms timeout, probes overlap); probes that got no answer, from the SIGTERM until 2 s
 *   after the client's entry holds the new owner's MAC;
 * - createToGratuitousArp: a new Service (its EndpointSlice first); from the moment its IP is
 *   in status (the earlier of a watch event and the controller's log line after the write) to
 *   the first gratuitous ARP for it captured (tcpdump, kernel timestamps) in the client.
 * After each failover the speaker is restarted (or the link restored) and the bed settles:
 * one owner for 2 s, the client's entry agrees with it (repaired by a flush if not), and
 * the entry untouched for over 1 s before the next failure.
 * Phases are read from the new owner's own log (suspect/dead/left, `gained`) and the capture
 * (its first gratuitous ARP), to show where the time goes. What settling had to repair is
 * reported too: client entries left on a node that is not the owner (`staleClientEntries`),
 * and owners that did not answer ARP (`ownersNotAnsweringArp`, with their process state).
 */

const NODES = 4;
const TRIAL_SERVICES = 6;
// The lab's /24 holds nodes at .11-.14 and the client at .250.
const POOL = ['192.0.2.32-192.0.2.199'];
const POOL_SIZE = 168;
const PROBE_INTERVAL_MS = 10;
const PROBE_TIMEOUT_MS = 100;
/** Linux ignores a non-gratuitous ARP update within locktime (1 s) of an entry's last update. */
const QUIET_MS = 1_100;
const FAILOVER_TIMEOUT_MS = 10_000;
const AFTER_SWITCH_MS = 2_000;
const TARGETS = { sigkillP99Ms: 1_000, linkCutP99Ms: 1_000, handoffLostRepliesMax: 1, createToGratuitousArpP99Ms: 100 } as const;

const log = (s: string): void => {
  process.stderr.write(`bench l2-failover: ${s}\n`);
};
/** Epoch milliseconds with sub-millisecond resolution: comparable with tcpdump's -tt and pino's times. */
const now = (): number => performance.timeOrigin + performance.now();

/** Reads a child's stdout line by line, stamping each line with its arrival time. */
function lines(child: ChildProcess, onLine: (line: string, at: number) => void): void {
  if (!child.stdout) throw new Error('child has no stdout pipe');
  createInterface({ input: child.stdout }).on('line', (l) => onLine(l, now()));
}

// ---- the client's neighbour table, streamed ----------------------------------------------

interface NeighEvent {
  readonly at: number;
  readonly mac: string | undefined;
  readonly state: string;
  readonly deleted: boolean;
}

/** `[Deleted ]IP dev IF [lladdr MAC] [router] STATE...` as `ip monitor neigh` prints it. */
export function parseNeighLine(line: string): { ip: string; ev: Omit<NeighEvent, 'at'> } | undefined {
  const words = line.trim().split(/\s+/);
  let deleted = false;
  if (words[0] === 'Deleted') {
    deleted = true;
    words.shift();
  } else if (words[0]?.toLowerCase() === 'miss') {
    words.shift();
  }
  const ip = words[0];
  if (ip === undefined || words[1] !== 'dev') return undefined;
  const li = words.indexOf('lladdr');
  const mac = li === -1 ? undefined : words[li + 1]?.toLowerCase();
  const last = words[words.length - 1] ?? '';
  return { ip, ev: { mac, state: /^[A-Z]+$/.test(last) ? last : '', deleted } };
}

/** `ip monitor neigh` in the client namespace: every change to its neighbour table, as it happens. */
class NeighMonitor {
  private readonly events = new Map<string, NeighEvent[]>();
  private readonly waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    lines(child, (l, at) => {
      const p = parseNeighLine(l);
      if (!p) return;
      const list = this.events.get(p.ip) ?? [];
      list.push({ at, ...p.ev });
      this.events.set(p.ip, list);
      for (const w of [...this.waiters]) w();
    });
  }

  /** When the entry for `ip` last changed (any event), if ever. */
  lastAt(ip: string): number | undefined {
    return this.events.get(ip)?.at(-1)?.at;
  }

  /** Every event for `ip` at or after `since`. */
  since(ip: string, since: number): readonly NeighEvent[] {
    return (this.events.get(ip) ?? []).filter((e) => e.at >= since);
  }

  /** The first event at or after `since` for `ip` that `pred` accepts. */
  find(ip: string, since: number, pred: (e: NeighEvent) => boolean): NeighEvent | undefined {
    return this.events.get(ip)?.find((e) => e.at >= since && pred(e));
  }

  /** Resolves with the first such event, waiting for it until `deadline` (epoch ms); undefined if none came. */
  async waitFor(ip: string, since: number, pred: (e: NeighEvent) => boolean, deadline: number): Promise<NeighEvent | undefined> {
    const hit = this.find(ip, since, pred);
    if (hit || now() >= deadline) return hit;
    return new Promise((resolve) => {
      const check = (): void => {
        const e = this.find(ip, since, pred);
        if (e === undefined && now() < deadline) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(e);
      };
      const timer = setTimeout(check, Math.max(0, deadline - now()) + 1);
      this.waiters.add(check);
    });
  }
}

// ---- gratuitous ARPs seen by the client ---------------------------------------------------

interface Garp {
  /** Kernel capture time, epoch ms. */
  readonly at: number;
  readonly mac: string;
}

/** One line of `tcpdump -n -e -l -tt` for an ARP whose sender and target IP are equal. */
export function parseGarpLine(line: string): { ip: string; garp: Garp } | undefined {
  const m = /^(\d+\.\d+) ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > .*?(?:who-has|Reply) (\d+\.\d+\.\d+\.\d+)/i.exec(line);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { ip: m[3], garp: { at: Number(m[1]) * 1000, mac: m[2].toLowerCase() } };
}

class GarpCapture {
  private readonly seen = new Map<string, Garp[]>();
  private readonly waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    lines(child, (l) => {
      const p = parseGarpLine(l);
      if (!p) return;
      const list = this.seen.get(p.ip) ?? [];
      list.push(p.garp);
      this.seen.set(p.ip, list);
      for (const w of [...this.waiters]) w();
    });
  }

  /** Every gratuitous ARP for `ip` captured at or after `since`. */
  since(ip: string, since: number): readonly Garp[] {
    return (this.seen.get(ip) ?? []).filter((g) => g.at >= since);
  }

  first(ip: string, since: number, mac?: string): Garp | undefined {
    return this.seen.get(ip)?.find((g) => g.at >= since && (mac === undefined || g.mac === mac));
  }

  async waitFirst(ip: string, since: number, deadline: number, mac?: string): Promise<Garp | undefined> {
    const hit = this.first(ip, since, mac);
    if (hit || now() >= deadline) return hit;
    return new Promise((resolve) => {
      const check = (): void => {
        const g = this.first(ip, since, mac);
        if (g === undefined && now() < deadline) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(g);
      };
      const timer = setTimeout(check, Math.max(0, deadline - now()) + 1);
      this.waiters.add(check);
    });
  }
}

/**
 * Starts tcpdump in the client for gratuitous ARPs (sender IP = target IP); resolves once it
 * listens. Immediate mode: otherwise libpcap hands packets over in blocks, up to a second late
 * (the timestamps would still be right, but a lookup right after a trial could miss them).
 */
async function captureGarps(bed: Bed): Promise<GarpCapture> {
  const args = ['-i', 'eth0', '-n', '-e', '-l', '-tt', '--immediate-mode', 'arp and arp[14:4] == arp[24:4]'];
  const child = bed.lab.spawn('client', 'tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const capture = new GarpCapture(child);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump not listening after 10 s: ${err}`)), 10_000);
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${err}`));
    });
  });
  return capture;
}

/** Starts `ip monitor neigh` in the client; resolves once a change it was shown to cause has come through. */
async function monitorNeighbours(bed: Bed): Promise<NeighMonitor> {
  const child = bed.lab.spawn('client', 'ip', ['monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const monitor = new NeighMonitor(child);
  // An address of the lab's subnet that no host has, added and removed by hand in the client only.
  const probe = '192.0.2.254';
  const t = now();
  for (let i = 0; i < 50 && !monitor.find(probe, t, () => true); i++) {
    await bed.lab.exec('client', 'ip', ['neigh', 'replace', probe, 'lladdr', '02:00:00:00:00:fe', 'dev', 'eth0', 'nud', 'stale']);
    await monitor.waitFor(probe, t, () => true, now() + 200);
  }
  await bed.lab.exec('client', 'ip', ['neigh', 'del', probe, 'dev', 'eth0']);
  if (!monitor.find(probe, t, () => true)) throw new Error('ip monitor neigh shows nothing');
  return monitor;
}

// ---- Service status, watched -------------------------------------------------------------

/** When each Service of the bed's namespace first showed an IP in status (epoch ms). */
class StatusWatch {
  readonly firstIp = new Map<string, { at: number; ips: string[] }>();
  private readonly waiters = new Set<() => void>();
  private ac: AbortController | undefined;
  private stopped = false;

  constructor(private readonly bed: Bed) {}

  async start(): Promise<void> {
    const onEvent = (phase: string, svc: V1Service): void => {
      if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
      const name = svc.metadata?.name;
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((x): x is string => typeof x === 'string');
      if (name === undefined || ips.length === 0 || this.firstIp.has(name)) return;
      this.firstIp.set(name, { at: now(), ips });
      for (const w of [...this.waiters]) w();
    };
    const onDone = (): void => {
      if (!this.stopped) void this.start().catch((err: unknown) => log(`service watch: ${String(err)}`));
    };
    // Only new Services matter, so a restart from "now" (no resourceVersion) loses nothing they need.
    this.ac = await new Watch(this.bed.kc).watch(`/api/v1/namespaces/${this.bed.ns}/services`, {}, onEvent, onDone);
  }

  waitFor(name: string, timeoutMs: number): Promise<{ at: number; ips: string[] }> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const v = this.firstIp.get(name);
        if (!v) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no IP for ${name} after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.ac?.abort();
  }
}

// ---- settling between trials -------------------------------------------------------------

/** A client entry found disagreeing with the settled owner before a trial, and repaired. */
interface Repair {
  /** The trial that ran just before (`linkCut 3`, ...). */
  readonly after: string;
  readonly ip: string;
  /** The host whose MAC the entry held (or the MAC, or `none`). */
  readonly entry: string;
  readonly owner: string;
  /** What the client saw for the IP in the 40 s before (the last 8 of each): gratuitous ARPs and entry changes, `-ms host`. */
  readonly recent: { readonly garps: readonly string[]; readonly entryChanges: readonly string[] };
}

interface Ctx {
  readonly bed: Bed;
  readonly neigh: NeighMonitor;
  readonly garps: GarpCapture;
  readonly repairs: Repair[];
  /** Elected owners found not answering ARP before a trial (then restarted). */
  readonly deaf: Record<string, unknown>[];
  /** The label of the trial that ran last. */
  last: string;
}

/** The one owner of `svc`, once it has been the same for `holdMs`. */
async function stableOwner(bed: Bed, svc: string, holdMs = 2_000, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let cur: string | undefined;
  let since = Date.now();
  for (;;) {
    const nodes = await bed.l2Nodes(svc);
    const o = nodes.length === 1 ? bed.hostOf(nodes[0] ?? '') : undefined;
    if (o !== cur) {
      cur = o;
      since = Date.now();
    } else if (o !== undefined && Date.now() - since >= holdMs) {
      return o;
    }
    if (Date.now() > deadline) throw new Error(`${svc}: no stable single owner after ${timeoutMs} ms (last: ${JSON.stringify(nodes)})`);
    await sleep(100);
  }
}

/**
 * Waits until the bed is calm for `svc`: one owner for 2 s, the client's entry holds its MAC
 * (if not, flushed and resolved again by the kernel with a GET: counted as a repair), only
 * the owner answers an ARP request, and the entry has not changed for over 1 s.
 */
async function prepare(ctx: Ctx, svc: { name: string; ip: string }): Promise<{ owner: string; repaired: boolean }> {
  const { bed } = ctx;
  let repaired = false;
  for (let attempt = 1; ; attempt++) {
    const owner = await stableOwner(bed, svc.name);
    const mac = bed.macOf(owner);
    const entry = await bed.clientMac(svc.ip);
    if (entry !== mac) {
      repaired = true;
      const t = now();
      const host = (m: string | undefined): string => (m === undefined ? 'none' : (bed.lab.nodes.find((h) => bed.macOf(h) === m) ?? m));
      const ago = (at: number): string => `-${Math.round(t - at)}ms`;
      ctx.repairs.push({
        after: ctx.last,
        ip: svc.ip,
        entry: host(entry),
        owner,
        recent: {
          garps: ctx.garps.since(svc.ip, t - 40_000).slice(-8).map((g) => `${ago(g.at)} ${host(g.mac)}`),
          entryChanges: ctx.neigh.since(svc.ip, t - 40_000).slice(-8).map((e) => `${ago(e.at)} ${e.deleted ? 'deleted ' : ''}${host(e.mac)} ${e.state}`),
        },
      });
      log(`${svc.ip}: client entry ${entry ?? 'none'} disagrees with the settled owner ${owner} (${mac}) after ${ctx.last}: flushing`);
      await bed.flushClient(svc.ip);
      await bed.lab.httpGet('client', svc.ip, { port: 80, timeoutMs: 2_000 });
    }
    let answers = await bed.ask(svc.ip);
    if (answers.length === 0) answers = await bed.ask(svc.ip);
    if (answers.length === 0) {
      // The elected owner does not answer ARP. Record what its process looks like, then
      // restart it (what a liveness probe would end up doing) so the run can go on.
      const diag = await diagnoseSpeaker(bed, owner);
      ctx.deaf.push({ after: ctx.last, ip: svc.ip, owner, ...diag });
      log(`${svc.ip}: owner ${owner} does not answer ARP after ${ctx.last}: ${JSON.stringify(diag)}; restarting its speaker`);
      await bed.stopSpeaker(owner, 'SIGKILL');
      await bed.startSpeaker(owner);
      continue;
    }
    if (answers.length === 1 && answers[0] === mac && (await bed.clientMac(svc.ip)) === mac) {
      for (;;) {
        const wait = (ctx.neigh.lastAt(svc.ip) ?? 0) + QUIET_MS - now();
        if (wait <= 0) break;
        await sleep(wait + 5);
      }
      // The owner may have moved while we waited; then start over.
      const nodes = await bed.l2Nodes(svc.name);
      if (nodes.length === 1 && bed.hostOf(nodes[0] ?? '') === owner) return { owner, repaired };
    }
    if (attempt >= 5) throw new Error(`${svc.name} (${svc.ip}): bed does not settle: owner ${owner}, ARP answers ${JSON.stringify(answers)}, client entry ${await bed.clientMac(svc.ip)}`);
  }
}

/** User + system CPU ticks (1/100 s) of a process, and its state letter; undefined once it is gone. */
function procStat(pid: number): { ticks: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(f[11]) + Number(f[12]), state: f[0] ?? '?' };
  } catch {
    return undefined;
  }
}

/** A speaker that does not answer: is its process alive, busy, its event loop responsive? */
async function diagnoseSpeaker(bed: Bed, host: string): Promise<Record<string, unknown>> {
  const pid = bed.speakers.get(host)?.pid;
  if (pid === undefined) return { process: 'none' };
  const a = procStat(pid);
  await sleep(1_000);
  const b = procStat(pid);
  let wchan = '';
  try {
    wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
  } catch {
    // gone
  }
  const metrics = await bed.lab.exec(host, 'curl', ['-sS', '-m', '2', 'http://127.0.0.1:7474/metrics'], { timeoutMs: 5_000 });
  const counters = metrics.stdout.split('\n').filter((l) => /^herald_l2_(requests_answered|frames_dropped|gratuitous)/.test(l));
  let lastLog = '';
  try {
    const lines = readFileSync(`${bed.logDir}/speaker-${host}.log`, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines[lines.length - 1] ?? '{}') as { time?: string; event?: string; msg?: string };
    lastLog = `${last.time ?? '?'} ${last.event ?? ''} ${last.msg ?? ''}`.trim();
  } catch {
    // unreadable
  }
  return {
    pid,
    state: b?.state ?? 'gone',
    cpuPercentOver1s: a && b ? b.ticks - a.ticks : null,
    wchan,
    metricsEndpoint: metrics.status === 0 ? 'answers' : `fails (${metrics.stderr.trim()})`,
    l2Counters: counters,
    lastLogLine: lastLog,
  };
}

// ---- phases from the new owner's log ------------------------------------------------------

interface Phases {
  /** The new owner marks the old one suspect (SWIM) — failures only. */
  suspectMs?: number;
  /** ... dead (suspicion timed out) or left (it said goodbye). */
  goneMs?: number;
  /** Its announcer gains the IP (logged just before the first gratuitous ARP is sent). */
  gainedMs?: number;
  /** The client captures the new owner's first gratuitous ARP for the IP. */
  firstGarpMs?: number;
}

function logPhases(bed: Bed, newOwner: string, oldOwner: string, ip: string, t0: number): Phases {
  const out: Phases = {};
  let text: string;
  try {
    text = readFileSync(`${bed.logDir}/speaker-${newOwner}.log`, 'utf8');
  } catch {
    return out;
  }
  const oldName = bed.nodeName(oldOwner);
  for (const line of text.split('\n')) {
    if (!line.includes('"memberChange"') && !line.includes('"gained"')) continue;
    let o: { time?: string; event?: string; member?: string; to?: string; ip?: string };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue;
    }
    const at = Date.parse(o.time ?? '');
    if (!(at >= Math.floor(t0))) continue;
    const ms = at - t0;
    if (o.event === 'memberChange' && o.member === oldName) {
      if (o.to === 'suspect' && out.suspectMs === undefined) out.suspectMs = ms;
      if ((o.to === 'dead' || o.to === 'left') && out.goneMs === undefined) out.goneMs = ms;
    } else if (o.event === 'gained' && o.ip === ip && out.gainedMs === undefined) {
      out.gainedMs = ms;
    }
  }
  return out;
}

function summary(values: readonly number[]): { p50Ms: number | null; p99Ms: number | null; maxMs: number | null } {
  const finite = (n: number): number | null => (Number.isFinite(n) ? round(n, 1) : null);
  return { p50Ms: finite(percentile(values, 50)), p99Ms: finite(percentile(values, 99)), maxMs: values.length === 0 ? null : finite(Math.max(...values)) };
}

function phaseSummary(all: readonly Phases[]): Record<string, { p50Ms: number | null; p99Ms: number | null; n: number }> {
  const out: Record<string, { p50Ms: number | null; p99Ms: number | null; n: number }> = {};
  for (const k of ['suspectMs', 'goneMs', 'gainedMs', 'firstGarpMs'] as const) {
    const v = all.map((p) => p[k]).filter((x): x is number => x !== undefined);
    const s = summary(v);
    out[k.replace(/Ms$/, '')] = { p50Ms: s.p50Ms, p99Ms: s.p99Ms, n: v.length };
  }
  return out;
}

// ---- (a) and (b): failure, then time until the client follows ------------------------------

type Failure = 'sigkill' | 'linkCut';

interface FailoverResult {
  /** Failure to the client's entry holding the elected new owner's MAC; Infinity if it never did. */
  readonly ms: number;
  readonly phases: Phases;
  readonly repaired: boolean;
  readonly from: string;
  readonly to: string | undefined;
  /** The entry first moved to some other node's MAC than the elected owner's. */
  readonly detour: boolean;
}

async function failover(ctx: Ctx, svc: { name: string; ip: string }, kind: Failure): Promise<FailoverResult> {
  const { bed, neigh } = ctx;
  const { owner: old, repaired } = await prepare(ctx, svc);
  const oldMac = bed.macOf(old);
  const nodeMacs = new Set(bed.lab.nodes.map((h) => bed.macOf(h)));
  const t0 = now();
  if (kind === 'sigkill') await bed.stopSpeaker(old, 'SIGKILL');
  else await bed.lab.linkDown(old);
  let next: string | undefined;
  let moved: NeighEvent | undefined;
  let hit: NeighEvent | undefined;
  let want: string | undefined;
  try {
    moved = await neigh.waitFor(svc.ip, t0, (e) => e.mac !== undefined && e.mac !== oldMac && nodeMacs.has(e.mac), t0 + FAILOVER_TIMEOUT_MS);
    try {
      next = await bed.owner(svc.name, old, 15_000);
    } catch {
      next = undefined;
    }
    want = next === undefined ? moved?.mac : bed.macOf(next);
    const w = want;
    hit = w === undefined ? undefined : await neigh.waitFor(svc.ip, t0, (e) => e.mac === w, t0 + FAILOVER_TIMEOUT_MS);
  } finally {
    if (kind === 'sigkill') await bed.startSpeaker(old);
    else await bed.lab.linkUp(old);
  }
  // Read after the restore: by now the capture and the speaker's log have caught up.
  const phases: Phases = next === undefined ? {} : logPhases(bed, next, old, svc.ip, t0);
  const garp = want === undefined ? undefined : await ctx.garps.waitFirst(svc.ip, t0, now() + 1_000, want);
  if (garp) phases.firstGarpMs = garp.at - t0;
  return { ms: hit ? hit.at - t0 : Number.POSITIVE_INFINITY, phases, repaired, from: old, to: next, detour: moved !== undefined && moved.mac !== want };
}

// ---- (c): SIGTERM handoff under traffic ---------------------------------------------------

interface HandoffResult {
  readonly lost: number;
  readonly maxConsecutive: number;
  readonly probes: number;
  /** SIGTERM to the client's entry holding the new owner's MAC. */
  readonly switchMs: number;
  readonly codes: Record<string, number>;
  readonly servedByOld: number;
  readonly servedByNew: number;
  readonly failedBefore: number;
  readonly phases: Phases;
  readonly repaired: boolean;
}

function lostRuns(pings: readonly Ping[]): { lost: number; maxConsecutive: number; codes: Record<string, number> } {
  let lost = 0;
  let run = 0;
  let maxConsecutive = 0;
  const codes: Record<string, number> = {};
  for (const p of pings) {
    if (p.ok) {
      run = 0;
      continue;
    }
    lost++;
    run++;
    maxConsecutive = Math.max(maxConsecutive, run);
    codes[p.code] = (codes[p.code] ?? 0) + 1;
  }
  return { lost, maxConsecutive, codes };
}

async function handoff(ctx: Ctx, svc: { name: string; ip: string }): Promise<HandoffResult> {
  const { bed, neigh } = ctx;
  const { owner: old, repaired } = await prepare(ctx, svc);
  const pinger = await startPinger(bed.lab, 'client', svc.ip, { port: 80, intervalMs: PROBE_INTERVAL_MS, timeoutMs: PROBE_TIMEOUT_MS });
  let pings: readonly Ping[] = [];
  let next: string | undefined;
  let t0 = 0;
  let seenAt: number | undefined;
  let exited: Promise<number | null> | undefined;
  try {
    // Half a second of traffic first: the entry is in use (REACHABLE), as a busy client's would be.
    await sleep(500);
    t0 = now();
    exited = bed.stopSpeaker(old, 'SIGTERM');
    next = await bed.owner(svc.name, old, 15_000);
    const mac = bed.macOf(next);
    seenAt = (await neigh.waitFor(svc.ip, t0, (e) => e.mac === mac, t0 + FAILOVER_TIMEOUT_MS))?.at;
    const code = await exited;
    if (code !== 0) log(`speaker ${old} exited with ${code} after SIGTERM`);
    const windowEnd = (seenAt ?? t0 + FAILOVER_TIMEOUT_MS) + AFTER_SWITCH_MS;
    // Let the last probe of the window finish (or time out) before stopping.
    await sleep(Math.max(0, windowEnd - now()) + PROBE_TIMEOUT_MS + 50);
  } finally {
    pings = await pinger.stop();
    // The old process must be gone before its namespace gets a new one (same ports).
    await exited;
    if (!bed.speakers.has(old)) await bed.startSpeaker(old);
  }
  const windowEnd = (seenAt ?? t0 + FAILOVER_TIMEOUT_MS) + AFTER_SWITCH_MS;
  const inWindow = pings.filter((p) => p.t >= t0 && p.t <= windowEnd);
  const r = lostRuns(inWindow);
  const phases = next === undefined ? {} : logPhases(bed, next, old, svc.ip, t0);
  const garp = next === undefined ? undefined : await ctx.garps.waitFirst(svc.ip, t0, now() + 1_000, bed.macOf(next));
  if (garp) phases.firstGarpMs = garp.at - t0;
  return {
    ...r,
    probes: inWindow.length,
    switchMs: seenAt === undefined ? Number.POSITIVE_INFINITY : seenAt - t0,
    servedByOld: inWindow.filter((p) => p.node === old).length,
    servedByNew: inWindow.filter((p) => p.node === next).length,
    failedBefore: pings.filter((p) => p.t < t0 && !p.ok).length,
    phases,
    repaired,
  };
}

// ---- (d): Service created -> first gratuitous ARP ------------------------------------------

interface AnnounceResult {
  /** IP in status (the earlier of: seen by the bench's watch, the controller's log line after its write) to the first gratuitous ARP for it in the client. */
  readonly ms: number;
  /** Create call to the first gratuitous ARP: includes allocation, an upper bound. */
  readonly createMs: number;
  readonly createToStatusMs: number;
  /** Which clock gave the status time. */
  readonly statusFrom: 'watch' | 'controllerLog';
}

/** When the controller logged `ipAllocated` for the Service (after its status write returned), epoch ms. */
async function controllerAllocatedAt(bed: Bed, name: string, since: number): Promise<number | undefined> {
  const key = `"service":"${bed.ns}/${name}"`;
  for (let i = 0; i < 20; i++) {
    let text = '';
    try {
      text = readFileSync(`${bed.logDir}/controller.log`, 'utf8');
    } catch {
      // not written yet
    }
    for (const line of text.split('\n')) {
      if (!line.includes('"ipAllocated"') || !line.includes(key)) continue;
      try {
        const at = Date.parse((JSON.parse(line) as { time?: string }).time ?? '');
        if (at >= Math.floor(since)) return at;
      } catch {
        // a torn line
      }
    }
    await sleep(50);
  }
  return undefined;
}

async function createToGarp(ctx: Ctx, status: StatusWatch, name: string): Promise<AnnounceResult> {
  const { bed } = ctx;
  // The EndpointSlice goes first, so that once the IP is in status nothing else is missing
  // for the speakers to announce it (the bed's createService writes the slice after the Service).
  await bed.setEndpoints(name, bed.lab.nodes);
  const tCreate = now();
  await bed.core.createNamespacedService({
    namespace: bed.ns,
    body: {
      metadata: { name, namespace: bed.ns },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: bed.lbClass,
        allocateLoadBalancerNodePorts: false,
        externalTrafficPolicy: 'Cluster',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        selector: { app: name },
      },
    },
  });
  const st = await status.waitFor(name, 10_000);
  const ip = st.ips[0] ?? '';
  const garp = await ctx.garps.waitFirst(ip, tCreate, st.at + 5_000);
  // Both observations come after the write: the bench's watch callback can run late on a
  // busy machine, and the controller logs once its write has returned. The earlier is the
  // better bound on when the IP appeared.
  const logged = await controllerAllocatedAt(bed, name, tCreate);
  const statusFrom = logged !== undefined && logged < st.at ? 'controllerLog' : 'watch';
  const t0 = statusFrom === 'controllerLog' && logged !== undefined ? logged : st.at;
  const garpAt = garp?.at ?? Number.POSITIVE_INFINITY;
  return { ms: garpAt - t0, createMs: garpAt - tCreate, createToStatusMs: t0 - tCreate, statusFrom };
}

// ---- the run -----------------------------------------------------------------------------

export async function benchL2Failover(argv: string[]): Promise<Record<string, unknown>> {
  const trials = flag(argv, 'trials', 20);
  if (TRIAL_SERVICES + trials > POOL_SIZE) throw new Error(`--trials at most ${POOL_SIZE - TRIAL_SERVICES} (the pool holds ${POOL_SIZE} IPs)`);
  if (process.getuid?.() !== 0) throw new Error('l2-failover builds network namespaces and needs root');
  const started = now();

  let cp: ControlPlane | undefined;
  let bed: Bed | undefined;
  let status: StatusWatch | undefined;
  const guard = guardTeardown(log, async () => {
    status?.stop();
    try {
      await bed?.destroy();
    } finally {
      await cp?.stop();
    }
  });

  try {
    cp = await startControlPlane({ log, handleSignals: false });
    process.env['HERALD_TEST_KUBECONFIG'] = cp.kubeconfigPath;
    log(`building the bed: ${NODES} nodes, client, controller`);
    bed = await startBed({ nodes: NODES, pool: POOL });
    log(`bed ${bed.ns}; logs in ${bed.logDir}`);
    await bed.startSpeakers();
    const garps = await captureGarps(bed);
    const neigh = await monitorNeighbours(bed);
    status = new StatusWatch(bed);
    await status.start();

    log(`creating ${TRIAL_SERVICES} Services for the failover trials`);
    const services: { name: string; ip: string }[] = [];
    for (let i = 0; i < TRIAL_SERVICES; i++) {
      const name = await bed.createService(`fo-${i}`);
      const [ip] = await bed.ips(name);
      if (ip === undefined) throw new Error(`no IP for ${name}`);
      await bed.serve(ip);
      services.push({ name, ip });
    }
    const ctx: Ctx = { bed, neigh, garps, repairs: [], deaf: [], last: 'start' };
    const pick = (i: number): { name: string; ip: string } => services[i % services.length] ?? services[0] ?? { name: '', ip: '' };

    const runFailovers = async (kind: Failure): Promise<FailoverResult[]> => {
      const out: FailoverResult[] = [];
      for (let i = 0; i < trials; i++) {
        const svc = pick(i);
        const r = await failover(ctx, svc, kind);
        ctx.last = `${kind} ${i + 1}`;
        out.push(r);
        log(`${kind} ${i + 1}/${trials} ${svc.ip}: ${r.from} -> ${r.to ?? '?'} in ${round(r.ms, 1)} ms (${Object.entries(r.phases).map(([k, v]) => `${k.replace(/Ms$/, '')} ${round(v, 1)}`).join(', ')})${r.repaired ? ' [entry repaired before]' : ''}`);
      }
      return out;
    };

    const sigkill = await runFailovers('sigkill');
    const linkCut = await runFailovers('linkCut');

    const handoffs: HandoffResult[] = [];
    for (let i = 0; i < trials; i++) {
      const svc = pick(i);
      const r = await handoff(ctx, svc);
      ctx.last = `handoff ${i + 1}`;
      handoffs.push(r);
      log(`handoff ${i + 1}/${trials} ${svc.ip}: ${r.lost}/${r.probes} lost (max run ${r.maxConsecutive}) ${JSON.stringify(r.codes)}, switch ${round(r.switchMs, 1)} ms, served old ${r.servedByOld} new ${r.servedByNew}`);
    }

    log(`creating ${trials} Services one at a time for create-to-announce`);
    const announces: AnnounceResult[] = [];
    for (let i = 0; i < trials; i++) {
      const r = await createToGarp(ctx, status, `cg-${i}`);
      announces.push(r);
      log(`create ${i + 1}/${trials}: status->garp ${round(r.ms, 1)} ms (status from ${r.statusFrom}; create->status ${round(r.createToStatusMs, 1)} ms, create->garp ${round(r.createMs, 1)} ms)`);
      await sleep(200);
    }

    const failoverJson = (rs: readonly FailoverResult[]): Record<string, unknown> => ({
      ...summary(rs.map((r) => r.ms)),
      samples: rs.map((r) => (Number.isFinite(r.ms) ? round(r.ms, 1) : null)),
      timedOut: rs.filter((r) => !Number.isFinite(r.ms)).length,
      phasesFromFailure: phaseSummary(rs.map((r) => r.phases)),
      entryRepairedBeforeTrial: rs.filter((r) => r.repaired).length,
      firstMovedToAnotherNode: rs.filter((r) => r.detour).length,
    });
    const lost = handoffs.map((h) => h.lost);
    const codes: Record<string, number> = {};
    for (const h of handoffs) for (const [k, v] of Object.entries(h.codes)) codes[k] = (codes[k] ?? 0) + v;
    const announceMs = announces.map((a) => a.ms);
    const sk = summary(sigkill.map((r) => r.ms));
    const lc = summary(linkCut.map((r) => r.ms));
    const an = summary(announceMs);
    const lostMax = Math.max(...lost);

    return {
      bench: 'l2-failover',
      nodes: NODES,
      trials,
      sigkill: failoverJson(sigkill),
      linkCut: failoverJson(linkCut),
      handoff: {
        lostReplies: { p50: percentile(lost, 50), p99: percentile(lost, 99), max: lostMax, total: lost.reduce((a, b) => a + b, 0) },
        lostRepliesPerTrial: lost,
        maxConsecutiveLost: Math.max(...handoffs.map((h) => h.maxConsecutive)),
        failureCodes: codes,
        probeIntervalMs: PROBE_INTERVAL_MS,
        probeTimeoutMs: PROBE_TIMEOUT_MS,
        probesPerTrialP50: percentile(handoffs.map((h) => h.probes), 50),
        window: 'probes started from SIGTERM until 2 s after the client entry holds the new owner MAC',
        switch: summary(handoffs.map((h) => h.switchMs)),
        servedByOldOwnerP50: percentile(handoffs.map((h) => h.servedByOld), 50),
        failedBeforeSigterm: handoffs.reduce((a, h) => a + h.failedBefore, 0),
        phasesFromSigterm: phaseSummary(handoffs.map((h) => h.phases)),
        entryRepairedBeforeTrial: handoffs.filter((h) => h.repaired).length,
      },
      createToGratuitousArp: {
        ...an,
        minMs: announceMs.length === 0 ? null : round(Math.min(...announceMs), 1),
        samples: announceMs.map((m) => (Number.isFinite(m) ? round(m, 1) : null)),
        timedOut: announceMs.filter((m) => !Number.isFinite(m)).length,
        createToStatus: summary(announces.map((a) => a.createToStatusMs)),
        createCallToGratuitousArp: summary(announces.map((a) => a.createMs)),
        statusTimeFrom: { watch: announces.filter((a) => a.statusFrom === 'watch').length, controllerLog: announces.filter((a) => a.statusFrom === 'controllerLog').length },
        measuredFrom:
          'IP in status (the earlier of: the event reaching a watch in the bench process, the controller log line written after its status write returned; both are after the write, so this errs low) to the first gratuitous ARP for the IP captured in the client (tcpdump kernel timestamp); createCallToGratuitousArp (from the create call, includes allocation) bounds it from above',
      },
      targets: TARGETS,
      meetsTargets: {
        sigkillP99: sk.p99Ms !== null && sk.p99Ms <= TARGETS.sigkillP99Ms,
        linkCutP99: lc.p99Ms !== null && lc.p99Ms <= TARGETS.linkCutP99Ms,
        handoffLostReplies: lostMax <= TARGETS.handoffLostRepliesMax,
        createToGratuitousArpP99: an.p99Ms !== null && an.p99Ms <= TARGETS.createToGratuitousArpP99Ms,
      },
      staleClientEntries: {
        count: ctx.repairs.length,
        found: ctx.repairs.map((r) => ({ where: `after ${r.after}: ${r.ip} -> ${r.entry}, owner ${r.owner}`, ...r.recent })),
        meaning: 'before a trial, after the bed had one stable owner for 2 s, the client entry still held another node MAC; the bench flushed it',
      },
      ownersNotAnsweringArp: {
        count: ctx.deaf.length,
        found: ctx.deaf,
        meaning: 'before a trial, the one stable owner (ServiceL2Status) did not answer two ARP requests from the client; the bench recorded its process state and restarted that speaker',
      },
      notes: [
        `p99 is nearest-rank: with ${trials} samples it is the maximum`,
        'sigkill/linkCut: from just before the kill or link cut to the first `ip monitor neigh` line in the client showing the IP with the elected new owner MAC (stamped on arrival in the bench process); no client traffic, so only gratuitous ARP moves the entry',
        `before each failure the client entry held the owner MAC, only the owner answered arping, and the entry had not changed for over ${QUIET_MS} ms, so ARP locktime (1 s) cannot have held an update back`,
        'phases are from the new owner: its log lines (ms resolution) for the old member turning suspect and dead/left and for gaining the IP, and its first gratuitous ARP in the client capture',
        'handoff: the old node keeps its DNAT and HTTP responder (only the speaker restarts, as in a rolling update), so a probe fails only if the client cannot reach a node that serves it in time; each probe is a new TCP connection',
        'after every trial the speaker is restarted (or the link restored) and the bed settles before the next; trial Services rotate over ' + `${TRIAL_SERVICES} IPv4 Services, so owners vary`,
        'IPv4 only (ARP); NDP is not measured here',
      ],
      durationSeconds: round((now() - started) / 1000, 1),
      machine: { cpus: cpus().length, node: process.version, kernel: release(), kubernetes: KUBERNETES_VERSION },
    };
  } finally {
    await guard.finish();
  }
}
