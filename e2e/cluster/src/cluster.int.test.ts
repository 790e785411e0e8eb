import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, resolveClusterTools } from '@herald/e2e-harness';
import { startCluster, type Cluster } from './cluster.js';
import { buildScratchImage } from './images.js';
import { isSameProcess, listNetns } from './machine.js';
import { run } from './run.js';
import { readState, type ClusterState } from './state.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('@herald/e2e-cluster: skipping the cluster test: it needs root (CI runs it as root)\n');
const describeRoot = ROOT ? describe : describe.skip;

// Its own prefix, folder and networks, so it runs beside a developer's `npm run cluster -- up`.
const OPTS = {
  nodes: 3,
  prefix: 'hcit',
  dir: `/tmp/herald-cluster-it-${process.pid}`,
  lanSubnet: '198.51.100.0/24',
  clusterCidr: '10.245.0.0/16',
  serviceCidr: '10.97.0.0/16',
} as const;

interface PodList {
  items: {
    metadata: { name: string };
    spec: { nodeName?: string };
    status: { podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: string; status: string }[] };
  }[];
}

const DEPLOYMENT = (image: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      # One replica per node, so every pair of pods is a cross-node pair.
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: { matchLabels: { app: web } }
            topologyKey: kubernetes.io/hostname
      terminationGracePeriodSeconds: 1
      # No cluster DNS runs here.
      dnsPolicy: Default
      # The image is busybox alone (no /tmp): the page lives in an emptyDir.
      volumes: [{ name: www, emptyDir: {} }]
      containers:
      - name: web
        image: ${image}
        args: ["sh", "-c", "echo $HOSTNAME > /www/index.html && exec /bin/busybox httpd -f -p 8080 -h /www"]
        volumeMounts: [{ name: www, mountPath: /www }]
        readinessProbe:
          httpGet: { path: /index.html, port: 8080 }
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  selector: { app: web }
  ipFamilyPolicy: RequireDualStack
  ports: [{ port: 80, targetPort: 8080 }]
`;

describeRoot('a 3-node cluster on one machine', () => {
  let cluster: Cluster | undefined;
  let state: ClusterState | undefined;
  let image = '';

  beforeAll(async () => {
    // A cold tool cache builds kubelet and friends first (minutes); warm, this is instant.
    resolveClusterTools({ build: true, log: (l) => process.stderr.write(`${l}\n`) });
    const busybox = await buildScratchImage('herald/it-busybox:1', [{ src: '/bin/busybox', dest: '/bin/busybox' }], ['/bin/busybox']);
    cluster = await startCluster(OPTS);
    state = readState(OPTS.dir);
    image = await cluster.pushImage(busybox.name, 'herald/it-busybox:1');
    process.stderr.write(`cluster up in ${((cluster.timings?.total ?? 0) / 1000).toFixed(1)} s\n`);
  }, 900_000);

  afterAll(async () => {
    await cluster?.destroy();
  }, 120_000);

  it('has every node Ready with the pod CIDR its routes name', async () => {
    const c = cluster!;
    const nodes = await c.nodeStatus();
    expect(nodes.map((n) => [n.name, n.ready, n.internalIp, n.podCidr])).toEqual(c.nodes.map((n) => [n.name, true, n.ipv4, n.podCidr]));
    const cidrs = await c.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.spec.podCIDRs}{"\\n"}{end}']);
    expect(cidrs.stdout.trim().split('\n').map((l) => JSON.parse(l) as string[])).toEqual(c.nodes.map((n) => [n.podCidr, n.podCidr6]));
    expect(nodes.every((n) => n.kubeletVersion === 'v1.35.4')).toBe(true);
  });

  it('runs a Deployment across the nodes, and pods on different nodes reach each other and the Services', async () => {
    const c = cluster!;
    const apply = await c.kubectl(['apply', '-f', '-'], { input: DEPLOYMENT(image) });
    expect(apply.stderr).toBe('');
    const pods = await eventually(
      'three Ready web pods on three nodes',
      async () => {
        const r = await c.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json']);
        const list = (JSON.parse(r.stdout) as PodList).items.filter((p) => p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
        return list.length === 3 && new Set(list.map((p) => p.spec.nodeName)).size === 3 ? list : undefined;
      },
      90_000,
      500,
    );
    const byNode = new Map(pods.map((p) => [p.spec.nodeName ?? '', p]));
    const [p1, p2, p3] = ['node-1', 'node-2', 'node-3'].map((n) => byNode.get(n));
    if (!p1 || !p2 || !p3) throw new Error(`pods not one per node: ${[...byNode.keys()].join(', ')}`);

    // Through the API server and node-1's kubelet (exec), from a pod on node-1 to pods on node-2 and node-3.
    // Debian's busybox 1.35 wget segfaults with -T, so the callers' timeoutMs bound each call instead.
    const wget = (pod: string, url: string): Promise<{ status: number; stdout: string; stderr: string }> =>
      c.kubectl(['exec', pod, '--', '/bin/busybox', 'wget', '-q', '-O', '-', url], { timeoutMs: 30_000 });
    for (const target of [p2, p3]) {
      const r = await wget(p1.metadata.name, `http://${target.status.podIP}:8080/index.html`);
      expect({ status: r.status, body: r.stdout.trim() }).toEqual({ status: 0, body: target.metadata.name });
    }

    // Dual-stack: the same over IPv6.
    const v6 = (p: typeof p1): string => p.status.podIPs?.map((x) => x.ip).find((ip) => ip.includes(':')) ?? 'none';
    const r6 = await wget(p1.metadata.name, `http://[${v6(p2)}]:8080/index.html`);
    expect(r6.stdout.trim()).toBe(p2.metadata.name);

    // The Service's ClusterIPs through kube-proxy, from a pod and from a node's own network (hostNetwork).
    const [clusterIp = '', clusterIp6 = ''] = JSON.parse((await c.kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIPs}'])).stdout) as string[];
    const names = pods.map((p) => p.metadata.name);
    const viaPod = await eventually('the web Service from a pod', async () => {
      const r = await wget(p1.metadata.name, `http://${clusterIp}/index.html`);
      return r.status === 0 ? r.stdout.trim() : undefined;
    }, 20_000, 500);
    expect(names).toContain(viaPod);
    const viaNode = await c.execIn('node-2', '/bin/busybox', ['wget', '-q', '-O', '-', `http://${clusterIp}/index.html`], { timeoutMs: 30_000 });
    expect(names).toContain(viaNode.stdout.trim());
    const viaPod6 = await wget(p2.metadata.name, `http://[${clusterIp6}]/index.html`);
    expect(names).toContain(viaPod6.stdout.trim());

    // The kubernetes Service: a plain HTTP request to its TLS port gets the API server's own
    // "400 Bad Request" (Go's answer to HTTP on an HTTPS port), which proves the round trip.
    const api = await wget(p3.metadata.name, `http://${c.plan.kubernetesServiceIp}:443/`);
    expect(api.stderr).toMatch(/400 Bad Request/);

    // From the root namespace, pod addresses are routed to their nodes.
    const fromRoot = await run('/bin/busybox', ['wget', '-q', '-O', '-', `http://${p2.status.podIP}:8080/index.html`], { timeoutMs: 30_000 });
    expect(fromRoot.stdout.trim()).toBe(p2.metadata.name);
    // crictl sees each node's own pods only.
    const crictlPods = await c.crictl('node-3', ['pods', '-q', '--label', 'app=web']);
    expect(crictlPods.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('tears down exactly what it created: no namespaces, processes, mounts, cgroups or links left', async () => {
    const c = cluster!;
    const s = state!;
    const report = await c.destroy();
    cluster = undefined;
    process.stderr.write(`cluster down in ${(report.ms / 1000).toFixed(1)} s\n`);
    expect(report.leftovers).toEqual([]);
    const ns = await listNetns();
    expect(s.namespaces.filter((n) => ns.has(n))).toEqual([]);
    expect(s.processes.filter((p) => isSameProcess(p.pid, p.startTime)).map((p) => p.name)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(OPTS.dir);
    for (const cg of s.cgroups) expect(existsSync(`/sys/fs/cgroup/cpu/${cg}`)).toBe(false);
    for (const l of s.links) expect(existsSync(`/sys/class/net/${l}`)).toBe(false);
    expect(existsSync(OPTS.dir)).toBe(false);
    expect(s.namespaces).toHaveLength(5);
  });
});
