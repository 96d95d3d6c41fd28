#!/usr/bin/env bash
# test_promote.sh: `cora dataset promote` with every fault point failing
# once.  Promotion computes the sha256-tree over the files and freezes
# them; a failed promotion leaves the dataset Trial with its files, and a
# retry without faults then succeeds.
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

T=$TMP/template
CAT=$T
mkdir -p "$TMP/old" "$TMP/src/a"
printf 'old\n' >"$TMP/old/o.txt"
printf 'one\n' >"$TMP/src/a/one.txt"
head -c 200000 /dev/urandom >"$TMP/src/two.bin"
: >"$TMP/src/empty"

expect_ok "$CORA" init "$T"
expect_ok c dataset create old
expect_ok c dataset ingest old "$TMP/old"
expect_ok c dataset promote old --reason 'reference data'
expect_ok c dataset create ds
expect_ok c dataset ingest ds "$TMP/src"
c dataset ls ds >"$TMP/ds.before"

intent() { c --json dataset show ds | sed -n 's/^ *"intent": "\([^"]*\)".*/\1/p'; }

run() { c dataset promote ds --reason 'ready for analysis'; }

check() {
  local want=Production
  verify_all old ds || return 1
  c dataset ls ds >"$TMP/ls.after"
  cmp -s "$TMP/ds.before" "$TMP/ls.after" || { echo "the files changed"; return 1; }
  if [ "$1" = 1 ]; then
    want=Trial
    [ "$(intent)" = Trial ] || { echo "failed, but the intent is $(intent)"; return 1; }
    c dataset promote ds --reason 'ready for analysis' >"$TMP/retry" 2>&1 ||
      { echo "retry failed: $(cat "$TMP/retry")"; return 1; }
    c fsck >"$TMP/fsck2" 2>&1 ||
      { echo "fsck after the retry: $(cat "$TMP/fsck2")"; return 1; }
    want=Production
  fi
  [ "$(intent)" = "$want" ] || { echo "intent $(intent), wanted $want"; return 1; }
  c --json dataset show ds | grep -q '"algorithm": "sha256-tree"' ||
    { echo "no sha256-tree checksum"; return 1; }
}

walk promote "$T" run check
[ "$WALK_POINTS" -ge 2 ] && ok || fail "only $WALK_POINTS fault points in a promote"
finish
