#!/usr/bin/env node
/**
 * `npm run cluster -- COMMAND`: a real multi-node Kubernetes cluster on this machine (root).
 *   up [--nodes N] [--dir DIR] [--prefix P] [--proxy-mode nftables|iptables]
 *      [--lan-subnet A.B.C.0/24] [--cluster-cidr A.B.0.0/16] [--service-cidr A.B.0.0/16]
 *      [--no-ipv6] [--no-build] [--keep-on-failure] [--json]
 *                                  start it in the background; print DIR/kubeconfig (or, with
 *                                  --json, the hosts, addresses and timings as one JSON line)
 *   down [--dir DIR]               remove exactly what the state names (harmless when nothing runs)
 *   status [--dir DIR] [--json]    nodes and their readiness, and the cluster's daemons
 *   kubectl [--dir DIR] [--] ARGS  kubectl with the cluster's admin kubeconfig
 *   crictl NODE [--dir DIR] [--] ARGS    crictl against one node's containerd
 *   exec HOST [--dir DIR] -- CMD ARGS    a command in a node's, the client's or the router's namespace
 *   push LOCAL REPO[:TAG] [--dir DIR]    put a local image (buildah store, or docker-archive:FILE,
 *                                        oci-archive:FILE ...) into the cluster's registry
 *   tools                          build the cluster's binaries into the tool cache if missing; print their folder
 * Progress goes to stderr; stdout carries only the results named above.
 */
import { spawnSync } from 'node:child_process';
import { resolveClusterTools } from '@herald/e2e-harness';
import { attachCluster, CLI_SCRIPT } from './cluster.js';
import { stopCluster, stopClusterSync } from './down.js';
import { ClusterError } from './errors.js';
import { pushImage } from './images.js';
import { isSameProcess } from './machine.js';
import { DEFAULT_DIR, findHost } from './plan.js';
import { crictlArgs, inNetns } from './run.js';
import { readState, type ClusterState } from './state.js';
import { summarizeNodes } from './rest.js';
import { upCluster } from './up.js';
import { parseArgs, str, upOptions, USAGE, type ParsedArgs } from './args.js';

const log = (line: string): void => {
  process.stderr.write(`cluster: ${line}\n`);
};

function needCluster(dir: string): NonNullable<ReturnType<typeof attachCluster>> {
  const c = attachCluster(dir);
  if (!c) throw new ClusterError('BadState', `no cluster in ${dir}; run \`npm run cluster -- up --dir ${dir}\` first`);
  return c;
}

