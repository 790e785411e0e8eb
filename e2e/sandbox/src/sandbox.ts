/**
 * Herald on one machine, for a first look: the local control plane, a 3-node network-namespace
 * lab with the real controller and a real speaker per node, an FRR router and a client, two
 * pools and two LoadBalancer Services:
 *
 *   ingress  L2 (pool `lab`, on the LAN): Debian's nginx on every node behind one Herald IP,
 *            routing app1.sandbox.test and app2.sandbox.test to two backends (the usual
 *            production shape: one IP, an ingress proxy, many host names).
 *   web      BGP (pool `bgp`, off the LAN): every node announces it to FRR, which installs an
 *            ECMP route; the client reaches it through FRR.
 *
 * Each node serves the Service IPs the way kube-proxy would (nftables DNAT). {@link Sandbox.up}
 * returns a {@link Report}: one row per request the client made. The sandbox lives as long as
 * the process that brought it up; {@link downSandbox} stops it from another process.
 * @packageDocumentation
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, startControlPlane, stopControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { listNamespaces, planLab, waitForRoute, type Router } from '@herald/lab';
import { GROUP, VERSION } from '@herald/shared/api';
import { startBed, type Bed } from '@herald/speaker/testbed';
import { nginxArgs, nginxConfig } from './nginx.js';
import { readState, statePath, writeState, type SandboxState } from './state.js';
import { frrRouteFor, type Answer, type Report, type Row } from './table.js';

/** L2 pool: on the lab's LAN (192.0.2.0/24), so the client reaches it by ARP. */
export const L2_POOL = '192.0.2.100-192.0.2.119';
/** BGP pool: off the LAN; the client routes it via FRR, FRR via the nodes that announce it. */
export const BGP_POOL = '198.51.100.10-198.51.100.19';
/** What the client routes via FRR: the BGP pool's /24. */
export const BGP_ROUTE = '198.51.100.0/24';
export const HERALD_ASN = 64500;
export const FRR_ASN = 64512;
/** The host names behind the ingress IP, and their backends' ports on every node. */
export const INGRESS_ROUTES = [
  { hostName: 'app1.sandbox.test', backendPort: 9001, app: 'app1' },
  { hostName: 'app2.sandbox.test', backendPort: 9002, app: 'app2' },
] as const;
/** nginx's port on every node (the ingress Service's targetPort). */
export const NGINX_PORT = 8000;
/** The bed's responder on every node, naming it (the web Service's targetPort). */
export const WEB_PORT = 8080;
const NODES = 3;
const ROUTER = 'frr';
const WAIT_MS = 20_000;

const HTTP_HOST = fileURLToPath(new URL('../dist/http-host.js', import.meta.url));
/** How `down` recognises the foreground sandbox process before signalling it. */
export const MAIN_MARK = 'sandbox/dist/main.js';

export interface SandboxOptions {
  /** State, logs, nginx and the control plane's data (created if absent). */
  readonly dir: string;
  /** Network namespace prefix (`<prefix>-node-1`, ...); default `sandbox`. */
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

interface StatusItem {
  status?: { node?: string; serviceName?: string; serviceNamespace?: string };
}

/** A running (or starting) sandbox. Bring it up with {@link Sandbox.up}; always {@link Sandbox.close} it. */
export class Sandbox {
  readonly dir: string;
  readonly prefix: string;
  readonly logDir: string;
  readonly #log: (line: string) => void;
  readonly #t0: number;
  #state: SandboxState;
  #cp: ControlPlane | undefined;
  #bed: Bed | undefined;
  #frr: Router | undefined;
  readonly #nginx: ChildProcess[] = [];
  readonly #logs: WriteStream[] = [];
  #closing: Promise<void> | undefined;
  /** Set once {@link up} has made `dir` and the namespace names its own: only then does close sweep. */
  #owned = false;

  constructor(opts: SandboxOptions) {
    this.dir = opts.dir;
    this.prefix = opts.prefix ?? 'sandbox';
    this.logDir = join(this.dir, 'logs');
    this.#log = opts.log ?? ((): void => undefined);
    this.#t0 = opts.startedAt ?? performance.timeOrigin;
    this.#state = { version: 1, pid: process.pid, prefix: this.prefix, startedAt: new Date().toISOString(), namespaces: [], rootPids: [], folders: [], phase: 'starting' };
  }

  get bed(): Bed | undefined {
    return this.#bed;
  }

  get frr(): Router | undefined {
    return this.#frr;
  }

  #elapsed(): number {
    return Date.now() - this.#t0;
  }

