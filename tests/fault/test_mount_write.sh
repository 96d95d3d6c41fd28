#!/usr/bin/env bash
# test_mount_write.sh: a write through the mount with every fault point
# of the daemon failing once (STYLE rule 16, DESIGN 4).
#
#     test_mount_write.sh CORA CORAFS
#
# The template catalog holds a Trial dataset 't' with one file, keep.bin.
# For N = 1, 2, ...: a fresh copy of the template is mounted by
# `corafs CAT MNT -f` with CORA_FAULT=N (the daemon counts its points from
# its start, start-up included), and `cp` copies a 10 MiB file and a small
# one into datasets/t.  Then:
#
#   - a daemon that fails to start has exited non-zero with one
#     'corafs: ' line, and nothing is mounted;
#   - a daemon that started stays up until the unmount, answers every
#     request (cp never hangs, never sees ENOTCONN) and exits cleanly;
#   - each cp either succeeds or fails with an error of its own (EIO,
#     ENOSPC, ...);
#   - `cora fsck` is clean after the unmount;
#   - after a clean remount (no faults) a file whose cp succeeded is there
#     with its digest, one whose cp failed is absent or whole, never
#     partial; keep.bin still verifies; no staging file is left over;
#     fsck is clean again after that unmount.
#
# The walk ends at the first N where both copies succeed and the fault
# did not fire (N is past the daemon's last point).  It walks every
# point: a daemon start and two copies pass a few dozen.
# MOUNT_WALK_LIMIT (default 400) bounds it; VERBOSE=1 shows what cp said.
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/../mount/lib.sh"

LIMIT=${MOUNT_WALK_LIMIT:-400}
T=$TMP/template
MNT=$TMP/mnt
SRC=$TMP/src
CAT=$T
mkdir -p "$SRC" "$MNT"
# 10 MiB: past the 8 MiB where a write-only handle writes behind its
# replies (fs/write.c), so a write lost there is walked too
head -c $((10 << 20)) /dev/urandom >"$SRC/big.bin"
printf 'a small file\n' >"$SRC/small.txt"
printf 'kept\n' >"$TMP/keep.bin"

"$CORA" -q init "$T" >/dev/null || { fail "cora init"; finish; exit; }
c dataset create t >/dev/null || { fail "dataset create"; finish; exit; }
c dataset ingest t "$TMP/keep.bin" >/dev/null || { fail "ingest"; finish; exit; }
CAT=$TMP/walk   # the copy each run mounts
sum_big=$(sha256sum <"$SRC/big.bin" | cut -d' ' -f1)
sum_small=$(sha256sum <"$SRC/small.txt" | cut -d' ' -f1)

# start_daemon N: starts corafs with CORA_FAULT=N (0: no fault, and no
# report); returns 0 once mounted, 1 when the daemon exited first (its
# status in DAEMON_RC), 2 when it neither mounted nor exited within 10 s.
start_daemon() {
  local report=
  [ "$1" != 0 ] && report=$TMP/report && rm -f "$report"
  CORA_FAULT=$1 CORA_FAULT_REPORT=$report \
    "$CORAFS" "$CAT" "$MNT" -f >/dev/null 2>"$TMP/daemon.err" &
  DAEMON_PID=$!
  DAEMONS+=("$DAEMON_PID")
  MOUNTS+=("$MNT")
  for _ in $(seq 100); do
    if is_mounted "$MNT" && [ -e "$MNT/README.txt" ]; then
      return 0
    fi
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      DAEMON_RC=0
      wait "$DAEMON_PID" || DAEMON_RC=$?
      return 1
    fi
    sleep 0.1
  done
  return 2
}

# stop_daemon: unmounts; the daemon must exit 0 within 10 s.
stop_daemon() {
  local rc=0
  detach "$MNT" || { echo "cannot unmount"; return 1; }
  for _ in $(seq 100); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -9 "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
    echo "the daemon did not exit after the unmount"
    return 1
  fi
  wait "$DAEMON_PID" || rc=$?
  [ "$rc" = 0 ] || { echo "the daemon exited $rc: $(tail -3 "$TMP/daemon.err")"; return 1; }
}

# copy NAME: cp of $SRC/NAME into datasets/t; sets CP_RC, CP_ERR.
copy() {
  CP_RC=0
  timeout 60 cp "$SRC/$1" "$MNT/datasets/t/$1" 2>"$TMP/cp.err" || CP_RC=$?
  CP_ERR=$(head -c 300 "$TMP/cp.err")
}

# whole_or_absent NAME SUM RC: the file is whole, or absent when its cp
# failed (RC != 0).
whole_or_absent() {
  local f=$MNT/datasets/t/$1 got
  if [ ! -e "$f" ]; then
    [ "$3" = 0 ] && { echo "$1 was copied (cp exited 0) but is gone"; return 1; }
    return 0
  fi
  got=$(sha256sum <"$f" | cut -d' ' -f1) || { echo "cannot read $1"; return 1; }
  [ "$got" = "$2" ] ||
    { echo "$1 is partial or wrong: $(stat -c %s "$f") bytes, digest $got (cp exited $3)"; return 1; }
}

