/**
 * The one place that pins the test control plane's versions. The build scripts
 * (e2e/tools/build-k8s-tools.sh, e2e/tools/build-helm.sh) receive them through
 * their environment.
 * Kubernetes 1.35 ships etcd 3.6.5 in its go.mod; we build the same etcd.
 */
export const KUBERNETES_VERSION = '1.35.4';
export const ETCD_VERSION = '3.6.5';
/**
 * Helm for the chart tests. 3.20 is the line built on client-go 0.35, the same
 * minor as the control plane; 3.21+ moves to client-go 0.36+ and 3.22 to Go 1.26,
 * beyond the Go 1.25 the README promises.
 */
export const HELM_VERSION = '3.20.2';
