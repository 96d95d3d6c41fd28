#!/usr/bin/env bash
# test_crash_ingest.sh: `cora dataset ingest` killed with SIGKILL at random
# moments.  An ingest is one transaction, so after each kill the dataset
# holds either none of the new files or all of them, the catalog checks
# clean, and what was there before still verifies.
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
c() { "$CORA" -C "$CAT" "$@"; }
rounds=${CRASH_ROUNDS:-12}

expect_ok "$CORA" init "$CAT"
mkdir -p "$TMP/base" "$TMP/src/a" "$TMP/src/b"
head -c 100000 /dev/urandom >"$TMP/base/kept.bin"
for i in $(seq 1 200); do head -c $((RANDOM * 4)) /dev/urandom >"$TMP/src/a/f$i"; done
head -c $((40 << 20)) /dev/urandom >"$TMP/src/b/big.bin"
expect_ok c dataset create ds
expect_ok c dataset ingest ds "$TMP/base"

for r in $(seq 1 "$rounds"); do
  "$CORA" -C "$CAT" -q dataset ingest ds "$TMP/src" --into "round$r" &
  pid=$!
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  n=$(c dataset ls ds | grep -c "round$r/")
  if [ "$n" != 0 ] && [ "$n" != 201 ]; then
    fail "round $r: $n of 201 files visible after kill -9"
  else
    ok
  fi
  c fsck >"$TMP/fsck" 2>&1 && ok || fail "round $r: fsck: $(cat "$TMP/fsck")"
  c dataset verify ds >"$TMP/verify" 2>&1 && ok ||
    fail "round $r: verify: $(cat "$TMP/verify")"
  # leftover tmp files of the blob store go at the next open
  c dataset ls ds >/dev/null
  left=$(find "$CAT/blobs/tmp" -type f | wc -l)
  [ "$left" = 0 ] && ok || fail "round $r: $left tmp files left in the blob store"
done
c dataset ls ds >"$TMP/final"
grep -q "kept.bin" "$TMP/final" && ok || fail "the first ingest survived"
finish
