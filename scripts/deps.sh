#!/usr/bin/env bash
# Installs what corafs needs to build and test on Debian 12 (as root).
# Quiet and quick when everything is there already.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  libfuse3-dev fuse3 libsqlite3-dev sqlite3 libxml2-dev libxml2-utils
  libarchive-dev libarchive-tools libjansson-dev libcurl4-openssl-dev
  libssl-dev libcmocka-dev libunistring-dev
  rsync attr acl xxd zip unzip procps strace
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "corafs: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "corafs: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
