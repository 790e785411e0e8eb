import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiextensionsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { eventually, testKubeconfigPath } from '@herald/e2e-harness';
import { GROUP, VERSION } from '@herald/shared/api';
import type { Explanation } from './explain.js';
import type { StatusReport } from './status.js';

/**
 * The herald binary, spawned as users run it, against the local kube-apiserver. IPs come
 * from the real controller binary. Speakers need network namespaces, so this file writes
 * what they would (Leases, ServiceL2Status, ServiceBGPStatus, BGPSessionState) itself; the
 * speaker's real path is covered by its own e2e suite. No controller-manager runs, so the
 * EndpointSlices are written here too.
 */

const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const CONTROLLER = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const id = randomBytes(3).toString('hex');
const NS = `cli-${id}`;
const APP = `cli-app-${id}`;
const NS2 = `cli-two-${id}`;
const CLASS = `test.herald.io/cli-${id}`;
const CLASS2 = `test.herald.io/cli-two-${id}`;
const GROUP_LABEL = 'cli-test.herald.io/group';
const node = (n: string): string => `${NS}-${n}`;
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';

const kc = new KubeConfig();
let core: CoreV1Api;
let custom: CustomObjectsApi;
let ext: ApiextensionsV1Api;
let controller: ChildProcess | undefined;
let tmp = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function herald(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, env: { PATH: process.env['PATH'] ?? '' }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** herald against the test cluster, Herald's namespace and class. */
const cli = (args: string[], input?: string): Run => herald([...args, '--kubeconfig', testKubeconfigPath(), '-n', NS, '--lb-class', CLASS], input);

const heraldObj = (kind: string, name: string, spec: Record<string, unknown>, ns = NS): Record<string, unknown> => ({ apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace: ns }, spec });

async function create(plural: string, body: Record<string, unknown>, status?: Record<string, unknown>, ns = NS): Promise<void> {
  const created = (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural, body })) as Record<string, unknown>;
  if (status !== undefined) await custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: ns, plural, name: (body['metadata'] as { name: string }).name, body: { ...created, status } });
}

/** What a speaker writes when it announces a Service over L2. */
async function l2Status(svc: string, nodeName: string, ns = NS): Promise<void> {
  const labels = { 'herald.io/node': nodeName, 'herald.io/service-name': svc, 'herald.io/service-namespace': APP };
  await create('servicel2statuses', { apiVersion: `${GROUP}/${VERSION}`, kind: 'ServiceL2Status', metadata: { name: `l2-${svc}-${nodeName}`, namespace: ns, labels }, spec: {} }, { node: nodeName, serviceName: svc, serviceNamespace: APP, interfaces: [{ name: 'eth0' }] }, ns);
}

async function lease(nodeName: string, renewedAgoMs: number, durationS: number): Promise<void> {
  await kc.makeApiClient(CoordinationV1Api).createNamespacedLease({
    namespace: NS,
    body: {
      metadata: { name: `herald-speaker-${nodeName}`, labels: { 'app.kubernetes.io/component': 'herald-speaker' }, annotations: { 'herald.io/node': nodeName } },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: durationS, renewTime: new V1MicroTime(Date.now() - renewedAgoMs) },
    },
  });
}

async function service(name: string, opts: { annotations?: Record<string, string>; local?: boolean; cls?: string } = {}): Promise<void> {
  await core.createNamespacedService({
    namespace: APP,
    body: {
      metadata: { name, annotations: opts.annotations ?? {} },
      spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, loadBalancerClass: opts.cls ?? CLASS, ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name }, ...(opts.local ? { externalTrafficPolicy: 'Local' } : {}) },
    },
  });
}

