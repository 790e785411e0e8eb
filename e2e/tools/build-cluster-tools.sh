#!/usr/bin/env bash
# Builds what a real multi-node test cluster (e2e/cluster) needs beyond the local
# control plane, from Go modules, into the same cache outside the repository:
#   K8S_OUT:   kubelet, kube-proxy, kube-scheduler, kube-controller-manager
#              (k8s.io/kubernetes, the control plane's version)
#   CRI_OUT:   crictl (sigs.k8s.io/cri-tools; Debian 12 does not package it)
#   REG_OUT:   registry (github.com/distribution/distribution/v3: the OCI registry
#              every node pulls from, since no registry outside the machine is reachable)
# It first runs build-k8s-tools.sh, so etcd, kube-apiserver and kubectl are there too.
# Idempotent: a binary already in the cache is not rebuilt. Nothing built here is committed.
#
# Usage: build-cluster-tools.sh [PART...]
#   PART is control-plane, crictl, registry or node (default: all, in that order).
#   Versions come from the environment (the harness passes its pinned ones):
#   K8S_VERSION, ETCD_VERSION, CRICTL_VERSION, DISTRIBUTION_VERSION.
#
# The node binaries use their own module folder (kubernetes-node-vX), not the control
# plane's: its go.mod is the same recipe with other imports, and keeping it apart means
# a build here never rewrites a go.mod a control-plane build may be reading. Go's build
# cache is shared, so packages compiled for kube-apiserver are reused (kubelet: 75 s
# instead of 370 s on 2 cores).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
K8S_VERSION="${K8S_VERSION:-1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.5}"
CRICTL_VERSION="${CRICTL_VERSION:-1.34.0}"
DISTRIBUTION_VERSION="${DISTRIBUTION_VERSION:-3.1.1}"
STAGING_VERSION="v0.${K8S_VERSION#1.}"
CACHE_ROOT="${HERALD_TOOLS_CACHE:-$HOME/.cache/herald/tools}"
K8S_OUT="$CACHE_ROOT/k8s-v$K8S_VERSION"
CRI_OUT="$CACHE_ROOT/crictl-v$CRICTL_VERSION"
REG_OUT="$CACHE_ROOT/distribution-v$DISTRIBUTION_VERSION"
WORK="$CACHE_ROOT/build"

command -v go >/dev/null || {
  echo "build-cluster-tools: Go is not installed; install Go (>= 1.25) to build the cluster's binaries" >&2
  exit 3
}

mkdir -p "$K8S_OUT" "$CRI_OUT" "$REG_OUT" "$WORK"
export GOFLAGS="${GOFLAGS:--mod=mod}"
# Static binaries: they run inside node network namespaces and, for crictl, may be
# copied anywhere; CGO is not needed by any of them.
export CGO_ENABLED=0

have() { [ -x "$1" ] && echo "build-cluster-tools: $(basename "$1") already in $(dirname "$1")" >&2; }

build_kube_node() {
  local missing=()
  for b in kubelet kube-proxy kube-scheduler kube-controller-manager; do have "$K8S_OUT/$b" || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local mod="$WORK/kubernetes-node-v$K8S_VERSION"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f tools.go ]; then
    rm -f go.mod go.sum
    go mod init herald.local/k8s-node-tools >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    # As in build-k8s-tools.sh: every staging module maps to its published v0.MINOR.PATCH tag.
    grep -oE 'k8s.io/[a-z0-9-]+ => ./staging/src/k8s.io/[a-z0-9-]+' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
      go mod edit -replace "$m=$m@$STAGING_VERSION"
    done
    go mod edit -require "k8s.io/kubernetes@v$K8S_VERSION"
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kubelet/app"\n\t_ "k8s.io/kubernetes/cmd/kube-proxy/app"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler/app"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"\n)\n' > tools.go.tmp
    mv tools.go.tmp tools.go
    go mod tidy
  fi
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  # Smallest first, so a slow kubelet build does not hold back the quick ones.
  for b in kube-scheduler kube-proxy kube-controller-manager kubelet; do
    [ -x "$K8S_OUT/$b" ] && continue
    echo "build-cluster-tools: building $b v$K8S_VERSION (kubelet and kube-controller-manager take minutes on 2 cores)" >&2
    go build -trimpath -ldflags "$ld" -o "$K8S_OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$K8S_OUT/$b.tmp" "$K8S_OUT/$b"
  done
}

build_crictl() {
  have "$CRI_OUT/crictl" && return 0
  local mod="$WORK/cri-tools-v$CRICTL_VERSION"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f tools.go ]; then
    rm -f go.mod go.sum
    go mod init herald.local/crictl >/dev/null 2>&1
    go mod edit -require "sigs.k8s.io/cri-tools@v$CRICTL_VERSION"
    printf 'package tools\n\nimport _ "sigs.k8s.io/cri-tools/cmd/crictl"\n' > tools.go.tmp
    mv tools.go.tmp tools.go
    go mod tidy
  fi
  echo "build-cluster-tools: building crictl v$CRICTL_VERSION" >&2
  go build -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION" -o "$CRI_OUT/crictl.tmp" sigs.k8s.io/cri-tools/cmd/crictl
  mv "$CRI_OUT/crictl.tmp" "$CRI_OUT/crictl"
}

build_registry() {
  have "$REG_OUT/registry" && return 0
  local mod="$WORK/distribution-v$DISTRIBUTION_VERSION"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f tools.go ]; then
    rm -f go.mod go.sum
    go mod init herald.local/registry >/dev/null 2>&1
    go mod edit -require "github.com/distribution/distribution/v3@v$DISTRIBUTION_VERSION"
    printf 'package tools\n\nimport _ "github.com/distribution/distribution/v3/registry"\n' > tools.go.tmp
    mv tools.go.tmp tools.go
    go mod tidy
  fi
  echo "build-cluster-tools: building the distribution registry v$DISTRIBUTION_VERSION" >&2
  go build -trimpath -ldflags "-s -w" -o "$REG_OUT/registry.tmp" github.com/distribution/distribution/v3/cmd/registry
  mv "$REG_OUT/registry.tmp" "$REG_OUT/registry"
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(control-plane crictl registry node)
for part in "${parts[@]}"; do
  case "$part" in
    control-plane) K8S_VERSION="$K8S_VERSION" ETCD_VERSION="$ETCD_VERSION" bash "$HERE/build-k8s-tools.sh" "$K8S_OUT" >/dev/null ;;
    crictl) build_crictl ;;
    registry) build_registry ;;
    node) build_kube_node ;;
    *) echo "build-cluster-tools: unknown part $part (want control-plane, crictl, registry or node)" >&2; exit 2 ;;
  esac
done
printf '%s\n%s\n%s\n' "$K8S_OUT" "$CRI_OUT/crictl" "$REG_OUT/registry"
