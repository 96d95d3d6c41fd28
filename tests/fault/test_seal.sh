#!/usr/bin/env bash
# test_seal.sh: `cora bundle seal` with every fault point failing once,
# on a small bundle of one promoted dataset.  A failed seal leaves the
# bundle Registered (and its dataset intact), and a retry without faults
# then seals it.
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

T=$TMP/template
CAT=$T
mkdir -p "$TMP/src/sub"
printf 'frame 1\n' >"$TMP/src/sub/f1.txt"
head -c 150000 /dev/urandom >"$TMP/src/f2.bin"

expect_ok "$CORA" init "$T"
expect_ok c person add alice --name 'Alice Example' --orcid 0000-0002-1825-0097
alice=$(c --json person show alice | sed -n 's/^ *"id": "\([^"]*\)".*/\1/p')
expect_ok c dataset create scan
expect_ok c dataset ingest scan "$TMP/src"
expect_ok c dataset promote scan --reason 'final'
expect_ok c bundle create b1 --title 'A small bundle' --license CC-BY-4.0 \
  --creator "$alice" --publisher aps
expect_ok c bundle add-dataset b1 scan

status() { c --json bundle show b1 | sed -n 's/^ *"status": "\([^"]*\)".*/\1/p'; }
[ "$(status)" = Registered ] && ok || fail "template bundle is $(status)"

run() { c bundle seal b1 --year 2026; }

check() {
  verify_all scan || return 1
  if [ "$1" = 1 ]; then
    [ "$(status)" = Registered ] || { echo "failed, but the bundle is $(status)"; return 1; }
    c bundle seal b1 --year 2026 >"$TMP/retry" 2>&1 ||
      { echo "retry failed: $(cat "$TMP/retry")"; return 1; }
    c fsck >"$TMP/fsck2" 2>&1 ||
      { echo "fsck after the retry: $(cat "$TMP/fsck2")"; return 1; }
  fi
  [ "$(status)" = Sealed ] || { echo "bundle is $(status), wanted Sealed"; return 1; }
}

walk seal "$T" run check
[ "$WALK_POINTS" -ge 2 ] && ok || fail "only $WALK_POINTS fault points in a seal"
finish
