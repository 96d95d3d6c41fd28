#!/usr/bin/env bash
# test_external.sh: changes made with `cora` while the catalog is mounted
# show in the mount within one second (DESIGN 1), even where the kernel
# had cached the old answer (names, negative names, attributes, pages,
# generated files): create, ingest, re-ingest, rm, mkdir, promote,
# discard, and a burst of changes within one poll of the log.
#
#     test_external.sh CORA CORAFS
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt
DS=$MNT/datasets
LIMIT_MS=${EXTERNAL_LIMIT_MS:-1000}

"$CORA" -q demo "$CAT" >/dev/null || { fail "cora demo"; finish; exit; }
mount_cat "$CAT" "$MNT" || { fail "mount"; finish; exit; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# within DESCRIPTION COMMAND...: the command succeeds within LIMIT_MS of
# the change (T0, set right after the cora command returned).
within() {
  local what=$1 t
  shift
  while :; do
    if "$@" >/dev/null 2>&1; then
      t=$(($(now_ms) - T0))
      echo "  $what: ${t} ms"
      ok
      return 0
    fi
    t=$(($(now_ms) - T0))
    if [ "$t" -gt "$LIMIT_MS" ]; then
      fail "$what: not visible after ${t} ms"
      return 1
    fi
    sleep 0.02
  done
}
change() { # change COMMAND...: run cora, set T0
  if "$@" >"$TMP/out" 2>&1; then ok; else fail "$*: $(cat "$TMP/out")"; fi
  T0=$(now_ms)
}
listed() { ls "$1" | grep -qx -- "$2"; }
not_listed() { ! ls "$1" | grep -qx -- "$2"; }
xattr_is() { [ "$(getfattr --absolute-names --only-values -n "$1" "$2" 2>/dev/null)" = "$3" ]; }
size_is() { [ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]; }
content_is() { [ "$(sha256sum <"$1" 2>/dev/null | cut -d' ' -f1)" = "$2" ]; }
gone() { ! stat "$1" >/dev/null 2>&1; }
# the size getattr reports is the size of the bytes read
exact_size() { [ "$(stat -c %s "$1")" = "$(wc -c <"$1")" ]; }
readme_says() { grep -q "  datasets/  $1 datasets" "$MNT/README.txt"; }
last_event_is() { tail -c 4096 "$MNT/.cora/events.jsonl" | tail -1 | grep -q "\"event_type\": *\"$1\""; }

# warm the caches: names (also negative ones), attributes, pages
ls -l "$DS" >/dev/null
stat "$DS/ext1" "$DS/ext1/data.bin" >/dev/null 2>&1
cat "$MNT/README.txt" "$MNT/.cora/events.jsonl" >/dev/null
ndatasets=$(c --json dataset ls | grep -c '"intent"')

# ---- create -------------------------------------------------------------------------
echo "cora dataset create ext1"
change c dataset create ext1
within "ls shows ext1" listed "$DS" ext1
within "stat finds ext1 (negative entry dropped)" stat "$DS/ext1"
within "user.cora.intent = Trial" xattr_is user.cora.intent "$DS/ext1" Trial
within "README.txt counts it" readme_says $((ndatasets + 1))
within ".cora/events.jsonl ends with DatasetRegistered" last_event_is DatasetRegistered
exact_size "$MNT/README.txt" && ok || fail "README.txt size != bytes read"
exact_size "$MNT/.cora/events.jsonl" && ok || fail "events.jsonl size != bytes read"

# ---- ingest ---------------------------------------------------------------------------
head -c 100000 /dev/urandom >"$TMP/data.bin"
sum1=$(sha256sum <"$TMP/data.bin" | cut -d' ' -f1)
stat "$DS/ext1/data.bin" >/dev/null 2>&1 # a negative entry
ls "$DS/ext1" >/dev/null
dc_before=$(cat "$DS/ext1/ro-crate-metadata.json")
echo "cora dataset ingest ext1 data.bin"
change c -q dataset ingest ext1 "$TMP/data.bin"
within "ls shows data.bin" listed "$DS/ext1" data.bin
within "stat data.bin: 100000 bytes" size_is "$DS/ext1/data.bin" 100000
within "content of data.bin" content_is "$DS/ext1/data.bin" "$sum1"
within "user.cora.sha256 of data.bin" xattr_is user.cora.sha256 "$DS/ext1/data.bin" "$sum1"
within "ro-crate-metadata.json names data.bin" grep -q data.bin "$DS/ext1/ro-crate-metadata.json"
[ "$dc_before" != "$(cat "$DS/ext1/ro-crate-metadata.json")" ] && ok || fail "ro-crate-metadata.json unchanged"
exact_size "$DS/ext1/ro-crate-metadata.json" && ok || fail "ro-crate-metadata.json size != bytes read"
exact_size "$DS/ext1/datacite.xml" && ok || fail "datacite.xml size != bytes read"

# ---- re-ingest: new content under the same name (cached pages must go) ----------------
head -c 70000 /dev/urandom >"$TMP/data.bin"
sum2=$(sha256sum <"$TMP/data.bin" | cut -d' ' -f1)
cat "$DS/ext1/data.bin" >/dev/null # pages in the cache
echo "cora dataset ingest ext1 data.bin (new content)"
change c -q dataset ingest ext1 "$TMP/data.bin"
within "stat data.bin: 70000 bytes" size_is "$DS/ext1/data.bin" 70000
within "new content of data.bin" content_is "$DS/ext1/data.bin" "$sum2"
within "new user.cora.sha256" xattr_is user.cora.sha256 "$DS/ext1/data.bin" "$sum2"

# ---- mkdir, rm ---------------------------------------------------------------------------
stat "$DS/ext1/folder" >/dev/null 2>&1
echo "cora dataset mkdir ext1 folder"
change c dataset mkdir ext1 folder
within "stat finds folder" test -d "$DS/ext1/folder"
echo "cora dataset rm ext1 data.bin"
change c dataset rm ext1 data.bin
within "data.bin gone from ls" not_listed "$DS/ext1" data.bin
within "stat data.bin fails" gone "$DS/ext1/data.bin"

# ---- promote ------------------------------------------------------------------------------
c -q dataset ingest ext1 "$TMP/data.bin" >/dev/null 2>&1
sleep 0.5
stat "$DS/ext1" "$DS/ext1/data.bin" >/dev/null
mode_before=$(stat -c %a "$DS/ext1/data.bin")
dc_before=$(cat "$DS/ext1/datacite.xml")
echo "cora dataset promote ext1"
change c dataset promote ext1 --reason "ready for the portal"
within "user.cora.intent = Production" xattr_is user.cora.intent "$DS/ext1" Production
within "no write bits on data.bin (was $mode_before)" eval '[ "$(stat -c %a "$DS/ext1/data.bin")" = 444 ]'
within "no write bits on ext1" eval '[ "$(stat -c %a "$DS/ext1")" = 555 ]'
within "datacite.xml changed" eval '[ "$dc_before" != "$(cat "$DS/ext1/datacite.xml")" ]'
exact_size "$DS/ext1/datacite.xml" && ok || fail "datacite.xml size != bytes read after promote"
expect_errno EROFS "a write into ext1 after the promotion" 'open(a[1], "w")' "$DS/ext1/late.txt"

# ---- discard ------------------------------------------------------------------------------
c dataset create ext2 >/dev/null
c -q dataset ingest ext2 "$TMP/data.bin" >/dev/null
sleep 0.5
stat "$DS/ext2" "$DS/ext2/data.bin" >/dev/null 2>&1 || fail "ext2 not visible before discard"
echo "cora dataset discard ext2"
change c dataset discard ext2 --reason "wrong sample"
within "ext2 gone from ls" not_listed "$DS" ext2
within "stat ext2 fails (positive entry dropped)" gone "$DS/ext2"
within "README.txt counts it out" readme_says $((ndatasets + 1))
within ".cora/events.jsonl ends with DatasetDiscarded" last_event_is DatasetDiscarded

# ---- a burst: several changes in one poll of the log, each one seen ---------------------------
mkdir -p "$TMP/burst"
for f in a b c d; do echo "$f" >"$TMP/burst/$f"; done
c dataset create ext3 >/dev/null
c -q dataset ingest ext3 "$TMP/burst" >/dev/null
sleep 0.5
for f in a b c d; do cat "$DS/ext3/$f" >/dev/null 2>&1 || fail "ext3/$f not visible"; done
echo "cora dataset rm ext3 a, b, c in a burst"
c dataset rm ext3 a >/dev/null && c dataset rm ext3 b >/dev/null && change c dataset rm ext3 c
within "ext3/a gone" gone "$DS/ext3/a"
within "ext3/b gone" gone "$DS/ext3/b"
within "ext3/c gone" gone "$DS/ext3/c"
within "ro-crate-metadata.json of ext3 lists only d" eval \
  '! grep -q "\"a\"\|\"b\"\|\"c\"" "$DS/ext3/ro-crate-metadata.json" && grep -q "\"d\"" "$DS/ext3/ro-crate-metadata.json"'
cat "$DS/ext3/d" >/dev/null 2>&1 && ok || fail "ext3/d went too"

# ---- an asset registered outside ----------------------------------------------------------
stat "$MNT/assets/Detector2" >/dev/null 2>&1
echo "cora asset register Detector2"
change c asset register Detector2 --tier Device --parent 2-BM
within "assets/Detector2 appears" test -f "$MNT/assets/Detector2/pidinst.json"

check "unmount" unmount_cat "$MNT"
if c fsck >"$TMP/fsck" 2>&1; then ok; else fail "cora fsck: $(tail -5 "$TMP/fsck")"; fi
finish
