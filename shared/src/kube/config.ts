/**
 * Finding the API server: an explicit kubeconfig, the Pod's service account, or the
 * user's kubeconfig, in that order.
 * @packageDocumentation
 */
import { PooledKubeConfig } from './pooled.js';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { HeraldError, errorMessage } from '../core/errors.js';

/** Where a Pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads a kubeconfig:
 * 1. `path` when given (a `--kubeconfig` flag);
 * 2. in-cluster (service account token and CA) when `KUBERNETES_SERVICE_HOST` is set;
 * 3. `$KUBECONFIG`, else `~/.kube/config`.
 *
 * client-node's own default falls back to `http://localhost:8080` when nothing is found,
 * which surfaces much later as a confusing ECONNREFUSED; this throws a HeraldError
 * (`InvalidConfig`) at start-up instead, naming what was tried.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new PooledKubeConfig();
  if (path !== undefined && path !== '') {
    try {
      kc.loadFromFile(path);
    } catch (err) {
      throw new HeraldError('InvalidConfig', `load kubeconfig ${path}: ${errorMessage(err)}`, { cause: err });
    }
    return checked(kc, `kubeconfig ${path}`);
  }

  const env = process.env;
  if (env['KUBERNETES_SERVICE_HOST']) {
    const token = join(SERVICE_ACCOUNT_DIR, 'token');
    if (!env['KUBERNETES_SERVICE_PORT']) {
      throw new HeraldError('InvalidConfig', 'in-cluster config: KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not');
    }
    // client-node reads the token lazily; without this check a missing mount shows up
    // as 401s on every request instead of one clear start-up error.
    if (!existsSync(token)) {
      throw new HeraldError('InvalidConfig', `in-cluster config: no service account token at ${token} (is automountServiceAccountToken off?)`);
    }
    kc.loadFromCluster();
    return checked(kc, 'in-cluster config');
  }

  const fromEnv = (env['KUBECONFIG'] ?? '').split(delimiter).filter((p) => p !== '');
  const home = join(homedir(), '.kube', 'config');
  if (fromEnv.length === 0 && !existsSync(home)) {
    throw new HeraldError(
      'InvalidConfig',
      `no Kubernetes configuration: pass --kubeconfig, run in a Pod (KUBERNETES_SERVICE_HOST), set KUBECONFIG, or create ${home}`,
    );
  }
  try {
    kc.loadFromDefault();
  } catch (err) {
    const what = fromEnv.length > 0 ? `KUBECONFIG=${fromEnv.join(delimiter)}` : home;
    throw new HeraldError('InvalidConfig', `load kubeconfig ${what}: ${errorMessage(err)}`, { cause: err });
  }
  return checked(kc, fromEnv.length > 0 ? `KUBECONFIG=${fromEnv.join(delimiter)}` : home);
}

function checked(kc: KubeConfig, what: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new HeraldError('InvalidConfig', `${what}: no current context, or its cluster is not defined`);
  }
  if (!cluster.server) throw new HeraldError('InvalidConfig', `${what}: cluster ${cluster.name} has no server`);
  return kc;
}
