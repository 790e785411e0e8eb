export {
  DEFAULT_CRD_DIR,
  SERVICE_CIDRS,
  attachControlPlane,
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
  type KubectlResult,
} from './control-plane.js';
export { HarnessError, type HarnessErrorCode } from './errors.js';
export { helmCacheDir, resolveClusterTools, resolveHelm, resolveTools, toolsCacheDir, type ClusterTools, type ControlPlaneTools, type HelmTool } from './tools.js';
export { CRICTL_VERSION, DISTRIBUTION_VERSION, ETCD_VERSION, HELM_VERSION, KUBERNETES_VERSION } from './versions.js';
export { clientKubeconfig, createPki, issueClientCert, type ClientCert, type Pki } from './pki.js';
export { freePort, startDetached, tail } from './process.js';
export { onProcessExit } from './exit-hooks.js';
export { eventually, testKubeconfigPath } from './testing.js';
export { documentedMetrics, registeredMetrics, type DocumentedMetric } from './metrics-docs.js';
