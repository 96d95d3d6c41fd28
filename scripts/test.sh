#!/usr/bin/env bash
# Runs every test: installs what is missing, builds in a fresh build
# folder, and runs all meson suites.  Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
dir=build-test
rm -rf "$dir"
meson setup "$dir" -Dfault_injection=true >/dev/null
ninja -C "$dir"
meson test -C "$dir" --print-errorlogs --num-processes 2
