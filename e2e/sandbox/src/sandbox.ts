/**
 * Herald on one machine, for a first look, as users run it: a real 3-node Kubernetes cluster
 * (e2e/cluster: kubelets, containerd, kube-proxy, a registry), Herald's images built here and
 * pulled by the nodes from that registry, Herald installed by its packaged Helm chart, FRR in
 * the cluster's router host, and two LoadBalancer Services of real Pods:
 *
 *   ingress  L2 (pool `lan`, on the cluster's LAN): an nginx Pod behind one Herald IP, routing
 *            app1.sandbox.test and app2.sandbox.test to the ClusterIP Services of two backend
 *            Deployments (the usual production shape: one IP, an ingress proxy, many names).
 *   web      BGP (pool `bgp`, off the LAN): every node announces it to FRR, which installs an
 *            ECMP route; the client reaches it through FRR.
 *
 * {@link Sandbox.up} returns a {@link Report}: one row per request the client made. The
 * sandbox lives as long as the process that brought it up; {@link downSandbox} stops it from
 * another process and sweeps what a killed one left (the cluster by its own `down`).
 * @packageDocumentation
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readState as readClusterState, startCluster, stopCluster, type Cluster } from '@herald/e2e-cluster';
import { eventually } from '@herald/e2e-harness';
import { BACKEND_PORT } from '@herald/e2e-images';
import { Helm, applyStream, buildImages, imageValues, pushImages, type BuiltImages, type Obj } from '@herald/e2e-on-cluster';
import { startRouter, waitForRoute, type Lab, type Router } from '@herald/lab';
import { appObjects, BGP_ROUTE, FRR_ASN, HERALD_ASN, HERALD_NS, heraldObjects, HTTP_PORT, INGRESS_APP, INGRESS_ROUTES, APPS_NS, WEB_APP } from './objects.js';
import { readState, statePath, writeState, type SandboxState } from './state.js';
import { frrRouteFor, type Answer, type Report, type Row } from './table.js';
import { ingressObjects } from './objects.js';

export { BGP_POOL, INGRESS_ROUTES } from './objects.js';

/**
 * The cluster's networks: not the cluster's defaults (203.0.113.0/24, 10.244/16, 10.96/16),
 * so the sandbox runs beside the test suites' clusters. 198.18.0.0/15 is reserved for network
 * tests (RFC 2544) and routed nowhere.
 */
export const LAN_SUBNET = '198.18.0.0/24';
export const CLUSTER_CIDR = '10.245.0.0/16';
export const SERVICE_CIDR = '10.97.0.0/16';
const NODES = 3;
/** Tag of Herald's images in the local store and the registry. */
const IMAGE_TAG = 'sandbox';
const RELEASE = 'herald';
const WAIT_MS = 120_000;

const HTTP_HOST = fileURLToPath(new URL('../dist/http-host.js', import.meta.url));
/** How `down` recognises the foreground sandbox process before signalling it. */
export const MAIN_MARK = 'sandbox/dist/main.js';

export interface SandboxOptions {
  /** State, logs and the cluster (`DIR/cluster`) (created if absent). */
  readonly dir: string;
  /** The cluster's prefix (`<prefix>-node-1`, ...); default `hsb`. */
  readonly prefix?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** Epoch ms the elapsed time is measured from; default the process start. */
  readonly startedAt?: number;
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Whether a process exists (signal 0). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

interface StatusList {
  items: { status?: { node?: string; serviceName?: string; serviceNamespace?: string } }[];
}

interface ServiceJson {
  spec?: { clusterIP?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

/** A running (or starting) sandbox. Bring it up with {@link Sandbox.up}; always {@link Sandbox.close} it. */
export class Sandbox {
  readonly dir: string;
  readonly prefix: string;
  readonly logDir: string;
  readonly clusterDir: string;
  readonly #log: (line: string) => void;
  readonly #t0: number;
  #state: SandboxState;
  #cluster: Cluster | undefined;
  #helm: Helm | undefined;
  #frr: Router | undefined;
  #closing: Promise<void> | undefined;
  /** Set once {@link up} has made `dir` its own: only then does close sweep. */
  #owned = false;
  readonly timings: Record<string, number> = {};

  constructor(opts: SandboxOptions) {
    this.dir = opts.dir;
    this.prefix = opts.prefix ?? 'hsb';
    this.logDir = join(this.dir, 'logs');
    this.clusterDir = join(this.dir, 'cluster');
    this.#log = opts.log ?? ((): void => undefined);
    this.#t0 = opts.startedAt ?? performance.timeOrigin;
    this.#state = { version: 2, pid: process.pid, prefix: this.prefix, startedAt: new Date().toISOString(), clusterDir: this.clusterDir, folders: [], phase: 'starting' };
  }

  get cluster(): Cluster | undefined {
    return this.#cluster;
  }

  #elapsed(): number {
    return Date.now() - this.#t0;
  }

  #step(what: string): void {
    this.#log(`${what} (${sec(this.#elapsed())})`);
  }

