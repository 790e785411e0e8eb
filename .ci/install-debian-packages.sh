#!/usr/bin/env bash
# Installs the Debian packages Herald's tests need, only if some are missing.
# One list, used by CI and by README's set-up step.
set -euo pipefail
PACKAGES=(openssl ca-certificates git iproute2 procps make g++ python3 arping ndisc6 nftables tcpdump gobgpd frr bird2 nginx curl)
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
