/**
 * The L2 test bed: a network-namespace lab (N nodes and a client on one bridge), the local
 * kube-apiserver forwarded into it, Node objects describing the lab's nodes, the real
 * controller (root namespace) and one real speaker process per node namespace. Each node
 * serves its Service IPs the way kube-proxy would: nftables DNAT to an HTTP responder that
 * names the node. Not part of the build; used by the e2e suites and the l2-failover bench.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, EventsV1Api, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { createLab, forwardApiServer, startRouter, type ApiForward, type Lab, type Router, type RouterConfig, type RouterKind } from '@herald/lab';
import { eventually, testKubeconfigPath } from '@herald/e2e-harness';
import { GROUP, VERSION } from '@herald/shared/api';
import { PooledKubeConfig } from '@herald/shared/kube';

const SPEAKER = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const CONTROLLER = fileURLToPath(new URL('../../../controller/dist/main.js', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns something other than undefined/false (every 25 ms by default). */
export const until = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 25): Promise<T> => eventually(what, fn, timeoutMs, everyMs);

export interface BedOptions {
  readonly nodes: number;
  /** Lab namespace prefix and Kubernetes object prefix; random when absent. */
  readonly prefix?: string;
  /** Pool addresses (IPv4 and IPv6 entries). */
  readonly pool: readonly string[];
  /** L2Advertisement spec; default `{}` (every pool, every node, default interfaces); null: none (BGP only). */
  readonly advertisement?: Record<string, unknown> | null;
  /** Router hosts to add to the lab (routers are started with {@link Bed.startRouter}). */
  readonly routers?: readonly string[];
  /** Speaker log level; default info. */
  readonly logLevel?: string;
  /** Where speaker and controller logs go; default the lab's folder. */
  readonly logDir?: string;
}

export interface ServiceOptions {
  readonly families?: readonly (4 | 6)[];
  readonly etp?: 'Cluster' | 'Local';
  /** Nodes (lab host names, e.g. node-2) with a ready endpoint; default every node. [] = none. */
  readonly endpointsOn?: readonly string[];
  readonly sharingKey?: string;
  readonly ip?: string;
  /** Pool to allocate from (`herald.io/address-pool`). */
  readonly pool?: string;
}

/** The test bed. Create with {@link startBed}; always `destroy()` it (in afterAll). */
export class Bed {
  readonly ns: string;
  readonly lbClass: string;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly discovery: DiscoveryV1Api;
  readonly events: EventsV1Api;
  readonly speakers = new Map<string, ChildProcess>();
  readonly routers = new Map<string, Router>();
  readonly logDir: string;
  lab!: Lab;
  api!: ApiForward;
  controller: ChildProcess | undefined;
  readonly #logs: WriteStream[] = [];
  readonly #nodeNames = new Map<string, string>();
  #key: Buffer = randomBytes(32);

  constructor(readonly opts: BedOptions) {
    const prefix = opts.prefix ?? `l2${randomBytes(3).toString('hex')}`;
    this.ns = `herald-${prefix}`;
    this.lbClass = `test.herald.io/${prefix}`;
    this.kc = new PooledKubeConfig();
    this.kc.loadFromFile(testKubeconfigPath());
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.discovery = this.kc.makeApiClient(DiscoveryV1Api);
    this.events = this.kc.makeApiClient(EventsV1Api);
    this.logDir = opts.logDir ?? `/tmp/herald-e2e-${prefix}`;
    mkdirSync(this.logDir, { recursive: true });
  }

  /** The Kubernetes Node name of a lab node host (`node-1` -> `<prefix>-node-1`). */
  nodeName(host: string): string {
    const n = this.#nodeNames.get(host);
    if (n === undefined) throw new Error(`no such lab node ${host}`);
    return n;
  }

