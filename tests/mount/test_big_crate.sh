#!/usr/bin/env bash
# test_big_crate.sh: the ro-crate-metadata.json of a dataset of 200,000
# files is rendered with bounded memory (schema/render.h: the crate
# streams; the mount counts its size for stat and renders it into an
# unlinked temporary file to read it).  Checks that stat's size equals
# the bytes read, that the bytes equal `cora dataset show --format
# rocrate`, that the document parses and lists every file, and that the
# daemon's peak resident memory (VmHWM) stays under BIG_CRATE_MAX_MIB
# (default 64 MiB; about 24 MiB measured.  The daemon held the whole
# document before the crate streamed: 1.3 GiB at 200,000 files), and
# so does `cora dataset show --format rocrate`'s.
#
#     test_big_crate.sh CORA CORAFS      (BIG_CRATE_FILES=200000 by default)
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt
N=${BIG_CRATE_FILES:-200000}
MAX_KB=$((${BIG_CRATE_MAX_MIB:-64} * 1024))
DIRS=100                    # folders of 1,000 files; the rest at the root
ROOT_FILES=$((N - DIRS * 1000))

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

"$CORA" -q init "$CAT" >/dev/null || { fail "cora init"; finish; exit; }
mkdir -p "$TMP/src"
(cd "$TMP/src" && seq -f 'f%06g' "$ROOT_FILES" | xargs -r touch &&
  for d in $(seq -f 'd%03g' "$DIRS"); do
    mkdir "$d" && (cd "$d" && seq -f 'g%04g' 1000 | xargs touch)
  done) || { fail "making $N files"; finish; exit; }
printf 'x' >"$TMP/src/d001/g0001"
c dataset create big >/dev/null || { fail "cora dataset create"; finish; exit; }
t=$(now)
if c -q dataset ingest big "$TMP/src" >"$TMP/ingest" 2>&1; then ok; else
  fail "cora dataset ingest of $N files: $(tail -3 "$TMP/ingest")"
  finish
  exit
fi
echo "ingest of $N files: $(since "$t") s"
# an empty folder by mkdir: `cora dataset ingest` of an empty folder
# trips UBSan (qsort of no names in cli/cmd_dataset.c walk())
c -q dataset mkdir big "empty folder" >/dev/null || fail "cora dataset mkdir"
rm -rf "$TMP/src"

mount_cat "$CAT" "$MNT" || { fail "mount"; finish; exit; }
DOC=$MNT/datasets/big/ro-crate-metadata.json
start=$(hwm_kb "$DAEMON_PID")

t=$(now)
size=$(stat -c %s "$DOC") || fail "stat $DOC"
echo "stat: $(since "$t") s, $size bytes; daemon VmHWM $(hwm_kb "$DAEMON_PID") KiB"
t=$(now)
cat "$DOC" >"$TMP/crate.json" || fail "read $DOC"
echo "read: $(since "$t") s; daemon VmHWM $(hwm_kb "$DAEMON_PID") KiB"
got=$(stat -c %s "$TMP/crate.json")
[ "$got" = "$size" ] && ok || fail "stat says $size bytes, read gave $got"
# a read from the middle, as a second open (the size is known, the
# bytes are rendered again into the open file)
off=$((size / 2))
dd if="$DOC" bs=4096 skip=$((off / 4096)) count=3 status=none >"$TMP/slice" ||
  fail "dd from the middle of $DOC"
cmp -s "$TMP/slice" <(tail -c +$((off / 4096 * 4096 + 1)) "$TMP/crate.json" | head -c 12288) &&
  ok || fail "a read at offset $off differs from the whole read"
peak=$(hwm_kb "$DAEMON_PID")
check "unmount" unmount_cat "$MNT"

# the CLI streams the same document to stdout, in bounded memory too
/usr/bin/time -f %M -o "$TMP/cli.rss" "$CORA" -C "$CAT" dataset show big --format rocrate \
  >"$TMP/cli.json" || fail "cora dataset show"
cmp -s "$TMP/cli.json" "$TMP/crate.json" && ok ||
  fail "the mount's crate differs from cora dataset show --format rocrate"
cli_kb=$(tail -1 "$TMP/cli.rss")
echo "cora dataset show --format rocrate: peak RSS $cli_kb KiB"

if "$PY" - "$TMP/crate.json" "$N" "$DIRS" "$ROOT_FILES" <<'EOF'; then ok; else fail "the crate's content"; fi
import json, sys
doc = json.load(open(sys.argv[1]))
n, dirs, root_files = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
g = doc["@graph"]
files = [e for e in g if e["@type"] == "File" and e["@id"] != "datacite.xml"]
assert len(files) == n, (len(files), n)
byid = {e["@id"]: e for e in g}
root = byid["./"]
# the folders, the root's files, "empty folder/" and datacite.xml
assert len(root["hasPart"]) == dirs + root_files + 2, len(root["hasPart"])
assert root["hasPart"][-1] == {"@id": "datacite.xml"}
assert "hasPart" not in byid["empty%20folder/"]
d = byid["d001/"]
assert [r["@id"] for r in d["hasPart"]] == ["d001/g%04d" % i for i in range(1, 1001)]
assert byid["d001/g0001"]["contentSize"] == "1"
EOF

echo "daemon VmHWM: $start KiB at mount, $peak KiB after stat and reads of a $size-byte crate"
if [ -n "${CORA_SANITIZER:-}" ]; then
  echo "note: memory bound not checked under $CORA_SANITIZER"
else
  [ -n "$peak" ] && [ "$peak" -lt "$MAX_KB" ] && ok ||
    fail "daemon peak RSS $peak KiB, limit $MAX_KB KiB"
  [ -n "$cli_kb" ] && [ "$cli_kb" -lt "$MAX_KB" ] && ok ||
    fail "cora dataset show --format rocrate peaked at $cli_kb KiB (limit $MAX_KB)"
fi
finish
