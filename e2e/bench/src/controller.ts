import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { ANN_ALLOCATED_FROM, applyStatus } from '@herald/controller';
import { parseIP } from '@herald/shared/ip';
import { PooledKubeConfig, RawJsonClient } from '@herald/shared/kube';
import { flag, percentile, pool, round } from './stats.js';

/**
 * `npm run bench -- controller [--services N] [--sequential M] [--trials T]`
 *
 * Against a fresh local control plane with N LoadBalancer Services, in one run:
 * - ceiling: a minimal client lists the N waiting Services and PUTs each one's status,
 *   16 in flight: the fastest the API server takes these writes here. The writes are
 *   the same as Herald's: the body is built by the controller's own `applyStatus`
 *   (ingress, the AddressAssigned condition, the pool annotation), sent as plain JSON
 *   over keep-alive TLS, the same transport the controller uses;
 * - allocate: Herald's controller started (process spawn) on the same N waiting
 *   Services, 16 workers (the same concurrency), until every IP is seen in a watch;
 * - T paired trials (default 3) of both, on the same Services, reset to "never
 *   allocated" before every run, each run on a compacted etcd and a restarted API
 *   server, the order alternating (ceiling first in odd trials, Herald first in even
 *   ones). Reported: the trial with the median ratio, all its figures together. On
 *   this shared 2-core VM one run of either side varies by 15-25%, which a single
 *   pair cannot tell from a real difference;
 * - latency: M Services created one at a time, create call to IP seen in a watch;
 * - peak RSS of the controller processes (the kernel's VmHWM);
 * - restart: the controller restarted with every Service allocated, until its
 *   queue is empty, and how many IPs changed (target: none).
 * Timed runs are observed the same way: a label-selected watch started after the
 * reset, resumed from its last resourceVersion if the server ends it. The API server's
 * periodic etcd compaction (every 5 minutes) is off, so that it cannot land in one run
 * and not the other.
 */

const CONTROLLER_MAIN = fileURLToPath(new URL('../../../controller/dist/main.js', import.meta.url));
export const CLASS = 'bench.herald.io/lb';
export const NS = 'bench';
const WORKERS = 16; // the controller's default; the ceiling client uses the same