  /** The lab host of a Kubernetes Node name. */
  hostOf(nodeName: string): string | undefined {
    for (const [h, n] of this.#nodeNames) if (n === nodeName) return h;
    return undefined;
  }

  async setup(): Promise<void> {
    const prefix = this.ns.slice('herald-'.length);
    this.lab = await createLab({ nodes: this.opts.nodes, client: true, prefix, ...(this.opts.routers ? { routers: this.opts.routers } : {}) });
    for (const h of this.lab.nodes) this.#nodeNames.set(h, `${prefix}-${h}`);
    this.api = await forwardApiServer(this.lab, this.kc.getCurrentCluster()?.server ?? '', { kubeconfigPath: testKubeconfigPath() });
    // A Linux client accepts a gratuitous ARP for an address it has no entry for only with
    // arp_accept=1, and creates an entry from an unsolicited NA only with
    // accept_untracked_na=1 on a forwarding interface (lab notes).
    for (const s of ['net.ipv4.conf.eth0.arp_accept=1', 'net.ipv6.conf.eth0.accept_untracked_na=1', 'net.ipv6.conf.eth0.forwarding=1']) {
      const r = await this.lab.exec('client', 'sysctl', ['-w', s]);
      if (r.status !== 0) throw new Error(`sysctl -w ${s}: ${r.stderr}`);
    }
    await this.core.createNamespace({ body: { metadata: { name: this.ns } } });
    await this.setKey(this.#key);
    for (const h of this.lab.nodes) await this.createNode(h);
    await this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.ns,
      plural: 'ipaddresspools',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool', metadata: { name: 'lab' }, spec: { addresses: this.opts.pool } },
    });
    if (this.opts.advertisement !== null) await this.setAdvertisement(this.opts.advertisement ?? {});
    for (const h of this.lab.nodes) await this.lab.serveHttp(h, { port: 8080, name: h });
    this.startController();
  }

  /** Creates (or replaces) a memberlist Secret (default the one every speaker reads at start). */
  async setKey(key: Buffer, name = 'herald-memberlist'): Promise<void> {
    if (name === 'herald-memberlist') this.#key = key;
    const body = { metadata: { name, namespace: this.ns }, data: { secretkey: key.toString('base64') } };
    try {
      await this.core.createNamespacedSecret({ namespace: this.ns, body });
    } catch {
      await this.core.replaceNamespacedSecret({ namespace: this.ns, name, body });
    }
  }

