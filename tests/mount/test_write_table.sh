#!/usr/bin/env bash
# test_write_table.sh: every row of the DESIGN 1 write table, with its
# exact errno (python3 os calls), and the event each namespace change
# records; then a `-o ro` mount (every write EROFS) and a `-o noxattr`
# mount (extended attributes not supported).
#
#     test_write_table.sh CORA CORAFS
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt

"$CORA" -q demo "$CAT" >/dev/null || { fail "cora demo"; finish; exit; }
mount_cat "$CAT" "$MNT" || { fail "mount"; finish; exit; }
DS=$MNT/datasets

# events DELTA DESCRIPTION COMMAND...: the command succeeds and appends
# exactly DELTA events.
events() {
  local want=$1 what=$2 before after
  shift 2
  before=$(count_events)
  if ! "$@" >"$TMP/out" 2>&1; then
    fail "$what: failed: $(head -3 "$TMP/out")"
    return
  fi
  after=$(count_events)
  # a new file nobody wrote into is committed at release, which the
  # kernel sends just after close returns (fs/handle.h): wait a moment
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ $((after - before)) -ge "$want" ] && break
    sleep 0.1
    after=$(count_events)
  done
  [ $((after - before)) = "$want" ] && ok ||
    fail "$what: $((after - before)) events, wanted $want ($(c log | tail -n $((after - before)) | awk '{print $3}' | tr '\n' ' '))"
}
py() { "$PY" -c "$@"; }
xattr() { getfattr --absolute-names --only-values -n "$1" "$2" 2>&1; }

# ---- mkdir datasets/X registers a Trial dataset --------------------------------
events 1 "mkdir datasets/wt" mkdir "$DS/wt"
c dataset show wt >"$TMP/show" 2>&1 && ok || fail "cora dataset show wt: $(cat "$TMP/show")"
c --json dataset show wt | grep -q '"intent": "Trial"' && ok || fail "wt is not Trial"
[ "$(xattr user.cora.intent "$DS/wt")" = Trial ] && ok || fail "user.cora.intent of wt: $(xattr user.cora.intent "$DS/wt")"
[ "$(xattr user.cora.status "$DS/wt")" = Registered ] && ok || fail "user.cora.status of wt"
[ -n "$(xattr user.cora.id "$DS/wt")" ] && ok || fail "user.cora.id of wt"
expect_errno EEXIST "mkdir of an existing dataset" 'os.mkdir(a[1])' "$DS/wt"
expect_errno EINVAL "mkdir datasets/'bad slug'" 'os.mkdir(a[1])' "$DS/bad slug"

