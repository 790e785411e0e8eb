/**
 * Bringing a cluster up: every step records what it created in the state file before
 * the next one starts, so `down` can undo any prefix of this sequence.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientKubeconfig, createPki, freePort, issueClientCert, resolveClusterTools, startDetached, tail, type ClusterTools, type Pki } from '@herald/e2e-harness';
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig, nodeGuardNft, registryConfig, registryHostsToml } from './config.js';
import { assertNotRunning, stopCluster } from './down.js';
import { ClusterError } from './errors.js';
import { buildPauseImage, pushImage, waitRegistry } from './images.js';
import {
  bindMountShared,
  ipBatch,
  isSameProcess,
  KUBELET_SYSCTLS,
  listNetns,
  listRootLinks,
  listRootRoutes,
  makeCgroup,
  netnsSysctls,
  readSysctl,
  writeIfChanged,
} from './machine.js';
import { allHosts, hostBatch, planCluster, planNamespaces, planRootLinks, rootBatch, rootRoutes, type ClusterOptions, type ClusterPlan, type NodePlan } from './plan.js';
import { KubeRest, summarizeNodes } from './rest.js';
import { describeFailure, inNetns, procStartTime, run, sleep } from './run.js';
import { conflictingRoutes } from './sysinfo.js';
import { initialState, readState, StateStore, type ProcessRecord } from './state.js';

export interface UpOptions extends ClusterOptions {
  /** Build missing binaries from their Go modules (default true). */
  build?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** How long to wait for the whole cluster once the binaries are there (default 120 s). */
  readyTimeoutMs?: number;
  /** Leave everything in place when start-up fails, for inspection (default false: tear down). */
  keepOnFailure?: boolean;
}

/** Paths of the cluster-wide files under the cluster folder. */
export function clusterFiles(dir: string): { pki: string; kubeconfig: string; logs: string; kubeconfigs: string; registryData: string; registryConfig: string } {
  return {
    pki: join(dir, 'pki'),
    kubeconfig: join(dir, 'kubeconfig'),
    logs: join(dir, 'logs'),
    kubeconfigs: join(dir, 'kubeconfigs'),
    registryData: join(dir, 'registry'),
    registryConfig: join(dir, 'registry.yaml'),
  };
}

/** Debian packages' binaries the cluster runs; checked up front for a clear message. */
const SYSTEM_BINARIES = ['containerd', 'containerd-shim-runc-v2', 'runc', 'buildah', 'skopeo', 'gcc', 'nsenter', 'ip', 'mount', 'umount', 'iptables', 'nft', 'conntrack'];
const CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'];

