/**
 * The cluster's names, addresses, CIDRs and paths, decided before anything is created.
 * Pure: the same options always give the same plan, which is stored in the state file
 * so that `down` never has to recompute it.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { ClusterError } from './errors.js';

export type ProxyMode = 'nftables' | 'iptables';

/** Options of {@link planCluster} (and of `startCluster`). */
export interface ClusterOptions {
  /** How many Kubernetes nodes (1..50; default 3). */
  nodes?: number;
  /**
   * Prefix of every name the cluster creates on the machine: namespaces, links and
   * cgroups are `<prefix>-node-1`, `<prefix>-client`, `<prefix>-br0`, ... (default `hc`).
   */
  prefix?: string;
  /** Folder for state, data, certificates, configs and logs (default /tmp/herald-cluster). */
  dir?: string;
  /** kube-proxy's mode (default nftables; the kernel here has no IPVS). */
  proxyMode?: ProxyMode;
  /**
   * The IPv4 /24 of the cluster's bridge (default 203.0.113.0/24, TEST-NET-3, RFC 5737).
   * The bridge is in the root namespace, so it must not overlap a route the machine has:
   * these machines' own uplink is on TEST-NET-1 (192.0.2.0/24).
   */
  lanSubnet?: string;
  /** The pod network, an IPv4 /16; node i gets the /24 number i (default 10.244.0.0/16). */
  clusterCidr?: string;
  /** The Service network, an IPv4 /16 (default 10.96.0.0/16; its .0.1 is the `kubernetes` Service). */
  serviceCidr?: string;
  /** The API server's port on the bridge address (default 6443). */
  apiPort?: number;
  /** The registry's port on the bridge address (default 5000). */
  registryPort?: number;
  /**
   * Dual-stack (default true): IPv6 on the LAN, pods and Services besides IPv4 (which
   * stays the primary family). The IPv6 networks are derived from the IPv4 ones, inside
   * fd00::/8 (unique local): LAN A.B.C.0/24 -> fd00:A:B:C::/64, pods A.B.0.0/16 ->
   * fd00:A:B::/56 (node i: fd00:A:B:i::/64), Services A.B.0.0/16 -> fd00:A:B::/112.
   */
  ipv6?: boolean;
}

/** A plain host on the bridge (no Kubernetes): the test client or the router. */
export interface HostPlan {
  /** `client` or `router` (a node's name for nodes). */
  readonly name: string;
  /** Its network namespace, `<prefix>-<name>`. */
  readonly ns: string;
  /** The veth end in the root namespace, a port of the bridge (named like the namespace). */
  readonly hostVeth: string;
  /** The interface inside the namespace. */
  readonly ifname: 'eth0';
  /** Fixed, locally administered: `02:48:00:00:HH:LL`, HHLL the host number in decimal digits. */
  readonly mac: string;
  readonly ipv4: string;
  readonly prefixLength: 24;
  /** On the LAN's /64; the host number's decimal digits read as hex (node-1: `...::11`), as in the lab. */
  readonly ipv6: string;
  readonly prefixLength6: 64;
}

/** Every file and folder of one node, all under `<dir>/nodes/<name>`. */
export interface NodePaths {
  readonly dir: string;
  readonly containerdConfig: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  /** containerd's `config_path`: one hosts.toml per registry. */
  readonly registryHostsDir: string;
  readonly cniConfDir: string;
  /** host-local IPAM's `dataDir` (its default, /var/lib/cni/networks, would be shared). */
  readonly cniDataDir: string;
  /** The kubelet's --root-dir: bind-mounted onto itself and marked rshared. */
  readonly kubeletRoot: string;
  readonly kubeletConfig: string;
  readonly kubeletKubeconfig: string;
  readonly podLogsDir: string;
  readonly proxyConfig: string;
  readonly proxyKubeconfig: string;
  readonly logDir: string;
}

/** A Kubernetes node: a namespace on the bridge, with its own containerd, kubelet and kube-proxy. */
export interface NodePlan extends HostPlan {
  readonly index: number;
  /** This node's pod network, a /24 of the cluster CIDR; routed to {@link HostPlan.ipv4} everywhere. */
  readonly podCidr: string;
  /** The node's CNI bridge (`cni0`) address, the pods' default gateway. */
  readonly podGateway: string;
  /** This node's IPv6 pod network, a /64 of the IPv6 cluster CIDR. */
  readonly podCidr6: string;
  readonly podGateway6: string;
  /** The kubelet's cgroupRoot, made in every cgroup v1 hierarchy (without the leading slash). */
  readonly cgroup: string;
  readonly paths: NodePaths;
}

