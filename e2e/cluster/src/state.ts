/**
 * The cluster's state file, `<dir>/cluster.json`: the plan, and every process, mount,
 * cgroup, namespace, link and route `up` created, recorded the moment each exists.
 * `down` removes exactly what it names, so it also works after `up` was SIGKILLed
 * half-way, and never touches what another test created.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ClusterError } from './errors.js';
import type { ClusterPlan } from './plan.js';

export const STATE_FILE = 'cluster.json';

const hostSchema = z.object({
  name: z.string(),
  ns: z.string(),
  hostVeth: z.string(),
  ifname: z.literal('eth0'),
  mac: z.string(),
  ipv4: z.string(),
  prefixLength: z.literal(24),
  ipv6: z.string(),
  prefixLength6: z.literal(64),
});

const nodeSchema = hostSchema.extend({
  index: z.number().int(),
  podCidr: z.string(),
  podGateway: z.string(),
  podCidr6: z.string(),
  podGateway6: z.string(),
  cgroup: z.string(),
  paths: z.object({
    dir: z.string(),
    containerdConfig: z.string(),
    containerdRoot: z.string(),
    containerdState: z.string(),
    containerdSocket: z.string(),
    registryHostsDir: z.string(),
    cniConfDir: z.string(),
    cniDataDir: z.string(),
    kubeletRoot: z.string(),
    kubeletConfig: z.string(),
    kubeletKubeconfig: z.string(),
    podLogsDir: z.string(),
    proxyConfig: z.string(),
    proxyKubeconfig: z.string(),
    logDir: z.string(),
  }),
});

const planSchema = z.object({
  prefix: z.string(),
  dir: z.string(),
  proxyMode: z.enum(['nftables', 'iptables']),
  bridge: z.object({ name: z.string(), mac: z.string(), ipv4: z.string(), prefixLength: z.literal(24), subnet: z.string(), ipv6: z.string(), subnet6: z.string() }),
  ipv6: z.boolean(),
  nodes: z.array(nodeSchema),
  client: hostSchema,
  router: hostSchema,
  clusterCidr: z.string(),
  serviceCidr: z.string(),
  clusterCidr6: z.string(),
  serviceCidr6: z.string(),
  kubernetesServiceIp: z.string(),
  spareRange: z.object({ first: z.string(), last: z.string() }),
  apiServer: z.object({ address: z.string(), port: z.number().int(), url: z.string() }),
  registry: z.string(),
  pauseImage: z.string(),
});

/** One process `up` started; `startTime` (clock ticks since boot) tells it apart from a later process reusing the pid. */
const processSchema = z.object({
  name: z.string(),
  /** The node it serves, if any. */
  host: z.string().optional(),
  pid: z.number().int().positive(),
  startTime: z.number().int().nonnegative(),
  log: z.string(),
});

const stateSchema = z.object({
  version: z.literal(1),
  plan: planSchema,
  /** The process that ran `up` (it may be gone: the daemons are detached). */
  upPid: z.number().int(),
  startedAt: z.string(),
  /** `starting` until everything is Ready; `up` then. */
  phase: z.enum(['starting', 'up']),
  /** Whether `up` created the cluster folder itself (then `down` removes it whole). */
  createdDir: z.boolean(),
  namespaces: z.array(z.string()),
  /** Links in the root namespace: the bridge and the host-side veths. */
  links: z.array(z.string()),
  /** Routes added in the root namespace, as `ip route` arguments. */
  routes: z.array(z.string()),
  /** Bind mounts made (the kubelets' root folders). */
  mounts: z.array(z.string()),
  /** cgroup names made under every cgroup v1 hierarchy (the kubelets' cgroupRoots). */
  cgroups: z.array(z.string()),
  processes: z.array(processSchema),
  /** Machine-wide sysctls as they were before the first kubelet started (it changes them). */
  sysctls: z.array(z.object({ name: z.string(), value: z.string() })),
  /** Binaries `down` and `kubectl` need without resolving tools again. */
  tools: z.object({ kubectl: z.string(), crictl: z.string() }),
});

export type ClusterState = z.infer<typeof stateSchema>;
export type ProcessRecord = z.infer<typeof processSchema>;
export type StatePlan = z.infer<typeof planSchema>;

/** Parses a state file's text; throws `BadState` naming the file when it is not a valid state. */
export function parseState(text: string, file = STATE_FILE): ClusterState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ClusterError('BadState', `${file} is not JSON; remove what it names by hand, then the file`, { cause: err });
  }
  const r = stateSchema.safeParse(json);
  if (!r.success) throw new ClusterError('BadState', `${file} is not a cluster state file: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function serializeState(state: ClusterState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** The state of the cluster in `dir`, or undefined when there is none. */
export function readState(dir: string): ClusterState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  return parseState(readFileSync(file, 'utf8'), file);
}

export function initialState(plan: ClusterPlan, createdDir: boolean, tools: ClusterState['tools']): ClusterState {
  return {
    version: 1,
    plan: plan as StatePlan,
    upPid: process.pid,
    startedAt: new Date().toISOString(),
    phase: 'starting',
    createdDir,
    namespaces: [],
    links: [],
    routes: [],
    mounts: [],
    cgroups: [],
    processes: [],
    sysctls: [],
    tools,
  };
}

type ListKey = 'namespaces' | 'links' | 'routes' | 'mounts' | 'cgroups';

/**
 * The state file as `up` grows it: every change is written at once (to a temporary
 * file, then renamed, so a crash never leaves half a file).
 */
export class StateStore {
  private current: ClusterState;

  constructor(
    readonly dir: string,
    initial: ClusterState,
  ) {
    this.current = initial;
    this.flush();
  }

  get state(): ClusterState {
    return this.current;
  }

  /** Records names just created (duplicates are ignored). */
  add(key: ListKey, ...names: string[]): void {
    const list = this.current[key];
    this.update({ [key]: [...list, ...names.filter((n) => !list.includes(n))] });
  }

  addProcess(p: ProcessRecord): void {
    this.update({ processes: [...this.current.processes, p] });
  }

  update(patch: Partial<ClusterState>): void {
    this.current = { ...this.current, ...patch };
    this.flush();
  }

  private flush(): void {
    const file = join(this.dir, STATE_FILE);
    writeFileSync(`${file}.tmp`, serializeState(this.current));
    renameSync(`${file}.tmp`, file);
  }
}
