import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { PooledKubeConfig } from '@herald/shared/kube';
import { flag, percentile, pool, round } from './stats.js';

/**
 * `npm run bench -- controller [--services N] [--sequential M]`
 *
 * Against a fresh local control plane, in one run:
 * - ceiling: a minimal client lists N waiting Services and PUTs each one's status
 *   with an IP, 16 in flight: the fastest the API server takes these writes here;
 * - allocate: Herald's controller started on N waiting Services (16 workers, the
 *   same concurrency) until every IP is seen in a watch; ratio to the ceiling;
 * - latency: M Services created one at a time, create call to IP seen in a watch;
 * - peak RSS of the controller process (the kernel's VmHWM);
 * - restart: the controller restarted with every Service allocated, until its
 *   queue is empty, and how many IPs changed (target: none).
 * Both timed runs are observed the same way: a label-selected watch started after
 * the Services exist, resumed from its last resourceVersion if the server ends it.
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

export interface Ctx {
  readonly cp: ControlPlane;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly n: number;
  readonly apiPids: readonly number[];
  readonly nodeOptions: string;
}

export const apiCpu = (ctx: Ctx): number => ctx.apiPids.reduce((s, p) => s + cpuSeconds(p), 0);

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

/** The minimal client: list, then PUT status for each, WORKERS in flight. */
async function ceiling(ctx: Ctx): Promise<{ seconds: number; apiCpu: number; createRate: number }> {
  log(`creating ${ctx.n} Services for the ceiling client`);
  const createRate = await createServices(ctx, 'ceil', ctx.n, 'ceiling.bench/none');
  const obs = new IngressObserver(ctx.kc, ctx.core, 'bench=ceil');
  await obs.start();
  log('ceiling client: list + PUT status for each');
  const cpu0 = apiCpu(ctx);
  const t0 = performance.now();
  const list = await ctx.core.listNamespacedService({ namespace: NS, labelSelector: 'bench=ceil' });
  await pool(list.items, WORKERS, async (svc, i) => {
    const ip = `10.200.${(i >> 8) & 255}.${i & 255}`;
    await ctx.core.replaceNamespacedServiceStatus({ name: svc.metadata?.name ?? '', namespace: NS, body: { ...svc, status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } } });
  });
  while (obs.seen.size < ctx.n) await sleep(10);
  const seconds = (Math.max(...obs.seen.values()) - t0) / 1000;
  const cpu = apiCpu(ctx) - cpu0;
  obs.stop();
  // The ceiling's Services go, so Herald runs in a cluster of N LoadBalancer Services.
  log(`deleting the ceiling's ${ctx.n} Services`);
  await pool(list.items, 32, async (svc) => {
    await ctx.core.deleteNamespacedService({ name: svc.metadata?.name ?? '', namespace: NS });
  });
  return { seconds, apiCpu: cpu, createRate };
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

export async function metricsText(port: number): Promise<string> {
  return fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
}

export async function benchController(argv: string[]): Promise<Record<string, unknown>> {
  const n = flag(argv, 'services', 10_000);
  const sequential = flag(argv, 'sequential', 300);
  // The chart runs the controller with these V8 limits (values: controller.nodeOptions).
  const nodeOptions = process.env['BENCH_CONTROLLER_NODE_OPTIONS'] ?? '--max-old-space-size=160 --max-semi-space-size=4';
  const cp = await startControlPlane({ log });
  const kc = new PooledKubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const state = JSON.parse(readFileSync(join(cp.dir, 'control-plane.json'), 'utf8')) as { apiserver: { pid: number }; etcd: { pid: number } };
  const ctx: Ctx = { cp, kc, core, n, apiPids: [state.apiserver.pid, state.etcd.pid], nodeOptions };
  let controller: Running | undefined;
  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'herald.io', version: 'v1beta1', namespace: NS, plural: 'ipaddresspools',
      body: { apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench' }, spec: { addresses: ['10.128.0.0/15'] } },
    });

    const ceil = await ceiling(ctx);

    // ---- Herald: the controller started on N waiting Services ----
    log(`creating ${n} Services for Herald`);
    await createServices(ctx, 'herald', n, CLASS);
    const obs = new IngressObserver(kc, core, 'bench in (herald,seq)');
    await obs.start();
    log('starting the controller');
    const cpu0 = apiCpu(ctx);
    const a0 = performance.now();
    controller = await startController(ctx);
    while (obs.seen.size < n) {
      if (controller.proc.exitCode !== null) throw new Error(`controller exited with ${controller.proc.exitCode}`);
      await sleep(10);
    }
    const times = [...obs.seen.values()];
    const allocateSeconds = (Math.max(...times) - a0) / 1000;
    const syncedAt = await controller.synced;
    const phases = {
      spawnToCachesSyncedSeconds: round((syncedAt - a0) / 1000),
      cachesSyncedToFirstIPSeconds: round((Math.min(...times) - syncedAt) / 1000),
      firstToLastIPSeconds: round((Math.max(...times) - Math.min(...times)) / 1000),
    };
    const cpu = { controller: round(cpuSeconds(controller.proc.pid ?? 0)), apiserverAndEtcdCeiling: round(ceil.apiCpu), apiserverAndEtcdHerald: round(apiCpu(ctx) - cpu0) };

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
    const rss = peakRssMiB(controller.proc.pid ?? 0);

    // ---- restart with every Service allocated ----
    const before = new Map((await core.listNamespacedService({ namespace: NS })).items.map((s) => [s.metadata?.name ?? '', ingressText(s)]));
    const exited = new Promise<void>((r) => controller?.proc.once('exit', () => r()));
    controller.proc.kill('SIGTERM');
    await exited;
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
    obs.stop();

    const ceilingRate = n / ceil.seconds;
    const heraldRate = n / allocateSeconds;
    return {
      bench: 'controller',
      services: n,
      concurrency: WORKERS,
      allocate: { seconds: round(allocateSeconds), servicesPerSecond: round(heraldRate, 1), measuredFrom: 'controller process spawn to last IP seen in a watch', ...phases },
      ceiling: { seconds: round(ceil.seconds), servicesPerSecond: round(ceilingRate, 1), client: 'list + PUT services/status, @kubernetes/client-node with pooled TLS, same concurrency, same run' },
      ratioToCeiling: round(heraldRate / ceilingRate, 3),
      createToStatus: { samples: latencies.length, p50Ms: round(percentile(latencies, 50), 1), p99Ms: round(percentile(latencies, 99), 1), maxMs: round(Math.max(...latencies), 1) },
      cpuSeconds: cpu,
      peakRssMiB: rss,
      controllerNodeOptions: nodeOptions,
      restart: { services: before.size, secondsUntilReconciled: round(restartSeconds), ipChangesSeenInWatch: obs.changes.length, ipChangesInFinalList: changedInList },
      apiServerCreateRate: ceil.createRate,
      targets: { ratioToCeiling: '>= 0.8', createToStatusP99Ms: '< 100', peakRssMiB: '<= 200', restartSeconds: '<= 15 with 0 changes' },
      machine: { cpus: cpus().length, node: process.version, kubernetes: KUBERNETES_VERSION },
    };
  } finally {
    controller?.proc.kill('SIGKILL');
    await cp.stop();
  }
}