export interface ClusterPlan {
  readonly prefix: string;
  readonly dir: string;
  readonly proxyMode: ProxyMode;
  readonly bridge: {
    readonly name: string;
    readonly mac: string;
    readonly ipv4: string;
    readonly prefixLength: 24;
    readonly subnet: string;
    readonly ipv6: string;
    readonly subnet6: string;
  };
  /** Whether the IPv6 half is configured (addresses, routes, pod and Service CIDRs). */
  readonly ipv6: boolean;
  readonly nodes: readonly NodePlan[];
  readonly client: HostPlan;
  readonly router: HostPlan;
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  readonly clusterCidr6: string;
  readonly serviceCidr6: string;
  /** The `kubernetes` Service's ClusterIP (the first address of the Service CIDR). */
  readonly kubernetesServiceIp: string;
  /** LAN addresses no host uses, for tests' L2 address pools: `.100` to `.199`. */
  readonly spareRange: { readonly first: string; readonly last: string };
  readonly apiServer: { readonly address: string; readonly port: number; readonly url: string };
  /** The registry as image references name it, `ADDRESS:PORT`. */
  readonly registry: string;
  /** The pause image every node's containerd uses as its sandbox image. */
  readonly pauseImage: string;
}

export const DEFAULT_DIR = '/tmp/herald-cluster';
export const DEFAULT_PREFIX = 'hc';
export const MAX_NODES = 50;
/** Bumped whenever pause/pause.c changes, so a cached old build is not reused. */
export const PAUSE_TAG = '1';
/** The pause image's repository in the registry (and its name in buildah's local store). */
export const PAUSE_REPO = 'herald/pause';

// The prefix is kept short because Linux interface names are at most 15 bytes and the
// longest one is `<prefix>-node-50`.
const PREFIX_RE = /^[a-z][a-z0-9]{0,5}$/;
const V4_24_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;
const V4_16_RE = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/;
/** Unix socket paths are limited to 108 bytes; the deepest one is containerd's `.ttrpc` socket. */
const MAX_DIR_LENGTH = 60;

function octets(m: RegExpExecArray, what: string, text: string): string[] {
  const parts = m.slice(1);
  if (parts.some((o) => o === undefined || Number(o) > 255)) throw new ClusterError('BadOptions', `${what} ${text}: octet out of range`);
  return parts.map((o) => String(Number(o)));
}

function base24(text: string, what: string): string {
  const m = V4_24_RE.exec(text);
  if (!m) throw new ClusterError('BadOptions', `${what} ${JSON.stringify(text)}: want an IPv4 /24 written as A.B.C.0/24`);
  return octets(m, what, text).join('.');
}

function base16(text: string, what: string): string {
  const m = V4_16_RE.exec(text);
  if (!m) throw new ClusterError('BadOptions', `${what} ${JSON.stringify(text)}: want an IPv4 /16 written as A.B.0.0/16`);
  return octets(m, what, text).join('.');
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ClusterError('BadOptions', `${what}: want a TCP port 1..65535 (got ${port})`);
  return port;
}

function macFor(n: number): string {
  const d = String(n).padStart(4, '0');
  return `02:48:00:00:${d.slice(0, 2)}:${d.slice(2)}`;
}

/** Host numbers: node-i is 10+i, the router 201, the client 250, the bridge (host side) 1. */
const ROUTER_NUMBER = 201;
const CLIENT_NUMBER = 250;

export function nodePaths(dir: string, name: string): NodePaths {
  const d = join(dir, 'nodes', name);
  return {
    dir: d,
    containerdConfig: join(d, 'containerd.toml'),
    containerdRoot: join(d, 'containerd', 'root'),
    containerdState: join(d, 'containerd', 'state'),
    containerdSocket: join(d, 'containerd.sock'),
    registryHostsDir: join(d, 'registry-hosts'),
    cniConfDir: join(d, 'cni', 'net.d'),
    cniDataDir: join(d, 'cni', 'ipam'),
    kubeletRoot: join(d, 'kubelet'),
    kubeletConfig: join(d, 'kubelet.yaml'),
    kubeletKubeconfig: join(d, 'kubelet.kubeconfig'),
    podLogsDir: join(d, 'pod-logs'),
    proxyConfig: join(d, 'kube-proxy.yaml'),
    proxyKubeconfig: join(d, 'kube-proxy.kubeconfig'),
    logDir: join(d, 'logs'),
  };
}

