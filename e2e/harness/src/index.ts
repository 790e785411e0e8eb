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
export { resolveTools, toolsCacheDir, type ControlPlaneTools } from './tools.js';
export { ETCD_VERSION, KUBERNETES_VERSION } from './versions.js';
export { eventually, testKubeconfigPath } from './testing.js';
