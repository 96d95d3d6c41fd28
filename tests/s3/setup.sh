#!/usr/bin/env bash
# setup.sh: installs what the s3 suite needs besides the build: Node.js
# (Debian's, when missing) and s3rver, pinned by package-lock.json, into
# tests/s3/node_modules.  Quiet and quick when everything is there.
# Called by scripts/test.sh, and by test_s3.sh when s3rver is missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "corafs: the s3 tests need node and npm; install them as root" >&2
    exit 1
  fi
  echo "corafs: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -x node_modules/.bin/s3rver ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
