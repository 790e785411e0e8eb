/**
 * @herald/e2e-on-cluster: Herald's images pushed to the real cluster's registry, its packaged
 * chart installed there, and the suites that prove it.
 * @packageDocumentation
 */
export { Helm, buildAndPush, buildImages, imageValues, pushImages, type BuiltImages, type HelmRun, type LocalImages } from './install.js';
export { applyStream, backendDeployment, herald, loadBalancer, type BackendOptions, type Obj, type ServiceOptions } from './manifests.js';
