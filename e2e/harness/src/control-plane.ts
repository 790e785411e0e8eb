import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { HarnessError } from './errors.js';
import { adminKubeconfig, createPki, type Pki } from './pki.js';
import { cmdline, freePort, isAlive, startDetached, tail, terminate } from './process.js';
import { AdminRest } from './rest.js';
import { resolveTools, type ControlPlaneTools } from './tools.js';

/** The CRDs generated from shared/'s schemas, as the chart ships them. */
export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../../charts/herald/crds', import.meta.url));

/**
 * Dual-stack Service CIDRs, so that RequireDualStack Services can be created.
 * The IPv6 range is a /112: kube-apiserver refuses IPv6 service ranges wider than /108.
 */
export const SERVICE_CIDRS = ['10.96.0.0/16', 'fd00:10:96::/112'] as const;

const STATE_FILE = 'control-plane.json';

interface State {
  readonly version: 1;
  readonly server: string;
  readonly etcd: { readonly pid: number; readonly port: number; readonly peerPort: number };
  readonly apiserver: { readonly pid: number; readonly port: number; readonly args?: readonly string[] };
  readonly toolsDir: string;
  /** Files and folders this control plane created in `dir`; `down` removes exactly these. */
  readonly created: readonly string[];
}

export interface ControlPlaneOptions {
  /** Folder for data, logs, certificates and the kubeconfig; a fresh temporary one by default. */
  dir?: string;
  /** Folder of CRD YAML to install; `null` installs none. Default: charts/herald/crds. */
  crdDir?: string | null;
  /** Build the binaries from Go modules when they are missing (default true). */
  build?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** How long to wait for /readyz and the CRDs (default 60 s). */
  readyTimeoutMs?: number;
  /**
   * Kill the processes when this Node process exits (default true). `control-plane up`
   * turns it off so the control plane outlives the command.
   */
  killOnExit?: boolean;
  /** With killOnExit: also kill them on SIGINT/SIGTERM and exit (default true). Off for callers that handle signals. */
  handleSignals?: boolean;
  /** More kube-apiserver flags, after the defaults (a later flag wins). Benchmarks use it. */
  apiserverArgs?: readonly string[];
}