  #step(what: string): void {
    this.#log(`${what} (${sec(this.#elapsed())})`);
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
      await this.close({ keepLogs: true });
      throw err;
    }
  }

  /**
   * Makes `dir` and the namespace names this sandbox's, or throws without touching anything:
   * a sandbox already running from `dir`, or namespaces of the same prefix, are someone else's.
   */
  async #claim(): Promise<void> {
    this.#check();
    const previous = readState(this.dir);
    if (previous && previous.pid !== process.pid && isAlive(previous.pid)) {
      throw new Error(`a sandbox (pid ${previous.pid}) is already running from ${this.dir}; stop it with \`npm run sandbox -- down\``);
    }
    const plan = planLab({ nodes: NODES, client: true, routers: [ROUTER], prefix: this.prefix });
    const names = [plan.lanNs, ...plan.hosts.map((h) => h.ns)];
    if (previous) {
      this.#log(`removing what an earlier sandbox left in ${this.dir}`);
      await sweep(this.dir, previous, this.#log);
    }
    const now = await listNamespaces();
    const taken = names.filter((n) => now.has(n));
    if (taken.length > 0) throw new Error(`network namespaces ${taken.join(', ')} exist already (a sandbox with prefix ${this.prefix} from another --dir?)`);
    mkdirSync(this.logDir, { recursive: true });
    // The names are known now: a sandbox killed while it builds the lab is still swept.
    this.#record({ namespaces: names });
    this.#owned = true;
  }

  async #build(): Promise<Report> {
    this.#cp = await startControlPlane({ dir: join(this.dir, 'control-plane'), log: (l) => this.#log(`control plane: ${l}`), handleSignals: false });
    this.#step('control plane up');
    this.#check();
    // The bed reads the kubeconfig from here (it is the test fixture's convention).
    process.env['HERALD_TEST_KUBECONFIG'] = this.#cp.kubeconfigPath;
    const bed = await startBed({ nodes: NODES, prefix: this.prefix, pool: [L2_POOL], advertisement: { ipAddressPools: ['lab'] }, routers: [ROUTER], logDir: this.logDir });
    this.#bed = bed;
    this.#record({ folders: [bed.lab.dir], rootPids: bed.controller?.pid === undefined ? [] : [{ pid: bed.controller.pid, match: `herald-${this.prefix}` }] });
    this.#step(`lab ${bed.lab.namespaces.join(' ')}; controller started`);
    this.#check();

    await Promise.all([this.#configure(bed), this.#startFrr(bed), this.#startIngress(bed), bed.startSpeakers().then(() => this.#step('speakers started'))]);
    this.#check();

    const [ingressIp, webIp] = await Promise.all([this.#ip(bed, 'ingress'), this.#ip(bed, 'web')]);
    await Promise.all([...bed.lab.nodes.map((h) => bed.lab.dnat(h, ingressIp, { port: 80, toPort: NGINX_PORT })), bed.serve(webIp)]);
    this.#step(`IPs: ingress ${ingressIp}, web ${webIp}`);

    const rows = await Promise.all([this.#ingressRows(bed, ingressIp), this.#webRow(bed, webIp)]);
    const report: Report = {
      rows: rows.flat(),
      elapsedMs: this.#elapsed(),
      prefix: this.prefix,
      kubeconfig: this.#cp.kubeconfigPath,
      controlPlaneDir: this.#cp.dir,
      logDir: this.logDir,
      clientNs: bed.lab.host('client').ns,
    };
    this.#record({ phase: 'up' });
    return report;
  }

  #record(patch: Partial<SandboxState>): void {
    this.#state = { ...this.#state, ...patch };
    writeState(this.dir, this.#state);
  }

  /** The BGP pool, peer and advertisement, and the two Services with an endpoint on every node. */
  async #configure(bed: Bed): Promise<void> {
    const frrIp = bed.lab.host(ROUTER).ipv4;
    await bed.apply('IPAddressPool', 'ipaddresspools', 'bgp', { addresses: [BGP_POOL], autoAssign: false });
    await bed.apply('BGPPeer', 'bgppeers', 'frr', { myASN: HERALD_ASN, peerASN: FRR_ASN, peerAddress: frrIp, connectTime: '1s' });
    await bed.apply('BGPAdvertisement', 'bgpadvertisements', 'bgp', { ipAddressPools: ['bgp'] });
    await this.#service(bed, 'ingress', 'lab', NGINX_PORT);
    await this.#service(bed, 'web', 'bgp', WEB_PORT);
    this.#step('pools, advertisements, BGPPeer and Services applied');
  }

  async #service(bed: Bed, name: string, pool: string, targetPort: number): Promise<void> {
    await bed.core.createNamespacedService({
      namespace: bed.ns,
      body: {
        metadata: { name, namespace: bed.ns, annotations: { 'herald.io/address-pool': pool } },
        spec: {
          type: 'LoadBalancer',
          loadBalancerClass: bed.lbClass,
          allocateLoadBalancerNodePorts: false,
          externalTrafficPolicy: 'Cluster',
          ipFamilies: ['IPv4'],
          ipFamilyPolicy: 'SingleStack',
          ports: [{ name: 'http', port: 80, targetPort, protocol: 'TCP' }],
          selector: { app: name },
        },
      },
    });
    // No kubelet here: the EndpointSlice says what a real one would (a ready endpoint per node).
    await bed.discovery.createNamespacedEndpointSlice({
      namespace: bed.ns,
      body: {
        metadata: { name: `${name}-sandbox`, namespace: bed.ns, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'herald-sandbox' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: targetPort, protocol: 'TCP' }],
        endpoints: bed.lab.nodes.map((h) => ({ addresses: [bed.lab.host(h).ipv4], nodeName: bed.nodeName(h), conditions: { ready: true } })),
      },
    });
  }

  /** FRR peering with every node, forwarding for the client, which routes the BGP pool via it. */
  async #startFrr(bed: Bed): Promise<void> {
    const lab = bed.lab;
    const frrIp = lab.host(ROUTER).ipv4;
    // A router forwards; it must not redirect the client to the nodes (same LAN), or the client
    // would bypass it after the first packet.
    for (const s of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']) await this.#sysctl(bed, ROUTER, s);
    const route = await lab.exec('client', 'ip', ['route', 'add', BGP_ROUTE, 'via', frrIp]);
    if (route.status !== 0) throw new Error(`client: ip route add ${BGP_ROUTE} via ${frrIp}: ${route.stderr.trim()}`);
    this.#frr = await bed.startRouter(ROUTER, 'frr', { asn: FRR_ASN, routerId: frrIp, families: ['ipv4'], neighbors: lab.nodes.map((h) => ({ address: lab.host(h).ipv4, asn: HERALD_ASN })) });
    this.#record({ folders: [...this.#state.folders, this.#frr.dir] });
    this.#step('FRR started');
  }

  async #sysctl(bed: Bed, host: string, setting: string): Promise<void> {
    const r = await bed.lab.exec(host, 'sysctl', ['-w', setting]);
    if (r.status !== 0) throw new Error(`${host}: sysctl -w ${setting}: ${r.stderr.trim()}`);
  }

  /** On every node: the two backends and nginx in front of them. */
  async #startIngress(bed: Bed): Promise<void> {
    await Promise.all(
      bed.lab.nodes.map(async (h) => {
        await Promise.all(INGRESS_ROUTES.map((r) => bed.lab.serveHttp(h, { port: r.backendPort, name: `${r.app}@${h}` })));
        await this.#startNginx(bed, h);
      }),
    );
    this.#step('nginx and backends up on every node');
  }

  async #startNginx(bed: Bed, host: string): Promise<void> {
    const dir = join(this.dir, 'nginx', host);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig({ dir, listenPort: NGINX_PORT, routes: INGRESS_ROUTES }));
    const child = bed.lab.spawn(host, 'nginx', nginxArgs(conf, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#nginx.push(child);
    const log = createWriteStream(join(this.logDir, `nginx-${host}.log`), { flags: 'a' });
    this.#logs.push(log);
    let err = '';
    child.stderr?.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-2_000);
      log.write(b);
    });
    // nginx writes its pid file after it has bound its listening sockets.
    await eventually(
      `nginx in ${host} to listen on ${NGINX_PORT}`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx in ${host} exited (${child.exitCode ?? child.signalCode}): ${err.trim()}`);
        return existsSync(join(dir, 'nginx.pid'));
      },
      10_000,
      25,
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}${err ? `; nginx said: ${err.trim()}` : ''}`);
    });
  }

  async #ip(bed: Bed, service: string): Promise<string> {
    const [ip] = await bed.ips(service);
    if (ip === undefined) throw new Error(`no IP for ${service}`);
    return ip;
  }

  async #statusNodes(bed: Bed, plural: string, service: string): Promise<string[]> {
    const list = (await bed.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: bed.ns, plural })) as { items: StatusItem[] };
    return list.items
      .filter((i) => i.status?.serviceName === service && i.status.serviceNamespace === bed.ns)
      .map((i) => bed.hostOf(i.status?.node ?? '') ?? i.status?.node ?? '?')
      .sort();
  }

  /** GET http://HOST_NAME/ from the client, connecting to `ip` (curl --resolve). */
  async #getByName(bed: Bed, hostName: string, ip: string): Promise<Answer> {
    const r = await bed.lab.exec('client', process.execPath, [HTTP_HOST, hostName, ip, '80', '2000'], { timeoutMs: 15_000 });
    if (r.status !== 0) throw new Error(`http-host.js in the client: exit ${r.status}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as Answer;
  }

  async #frrRoute(ip: string): Promise<Row['route']> {
    const frr = this.#frr;
    if (!frr) return undefined;
    const [bgp, kernel] = await Promise.all([frr.routes('ipv4'), frr.kernelRoutes('ipv4')]);
    return frrRouteFor(ip, bgp, kernel);
  }

  async #ingressRows(bed: Bed, ip: string): Promise<Row[]> {
    const nodes = await eventually('one node announcing the ingress IP (ServiceL2Status)', async () => {
      const n = await this.#statusNodes(bed, 'servicel2statuses', 'ingress');
      return n.length === 1 ? n : undefined;
    }, WAIT_MS, 50);
    const answers = await Promise.all(
      INGRESS_ROUTES.map((r) =>
        eventually(`the client to get ${r.hostName} through ${ip}`, async () => {
          const a = await this.#getByName(bed, r.hostName, ip);
          return a.ok ? a : undefined;
        }, WAIT_MS, 100),
      ),
    );
    this.#step(`ingress answered from ${nodes.join(' ')}`);
    const route = await this.#frrRoute(ip);
    return INGRESS_ROUTES.map((r, i): Row => ({ service: 'ingress', hostName: r.hostName, ip, mode: 'L2', nodes, ...(route ? { route } : {}), answer: answers[i] ?? { ok: false, code: 'NONE', ms: 0 } }));
  }

  async #webRow(bed: Bed, ip: string): Promise<Row> {
    const frr = this.#frr;
    if (!frr) throw new Error('FRR is not running');
    const all = [...bed.lab.nodes].sort();
    const nodes = await eventually('every node announcing the web IP (ServiceBGPStatus)', async () => {
      const n = await this.#statusNodes(bed, 'servicebgpstatuses', 'web');
      return n.join() === all.join() ? n : undefined;
    }, WAIT_MS, 100);
    await waitForRoute(frr, 'ipv4', `${ip}/32`, (r) => r.nextHops.length === all.length, { timeoutMs: WAIT_MS, intervalMs: 100 });
    await eventually('FRR to install the ECMP route in its kernel table', async () => (await frr.kernelRoutes('ipv4')).some((k) => k.prefix === `${ip}/32` && k.nextHops.length === all.length), WAIT_MS, 100);
    const answer = await eventually(`the client to get http://${ip}/ via FRR`, async () => {
      const a = await bed.lab.httpGet('client', ip, { port: 80, timeoutMs: 2_000 });
      return a.ok ? { ok: a.ok, code: a.code, ms: a.ms, ...(a.status === undefined ? {} : { status: a.status }), ...(a.body === undefined ? {} : { body: a.body.trim() }) } : undefined;
    }, WAIT_MS, 100);
    this.#step(`web routed by FRR to ${nodes.join(' ')}`);
    const route = await this.#frrRoute(ip);
    return { service: 'web', ip, mode: 'BGP', nodes, ...(route ? { route } : {}), answer };
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
    // The bed kills speakers, FRR, the controller and (through the lab) nginx, backends and
    // forwarders, deletes the namespaces and its API objects.
    await attempt(async () => this.#bed?.destroy());
    await attempt(async () => this.#cp?.stop());
    for (const l of this.#logs) l.end();
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
 * Removes what a sandbox described by `state` may have left: processes in its namespaces,
 * the namespaces, its controller, its control plane, its folders and state file. Each step
 * checks first, so it is harmless after a clean teardown.
 */
export async function sweep(dir: string, state: SandboxState, log: (line: string) => void = () => undefined, opts: { keepLogs?: boolean } = {}): Promise<void> {
  const existing = await listNamespaces();
  const left = state.namespaces.filter((n) => existing.has(n));
  for (const ns of left) {
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
  if (left.length > 0) {
    log(`deleting namespaces ${left.join(' ')}`);
    spawnSync('ip', ['-force', '-b', '-'], { input: left.map((n) => `netns del ${n}\n`).join(''), encoding: 'utf8' });
  }
  for (const p of state.rootPids) {
    if (isAlive(p.pid) && cmdline(p.pid).includes(p.match)) {
      log(`killing leftover process ${p.pid}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  if (await stopControlPlane(join(dir, 'control-plane'))) log('control plane stopped');
  // The lab's and FRR's folders (also those a kill left before the state named them).
  const mine = readdirSync(tmpdir())
    .filter((f) => f.startsWith(`herald-lab-${state.prefix}-`) || f.startsWith(`herald-frr-${state.prefix}-`))
    .map((f) => join(tmpdir(), f));
  for (const f of new Set([...state.folders, ...mine])) rmSync(f, { recursive: true, force: true });
  rmSync(join(dir, 'nginx'), { recursive: true, force: true });
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
export async function downSandbox(dir: string, log: (line: string) => void = () => undefined, graceMs = 30_000): Promise<DownResult> {
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
