/**
 * A real multi-node Kubernetes cluster on one machine, for Herald's end-to-end tests:
 * the control plane in the root namespace, and per node a network namespace on one
 * bridge with its own containerd, kubelet, kube-proxy and bridge CNI; plain client and
 * router hosts on the same bridge; a local OCI registry every node pulls from.
 * @packageDocumentation
 */
export { attachCluster, startCluster, type Cluster, type ClusterSpawnOptions } from './cluster.js';
export { stopCluster, type DownReport } from './down.js';
export { ClusterError, type ClusterErrorCode } from './errors.js';
export { buildPauseImage, buildScratchImage, pushImage, type ImageFile, type ScratchImage } from './images.js';
export { DEFAULT_DIR, MAX_NODES, planCluster, type ClusterOptions, type ClusterPlan, type HostPlan, type NodePaths, type NodePlan, type ProxyMode } from './plan.js';
export type { NodeSummary } from './rest.js';
export type { ExecResult, RunOptions } from './run.js';
export { readState, type ClusterState } from './state.js';
export type { UpOptions, UpTimings } from './up.js';
