#!/usr/bin/env bash
# The main job: install what is missing, build, create the 2-BM demo
# catalog, mount it, and show a short tour.
# Usage: scripts/demo.sh [CATALOG [MOUNTPOINT]]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

catalog=${1:-$PWD/demo/catalog}
mnt=${2:-$PWD/demo/mnt}
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" || umount -l "$mnt"; fi
rm -rf "$catalog"
mkdir -p "$(dirname "$catalog")"
./build/cli/cora demo "$catalog"
cora="./build/cli/cora -C $catalog"
./build/fs/corafs "$catalog" "$mnt"

raw=$mnt/datasets/pellet-b12-raw
cat <<TOUR

The 2-BM demo catalog is in $catalog, mounted at $mnt.
Unmount with: fusermount3 -u $mnt

\$ ls $mnt
$(ls "$mnt")

\$ ls $mnt/assets | head -5
$(ls "$mnt/assets" | head -5)

\$ ls -l $raw
$(ls -l "$raw")

\$ getfattr -d $raw/projections.h5
$(getfattr -d "$raw/projections.h5" 2>/dev/null)

\$ sha256sum $raw/projections.h5
$(sha256sum "$raw/projections.h5")

\$ ls $mnt/bundles
$(ls "$mnt/bundles")

\$ tail -c 300 $mnt/.cora/events.jsonl
$(tail -c 300 "$mnt/.cora/events.jsonl")

Write into it:
  mkdir $mnt/datasets/my-scan && cp -a /some/files $mnt/datasets/my-scan/
  ./build/cli/cora -C $catalog log -n 5

\$ cora fsck
$($cora fsck)
TOUR
