/**
 * Herald on a real 3-node Kubernetes cluster (real kubelets, containerd, kube-proxy in
 * nftables mode), installed as a user installs it: its images built here from the
 * Dockerfile and pulled by the nodes from the cluster's registry, its chart installed from
 * the `helm package` archive. Proves L2 through kube-proxy to real Pods, BGP to FRR from
 * every node, RBAC enforced for the chart's ServiceAccounts, a `helm upgrade` that rolls the
 * speakers under a 10 ms probe, and an uninstall that keeps the CRDs. Needs root (CI is).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startCluster, type Cluster } from '@herald/e2e-cluster';
import { BACKEND_PORT } from '@herald/e2e-images';
import { eventually } from '@herald/e2e-harness';
import { startPinger, startRouter, waitForRoute, type Lab, type Router } from '@herald/lab';
import { Helm, buildAndPush, imageValues, type BuiltImages } from './install.js';
import { applyStream, backendDeployment, herald, loadBalancer, type Obj } from './manifests.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/e2e-on-cluster: skipping: the real cluster needs root (CI runs it as root)\n');
const describeRoot = ROOT ? describe : describe.skip;

const NS = 'herald-system';
const APPS = 'apps';
const HERALD_ASN = 64500;
const FRR_ASN = 64512;
const BGP_POOL = '198.51.100.0/28';
const log = (line: string): void => void process.stderr.write(`on-cluster: ${line}\n`);

interface PodList {
  items: { metadata: { name: string; labels?: Record<string, string> }; spec: { nodeName?: string; containers: { image: string }[] }; status: { conditions?: { type: string; status: string }[] } }[];
}

describeRoot('Herald installed by its packaged chart on a real 3-node cluster', () => {
  let cluster: Cluster;
  let helm: Helm;
  let built: BuiltImages;
  let chart: string;
  let work: string;
  let frr: Router | undefined;
  const timings: Record<string, number> = {};

  const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
    const r = await cluster.kubectl(args, { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (objs: readonly Obj[]): Promise<string> => kubectl(['apply', '-f', '-'], applyStream(objs));
  const pods = async (selector: string): Promise<PodList['items']> => (JSON.parse(await kubectl(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'json'])) as PodList).items;
  const ready = (p: PodList['items'][number]): boolean => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const ingress = async (name: string, count: number): Promise<string[]> =>
    eventually(
      `${name} gets ${count} IP(s)`,
      async () => {
        const s = JSON.parse(await kubectl(['-n', APPS, 'get', 'svc', name, '-o', 'json'])) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
        const ips = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((i) => i !== '');
        return ips.length === count ? ips : undefined;
      },
      60_000,
      200,
    );
  const curl = async (ip: string, host = 'client'): Promise<string | undefined> => {
    const url = ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
    const r = await cluster.exec(host, 'curl', ['-s', '-m', '2', url], { timeoutMs: 5_000 });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const l2Owner = async (svc: string): Promise<string> =>
    eventually(
      `one node announcing ${svc}`,
      async () => {
        const list = JSON.parse(await kubectl(['-n', NS, 'get', 'servicel2statuses', '-o', 'json'])) as { items: { status?: { node?: string; serviceName?: string } }[] };
        const nodes = list.items.filter((i) => i.status?.serviceName === svc).map((i) => i.status?.node ?? '');
        return nodes.length === 1 ? nodes[0] : undefined;
      },
      60_000,
      200,
    );

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'herald-oncluster-'));
    let t = Date.now();
    cluster = await startCluster({ prefix: 'hoc', dir: join(work, 'cluster'), nodes: 3 });
    timings['clusterUpSeconds'] = (Date.now() - t) / 1000;
    helm = await Helm.create();
    t = Date.now();
    built = await buildAndPush(cluster, 'e2e1');
    timings['imagesSeconds'] = (Date.now() - t) / 1000;
    log(`images: ${built.herald.map((i) => `${i.target} ${(i.bytes / 1e6).toFixed(1)} MB`).join(', ')}`);
    chart = await helm.packageChart(join(work, 'chart'));
    t = Date.now();
    const r = await helm.run(['install', 'herald', chart, '--namespace', NS, '--create-namespace', '--wait', '--timeout', '5m'], { kubeconfig: cluster.kubeconfig, values: imageValues(built.refs), timeoutMs: 360_000 });
    if (r.status !== 0) throw new Error(`helm install: ${r.stderr}\n${r.stdout}`);
    timings['helmInstallSeconds'] = (Date.now() - t) / 1000;
    await kubectl(['create', 'namespace', APPS]);
    await apply([
      herald('IPAddressPool', 'lan', NS, { addresses: ['203.0.113.200-203.0.113.219', 'fd00:203:0:113::200-fd00:203:0:113::219'] }),
      herald('L2Advertisement', 'lan', NS, { ipAddressPools: ['lan'] }),
      backendDeployment({ namespace: APPS, name: 'web', image: built.refs.backend, replicas: 3, port: BACKEND_PORT }),
    ]);
    await kubectl(['-n', APPS, 'rollout', 'status', 'deployment/web', '--timeout=120s']);
  }, 1_500_000);

  afterAll(async () => {
    log(`timings ${JSON.stringify(timings)}`);
    await frr?.stop().catch(() => undefined);
    await helm?.close();
    await cluster?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  }, 180_000);

  it('runs two controller replicas and a speaker on every node, Ready, from the images the nodes pulled from the registry', async () => {
    const controllers = await pods('app.kubernetes.io/component=controller');
    const speakers = await pods('app.kubernetes.io/component=speaker');
    expect(controllers.filter(ready)).toHaveLength(2);
    expect(speakers.filter(ready).map((p) => p.spec.nodeName).sort()).toEqual(cluster.nodes.map((n) => n.name).sort());
    for (const p of controllers) expect(p.spec.containers[0]?.image).toBe(built.refs.controller);
    for (const p of speakers) expect(p.spec.containers[0]?.image).toBe(built.refs.speaker);
  });

  it('L2: the client resolves the IP to the elected node and real backend Pods answer through kube-proxy (IPv4 and IPv6)', async () => {
    await apply([loadBalancer({ namespace: APPS, name: 'web', app: 'web', targetPort: BACKEND_PORT, families: ['IPv4', 'IPv6'] })]);
    const ips = await ingress('web', 2);
    const owner = await l2Owner('web');
    const ownerMac = cluster.host(owner).mac.toLowerCase();
    for (const ip of ips) {
      const answers = new Set<string>();
      await eventually(`${ip} answered`, async () => (await curl(ip)) !== undefined, 30_000, 200);
      for (let i = 0; i < 30; i++) {
        const body = await curl(ip);
        if (body !== undefined) answers.add(body);
      }
      // kube-proxy spreads new connections over the three Pods, one per node.
      expect(answers.size).toBeGreaterThanOrEqual(2);
      for (const a of answers) expect(a).toMatch(/^web@/);
      const neigh = await cluster.exec('client', 'ip', ['-j', 'neigh', 'show', ip]);
      const entries = JSON.parse(neigh.stdout || '[]') as { lladdr?: string }[];
      expect(entries.map((e) => e.lladdr?.toLowerCase())).toContain(ownerMac);
    }
  });

  it('BGP: FRR learns the IP from all three nodes and routes the client to the Pods', async () => {
    const router = cluster.host('router');
    frr = await startRouter(cluster as unknown as Lab, 'router', 'frr', {
      asn: FRR_ASN,
      routerId: router.ipv4,
      families: ['ipv4'],
      neighbors: cluster.nodes.map((n) => ({ address: n.ipv4, asn: HERALD_ASN })),
    });
    await apply([
      herald('IPAddressPool', 'bgp', NS, { addresses: [BGP_POOL], autoAssign: false }),
      herald('BGPAdvertisement', 'bgp', NS, { ipAddressPools: ['bgp'] }),
      herald('BGPPeer', 'frr', NS, { myASN: HERALD_ASN, peerASN: FRR_ASN, peerAddress: router.ipv4 }),
      loadBalancer({ namespace: APPS, name: 'web-bgp', app: 'web', targetPort: BACKEND_PORT, pool: 'bgp' }),
    ]);
    const [ip] = await ingress('web-bgp', 1);
    const route = await waitForRoute(frr, 'ipv4', `${ip}/32`, (r) => r.nextHops.length === 3, { timeoutMs: 60_000, intervalMs: 250 });
    expect([...route.nextHops].sort()).toEqual(cluster.nodes.map((n) => n.ipv4).sort());
    // The client reaches it through the router, as clients beyond a router do.
    await cluster.exec('router', 'sysctl', ['-w', 'net.ipv4.ip_forward=1']);
    await cluster.exec('client', 'ip', ['route', 'replace', BGP_POOL, 'via', router.ipv4]);
    const body = await eventually(`${ip} answered through FRR`, async () => curl(ip ?? ''), 30_000, 250);
    expect(body).toMatch(/^web@/);
  });

  it('enforces the chart RBAC for real: the controller ServiceAccount may list Services but not read Secrets', async () => {
    const token = (await kubectl(['-n', NS, 'create', 'token', 'herald-controller', '--duration=10m'])).trim();
    const admin = parse(await readFile(cluster.kubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
    const kc = { apiVersion: 'v1', kind: 'Config', clusters: admin.clusters, users: [{ name: 'sa', user: { token } }], contexts: [{ name: 'sa', context: { cluster: admin.clusters[0]?.name, user: 'sa' } }], 'current-context': 'sa' };
    const file = join(work, 'sa.kubeconfig');
    await writeFile(file, JSON.stringify(kc), { mode: 0o600 });
    const as = (args: readonly string[]) => cluster.kubectl(['--kubeconfig', file, ...args]);
    const allowed = await as(['get', 'services', '-A', '-o', 'name']);
    expect(allowed.status).toBe(0);
    const denied = await as(['-n', NS, 'get', 'secrets']);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/Forbidden|forbidden/);
    const noWrite = await as(['-n', APPS, 'delete', 'service', 'web', '--dry-run=server']);
    expect(noWrite.status).not.toBe(0);
    expect(noWrite.stderr).toMatch(/forbidden/i);
  });

  it('helm upgrade to a new image tag rolls every speaker, losing at most one reply per node at a 10 ms probe', async () => {
    // Idempotent: the L2 test made it already, unless it was filtered out.
    await apply([loadBalancer({ namespace: APPS, name: 'web', app: 'web', targetPort: BACKEND_PORT, families: ['IPv4', 'IPv6'] })]);
    const [v4] = (await ingress('web', 2)).filter((i) => !i.includes(':'));
    await eventually(`${v4} answered`, async () => (await curl(v4 ?? '')) !== undefined, 30_000, 200);
    // The same images under a new tag: a new reference in the Pod templates, as a release makes.
    const exec = promisify(execFile);
    const tagged = { controller: '', speaker: '' };
    for (const t of ['controller', 'speaker'] as const) {
      const local = built.herald.find((i) => i.target === t)?.image ?? '';
      const next = `${local.slice(0, local.lastIndexOf(':'))}:e2e2`;
      await exec('buildah', ['tag', local, next]);
      tagged[t] = await cluster.pushImage(next, `herald/${t}:e2e2`);
    }
    const pinger = await startPinger(cluster as unknown as Lab, 'client', v4 ?? '', { intervalMs: 10, timeoutMs: 200 });
    const t = Date.now();
    // Who announces the IP, over the upgrade: each change with its time (for the report).
    const owners: string[] = [];
    let watching = true;
    const watch = (async () => {
      let last = '';
      while (watching) {
        const list = JSON.parse((await cluster.kubectl(['-n', NS, 'get', 'servicel2statuses', '-o', 'json'])).stdout || '{"items":[]}') as { items: { status?: { node?: string; serviceName?: string } }[] };
        const now = list.items.filter((i) => i.status?.serviceName === 'web').map((i) => i.status?.node ?? '').sort().join('+') || 'nobody';
        if (now !== last) owners.push(`${((Date.now() - t) / 1000).toFixed(1)}s ${now}`);
        last = now;
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const r = await helm.run(['upgrade', 'herald', chart, '--namespace', NS, '--wait', '--timeout', '5m'], { kubeconfig: cluster.kubeconfig, values: imageValues(tagged), timeoutMs: 360_000 });
    timings['helmUpgradeSeconds'] = (Date.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`helm upgrade: ${r.stderr}`);
    await kubectl(['-n', NS, 'rollout', 'status', 'daemonset/herald-speaker', '--timeout=180s']);
    await new Promise((res) => setTimeout(res, 2_000));
    const probes = await pinger.stop();
    watching = false;
    await watch;
    const lost = probes.filter((p) => !p.ok);
    // Runs of consecutive lost probes, as (start after the upgrade began, length in ms).
    const runs: string[] = [];
    for (let i = 0; i < probes.length; i++) {
      if (probes[i]?.ok !== false) continue;
      let j = i;
      while (j + 1 < probes.length && probes[j + 1]?.ok === false) j++;
      runs.push(`${(((probes[i]?.t ?? 0) - t) / 1000).toFixed(2)}s+${(probes[j]?.t ?? 0) - (probes[i]?.t ?? 0)}ms`);
      i = j;
    }
    log(`upgrade: owners ${owners.join(', ')}; lost runs ${runs.join(', ')}`);
    timings['upgradeProbes'] = probes.length;
    timings['upgradeLost'] = lost.length;
    log(`upgrade: ${probes.length} probes, ${lost.length} lost (${lost.map((p) => p.code).join(', ')})`);
    const speakers = await pods('app.kubernetes.io/component=speaker');
    expect(speakers.filter(ready)).toHaveLength(3);
    for (const p of speakers) expect(p.spec.containers[0]?.image).toBe(tagged.speaker);
    expect(probes.length).toBeGreaterThan(500);
    expect(lost.length).toBeLessThanOrEqual(cluster.nodes.length);
  });

  it('helm uninstall removes Herald but keeps the CRDs (and so every pool and Service configuration)', async () => {
    const r = await helm.run(['uninstall', 'herald', '--namespace', NS, '--wait'], { kubeconfig: cluster.kubeconfig, timeoutMs: 180_000 });
    expect(r.status).toBe(0);
    await eventually('no Herald Pods left', async () => (await pods('app.kubernetes.io/name=herald')).length === 0, 120_000, 500);
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    for (const k of ['ipaddresspools', 'l2advertisements', 'bgppeers']) expect(crds).toContain(`${k}.herald.io`);
    expect(await kubectl(['-n', NS, 'get', 'ipaddresspools', '-o', 'name'])).toContain('lan');
  });
});
