#!/usr/bin/env bash
# test_s3.sh CORA CORAFS: the s3 suite.  Runs s3rver on 127.0.0.1 (a free
# port), with faultproxy.py in front of it (checks every SigV4 signature,
# and refuses, stalls or fails requests on demand), and drives the S3 store
# and its cache through `cora` and a real corafs mount:
#
#   credentials (file mode, never printed), init, ingest with a multipart
#   blob and dedup, listing with continuation tokens, a cold-cache mount
#   (diff, sha256sum, partial reads), verify, gc, writes with the server
#   down (clean EIO, log unchanged), 500s then recovery, a stalled server
#   (bounded), long UploadIds and ETags (upload, completion, abort), and
#   migration local -> s3 -> local.
#
# The mount parts are skipped only when /dev/fuse is missing.  Prints
# "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$(python3 -c 'import sys; print(sys.executable)')
TMP=$(mktemp -d /tmp/corafs-s3-XXXXXX)
passed=0
failed=0
PIDS=()
MOUNTS=()

# A distinctive secret and session token: they must never show anywhere.
export AWS_ACCESS_KEY_ID=S3RVER
export AWS_SECRET_ACCESS_KEY=Zq9-corafs-SECRET-7f3e1d
export AWS_SESSION_TOKEN=Tk4-corafs-TOKEN-91ab
unset AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
export HOME=$TMP/home
mkdir -p "$HOME"

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }

# run CMD...: runs it, keeps its output in $TMP/out and $TMP/err, and
# everything in $TMP/all.log (searched for secrets at the end).
run() {
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  cat "$TMP/out" "$TMP/err" >>"$TMP/all.log"
  return $rc
}
c() { run "$CORA" -C "$CAT" "$@"; }

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

is_mounted() {
  awk -v m="$(realpath -m "$1")" '$2 == m && $3 ~ /fuse/ { f = 1 } END { exit !f }' \
    /proc/self/mounts
}

cleanup() {
  local m p
  for m in "${MOUNTS[@]}"; do
    is_mounted "$m" && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null; }
  done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  if [ "$failed" != 0 ]; then
    for f in corafs.stderr proxy.log; do
      [ -s "$TMP/$f" ] && { echo "---- $f (last 15 lines) ----" >&2; tail -15 "$TMP/$f" >&2; }
    done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- servers ---------------------------------------------------------------

if [ ! -x "$HERE/node_modules/.bin/s3rver" ]; then
  bash "$HERE/setup.sh" || { echo "FAIL: cannot install s3rver"; exit 1; }
fi
S3PORT=$(free_port)
PXPORT=$(free_port)
DATA=$TMP/s3data
BUCKET=corafs-test
mkdir -p "$DATA"
# s3rver 3.7 makes listing continuation tokens with DES, which OpenSSL 3
# keeps in its legacy provider
NODE_OPTIONS=--openssl-legacy-provider "$HERE/node_modules/.bin/s3rver" \
  --address 127.0.0.1 --port "$S3PORT" --directory "$DATA" \
  --configure-bucket "$BUCKET" >"$TMP/s3rver.log" 2>&1 &
PIDS+=($!)
CTL=$TMP/proxy.ctl
PLOG=$TMP/proxy.log
: >"$PLOG"
start_proxy() {
  "$PY" "$HERE/faultproxy.py" --port "$PXPORT" --upstream "127.0.0.1:$S3PORT" \
    --control "$CTL" --log "$PLOG" --secret "$AWS_SECRET_ACCESS_KEY" \
    >>"$TMP/proxy.out" 2>&1 &
  PROXY=$!
  PIDS+=($PROXY)
  wait_port "$PXPORT"
}
stop_proxy() {
  kill "$PROXY" 2>/dev/null
  wait "$PROXY" 2>/dev/null
  # until the port refuses
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PXPORT") 2>/dev/null || return 0; sleep 0.1; done
}
ctl() { echo "$*" >"$CTL"; }
ctl ok
wait_port "$S3PORT" || { echo "FAIL: s3rver did not start"; cat "$TMP/s3rver.log"; exit 1; }
start_proxy || { echo "FAIL: faultproxy did not start"; cat "$TMP/proxy.out"; exit 1; }
ENDPOINT=http://127.0.0.1:$PXPORT

