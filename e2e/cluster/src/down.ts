/**
 * Tearing a cluster down from its state file alone: it works whether `up` finished,
 * failed half-way, or was SIGKILLed, and removes only what the state names.
 */
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.js';
import { cgroupPids, isSameProcess, removeCgroup, shimsOf, stopProcesses, unmountUnder, writeSysctl } from './machine.js';
import { crictlArgs, describeFailure, run, runSync } from './run.js';
import { readState, STATE_FILE, type ClusterState, type ProcessRecord } from './state.js';

/** What `down` did, and what (if anything) would not go. */
export interface DownReport {
  /** False when there was no cluster in the folder. */
  readonly found: boolean;
  readonly ms: number;
  /** Things that were still there at the end; empty on a clean teardown. */
  readonly leftovers: readonly string[];
}

const byName = (s: ClusterState, ...names: string[]): ProcessRecord[] => s.processes.filter((p) => names.includes(p.name));

/**
 * Removes pods with crictl while containerd still runs (containerd's shims, and the
 * containers under them, outlive containerd itself). The kubelets are already gone, so
 * nothing recreates the pods.
 */
async function removePods(state: ClusterState, log: (l: string) => void): Promise<void> {
  const containerds = byName(state, 'containerd');
  await Promise.all(
    state.plan.nodes.map(async (node) => {
      const c = containerds.find((p) => p.host === node.name);
      if (!c || !isSameProcess(c.pid, c.startTime)) return;
      const r = await run(state.tools.crictl, [...crictlArgs(node.paths.containerdSocket), '--timeout', '20s', 'rmp', '--force', '--all'], { timeoutMs: 60_000 });
      if (r.status !== 0) log(`${node.name}: ${describeFailure('crictl rmp -fa', r)} (its pods' processes are killed through their cgroups instead)`);
    }),
  );
}

/** What of the state is still there, checked against the machine rather than assumed. */
function remaining(state: ClusterState): string[] {
  const out: string[] = [];
  for (const p of state.processes) if (isSameProcess(p.pid, p.startTime)) out.push(`process ${p.name}${p.host ? `@${p.host}` : ''} pid ${p.pid}`);
  const netns = runSync('ip', ['-j', 'netns', 'list']).stdout;
  for (const n of state.namespaces) if (netns.includes(`"${n}"`)) out.push(`netns ${n}`);
  for (const l of state.links) if (existsSync(`/sys/class/net/${l}`)) out.push(`link ${l}`);
  out.push(...unmountUnder(state.plan.dir).map((m) => `mount ${m}`));
  return out;
}

/**
 * Stops everything the state in `dir` names, in dependency order, and removes the
 * folder's contents (the whole folder when `up` created it). Harmless when nothing is
 * there (`found: false`) and safe to run twice.
 */
export async function stopCluster(dir: string, opts: { log?: (line: string) => void } = {}): Promise<DownReport> {
  const t0 = Date.now();
  const log = opts.log ?? ((): void => undefined);
  const state = readState(dir);
  if (!state) return { found: false, ms: Date.now() - t0, leftovers: [] };
  const plan = state.plan;
  const leftovers: string[] = [];

  // 1. Kubelets first: while one runs it recreates every pod removed under it.
  await stopProcesses(byName(state, 'kubelet'), 5_000);
  // 2. Pods, through CRI, so sandboxes, network namespaces and mounts go the normal way.
  await removePods(state, log);
  // 3. The rest of each node: kube-proxy, containerd, then any shim left on its socket.
  await stopProcesses(byName(state, 'kube-proxy', 'containerd'), 5_000);
  await stopProcesses(plan.nodes.flatMap((n) => shimsOf(n.paths.containerdSocket)), 2_000);
  // 4. Whatever still lives in a node's cgroups (containers whose shim died) is a pod process of ours.
  for (const cg of state.cgroups) {
    for (const pid of cgroupPids(cg)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  // 5. Mounts: the kubelets' root folders and everything under the cluster folder
  //    (pod volumes, container root filesystems, pod network namespaces).
  leftovers.push(...unmountUnder(plan.dir).map((m) => `mount ${m}`));
  for (const cg of state.cgroups) leftovers.push(...(await removeCgroup(cg)).map((d) => `cgroup ${d}`));

  // 6. Network: routes, host-side veths (a namespace whose sockets are orphaned can
  //    linger for minutes; its veth must not), the bridge, then the namespaces.
  const ipLines = [
    ...state.routes.map((r) => `route del ${r}`),
    ...state.links.filter((l) => l !== plan.bridge.name).map((l) => `link del dev ${l}`),
    ...state.links.filter((l) => l === plan.bridge.name).map((l) => `link del dev ${l}`),
    ...state.namespaces.map((n) => `netns del ${n}`),
  ];
  if (ipLines.length > 0) await run('ip', ['-force', '-b', '-'], { input: `${ipLines.join('\n')}\n` });

  // 7. Registry and control plane, API server before etcd.
  await stopProcesses(byName(state, 'registry', 'kube-scheduler', 'kube-controller-manager'), 5_000);
  await stopProcesses(byName(state, 'kube-apiserver'), 5_000);
  await stopProcesses(byName(state, 'etcd'), 5_000);

  // 8. Machine-wide sysctls the kubelets changed.
  for (const s of state.sysctls) if (!writeSysctl(s.name, s.value)) leftovers.push(`sysctl ${s.name} (could not restore ${s.value})`);

  leftovers.push(...remaining(state));

  if (leftovers.length === 0) {
    if (state.createdDir) rmSync(plan.dir, { recursive: true, force: true });
    else {
      for (const e of readdirSync(plan.dir)) if (e !== STATE_FILE) rmSync(join(plan.dir, e), { recursive: true, force: true });
      rmSync(join(plan.dir, STATE_FILE), { force: true });
    }
  } else {
    // The state file stays, so a later `down` can finish the job.
    log(`left behind: ${leftovers.join(', ')}`);
  }
  return { found: true, ms: Date.now() - t0, leftovers };
}

/** The synchronous path for exit hooks: runs `down` in a child process (no event loop is left here). */
export function stopClusterSync(dir: string, cliScript: string): void {
  if (!existsSync(join(dir, STATE_FILE))) return;
  runSync(process.execPath, [cliScript, 'down', '--dir', dir], { timeoutMs: 120_000 });
  // Should the child have failed before reading the state, leave the folder alone: the state names what to remove.
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // gone or not empty
  }
}

/** Throws `BadState` when `dir` holds a cluster whose processes still run. */
export function assertNotRunning(dir: string): void {
  const state = readState(dir);
  if (!state) return;
  const live = state.processes.filter((p) => isSameProcess(p.pid, p.startTime));
  if (live.length > 0) {
    throw new ClusterError('BadState', `a cluster is already running in ${dir} (${live.map((p) => `${p.name}${p.host ? `@${p.host}` : ''}`).join(', ')}); run \`npm run cluster -- down --dir ${dir}\` first`);
  }
}
