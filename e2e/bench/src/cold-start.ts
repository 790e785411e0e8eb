import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { PooledKubeConfig } from '@herald/shared/kube';
import { CLASS, IngressObserver, NS, apiCpu, cpuSeconds, createServices, ingressText, metricsText, peakRssMiB, startController, type Ctx, type Running } from './controller.js';
import { flag, percentile, round } from './stats.js';
import { guardTeardown } from './teardown.js';

/**
 * `npm run bench -- cold-start [--services N] [--lists L]`
 *
 * A controller cold start on a cluster whose N Services (default 10,000) already hold IPs.
 * On a fresh local control plane: N Services are created and a first controller allocates
 * them all (untimed preparation, as a previous controller would have), then stops. Then, timed:
 * - ceiling: a bare client process (node with the controller's V8 flags, @kubernetes/client-node)
 *   LISTs the same Services in one unpaged call, L times (default 3), timed from spawn to the
 *   count printed: the least a new process needs to read what the controller must read before
 *   it can decide anything (also the same LIST from the warm bench process, for reference);
 * - cold start: a new controller process, from spawn to its caches synced (its log line) to
 *   fully reconciled (every Service reconciled once and its queue empty, read from its
 *   metrics every 25 ms, as the controller bench's restart phase does);
 * - IP changes: any ingress change seen in a watch during the cold start, and the final list
 *   against the one taken before (target: none);
 * - peak RSS (VmHWM) and CPU seconds of the new controller, API server + etcd CPU.
 */

const TARGETS = { coldStartSeconds: 15, ipChanges: 0, peakRssMiB: 200 } as const;
const POLL_MS = 25;
const PREPARE_TIMEOUT_MS = 30 * 60_000;
const COLD_TIMEOUT_MS = 10 * 60_000;