function passThrough(cmd: string, args: readonly string[]): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error) throw new ClusterError('CommandFailed', `${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

async function status(dir: string, json: boolean): Promise<number> {
  const state = readState(dir);
  if (!state) {
    if (json) process.stdout.write(`${JSON.stringify({ running: false, dir })}\n`);
    else log(`no cluster in ${dir}`);
    return 3;
  }
  const procs = state.processes.map((p) => ({ name: p.name, host: p.host ?? '', pid: p.pid, alive: isSameProcess(p.pid, p.startTime) }));
  let nodes: ReturnType<typeof summarizeNodes> = [];
  let apiError = '';
  try {
    nodes = await needCluster(dir).nodeStatus();
  } catch (err) {
    apiError = err instanceof Error ? err.message : String(err);
  }
  const allReady = nodes.length === state.plan.nodes.length && nodes.every((n) => n.ready);
  if (json) {
    process.stdout.write(`${JSON.stringify({ running: true, dir, phase: state.phase, registry: state.plan.registry, server: state.plan.apiServer.url, nodes, processes: procs, ...(apiError ? { apiError } : {}) })}\n`);
    return allReady ? 0 : 1;
  }
  const rows = [['NODE', 'STATUS', 'ADDRESS', 'POD CIDR', 'KUBELET', 'CONTAINERD', 'KUBE-PROXY']];
  for (const n of state.plan.nodes) {
    const s = nodes.find((x) => x.name === n.name);
    const alive = (name: string): string => (procs.find((p) => p.name === name && p.host === n.name)?.alive ? 'running' : 'stopped');
    rows.push([n.name, s ? (s.ready ? 'Ready' : `NotReady ${s.why}`) : 'unregistered', n.ipv4, s?.podCidr || n.podCidr, alive('kubelet'), alive('containerd'), alive('kube-proxy')]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  process.stdout.write(`\nphase ${state.phase}; API server ${state.plan.apiServer.url}${apiError ? ` (unreachable: ${apiError})` : ''}; registry ${state.plan.registry}\n`);
  process.stdout.write(`client ${state.plan.client.ns} ${state.plan.client.ipv4}; router ${state.plan.router.ns} ${state.plan.router.ipv4}; spare LAN addresses ${state.plan.spareRange.first}-${state.plan.spareRange.last}\n`);
  const cp = procs.filter((p) => !p.host).map((p) => `${p.name} ${p.alive ? 'running' : 'stopped'}`);
  process.stdout.write(`${cp.join(', ')}\n`);
  return allReady ? 0 : 1;
}

async function up(p: ParsedArgs): Promise<number> {
  const opts = upOptions(p);
  // Ctrl-C while coming up: tear down what exists so far (afterwards the cluster outlives this command).
  const interrupted = (sig: NodeJS.Signals): void => {
    log(`${sig} during start-up: tearing down`);
    stopClusterSync(opts.dir ?? DEFAULT_DIR, CLI_SCRIPT);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const { plan, timings } = await upCluster({ ...opts, log });
  process.off('SIGINT', interrupted);
  process.off('SIGTERM', interrupted);
  log(`up in ${(timings.total / 1000).toFixed(1)} s (network ${timings.network} ms, API server ${timings.apiServerReady} ms, nodes Ready ${timings.nodesReady} ms)`);
  log(`try: npm run cluster -- kubectl${plan.dir === DEFAULT_DIR ? '' : ` --dir ${plan.dir}`} get nodes -o wide`);
  if (p.flags.has('--json')) {
    const nodes = plan.nodes.map((n) => ({ name: n.name, ns: n.ns, ipv4: n.ipv4, ipv6: plan.ipv6 ? n.ipv6 : undefined, podCidr: n.podCidr, podCidr6: plan.ipv6 ? n.podCidr6 : undefined }));
    process.stdout.write(`${JSON.stringify({ dir: plan.dir, kubeconfig: `${plan.dir}/kubeconfig`, server: plan.apiServer.url, registry: plan.registry, nodes, client: plan.client, router: plan.router, spareRange: plan.spareRange, timings })}\n`);
  } else {
    process.stdout.write(`${plan.dir}/kubeconfig\n`);
  }
  return 0;
}

async function down(dir: string): Promise<number> {
  const r = await stopCluster(dir, { log });
  if (!r.found) log(`nothing running in ${dir}`);
  else if (r.leftovers.length === 0) log(`removed the cluster in ${dir} (${(r.ms / 1000).toFixed(1)} s)`);
  else log(`down left behind: ${r.leftovers.join(', ')}`);
  return r.leftovers.length === 0 ? 0 : 1;
}

function stateOf(dir: string): ClusterState {
  const state = readState(dir);
  if (!state) throw new ClusterError('BadState', `no cluster in ${dir}; run \`npm run cluster -- up --dir ${dir}\` first`);
  return state;
}

function crictl(p: ParsedArgs, dir: string): number {
  const [node] = p.positional;
  if (!node) throw new ClusterError('Usage', `crictl needs a node name\n${USAGE}`);
  const state = stateOf(dir);
  const n = state.plan.nodes.find((x) => x.name === node);
  if (!n) throw new ClusterError('UnknownHost', `no node ${node} (nodes: ${state.plan.nodes.map((x) => x.name).join(', ')})`);
  return passThrough(state.tools.crictl, [...crictlArgs(n.paths.containerdSocket), ...p.rest]);
}

function exec(p: ParsedArgs, dir: string): number {
  const [host] = p.positional;
  const [cmd, ...args] = p.rest;
  if (!host || !cmd) throw new ClusterError('Usage', `exec needs a host and a command after --\n${USAGE}`);
  const [c, a] = inNetns(findHost(stateOf(dir).plan, host).ns, cmd, args);
  return passThrough(c, a);
}

async function push(p: ParsedArgs, dir: string): Promise<number> {
  const [local, repoTag] = p.positional;
  if (!local || !repoTag) throw new ClusterError('Usage', `push needs LOCAL and REPO[:TAG]\n${USAGE}`);
  process.stdout.write(`${await pushImage(local, repoTag, { dir })}\n`);
  return 0;
}

function tools(): number {
  const t = resolveClusterTools({ build: true, log });
  log(`kubelet, kube-proxy, kube-scheduler, kube-controller-manager: ${t.kubelet.replace(/\/kubelet$/, '')}; crictl: ${t.crictl}; registry: ${t.registry} (${t.source})`);
  process.stdout.write(`${t.controlPlane.dir}\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv);
  const dir = str(p, '--dir') ?? DEFAULT_DIR;
  switch (p.command) {
    case 'up':
      return up(p);
    case 'down':
      return down(dir);
    case 'status':
      return status(dir, p.flags.has('--json'));
    case 'kubectl':
      return passThrough(stateOf(dir).tools.kubectl, ['--kubeconfig', needCluster(dir).kubeconfig, ...p.positional, ...p.rest]);
    case 'crictl':
      return crictl(p, dir);
    case 'exec':
      return exec(p, dir);
    case 'push':
      return push(p, dir);
    case 'tools':
      return tools();
    default:
      throw new ClusterError('Usage', `unknown command ${p.command}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cluster: ${msg}\n`);
    process.exit(err instanceof ClusterError && err.code === 'Usage' ? 2 : 1);
  },
);
