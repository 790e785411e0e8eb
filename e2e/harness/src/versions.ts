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
/**
 * The multi-node test cluster's (e2e/cluster) extra tools, built by
 * e2e/tools/build-cluster-tools.sh. cri-tools 1.35 (the match for Kubernetes 1.35) is not
 * served by the Go module proxy; 1.34 speaks the same CRI v1 (module path
 * sigs.k8s.io/cri-tools). The distribution registry 3.1.1 is the newest v3 release that
 * still builds with Go 1.25 (3.1.2 needs Go 1.26).
 */
export const CRICTL_VERSION = '1.34.0';
export const DISTRIBUTION_VERSION = '3.1.1';