function checkBasics(opts: ClusterOptions): { n: number; prefix: string; dir: string; proxyMode: ProxyMode } {
  const n = opts.nodes ?? 3;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NODES) throw new ClusterError('BadOptions', `nodes: want an integer 1..${MAX_NODES} (got ${n})`);
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  if (!PREFIX_RE.test(prefix)) throw new ClusterError('BadOptions', `prefix ${JSON.stringify(prefix)}: want [a-z][a-z0-9]{0,5} (interface names are at most 15 bytes)`);
  const dirText = opts.dir ?? DEFAULT_DIR;
  const dir = isAbsolute(dirText) ? dirText : resolve(dirText);
  if (dir.length > MAX_DIR_LENGTH) throw new ClusterError('BadOptions', `dir ${dir}: at most ${MAX_DIR_LENGTH} characters (containerd's sockets live under it, and Unix socket paths are short)`);
  if (/[\s"'\\$`]/.test(dir)) throw new ClusterError('BadOptions', `dir ${JSON.stringify(dir)}: no spaces, quotes, backslashes or $ (it is written into config files)`);
  const proxyMode = opts.proxyMode ?? 'nftables';
  if (proxyMode !== 'nftables' && proxyMode !== 'iptables') throw new ClusterError('BadOptions', `proxyMode ${JSON.stringify(proxyMode)}: want nftables or iptables (this kernel has no IPVS)`);
  return { n, prefix, dir, proxyMode };
}

/** Turns options into the full plan; throws `BadOptions` for anything out of range. */
export function planCluster(opts: ClusterOptions = {}): ClusterPlan {
  const { n, prefix, dir, proxyMode } = checkBasics(opts);
  const lan = base24(opts.lanSubnet ?? '203.0.113.0/24', 'lanSubnet');
  const pods = base16(opts.clusterCidr ?? '10.244.0.0/16', 'clusterCidr');
  const svc = base16(opts.serviceCidr ?? '10.96.0.0/16', 'serviceCidr');
  if (pods === svc) throw new ClusterError('BadOptions', `clusterCidr and serviceCidr must differ (both ${pods}.0.0/16)`);
  const apiPort = checkPort(opts.apiPort ?? 6443, 'apiPort');
  const registryPort = checkPort(opts.registryPort ?? 5000, 'registryPort');
  if (apiPort === registryPort) throw new ClusterError('BadOptions', `apiPort and registryPort must differ (both ${apiPort})`);

  const lan6 = `fd00:${lan.split('.').join(':')}`;
  const pods6 = `fd00:${pods.split('.').join(':')}`;
  const svc6 = `fd00:${svc.split('.').join(':')}`;
  const host = (name: string, num: number): HostPlan => ({
    name,
    ns: `${prefix}-${name}`,
    hostVeth: `${prefix}-${name}`,
    ifname: 'eth0',
    mac: macFor(num),
    ipv4: `${lan}.${num}`,
    prefixLength: 24,
    ipv6: `${lan6}::${num}`,
    prefixLength6: 64,
  });
  const nodes: NodePlan[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `node-${i}`;
    nodes.push({
      ...host(name, 10 + i),
      index: i,
      podCidr: `${pods}.${i}.0/24`,
      podGateway: `${pods}.${i}.1`,
      podCidr6: `${pods6}:${i}::/64`,
      podGateway6: `${pods6}:${i}::1`,
      cgroup: `${prefix}-${name}`,
      paths: nodePaths(dir, name),
    });
  }
  const bridgeIp = `${lan}.1`;
  const registry = `${bridgeIp}:${registryPort}`;
  return {
    prefix,
    dir,
    proxyMode,
    bridge: { name: `${prefix}-br0`, mac: macFor(1), ipv4: bridgeIp, prefixLength: 24, subnet: `${lan}.0/24`, ipv6: `${lan6}::1`, subnet6: `${lan6}::/64` },
    ipv6: opts.ipv6 ?? true,
    nodes,
    client: host('client', CLIENT_NUMBER),
    router: host('router', ROUTER_NUMBER),
    clusterCidr: `${pods}.0.0/16`,
    serviceCidr: `${svc}.0.0/16`,
    clusterCidr6: `${pods6}::/56`,
    serviceCidr6: `${svc6}::/112`,
    kubernetesServiceIp: `${svc}.0.1`,
    spareRange: { first: `${lan}.100`, last: `${lan}.199` },
    apiServer: { address: bridgeIp, port: apiPort, url: `https://${bridgeIp}:${apiPort}` },
    registry,
    pauseImage: `${registry}/${PAUSE_REPO}:${PAUSE_TAG}`,
  };
}

/** Every host of the plan: the nodes, then the client and the router. */
export function allHosts(plan: ClusterPlan): HostPlan[] {
  return [...plan.nodes, plan.client, plan.router];
}

/** The namespaces the plan creates. */
export function planNamespaces(plan: ClusterPlan): string[] {
  return allHosts(plan).map((h) => h.ns);
}

/** The links the plan creates in the root namespace: the bridge, then one veth end per host. */
export function planRootLinks(plan: ClusterPlan): string[] {
  return [plan.bridge.name, ...allHosts(plan).map((h) => h.hostVeth)];
}

/** The host (node, `client` or `router`) of that name, or `UnknownHost`. */
export function findHost(plan: ClusterPlan, name: string): HostPlan | NodePlan {
  const h = allHosts(plan).find((x) => x.name === name || x.ns === name);
  if (!h) throw new ClusterError('UnknownHost', `cluster ${plan.prefix} has no host ${JSON.stringify(name)} (hosts: ${allHosts(plan).map((x) => x.name).join(', ')})`);
  return h;
}

/** Routes for the root namespace: each node's pod CIDR via that node's bridge address. */
export function rootRoutes(plan: ClusterPlan): string[] {
  return plan.nodes.flatMap((nd) => [
    `${nd.podCidr} via ${nd.ipv4} dev ${plan.bridge.name}`,
    ...(plan.ipv6 ? [`${nd.podCidr6} via ${nd.ipv6} dev ${plan.bridge.name}`] : []),
  ]);
}

/**
 * `ip -batch` input for the root namespace: the bridge (STP and multicast snooping off,
 * fixed MAC, the host-side address), one veth pair per host whose inner end is created
 * straight in the host's namespace as `eth0`, and the pod-CIDR routes.
 */
export function rootBatch(plan: ClusterPlan): string {
  const b = plan.bridge;
  const lines = [
    `link add name ${b.name} address ${b.mac} type bridge stp_state 0 mcast_snooping 0`,
    `addr add ${b.ipv4}/${b.prefixLength} dev ${b.name}`,
    // nodad: addresses are unique by construction on a private bridge; no 1-2 s of tentative state.
    ...(plan.ipv6 ? [`addr add ${b.ipv6}/64 dev ${b.name} nodad`] : []),
    `link set dev ${b.name} up`,
  ];
  for (const h of allHosts(plan)) {
    lines.push(`link add name ${h.hostVeth} type veth peer name ${h.ifname} address ${h.mac} netns ${h.ns}`);
    lines.push(`link set dev ${h.hostVeth} master ${b.name} up`);
  }
  for (const r of rootRoutes(plan)) lines.push(`route add ${r}`);
  return lines.join('\n') + '\n';
}

/**
 * `ip -batch` input run inside one host's namespace. Nodes get a default route via
 * the bridge's host-side address (hostNetwork clients of ClusterIPs need a route before
 * kube-proxy's DNAT; the root namespace does not forward, so nothing leaves the machine)
 * and a route to every other node's pod CIDR via that node, so pods talk directly.
 */
export function hostBatch(plan: ClusterPlan, h: HostPlan): string {
  const lines = ['link set dev lo up', `addr add ${h.ipv4}/${h.prefixLength} dev ${h.ifname}`];
  if (plan.ipv6) lines.push(`addr add ${h.ipv6}/${h.prefixLength6} dev ${h.ifname} nodad`);
  lines.push(`link set dev ${h.ifname} up`);
  if (plan.nodes.some((nd) => nd.ns === h.ns)) {
    lines.push(`route add default via ${plan.bridge.ipv4} dev ${h.ifname}`);
    if (plan.ipv6) lines.push(`route add default via ${plan.bridge.ipv6} dev ${h.ifname}`);
    for (const other of plan.nodes) {
      if (other.ns === h.ns) continue;
      lines.push(`route add ${other.podCidr} via ${other.ipv4} dev ${h.ifname}`);
      if (plan.ipv6) lines.push(`route add ${other.podCidr6} via ${other.ipv6} dev ${h.ifname}`);
    }
  }
  return lines.join('\n') + '\n';
}