# ---- a written file: one event, its digest ---------------------------------------
W=$DS/wt
events 1 "cp a file in" cp /etc/hostname "$W/a.txt"
c dataset ls wt | grep -q 'a.txt$' && ok || fail "a.txt not in cora dataset ls wt"
sum=$(sha256sum <"$W/a.txt" | cut -d' ' -f1)
[ "$(xattr user.cora.sha256 "$W/a.txt")" = "$sum" ] && ok || fail "user.cora.sha256 of a.txt"
events 1 "create+write+close in python" py 'import sys
with open(sys.argv[1], "wb") as f: f.write(b"hello\n" * 1000)' "$W/b.bin"
# the block size cp sizes its buffer by is the same while a file is being
# written (a pending file) as after its commit
blk=$("$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
a = os.fstat(fd).st_blksize
os.write(fd, b"x")
b = os.fstat(fd).st_blksize
os.close(fd)
print(a, b, os.stat(sys.argv[1]).st_blksize)' "$W/blk.bin" 2>&1)
[ "$blk" = "1048576 1048576 1048576" ] && ok || fail "st_blksize while written and after: $blk"

# ---- rm, mv inside a dataset, mkdir/rmdir sub-folders, chmod, touch: one event each
printf 'c' >"$W/c.txt"
events 1 "rm" rm "$W/c.txt"
[ ! -e "$W/c.txt" ] && ok || fail "c.txt still there after rm"
events 1 "mv inside the dataset" mv "$W/b.bin" "$W/b2.bin"
[ -e "$W/b2.bin" ] && [ ! -e "$W/b.bin" ] && ok || fail "mv did not move"
events 1 "mkdir a sub-folder" mkdir "$W/sub"
events 1 "mv a file into a sub-folder" mv "$W/b2.bin" "$W/sub/b2.bin"
events 1 "mkdir a nested sub-folder" mkdir "$W/sub/inner"
events 1 "rmdir an empty sub-folder" rmdir "$W/sub/inner"
[ ! -e "$W/sub/inner" ] && ok || fail "sub/inner still there"
events 1 "chmod" chmod 0600 "$W/a.txt"
[ "$(stat -c %a "$W/a.txt")" = 600 ] && ok || fail "chmod: mode $(stat -c %a "$W/a.txt")"
events 1 "chmod a folder" chmod 0700 "$W/sub"
events 1 "touch an existing file" touch -d '2001-02-03 04:05:06' "$W/a.txt"
[ "$(stat -c %Y "$W/a.txt")" = "$(date -d '2001-02-03 04:05:06' +%s)" ] && ok || fail "touch -d: mtime $(stat -c %y "$W/a.txt")"
# (stdin open, as in a terminal: touch opens the file as fd 0 through
# open+dup2+close, so the kernel sends a FLUSH before the utimensat)
events 1 "touch a new file" touch "$W/new-empty" </dev/null
[ -f "$W/new-empty" ] && [ ! -s "$W/new-empty" ] && ok || fail "touch new: not an empty file"
events 1 "mv a folder" mv "$W/sub" "$W/sub2"
[ -f "$W/sub2/b2.bin" ] && ok || fail "mv of a folder lost its file"
events 1 "truncate(2)" truncate -s 3 "$W/a.txt"
[ "$(stat -c %s "$W/a.txt")" = 3 ] && ok || fail "truncate: size $(stat -c %s "$W/a.txt")"

# rename over an existing file (rsync's temp file -> name)
printf 'old' >"$W/target"
printf 'new content' >"$W/.target.tmp"
events 1 "rename over an existing file" mv -f "$W/.target.tmp" "$W/target"
[ "$(cat "$W/target")" = "new content" ] && ok || fail "rename over: content '$(cat "$W/target")'"
[ ! -e "$W/.target.tmp" ] && ok || fail "rename over: source still there"
expect_errno OK "os.replace over an existing file" \
  'open(a[1], "w").write("x"); os.replace(a[1], a[2])' "$W/r1" "$W/target"

expect_errno ENOTEMPTY "rmdir of a non-empty folder" 'os.rmdir(a[1])' "$W/sub2"
expect_errno ENAMETOOLONG "a 256-byte name" 'open(a[1] + "/" + "n" * 256, "w")' "$W"
expect_errno ENAMETOOLONG "a 257-byte UTF-8 name" 'open(a[1] + "/" + "é" * 128 + "x", "w")' "$W"
expect_errno OK "a 255-byte name" 'open(a[1] + "/" + "n" * 255, "w").close()' "$W"
expect_errno ENAMETOOLONG "mkdir with a 256-byte name" 'os.mkdir(a[1] + "/" + "d" * 256)' "$W"

# symlinks are stored; readlink gives the target
events 1 "symlink" ln -s "sub2/b2.bin" "$W/link"
[ "$(readlink "$W/link")" = "sub2/b2.bin" ] && ok || fail "readlink: '$(readlink "$W/link")'"
cmp -s "$W/link" "$W/sub2/b2.bin" && ok || fail "reading through the symlink"
expect_errno OK "symlink to an absolute dangling target" \
  'os.symlink("/no/such/place", a[1]); assert os.readlink(a[1]) == "/no/such/place"' "$W/abs-link"

# hard links: EPERM
expect_errno EPERM "os.link" 'os.link(a[1], a[2])' "$W/a.txt" "$W/hard"

# ---- mv across datasets: EXDEV ------------------------------------------------------
mkdir "$DS/wt2"
expect_errno EXDEV "os.rename across datasets" 'os.rename(a[1], a[2])' "$W/a.txt" "$DS/wt2/a.txt"
expect_errno EXDEV "os.rename of a folder across datasets" 'os.rename(a[1], a[2])' "$W/sub2" "$DS/wt2/sub2"
mv "$W/target" "$DS/wt2/target" 2>"$TMP/mv.err" && ok || fail "mv across datasets (copy fallback): $(cat "$TMP/mv.err")"
[ -f "$DS/wt2/target" ] && [ ! -e "$W/target" ] && ok || fail "mv across datasets did not move"

# ---- reserved names at a dataset root: EPERM; fine in a sub-folder ----------------
expect_errno EPERM "create ro-crate-preview.html at a dataset root" \
  'os.close(os.open(a[1], os.O_CREAT | os.O_WRONLY, 0o644))' "$W/ro-crate-preview.html"
expect_errno EPERM "mkdir ro-crate-preview.html at a dataset root" 'os.mkdir(a[1])' "$W/ro-crate-preview.html"
expect_errno EPERM "rename a file to datacite.xml at a dataset root" \
  'os.rename(a[1], a[2])' "$W/new-empty" "$W/datacite.xml"
expect_errno EPERM "rename a file to ro-crate-metadata.json at a dataset root" \
  'os.rename(a[1], a[2])' "$W/new-empty" "$W/ro-crate-metadata.json"
expect_errno EPERM "symlink named ro-crate-preview.html at a dataset root" \
  'os.symlink("x", a[1])' "$W/ro-crate-preview.html"
expect_errno OK "datacite.xml in a sub-folder" 'open(a[1], "w").write("<x/>")' "$W/sub2/datacite.xml"
expect_errno OK "ro-crate-metadata.json in a sub-folder" 'open(a[1], "w").write("{}")' "$W/sub2/ro-crate-metadata.json"

# ---- generated files: EROFS ------------------------------------------------------
for f in "$W/datacite.xml" "$W/ro-crate-metadata.json" "$MNT/README.txt" "$MNT/.cora/events.jsonl" \
  "$MNT/assets/Camera/datacite.xml" "$MNT/assets/Camera/pidinst.json" \
  "$MNT/bundles/recon-review/ro-crate-preview.html"; do
  n=${f#"$MNT"/}
  expect_errno EROFS "open O_WRONLY $n" 'os.open(a[1], os.O_WRONLY)' "$f"
  expect_errno EROFS "open O_CREAT|O_TRUNC $n" 'os.open(a[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)' "$f"
  expect_errno EROFS "truncate $n" 'os.truncate(a[1], 0)' "$f"
  expect_errno EROFS "chmod $n" 'os.chmod(a[1], 0o600)' "$f"
  expect_errno EROFS "utime $n" 'os.utime(a[1], (0, 0))' "$f"
done
expect_errno EROFS "unlink datacite.xml at a dataset root" 'os.unlink(a[1])' "$W/datacite.xml"
expect_errno EROFS "rename ro-crate-metadata.json away" 'os.rename(a[1], a[2])' "$W/ro-crate-metadata.json" "$W/x.json"

# ---- assets/ and bundles/: EROFS -------------------------------------------------
expect_errno EROFS "create a file in assets/Camera" 'open(a[1], "w")' "$MNT/assets/Camera/notes.txt"
expect_errno EROFS "mkdir in assets/" 'os.mkdir(a[1])' "$MNT/assets/NewAsset"
expect_errno EROFS "mkdir in assets/Camera" 'os.mkdir(a[1])' "$MNT/assets/Camera/sub"
expect_errno EROFS "unlink assets/Camera/pidinst.json" 'os.unlink(a[1])' "$MNT/assets/Camera/pidinst.json"
expect_errno EROFS "create a file in bundles/recon-review" 'open(a[1], "w")' "$MNT/bundles/recon-review/x.txt"
expect_errno EROFS "mkdir in bundles/" 'os.mkdir(a[1])' "$MNT/bundles/new-bundle"
expect_errno EROFS "create a file at the root" 'open(a[1], "w")' "$MNT/x.txt"
expect_errno EROFS "create a file in .cora" 'open(a[1], "w")' "$MNT/.cora/x"
# a bundle shows its member datasets' files, read-only (DESIGN 1)
member=$(ls "$MNT/bundles/catalyst-2026-1" | grep -v -e '\.xml$' -e '\.json$' -e '\.html$' | head -1)
if [ -n "$member" ] && [ -d "$MNT/bundles/catalyst-2026-1/$member" ]; then
  ok
  expect_errno EROFS "create a file in a bundle's member folder" 'open(a[1], "w")' \
    "$MNT/bundles/catalyst-2026-1/$member/x.txt"
else
  fail "bundles/catalyst-2026-1 shows no member dataset folder (DESIGN 1: <dataset>/...): $(ls "$MNT/bundles/catalyst-2026-1" | tr '\n' ' ')"
fi

# ---- Production (demo), then a dataset promoted here, Retracted: EROFS -----------
frozen_checks() {
  local d=$1 f=$2 kind=$3
  expect_errno EROFS "$kind: create a file" 'open(a[1], "w")' "$d/new.txt"
  expect_errno EROFS "$kind: open a file O_WRONLY" 'os.open(a[1], os.O_WRONLY)' "$d/$f"
  expect_errno EROFS "$kind: open a file O_APPEND" 'os.open(a[1], os.O_WRONLY | os.O_APPEND)' "$d/$f"
  expect_errno EROFS "$kind: truncate" 'os.truncate(a[1], 1)' "$d/$f"
  expect_errno EROFS "$kind: unlink" 'os.unlink(a[1])' "$d/$f"
  expect_errno EROFS "$kind: rename" 'os.rename(a[1], a[2])' "$d/$f" "$d/renamed"
  expect_errno EROFS "$kind: mkdir" 'os.mkdir(a[1])' "$d/newdir"
  expect_errno EROFS "$kind: symlink" 'os.symlink("x", a[1])' "$d/newlink"
  expect_errno EROFS "$kind: chmod" 'os.chmod(a[1], 0o600)' "$d/$f"
  expect_errno EROFS "$kind: utime" 'os.utime(a[1], (0, 0))' "$d/$f"
  expect_errno EROFS "$kind: setxattr user.note" 'os.setxattr(a[1], "user.note", b"x")' "$d/$f"
  expect_errno OK "$kind: read" 'open(a[1], "rb").read()' "$d/$f"
}
frozen_checks "$DS/pellet-b12-raw" projections.h5 "Production (demo)"

mkdir "$DS/prom" && echo data >"$DS/prom/f.txt" && mkdir "$DS/prom/sub" && echo s >"$DS/prom/sub/g.txt"
c dataset promote prom --reason "test" >"$TMP/p" 2>&1 && ok || fail "cora dataset promote prom: $(cat "$TMP/p")"
sleep 1.2 # the watcher polls every 200 ms
[ "$(xattr user.cora.intent "$DS/prom")" = Production ] && ok || fail "prom intent: $(xattr user.cora.intent "$DS/prom")"
frozen_checks "$DS/prom" f.txt "Production (promoted while mounted)"
frozen_checks "$DS/prom/sub" g.txt "Production sub-folder"
c dataset demote prom --reason "test" >"$TMP/p" 2>&1 && ok || fail "cora dataset demote prom: $(cat "$TMP/p")"
sleep 1.2
[ "$(xattr user.cora.intent "$DS/prom")" = Retracted ] && ok || fail "prom intent after demote: $(xattr user.cora.intent "$DS/prom")"
frozen_checks "$DS/prom" f.txt "Retracted"

# ---- xattrs: user.cora.* at its current value succeeds, else EPERM -------------------
sum=$(sha256sum <"$W/sub2/b2.bin" | cut -d' ' -f1)
events 0 "setfattr user.cora.sha256 to its current value" \
  setfattr -n user.cora.sha256 -v "$sum" "$W/sub2/b2.bin"
expect_errno EPERM "setxattr user.cora.sha256 to another value" \
  'os.setxattr(a[1], "user.cora.sha256", b"0" * 64)' "$W/sub2/b2.bin"
expect_errno OK "setxattr user.cora.blob to its current value" \
  'os.setxattr(a[1], "user.cora.blob", ("sha256:" + a[2]).encode())' "$W/sub2/b2.bin" "$sum"
expect_errno OK "setxattr user.cora.intent of a dataset folder to its current value" \
  'os.setxattr(a[1], "user.cora.intent", b"Trial")' "$W"
expect_errno EPERM "setxattr user.cora.intent to Production" \
  'os.setxattr(a[1], "user.cora.intent", b"Production")' "$W"
expect_errno EPERM "setxattr a new user.cora.* name" 'os.setxattr(a[1], "user.cora.other", b"x")' "$W/sub2/b2.bin"
# removing a computed attribute changes nothing and succeeds (rsync -X
# removes what its source lacks), it is still there afterwards
expect_errno OK "removexattr user.cora.sha256" 'os.removexattr(a[1], "user.cora.sha256")' "$W/sub2/b2.bin"
[ -n "$(xattr user.cora.sha256 "$W/sub2/b2.bin")" ] && ok || fail "user.cora.sha256 gone after removexattr"
events 1 "setfattr user.note" setfattr -n user.note -v hello "$W/sub2/b2.bin"
[ "$(xattr user.note "$W/sub2/b2.bin")" = hello ] && ok || fail "user.note: $(xattr user.note "$W/sub2/b2.bin")"
getfattr -d --absolute-names "$W/sub2/b2.bin" 2>&1 | grep -q '^user.note="hello"' && ok || fail "getfattr -d lacks user.note"
events 1 "setfattr -x user.note" setfattr -x user.note "$W/sub2/b2.bin"
expect_errno ENODATA "getxattr of a removed user.note" 'os.getxattr(a[1], "user.note")' "$W/sub2/b2.bin"
expect_errno ENODATA "getxattr of a missing name" 'os.getxattr(a[1], "user.nope")' "$W/sub2/b2.bin"

check "unmount" unmount_cat "$MNT"

# ---- -o ro: every write EROFS -----------------------------------------------------------
mount_cat "$CAT" "$MNT" -o ro || { fail "mount -o ro"; finish; exit; }
before=$(count_events)
expect_errno EROFS "ro: mkdir datasets/X" 'os.mkdir(a[1])' "$DS/ro-new"
expect_errno EROFS "ro: create a file" 'open(a[1], "w")' "$W/ro.txt"
expect_errno EROFS "ro: open O_WRONLY" 'os.open(a[1], os.O_WRONLY)' "$W/a.txt"
expect_errno EROFS "ro: truncate" 'os.truncate(a[1], 0)' "$W/a.txt"
expect_errno EROFS "ro: unlink" 'os.unlink(a[1])' "$W/a.txt"
expect_errno EROFS "ro: rename" 'os.rename(a[1], a[2])' "$W/a.txt" "$W/z.txt"
expect_errno EROFS "ro: mkdir" 'os.mkdir(a[1])' "$W/d"
expect_errno EROFS "ro: rmdir" 'os.rmdir(a[1])' "$W/sub2"
expect_errno EROFS "ro: symlink" 'os.symlink("x", a[1])' "$W/l"
expect_errno EROFS "ro: chmod" 'os.chmod(a[1], 0o644)' "$W/a.txt"
expect_errno EROFS "ro: utime" 'os.utime(a[1], (0, 0))' "$W/a.txt"
expect_errno EROFS "ro: setxattr" 'os.setxattr(a[1], "user.note", b"x")' "$W/a.txt"
expect_errno OK "ro: read" 'open(a[1], "rb").read()' "$W/a.txt"
[ "$(count_events)" = "$before" ] && ok || fail "ro: the log changed"
check "unmount ro" unmount_cat "$MNT"

# ---- -o noxattr: not supported -----------------------------------------------------
mount_cat "$CAT" "$MNT" -o noxattr || { fail "mount -o noxattr"; finish; exit; }
out=$(getfattr -n user.cora.sha256 "$W/sub2/b2.bin" 2>&1)
case $out in
  *"Operation not supported"* | *"Function not implemented"*) ok ;;
  *) fail "noxattr: getfattr said: $out" ;;
esac
for op in 'os.getxattr(a[1], "user.cora.sha256")' 'os.listxattr(a[1])' \
  'os.setxattr(a[1], "user.note", b"x")'; do
  got=$(errno_of "$op" "$W/sub2/b2.bin")
  case $got in ENOTSUP | EOPNOTSUPP | ENOSYS) ok ;; *) fail "noxattr: $op gave $got" ;; esac
done
# an ACL name too: ENOSYS made the kernel answer "no data" for it from
# then on, and ls -l asked every file
for f in "$W/sub2/b2.bin" "$W/sub2"; do
  got=$(errno_of 'os.getxattr(a[1], "system.posix_acl_access")' "$f")
  case $got in ENOTSUP | EOPNOTSUPP) ok ;; *) fail "noxattr: ACL of $f gave $got" ;; esac
done
ls -l "$W" >/dev/null 2>&1 && ok || fail "noxattr: ls -l"
check "unmount noxattr" unmount_cat "$MNT"

if c fsck >"$TMP/fsck" 2>&1; then ok; else fail "cora fsck: $(tail -5 "$TMP/fsck")"; fi
finish
