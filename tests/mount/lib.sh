# shellcheck shell=bash
# lib.sh: helpers for the mount tests (STYLE rules 15, 17).  Source it
# after setting CORA and CORAFS (absolute paths).  Every test mounts a
# real corafs in the foreground (so $! is the daemon), waits until the
# mount answers, and a trap unmounts everything and kills the daemons
# it started, whatever happens.
set -uo pipefail

if [ ! -c /dev/fuse ]; then
  echo "SKIP: /dev/fuse is missing"
  exit 77
fi

TMP=$(mktemp -d /tmp/corafs-mt-XXXXXX)
# the interpreter itself, not a version manager's shim (fast start-up)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
passed=0
failed=0
MOUNTS=()     # mount points we mounted
DAEMONS=()    # daemon pids we started
DAEMON_PID=   # the last daemon started

fail() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}

ok() {
  passed=$((passed + 1))
}

# check DESCRIPTION COMMAND...: ok when the command exits 0.
check() {
  local what=$1
  shift
  if "$@"; then ok; else fail "$what"; fi
}

c() { "$CORA" -C "$CAT" "$@"; }

# is_mounted MNT: the kernel has a fuse.corafs mount there.
is_mounted() {
  awk -v m="$(realpath -m "$1")" '$2 == m && $3 ~ /fuse/ { f = 1 } END { exit !f }' \
    /proc/self/mounts
}

# mount_cat CATALOG MNT [corafs options...]: starts the daemon in the
# foreground (in the background of this shell) and waits up to 10 s for
# the mount to answer.  Sets DAEMON_PID.  Returns 1 on failure.
mount_cat() {
  local cat=$1 mnt=$2 i
  shift 2
  mkdir -p "$mnt"
  "$CORAFS" "$cat" "$mnt" -f "$@" 2>>"$TMP/corafs.stderr" &
  DAEMON_PID=$!
  DAEMONS+=("$DAEMON_PID")
  MOUNTS+=("$mnt")
  for i in $(seq 100); do
    if is_mounted "$mnt" && [ -e "$mnt/README.txt" ]; then
      return 0
    fi
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      echo "corafs exited before mounting: $(tail -5 "$TMP/corafs.stderr")" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "corafs did not mount $mnt within 10 s" >&2
  return 1
}

# detach MNT: fusermount3 -u, then umount -l as a fallback.
detach() {
  local mnt=$1
  is_mounted "$mnt" || return 0
  fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null ||
    umount -l "$mnt" 2>/dev/null
  ! is_mounted "$mnt"
}

# wait_gone PID [SECONDS]: waits for a daemon to exit, kill -9 after.
wait_gone() {
  local pid=$1 n=$(( ${2:-10} * 10 ))
  [ -n "$pid" ] || return 0
  for _ in $(seq "$n"); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 1
}

# unmount_cat MNT: a clean unmount; the daemon (DAEMON_PID) must exit.
unmount_cat() {
  local mnt=$1
  detach "$mnt" || { echo "cannot unmount $mnt" >&2; return 1; }
  wait_gone "$DAEMON_PID" 10 || { echo "corafs did not exit after unmount" >&2; return 1; }
  return 0
}

# kill9_cat MNT: kill -9 the daemon, then detach its dead mount.
kill9_cat() {
  local mnt=$1
  kill -9 "$DAEMON_PID" 2>/dev/null
  wait "$DAEMON_PID" 2>/dev/null
  detach "$mnt"
}

cleanup() {
  local m p
  for m in "${MOUNTS[@]}"; do
    if is_mounted "$m"; then
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null ||
        umount -l "$m" 2>/dev/null
    fi
  done
  for p in "${DAEMONS[@]}"; do
    kill -0 "$p" 2>/dev/null && kill "$p" 2>/dev/null
  done
  sleep 0.2
  for p in "${DAEMONS[@]}"; do
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
  done
  if [ "$failed" != 0 ] && [ -s "$TMP/corafs.stderr" ]; then
    echo "---- corafs stderr (last 20 lines) ----" >&2
    tail -20 "$TMP/corafs.stderr" >&2
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# errno_of PYTHON-STATEMENTS: runs them; prints OK, or the errno name of
# the OSError they raise.  Names in the statements: os, errno, and $1..
# passed as sys.argv[1:].
errno_of() {
  local code=$1
  shift
  "$PY" - "$@" <<EOF
import os, sys, errno
a = sys.argv
try:
$(printf '%s\n' "$code" | sed 's/^/    /')
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
EOF
}

# expect_errno NAME DESCRIPTION PYTHON [ARGS...]
expect_errno() {
  local want=$1 what=$2 got
  shift 2
  got=$(errno_of "$@")
  if [ "$got" = "$want" ]; then ok; else fail "$what: got $got, wanted $want"; fi
}

# count_events: the number of events in the log.
count_events() {
  "$CORA" -C "$CAT" log --json | wc -l
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
