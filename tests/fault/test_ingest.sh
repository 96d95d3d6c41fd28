#!/usr/bin/env bash
# test_ingest.sh: `cora dataset ingest` with every fault point failing
# once.  The template holds a promoted dataset 'old' and a Trial dataset
# 'new' with one file; the walked ingest adds a tree to 'new' that shares
# a blob with 'old' (so a failed put must not harm an existing blob),
# spans several write buffers, and has an empty file, a link and nested
# folders.  A failed ingest leaves the log and both datasets as they
# were, and a retry without faults then succeeds.
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

T=$TMP/template
CAT=$T
mkdir -p "$TMP/old/sub" "$TMP/keep" "$TMP/src/a/b" "$TMP/src/c"
printf 'shared bytes\n' >"$TMP/old/shared.txt"
head -c 300000 /dev/urandom >"$TMP/old/sub/old.bin"
printf 'kept\n' >"$TMP/keep/keep.txt"
cp "$TMP/old/shared.txt" "$TMP/src/a/b/shared.txt"
head -c 2500000 /dev/urandom >"$TMP/src/a/big.bin"
printf 'x' >"$TMP/src/c/x.txt"
: >"$TMP/src/empty"
ln -s a/big.bin "$TMP/src/link"

expect_ok "$CORA" init "$T"
expect_ok c dataset create old
expect_ok c dataset ingest old "$TMP/old"
expect_ok c dataset promote old --reason 'reference data'
expect_ok c dataset create new
expect_ok c dataset ingest new "$TMP/keep"
c dataset ls new >"$TMP/new.before"

# The files of 'new' match the sources: keep.txt, plus src/ when the
# ingest went through.
new_matches() {
  c dataset ls new >"$TMP/ls" 2>&1 || { echo "ls new: $(cat "$TMP/ls")"; return 1; }
  grep -q ' keep.txt$' "$TMP/ls" || { echo "keep.txt is gone"; return 1; }
  (cd "$TMP/keep" && grep ' keep.txt$' "$TMP/ls" | sha256sum -c --quiet) ||
    { echo "keep.txt digest differs"; return 1; }
  if [ "$1" = with-src ]; then
    [ "$(grep -vc ' keep.txt$' "$TMP/ls")" = 4 ] ||
      { echo "wanted 4 ingested files: $(cat "$TMP/ls")"; return 1; }
    (cd "$TMP/src" && grep -v ' keep.txt$' "$TMP/ls" | sha256sum -c --quiet) ||
      { echo "ingested digests differ"; return 1; }
  fi
}

run() { c dataset ingest new "$TMP/src"; }

check() {
  verify_all old new || return 1
  if [ "$1" = 0 ]; then
    new_matches with-src
    return
  fi
  c dataset ls new >"$TMP/ls.after"
  cmp -s "$TMP/new.before" "$TMP/ls.after" ||
    { echo "dataset 'new' changed"; return 1; }
  # nothing half-done stands in the way of doing it again
  c dataset ingest new "$TMP/src" >"$TMP/retry" 2>&1 ||
    { echo "retry failed: $(cat "$TMP/retry")"; return 1; }
  new_matches with-src || return 1
  verify_all old new || return 1
  c fsck >"$TMP/fsck2" 2>&1 ||
    { echo "fsck after the retry: $(cat "$TMP/fsck2")"; return 1; }
}

walk ingest "$T" run check
[ "$WALK_POINTS" -ge 20 ] && ok || fail "only $WALK_POINTS fault points in an ingest"
finish
