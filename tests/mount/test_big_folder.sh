#!/usr/bin/env bash
# test_big_folder.sh: a dataset folder of 100,000 files lists completely
# and streams (DESIGN 4): `ls -f` prints every name, and the daemon's
# resident memory grows by less than 8 MiB while it does.  The time is
# printed, not asserted; a listing still running after BIG_LS_LIMIT
# seconds (default 60) fails, and the daemon is killed to free it (a
# process waiting on a FUSE request cannot be killed itself).
#
#     test_big_folder.sh CORA CORAFS      (BIG_FILES=100000 by default)
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt
N=${BIG_FILES:-100000}
LIMIT=${BIG_LS_LIMIT:-60}
MAX_GROWTH_KB=$((8 * 1024))

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

"$CORA" -q init "$CAT" >/dev/null || { fail "cora init"; finish; exit; }
mkdir -p "$TMP/src"
(cd "$TMP/src" && seq -f 'f%06g' "$N" | xargs touch) || { fail "making $N files"; finish; exit; }
printf 'x' >"$TMP/src/f000001"
"$CORA" -C "$CAT" dataset create big >/dev/null || { fail "cora dataset create"; finish; exit; }
t=$(now)
if "$CORA" -C "$CAT" -q dataset ingest big "$TMP/src" >"$TMP/ingest" 2>&1; then ok; else
  fail "cora dataset ingest of $N files: $(tail -3 "$TMP/ingest")"
  finish
  exit
fi
echo "ingest of $N files: $(since "$t") s"

mount_cat "$CAT" "$MNT" || { fail "mount"; finish; exit; }
stat "$MNT/datasets/big" >/dev/null || fail "stat datasets/big"
before=$(rss_kb "$DAEMON_PID")

t=$(now)
(ls -f "$MNT/datasets/big" | wc -l >"$TMP/count") &
lpid=$!
finished=1
while kill -0 "$lpid" 2>/dev/null; do
  if [ "$(echo "$(since "$t") > $LIMIT" | bc)" = 1 ]; then
    finished=0
    break
  fi
  sleep 0.1
done
elapsed=$(since "$t")
after=$(rss_kb "$DAEMON_PID")
if [ "$finished" = 1 ]; then
  wait "$lpid"
  echo "ls -f of $N files: $elapsed s; daemon RSS $before KiB -> $after KiB"
  count=$(cat "$TMP/count")
  # the files, ".", "..", datacite.xml and ro-crate-metadata.json
  [ "$count" = $((N + 4)) ] && ok || fail "ls -f printed $count names, wanted $((N + 4))"
else
  fail "ls -f of $N files still running after $LIMIT s (daemon RSS $before KiB -> $after KiB)"
  kill -9 "$DAEMON_PID" 2>/dev/null # aborts the connection: frees ls
  wait "$DAEMON_PID" 2>/dev/null
  wait "$lpid" 2>/dev/null
  detach "$MNT"
fi
growth=$((after - before))
if [ -n "${CORA_SANITIZER:-}" ]; then
  # ASan's shadow memory and quarantine grow with every allocation: the
  # bound holds for the daemon, not for the daemon under ASan
  echo "note: RSS bound not checked under $CORA_SANITIZER"
elif [ "$growth" -lt "$MAX_GROWTH_KB" ]; then
  ok
else
  fail "daemon RSS grew by $growth KiB during the listing (limit $MAX_GROWTH_KB KiB)"
fi

if [ "$finished" = 1 ]; then
  # a name from the middle and the one non-empty file
  mid=$(printf "f%06d" $((N / 2)))
  [ "$(stat -c %s "$MNT/datasets/big/$mid")" = 0 ] && ok || fail "stat $mid"
  [ "$(cat "$MNT/datasets/big/f000001")" = x ] && ok || fail "read f000001"
  t=$(now)
  n=$(find "$MNT/datasets/big" -type f | wc -l)
  echo "find of $N files: $(since "$t") s; daemon RSS $(rss_kb "$DAEMON_PID") KiB"
  [ "$n" = $((N + 2)) ] && ok || fail "find printed $n files, wanted $((N + 2))"
  check "unmount" unmount_cat "$MNT"
fi
finish
