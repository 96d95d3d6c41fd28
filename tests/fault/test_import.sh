#!/usr/bin/env bash
# test_import.sh: `cora dataset import` of a tar.gz with every fault
# point failing once.  The template holds a promoted dataset 'old' and a
# Trial dataset 'new' with a folder 'a' and files 'keep.txt' and
# 'a/replace.txt'; the archive merges into 'a', replaces 'a/replace.txt'
# (like cp), shares a blob with 'old' (a failed put must not harm an
# existing blob), spans several blob write buffers, and has an empty
# file, a link, a hard link and nested folders.
#
# A failed import leaves the log, the dataset's version and its tree as
# they were, and a retry without faults then succeeds; a successful one
# (and the retry) leaves exactly the tree an import without faults makes:
# the same files, folders, links, modes and times (compared through
# `cora dataset export --format tar`, generated files aside).
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

T=$TMP/template
CAT=$T
mkdir -p "$TMP/old" "$TMP/keep/a" "$TMP/src/a/b" "$TMP/src/c/d"
printf 'shared bytes\n' >"$TMP/old/shared.txt"
printf 'kept\n' >"$TMP/keep/keep.txt"
printf 'before\n' >"$TMP/keep/a/replace.txt"
cp "$TMP/old/shared.txt" "$TMP/src/a/b/shared.txt"
head -c 2500000 /dev/urandom >"$TMP/src/a/big.bin"
printf 'after\n' >"$TMP/src/a/replace.txt"
printf 'x' >"$TMP/src/c/d/x.txt"
ln "$TMP/src/c/d/x.txt" "$TMP/src/c/hard.txt"
: >"$TMP/src/empty"
ln -s a/big.bin "$TMP/src/link"
chmod 0750 "$TMP/src/c"
touch -h -d '2026-05-19 14:00:00' "$TMP/src/link"
find "$TMP/src" -type f -exec touch -d '2026-05-19 14:00:01' {} +
find "$TMP/src" -type d -exec touch -d '2026-05-19 14:00:02' {} +
bsdtar -czf "$TMP/in.tar.gz" -C "$TMP/src" . ||
  { fail "bsdtar cannot make the archive"; finish; exit; }

expect_ok "$CORA" init "$T"
expect_ok c dataset create old
expect_ok c dataset ingest old "$TMP/old"
expect_ok c dataset promote old --reason 'reference data'
expect_ok c dataset create new
expect_ok c dataset ingest new "$TMP/keep"

# tree: what an export of 'new' holds (type, mode, size, time to the
# nanosecond, link target, name), generated files aside (their times
# are the dataset's updated_at), and without the time of 'a/': a folder
# the import merges into keeps its own mode and time, and that time
# moves when files are added to it
tree() {
  c dataset export new --format tar -o - 2>/dev/null | python3 -c '
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
    for m in t:
        if m.name in ("ro-crate-metadata.json", "datacite.xml"):
            continue
        when = "(time)" if m.name == "a" else m.pax_headers.get("mtime", m.mtime)
        print(m.type.decode(), oct(m.mode), m.size, when, m.linkname, m.name)
'
}
version() { c dataset show new | sed -n 's/^version: //p'; }

tree >"$TMP/tree.before"
version >"$TMP/version.before"
[ -s "$TMP/tree.before" ] && ok || fail "cannot list the template's tree"
# the reference: the same import without faults
cp -a "$T" "$TMP/ref"
CAT=$TMP/ref
expect_ok c dataset import new "$TMP/in.tar.gz"
tree >"$TMP/tree.want"
cmp -s "$TMP/tree.before" "$TMP/tree.want" && fail "the import changed nothing"

run() { c dataset import new "$TMP/in.tar.gz"; }

check() {
  verify_all old new || return 1
  if [ "$1" = 0 ]; then
    tree >"$TMP/tree.after"
    cmp -s "$TMP/tree.want" "$TMP/tree.after" ||
      { echo "the tree differs: $(diff "$TMP/tree.want" "$TMP/tree.after" | head -20)"; return 1; }
    return 0
  fi
  tree >"$TMP/tree.after"
  cmp -s "$TMP/tree.before" "$TMP/tree.after" ||
    { echo "dataset 'new' changed: $(diff "$TMP/tree.before" "$TMP/tree.after" | head -20)"; return 1; }
  [ "$(version)" = "$(cat "$TMP/version.before")" ] ||
    { echo "the version of 'new' went from $(cat "$TMP/version.before") to $(version)"; return 1; }
  # nothing half-done stands in the way of doing it again
  c dataset import new "$TMP/in.tar.gz" >"$TMP/retry" 2>&1 ||
    { echo "retry failed: $(cat "$TMP/retry")"; return 1; }
  tree >"$TMP/tree.after"
  cmp -s "$TMP/tree.want" "$TMP/tree.after" ||
    { echo "after the retry the tree differs: $(diff "$TMP/tree.want" "$TMP/tree.after" | head -20)"; return 1; }
  verify_all old new || return 1
  c fsck >"$TMP/fsck2" 2>&1 ||
    { echo "fsck after the retry: $(cat "$TMP/fsck2")"; return 1; }
}

walk import "$T" run check
[ "$WALK_POINTS" -ge 20 ] && ok || fail "only $WALK_POINTS fault points in an import"
finish
