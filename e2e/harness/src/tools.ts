import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.js';
import { ETCD_VERSION, KUBERNETES_VERSION } from './versions.js';

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