export interface KubectlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running local control plane. */
export interface ControlPlane {
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly tools: ControlPlaneTools;
  /** Runs kubectl against this control plane (synchronously; for tests and the CLI). */
  kubectl(args: readonly string[], opts?: { input?: string }): KubectlResult;
  /**
   * Kills kube-apiserver only (etcd and its data stay), runs `whileDown` if given,
   * then starts it again on the same port and waits until it is ready: clients see
   * the API server go away and come back, as in an upgrade or a crash.
   */
  restartApiServer(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops the processes and removes what `start` created in `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readState(dir: string): State | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as State;
  } catch (err) {
    throw new HarnessError('BadState', `${file} is not readable JSON; remove it by hand`, { cause: err });
  }
}

function makeKubectl(tools: ControlPlaneTools, kubeconfigPath: string): ControlPlane['kubectl'] {
  return (args, opts) => {
    const r = spawnSync(tools.kubectl, ['--kubeconfig', kubeconfigPath, ...args], {
      encoding: 'utf8',
      input: opts?.input,
      maxBuffer: 256 * 1024 * 1024,
    });
    return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
  };
}

/** A process is ours only if its command line names our data folder: pids get reused. */
async function stopOwned(pid: number, dir: string): Promise<void> {
  const cmd = cmdline(pid);
  if (cmd === undefined || !cmd.includes(dir)) return;
  await terminate(pid);
}

/**
 * Stops the control plane whose state is in `dir` and removes what it created.
 * Returns false when nothing was running there (running `down` twice is harmless).
 */
export async function stopControlPlane(dir: string): Promise<boolean> {
  const abs = resolve(dir);
  const state = readState(abs);
  if (!state) return false;
  // API server first, so it does not log a storm of etcd errors on the way down.
  await stopOwned(state.apiserver.pid, abs);
  await stopOwned(state.etcd.pid, abs);
  for (const name of [...state.created, STATE_FILE]) rmSync(join(abs, name), { recursive: true, force: true });
  try {
    if (readdirSync(abs).length === 0) rmdirSync(abs);
  } catch {
    // The folder was not ours to remove, or is gone already.
  }
  return true;
}

/** Attaches to a control plane started earlier (e.g. by `control-plane up`). */
export function attachControlPlane(dir: string, tools?: ControlPlaneTools): ControlPlane | undefined {
  const abs = resolve(dir);
  const state = readState(abs);
  if (!state) return undefined;
  const t = tools ?? { dir: state.toolsDir, etcd: join(state.toolsDir, 'etcd'), kubeApiserver: join(state.toolsDir, 'kube-apiserver'), kubectl: join(state.toolsDir, 'kubectl'), source: 'cache' as const };
  const kubeconfigPath = join(abs, 'kubeconfig');
  return {
    dir: abs,
    server: state.server,
    kubeconfigPath,
    tools: t,
    kubectl: makeKubectl(t, kubeconfigPath),
    restartApiServer: () => Promise.reject(new HarnessError('Usage', 'restartApiServer works only on a control plane started by this process')),
    stop: async () => {
      await stopControlPlane(abs);
    },
  };
}

/**
 * Starts etcd and kube-apiserver on loopback with a fresh PKI, writes
 * `DIR/kubeconfig`, waits for /readyz and the default ServiceCIDRs, and
 * installs the CRDs. Everything an integration test needs, in about 10 s.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? ((): void => undefined);
  const dir = resolve(opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-cp-')));
  mkdirSync(dir, { recursive: true });
  if (readState(dir)) {
    const s = readState(dir);
    if (s && (isAlive(s.apiserver.pid) || isAlive(s.etcd.pid))) {
      throw new HarnessError('StartFailed', `a control plane is already running in ${dir}; run \`control-plane down --dir ${dir}\` first`);
    }
    await stopControlPlane(dir); // stale state from a crashed run
    mkdirSync(dir, { recursive: true });
  }
  const tools = resolveTools({ build: opts.build ?? true, log });
  const created = ['pki', 'etcd-data', 'etcd.log', 'kube-apiserver.log', 'kubeconfig'];
  const pki = createPki(join(dir, 'pki'));

  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcdLog = join(dir, 'etcd.log');
  const apiLog = join(dir, 'kube-apiserver.log');

  const etcdPid = startDetached(tools.etcd, [
    '--name', 'herald',
    '--data-dir', join(dir, 'etcd-data'),
    '--listen-client-urls', etcdUrl,
    '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeerPort}`,
    '--initial-cluster', `herald=http://127.0.0.1:${etcdPeerPort}`,
    // A test control plane's data is disposable: skipping fsync makes writes ~10x faster.
    '--unsafe-no-fsync',
    '--log-level', 'warn',
  ], etcdLog);

  const apiArgs = [...apiserverArgs(dir, pki, apiPort, etcdUrl), ...(opts.apiserverArgs ?? [])];
  let apiPid = startDetached(tools.kubeApiserver, apiArgs, apiLog);
  let state: State = {
    version: 1,
    server,
    etcd: { pid: etcdPid, port: etcdPort, peerPort: etcdPeerPort },
    apiserver: { pid: apiPid, port: apiPort, args: apiArgs },
    toolsDir: tools.dir,
    created,
  };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, adminKubeconfig(pki, server), { mode: 0o600 });

  const killer = (): void => {
    for (const pid of [state.apiserver.pid, etcdPid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // Node runs no 'exit' handlers when a signal ends it: kill the children on those too.
  const onSignal = (sig: NodeJS.Signals): void => {
    killer();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  if (opts.killOnExit ?? true) {
    process.on('exit', killer);
    if (opts.handleSignals ?? true) {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
  }

  const rest = new AdminRest(server, pki);
  const cp: ControlPlane = {
    dir,
    server,
    kubeconfigPath,
    tools,
    kubectl: makeKubectl(tools, kubeconfigPath),
    restartApiServer: async (whileDown) => {
      await terminate(apiPid);
      await whileDown?.();
      apiPid = startDetached(tools.kubeApiserver, apiArgs, apiLog);
      state = { ...state, apiserver: { ...state.apiserver, pid: apiPid } };
      writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
      await waitReady(rest, Date.now() + (opts.readyTimeoutMs ?? 60_000), [
        { pid: etcdPid, name: 'etcd', log: etcdLog },
        { pid: apiPid, name: 'kube-apiserver', log: apiLog },
      ]);
    },
    stop: async () => {
      process.off('exit', killer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await stopControlPlane(dir);
    },
  };
  try {
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    await waitReady(rest, deadline, [
      { pid: etcdPid, name: 'etcd', log: etcdLog },
      { pid: apiPid, name: 'kube-apiserver', log: apiLog },
    ]);
    log(`kube-apiserver ready at ${server}`);
    const crdDir = opts.crdDir === undefined ? DEFAULT_CRD_DIR : opts.crdDir;
    if (crdDir !== null) {
      const n = await installCrds(rest, crdDir, deadline);
      log(`installed ${n} CRDs from ${crdDir}`);
    }
    return cp;
  } catch (err) {
    await cp.stop();
    throw err;
  }
}

function apiserverArgs(dir: string, pki: Pki, port: number, etcdUrl: string): string[] {
  return [
    '--advertise-address=127.0.0.1',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDRS.join(',')}`,
    // RBAC on, as in a real cluster, so least-privilege roles can be tested.
    '--authorization-mode=RBAC',
    // No controller-manager runs here to create ServiceAccount tokens.
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    // APF queues requests per flow; a test bed wants raw throughput and no surprises.
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--v=1',
  ];
}

async function waitReady(rest: AdminRest, deadline: number, procs: { pid: number; name: string; log: string }[]): Promise<void> {
  let last = 'no answer yet';
  for (;;) {
    for (const p of procs) {
      if (!isAlive(p.pid)) {
        throw new HarnessError('StartFailed', `${p.name} exited during start-up; last lines of ${p.log}:\n${tail(p.log)}`);
      }
    }
    try {
      const r = await rest.send('GET', '/readyz', undefined, undefined, 2_000);
      if (r.status === 200) {
        // The default ServiceCIDRs must be Ready, or Service creation fails.
        const cidr = await rest.send('GET', '/apis/networking.k8s.io/v1/servicecidrs/kubernetes');
        if (cidr.status === 200 && /"type":"Ready","status":"True"/.test(cidr.body.replace(/\s/g, ''))) return;
        last = `ServiceCIDR not ready (${cidr.status})`;
      } else {
        last = `/readyz ${r.status}: ${r.body.split('\n').filter((l) => l.includes('failed')).join('; ')}`;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new HarnessError('NotReady', `kube-apiserver not ready in time (${last}); last log lines:\n${tail(procs[procs.length - 1]?.log ?? '')}`);
    }
    await sleep(100);
  }
}

interface CrdDoc {
  metadata?: { name?: string };
  spec?: { group?: string; names?: { plural?: string }; versions?: { name?: string; served?: boolean }[] };
}

interface CrdRef {
  readonly name: string;
  readonly group: string;
  readonly plural: string;
  readonly versions: readonly string[];
  readonly file: string;
  readonly doc: CrdDoc;
}

/** Every CRD document in the YAML files of `crdDir`, in file-name order. */
export function readCrds(crdDir: string): CrdRef[] {
  const out: CrdRef[] = [];
  for (const file of readdirSync(crdDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const doc = d.toJS() as CrdDoc | null;
      const name = doc?.metadata?.name;
      if (!doc || !name) continue;
      out.push({
        name,
        group: doc.spec?.group ?? '',
        plural: doc.spec?.names?.plural ?? '',
        versions: (doc.spec?.versions ?? []).filter((v) => v.served !== false).map((v) => v.name ?? ''),
        file,
        doc,
      });
    }
  }
  return out;
}

/** Polls `check` every 50 ms until it returns true, or throws `CrdInstallFailed` with `what` at the deadline. */
async function pollUntil(deadline: number, what: string, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new HarnessError('CrdInstallFailed', `${what} not in time`);
    await sleep(50);
  }
}

/**
 * Server-side applies every CRD in `crdDir`, then waits until each is
 * Established and its resources appear in discovery (only then can objects of
 * the new kinds be created without a transient 404).
 */
export async function installCrds(rest: AdminRest, crdDir: string, deadline: number): Promise<number> {
  const crds = readCrds(crdDir);
  for (const crd of crds) {
    const r = await rest.send(
      'PATCH',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}?fieldManager=herald-harness&force=true`,
      JSON.stringify(crd.doc),
      'application/apply-patch+yaml',
    );
    if (r.status >= 300) throw new HarnessError('CrdInstallFailed', `applying CRD ${crd.name} from ${crd.file}: HTTP ${r.status}: ${r.body}`);
  }
  for (const crd of crds) {
    await pollUntil(deadline, `CRD ${crd.name} Established`, async () => {
      const body = (await rest.send('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}`)).body.replace(/\s/g, '');
      if (body.includes('"type":"NamesAccepted","status":"False"')) {
        throw new HarnessError('CrdInstallFailed', `CRD ${crd.name}: names not accepted: ${body}`);
      }
      return body.includes('"type":"Established","status":"True"');
    });
    for (const v of crd.versions) {
      await pollUntil(deadline, `${crd.plural}.${crd.group}/${v} in discovery`, async () => {
        const r = await rest.send('GET', `/apis/${crd.group}/${v}`);
        return r.status === 200 && r.body.includes(`"name":"${crd.plural}"`);
      });
    }
  }
  return crds.length;
}