fsck_clean() {
  c fsck >"$TMP/fsck" 2>&1 || { echo "fsck $1: $(head -c 500 "$TMP/fsck")"; return 1; }
}

# one_run N: one mount with CORA_FAULT=N; prints why when something is
# wrong.  Sets BOTH_OK when both copies succeeded.
one_run() {
  local n=$1 rc big_rc=1 small_rc=1 left why
  rm -rf "$CAT"
  cp -a "$T" "$CAT"
  start_daemon "$n"
  rc=$?
  if [ "$rc" = 2 ]; then
    echo "the daemon neither mounted nor exited within 10 s"
    return 1
  fi
  if [ "$rc" = 1 ]; then
    STARTS_FAILED=$((STARTS_FAILED + 1))
    BOTH_OK=0
    [ "$DAEMON_RC" != 0 ] && [ "$DAEMON_RC" -lt 128 ] ||
      { echo "the daemon exited $DAEMON_RC before mounting: $(head -c 300 "$TMP/daemon.err")"; return 1; }
    [ "$(wc -l <"$TMP/daemon.err")" = 1 ] && grep -q '^corafs: ' "$TMP/daemon.err" ||
      { echo "start-up failed without one 'corafs: ' line: $(head -c 300 "$TMP/daemon.err")"; return 1; }
    ! is_mounted "$MNT" || { echo "the daemon exited but $MNT is mounted"; return 1; }
    fsck_clean "after a failed start" || return 1
  else
    copy big.bin; big_rc=$CP_RC; why=$CP_ERR
    copy small.txt; small_rc=$CP_RC; why="$why $CP_ERR"
    BOTH_OK=$([ "$big_rc" = 0 ] && [ "$small_rc" = 0 ] && echo 1 || echo 0)
    [ "$BOTH_OK" = 1 ] || CP_FAILED=$((CP_FAILED + 1))
    [ -n "${VERBOSE:-}" ] && echo "N=$n: cp exited $big_rc, $small_rc: $why" >&2
    case "$why" in
      *"not connected"*) echo "the daemon went away under cp: $why"; stop_daemon >/dev/null; return 1 ;;
    esac
    [ "$big_rc" != 124 ] && [ "$small_rc" != 124 ] ||
      { echo "cp hung (timeout)"; stop_daemon >/dev/null; return 1; }
    kill -0 "$DAEMON_PID" 2>/dev/null ||
      { echo "the daemon died: $(tail -3 "$TMP/daemon.err")"; detach "$MNT"; return 1; }
    stop_daemon || return 1
    fsck_clean "after the faulty mount" || return 1
  fi
  # a clean remount shows what stuck
  start_daemon 0 || { echo "the clean remount failed: $(head -c 300 "$TMP/daemon.err")"; stop_daemon >/dev/null; return 1; }
  whole_or_absent big.bin "$sum_big" "$big_rc" &&
    whole_or_absent small.txt "$sum_small" "$small_rc" || { stop_daemon >/dev/null; return 1; }
  left=$(ls "$CAT/staging" | grep '^w-' | head -3)
  [ -z "$left" ] || { echo "staging files left after the remount: $left"; stop_daemon >/dev/null; return 1; }
  stop_daemon || return 1
  c dataset verify t >"$TMP/verify" 2>&1 ||
    { echo "dataset t does not verify: $(head -c 300 "$TMP/verify")"; return 1; }
  fsck_clean "after the clean remount" || return 1
}

STARTS_FAILED=0 CP_FAILED=0 problems=0
n=1
while [ "$n" -le "$LIMIT" ]; do
  BOTH_OK=0 FIRED=0 POINTS=0
  if one_run "$n" >"$TMP/why"; then
    ok
  else
    fail "CORA_FAULT=$n: $(cat "$TMP/why")"
    problems=$((problems + 1))
    [ "$problems" -ge 10 ] && { fail "stopping after 10 problems"; break; }
  fi
  [ -s "$TMP/report" ] && read -r POINTS FIRED <"$TMP/report"
  if [ "$BOTH_OK" = 1 ] && [ "$FIRED" = 0 ]; then
    [ "$POINTS" -ge "$n" ] &&
      fail "passed $POINTS fault points with CORA_FAULT=$n but none fired"
    echo "mount write: walked $((n - 1)) fault points of a daemon start and" \
      "two copies: $STARTS_FAILED starts failed, $CP_FAILED runs with a" \
      "copy failing, the rest absorbed"
    break
  fi
  n=$((n + 1))
done
[ "$n" -le "$LIMIT" ] || fail "still firing faults at N=$LIMIT"
finish
