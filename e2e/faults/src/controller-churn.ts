/**
 * Fault 1: Services created while the controller is SIGKILLed and restarted every 2 s, and
 * the kube-apiserver restarted once in the middle. Runs against a control plane of its own
 * (the shared one must not see its API server go away).
 *
 * Afterwards: every Service holds exactly one IP per family from the pools; no IP is held by
 * two Services that may not share it (the test's own reading of the sharing rules); and no
 * Service's IPs ever changed once set, checked against a log of every ingress value a watch
 * (started before the first Service, relisting whenever the restart broke it) saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { GROUP, VERSION } from '@herald/shared/api';
import { PooledKubeConfig } from '@herald/shared/kube';
import { assignmentsPerInstance, CHURN_POOL, churnService, IngressLog, illegalSharing, statusIPs, wrongIPs } from './churn-model.js';
import { Checks, disposeLogs, errorText, now, report, round, silent, sleep, summary, type FaultReport, type Log, type Size } from './report.js';

const CONTROLLER = fileURLToPath(new URL('../../../controller/dist/main.js', import.meta.url));
const NS = 'faults-churn';
const LB_CLASS = 'faults.herald.io/churn';

export interface ChurnParams {
  readonly services: number;
  /** The controller is SIGKILLed this long after each start, and started again at once. */
  readonly killEveryMs: number;
  /** Concurrent create calls. */
  readonly createConcurrency: number;
  /** Creates are paced to at most this many per second, so they span many kill periods. */
  readonly createPerSecond: number;
  /** The API server restarts once this fraction of the Services exists. */
  readonly apiRestartAt: number;
  /** How long the API server stays down. */
  readonly apiDownMs: number;
  /** After the churn: how long a controller left running may take to settle everything. */
  readonly settleTimeoutMs: number;
}

export const CHURN_SIZES: Record<Size, ChurnParams> = {
  ci: { services: 300, killEveryMs: 2_000, createConcurrency: 8, createPerSecond: 20, apiRestartAt: 0.5, apiDownMs: 2_000, settleTimeoutMs: 40_000 },
  long: { services: 1_000, killEveryMs: 2_000, createConcurrency: 8, createPerSecond: 30, apiRestartAt: 0.5, apiDownMs: 3_000, settleTimeoutMs: 120_000 },
};

const apiCode = (err: unknown): number | undefined => (err as { code?: number }).code;

/** Creates a Service, retrying through outages; a 409 means an earlier attempt got through. */
async function createService(core: CoreV1Api, body: V1Service, deadline: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await core.createNamespacedService({ namespace: NS, body });
      return attempt;
    } catch (err) {
      if (apiCode(err) === 409) return attempt;
      if (Date.now() > deadline) throw new Error(`creating ${body.metadata?.name}: still failing after ${attempt} attempts: ${errorText(err)}`);
      await sleep(100);
    }
  }
}

/**
 * Lists, then watches Services in the namespace from the list's resourceVersion, feeding
 * every ingress value to the log. When the watch ends (the API server restart ends it, and
 * its watch cache then answers old versions with 410) it lists again and resumes.
 */
