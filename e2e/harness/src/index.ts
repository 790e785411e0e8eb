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
export { helmCacheDir, resolveHelm, resolveTools, toolsCacheDir, type ControlPlaneTools, type HelmTool } from './tools.js';
export { ETCD_VERSION, HELM_VERSION, KUBERNETES_VERSION } from './versions.js';
export { eventually, testKubeconfigPath } from './testing.js';
export { documentedMetrics, registeredMetrics, type DocumentedMetric } from './metrics-docs.js';
