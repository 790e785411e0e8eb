/**
 * The one place that pins the test control plane's versions. The build script
 * (e2e/tools/build-k8s-tools.sh) receives them through its environment.
 * Kubernetes 1.35 ships etcd 3.6.5 in its go.mod; we build the same etcd.
 */
export const KUBERNETES_VERSION = '1.35.4';
export const ETCD_VERSION = '3.6.5';
