import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.js';
import { CRICTL_VERSION, DISTRIBUTION_VERSION, ETCD_VERSION, HELM_VERSION, KUBERNETES_VERSION } from './versions.js';

/** Absolute paths of the control plane's binaries. */
export interface ControlPlaneTools {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubectl: string;
  /** Where they came from, for messages. */
  readonly source: 'KUBEBUILDER_ASSETS' | 'cache' | 'built';
}

const BINARIES = ['etcd', 'kube-apiserver', 'kubectl'] as const;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    return statSync(path).isFile() && isExecutable(path);
  } catch {
    return false;
  }
}

function missingIn(dir: string): string[] {
  return BINARIES.filter((b) => !isExecutable(join(dir, b)));
}

function toolsIn(dir: string, source: ControlPlaneTools['source']): ControlPlaneTools {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubectl: join(dir, 'kubectl'),
    source,
  };
}

/** The cache folder for the pinned versions (outside the repository). */
export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env['HERALD_TOOLS_CACHE'] ?? join(homedir(), '.cache', 'herald', 'tools');
  return join(root, `k8s-v${KUBERNETES_VERSION}`);
}

const BUILD_SCRIPT = fileURLToPath(new URL('../../tools/build-k8s-tools.sh', import.meta.url));

const HOW_TO_SUPPLY =
  `Supply them in one of three ways: set KUBEBUILDER_ASSETS to a folder holding etcd, kube-apiserver and kubectl ` +
  `(Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}); or put them in ${toolsCacheDir()}; ` +
  `or install Go (>= 1.25) with access to the Go module proxy and run \`npm run control-plane -- tools\` to build them there.`;

/**
 * Finds the control plane's binaries: KUBEBUILDER_ASSETS first (the envtest
 * convention), then the cache, then builds them from their Go modules into the
 * cache when `build` is allowed and Go is present.
 */
export function resolveTools(opts: { build?: boolean; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): ControlPlaneTools {
  const env = opts.env ?? process.env;
  const assets = env['KUBEBUILDER_ASSETS'];
  if (assets) {
    const missing = missingIn(assets);
    if (missing.length > 0) {
      throw new HarnessError('ToolsMissing', `KUBEBUILDER_ASSETS=${assets} lacks ${missing.join(', ')}. ${HOW_TO_SUPPLY}`);
    }
    return toolsIn(assets, 'KUBEBUILDER_ASSETS');
  }
  const cache = toolsCacheDir(env);
  if (missingIn(cache).length === 0) return toolsIn(cache, 'cache');
  if (opts.build === false) {
    throw new HarnessError('ToolsMissing', `control-plane binaries not found in ${cache} (missing ${missingIn(cache).join(', ')}). ${HOW_TO_SUPPLY}`);
  }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new HarnessError('ToolsMissing', `control-plane binaries not found in ${cache} and Go is not installed. ${HOW_TO_SUPPLY}`);
  }
  opts.log?.(`building etcd ${ETCD_VERSION}, kube-apiserver and kubectl ${KUBERNETES_VERSION} into ${cache} (first run only; several minutes)`);
  const built = spawnSync('bash', [BUILD_SCRIPT, cache], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, K8S_VERSION: KUBERNETES_VERSION, ETCD_VERSION },
  });
  const still = missingIn(cache);
  if (built.status !== 0 || still.length > 0) {
    throw new HarnessError(
      'ToolsBuildFailed',
      `building the control-plane binaries failed (exit ${built.status ?? built.signal}); still missing ${still.join(', ') || 'nothing'}. ${HOW_TO_SUPPLY}`,
    );
  }
  return toolsIn(cache, 'built');
}

/** The helm binary the chart tests use. */
export interface HelmTool {
  readonly helm: string;
  /** Where it came from, for messages. */
  readonly source: 'HERALD_HELM' | 'cache' | 'built';
}

/** The cache folder for the pinned helm (next to the control plane's binaries). */
export function helmCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env['HERALD_TOOLS_CACHE'] ?? join(homedir(), '.cache', 'herald', 'tools');
  return join(root, `helm-v${HELM_VERSION}`);
}

const HELM_BUILD_SCRIPT = fileURLToPath(new URL('../../tools/build-helm.sh', import.meta.url));

function howToSupplyHelm(env: NodeJS.ProcessEnv): string {
  return (
    `Supply it in one of three ways: set HERALD_HELM to a helm ${HELM_VERSION} binary; or put it at ${join(helmCacheDir(env), 'helm')}; ` +
    `or install Go (>= 1.25) with access to the Go module proxy and run \`npm run control-plane -- tools\` to build it there.`
  );
}

/**
 * Finds helm the way {@link resolveTools} finds the control plane: HERALD_HELM
 * (a path to the binary) first, then the cache, then builds
 * `helm.sh/helm/v3/cmd/helm` from its Go module into the cache when `build` is
 * allowed and Go is present.
 */