const log = (s: string): void => {
  process.stderr.write(`bench cold-start: ${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sum of the controller's Service reconcile counts and its queue depth, from /metrics text. */
export function reconcileProgress(text: string): { reconciled: number; depth: number | undefined } {
  const reconciled = [...text.matchAll(/herald_reconcile_duration_seconds_count\{kind="svc",result="[a-zA-Z]+"\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  const d = /^herald_workqueue_depth (\d+)$/m.exec(text)?.[1];
  return { reconciled, depth: d === undefined ? undefined : Number(d) };
}

async function stopController(c: Running): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.kill('SIGTERM');
  await exited;
}

/** Where the list script resolves its imports from (this workspace: its node_modules reach every package). */
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const LIST_SCRIPT = `
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '@herald/shared/kube';
const kc = loadKubeConfig(process.argv[1]);
const list = await kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces({});
process.stdout.write(JSON.stringify({ items: list.items.length }) + '\\n');
`;

/**
 * The ceiling as a process: a new Node process with the controller's V8 flags loads the
 * Kubernetes client, reads the kubeconfig the way the controller does, lists every Service in
 * one unpaged call and prints the count. Timed from spawn to that line, as the controller's
 * start is timed from spawn.
 */
async function timeListProcess(kubeconfigPath: string, nodeOptions: string): Promise<{ seconds: number; items: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', LIST_SCRIPT, kubeconfigPath], { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: nodeOptions } });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve({ seconds: (performance.now() - t0) / 1000, items: (JSON.parse(out) as { items: number }).items });
    });
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`list process exited with ${code}: ${err.slice(-1000)}`));
    });
  });
}

/** A client with its own connection, in this (warm) process, lists every Service, unpaged. */
async function timeList(kubeconfigPath: string): Promise<{ seconds: number; items: number }> {
  const kc = new PooledKubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const t0 = performance.now();
  const list = await core.listServiceForAllNamespaces({});
  return { seconds: (performance.now() - t0) / 1000, items: list.items.length };
}

/** Creates N Services and lets a first controller allocate them; returns the time it took. */
async function prepare(ctx: Ctx): Promise<{ createRate: number; allocateSeconds: number }> {
  log(`creating ${ctx.n} Services`);
  const createRate = await createServices(ctx, 'cold', ctx.n, CLASS);
  const obs = new IngressObserver(ctx.kc, ctx.core, 'bench=cold');
  await obs.start();
  log('a first controller allocates them (untimed preparation)');
  const t0 = performance.now();
  const c = await startController(ctx);
  try {
    let last = 0;
    while (obs.seen.size < ctx.n) {
      if (c.proc.exitCode !== null) throw new Error(`preparing controller exited with ${c.proc.exitCode}`);
      if (performance.now() - t0 > PREPARE_TIMEOUT_MS) throw new Error(`only ${obs.seen.size}/${ctx.n} Services got an IP in ${PREPARE_TIMEOUT_MS / 1000} s`);
      if (performance.now() - last > 10_000) {
        log(`  ${obs.seen.size}/${ctx.n} allocated`);
        last = performance.now();
      }
      await sleep(50);
    }
  } finally {
    obs.stop();
    await stopController(c);
  }
  return { createRate, allocateSeconds: (performance.now() - t0) / 1000 };
}

interface ColdResult {
  readonly spawnToCachesSynced: number;
  readonly cachesSyncedToReconciled: number;
  readonly total: number;
  readonly reconciled: number;
  readonly controllerCpu: number;
  readonly apiCpu: number;
  readonly peakRssMiB: number;
}

async function coldStart(ctx: Ctx, services: number): Promise<{ r: ColdResult; running: Running }> {
  const cpu0 = apiCpu(ctx);
  const t0 = performance.now();
  const running = await startController(ctx);
  let syncedAt: number | undefined;
  void running.synced.then((t) => (syncedAt = t));
  for (;;) {
    if (running.proc.exitCode !== null) throw new Error(`controller exited with ${running.proc.exitCode}`);
    if (performance.now() - t0 > COLD_TIMEOUT_MS) throw new Error(`controller not reconciled after ${COLD_TIMEOUT_MS / 1000} s`);
    const p = reconcileProgress(await metricsText(running.metricsPort));
    if (p.reconciled >= services && p.depth === 0) {
      const t1 = performance.now();
      const synced = syncedAt ?? (await running.synced);
      const pid = running.proc.pid ?? 0;
      return {
        running,
        r: {
          spawnToCachesSynced: (synced - t0) / 1000,
          cachesSyncedToReconciled: (t1 - synced) / 1000,
          total: (t1 - t0) / 1000,
          reconciled: p.reconciled,
          controllerCpu: cpuSeconds(pid),
          apiCpu: apiCpu(ctx) - cpu0,
          peakRssMiB: peakRssMiB(pid),
        },
      };
    }
    await sleep(POLL_MS);
  }
}

export async function benchColdStart(argv: string[]): Promise<Record<string, unknown>> {
  const n = flag(argv, 'services', 10_000);
  const lists = flag(argv, 'lists', 3);
  const nodeOptions = process.env['BENCH_CONTROLLER_NODE_OPTIONS'] ?? '--max-old-space-size=160 --max-semi-space-size=4';
  const started = performance.now();
  let cp: ControlPlane | undefined;
  let running: Running | undefined;
  let obs: IngressObserver | undefined;
  const guard = guardTeardown(log, async () => {
    obs?.stop();
    running?.proc.kill('SIGKILL');
    await cp?.stop();
  });
  try {
    cp = await startControlPlane({ log, handleSignals: false });
    const kc = new PooledKubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const state = JSON.parse(readFileSync(join(cp.dir, 'control-plane.json'), 'utf8')) as { apiserver: { pid: number }; etcd: { pid: number } };
    const ctx: Ctx = { cp, kc, core, n, apiPids: [state.apiserver.pid, state.etcd.pid], nodeOptions };
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'herald.io', version: 'v1beta1', namespace: NS, plural: 'ipaddresspools',
      body: { apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench' }, spec: { addresses: ['10.128.0.0/15'] } },
    });

    const prep = await prepare(ctx);
    const before = new Map((await core.listNamespacedService({ namespace: NS })).items.map((s) => [s.metadata?.name ?? '', ingressText(s)]));
    const unallocated = [...before.values()].filter((v) => v === '[]').length;
    if (unallocated > 0) throw new Error(`${unallocated} Services have no IP after preparation`);

    log(`ceiling: a bare client process lists the ${n} Services, ${lists} times`);
    const listRuns: { seconds: number; items: number }[] = [];
    const processRuns: { seconds: number; items: number }[] = [];
    for (let i = 0; i < lists; i++) {
      processRuns.push(await timeListProcess(cp.kubeconfigPath, nodeOptions));
      listRuns.push(await timeList(cp.kubeconfigPath));
    }
    const listSeconds = processRuns.map((l) => l.seconds);
    const warmSeconds = listRuns.map((l) => l.seconds);

    obs = new IngressObserver(kc, core, 'bench=cold');
    await obs.start();
    log('cold start: a new controller on the allocated Services');
    const cold = await coldStart(ctx, before.size);
    running = cold.running;
    const r = cold.r;
    // Late writes would show up just after "reconciled": give them a moment to reach the watch.
    await sleep(1_000);
    const after = (await core.listNamespacedService({ namespace: NS })).items;
    const changedInList = after.filter((s) => before.get(s.metadata?.name ?? '') !== ingressText(s)).length;
    const changes = obs.changes.length + changedInList;
    obs.stop();
    const listP50 = percentile(listSeconds, 50);
    log(`cold start ${round(r.total)} s (caches synced ${round(r.spawnToCachesSynced)} s), list ${round(listP50, 3)} s, ${changes} IP changes`);

    return {
      bench: 'cold-start',
      services: n,
      coldStart: {
        seconds: round(r.total),
        spawnToCachesSyncedSeconds: round(r.spawnToCachesSynced),
        cachesSyncedToReconciledSeconds: round(r.cachesSyncedToReconciled),
        servicesReconciled: r.reconciled,
        reconciledPerSecond: round(r.reconciled / Math.max(r.cachesSyncedToReconciled, 1e-3), 1),
        measuredFrom: 'controller process spawn to its caches synced (its cachesSynced log line) to fully reconciled: every Service reconciled at least once and the work queue empty (its /metrics, polled every 25 ms)',
      },
      ipChanges: { total: changes, seenInWatch: obs.changes.length, inFinalList: changedInList, examples: obs.changes.slice(0, 5) },
      peakRssMiB: r.peakRssMiB,
      cpuSeconds: { controller: round(r.controllerCpu), apiserverAndEtcd: round(r.apiCpu) },
      ceiling: {
        listSecondsP50: round(listP50, 3),
        listSeconds: listSeconds.map((s) => round(s, 3)),
        items: processRuns[0]?.items ?? 0,
        client: "a bare client process: node with the controller's V8 flags, @kubernetes/client-node and the controller's kubeconfig loader, one unpaged LIST of Services in all namespaces (the controller lists in pages of 500); timed from spawn to the count printed; same run, same control plane",
        warmListSecondsP50: round(percentile(warmSeconds, 50), 3),
        warmList: 'the same LIST from the already running bench process over a new connection: the API server and the client without process start-up',
      },
      ratioToCeiling: round(listP50 / r.total, 4),
      coldStartOverList: round(r.total / listP50, 1),
      preparation: { createRate: prep.createRate, firstAllocationSeconds: round(prep.allocateSeconds) },
      controllerNodeOptions: nodeOptions,
      targets: { coldStartSeconds: `<= ${TARGETS.coldStartSeconds}`, ipChanges: TARGETS.ipChanges, peakRssMiB: `<= ${TARGETS.peakRssMiB}` },
      meetsTargets: { coldStart: r.total <= TARGETS.coldStartSeconds, ipChanges: changes === TARGETS.ipChanges, peakRss: r.peakRssMiB <= TARGETS.peakRssMiB },
      notes: ['ratioToCeiling = list time / cold start time (1.0 would mean starting costs no more than reading the Services once)', 'the bench keeps a watch on the Services open during the cold start, to see transient IP changes'],
      durationSeconds: round((performance.now() - started) / 1000, 1),
      machine: { cpus: cpus().length, node: process.version, kubernetes: KUBERNETES_VERSION },
    };
  } finally {
    await guard.finish();
  }
}