function onPath(bin: string): boolean {
  return (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin']).some((d) => existsSync(join(d, bin)));
}

function checkSystem(): void {
  const missing = [...SYSTEM_BINARIES.filter((b) => !onPath(b)), ...CNI_PLUGINS.filter((p) => !existsSync(`/usr/lib/cni/${p}`)).map((p) => `/usr/lib/cni/${p}`)];
  if (missing.length > 0) throw new ClusterError('MissingTool', `missing: ${missing.join(', ')}; run \`bash .ci/install-debian-packages.sh\``);
}

/** Refuses when any name the plan creates exists, or a route of the machine overlaps its networks. */
async function checkFree(plan: ClusterPlan): Promise<void> {
  const [ns, linkNames, routes] = await Promise.all([listNetns(), listRootLinks(), listRootRoutes()]);
  const takenNs = planNamespaces(plan).filter((n) => ns.has(n));
  const takenLinks = planRootLinks(plan).filter((l) => linkNames.has(l));
  if (takenNs.length + takenLinks.length > 0) {
    throw new ClusterError('NameTaken', `already exist: ${[...takenNs.map((n) => `netns ${n}`), ...takenLinks.map((l) => `link ${l}`)].join(', ')} (another cluster with prefix ${plan.prefix}? try --prefix)`);
  }
  const clash = conflictingRoutes(routes, [plan.bridge.subnet, plan.clusterCidr, plan.serviceCidr, ...(plan.ipv6 ? [plan.bridge.subnet6, plan.clusterCidr6, plan.serviceCidr6] : [])]);
  if (clash.length > 0) throw new ClusterError('AddressTaken', `the machine already routes ${clash.join('; ')}: choose other --lan-subnet/--cluster-cidr/--service-cidr`);
}

/** The API server's and controller manager's Service ranges, IPv4 first (the primary family). */
function serviceRanges(plan: ClusterPlan): string {
  return plan.ipv6 ? `${plan.serviceCidr},${plan.serviceCidr6}` : plan.serviceCidr;
}

/** Starts a detached daemon (in `ns` when given), records it, and returns its record. */
function daemon(store: StateStore, name: string, host: string | undefined, bin: string, args: readonly string[], log: string, ns?: string, env?: Record<string, string>): ProcessRecord {
  const envArgs = env ? Object.entries(env).map(([k, v]) => `${k}=${v}`) : [];
  const [cmd, full] = ns ? inNetns(ns, envArgs.length ? 'env' : bin, envArgs.length ? [...envArgs, bin, ...args] : args) : envArgs.length ? ['env', [...envArgs, bin, ...args]] : [bin, [...args]];
  const pid = startDetached(cmd, full, log);
  const rec: ProcessRecord = { name, ...(host ? { host } : {}), pid, startTime: procStartTime(pid) ?? 0, log };
  store.addProcess(rec);
  return rec;
}

/** Fails with the log's tail as soon as a recorded daemon has exited. */
function checkAlive(store: StateStore): void {
  for (const p of store.state.processes) {
    if (!isSameProcess(p.pid, p.startTime)) {
      throw new ClusterError('StartFailed', `${p.name}${p.host ? ` on ${p.host}` : ''} exited during start-up; last lines of ${p.log}:\n${tail(p.log, 25)}`);
    }
  }
}

interface Credentials {
  readonly pki: Pki;
  readonly admin: string;
  readonly scheduler: string;
  readonly controllerManager: string;
  readonly kubelet: Readonly<Record<string, string>>;
  readonly proxy: string;
  readonly apiserverKubeletClient: { cert: string; key: string };
}

/**
 * A fresh CA and one identity per component, as Kubernetes' bootstrap RBAC expects:
 * system:kube-scheduler, system:kube-controller-manager, system:kube-proxy, and
 * system:node:NAME in system:nodes for each kubelet (the Node authorizer needs exactly that).
 */
function makeCredentials(plan: ClusterPlan): Credentials {
  const files = clusterFiles(plan.dir);
  const pki = createPki(files.pki, { extraSans: [plan.apiServer.address, plan.kubernetesServiceIp] });
  mkdirSync(files.kubeconfigs, { recursive: true });
  const server = plan.apiServer.url;
  const write = (file: string, text: string): string => {
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const kc = (name: string, cn: string, orgs: string[] = []): string => clientKubeconfig(pki, server, issueClientCert(pki, name, cn, orgs), cn);
  const admin = write(files.kubeconfig, clientKubeconfig(pki, server, { cert: pki.adminCert, key: pki.adminKey }, 'admin'));
  const scheduler = write(join(files.kubeconfigs, 'kube-scheduler'), kc('kube-scheduler', 'system:kube-scheduler'));
  const controllerManager = write(join(files.kubeconfigs, 'kube-controller-manager'), kc('kube-controller-manager', 'system:kube-controller-manager'));
  const proxyText = kc('kube-proxy', 'system:kube-proxy');
  const proxy = write(join(files.kubeconfigs, 'kube-proxy'), proxyText);
  const kubelet: Record<string, string> = {};
  for (const node of plan.nodes) {
    mkdirSync(node.paths.dir, { recursive: true });
    kubelet[node.name] = write(node.paths.kubeletKubeconfig, kc(`kubelet-${node.name}`, `system:node:${node.name}`, ['system:nodes']));
    writeIfChanged(node.paths.proxyKubeconfig, proxyText, 0o600);
  }
  const apiserverKubeletClient = issueClientCert(pki, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']);
  return { pki, admin, scheduler, controllerManager, kubelet, proxy, apiserverKubeletClient };
}

async function buildNetwork(plan: ClusterPlan, store: StateStore): Promise<void> {
  const names = planNamespaces(plan);
  const add = await run('ip', ['-b', '-'], { input: names.map((n) => `netns add ${n}\n`).join('') });
  // `ip netns add` refuses an existing name; checkFree saw none, so whatever exists now is ours.
  const nowNs = await listNetns();
  store.add('namespaces', ...names.filter((n) => nowNs.has(n)));
  if (add.status !== 0) throw new ClusterError(/File exists/.test(add.stderr) ? 'NameTaken' : 'CommandFailed', describeFailure('ip netns add', add));

  let rootErr: unknown;
  try {
    await ipBatch(rootBatch(plan));
  } catch (err) {
    rootErr = err;
  }
  const nowLinks = await listRootLinks();
  store.add('links', ...planRootLinks(plan).filter((l) => nowLinks.has(l)));
  // Routes go with the bridge anyway; recorded so `down` deletes them explicitly first.
  if (!rootErr) store.add('routes', ...rootRoutes(plan));
  if (rootErr) throw rootErr;

  await Promise.all(allHosts(plan).map((h) => ipBatch(hostBatch(plan, h), h.ns)));
  // Nodes route pod traffic between their pod bridge and eth0.
  const forward = { 'net.ipv4.ip_forward': '1', ...(plan.ipv6 ? { 'net.ipv6.conf.all.forwarding': '1' } : {}) };
  await Promise.all(plan.nodes.map((n) => netnsSysctls(n.ns, forward)));
  const guard = nodeGuardNft(plan);
  await Promise.all(
    plan.nodes.map(async (n) => {
      const [cmd, args] = inNetns(n.ns, 'nft', ['-f', '-']);
      const r = await run(cmd, args, { input: guard });
      if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`nft guard in ${n.ns}`, r));
    }),
  );
}

function writeNodeFiles(plan: ClusterPlan, node: NodePlan, pki: Pki): void {
  const p = node.paths;
  for (const d of [p.containerdRoot, p.containerdState, p.cniConfDir, p.cniDataDir, p.podLogsDir, p.logDir]) mkdirSync(d, { recursive: true });
  writeIfChanged(p.containerdConfig, containerdConfig(plan, node));
  writeIfChanged(join(p.cniConfDir, '10-herald.conflist'), cniConfig(plan, node));
  writeIfChanged(p.kubeletConfig, kubeletConfig(node, pki.caCert));
  writeIfChanged(p.proxyConfig, kubeProxyConfig(plan, node));
}

/** The control plane's processes: etcd on loopback, kube-apiserver on the bridge address. */
async function startControlPlane(plan: ClusterPlan, store: StateStore, tools: ClusterTools, pki: Pki, apiserverKubeletClient: { cert: string; key: string }): Promise<void> {
  const logs = clusterFiles(plan.dir).logs;
  const [etcdPort, etcdPeer] = [await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  daemon(store, 'etcd', undefined, tools.controlPlane.etcd, [
    '--name', 'herald-cluster',
    '--data-dir', join(plan.dir, 'etcd-data'),
    '--listen-client-urls', etcdUrl,
    '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `herald-cluster=http://127.0.0.1:${etcdPeer}`,
    // A test cluster's data is disposable: skipping fsync makes writes ~10x faster.
    '--unsafe-no-fsync',
    '--log-level', 'warn',
  ], join(logs, 'etcd.log'));
  daemon(store, 'kube-apiserver', undefined, tools.controlPlane.kubeApiserver, [
    // The bridge's host-side address: the only one both this namespace and the nodes reach.
    `--advertise-address=${plan.apiServer.address}`,
    `--bind-address=${plan.apiServer.address}`,
    `--secure-port=${plan.apiServer.port}`,
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${clusterFiles(plan.dir).pki}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${serviceRanges(plan)}`,
    // As in a real cluster: kubelets limited to their own node's objects, RBAC for everyone else.
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    // For logs, exec and port-forward: the API server authenticates to kubelets as system:masters.
    `--kubelet-client-certificate=${apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${apiserverKubeletClient.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    '--v=1',
  ], join(logs, 'kube-apiserver.log'));
}

function startControllers(plan: ClusterPlan, store: StateStore, tools: ClusterTools, creds: Credentials): void {
  const logs = clusterFiles(plan.dir).logs;
  // --secure-port=0: no health endpoint on the root namespace's ports, so clusters and
  // other tests never clash on 10257/10259.
  daemon(store, 'kube-scheduler', undefined, tools.kubeScheduler, [`--kubeconfig=${creds.scheduler}`, '--secure-port=0', '--leader-elect=false', '--v=1'], join(logs, 'kube-scheduler.log'));
  daemon(store, 'kube-controller-manager', undefined, tools.kubeControllerManager, [
    `--kubeconfig=${creds.controllerManager}`,
    '--secure-port=0',
    '--leader-elect=false',
    // Each controller acts under its own ServiceAccount, as in kubeadm clusters.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${creds.pki.saKey}`,
    `--root-ca-file=${creds.pki.caCert}`,
    `--cluster-signing-cert-file=${creds.pki.caCert}`,
    `--cluster-signing-key-file=${creds.pki.caKey}`,
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${plan.ipv6 ? `${plan.clusterCidr},${plan.clusterCidr6}` : plan.clusterCidr}`,
    // The per-family flags are refused on a single-stack cluster.
    ...(plan.ipv6 ? ['--node-cidr-mask-size-ipv4=24', '--node-cidr-mask-size-ipv6=64'] : ['--node-cidr-mask-size=24']),
    `--service-cluster-ip-range=${serviceRanges(plan)}`,
    '--v=1',
  ], join(logs, 'kube-controller-manager.log'));
}

const PATH_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

function startKubelet(plan: ClusterPlan, store: StateStore, tools: ClusterTools, node: NodePlan): void {
  const p = node.paths;
  daemon(store, 'kubelet', node.name, tools.kubelet, [
    `--config=${p.kubeletConfig}`,
    `--kubeconfig=${p.kubeletKubeconfig}`,
    `--root-dir=${p.kubeletRoot}`,
    // Its default is /var/lib/kubelet/pki whatever --root-dir says.
    `--cert-dir=${join(p.kubeletRoot, 'pki')}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${plan.ipv6 ? `${node.ipv4},${node.ipv6}` : node.ipv4}`,
    '--v=1',
  ], join(p.logDir, 'kubelet.log'), node.ns, PATH_ENV);
}

async function waitApiServer(rest: KubeRest, store: StateStore, deadline: number): Promise<void> {
  let last = 'no answer yet';
  for (;;) {
    checkAlive(store);
    try {
      const r = await rest.send('GET', '/readyz', undefined, 2_000);
      if (r.status === 200) return;
      last = `/readyz ${r.status}: ${r.body.split('\n').filter((l) => l.includes('failed')).join('; ')}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new ClusterError('NotReady', `kube-apiserver not ready in time (${last})`);
    await sleep(100);
  }
}

/**
 * Creates each Node with its pod CIDR before its kubelet registers: the controller
 * manager then keeps those CIDRs (it allocates only to nodes without one), so node-i
 * always owns the /24 that the routes and its CNI config name. A kubelet that finds
 * its Node already there adopts it.
 */
async function createNodes(rest: KubeRest, plan: ClusterPlan): Promise<void> {
  for (const node of plan.nodes) {
    const r = await rest.send('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node.name },
      spec: { podCIDR: node.podCidr, podCIDRs: plan.ipv6 ? [node.podCidr, node.podCidr6] : [node.podCidr] },
    });
    if (r.status !== 201 && r.status !== 409) throw new ClusterError('StartFailed', `creating Node ${node.name}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  }
}

async function waitFor(what: string, deadline: number, store: StateStore, check: () => Promise<string | true>): Promise<void> {
  let last = '';
  for (;;) {
    checkAlive(store);
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new ClusterError('NotReady', `${what} not in time${last ? ` (${last})` : ''}`);
    await sleep(250);
  }
}

/** Timings of one `up`, in ms from its start. */
export interface UpTimings {
  readonly network: number;
  readonly apiServerReady: number;
  readonly nodesReady: number;
  readonly total: number;
}

/**
 * Brings the cluster up and returns its final plan and timings. On failure it tears
 * everything down (unless `keepOnFailure`) and throws with the failing daemon's log.
 */
export async function upCluster(opts: UpOptions = {}): Promise<{ plan: ClusterPlan; timings: UpTimings; tools: ClusterTools }> {
  const t0 = Date.now();
  const log = opts.log ?? ((): void => undefined);
  if (process.getuid?.() !== 0) throw new ClusterError('NotRoot', 'the cluster creates network namespaces, cgroups and mounts: run as root');
  const plan = planCluster(opts);
  checkSystem();
  const tools = resolveClusterTools({ build: opts.build ?? true, log });

  // A stale state (a crashed run whose processes are gone) is cleaned first; a live one refuses.
  assertNotRunning(plan.dir);
  if (readState(plan.dir)) {
    log(`cleaning up a dead cluster's leftovers in ${plan.dir}`);
    const r = await stopCluster(plan.dir, { log });
    if (r.leftovers.length > 0) throw new ClusterError('BadState', `could not clean ${plan.dir}: ${r.leftovers.join(', ')}`);
  }
  const createdDir = !existsSync(plan.dir);
  if (!createdDir && readdirSync(plan.dir).length > 0) throw new ClusterError('BadState', `${plan.dir} exists and is not empty (and holds no cluster state): remove it or choose --dir`);
  await checkFree(plan);
  mkdirSync(plan.dir, { recursive: true });
  mkdirSync(clusterFiles(plan.dir).logs, { recursive: true });
  const store = new StateStore(plan.dir, initialState(plan, createdDir, { kubectl: tools.controlPlane.kubectl, crictl: tools.crictl }));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  let rest: KubeRest | undefined;
  try {
    store.update({ sysctls: KUBELET_SYSCTLS.flatMap((name) => {
      const value = readSysctl(name);
      return value === undefined ? [] : [{ name, value }];
    }) });
    const creds = makeCredentials(plan);
    await buildNetwork(plan, store);
    const tNetwork = Date.now() - t0;
    log(`network: bridge ${plan.bridge.name} ${plan.bridge.ipv4}/24, ${plan.nodes.length} nodes, client, router (${tNetwork} ms)`);

    for (const node of plan.nodes) {
      makeCgroup(node.cgroup);
      store.add('cgroups', node.cgroup);
      await bindMountShared(node.paths.kubeletRoot);
      store.add('mounts', node.paths.kubeletRoot);
      writeNodeFiles(plan, node, creds.pki);
    }
    for (const h of registryHostsToml(plan)) {
      mkdirSync(h.dir, { recursive: true });
      writeIfChanged(h.file, h.text);
    }

    // Everything that does not need the API server starts at once.
    await startControlPlane(plan, store, tools, creds.pki, creds.apiserverKubeletClient);
    const files = clusterFiles(plan.dir);
    mkdirSync(files.registryData, { recursive: true });
    writeIfChanged(files.registryConfig, registryConfig(plan, files.registryData));
    // distribution v3 exports OpenTelemetry traces by default; there is no collector here.
    daemon(store, 'registry', undefined, tools.registry, ['serve', files.registryConfig], join(files.logs, 'registry.log'), undefined, { OTEL_TRACES_EXPORTER: 'none' });
    for (const node of plan.nodes) {
      daemon(store, 'containerd', node.name, '/usr/bin/containerd', ['--config', node.paths.containerdConfig], join(node.paths.logDir, 'containerd.log'), node.ns, PATH_ENV);
    }
    const pause = (async (): Promise<void> => {
      const img = await buildPauseImage({ log });
      await waitRegistry(plan.registry, Math.max(1_000, deadline - Date.now()), () => checkAlive(store));
      await pushImage(img.name, plan.pauseImage.slice(plan.registry.length + 1), { registry: plan.registry });
      log(`pause image ${img.built ? 'built and ' : ''}pushed to ${plan.pauseImage}`);
    })();
    // Awaited below; a rejection meanwhile must not count as unhandled.
    pause.catch(() => undefined);

    rest = new KubeRest(plan.apiServer.url, creds.pki);
    await waitApiServer(rest, store, deadline);
    const tApi = Date.now() - t0;
    log(`kube-apiserver ready at ${plan.apiServer.url} (${tApi} ms)`);
    await createNodes(rest, plan);
    startControllers(plan, store, tools, creds);
    for (const node of plan.nodes) startKubelet(plan, store, tools, node);
    for (const node of plan.nodes) {
      daemon(store, 'kube-proxy', node.name, tools.kubeProxy, [`--config=${node.paths.proxyConfig}`, '--v=1'], join(node.paths.logDir, 'kube-proxy.log'), node.ns, PATH_ENV);
    }

    const api = rest;
    await waitFor('every node Ready', deadline, store, async () => {
      const nodes = summarizeNodes(await api.getJson('/api/v1/nodes'));
      const notReady = plan.nodes.filter((n) => !nodes.find((s) => s.name === n.name)?.ready);
      return notReady.length === 0 ? true : `not Ready: ${notReady.map((n) => `${n.name} (${nodes.find((s) => s.name === n.name)?.why ?? 'not registered'})`).join(', ')}`;
    });
    const tNodes = Date.now() - t0;
    log(`${plan.nodes.length} nodes Ready (${tNodes} ms)`);
    // Pods can be created only once their namespace's ServiceAccount and root CA ConfigMap exist.
    await waitFor('the default ServiceAccount and kube-root-ca.crt', deadline, store, async () => {
      const [sa, cm] = await Promise.all([api.send('GET', '/api/v1/namespaces/default/serviceaccounts/default'), api.send('GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt')]);
      return sa.status === 200 && cm.status === 200 ? true : `ServiceAccount ${sa.status}, ConfigMap ${cm.status}`;
    });
    await pause;
    store.update({ phase: 'up' });
    return { plan, tools, timings: { network: tNetwork, apiServerReady: tApi, nodesReady: tNodes, total: Date.now() - t0 } };
  } catch (err) {
    if (!opts.keepOnFailure) {
      log(`start-up failed; tearing down (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
      await stopCluster(plan.dir, { log });
    }
    throw err;
  } finally {
    rest?.close();
  }
}