export function resolveHelm(opts: { build?: boolean; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): HelmTool {
  const env = opts.env ?? process.env;
  const given = env['HERALD_HELM'];
  if (given) {
    if (!isExecutableFile(given)) throw new HarnessError('ToolsMissing', `HERALD_HELM=${given} is not an executable file. ${howToSupplyHelm(env)}`);
    return { helm: given, source: 'HERALD_HELM' };
  }
  const cached = join(helmCacheDir(env), 'helm');
  if (isExecutableFile(cached)) return { helm: cached, source: 'cache' };
  if (opts.build === false) throw new HarnessError('ToolsMissing', `helm not found at ${cached}. ${howToSupplyHelm(env)}`);
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new HarnessError('ToolsMissing', `helm not found at ${cached} and Go is not installed. ${howToSupplyHelm(env)}`);
  }
  opts.log?.(`building helm ${HELM_VERSION} into ${helmCacheDir(env)} (first run only; a few minutes)`);
  const built = spawnSync('bash', [HELM_BUILD_SCRIPT, helmCacheDir(env)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, HELM_VERSION, K8S_VERSION: KUBERNETES_VERSION },
  });
  if (built.status !== 0 || !isExecutableFile(cached)) {
    throw new HarnessError('ToolsBuildFailed', `building helm failed (exit ${built.status ?? built.signal}). ${howToSupplyHelm(env)}`);
  }
  return { helm: cached, source: 'built' };
}

/** The binaries of the multi-node test cluster (e2e/cluster), beyond the control plane's. */
export interface ClusterTools {
  readonly controlPlane: ControlPlaneTools;
  readonly kubelet: string;
  readonly kubeProxy: string;
  readonly kubeScheduler: string;
  readonly kubeControllerManager: string;
  readonly crictl: string;
  /** The distribution OCI registry (`registry serve CONFIG`). */
  readonly registry: string;
  /** Where the cluster-only binaries came from, for messages. */
  readonly source: 'cache' | 'built';
}

const CLUSTER_BUILD_SCRIPT = fileURLToPath(new URL('../../tools/build-cluster-tools.sh', import.meta.url));

function clusterToolsIn(env: NodeJS.ProcessEnv): Omit<ClusterTools, 'controlPlane' | 'source'> {
  const root = env['HERALD_TOOLS_CACHE'] ?? join(homedir(), '.cache', 'herald', 'tools');
  const k8s = toolsCacheDir(env);
  return {
    kubelet: join(k8s, 'kubelet'),
    kubeProxy: join(k8s, 'kube-proxy'),
    kubeScheduler: join(k8s, 'kube-scheduler'),
    kubeControllerManager: join(k8s, 'kube-controller-manager'),
    crictl: join(root, `crictl-v${CRICTL_VERSION}`, 'crictl'),
    registry: join(root, `distribution-v${DISTRIBUTION_VERSION}`, 'registry'),
  };
}

/**
 * Finds the cluster's binaries in the cache, building what is missing (and the control
 * plane's too) with e2e/tools/build-cluster-tools.sh when `build` is allowed and Go is
 * present. The control plane's own binaries still honour KUBEBUILDER_ASSETS.
 */
export function resolveClusterTools(opts: { build?: boolean; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): ClusterTools {
  const env = opts.env ?? process.env;
  const bins = clusterToolsIn(env);
  const missing = (): string[] => Object.values(bins).filter((b) => !isExecutableFile(b));
  const cpMissing = env['KUBEBUILDER_ASSETS'] ? [] : missingIn(toolsCacheDir(env));
  let source: ClusterTools['source'] = 'cache';
  if (missing().length > 0 || cpMissing.length > 0) {
    const how = 'install Go (>= 1.25) with access to the Go module proxy and run `npm run cluster -- tools`';
    if (opts.build === false) throw new HarnessError('ToolsMissing', `cluster binaries missing: ${[...missing(), ...cpMissing].join(', ')}; ${how}`);
    const go = spawnSync('go', ['version'], { encoding: 'utf8' });
    if (go.error || go.status !== 0) throw new HarnessError('ToolsMissing', `cluster binaries missing (${missing().join(', ')}) and Go is not installed; ${how}`);
    opts.log?.(`building the cluster's binaries (kubelet, kube-proxy, kube-scheduler, kube-controller-manager ${KUBERNETES_VERSION}, crictl ${CRICTL_VERSION}, registry ${DISTRIBUTION_VERSION}) into the tool cache (first run only; up to 10 minutes on 2 cores)`);
    const built = spawnSync('bash', [CLUSTER_BUILD_SCRIPT], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...env, K8S_VERSION: KUBERNETES_VERSION, ETCD_VERSION, CRICTL_VERSION, DISTRIBUTION_VERSION },
    });
    if (built.status !== 0 || missing().length > 0) {
      throw new HarnessError('ToolsBuildFailed', `building the cluster's binaries failed (exit ${built.status ?? built.signal}); still missing ${missing().join(', ') || 'nothing'}; ${how}`);
    }
    source = 'built';
  }
  return { controlPlane: resolveTools({ build: opts.build ?? true, env, ...(opts.log ? { log: opts.log } : {}) }), ...bins, source };
}
