/** The programmatic API: start a cluster, use it from a test, destroy it. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopCluster, stopClusterSync, type DownReport } from './down.js';
import { ClusterError } from './errors.js';
import { onProcessExit } from '@herald/e2e-harness';
import { pushImage } from './images.js';
import { DEFAULT_DIR, findHost, type ClusterPlan, type HostPlan, type NodePlan } from './plan.js';
import { KubeRest, summarizeNodes, type NodeSummary } from './rest.js';
import { crictlArgs, inNetns, run, type ExecResult, type RunOptions } from './run.js';
import { readState } from './state.js';
import { clusterFiles, upCluster, type UpOptions, type UpTimings } from './up.js';

/** The CLI in dist/, which exit hooks run synchronously to tear a cluster down. */
export const CLI_SCRIPT = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Options of {@link Cluster.spawn}: Node's, except `detached`, which the cluster needs (one process group per spawn). */
export type ClusterSpawnOptions = Omit<SpawnOptions, 'detached'>;

/** A running cluster. */
export interface Cluster {
  /** The prefix of every name the cluster created (namespaces `<prefix>-node-1`, ...). */
  readonly prefix: string;
  readonly dir: string;
  readonly plan: ClusterPlan;
  /** The admin kubeconfig (system:masters). */
  readonly kubeconfig: string;
  /** `https://ADDRESS:PORT` on the bridge's host-side address. */
  readonly server: string;
  /** The registry as image references name it (`ADDRESS:PORT`); nodes pull from it over plain HTTP. */
  readonly registry: string;
  readonly nodes: readonly NodePlan[];
  /** A plain host on the bridge for test clients (curl, arping). */
  readonly client: HostPlan;
  /** A plain host on the bridge for a router (FRR, BIRD, GoBGP). */
  readonly router: HostPlan;
  /** The last `up`'s timings (undefined when attached to a cluster started elsewhere). */
  readonly timings: UpTimings | undefined;
  /** A node, `client` or `router` by name; `ClusterError('UnknownHost')` otherwise. */
  host(name: string): HostPlan;
  /** Runs kubectl with the admin kubeconfig. */
  kubectl(args: readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Runs crictl against one node's containerd. */
  crictl(node: string, args: readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Runs `cmd args` in the host's network namespace (nsenter --net: mounts stay the machine's). */
  execIn(host: string, cmd: string, args?: readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /**
   * The same as {@link Cluster.execIn}, under the name `@herald/lab`'s `Lab` uses: with
   * `prefix`, `host`, `exec` and `spawn` the cluster has what the lab's routers
   * (`startRouter`) use of a lab, so FRR, BIRD or GoBGP can run in its `router` host.
   */
  exec(host: string, cmd: string, args?: readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Starts a long-lived process in the host's network namespace; `destroy` kills its process group. */
  spawn(host: string, cmd: string, args?: readonly string[], opts?: ClusterSpawnOptions): ChildProcess;
  /** Puts a local image into the cluster's registry; returns the reference pods use. See {@link pushImage}. */
  pushImage(local: string, repoTag: string): Promise<string>;
  /** The Nodes as the API server sees them. */
  nodeStatus(): Promise<NodeSummary[]>;
  /** Kills what `spawn` started and tears the cluster down. Safe to call twice. */
  destroy(): Promise<DownReport>;
}

class ClusterImpl implements Cluster {
  readonly prefix: string;
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly registry: string;
  readonly nodes: readonly NodePlan[];
  readonly client: HostPlan;
  readonly router: HostPlan;
  private readonly children = new Set<ChildProcess>();
  private destroying: Promise<DownReport> | undefined;
  private readonly unregister: () => void;

  constructor(
    readonly plan: ClusterPlan,
    private readonly tools: { kubectl: string; crictl: string },
    readonly timings: UpTimings | undefined,
    owned: boolean,
  ) {
    this.prefix = plan.prefix;
    this.dir = plan.dir;
    this.kubeconfig = clusterFiles(plan.dir).kubeconfig;
    this.server = plan.apiServer.url;
    this.registry = plan.registry;
    this.nodes = plan.nodes;
    this.client = plan.client;
    this.router = plan.router;
    // Only a cluster this process started is torn down when this process ends.
    this.unregister = owned
      ? onProcessExit(() => {
          for (const c of this.children) killGroup(c);
          stopClusterSync(this.dir, CLI_SCRIPT);
        })
      : (): void => undefined;
  }

  host(name: string): HostPlan {
    return findHost(this.plan, name);
  }

  kubectl(args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    return run(this.tools.kubectl, ['--kubeconfig', this.kubeconfig, ...args], opts);
  }

  crictl(node: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    const n = this.plan.nodes.find((x) => x.name === node);
    if (!n) throw new ClusterError('UnknownHost', `cluster ${this.plan.prefix} has no node ${JSON.stringify(node)}`);
    return run(this.tools.crictl, [...crictlArgs(n.paths.containerdSocket), ...args], opts);
  }

  execIn(host: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<ExecResult> {
    const [c, a] = inNetns(this.host(host).ns, cmd, args);
    return run(c, a, opts);
  }

  exec(host: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<ExecResult> {
    return this.execIn(host, cmd, args, opts);
  }

  spawn(host: string, cmd: string, args: readonly string[] = [], opts: ClusterSpawnOptions = {}): ChildProcess {
    const [c, a] = inNetns(this.host(host).ns, cmd, args);
    const child = spawn(c, a, { ...opts, detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  pushImage(local: string, repoTag: string): Promise<string> {
    return pushImage(local, repoTag, { registry: this.registry });
  }

  async nodeStatus(): Promise<NodeSummary[]> {
    const files = clusterFiles(this.dir);
    const rest = new KubeRest(this.server, { caCert: `${files.pki}/ca.crt`, adminCert: `${files.pki}/admin.crt`, adminKey: `${files.pki}/admin.key` });
    try {
      return summarizeNodes(await rest.getJson('/api/v1/nodes'));
    } finally {
      rest.close();
    }
  }

  destroy(): Promise<DownReport> {
    this.destroying ??= (async () => {
      for (const c of this.children) killGroup(c);
      const report = await stopCluster(this.dir);
      if (report.leftovers.length === 0) this.unregister();
      return report;
    })();
    return this.destroying;
  }
}

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * Brings up a cluster (see {@link UpOptions}) and returns its handle. The cluster is
 * torn down when this process exits, or on SIGINT/SIGTERM/SIGHUP, should `destroy`
 * never run.
 */
export async function startCluster(opts: UpOptions = {}): Promise<Cluster> {
  const { plan, tools, timings } = await upCluster(opts);
  return new ClusterImpl(plan, { kubectl: tools.controlPlane.kubectl, crictl: tools.crictl }, timings, true);
}

/** A handle on the cluster running in `dir` (default /tmp/herald-cluster), e.g. one started by `npm run cluster -- up`. */
export function attachCluster(dir = DEFAULT_DIR): Cluster | undefined {
  const state = readState(dir);
  if (!state) return undefined;
  return new ClusterImpl(state.plan as ClusterPlan, state.tools, undefined, false);
}