async function endpoints(svc: string, nodes: string[]): Promise<void> {
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace: APP,
    body: {
      addressType: 'IPv4',
      metadata: { name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
      endpoints: nodes.map((n, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: n, conditions: { ready: true } })),
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
}

const ips = async (name: string): Promise<string[]> => ((await core.readNamespacedService({ namespace: APP, name })).status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  ext = kc.makeApiClient(ApiextensionsV1Api);
  tmp = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  for (const ns of [NS, APP, NS2]) await core.createNamespace({ body: { metadata: { name: ns } } });
  // Four nodes of this file (other files' nodes carry another group value): c is excluded
  // by label, d's speaker Lease has expired.
  for (const n of ['a', 'b', 'c', 'd']) {
    await core.createNode({ body: { metadata: { name: node(n), labels: { [GROUP_LABEL]: NS, ...(n === 'c' ? { [EXCLUDE]: '' } : {}) } } } });
  }
  await lease(node('a'), 0, 3600);
  await lease(node('b'), 0, 3600);
  await lease(node('c'), 0, 3600);
  await lease(node('d'), 3_600_000, 10);
  await create('ipaddresspools', heraldObj('IPAddressPool', 'l2pool', { addresses: ['10.77.0.0/31'] }));
  await create('ipaddresspools', heraldObj('IPAddressPool', 'bgppool', { addresses: ['10.78.0.0/32'], autoAssign: false }));
  await create('ipaddresspools', heraldObj('IPAddressPool', 'team', { addresses: ['10.79.0.0/30'], serviceAllocation: { namespaces: ['nobody'] } }));
  await create('l2advertisements', heraldObj('L2Advertisement', 'l2', { ipAddressPools: ['l2pool'], nodeSelectors: [{ matchLabels: { [GROUP_LABEL]: NS } }] }));
  await create('bgpadvertisements', heraldObj('BGPAdvertisement', 'bgp', { ipAddressPools: ['bgppool'] }));
  await create('bgppeers', heraldObj('BGPPeer', 'r1', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', nodeSelectors: [{ matchLabels: { [GROUP_LABEL]: NS } }] }));

  controller = spawn(process.execPath, [CONTROLLER, '--namespace', NS, '--kubeconfig', testKubeconfigPath(), '--lb-class', CLASS, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--log-level', 'warn'], {
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await service('web');
  await eventually('web to get an IP', async () => (await ips('web')).length === 1);
  await service('second');
  await eventually('second to get an IP', async () => (await ips('second')).length === 1);
  await service('routed', { annotations: { 'herald.io/address-pool': 'bgppool' }, local: true });
  await service('hungry');
  await eventually('routed to get an IP', async () => (await ips('routed')).length === 1);
  await eventually('hungry to be refused', async () => (await core.readNamespacedService({ namespace: APP, name: 'hungry' })).status?.conditions?.some((c) => c.reason === 'PoolExhausted'));
  await endpoints('web', [node('a'), node('b'), node('d')]);
  await endpoints('routed', [node('a')]);
  // What the speakers on a would write for routed: announced to r1, the session up; b's session is down.
  await create('servicebgpstatuses', { apiVersion: `${GROUP}/${VERSION}`, kind: 'ServiceBGPStatus', metadata: { name: 'bgp-routed-a', namespace: NS, labels: { 'herald.io/node': node('a'), 'herald.io/service-name': 'routed', 'herald.io/service-namespace': APP } }, spec: {} }, { node: node('a'), serviceName: 'routed', serviceNamespace: APP, peers: ['r1'] });
  const sessionMeta = (n: string): Record<string, unknown> => ({ name: `bgp-${n}-r1`, namespace: NS, labels: { 'herald.io/node': node(n), 'herald.io/peer': 'r1' } });
  await create('bgpsessionstates', { apiVersion: `${GROUP}/${VERSION}`, kind: 'BGPSessionState', metadata: sessionMeta('a'), spec: {} }, { node: node('a'), peer: '192.0.2.1', bgpStatus: 'Established', bfdStatus: 'N/A', establishedSince: new Date(Date.now() - 90_000).toISOString(), prefixesSent: 1 });
  await create('bgpsessionstates', { apiVersion: `${GROUP}/${VERSION}`, kind: 'BGPSessionState', metadata: sessionMeta('b'), spec: {} }, { node: node('b'), peer: '192.0.2.1', bgpStatus: 'Active', bfdStatus: 'N/A', prefixesSent: 0, lastError: 'dial 192.0.2.1:179: connection refused' });
}, 120_000);

afterAll(async () => {
  // First, so that nothing below (a hung delete, the hook's timeout) can leave it behind.
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  if (controller) {
    const exited = new Promise((r) => controller?.once('exit', r));
    controller.kill('SIGTERM');
    await exited;
  }
  for (const n of ['a', 'b', 'c', 'd']) await core.deleteNode({ name: node(n) }).catch(() => undefined);
  for (const ns of [APP, NS, NS2]) {
    const svcs = await core.listNamespacedService({ namespace: ns }).catch(() => ({ items: [] }));
    await Promise.all(svcs.items.map((s) => core.deleteNamespacedService({ namespace: ns, name: s.metadata?.name ?? '' }).catch(() => undefined)));
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
});

describe('herald: exit codes without a cluster', () => {
  it.each([
    [['bogus'], 'herald: unknown command "bogus"'],
    [['explain', 'web'], 'herald: expected NAMESPACE/SERVICE, got "web"'],
    [['status', '-o', 'wide'], 'herald: --output: expected table, json or yaml (got "wide")'],
    [['import-metallb'], 'herald: import-metallb needs exactly one of -f FILE (- for stdin) and --from-cluster'],
  ])('exits 2 on %j with a one-line reason', (args, line) => {
    const r = herald(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(line);
  });

  it('exits 0 on --help, and the help states the exit codes', () => {
    const r = herald(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
  });

  it('exits 3 when the API server cannot be reached or the kubeconfig is missing, 2 on an unknown context', () => {
    const cfg = parse(stringifyKubeconfig()) as { clusters: { cluster: { server: string } }[] };
    for (const c of cfg.clusters) c.cluster.server = 'https://127.0.0.1:1';
    const bad = join(tmp, 'unreachable.kubeconfig');
    writeFileSync(bad, stringify(cfg));
    const r = herald(['status', '--kubeconfig', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^herald: (read namespace herald-system|list [a-z.]+).*: .*(ECONNREFUSED|fetch failed|connect)/);
    expect(herald(['status', '--kubeconfig', join(tmp, 'nope')]).code).toBe(3);
    const ctx = herald(['status', '--kubeconfig', testKubeconfigPath(), '--context', 'nope']);
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toContain('herald: --context: no context "nope" in the kubeconfig');
  });
});

function stringifyKubeconfig(): string {
  return kc.exportConfig();
}

describe('herald explain', () => {
  it('names the elected L2 owner, why every other node does not announce, and exits 1 until a speaker reports it', async () => {
    const before = cli(['explain', `${APP}/web`, '-o', 'json']);
    expect({ code: before.code, stderr: before.stderr }).toEqual({ code: 1, stderr: '' });
    const e = JSON.parse(before.stdout) as Explanation;
    expect(e.summary).toBe(`${APP}/web has 10.77.0.0 (pool l2pool), but no node reports announcing it`);
    const a = e.announcements[0];
    const owner = a?.l2.owner ?? '';
    expect([node('a'), node('b')]).toContain(owner);
    const other = owner === node('a') ? node('b') : node('a');
    const mine = new Map((a?.l2.nodes ?? []).filter((n) => n.node.startsWith(NS)).map((n) => [n.node, n.reason]));
    expect(Object.fromEntries(mine)).toEqual({ [owner]: 'owner', [other]: 'eligible', [node('c')]: 'excludedByLabel', [node('d')]: 'speakerNotAlive' });
    expect(a?.bgp).toMatchObject({ reason: 'noBGPAdvertisement', detail: 'no BGPAdvertisement selects pool l2pool' });
    expect(e.allocation).toMatchObject({ outcome: 'holds', message: 'holds 10.77.0.0 from pool l2pool: its request is still met' });
    expect(e.condition).toMatchObject({ status: 'True', reason: 'IPAllocated' });

    await l2Status('web', owner);
    const after = cli(['explain', `${APP}/web`]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`Verdict:    ok: ${APP}/web has 10.77.0.0 (pool l2pool), announced over L2 by ${owner}`);
    expect(after.stdout).toContain('herald.io/AddressAssigned=True IPAllocated: assigned 10.77.0.0 from pool l2pool');
    expect(after.stdout).toMatch(new RegExp(`${node('d')} +no +speakerNotAlive +its speaker is not alive`));
    // The controller's Event, read through events.k8s.io with a field selector.
    expect(after.stdout).toMatch(/Normal +IPAllocated +herald\.io\/herald-controller +assigned 10\.77\.0\.0 from pool l2pool/);
  });

  it('says why each pool refused a Service that has no IP, and exits 1', () => {
    const r = cli(['explain', `${APP}/hungry`, '-o', 'yaml']);
    expect(r.code).toBe(1);
    const e = parse(r.stdout) as Explanation;
    expect(e.allocation.outcome).toBe('refused');
    expect(e.allocation.reason).toBe('PoolExhausted');
    expect(Object.fromEntries(e.allocation.pools.map((p) => [p.pool, p.verdict]))).toEqual({ bgppool: 'autoAssignOff', team: 'notAdmitted', l2pool: 'exhausted' });
    expect(e.condition).toMatchObject({ status: 'False', reason: 'PoolExhausted' });
    expect(e.events.map((x) => x.reason)).toContain('AllocationFailed');
    const text = cli(['explain', `${APP}/hungry`]).stdout;
    expect(text).toContain(`Verdict:    NOT OK: ${APP}/hungry has no IP: PoolExhausted: no free IPv4 address in the pools that admit this Service`);
    expect(text).toMatch(/team +notAdmitted +does not admit the Service: serviceAllocation\.namespaces does not include/);
  });

  it('gives BGP reasons per node and the session of the announcing node', () => {
    const r = cli(['explain', `${APP}/routed`, '-o', 'json']);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout) as Explanation;
    const mine = Object.fromEntries((e.announcements[0]?.bgp.nodes ?? []).filter((n) => n.node.startsWith(NS)).map((n) => [n.node, n.reason]));
    expect(mine).toEqual({ [node('a')]: 'announced', [node('b')]: 'noLocalEndpoint', [node('c')]: 'excludedByLabel', [node('d')]: 'noLocalEndpoint' });
    expect(e.reported.bgp).toEqual([{ node: node('a'), peers: ['r1'] }]);
    expect(e.sessions).toEqual([expect.objectContaining({ node: node('a'), peer: 'r1', address: '192.0.2.1', bgp: 'Established' })]);
    expect(e.announcements[0]?.l2).toMatchObject({ reason: 'noL2Advertisement' });
  });

  it('exits 3 for a Service or namespace that does not exist', () => {
    expect(cli(['explain', `${APP}/nope`])).toEqual({ code: 3, stdout: '', stderr: `herald: service ${APP}/nope not found\n` });
    const r = herald(['explain', `${APP}/web`, '--kubeconfig', testKubeconfigPath(), '-n', `missing-${id}`]);
    expect(r).toEqual({ code: 3, stdout: '', stderr: `herald: namespace missing-${id} not found: pass Herald's namespace with -n\n` });
  });
});

describe('herald status', () => {
  it('shows pools, Services and sessions, lists the problems and exits 1', () => {
    const r = cli(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/l2pool +True +2\/2 \(100%\) +- +10\.77\.0\.0\/31/);
    expect(r.stdout).toMatch(new RegExp(`${APP}/routed +10\\.78\\.0\\.0 +bgppool +BGP +${node('a')} +r1 +True IPAllocated`));
    expect(r.stdout).toMatch(new RegExp(`${node('b')} +r1 +192\\.0\\.2\\.1 +Active +N/A +<none> +0 +dial 192\\.0\\.2\\.1:179: connection refused`));
    expect(r.stdout).toContain(`- Service ${APP}/hungry has no IP: PoolExhausted:`);
    const report = parse(cli(['status', '-o', 'yaml']).stdout) as StatusReport & { healthy: boolean };
    expect(report.healthy).toBe(false);
    expect(report.services.map((s) => [s.service, s.mode])).toEqual([
      [`${APP}/hungry`, 'none'],
      [`${APP}/routed`, 'BGP'],
      [`${APP}/second`, 'none'],
      [`${APP}/web`, 'L2'],
    ]);
    expect(report.problems).toEqual([
      expect.stringMatching(`^Service ${APP}/hungry has no IP: PoolExhausted: `),
      `Service ${APP}/second has 10.77.0.1 but no node reports announcing it (run: herald explain ${APP}/second)`,
      `BGP session ${node('b')} -> r1 (192.0.2.1) is Active: dial 192.0.2.1:179: connection refused`,
    ]);
  });

  it('exits 0 for a healthy installation', async () => {
    // Another class, no controller: the Service's status is written here, as the controller would.
    await create('ipaddresspools', heraldObj('IPAddressPool', 'p', { addresses: ['10.80.0.0/30'] }, NS2), { assignedIPv4: 1, availableIPv4: 3 }, NS2);
    await service('manual', { cls: CLASS2 });
    const svc = await core.readNamespacedService({ namespace: APP, name: 'manual' });
    await core.replaceNamespacedServiceStatus({ namespace: APP, name: 'manual', body: { ...svc, status: { loadBalancer: { ingress: [{ ip: '10.80.0.0', ipMode: 'VIP' }] } } } });
    await l2Status('manual', node('a'), NS2);
    const r = herald(['status', '--kubeconfig', testKubeconfigPath(), '-n', NS2, '--lb-class', CLASS2]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${APP}/manual +10\\.80\\.0\\.0 +<none> +L2 +${node('a')}`));
    expect(r.stdout).toContain('PROBLEMS\nnone');
  });
});

const METALLB_YAML = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: imported, namespace: metallb-system}
spec:
  addresses: [10.90.0.0/24]
  serviceAllocation: {priority: 5, namespaces: [a]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: imported, namespace: metallb-system}
spec: {ipAddressPools: [imported], interfaces: [eth0]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: edge, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.9, holdTime: 90s, bfdProfile: fast}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 100, transmitInterval: 100}
---
apiVersion: metallb.io/v1beta1
kind: ServiceL2Status
metadata: {name: status, namespace: metallb-system}
`;

describe('herald import-metallb', () => {
  it('converts a file into herald.io objects the API server accepts, and exits 0', async () => {
    const file = join(tmp, 'metallb.yaml');
    writeFileSync(file, METALLB_YAML);
    const ns = `cli-import-${id}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    try {
      const r = herald(['import-metallb', '-f', file, '-n', ns]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('herald: note: metallb.io/v1beta1 ServiceL2Status metallb-system/status: status kind written by MetalLB: skipped');
      const objs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['IPAddressPool/imported', 'L2Advertisement/imported', 'BGPPeer/edge', 'BFDProfile/fast']);
      const plural: Record<string, string> = { IPAddressPool: 'ipaddresspools', L2Advertisement: 'l2advertisements', BGPPeer: 'bgppeers', BFDProfile: 'bfdprofiles' };
      // The generated CRDs (with their CEL rules) accept every object as written.
      for (const o of objs) await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: plural[o.kind] ?? '', body: o });
    } finally {
      await core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
  });

  it('reads stdin with -f -, and exits 1 when something cannot be converted exactly', () => {
    const lossy = 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: unnumbered}\nspec: {myASN: 64500, peerASN: 64501, interface: eth1}\n';
    const r = herald(['import-metallb', '-f', '-', '-o', 'json'], `${METALLB_YAML}---\n${lossy}`);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'List', items: expect.arrayContaining([expect.objectContaining({ kind: 'BGPPeer', metadata: expect.objectContaining({ name: 'edge' }) })]) });
    expect(r.stderr).toContain('herald: warning: metallb.io/v1beta2 BGPPeer unnumbered: spec.interface: Herald has no such field: dropped');
    expect(r.stderr).toContain('herald: error: metallb.io/v1beta2 BGPPeer unnumbered: spec.peerAddress:');
    expect(r.stderr).toContain('herald: converted 4 object(s) into namespace herald-system; 1 error(s), 1 warning(s), 1 note(s)');
    expect(herald(['import-metallb', '-f', join(tmp, 'missing.yaml')])).toMatchObject({ code: 3, stderr: `herald: -f ${join(tmp, 'missing.yaml')}: no such file\n` });
    expect(herald(['import-metallb', '-f', '-'], 'a: [').code).toBe(2);
  });

  describe('--from-cluster', () => {
    const crds = ['ipaddresspools', 'bgppeers', 'servicel2statuses'].map((p) => `${p}.metallb.io`);
    afterAll(async () => {
      for (const name of crds) await ext.deleteCustomResourceDefinition({ name }).catch(() => undefined);
    });

    it('exits 3 when the cluster has no metallb.io CRDs', () => {
      expect(cli(['import-metallb', '--from-cluster'])).toEqual({ code: 3, stdout: '', stderr: 'herald: no metallb.io CRDs in the cluster: is MetalLB installed? (or use -f FILE)\n' });
    });

    it("lists MetalLB's objects in every namespace and converts them", async () => {
      // Minimal MetalLB CRDs: the real ones' schemas do not matter to a reader.
      const crd = (kind: string, plural: string, version: string) => ({
        metadata: { name: `${plural}.metallb.io` },
        spec: {
          group: 'metallb.io',
          scope: 'Namespaced',
          names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
          versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      });
      await ext.createCustomResourceDefinition({ body: crd('IPAddressPool', 'ipaddresspools', 'v1beta1') });
      await ext.createCustomResourceDefinition({ body: crd('BGPPeer', 'bgppeers', 'v1beta2') });
      await ext.createCustomResourceDefinition({ body: crd('ServiceL2Status', 'servicel2statuses', 'v1beta1') });
      const mns = `metallb-${id}`;
      await core.createNamespace({ body: { metadata: { name: mns } } });
      try {
        const put = (plural: string, version: string, body: Record<string, unknown>) =>
          eventually(`create ${plural}.metallb.io`, async () => {
            await custom.createNamespacedCustomObject({ group: 'metallb.io', version, namespace: mns, plural, body });
            return true;
          });
        await put('ipaddresspools', 'v1beta1', { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'from-cluster' }, spec: { addresses: ['10.91.0.0/24'], avoidBuggyIPs: true } });
        await put('bgppeers', 'v1beta2', { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'edge' }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.9', passwordSecret: { name: 'md5', namespace: mns } } });
        const r = cli(['import-metallb', '--from-cluster']);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('converted 2 object(s)') });
        const objs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> });
        expect(objs.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
          ['IPAddressPool', 'from-cluster', NS],
          ['BGPPeer', 'edge', NS],
        ]);
        expect(objs[1]?.spec['passwordSecret']).toEqual({ name: 'md5', namespace: NS });
        expect(r.stderr).toContain(`herald: warning: metallb.io/v1beta2 BGPPeer ${mns}/edge: spec.passwordSecret: Herald reads Secrets only from its namespace: copy Secret ${mns}/md5 to ${NS}`);
        expect(r.stderr).toContain('herald: note: metallb.io/v1beta1 ServiceL2Status *: status kind written by MetalLB: not imported');
      } finally {
        await core.deleteNamespace({ name: mns }).catch(() => undefined);
      }
    });
  });
});