  /** Runs `fn`, records its duration under `name` in {@link timings}. */
  async #timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    const r = await fn();
    this.timings[name] = (Date.now() - t) / 1000;
    return r;
  }

  /** Throws once {@link close} has begun, so a signal during `up` stops it at the next step. */
  #check(): void {
    if (this.#closing) throw new Error('sandbox: stopped while coming up');
  }

  /** Brings everything up and returns the report; on failure, tears down what it built and throws. */
  async up(): Promise<Report> {
    await this.#claim();
    try {
      return await this.#build();
    } catch (err) {
      await this.#saveClusterLogs();
      await this.close({ keepLogs: true });
      throw err;
    }
  }

  /**
   * Makes `dir` this sandbox's, or throws without touching anything: a sandbox already
   * running from `dir` is someone else's. What a dead one left is swept first.
   */
  async #claim(): Promise<void> {
    this.#check();
    const previous = readState(this.dir);
    if (previous && previous.pid !== process.pid && isAlive(previous.pid)) {
      throw new Error(`a sandbox (pid ${previous.pid}) is already running from ${this.dir}; stop it with \`npm run sandbox -- down\``);
    }
    if (previous) {
      this.#log(`removing what an earlier sandbox left in ${this.dir}`);
      await sweep(this.dir, previous, this.#log);
    }
    mkdirSync(this.logDir, { recursive: true });
    // The cluster's folder is known now: a sandbox killed while the cluster comes up is still swept.
    this.#record({});
    this.#owned = true;
  }