# objects on the server under a prefix
count_objects() {
  find "$DATA/$BUCKET/$1" -name '*._S3rver_object' 2>/dev/null | wc -l
}

S3SET=(--set s3.multipart_threshold=5M --set s3.part_size=5M --set s3.list_page=2
       --set s3.retries=3 --set s3.retry_delay_ms=50 --set s3.stall_timeout=2
       --set s3.connect_timeout=2 --set s3.timeout=30
       --set cache.size=64M --set cache.chunk=1M --set cache.readahead=2)

# ---- test data -------------------------------------------------------------

SRC=$TMP/src
mkdir -p "$SRC/sub/deeper"
echo "hello s3" >"$SRC/a.txt"
cp "$SRC/a.txt" "$SRC/sub/same-as-a.txt"                 # dedup
head -c 100000 /dev/urandom >"$SRC/sub/b.bin"
: >"$SRC/sub/deeper/empty"
head -c $((12 * 1024 * 1024 + 12345)) /dev/urandom >"$SRC/big.bin"  # 3 parts
# larger than half the cache (never whole there) and than what the mount
# verifies before open returns (64 MiB): read in chunks, evicted
head -c $((70 * 1024 * 1024)) /dev/urandom >"$SRC/huge.bin"
BIGSHA=$(sha256sum "$SRC/big.bin" | cut -d' ' -f1)
HUGESHA=$(sha256sum "$SRC/huge.bin" | cut -d' ' -f1)

# ---- 1. credentials files ---------------------------------------------------

CAT=$TMP/cat-file
mkdir -p "$CAT"
# the same secret as the environment's: the proxy checks signatures with it
printf '[default]\naccess_key_id = S3RVER\nsecret_access_key = %s\n' "$AWS_SECRET_ACCESS_KEY" >"$CAT/credentials"
chmod 644 "$CAT/credentials"
if (unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    run "$CORA" init "$CAT" --blobs s3 --endpoint "$ENDPOINT" --bucket "$BUCKET"); then
  fail "init accepted a world-readable credentials file"
else
  check "the refusal names the file and the fix" grep -q "refusing credentials file '$CAT/credentials'.*chmod 600" "$TMP/err"
  check "nothing was created" test ! -e "$CAT/catalog.db"
fi
chmod 600 "$CAT/credentials"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
 run "$CORA" init "$CAT" --blobs s3 --endpoint "$ENDPOINT" --bucket "$BUCKET" --prefix fromfile &&
 run "$CORA" -C "$CAT" blobs info --check) ||
  fail "init and info with a 0600 credentials file: $(cat "$TMP/err")"
check "info says where the credentials come from" grep -q "credentials: file '$CAT/credentials'" "$TMP/out"
check "info reached the bucket (signed with the file's secret)" grep -q "reachable: yes" "$TMP/out"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
 run "$CORA" init "$TMP/cat-none" --blobs s3 --endpoint "$ENDPOINT" --bucket "$BUCKET")
check "init without credentials warns" grep -q "no S3 credentials found" "$TMP/err"
check "a bad endpoint is refused" bash -c "! '$CORA' init '$TMP/cat-bad' --blobs s3 --endpoint ftp://x --bucket b 2>/dev/null"
check "... and nothing was created" test ! -e "$TMP/cat-bad/catalog.db"

# ---- 2. init, ingest, multipart, dedup, listing ----------------------------

CAT=$TMP/cat
run "$CORA" init "$CAT" --blobs s3 --endpoint "$ENDPOINT" --bucket "$BUCKET" \
  --region us-east-1 --prefix corafs/t1 "${S3SET[@]}" || fail "init: $(cat "$TMP/err")"
