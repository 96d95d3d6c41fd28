# lib.sh: fault injection walks of whole cora commands (STYLE rule 16).
# Source it after setting CORA; it brings the ok/fail counters of
# tests/cli/lib.sh.
#
# A walk runs one command again and again on fresh copies of a template
# catalog, with CORA_FAULT=N for N = 1, 2, ...: the Nth fault point the
# process reaches (an allocation, write, fsync, rename or SQLite step)
# fails.  CORA_FAULT_REPORT makes the process write "POINTS FIRED" at
# exit (core/fault.c); the walk ends at the first N whose run succeeds
# without the fault firing, i.e. N is past the last point.  Every run
# must end in success or in a clean typed error, and leave a catalog
# that is whole: the log unchanged after a failure, no file left in
# blobs/tmp, `cora fsck` clean, and whatever the test's CHECK adds.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

# The most points a walk may take before we call it runaway.
WALK_LIMIT=${WALK_LIMIT:-2000}

c() { "$CORA" -C "$CAT" "$@"; }
events() { "$CORA" -C "$CAT" log --json | wc -l; }

# verify_all SLUG...: every dataset verifies against its blobs.
verify_all() {
  local d
  for d in "$@"; do
    if ! c dataset verify "$d" >"$TMP/verify" 2>&1; then
      echo "dataset '$d' does not verify: $(cat "$TMP/verify")"
      return 1
    fi
  done
}

# walk NAME TEMPLATE RUN CHECK
#   TEMPLATE  a catalog folder, copied afresh for every N
#   RUN       a function running the command under test on $CAT
#   CHECK     a function called after every run with $1 = the exit
#             status; returns non-zero (after printing why) when the
#             catalog is not as it must be
# Sets WALK_POINTS to the number of fault points of a clean run.
walk() {
  local name=$1 template=$2 run=$3 check=$4
  local n=1 rc before after points fired lines problems=0 why
  local failed_clean=0 absorbed=0
  CAT=$TMP/walk
  WALK_POINTS=0
  while [ "$n" -le "$WALK_LIMIT" ]; do
    rm -rf "$CAT"
    cp -a "$template" "$CAT"
    before=$(events)
    rm -f "$TMP/report"
    rc=0
    CORA_FAULT=$n CORA_FAULT_REPORT=$TMP/report "$run" \
      >"$TMP/out" 2>"$TMP/err" || rc=$?
    points=0 fired=0
    [ -s "$TMP/report" ] && read -r points fired <"$TMP/report"
    after=$(events)
    lines=$(wc -l <"$TMP/err")
    why=
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
      why="exited $rc (a crash or a signal?): $(head -c 2000 "$TMP/err")"
    elif [ "$rc" = 1 ] && { [ "$lines" != 1 ] ||
                            ! grep -q '^cora: ' "$TMP/err"; }; then
      why="failed without one 'cora: ' line: $(head -c 2000 "$TMP/err")"
    elif [ "$rc" = 1 ] && [ "$fired" != 1 ]; then
      why="failed but the fault did not fire: $(cat "$TMP/err")"
    elif [ "$rc" = 1 ] && [ "$before" != "$after" ]; then
      why="failed ($(cat "$TMP/err")) but the log went from $before to $after events"
    elif [ "$rc" = 0 ] && [ "$after" -le "$before" ]; then
      why="succeeded but appended nothing"
    elif [ -d "$CAT/blobs/tmp" ] &&
         [ -n "$(find "$CAT/blobs/tmp" -type f -print -quit)" ]; then
      why="left files in blobs/tmp: $(ls "$CAT/blobs/tmp")"
    elif ! c fsck >"$TMP/fsck" 2>&1; then
      why="fsck after the run: $(head -c 2000 "$TMP/fsck")"
    elif ! why=$("$check" "$rc"); then
      why=${why:-check failed}
    else
      why=
    fi
    if [ -n "$why" ]; then
      fail "$name: CORA_FAULT=$n: $why"
      problems=$((problems + 1))
      [ "$problems" -ge 10 ] && { fail "$name: stopping after 10 problems"; return; }
    else
      ok
    fi
    [ "$rc" = 1 ] && failed_clean=$((failed_clean + 1))
    [ "$rc" = 0 ] && [ "$fired" = 1 ] && absorbed=$((absorbed + 1))
    if [ "$rc" = 0 ] && [ "$fired" = 0 ]; then
      WALK_POINTS=$points
      if [ "$points" -ge "$n" ]; then
        fail "$name: passed $points fault points with CORA_FAULT=$n but none fired"
      fi
      echo "$name: walked $((n - 1)) fault points: $failed_clean failed" \
        "cleanly, $absorbed absorbed (the command still succeeded)"
      return
    fi
    n=$((n + 1))
  done
  fail "$name: still firing faults at N=$WALK_LIMIT"
}
