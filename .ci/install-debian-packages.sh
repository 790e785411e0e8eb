#!/usr/bin/env bash
# Installs the Debian packages Herald's tests need, only if some are missing.
# One list, used by CI and by README's set-up step.
set -euo pipefail
# The multi-node test cluster (e2e/cluster) adds: containerd, runc, the CNI plugins, buildah and
# skopeo (images without a registry), conntrack and iptables (kube-proxy), gcc and libc6-dev (the
# static pause binary), busybox-static (its test image), util-linux (nsenter, mount).
# e2e/images adds debootstrap (the Debian tree its stand-in base images are made of); its
# static test backend needs gcc and libc6-dev too.
PACKAGES=(openssl ca-certificates git iproute2 procps make g++ python3 arping ndisc6 nftables tcpdump gobgpd frr bird2 nginx curl
  containerd runc containernetworking-plugins buildah skopeo conntrack iptables gcc libc6-dev busybox-static util-linux
  debootstrap)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "all Debian packages present: ${PACKAGES[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