check "config has the S3 keys" grep -q "^s3.endpoint = $ENDPOINT\$" "$CAT/config"
check "config has no secret" bash -c "! grep -q corafs-SECRET '$CAT/config'"
c dataset create ds1 || fail "dataset create"
: >"$PLOG"
c dataset ingest ds1 "$SRC/." || fail "ingest: $(cat "$TMP/err")"
check "6 files stored as 5 objects (dedup)" test "$(count_objects corafs/t1)" = 5
check "objects are named by digest" test -e "$DATA/$BUCKET/corafs/t1/sha256/${BIGSHA:0:2}/${BIGSHA:2}._S3rver_object"
check "the big blob went up in 3 parts" test "$(grep -c "${BIGSHA:2}?partNumber=.*&uploadId=.* 200" "$PLOG")" = 3
check "the huge blob in 14" test "$(grep -c "${HUGESHA:2}?partNumber=.*&uploadId=.* 200" "$PLOG")" = 14
check "the multipart upload was completed" grep -q "^POST .*${BIGSHA:2}?uploadId=.* 200" "$PLOG"
check "every put asked HEAD first" test "$(grep -c '^HEAD .* 404' "$PLOG")" = 5
check "no request had a bad signature" bash -c "! grep -q ' 403$' '$PLOG'"
check "the stored big object is byte-identical" cmp -s "$SRC/big.bin" \
  "$DATA/$BUCKET/corafs/t1/sha256/${BIGSHA:0:2}/${BIGSHA:2}._S3rver_object"
c dataset verify ds1 || fail "verify: $(cat "$TMP/out" "$TMP/err")"
: >"$PLOG"
c gc --dry-run --grace 0 || fail "gc dry run"
check "gc lists pages with continuation tokens" grep -q "continuation-token=" "$PLOG"
check "gc keeps every referenced blob" grep -q "would delete 0 blobs" "$TMP/out"

# ---- 3. the mount: cold cache, diff, sha256sum, partial reads --------------

