#!/usr/bin/env bash
# The main job: install what is missing, build, create the 2-BM demo
# catalog, and show it.  Usage: scripts/demo.sh [CATALOG]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
[ -d build ] || meson setup build --buildtype=release -Dfault_injection=false >/dev/null
ninja -C build >/dev/null

catalog=${1:-$PWD/demo/catalog}
rm -rf "$catalog"
mkdir -p "$(dirname "$catalog")"
./build/cli/cora demo "$catalog"
cora="./build/cli/cora -C $catalog"

cat <<TOUR

A short tour (the catalog is in $catalog; export CORA_CATALOG=$catalog
to leave out -C):

\$ cora asset ls
$($cora asset ls | head -8)
...

\$ cora dataset ls
$($cora dataset ls)

\$ cora dataset ls pellet-b12-raw
$($cora dataset ls pellet-b12-raw)

\$ cora bundle ls
$($cora bundle ls)

\$ cora log -n 5
$($cora log -n 5)

\$ cora fsck
$($cora fsck)
TOUR