class ServiceWatch {
  readonly log = new IngressLog();
  /** Times the watch ended and was resumed by a relist. */
  breaks = 0;
  relistAttempts = 0;
  #abort: AbortController | undefined;
  #stopped = false;
  #restarting: Promise<void> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly progress: Log,
  ) {}

  async start(): Promise<void> {
    const list = await this.core.listNamespacedService({ namespace: NS });
    const at = now();
    for (const s of list.items) this.log.record(s.metadata?.name ?? '', statusIPs(s), at, 'relist');
    this.#abort = await new Watch(this.kc).watch(
      `/api/v1/namespaces/${NS}/services`,
      { resourceVersion: list.metadata?.resourceVersion ?? '', allowWatchBookmarks: true },
      (phase: string, obj: V1Service) => {
        if (phase === 'ADDED' || phase === 'MODIFIED') this.log.record(obj.metadata?.name ?? '', statusIPs(obj), now(), 'watch');
        else if (phase === 'ERROR') this.#restart();
      },
      () => this.#restart(),
    );
  }

  #restart(): void {
    if (this.#stopped || this.#restarting) return;
    this.#abort?.abort();
    this.breaks++;
    this.#restarting = (async () => {
      for (let attempt = 1; !this.#stopped; attempt++) {
        try {
          this.relistAttempts++;
          await this.start();
          return;
        } catch (err) {
          if (attempt === 1 || attempt % 20 === 0) this.progress(`watch: relist failed (${errorText(err)}); retrying`);
          await sleep(200);
        }
      }
    })().finally(() => {
      this.#restarting = undefined;
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}

/** The controller, SIGKILLed and started again on a fixed period until stopped. */
class ControllerChurn {
  kills = 0;
  /** When each controller process was started (epoch ms, as the watch log stamps events). */
  readonly spawnedAt: number[] = [];
  /** How long each took from spawn to `starting`. */
  readonly upMs: number[] = [];
  /** Processes that ended before their kill, with their exit code or signal. */
  readonly selfExits: string[] = [];
  #child: ChildProcess | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #killAll = (): void => {
    this.#child?.kill('SIGKILL');
  };

  constructor(
    private readonly kubeconfig: string,
    private readonly logFile: string,
  ) {
    process.on('exit', this.#killAll);
  }

  /** Starts a controller; `up` resolves when it logs `starting` (flags parsed, modules loaded) or exits. */
  spawn(): { child: ChildProcess; up: Promise<void> } {
    const args = [CONTROLLER, '--namespace', NS, '--kubeconfig', this.kubeconfig, '--lb-class', LB_CLASS, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--log-level', 'info'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const t = now();
    this.spawnedAt.push(t);
    this.#child = child;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    child.stderr?.pipe(log);
    const up = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      let seen: string | undefined = '';
      child.stdout?.on('data', (b: Buffer) => {
        log.write(b);
        if (seen === undefined) return;
        seen = (seen + b.toString()).slice(-4_096);
        if (seen.includes('"event":"starting"')) {
          seen = undefined;
          this.upMs.push(now() - t);
          resolve();
        }
      });
    });
    child.once('close', () => log.end());
    return { child, up };
  }

  /**
   * Runs the kill loop in the background: each controller is SIGKILLed `periodMs` after it is
   * up (on a loaded 2-core machine Node takes 0.5-2 s just to load the controller; counting
   * from the spawn would kill many before they could do anything), and started again at once.
   */
  start(periodMs: number): void {
    this.#loop = (async () => {
      while (!this.#stopped) {
        const { child, up } = this.spawn();
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        await Promise.race([up, sleep(10_000)]);
        const early = await Promise.race([sleep(periodMs).then(() => false), exited.then(() => true)]);
        if (early) {
          this.selfExits.push(String(child.exitCode ?? child.signalCode));
          await sleep(100);
          continue;
        }
        child.kill('SIGKILL');
        await exited;
        this.kills++;
      }
    })();
  }

  /** Ends the loop (after the current period's kill). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /** Stops the last controller gracefully (SIGTERM), SIGKILL after 10 s. */
  async stopLast(): Promise<number | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  dispose(): void {
    this.#killAll();
    process.off('exit', this.#killAll);
  }
}

async function listAll(core: CoreV1Api): Promise<V1Service[]> {
  return (await core.listNamespacedService({ namespace: NS })).items;
}

/**
 * Creates the Services with a few workers, paced; once `apiRestartAt` of them exist, restarts
 * the API server (down for `apiDownMs`) while the creates go on, retrying through the outage.
 */
async function createAll(cp: ControlPlane, core: CoreV1Api, p: ChurnParams, log: Log, measured: Record<string, unknown>): Promise<void> {
  const t0 = Date.now();
  // Bounded: twice the paced creation time, plus the API server's readiness budget.
  const deadline = t0 + (2 * 1000 * p.services) / p.createPerSecond + 90_000;
  let next = 0;
  // The next create's earliest start: the pace resumes after the outage instead of bursting.
  let slot = t0;
  let created = 0;
  let retries = 0;
  let apiRestart: Promise<void> | undefined;
  let apiError: unknown;
  const restartApi = async (): Promise<void> => {
    const t = Date.now();
    const atServices = created;
    log(`restarting kube-apiserver (${atServices} Services exist)`);
    await cp.restartApiServer(() => sleep(p.apiDownMs));
    measured['apiServerRestart'] = { atServices, downMs: p.apiDownMs, untilReadyMs: Date.now() - t };
    log(`kube-apiserver back after ${Date.now() - t} ms`);
  };
  const worker = async (): Promise<void> => {
    for (let i = next++; i < p.services; i = next++) {
      const at = Math.max(slot, Date.now());
      slot = at + 1000 / p.createPerSecond;
      if (at > Date.now()) await sleep(at - Date.now());
      retries += (await createService(core, churnService(i, LB_CLASS), deadline)) - 1;
      created++;
      if (apiRestart === undefined && created >= p.services * p.apiRestartAt) {
        apiRestart = restartApi().catch((err: unknown) => {
          apiError = err;
        });
      }
    }
  };
  await Promise.all(Array.from({ length: p.createConcurrency }, worker));
  await apiRestart;
  if (apiError !== undefined) throw new Error(`restarting kube-apiserver: ${errorText(apiError)}`);
  measured['createSeconds'] = round((Date.now() - t0) / 1000, 1);
  measured['createRetries'] = retries;
}

/**
 * With a controller that stays up: waits until every Service has its IPs (or the settle
 * timeout), then for 3 s without any ingress update, and returns the final Services.
 */