MNT=$TMP/mnt
mount_cat() {
  mkdir -p "$MNT"
  "$CORAFS" "$CAT" "$MNT" -f 2>>"$TMP/corafs.stderr" &
  DAEMON=$!
  PIDS+=($DAEMON)
  MOUNTS+=("$MNT")
  for _ in $(seq 100); do
    is_mounted "$MNT" && [ -e "$MNT/README.txt" ] && return 0
    kill -0 "$DAEMON" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
unmount_cat() {
  fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
  for _ in $(seq 100); do kill -0 "$DAEMON" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
filelist() { (cd "$1" && find . -type f ! -name ro-crate-metadata.json ! -name datacite.xml | sort); }
sums() { (cd "$1" && filelist . | xargs -d '\n' sha256sum); }

HAVE_FUSE=0
[ -c /dev/fuse ] && HAVE_FUSE=1
if [ "$HAVE_FUSE" = 1 ]; then
  rm -rf "$CAT/cache"/sha256/* "$CAT/cache"/chunks/*
  : >"$PLOG"
  if mount_cat; then
    D=$MNT/datasets/ds1
    # a partial read of a cold blob starts at once: it fetches the chunk
    # it needs (1 MiB chunks) while the mount's verification hashes the
    # blob in the background (5 MiB ranges: too big for this cache)
    dd if="$D/huge.bin" of="$TMP/part" bs=4096 skip=1000 count=4 status=none
    dd if="$SRC/huge.bin" of="$TMP/part.want" bs=4096 skip=1000 count=4 status=none
    check "a partial read of a cold blob is right" cmp -s "$TMP/part" "$TMP/part.want"
    check "it fetched its own chunk" grep -q "^GET .*${HUGESHA:2} 206 bytes=3145728-4194303" "$PLOG"
    # a blob up to 64 MiB is verified at first open: downloaded whole
    # into the cache, then served from there
    check "the big blob reads right" cmp -s "$SRC/big.bin" "$D/big.bin"
    check "it is whole in the cache (verified)" \
      test -e "$CAT/cache/sha256/${BIGSHA:0:2}/${BIGSHA:2}"
    check "it was never chunked" test ! -d "$CAT/cache/chunks/$BIGSHA.1048576"
    check "the cached copy is right" cmp -s "$SRC/big.bin" "$CAT/cache/sha256/${BIGSHA:0:2}/${BIGSHA:2}"
    : >"$PLOG"
    cat "$D/big.bin" >/dev/null
    check "a warm read of a whole cached blob makes no GET" bash -c "! grep -q '^GET .*${BIGSHA:2}' '$PLOG'"
    # then everything, the huge blob too: more than the cache holds
    check "same files through the mount" diff <(filelist "$SRC") <(filelist "$D")
    check "diff -r of every file" bash -c "cd '$SRC' && find . -type f | while read -r f; do cmp -s \"\$f\" '$D/'\"\$f\" || exit 1; done"
    check "sha256sum through the mount" diff <(sums "$SRC") <(sums "$D")
    used=$(du -sb "$CAT/cache" | cut -f1)
    check "the cache stayed near its bound after reading 82 MiB ($used)" test "$used" -le $((72 * 1024 * 1024))
    check "the huge blob was never made whole" test ! -e "$CAT/cache/sha256/${HUGESHA:0:2}/${HUGESHA:2}"

    # a write through the mount while the server is down fails cleanly
    before=$("$CORA" -C "$CAT" log --json | wc -l)
    head -c 300000 /dev/urandom >"$TMP/new.bin"
    stop_proxy
    if run cp "$TMP/new.bin" "$D/new.bin"; then
      fail "cp through the mount succeeded with the server down"
    else
      ok
      check "the writer got EIO" grep -qi "input/output error" "$TMP/err"
    fi
    check "the log did not grow" test "$("$CORA" -C "$CAT" log --json | wc -l)" = "$before"
    check "no event names the missing blob" bash -c "! '$CORA' -C '$CAT' log --json | grep -q $(sha256sum "$TMP/new.bin" | cut -c1-64)"
    start_proxy
    # the failed file's handle is released asynchronously after close():
    # until then its name may be busy (EBUSY)
    for _ in $(seq 20); do
      rm -f "$D/new.bin" 2>/dev/null
      run cp "$TMP/new.bin" "$D/new.bin" && break
      grep -q "busy" "$TMP/err" || break
      sleep 0.1
    done
    [ -s "$TMP/err" ] && fail "cp after the server came back: $(cat "$TMP/err")"
    check "the file is there afterwards" cmp -s "$TMP/new.bin" "$D/new.bin"
    check "and in the bucket" test "$(count_objects corafs/t1)" = 6

    # a stalled server: reads fail within the bound, not hang
    rm -rf "$CAT/cache"/sha256/* "$CAT/cache"/chunks/*
    ctl stall 60
    t0=$(date +%s)
    if run timeout 60 cat "$D/sub/b.bin"; then fail "read from a stalled server succeeded"; else ok; fi
    t=$(( $(date +%s) - t0 ))
    check "a read from a stalled server gave up in ${t}s (bound ~10 s)" test "$t" -le 20
    check "... with EIO" grep -qi "input/output error" "$TMP/err"
    ctl ok
    check "reads work again" cmp -s "$SRC/sub/b.bin" "$D/sub/b.bin"
    check "unmount" unmount_cat
  else
    fail "corafs did not mount: $(tail -5 "$TMP/corafs.stderr")"
  fi
else
  echo "note: /dev/fuse is missing: mount tests skipped"
fi

# ---- 4. faults through cora ---------------------------------------------------

echo "ingest while down" >"$TMP/down.txt"
before=$("$CORA" -C "$CAT" log --json | wc -l)
stop_proxy
t0=$(date +%s)
if c dataset ingest ds1 "$TMP/down.txt"; then
  fail "ingest succeeded with the server down"
else
  ok
  check "the message says what failed" grep -q "cora: s3: HEAD blob .*: Couldn't connect to server.*gave up after 4 attempts" "$TMP/err"
fi
check "it gave up quickly" test $(( $(date +%s) - t0 )) -le 15
check "catalog unchanged after the failed write" test "$("$CORA" -C "$CAT" log --json | wc -l)" = "$before"
start_proxy

ctl fail 500 2
: >"$PLOG"
c dataset ingest ds1 "$TMP/down.txt" || fail "ingest after two 500s: $(cat "$TMP/err")"
check "two 500s were retried" test "$(grep -c ' 500$' "$PLOG")" = 2
check "and the put then succeeded" grep -q "^PUT .* 200" "$PLOG"
check "the log grew" test "$("$CORA" -C "$CAT" log --json | wc -l)" -gt "$before"

ctl fail 503 10
if c dataset verify ds1; then fail "verify succeeded with the server failing"; else ok; fi
check "the error reads like S3's" grep -q "s3: HEAD blob [0-9a-f]*: 503" "$TMP/err"
ctl ok

ctl refuse
if c blobs info --check; then fail "probe succeeded with connections reset"; else ok; fi
ctl ok
check "connections reset are retried then reported" grep -q "gave up after 4 attempts" "$TMP/err"

printf 'x' >"$TMP/fault.txt"
for n in 1 2; do
  if CORA_FAULT=$n run "$CORA" -C "$CAT" dataset ingest ds1 "$TMP/fault.txt"; then
    continue
  fi
  check "fault $n fails cleanly" grep -q "^cora: " "$TMP/err"
done

# ---- 4b. long UploadIds and ETags ----------------------------------------------
# S3 sets no small bound on an UploadId or an ETag: the proxy swaps the
# server's UploadId for one of about 700 bytes, most of them characters URI
# encoding triples (2,000 bytes in the query), and each part's ETag for one
# of about 450, and maps them back on the requests naming them (404
# NoSuchUpload, 400 InvalidPart when one arrives changed).

head -c $((11 * 1024 * 1024)) /dev/urandom >"$TMP/long-id.bin"   # 3 parts
LONGSHA=$(sha256sum "$TMP/long-id.bin" | cut -d' ' -f1)
ctl longid
: >"$PLOG"
c dataset ingest ds1 "$TMP/long-id.bin" || fail "ingest with a long UploadId: $(cat "$TMP/err")"
ctl ok
check "the upload got a long UploadId" grep -q "^POST .*${LONGSHA:2}?uploads= 200" "$PLOG"
check "its 3 parts went up under it, whole" \
  test "$(grep -c "${LONGSHA:2}?partNumber=.*&uploadId=corafsLongId.*end 200" "$PLOG")" = 3
check "it was completed under it, with the parts' long ETags" \
  grep -q "^POST .*${LONGSHA:2}?uploadId=corafsLongId.*end 200" "$PLOG"
check "no request named a changed UploadId" bash -c "! grep -q 'uploadId=.* 404$' '$PLOG'"
check "the stored object has the blob's sha256" test "$(sha256sum \
  "$DATA/$BUCKET/corafs/t1/sha256/${LONGSHA:0:2}/${LONGSHA:2}._S3rver_object" | cut -d' ' -f1)" = "$LONGSHA"
c dataset verify ds1 || fail "verify after a long UploadId: $(cat "$TMP/out" "$TMP/err")"

# a part refused under a long UploadId: the upload is aborted under it
head -c $((11 * 1024 * 1024)) /dev/urandom >"$TMP/long-abort.bin"
ABORTSHA=$(sha256sum "$TMP/long-abort.bin" | cut -d' ' -f1)
ctl longid abort
: >"$PLOG"
if c dataset ingest ds1 "$TMP/long-abort.bin"; then
  fail "ingest succeeded with its parts refused"
else
  ok
  check "the refusal is reported" grep -q "s3: PUT blob $ABORTSHA part [0-9]*: 400 InvalidArgument" "$TMP/err"
fi
ctl ok
check "the upload was aborted under its long UploadId" \
  grep -q "^DELETE .*${ABORTSHA:2}?uploadId=corafsLongId.*end 204" "$PLOG"
check "no object was left" test ! -e "$DATA/$BUCKET/corafs/t1/sha256/${ABORTSHA:0:2}/${ABORTSHA:2}._S3rver_object"

# ---- 5. gc removes exactly the unreferenced objects ---------------------------

c dataset create ds2 || fail "create ds2"
mkdir -p "$TMP/src2"
head -c 5000 /dev/urandom >"$TMP/src2/only2-a"
head -c 6000 /dev/urandom >"$TMP/src2/only2-b"
cp "$SRC/a.txt" "$TMP/src2/shared"
c dataset ingest ds2 "$TMP/src2/." || fail "ingest ds2"
n_before=$(count_objects corafs/t1)
c dataset discard ds2 --reason "test data" || fail "discard ds2: $(cat "$TMP/err")"
c gc --grace 0 || fail "gc: $(cat "$TMP/err")"
n_after=$(count_objects corafs/t1)
check "gc removed exactly the 2 unreferenced objects ($n_before -> $n_after)" test $((n_before - n_after)) = 2
check "gc says so" grep -q "deleted 2 blobs" "$TMP/out"
c dataset verify ds1 || fail "ds1 after gc: $(cat "$TMP/out" "$TMP/err")"

# ---- 6. migrate local -> s3 -> local ---------------------------------------

CAT=$TMP/cat-local
run "$CORA" init "$CAT" || fail "init local"
c dataset create m1 && c dataset ingest m1 "$SRC/." || fail "ingest local"
c blobs migrate --to s3 --endpoint "$ENDPOINT" --bucket "$BUCKET" --prefix mig || \
  fail "migrate to s3: $(cat "$TMP/err")"
check "migrate copied 5 blobs" grep -q "copied 5 blobs" "$TMP/out"
check "migrate says how to remove the old store" grep -q "rm -rf '$CAT/blobs'" "$TMP/out"
check "config switched" grep -q "^blobs = s3$" "$CAT/config"
check "the bucket has them" test "$(count_objects mig)" = 5
check "the old store is intact" test "$(find "$CAT/blobs/sha256" -type f | wc -l)" = 5
c dataset verify m1 || fail "verify after migrating to s3"
c blobs info || fail "info"
check "info names the bucket" grep -q "bucket: $BUCKET" "$TMP/out"
rm -rf "$CAT/blobs"
c blobs migrate --to local || fail "migrate back: $(cat "$TMP/err")"
check "config switched back" grep -q "^blobs = local$" "$CAT/config"
check "migrate back says how to remove the bucket's copy" grep -q "s3://$BUCKET/mig/sha256/" "$TMP/out"
c dataset verify m1 || fail "verify after migrating back"
if c blobs migrate --to local; then fail "migrate to the same store"; else ok; fi

# ---- 7. secrets ---------------------------------------------------------------

cat "$TMP"/corafs.stderr "$PLOG" "$TMP/s3rver.log" "$TMP/proxy.out" >>"$TMP/all.log" 2>/dev/null
check "something was captured" test -s "$TMP/all.log"
check "the secret never appears in output or logs" bash -c "! grep -q 'corafs-SECRET' '$TMP/all.log'"
check "the session token never appears" bash -c "! grep -q 'corafs-TOKEN' '$TMP/all.log'"
check "nor in any catalog file" bash -c "! grep -rq 'corafs-SECRET\|corafs-TOKEN' '$TMP/cat' '$TMP/cat-local'"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