  /** One Prometheus sample of a node's speaker (its metrics port is inside the node's namespace), summed over matching series. */
  async metric(host: string, name: string, labels: Record<string, string> = {}): Promise<number> {
    const script = "fetch('http://127.0.0.1:7474/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { process.stderr.write(String(e)); process.exit(1); })";
    const r = await this.lab.exec(host, process.execPath, ['-e', script]);
    if (r.status !== 0) throw new Error(`metrics of ${host}: ${r.stderr}`);
    let sum = 0;
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const set = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  async setAdvertisement(spec: Record<string, unknown>): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: 'L2Advertisement', metadata: { name: 'lab' }, spec };
    try {
      const cur = (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'l2advertisements', name: 'lab' })) as { metadata: { resourceVersion: string } };
      await this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'l2advertisements', name: 'lab', body: { ...body, metadata: { name: 'lab', resourceVersion: cur.metadata.resourceVersion } } });
    } catch {
      await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'l2advertisements', body });
    }
  }

  async createNode(host: string, labels: Record<string, string> = {}): Promise<void> {
    const h = this.lab.host(host);
    await this.core.createNode({
      body: {
        metadata: { name: this.nodeName(host), labels: { 'kubernetes.io/hostname': this.nodeName(host), ...labels } },
        status: { addresses: [{ type: 'InternalIP', address: h.ipv4 }, { type: 'InternalIP', address: h.ipv6 }], conditions: [{ type: 'Ready', status: 'True' }] },
      },
    });
  }

  async labelNode(host: string, labels: Record<string, string | null>): Promise<void> {
    const node = await this.core.readNode({ name: this.nodeName(host) });
    const next = { ...(node.metadata?.labels ?? {}) };
    for (const [k, v] of Object.entries(labels)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    node.metadata = { ...node.metadata, labels: next };
    await this.core.replaceNode({ name: this.nodeName(host), body: node });
  }

  #log(name: string): WriteStream {
    const s = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    this.#logs.push(s);
    return s;
  }

  startController(): void {
    const args = [CONTROLLER, '--namespace', this.ns, '--kubeconfig', testKubeconfigPath(), '--lb-class', this.lbClass, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--log-level', 'info'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.lab.adopt(child);
    const log = this.#log('controller');
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.controller = child;
  }

  /** Starts the speaker of a lab node and resolves once it logs `started`. */
  async startSpeaker(host: string, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
    const h = this.lab.host(host);
    const kubeconfig = this.api.kubeconfigs[host];
    if (kubeconfig === undefined) throw new Error(`no kubeconfig for ${host}`);
    const args = [SPEAKER, '--namespace', this.ns, '--node-name', this.nodeName(host), '--kubeconfig', kubeconfig, '--bind-addr', h.ipv4, '--lb-class', this.lbClass, '--metrics-addr', '127.0.0.1:7474', '--health-addr', '127.0.0.1:7475', '--log-level', this.opts.logLevel ?? 'info'];
    const child = this.lab.spawn(host, process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv } });
    this.speakers.set(host, child);
    const log = this.#log(`speaker-${host}`);
    child.stderr?.pipe(log);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`speaker ${host} not started after 20 s: ${out.slice(-2000)}`)), 20_000);
      const onData = (d: Buffer): void => {
        log.write(d);
        if (out.length < 100_000) out += d.toString();
        if (out.includes('"event":"started"')) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.pipe(log);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`speaker ${host} exited (${code ?? sig}) before starting: ${out.slice(-2000)}`));
      });
    });
    return child;
  }

  async startSpeakers(hosts: readonly string[] = this.lab.nodes): Promise<void> {
    await Promise.all(hosts.map((h) => this.startSpeaker(h)));
  }

  /** Sends `signal` to a speaker and resolves when it has exited. */
  async stopSpeaker(host: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.speakers.get(host);
    if (!child) return null;
    this.speakers.delete(host);
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    });
  }

  /** A LoadBalancer Service of this bed's class with an EndpointSlice on the given nodes; returns its name. */
  async createService(name: string, o: ServiceOptions = {}): Promise<string> {
    const families = o.families ?? [4];
    const annotations: Record<string, string> = {};
    if (o.sharingKey) annotations['herald.io/allow-shared-ip'] = o.sharingKey;
    if (o.ip) annotations['herald.io/loadBalancerIPs'] = o.ip;
    if (o.pool) annotations['herald.io/address-pool'] = o.pool;
    const svc: V1Service = {
      metadata: { name, namespace: this.ns, annotations },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: this.lbClass,
        allocateLoadBalancerNodePorts: false,
        externalTrafficPolicy: o.etp ?? 'Cluster',
        ipFamilies: families.map((f) => (f === 4 ? 'IPv4' : 'IPv6')),
        ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        selector: { app: name },
      },
    };
    await this.core.createNamespacedService({ namespace: this.ns, body: svc });
    await this.setEndpoints(name, o.endpointsOn ?? this.lab.nodes);
    return name;
  }

  /** Replaces the Service's EndpointSlice: one ready endpoint on each listed node. */
  async setEndpoints(service: string, hosts: readonly string[], conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } = { ready: true }): Promise<void> {
    const name = `${service}-lab`;
    const body = {
      metadata: { name, namespace: this.ns, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'herald-e2e' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: hosts.map((h) => ({ addresses: [this.lab.host(h).ipv4], nodeName: this.nodeName(h), conditions })),
    };
    try {
      await this.discovery.deleteNamespacedEndpointSlice({ namespace: this.ns, name });
    } catch {
      // absent
    }
    await this.discovery.createNamespacedEndpointSlice({ namespace: this.ns, body });
  }

  /** Delivers `ip:80` locally on every node, as kube-proxy would (nftables DNAT to the node's responder). */
  async serve(ip: string): Promise<void> {
    await Promise.all(this.lab.nodes.map((h) => this.lab.dnat(h, ip, { port: 80, toPort: 8080 })));
  }

  /** The Service's IPs once the controller has written them. */
  async ips(service: string, count = 1): Promise<string[]> {
    return until(`IPs of ${service}`, async () => {
      const s = await this.core.readNamespacedService({ namespace: this.ns, name: service });
      const ips = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((x): x is string => typeof x === 'string');
      return ips.length >= count ? ips : undefined;
    });
  }

  /** ServiceL2Status objects of a Service: node names. */
  async l2Nodes(service: string): Promise<string[]> {
    const list = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'servicel2statuses' })) as {
      items: { status?: { node?: string; serviceName?: string; serviceNamespace?: string } }[];
    };
    return list.items
      .filter((i) => i.status?.serviceName === service && i.status.serviceNamespace === this.ns)
      .map((i) => i.status?.node ?? '')
      .sort();
  }

  /** The lab host whose speaker announces the Service (exactly one ServiceL2Status), once that is so. */
  async owner(service: string, not?: string, timeoutMs = 15_000): Promise<string> {
    return until(`one announcing node for ${service}${not ? ` other than ${not}` : ''}`, async () => {
      const nodes = await this.l2Nodes(service);
      if (nodes.length !== 1) return undefined;
      const host = this.hostOf(nodes[0] ?? '');
      return host !== undefined && host !== not ? host : undefined;
    }, timeoutMs);
  }

  /** The MAC the client's kernel has for `ip`, if any (REACHABLE/STALE/DELAY...). */
  async clientMac(ip: string): Promise<string | undefined> {
    return (await this.lab.neighbour('client', ip))?.mac;
  }

  /** Forgets the client's entry for `ip`. */
  async flushClient(ip: string): Promise<void> {
    await this.lab.exec('client', 'ip', ['neigh', 'flush', 'to', ip, 'dev', 'eth0']);
  }

  /** Asks actively (arping / ndisc6) from the client; returns the MACs that answered. */
  async ask(ip: string): Promise<string[]> {
    if (ip.includes(':')) {
      const r = await this.lab.exec('client', 'ndisc6', ['-1', '-r', '1', '-w', '500', ip, 'eth0']);
      return [...r.stdout.matchAll(/Target link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) => (m[1] ?? '').toLowerCase());
    }
    const r = await this.lab.exec('client', 'arping', ['-c', '1', '-w', '1', '-i', 'eth0', ip]);
    return [...r.stdout.matchAll(/from\s+([0-9a-f:]{17})/gi)].map((m) => (m[1] ?? '').toLowerCase());
  }

  macOf(host: string): string {
    return this.lab.host(host).mac.toLowerCase();
  }

  /** Starts a real router (FRR, BIRD or GoBGP) in a router host of the lab. */
  async startRouter(host: string, kind: RouterKind, config: RouterConfig): Promise<Router> {
    const r = await startRouter(this.lab, host, kind, config);
    this.routers.set(host, r);
    return r;
  }

  /** Creates (or replaces) a herald.io object in the bed's namespace. */
  async apply(kind: string, plural: string, name: string, spec: Record<string, unknown>): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec };
    try {
      const cur = (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural, name })) as { metadata: { resourceVersion: string } };
      await this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural, name, body: { ...body, metadata: { name, resourceVersion: cur.metadata.resourceVersion } } });
    } catch {
      await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural, body });
    }
  }

  async destroy(): Promise<void> {
    for (const h of [...this.speakers.keys()]) await this.stopSpeaker(h, 'SIGKILL');
    for (const r of this.routers.values()) await r.stop().catch(() => undefined);
    this.controller?.kill('SIGKILL');
    await this.lab?.destroy();
    for (const l of this.#logs) l.end();
    try {
      await this.core.deleteNamespace({ name: this.ns });
    } catch {
      // already gone
    }
    for (const h of this.#nodeNames.values()) {
      try {
        await this.core.deleteNode({ name: h });
      } catch {
        // already gone
      }
    }
  }
}

export async function startBed(opts: BedOptions): Promise<Bed> {
  const bed = new Bed(opts);
  try {
    await bed.setup();
  } catch (err) {
    await bed.destroy();
    throw err;
  }
  return bed;
}
