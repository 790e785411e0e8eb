#!/usr/bin/env bash
# Builds helm (the chart tests' client) from its Go module into the same cache as
# the control plane's binaries. Nothing built here is ever committed. Idempotent:
# a helm already in the cache is not rebuilt.
#
# Usage: build-helm.sh [OUT_DIR]
#   OUT_DIR defaults to ${HERALD_TOOLS_CACHE:-$HOME/.cache/herald/tools}/helm-v$HELM_VERSION
#
# The ldflags are those of helm's own Makefile: the version `helm version` prints,
# and the Kubernetes version `helm template`/`helm lint` assume without a cluster
# (there, the minor of the client-go it is built with; here, the test control
# plane's, so both agree).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-3.20.2}"
K8S_VERSION="${K8S_VERSION:-1.35.4}"
CACHE_ROOT="${HERALD_TOOLS_CACHE:-$HOME/.cache/herald/tools}"
OUT="${1:-$CACHE_ROOT/helm-v$HELM_VERSION}"

command -v go >/dev/null || {
  echo "build-helm: Go is not installed; install Go or set HERALD_HELM to a helm v$HELM_VERSION binary" >&2
  exit 3
}
if [ -x "$OUT/helm" ]; then
  echo "build-helm: helm already in $OUT"
  echo "$OUT"
  exit 0
fi
mkdir -p "$OUT"
tmp=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

major=$(echo "$K8S_VERSION" | cut -d. -f1)
minor=$(echo "$K8S_VERSION" | cut -d. -f2)
ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ld="$ld -X $pkg.k8sVersionMajor=$major -X $pkg.k8sVersionMinor=$minor"
done

echo "build-helm: building helm v$HELM_VERSION (a few minutes on 2 cores)"
# helm's go.mod has no replace directives, so `go install module@version` builds
# exactly the published module with its own go.sum.
CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
mv "$tmp/helm" "$OUT/helm"
echo "$OUT"
