/**
 * The cluster's I/O on the machine itself: namespaces, links, routes, cgroups, mounts,
 * sysctls and processes. Every function that creates something returns (or records)
 * exactly what it created; every function that removes takes names, never patterns.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ClusterError } from './errors.js';
import { describeFailure, procStartTime, run, runSync, sleep } from './run.js';
import { cgroupMounts, isShimOf, mountsUnder, parseMountinfo } from './sysinfo.js';

const named = z.array(z.looseObject({ name: z.string() }));
const links = z.array(z.looseObject({ ifname: z.string() }));
const routes = z.array(z.looseObject({ dst: z.string().optional(), dev: z.string().optional(), table: z.union([z.string(), z.number()]).optional() }));

function parse<T>(schema: z.ZodType<T>, text: string, what: string): T {
  try {
    return schema.parse(text.trim() === '' ? [] : JSON.parse(text));
  } catch (err) {
    throw new ClusterError('CommandFailed', `${what}: unexpected output ${JSON.stringify(text.slice(0, 200))}`, { cause: err });
  }
}

async function ipJson<T>(schema: z.ZodType<T>, args: string[]): Promise<T> {
  const r = await run('ip', ['-j', ...args]);
  if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`ip -j ${args.join(' ')}`, r));
  return parse(schema, r.stdout, `ip -j ${args.join(' ')}`);
}

export async function listNetns(): Promise<Set<string>> {
  return new Set((await ipJson(named, ['netns', 'list'])).map((n) => n.name));
}

export async function listRootLinks(): Promise<Set<string>> {
  return new Set((await ipJson(links, ['link', 'show'])).map((l) => l.ifname));
}

export async function listRootRoutes(): Promise<{ dst?: string; dev?: string; table?: string }[]> {
  const r = [...(await ipJson(routes, ['-4', 'route', 'show', 'table', 'all'])), ...(await ipJson(routes, ['-6', 'route', 'show', 'table', 'all']))];
  return r.map((x) => ({ ...(x.dst === undefined ? {} : { dst: x.dst }), ...(x.dev === undefined ? {} : { dev: x.dev }), ...(x.table === undefined ? {} : { table: String(x.table) }) }));
}

/** Runs an `ip -batch` script (in `ns` when given); throws with the failing line's message. */
export async function ipBatch(script: string, ns?: string): Promise<void> {
  const args = ns ? ['-n', ns, '-b', '-'] : ['-b', '-'];
  const r = await run('ip', args, { input: script });
  if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`ip ${args.join(' ')}${ns ? '' : ' (root namespace)'}`, r));
}

/** Sets sysctls inside a namespace by writing /proc/sys (which shows the writer's network namespace). */
export async function netnsSysctls(ns: string, values: Readonly<Record<string, string>>): Promise<void> {
  const script = Object.entries(values)
    .map(([k, v]) => `echo ${v} > /proc/sys/${k.replace(/\./g, '/')}`)
    .join(' && ');
  const r = await run('nsenter', [`--net=/run/netns/${ns}`, '--', 'sh', '-c', script]);
  if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`sysctls in ${ns}`, r));
}

export function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function writeSysctl(name: string, value: string): boolean {
  try {
    writeFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Machine-wide (not per-namespace) sysctls the kubelet sets at start (its
 * setupKernelTunables). `up` records their values first and `down` puts them back.
 */
export const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'] as const;

function mountinfo(): ReturnType<typeof parseMountinfo> {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/**
 * Creates cgroup `name` in every cgroup v1 hierarchy (the kubelet expects its
 * cgroupRoot to exist in all of them), copying cpuset.cpus/mems from the root, since a
 * new cpuset cgroup starts empty and accepts no task.
 */
export function makeCgroup(name: string): void {
  for (const mp of cgroupMounts(mountinfo()).v1) {
    const dir = join(mp, name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(mp, f);
      if (existsSync(parent) && readFileSync(join(dir, f), 'utf8').trim() === '') writeFileSync(join(dir, f), readFileSync(parent, 'utf8'));
    }
  }
}

/** Every folder of the cgroup tree at `dir`, deepest first. */
function cgroupTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      try {
        if (statSync(p).isDirectory()) walk(p);
      } catch {
        // vanished meanwhile
      }
    }
    out.push(d);
  };
  walk(dir);
  return out;
}

