#!/usr/bin/env bash
# test_large.sh: ingest a 1 GiB tree, then verify re-hashes and agrees.
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
c() { "$CORA" -C "$CAT" "$@"; }

expect_ok "$CORA" init "$CAT"
mkdir -p "$TMP/src/big" "$TMP/src/small"
head -c $((768 << 20)) /dev/urandom >"$TMP/src/big/volume.raw"
for i in $(seq 1 256); do
  head -c $((1 << 20)) /dev/urandom >"$TMP/src/small/slice_$i.tif"
done
expect_ok c dataset create big
expect_ok c dataset ingest big "$TMP/src"
c --json dataset verify big >"$TMP/v"
grep -q '"ok": true' "$TMP/v" && ok || fail "verify of 1 GiB: $(cat "$TMP/v")"
grep -q '"bytes": 1073741824' "$TMP/v" && ok || fail "1 GiB counted: $(cat "$TMP/v")"
c dataset ls big >"$TMP/ls"
(cd "$TMP/src" && sha256sum --quiet -c "$TMP/ls") && ok || fail "digests agree with sha256sum"
expect_ok c fsck
finish