async function settle(core: CoreV1Api, watch: ServiceWatch, p: ChurnParams, log: Log, measured: Record<string, unknown>): Promise<V1Service[]> {
  const tSettle = Date.now();
  for (;;) {
    try {
      const services = await listAll(core);
      if (services.length === p.services && services.every((s) => wrongIPs(s) === undefined)) break;
    } catch (err) {
      log(`list: ${errorText(err)}`);
    }
    if (Date.now() - tSettle > p.settleTimeoutMs) break;
    await sleep(250);
  }
  measured['settleSeconds'] = round((Date.now() - tSettle) / 1000, 1);
  // Quiet: 3 s without any ingress update, so a late reshuffle would be caught.
  const quietUntil = Date.now() + 15_000;
  while (now() - watch.log.lastUpdateAt < 3_000 && Date.now() < quietUntil) await sleep(250);
  return listAll(core);
}

function checkFinal(services: readonly V1Service[], watch: ServiceWatch, churn: ControllerChurn, p: ChurnParams, checks: Checks, measured: Record<string, unknown>): void {
  const wrong = services.map((s) => [s.metadata?.name ?? '', wrongIPs(s)] as const).filter(([, w]) => w !== undefined);
  checks.add(`all ${p.services} Services exist`, services.length === p.services, services.length);
  checks.add('every Service holds exactly one IP per family, from the pool', wrong.length === 0, Object.fromEntries(wrong.slice(0, 20)));
  const bad = illegalSharing(services);
  checks.add('no IP is held by two Services that may not share it', Object.keys(bad).length === 0, bad);
  const shared = new Map<string, number>();
  for (const s of services) for (const ip of statusIPs(s)) shared.set(ip, (shared.get(ip) ?? 0) + 1);
  measured['sharedIPs'] = [...shared.values()].filter((n) => n > 1).length;
  measured['watch'] = { breaks: watch.breaks, relistAttempts: watch.relistAttempts, ingressUpdates: watch.log.updates, services: watch.log.services };
  checks.add("no Service's IPs changed once set (watch log)", watch.log.changes.length === 0, watch.log.changes.slice(0, 20));
  const mismatch = services.filter((s) => JSON.stringify(watch.log.first(s.metadata?.name ?? '') ?? null) !== JSON.stringify(statusIPs(s))).map((s) => s.metadata?.name);
  checks.add('every final status is the first IPs the watch saw', mismatch.length === 0, mismatch.slice(0, 20));
  checks.add(`the controller was SIGKILLed ${p.killEveryMs} ms after each start, again and again, while Services were created`, churn.kills >= 5, { kills: churn.kills, selfExits: churn.selfExits });
  const per = measured['assignmentsPerControllerProcess'] as number[];
  const killedWorking = per.slice(0, -1).filter((n) => n > 0).length;
  checks.add('kills landed while the controller was assigning IPs (at least 3 killed processes had assigned some)', killedWorking >= 3, per);
  checks.add('the last controller exits 0 on SIGTERM', measured['lastControllerExit'] === 0, measured['lastControllerExit']);
}

/** Runs fault 1 at `size` and reports; never leaves a process or folder behind. */
export async function runControllerChurn(size: Size, opts: { log?: Log; params?: Partial<ChurnParams> } = {}): Promise<FaultReport> {
  const p: ChurnParams = { ...CHURN_SIZES[size], ...opts.params };
  const log = opts.log ?? silent;
  const started = Date.now();
  const checks = new Checks();
  const measured: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'herald-faults-churn-'));
  const logFile = join(dir, 'controller.log');
  let cp: ControlPlane | undefined;
  let watch: ServiceWatch | undefined;
  let churn: ControllerChurn | undefined;
  try {
    cp = await startControlPlane({ log: (l) => log(`control plane: ${l}`), handleSignals: false });
    const kc = new PooledKubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'ipaddresspools', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool', metadata: { name: 'churn' }, spec: { addresses: [...CHURN_POOL] } } });
    watch = new ServiceWatch(kc, core, log);
    await watch.start();
    churn = new ControllerChurn(cp.kubeconfigPath, logFile);
    churn.start(p.killEveryMs);
    log(`creating ${p.services} Services; controller SIGKILLed every ${p.killEveryMs} ms`);
    await createAll(cp, core, p, log, measured);
    await churn.stop();
    measured['controllerKills'] = churn.kills;
    measured['controllerStartToUpMs'] = summary(churn.upMs);
    measured['controllerSelfExits'] = churn.selfExits;
    log(`created in ${String(measured['createSeconds'])} s; ${churn.kills} controller kills; a controller left running now`);
    churn.spawn();
    const services = await settle(core, watch, p, log, measured);
    measured['lastControllerExit'] = await churn.stopLast();
    measured['assignmentsPerControllerProcess'] = assignmentsPerInstance(churn.spawnedAt, watch.log.assignedAt);
    watch.stop();
    checkFinal(services, watch, churn, p, checks, measured);
    if (checks.failed.length > 0) measured['controllerLogTail'] = tail(logFile);
  } catch (err) {
    checks.add('the fault ran to completion', false, errorText(err));
    measured['controllerLogTail'] = tail(logFile);
  } finally {
    watch?.stop();
    await churn?.stop();
    await churn?.stopLast();
    churn?.dispose();
    await cp?.stop();
    disposeLogs(dir, checks, measured);
  }
  return report('controller-churn', size, started, { ...p }, measured, checks);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