const log = (s: string): void => {
  process.stderr.write(`bench controller: ${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Peak resident set of a process in MiB, from the kernel's own high-water mark. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024, 1) : Number.NaN;
}

/** User + system CPU seconds a process has used (USER_HZ = 100 on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const ingressText = (s: V1Service): string => JSON.stringify(s.status?.loadBalancer?.ingress ?? []);

/** Watches Services with one label and records when each first shows an IP, and any IP change. */
export class IngressObserver {
  readonly seen = new Map<string, number>();
  readonly changes: string[] = [];
  private readonly last = new Map<string, string>();
  private readonly waiters = new Map<string, () => void>();
  private rv = '';
  private ac: AbortController | undefined;
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly selector: string,
  ) {}

  async start(): Promise<void> {
    await this.relist();
    await this.watch();
  }

  /** Resolves when `name` has an IP. */
  waitFor(name: string): Promise<void> {
    if (this.seen.has(name)) return Promise.resolve();
    return new Promise((r) => this.waiters.set(name, r));
  }

  stop(): void {
    this.stopped = true;
    this.ac?.abort();
  }

  private observe(s: V1Service): void {
    const name = s.metadata?.name ?? '';
    const now = ingressText(s);
    const before = this.last.get(name);
    if (before !== undefined && before !== '[]' && before !== now) this.changes.push(`${name}: ${before} -> ${now}`);
    this.last.set(name, now);
    if (now !== '[]' && !this.seen.has(name)) {
      this.seen.set(name, performance.now());
      this.waiters.get(name)?.();
      this.waiters.delete(name);
    }
  }

  private async relist(): Promise<void> {
    const list = await this.core.listNamespacedService({ namespace: NS, labelSelector: this.selector });
    for (const s of list.items) this.observe(s);
    this.rv = list.metadata?.resourceVersion ?? '';
  }

  private async watch(): Promise<void> {
    const onEvent = (phase: string, obj: V1Service & { metadata?: { resourceVersion?: string } }): void => {
      if (obj.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
      if (phase === 'ADDED' || phase === 'MODIFIED') this.observe(obj);
    };
    const onDone = (err: unknown): void => {
      if (this.stopped) return;
      const gone = (err as { code?: number; statusCode?: number } | null)?.statusCode === 410 || String(err).includes('410');
      void (gone ? this.relist() : Promise.resolve()).then(() => this.watch(), () => this.watch());
    };
    this.ac = await new Watch(this.kc).watch(`/api/v1/namespaces/${NS}/services`, { labelSelector: this.selector, resourceVersion: this.rv, allowWatchBookmarks: true }, onEvent, onDone);
  }
}

/** The API server's request counts by verb, resource and subresource (its own metrics). */
export async function apiRequests(raw: RawJsonClient): Promise<Map<string, number>> {
  const text = (await raw.request('GET', '/metrics')).text;
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${labels['verb'] ?? ''} ${labels['resource'] ?? ''}${labels['subresource'] ? `/${labels['subresource']}` : ''} ${labels['code'] ?? ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

/** What changed between two {@link apiRequests} readings, largest first, ignoring fewer than `min`. */
export function requestDelta(before: Map<string, number>, after: Map<string, number>, min = 5): Record<string, number> {
  const d = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v >= min);
  return Object.fromEntries(d.sort((a, b) => b[1] - a[1]));
}

export interface Ctx {
  readonly cp: ControlPlane;
  readonly kc: PooledKubeConfig;
  readonly core: CoreV1Api;
  readonly n: number;
  readonly apiPids: readonly number[];
  readonly nodeOptions: string;
}

export const apiCpu = (ctx: Ctx): number => ctx.apiPids.reduce((s, p) => s + cpuSeconds(p), 0);
/** etcd's share of {@link apiCpu} (the last of apiPids). */
const etcdCpu = (ctx: Ctx): number => cpuSeconds(ctx.apiPids[ctx.apiPids.length - 1] ?? 0);

export async function createServices(ctx: Ctx, label: string, count: number, cls: string): Promise<number> {
  const t0 = performance.now();
  await pool(Array.from({ length: count }, (_, i) => i), 32, async (i) => {
    await ctx.core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: `${label}-${i}`, labels: { bench: label } },
        // No NodePorts: the default range holds only 2,768 of them.
        spec: { type: 'LoadBalancer', loadBalancerClass: cls, allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }], selector: { app: label } },
      },
    });
  });
  return round(count / ((performance.now() - t0) / 1000), 1);
}

/** What one timed run cost, measured the same way for the ceiling and for Herald. */
interface Cost {
  readonly apiCpu: number;
  readonly etcdCpu: number;
  readonly requests: Record<string, number>;
}

/** Starts measuring API server, etcd and request counts; the returned function stops. */
async function measureCost(ctx: Ctx, raw: RawJsonClient): Promise<() => Promise<Cost>> {
  const req0 = await apiRequests(raw);
  const api0 = apiCpu(ctx);
  const etcd0 = etcdCpu(ctx);
  return async () => ({ apiCpu: apiCpu(ctx) - api0, etcdCpu: etcdCpu(ctx) - etcd0, requests: requestDelta(req0, await apiRequests(raw)) });
}

/**
 * Compacts etcd's history up to now and defragments its database, through etcd's
 * JSON gateway on the (loopback, test-only) client port. Run while the API server is down.
 */
async function compactEtcd(port: number): Promise<void> {
  const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const revision = ((await call('/v3/maintenance/status', {}))['header'] as { revision?: string } | undefined)?.revision;
  if (revision === undefined) throw new Error('etcd status has no revision');
  await call('/v3/kv/compaction', { revision, physical: true });
  await call('/v3/maintenance/defragment', {});
}

interface PlaneState {
  apiserver: { pid: number };
  etcd: { pid: number; port: number };
}
const planeState = (cp: ControlPlane): PlaneState => JSON.parse(readFileSync(join(cp.dir, 'control-plane.json'), 'utf8')) as PlaneState;

/**
 * The same starting point for every timed run: etcd compacted and defragmented, and a
 * new API server process whose watch cache holds the N Services and nothing of the
 * runs before. Without this each run was slower than the one before it (the third
 * ceiling run took 16.3 s against 10.9 s for the first, with 60% more API server CPU):
 * the history of earlier runs, in etcd and in the API server's memory, costs CPU.
 */
async function freshApiServer(ctx: Ctx, raw: RawJsonClient): Promise<Ctx> {
  raw.close();
  ctx.kc.closeIdle();
  await ctx.cp.restartApiServer(() => compactEtcd(planeState(ctx.cp).etcd.port));
  raw.close();
  ctx.kc.closeIdle();
  // Ready is not enough: a LIST served from the watch cache answers 429 until it is filled.
  for (let i = 0; ; i++) {
    try {
      await raw.request('GET', `/api/v1/namespaces/${NS}/services?limit=1&resourceVersion=0`);
      break;
    } catch (err) {
      if (i > 300) throw err;
      await sleep(100);
    }
  }
  const st = planeState(ctx.cp);
  return { ...ctx, apiPids: [st.apiserver.pid, st.etcd.pid] };
}

/**
 * Waits until the API server and etcd are idle (under 5% of a core over half a second),
 * at most 30 s. A restarted API server goes on working for seconds after it answers
 * (post-start hooks, the ClusterIP repair pass over every Service); that work must not
 * land in a timed run.
 */
async function quiesce(ctx: Ctx): Promise<void> {
  const deadline = performance.now() + 30_000;
  await sleep(1_000);
  while (performance.now() < deadline) {
    const c0 = apiCpu(ctx);
    await sleep(500);
    if (apiCpu(ctx) - c0 < 0.025) return;
  }
}

/** Makes every bench Service look never allocated again: no ingress, no condition, no pool annotation. */
async function resetServices(raw: RawJsonClient): Promise<void> {
  const list = await raw.list<V1Service>(`/api/v1/namespaces/${NS}/services`, { labelSelector: 'bench=herald' });
  await pool(list.items, 32, async (svc) => {
    const { [ANN_ALLOCATED_FROM]: _drop, ...annotations } = svc.metadata?.annotations ?? {};
    await raw.request('PUT', `/api/v1/namespaces/${NS}/services/${svc.metadata?.name ?? ''}/status`, { ...svc, metadata: { ...svc.metadata, annotations }, status: {} });
  });
}

/** The minimal client: list, then PUT status for each (Herald's body), WORKERS in flight. */
async function ceilingTrial(ctx: Ctx, raw: RawJsonClient): Promise<{ seconds: number; clientCpu: number; cost: Cost }> {
  const obs = new IngressObserver(ctx.kc, ctx.core, 'bench=herald');
  await obs.start();
  const stop = await measureCost(ctx, raw);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const list = await raw.list<V1Service>(`/api/v1/namespaces/${NS}/services`, { labelSelector: 'bench=herald' });
  await pool(list.items, WORKERS, async (svc, i) => {
    const text = `10.200.${(i >> 8) & 255}.${i & 255}`;
    const ip = parseIP(text);
    if (!ip) throw new Error('bad bench IP');
    const body = applyStatus(svc, { ips: [ip], pool: 'bench', condition: { status: 'True', reason: 'IPAllocated', message: `assigned ${text} from pool bench` } }, new Date());
    await raw.request('PUT', `/api/v1/namespaces/${NS}/services/${svc.metadata?.name ?? ''}/status`, body);
  });
  while (obs.seen.size < ctx.n) await sleep(10);
  const seconds = (Math.max(...obs.seen.values()) - t0) / 1000;
  // The bench process's own CPU: the ceiling client plus the observing watch.
  const own = process.cpuUsage(own0);
  const cost = await stop();
  obs.stop();
  return { seconds, clientCpu: (own.user + own.system) / 1e6, cost };
}

interface HeraldTrial {
  readonly seconds: number;
  readonly phases: Record<string, number>;
  readonly controllerCpu: number;
  readonly writes: Record<string, number>;
  readonly cost: Cost;
  readonly peakRssMiB: number;
}

/** Herald's controller started on N waiting Services, until every IP is seen; it is left running. */
async function heraldTrial(ctx: Ctx, raw: RawJsonClient, obs: IngressObserver): Promise<{ trial: HeraldTrial; controller: Running }> {
  const stop = await measureCost(ctx, raw);
  const a0 = performance.now();
  const controller = await startController(ctx);
  const names = new Set(Array.from({ length: ctx.n }, (_, i) => `herald-${i}`));
  const seen = (): number => [...names].filter((nm) => obs.seen.has(nm)).length;
  while (seen() < ctx.n) {
    if (controller.proc.exitCode !== null) throw new Error(`controller exited with ${controller.proc.exitCode}`);
    await sleep(20);
  }
  const times = [...names].map((nm) => obs.seen.get(nm) ?? Number.NaN);
  const syncedAt = await controller.synced;
  const trial: HeraldTrial = {
    seconds: (Math.max(...times) - a0) / 1000,
    phases: {
      spawnToCachesSyncedSeconds: round((syncedAt - a0) / 1000),
      cachesSyncedToFirstIPSeconds: round((Math.min(...times) - syncedAt) / 1000),
      firstToLastIPSeconds: round((Math.max(...times) - Math.min(...times)) / 1000),
    },
    controllerCpu: cpuSeconds(controller.proc.pid ?? 0),
    writes: controllerWrites(await metricsText(controller.metricsPort)),
    cost: await stop(),
    peakRssMiB: peakRssMiB(controller.proc.pid ?? 0),
  };
  return { trial, controller };
}

async function stopController(c: Running): Promise<void> {
  if (c.proc.exitCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.kill('SIGTERM');
  await exited;
}

export interface Running {
  readonly proc: ChildProcess;
  readonly metricsPort: number;
  readonly synced: Promise<number>;
}

export async function startController(ctx: Ctx): Promise<Running> {
  const metricsPort = await freePort();
  const extraNodeArgs = (process.env['BENCH_CONTROLLER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...extraNodeArgs, CONTROLLER_MAIN, '--namespace', NS, '--kubeconfig', ctx.cp.kubeconfigPath, '--lb-class', CLASS, '--metrics-addr', `127.0.0.1:${metricsPort}`, '--health-addr', '127.0.0.1:0', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: ctx.nodeOptions },
  });
  const synced = new Promise<number>((resolve) => {
    // Only the start-up line matters; per-allocation lines are read and dropped.
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      if (l.includes('"event":"cachesSynced"')) resolve(performance.now());
    });
  });
  return { proc, metricsPort, synced };
}

/** Status writes by outcome and Events dropped, from the controller's metrics (what the API server was asked to do). */
export function controllerWrites(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^herald_status_writes_total\{kind="Service",outcome="([a-zA-Z]+)"\} (\d+)/gm)) out[`serviceStatus_${m[1]}`] = Number(m[2]);
  for (const m of text.matchAll(/^herald_events_dropped_total\{reason="([a-zA-Z]+)"\} (\d+)/gm)) out[`eventsDropped_${m[1]}`] = Number(m[2]);
  return out;
}

export async function metricsText(port: number): Promise<string> {
  return fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
}

type CeilingResult = Awaited<ReturnType<typeof ceilingTrial>>;
interface Pair {
  readonly ceiling: CeilingResult;
  readonly herald: HeraldTrial;
}

/** What runs between the benchmark's phases. */
interface Live {
  ctx: Ctx;
  controller?: Running | undefined;
  obs?: IngressObserver | undefined;
}

/**
 * One timed run on reset Services, a fresh API server, and nothing else watching:
 * the ceiling client, or Herald's controller (left running, with its observer).
 */
async function timedRun(live: Live, raw: RawJsonClient, who: 'ceiling' | 'herald', label: string): Promise<CeilingResult | HeraldTrial> {
  if (live.controller) await stopController(live.controller);
  live.controller = undefined;
  // One observer at a time: a second watch on the same Services would tax whichever runs next.
  live.obs?.stop();
  live.obs = undefined;
  await resetServices(raw);
  live.ctx = await freshApiServer(live.ctx, raw);
  await quiesce(live.ctx);
  log(`${label}: ${who === 'ceiling' ? 'ceiling client' : "Herald's controller"}`);
  if (who === 'ceiling') return ceilingTrial(live.ctx, raw);
  live.obs = new IngressObserver(live.ctx.kc, live.ctx.core, 'bench in (herald,seq)');
  await live.obs.start();
  const r = await heraldTrial(live.ctx, raw, live.obs);
  live.controller = r.controller;
  return r.trial;
}

/**
 * T paired runs, the order alternating (ceiling first in odd trials). Ends with
 * Herald's controller running on its allocation (one more, untimed, run if needed).
 */
async function pairedTrials(live: Live, raw: RawJsonClient, trials: number): Promise<Pair[]> {
  const pairs: Pair[] = [];
  for (let t = 0; t < trials; t++) {
    const order: ('ceiling' | 'herald')[] = t % 2 === 1 ? ['herald', 'ceiling'] : ['ceiling', 'herald'];
    const got: Partial<Record<'ceiling' | 'herald', CeilingResult | HeraldTrial>> = {};
    for (const who of order) {
      got[who] = await timedRun(live, raw, who, `trial ${t + 1}/${trials}`);
      log(`  ${who}: ${round(got[who]?.seconds ?? Number.NaN)} s`);
    }
    pairs.push({ ceiling: got.ceiling as CeilingResult, herald: got.herald as HeraldTrial });
  }
  if (!live.controller) await timedRun(live, raw, 'herald', 'after the trials (untimed)');
  return pairs;
}

export async function benchController(argv: string[]): Promise<Record<string, unknown>> {
  const n = flag(argv, 'services', 10_000);
  const sequential = flag(argv, 'sequential', 300);
  const trials = Math.max(1, flag(argv, 'trials', 3));
  // The chart runs the controller with these V8 limits (values: controller.nodeOptions).
  const nodeOptions = process.env['BENCH_CONTROLLER_NODE_OPTIONS'] ?? '--max-old-space-size=160 --max-semi-space-size=4';
  const cp = await startControlPlane({ log, apiserverArgs: ['--etcd-compaction-interval=0'] });
  const kc = new PooledKubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const raw = new RawJsonClient(kc);
  const state = JSON.parse(readFileSync(join(cp.dir, 'control-plane.json'), 'utf8')) as { apiserver: { pid: number }; etcd: { pid: number } };
  let ctx: Ctx = { cp, kc, core, n, apiPids: [state.apiserver.pid, state.etcd.pid], nodeOptions };
  let controller: Running | undefined;
  let obs: IngressObserver | undefined;
  const live: Live = { ctx };
  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'herald.io', version: 'v1beta1', namespace: NS, plural: 'ipaddresspools',
      body: { apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench' }, spec: { addresses: ['10.128.0.0/15'] } },
    });
    log(`creating ${n} Services`);
    const createRate = await createServices(ctx, 'herald', n, CLASS);

    const pairs = await pairedTrials(live, raw, trials);
    ({ ctx, controller, obs } = live);
    if (!controller || !obs) throw new Error('no controller');
    const ratios = pairs.map((p) => p.ceiling.seconds / p.herald.seconds);
    // The trial with the median ratio (the lower middle one for an even count); all its figures are reported together.
    const mid = pairs.map((p, i) => ({ ...p, ratio: ratios[i] ?? 0 })).sort((a, b) => a.ratio - b.ratio)[Math.floor((pairs.length - 1) / 2)];
    if (!mid) throw new Error('no trials');

    // ---- one Service at a time ----
    log(`creating ${sequential} Services one at a time`);
    const latencies: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const name = `seq-${i}`;
      const got = obs.waitFor(name);
      const t0 = performance.now();
      await core.createNamespacedService({ namespace: NS, body: { metadata: { name, labels: { bench: 'seq' } }, spec: { type: 'LoadBalancer', loadBalancerClass: CLASS, allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] } } });
      await got;
      latencies.push((obs.seen.get(name) ?? Number.NaN) - t0);
    }
    const rss = Math.max(peakRssMiB(controller.proc.pid ?? 0), ...pairs.map((p) => p.herald.peakRssMiB));

    // ---- restart with every Service allocated ----
    const changesBefore = obs.changes.length;
    const before = new Map((await core.listNamespacedService({ namespace: NS })).items.map((s) => [s.metadata?.name ?? '', ingressText(s)]));
    await stopController(controller);
    log('restarting the controller');
    const r0 = performance.now();
    controller = await startController(ctx);
    let restartSeconds = Number.NaN;
    for (;;) {
      if (controller.proc.exitCode !== null) throw new Error(`controller exited with ${controller.proc.exitCode}`);
      const text = await metricsText(controller.metricsPort);
      const reconciled = [...text.matchAll(/herald_reconcile_duration_seconds_count\{kind="svc",result="[a-zA-Z]+"\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
      const depth = /herald_workqueue_depth (\d+)/.exec(text)?.[1];
      if (reconciled >= before.size && depth === '0') {
        restartSeconds = (performance.now() - r0) / 1000;
        break;
      }
      await sleep(25);
    }
    const after = (await core.listNamespacedService({ namespace: NS })).items;
    const changedInList = after.filter((s) => before.get(s.metadata?.name ?? '') !== ingressText(s)).length;
    const changedInWatch = obs.changes.length - changesBefore;

    const ceilingSeconds = mid.ceiling.seconds;
    const heraldSeconds = mid.herald.seconds;
    return {
      bench: 'controller',
      services: n,
      concurrency: WORKERS,
      allocate: { seconds: round(heraldSeconds), servicesPerSecond: round(n / heraldSeconds, 1), measuredFrom: 'controller process spawn to last IP seen in a watch; the median-ratio trial', ...mid.herald.phases },
      ceiling: { seconds: round(ceilingSeconds), servicesPerSecond: round(n / ceilingSeconds, 1), client: "list + PUT services/status with Herald's body (controller applyStatus), plain JSON over keep-alive TLS, same concurrency, same Services, same run; the median-ratio trial" },
      ratioToCeiling: round(mid.ratio, 3),
      ratioPerTrial: ratios.map((r) => round(r, 3)),
      trials: pairs.map((p) => ({
        ceilingSeconds: round(p.ceiling.seconds),
        heraldSeconds: round(p.herald.seconds),
        apiserverAndEtcdCpuCeiling: round(p.ceiling.cost.apiCpu),
        apiserverAndEtcdCpuHerald: round(p.herald.cost.apiCpu),
        ceilingClientCpu: round(p.ceiling.clientCpu),
        controllerCpu: round(p.herald.controllerCpu),
      })),
      order: 'trial 1: ceiling then Herald; trial 2: Herald then ceiling; and so on. Each run starts on reset Services',
      createToStatus: { samples: latencies.length, p50Ms: round(percentile(latencies, 50), 1), p99Ms: round(percentile(latencies, 99), 1), maxMs: round(Math.max(...latencies), 1) },
      cpuSeconds: {
        trial: 'the median-ratio trial',
        controller: round(mid.herald.controllerCpu),
        ceilingClientAndObserver: round(mid.ceiling.clientCpu),
        apiserverAndEtcdCeiling: round(mid.ceiling.cost.apiCpu),
        apiserverAndEtcdHerald: round(mid.herald.cost.apiCpu),
        etcdCeiling: round(mid.ceiling.cost.etcdCpu),
        etcdHerald: round(mid.herald.cost.etcdCpu),
      },
      controllerWritesDuringAllocate: mid.herald.writes,
      apiRequests: { ceiling: mid.ceiling.cost.requests, herald: mid.herald.cost.requests },
      peakRssMiB: rss,
      controllerNodeOptions: nodeOptions,
      restart: { services: before.size, secondsUntilReconciled: round(restartSeconds), ipChangesSeenInWatch: changedInWatch, ipChangesInFinalList: changedInList },
      apiServerCreateRate: createRate,
      targets: { ratioToCeiling: '>= 0.8', createToStatusP99Ms: '< 100', peakRssMiB: '<= 200', restartSeconds: '<= 15 with 0 changes' },
      machine: { cpus: cpus().length, node: process.version, kubernetes: KUBERNETES_VERSION },
    };
  } finally {
    obs?.stop();
    live.obs?.stop();
    raw.close();
    controller?.proc.kill('SIGKILL');
    live.controller?.proc.kill('SIGKILL');
    await cp.stop();
  }
}