  async #build(): Promise<Report> {
    const helm = await Helm.create();
    this.#helm = helm;
    this.#record({ folders: [helm.home] });
    // The cluster, the images and the chart do not depend on each other: all at once.
    const [cluster, local, chart] = await Promise.all([
      this.#timed('clusterUp', () => startCluster({ prefix: this.prefix, dir: this.clusterDir, nodes: NODES, lanSubnet: LAN_SUBNET, clusterCidr: CLUSTER_CIDR, serviceCidr: SERVICE_CIDR, log: (l) => this.#log(`cluster: ${l}`) })).then((c) => {
        this.#cluster = c;
        this.#step(`cluster ${this.prefix} up: ${c.nodes.map((n) => n.name).join(' ')}`);
        return c;
      }),
      this.#timed('imagesBuild', () => buildImages(IMAGE_TAG)).then((i) => {
        this.#step('images built');
        return i;
      }),
      helm.packageChart(join(helm.home, 'chart')),
    ]);
    this.#check();
    const built = await this.#timed('imagesPush', () => pushImages(cluster, IMAGE_TAG, local));
    this.#step('images pushed to the cluster registry');
    this.#check();

    // Herald (helm), the apps, and FRR come up side by side.
    await Promise.all([this.#installHerald(cluster, helm, chart, built), this.#deployApps(cluster, built), this.#startFrr(cluster)]);
    this.#check();
    await this.#apply(cluster, heraldObjects({ lanSubnet: LAN_SUBNET, routerIp: cluster.router.ipv4 }));
    this.#step('pools, advertisements and BGPPeer applied');

    const [ingressIp, webIp] = await Promise.all([this.#lbIp(cluster, INGRESS_APP), this.#lbIp(cluster, WEB_APP)]);
    this.#step(`IPs: ingress ${ingressIp}, web ${webIp}`);
    const rows = await Promise.all([this.#ingressRows(cluster, ingressIp), this.#webRow(cluster, webIp)]);
    const report: Report = {
      rows: rows.flat(),
      elapsedMs: this.#elapsed(),
      prefix: this.prefix,
      kubeconfig: cluster.kubeconfig,
      clusterDir: cluster.dir,
      logDir: this.logDir,
      clientNs: cluster.client.ns,
      timings: { ...this.timings },
    };
    this.#record({ phase: 'up' });
    return report;
  }

  #record(patch: Partial<SandboxState>): void {
    this.#state = { ...this.#state, ...patch };
    writeState(this.dir, this.#state);
  }

  async #kubectl(cluster: Cluster, args: readonly string[], input?: string): Promise<string> {
    const r = await cluster.kubectl(args, { timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  #apply(cluster: Cluster, objs: readonly Obj[]): Promise<string> {
    return this.#kubectl(cluster, ['apply', '-f', '-'], applyStream(objs));
  }

  /** `helm install` of the packaged chart with the pushed images, waiting for the Pods to be Ready. */
  async #installHerald(cluster: Cluster, helm: Helm, chart: string, built: BuiltImages): Promise<void> {
    const r = await this.#timed('helmInstall', () =>
      helm.run(['install', RELEASE, chart, '--namespace', HERALD_NS, '--create-namespace', '--wait', '--timeout', '3m'], { kubeconfig: cluster.kubeconfig, values: imageValues(built.refs), timeoutMs: 200_000 }),
    );
    if (r.status !== 0) throw new Error(`helm install: ${r.stderr.trim()}\n${r.stdout.trim()}`);
    this.#step('Herald installed by its chart (controller and speakers Ready)');
  }

  /** The backends, their Services, the LoadBalancers, then nginx pointed at the backends' ClusterIPs. */
  async #deployApps(cluster: Cluster, built: BuiltImages): Promise<void> {
    await this.#apply(cluster, appObjects({ backendImage: built.refs.backend, backendPort: BACKEND_PORT, replicas: NODES }));
    const clusterIps: Record<string, string> = {};
    for (const r of INGRESS_ROUTES) {
      const svc = JSON.parse(await this.#kubectl(cluster, ['-n', APPS_NS, 'get', 'service', r.app, '-o', 'json'])) as ServiceJson;
      const ip = svc.spec?.clusterIP;
      if (ip === undefined || ip === '' || ip === 'None') throw new Error(`Service ${r.app} has no ClusterIP`);
      clusterIps[r.app] = ip;
    }
    await this.#apply(cluster, ingressObjects({ nginxImage: built.refs.nginx, clusterIps }));
    await this.#timed('appsReady', async () => {
      for (const d of [...INGRESS_ROUTES.map((r) => r.app), WEB_APP, INGRESS_APP]) await this.#kubectl(cluster, ['-n', APPS_NS, 'rollout', 'status', `deployment/${d}`, '--timeout=180s']);
    });
    this.#step('apps Ready: app1, app2, web and the nginx ingress');
  }

  /** FRR peering with every node; forwarding for the client, which routes the BGP pool via it. */
  async #startFrr(cluster: Cluster): Promise<void> {
    const router = cluster.router;
    // A router forwards; it must not redirect the client to the nodes (same LAN), or the
    // client would bypass it after the first packet.
    for (const s of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']) {
      const r = await cluster.exec('router', 'sysctl', ['-w', s]);
      if (r.status !== 0) throw new Error(`router: sysctl -w ${s}: ${r.stderr.trim()}`);
    }
    const route = await cluster.exec('client', 'ip', ['route', 'replace', BGP_ROUTE, 'via', router.ipv4]);
    if (route.status !== 0) throw new Error(`client: ip route replace ${BGP_ROUTE} via ${router.ipv4}: ${route.stderr.trim()}`);
    // The cluster has what the lab's routers use of a lab (prefix, host, exec, spawn).
    this.#frr = await startRouter(cluster as unknown as Lab, 'router', 'frr', {
      asn: FRR_ASN,
      routerId: router.ipv4,
      families: ['ipv4'],
      neighbors: cluster.nodes.map((n) => ({ address: n.ipv4, asn: HERALD_ASN })),
    });
    this.#record({ folders: [...this.#state.folders, this.#frr.dir] });
    this.#step('FRR started in the router host');
  }

  async #lbIp(cluster: Cluster, service: string): Promise<string> {
    return eventually(
      `Service ${service} to get an IP from Herald`,
      async () => {
        const s = JSON.parse(await this.#kubectl(cluster, ['-n', APPS_NS, 'get', 'service', service, '-o', 'json'])) as ServiceJson;
        const ip = s.status?.loadBalancer?.ingress?.[0]?.ip;
        return ip === undefined || ip === '' ? undefined : ip;
      },
      WAIT_MS,
      250,
    );
  }

  /** Nodes named by Herald's status objects of one kind for one Service, sorted. */
  async #statusNodes(cluster: Cluster, plural: string, service: string): Promise<string[]> {
    const list = JSON.parse(await this.#kubectl(cluster, ['-n', HERALD_NS, 'get', plural, '-o', 'json'])) as StatusList;
    return list.items
      .filter((i) => i.status?.serviceName === service && i.status.serviceNamespace === APPS_NS)
      .map((i) => i.status?.node ?? '?')
      .sort();
  }

  /** GET http://HOST_NAME/ from the client, connecting to `ip` (as curl --resolve does). */
  async #getByName(cluster: Cluster, hostName: string, ip: string): Promise<Answer> {
    const r = await cluster.exec('client', process.execPath, [HTTP_HOST, hostName, ip, String(HTTP_PORT), '2000'], { timeoutMs: 15_000 });
    if (r.status !== 0) throw new Error(`http-host.js in the client: exit ${r.status}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as Answer;
  }

  async #frrRoute(ip: string): Promise<Row['route']> {
    const frr = this.#frr;
    if (!frr) return undefined;
    const [bgp, kernel] = await Promise.all([frr.routes('ipv4'), frr.kernelRoutes('ipv4')]);
    return frrRouteFor(ip, bgp, kernel);
  }

  async #ingressRows(cluster: Cluster, ip: string): Promise<Row[]> {
    const nodes = await eventually('one node announcing the ingress IP (ServiceL2Status)', async () => {
      const n = await this.#statusNodes(cluster, 'servicel2statuses', INGRESS_APP);
      return n.length === 1 ? n : undefined;
    }, WAIT_MS, 250);
    const answers = await Promise.all(
      INGRESS_ROUTES.map((r) =>
        eventually(`the client to get ${r.hostName} through ${ip}`, async () => {
          const a = await this.#getByName(cluster, r.hostName, ip);
          return a.ok ? a : undefined;
        }, WAIT_MS, 250),
      ),
    );
    this.#step(`ingress ${ip} answered, announced by ${nodes.join(' ')}`);
    const route = await this.#frrRoute(ip);
    return INGRESS_ROUTES.map((r, i): Row => ({ service: INGRESS_APP, hostName: r.hostName, ip, mode: 'L2', nodes, ...(route ? { route } : {}), answer: answers[i] ?? { ok: false, code: 'NONE', ms: 0 } }));
  }

  async #webRow(cluster: Cluster, ip: string): Promise<Row> {
    const frr = this.#frr;
    if (!frr) throw new Error('FRR is not running');
    const all = cluster.nodes.map((n) => n.name).sort();
    const nodes = await eventually('every node announcing the web IP (ServiceBGPStatus)', async () => {
      const n = await this.#statusNodes(cluster, 'servicebgpstatuses', WEB_APP);
      return n.join() === all.join() ? n : undefined;
    }, WAIT_MS, 250);
    await waitForRoute(frr, 'ipv4', `${ip}/32`, (r) => r.nextHops.length === all.length, { timeoutMs: WAIT_MS, intervalMs: 250 });
    await eventually('FRR to install the ECMP route in its kernel table', async () => (await frr.kernelRoutes('ipv4')).some((k) => k.prefix === `${ip}/32` && k.nextHops.length === all.length), WAIT_MS, 250);
    const answer = await eventually(`the client to get http://${ip}/ via FRR`, async () => {
      const a = await this.#getByName(cluster, ip, ip);
      return a.ok ? a : undefined;
    }, WAIT_MS, 250);
    this.#step(`web ${ip} routed by FRR to ${nodes.join(' ')}`);
    const route = await this.#frrRoute(ip);
    return { service: WEB_APP, ip, mode: 'BGP', nodes, ...(route ? { route } : {}), answer };
  }

  /** On a failed `up`: the cluster's daemon logs into DIR/logs before the cluster is removed. */
  async #saveClusterLogs(): Promise<void> {
    const from = join(this.clusterDir, 'logs');
    if (!existsSync(from)) return;
    spawnSync('cp', ['-r', from, join(this.logDir, 'cluster')]);
    const c = this.#cluster;
    if (!c) return;
    const r = await c.kubectl(['get', 'pods', '-A', '-o', 'wide'], { timeoutMs: 10_000 }).catch(() => undefined);
    if (r) this.#log(`pods when it failed:\n${r.stdout}${r.stderr}`);
  }

  /**
   * Stops everything this sandbox started and removes what it created (the logs too, unless
   * `keepLogs`). Safe to call twice and while {@link up} is still running.
   */
  close(opts: { keepLogs?: boolean } = {}): Promise<void> {
    this.#closing ??= this.#teardown(opts.keepLogs ?? false);
    return this.#closing;
  }

  async #teardown(keepLogs: boolean): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    await attempt(async () => this.#frr?.stop());
    await attempt(async () => {
      const r = await this.#cluster?.destroy();
      if (r && r.leftovers.length > 0) throw new Error(`cluster down left ${r.leftovers.join(', ')}`);
    });
    await attempt(async () => this.#helm?.close());
    // Whatever a failed step left (the state file says what): sweep it too.
    if (this.#owned) await attempt(async () => sweep(this.dir, this.#state, this.#log, { keepLogs }));
    if (errors.length > 0) throw new AggregateError(errors, `sandbox teardown: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
  }
}

/** `ip netns pids NS`: the processes in a namespace. */
function namespacePids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split(/\s+/)
    .filter((x) => /^\d+$/.test(x))
    .map(Number);
}

const FRR_DAEMONS = new Set(['zebra', 'bgpd', 'bfdd', 'staticd']);

/**
 * Removes what a sandbox described by `state` may have left: processes it started in the
 * cluster's client and router hosts (FRR, which the cluster does not track), the cluster (by
 * the cluster's own `down` on its folder), its folders and state file. Each step checks
 * first, so it is harmless after a clean teardown.
 */
export async function sweep(dir: string, state: SandboxState, log: (line: string) => void = () => undefined, opts: { keepLogs?: boolean } = {}): Promise<void> {
  const cluster = (() => {
    try {
      return readClusterState(state.clusterDir);
    } catch {
      return undefined;
    }
  })();
  if (cluster) {
    // Only the plain hosts: the nodes' processes are the cluster's, and its down stops them.
    for (const ns of [cluster.plan.client.ns, cluster.plan.router.ns]) {
      for (const pid of namespacePids(ns)) {
        let comm = '';
        try {
          comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {
          continue;
        }
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
        // FRR leaves a crash-log folder per daemon pid when killed.
        if (FRR_DAEMONS.has(comm)) rmSync(`/var/tmp/frr/${comm}.${pid}`, { recursive: true, force: true });
      }
    }
    log(`stopping cluster ${cluster.plan.prefix} in ${state.clusterDir}`);
    const r = await stopCluster(state.clusterDir, { log });
    if (r.leftovers.length > 0) throw new Error(`cluster down left ${r.leftovers.join(', ')}`);
  }
  // FRR's folder (also one a kill left before the state named it), Helm's home.
  const mine = readdirSync(tmpdir())
    .filter((f) => f.startsWith(`herald-frr-${state.prefix}-`))
    .map((f) => join(tmpdir(), f));
  for (const f of new Set([...state.folders, ...mine])) rmSync(f, { recursive: true, force: true });
  rmSync(state.clusterDir, { recursive: true, force: true });
  if (!opts.keepLogs) rmSync(join(dir, 'logs'), { recursive: true, force: true });
  rmSync(statePath(dir), { force: true });
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not there, or not empty
  }
}

/** What {@link downSandbox} did. */
export type DownResult = 'stopped' | 'swept' | 'nothing';

/**
 * `npm run sandbox -- down`: stops the sandbox running from `dir` (SIGTERM to its process,
 * which tears down and exits; SIGKILL after `graceMs`), then sweeps whatever is left.
 */
export async function downSandbox(dir: string, log: (line: string) => void = () => undefined, graceMs = 60_000): Promise<DownResult> {
  const state = readState(dir);
  if (!state) return 'nothing';
  let result: DownResult = 'swept';
  if (state.pid !== process.pid && isAlive(state.pid) && cmdline(state.pid).includes(MAIN_MARK)) {
    log(`stopping the sandbox (pid ${state.pid})`);
    process.kill(state.pid, 'SIGTERM');
    if (!(await waitExit(state.pid, graceMs))) {
      log(`pid ${state.pid} still running after ${sec(graceMs)}: SIGKILL`);
      process.kill(state.pid, 'SIGKILL');
      await waitExit(state.pid, 5_000);
    }
    result = 'stopped';
  }
  await sweep(dir, readState(dir) ?? state, log);
  return result;
}