function procsOf(cgroupDir: string): number[] {
  try {
    return readFileSync(join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l.trim()).map(Number);
  } catch {
    return [];
  }
}

/** Pids of every process in cgroup `name` of any hierarchy (v1 and v2). */
export function cgroupPids(name: string): number[] {
  const { v1, v2 } = cgroupMounts(mountinfo());
  const roots = [...v1, ...v2].map((mp) => join(mp, name)).filter((d) => existsSync(d));
  return [...new Set(roots.flatMap((r) => cgroupTree(r)).flatMap(procsOf))];
}

/**
 * Removes cgroup `name` (and everything the kubelet and runc made under it) from every
 * hierarchy. Processes still in it are SIGKILLed first: they can only be ours (pods of
 * this node). Returns the folders that would not go.
 */
export async function removeCgroup(name: string): Promise<string[]> {
  for (const pid of cgroupPids(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const { v1, v2 } = cgroupMounts(mountinfo());
  let left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    left = [];
    for (const mp of [...v1, ...v2]) {
      const root = join(mp, name);
      if (!existsSync(root)) continue;
      for (const d of cgroupTree(root)) {
        try {
          rmdirSync(d);
        } catch {
          left.push(d);
        }
      }
    }
    if (left.length === 0) return [];
    await sleep(100);
  }
  return left;
}

/**
 * Makes `dir` a mount point of its own, marked rshared: `/` is a private mount here, and
 * the kubelet's volume mounts (and mount propagation) need a shared root folder.
 */
export async function bindMountShared(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const args of [['--bind', dir, dir], ['--make-rshared', dir]]) {
    const r = await run('mount', args);
    if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`mount ${args.join(' ')}`, r));
  }
}

/** Unmounts everything mounted at or under `dir` (deepest first; lazily if busy). Returns what stayed. */
export function unmountUnder(dir: string): string[] {
  for (let pass = 0; pass < 3; pass++) {
    const mps = mountsUnder(mountinfo(), dir);
    if (mps.length === 0) return [];
    for (const mp of mps) {
      const r = runSync('umount', [mp], { timeoutMs: 10_000 });
      if (r.status !== 0) runSync('umount', ['-l', mp], { timeoutMs: 10_000 });
    }
  }
  return mountsUnder(mountinfo(), dir);
}

/** Whether `pid` is still the process recorded with `startTime` (pids are reused). */
export function isSameProcess(pid: number, startTime: number): boolean {
  const st = procStartTime(pid);
  if (st === undefined || st !== startTime) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`, to each process still the recorded one; resolves when all are gone. */
export async function stopProcesses(procs: readonly { pid: number; startTime: number }[], graceMs = 5_000): Promise<void> {
  const live = procs.filter((p) => isSameProcess(p.pid, p.startTime));
  for (const p of live) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.some((p) => isSameProcess(p.pid, p.startTime)) && Date.now() < deadline) await sleep(50);
  for (const p of live) if (isSameProcess(p.pid, p.startTime)) signal(p.pid, 'SIGKILL');
  const hard = Date.now() + 5_000;
  while (live.some((p) => isSameProcess(p.pid, p.startTime)) && Date.now() < hard) await sleep(20);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

/** containerd shims serving `socket` (they outlive containerd), found by their exact `-address` argument. */
export function shimsOf(socket: string): { pid: number; startTime: number }[] {
  const out: { pid: number; startTime: number }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    try {
      if (!isShimOf(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), socket)) continue;
    } catch {
      continue;
    }
    const st = procStartTime(pid);
    if (st !== undefined) out.push({ pid, startTime: st });
  }
  return out;
}

/** Writes `text` to `file` only if it differs: kube-proxy exits when its config is rewritten under it. */
export function writeIfChanged(file: string, text: string, mode?: number): boolean {
  try {
    if (readFileSync(file, 'utf8') === text) return false;
  } catch {
    // absent
  }
  writeFileSync(file, text, mode === undefined ? {} : { mode });
  return true;
}
