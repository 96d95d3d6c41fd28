#!/usr/bin/env bash
# test_export.sh: `cora dataset export` with every fault point failing
# once, for every format (zip, tar, tar.gz, tar.zst, bagit as a tar and
# as a zip); then with the output file capped (RLIMIT_FSIZE, SIGXFSZ
# ignored: write() fails with EFBIG, as on a full disk) at sizes below
# the archive's (the smallest ones stop SQLite's shared-memory file
# first: a failure to open the catalog, clean all the same).
#
# The template holds a dataset 'exp' with a file of several 1 MiB
# export chunks, nested folders, an empty file and a link.  An export
# appends no event, so the "log" the walk compares (events, below) is
# the number of events plus the number of files under the -o name: a
# run that succeeds must add the archive, one that fails must leave
# neither an event nor a file there.  Then CHECK: a failure leaves the
# output folder empty (no half archive, no temporary file beside it); a
# success leaves exactly the archive, and it is byte for byte the one a
# run without faults writes (exports are deterministic, archives.h E1).
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

T=$TMP/template
CAT=$T
OUT=$TMP/archives
mkdir -p "$TMP/src/a/b" "$TMP/src/c" "$OUT"
head -c 2500000 /dev/urandom >"$TMP/src/a/big.bin"
printf 'x' >"$TMP/src/c/x.txt"
printf 'nested\n' >"$TMP/src/a/b/n.txt"
: >"$TMP/src/empty"
ln -s a/big.bin "$TMP/src/link"

expect_ok "$CORA" init "$T"
expect_ok c dataset create exp
expect_ok c dataset ingest exp "$TMP/src"

# the "log" of an export: events, plus the output if it is there
events() {
  local n
  n=$("$CORA" -C "$CAT" log --json | wc -l)
  [ -e "$OUT/$NAME" ] && n=$((n + 1))
  echo "$n"
}

FORMAT='' CONTAINER=() NAME=''
run() {
  rm -rf "$OUT" && mkdir "$OUT" &&
    c dataset export exp --format "$FORMAT" "${CONTAINER[@]}" -o "$OUT/$NAME"
}

check_output() {
  local left
  left=$(ls -A "$OUT")
  if [ "$1" != 0 ]; then
    [ -z "$left" ] || { echo "a failed export left: $left"; return 1; }
    return 0
  fi
  [ "$left" = "$NAME" ] || { echo "the output folder holds: $left"; return 1; }
  cmp -s "$OUT/$NAME" "$TMP/ref.$NAME" ||
    { echo "the archive differs from the one a run without faults wrote"; return 1; }
  verify_all exp
}

# empties the output folder afterwards, so the next run starts from none
check() {
  local rc=0
  check_output "$1" || rc=$?
  rm -rf "$OUT" && mkdir "$OUT"
  return "$rc"
}

for spec in zip tar tar.gz tar.zst bagit bagit:zip; do
  FORMAT=${spec%%:*} CONTAINER=() NAME=exp.$spec
  [ "$spec" = bagit:zip ] && CONTAINER=(--container zip) NAME=exp.bag.zip
  # the reference: the same export without faults
  CAT=$T
  expect_ok c dataset export exp --format "$FORMAT" "${CONTAINER[@]}" \
    -o "$TMP/ref.$NAME"
  walk "export $spec" "$T" run check

  # the disk fills up: the output may not grow past LIMIT KiB
  size=$(stat -c %s "$TMP/ref.$NAME")
  for limit in 0 1 64 $((size / 2048)) $((size / 1024 - 1)); do
    CAT=$TMP/walk
    rm -rf "$CAT" && cp -a "$T" "$CAT"
    # stderr through a pipe: the cap would stop it from reaching a file
    res=$( (trap '' XFSZ; ulimit -f "$limit"; run 2>&1 >/dev/null; echo "exit $?") )
    rc=${res##*exit }
    err=${res%exit *}
    if [ "$rc" != 1 ]; then
      fail "export $spec, output capped at $limit KiB: exited $rc (wanted 1): $err"
    elif [ "$(printf '%s' "$err" | wc -l)" != 1 ] || [ "${err#cora: }" = "$err" ]; then
      fail "export $spec, output capped at $limit KiB: not one 'cora: ' line: $err"
    elif [ -n "$(ls -A "$OUT")" ]; then
      fail "export $spec, output capped at $limit KiB: left $(ls -A "$OUT")"
    elif ! c fsck >"$TMP/fsck" 2>&1; then
      fail "export $spec, output capped at $limit KiB: fsck: $(head -c 500 "$TMP/fsck")"
    else
      ok
    fi
  done
done
finish
