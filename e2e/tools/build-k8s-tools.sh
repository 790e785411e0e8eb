#!/usr/bin/env bash
# Builds the local control plane's binaries (kube-apiserver, kubectl, etcd) from
# their Go modules into a cache outside the repository. Nothing built here is
# ever committed. Idempotent: a binary already in the cache is not rebuilt.
#
# Usage: build-k8s-tools.sh [OUT_DIR]
#   OUT_DIR defaults to ${HERALD_TOOLS_CACHE:-$HOME/.cache/herald/tools}/k8s-v$K8S_VERSION
#
# Why replace directives: k8s.io/kubernetes requires its staging modules at
# v0.0.0 and maps them to ./staging/src/... with replace directives that do not
# apply when it is used as a dependency. We map each staging module to its
# published v0.MINOR.PATCH tag instead.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.5}"
STAGING_VERSION="v0.${K8S_VERSION#1.}"
CACHE_ROOT="${HERALD_TOOLS_CACHE:-$HOME/.cache/herald/tools}"
OUT="${1:-$CACHE_ROOT/k8s-v$K8S_VERSION}"
WORK="$CACHE_ROOT/build"

command -v go >/dev/null || {
  echo "build-k8s-tools: Go is not installed; install Go or set KUBEBUILDER_ASSETS to a folder holding kube-apiserver, etcd and kubectl" >&2
  exit 3
}
mkdir -p "$OUT" "$WORK"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export CGO_ENABLED=0

need() { [ -x "$OUT/$1" ] && echo "build-k8s-tools: $1 already in $OUT" && return 1; return 0; }

build_kube() {
  local mod="$WORK/kubernetes-v$K8S_VERSION"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f go.mod ]; then
    go mod init herald.local/k8s-tools >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    # Every "k8s.io/NAME => ./staging/src/k8s.io/NAME" becomes "k8s.io/NAME => k8s.io/NAME vX".
    grep -oE 'k8s.io/[a-z0-9-]+ => ./staging/src/k8s.io/[a-z0-9-]+' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
      go mod edit -replace "$m=$m@$STAGING_VERSION"
    done
    go mod edit -require "k8s.io/kubernetes@v$K8S_VERSION"
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\t_ "k8s.io/kubectl/pkg/cmd"\n)\n' > tools.go
    go mod tidy
  fi
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#1.}"
  ld="${ld%.*}"  # gitMinor is the minor number alone
  ld="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  if need kube-apiserver; then
    echo "build-k8s-tools: building kube-apiserver v$K8S_VERSION (several minutes on 2 cores)"
    go build -trimpath -ldflags "$ld" -o "$OUT/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
  fi
  if need kubectl; then
    echo "build-k8s-tools: building kubectl v$K8S_VERSION"
    go build -trimpath -ldflags "$ld" -o "$OUT/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
    mv "$OUT/kubectl.tmp" "$OUT/kubectl"
  fi
}

build_etcd() {
  need etcd || return 0
  local mod="$WORK/etcd-v$ETCD_VERSION"
  mkdir -p "$mod"
  cd "$mod"
  if [ ! -f go.mod ]; then
    go mod init herald.local/etcd-tools >/dev/null 2>&1
    go mod edit -require "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\n' > tools.go
    go mod tidy
  fi
  echo "build-k8s-tools: building etcd v$ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$OUT/etcd.tmp" "$OUT/etcd"
}

build_etcd
build_kube
echo "$OUT"
