#!/usr/bin/env bash
# test_copy.sh: cp -a of a mixed tree into a new dataset through the
# mount survives an unmount and a remount byte for byte: contents,
# symlinks, digests (sha256sum and user.cora.sha256), inode numbers,
# mtimes, st_blocks; and the catalog is clean after.  Big files written
# in order and out of order carry the digest of their bytes.
#
#     test_copy.sh CORA CORAFS
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt
SRC=$TMP/src
DS=copyset
GEN=(-x datacite.xml -x ro-crate-metadata.json)

"$CORA" -q init "$CAT" >/dev/null || { fail "cora init"; finish; exit; }

# ---- the source tree -------------------------------------------------------------
mkdir -p "$SRC"
: >"$SRC/empty"
printf 'x' >"$SRC/one-byte"
head -c 1048576 /dev/urandom >"$SRC/random-1MiB.bin"
truncate -s 300M "$SRC/sparse-300MiB.img"
for off in 0 1 77 150 299; do # MiB offsets: a few 64 KiB blocks of data
  head -c 65536 /dev/urandom |
    dd of="$SRC/sparse-300MiB.img" bs=64K seek=$((off * 16)) conv=notrunc status=none
done
deep="$SRC/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10"
mkdir -p "$deep"
echo "ten levels down" >"$deep/leaf.txt"
mkdir -p "$SRC/with space/日本" "$SRC/émigré"
echo "space" >"$SRC/with space/a file.txt"
echo "japan" >"$SRC/with space/日本/データ.txt"
echo "accent" >"$SRC/émigré/café é.txt"
echo "emoji" >"$SRC/emoji 🙂🚀.txt"
head -c 4097 /dev/urandom >"$SRC/d1/d2/odd-size.bin"
ln -s "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/leaf.txt" "$SRC/link-to-leaf"
ln -s "../no/such/target" "$SRC/d1/dangling"
chmod 0640 "$SRC/one-byte"
chmod 0755 "$SRC/d1/d2/odd-size.bin"
touch -d '2020-02-29 12:34:56.123456789' "$SRC/random-1MiB.bin"
touch -h -d '2019-01-01 00:00:01' "$SRC/link-to-leaf"
touch -d '2018-06-15 08:00:00' "$SRC/with space"

# ---- copy in -------------------------------------------------------------------
mount_cat "$CAT" "$MNT" || { fail "mount"; finish; exit; }
check "mkdir datasets/$DS" mkdir "$MNT/datasets/$DS"
D=$MNT/datasets/$DS
if cp -a "$SRC/." "$D/" 2>"$TMP/cp.err"; then ok; else
  fail "cp -a into the mount: $(head -5 "$TMP/cp.err")"
fi

# listing: path, type, inode (mount) -- taken before the remount
listing() { (cd "$1" && find . "${@:2}" -printf '%P\t%y\t%i\n' | sort); }
listing "$D" -path ./datacite.xml -prune -o -path ./ro-crate-metadata.json -prune -o \
  -print >"$TMP/ino.before"
mtimes() {
  (cd "$1" && find . -mindepth 1 \( -name datacite.xml -o -name ro-crate-metadata.json \) \
    -prune -o -printf '%P\t%y\t%T@\t%m\n' | sort)
}
mtimes "$D" >"$TMP/mt.before"

check "unmount" unmount_cat "$MNT"
mount_cat "$CAT" "$MNT" || { fail "remount"; finish; exit; }

# ---- after the remount ------------------------------------------------------------
if diff -r --no-dereference "${GEN[@]}" "$SRC" "$D" >"$TMP/diff" 2>&1; then ok; else
  fail "diff -r source vs mount: $(head -10 "$TMP/diff")"
fi
for l in link-to-leaf d1/dangling; do
  [ -L "$D/$l" ] && [ "$(readlink "$D/$l")" = "$(readlink "$SRC/$l")" ] && ok ||
    fail "symlink $l: '$(readlink "$D/$l")' vs '$(readlink "$SRC/$l")'"
done
# the link is followed inside the mount
[ "$(cat "$D/link-to-leaf" 2>/dev/null)" = "ten levels down" ] && ok || fail "read through symlink"

sums() { (cd "$1" && find . -type f ! -path ./datacite.xml ! -path ./ro-crate-metadata.json \
  -print0 | sort -z | xargs -0 sha256sum); }
sums "$SRC" >"$TMP/sum.src"
sums "$D" >"$TMP/sum.mnt"
[ "$(wc -l <"$TMP/sum.src")" -ge 10 ] && ok || fail "source tree too small"
if diff "$TMP/sum.src" "$TMP/sum.mnt" >"$TMP/sumdiff"; then ok; else
  fail "sha256sum differs: $(head -6 "$TMP/sumdiff")"
fi

# user.cora.sha256 of every file is its digest
bad=0
while read -r sum path; do
  x=$(getfattr --absolute-names --only-values -n user.cora.sha256 "$D/$path" 2>&1)
  [ "$x" = "$sum" ] || { bad=$((bad + 1)); fail "user.cora.sha256 of $path: '$x', wanted $sum"; }
  b=$(getfattr --absolute-names --only-values -n user.cora.blob "$D/$path" 2>&1)
  [ "$b" = "sha256:$sum" ] || { bad=$((bad + 1)); fail "user.cora.blob of $path: '$b'"; }
done <"$TMP/sum.src"
[ "$bad" = 0 ] && ok

# inode numbers survive the remount
listing "$D" -path ./datacite.xml -prune -o -path ./ro-crate-metadata.json -prune -o \
  -print >"$TMP/ino.after"
if diff "$TMP/ino.before" "$TMP/ino.after" >"$TMP/inodiff"; then ok; else
  fail "inode numbers changed across remount: $(head -6 "$TMP/inodiff")"
fi
# ... and are unique
dups=$(cut -f3 "$TMP/ino.after" | sort | uniq -d | head -3)
[ -z "$dups" ] && ok || fail "duplicate inode numbers: $dups"

# mtimes and modes preserved by cp -a (files, folders, symlinks), and
# unchanged by the remount
mtimes "$SRC" >"$TMP/mt.src"
mtimes "$D" >"$TMP/mt.after"
if diff "$TMP/mt.src" "$TMP/mt.before" >"$TMP/mtdiff"; then ok; else
  fail "mtime/mode not preserved by cp -a (src vs mount; path type mtime mode): $(head -8 "$TMP/mtdiff")"
fi
if diff "$TMP/mt.before" "$TMP/mt.after" >"$TMP/mtdiff2"; then ok; else
  fail "mtime/mode changed across remount: $(head -6 "$TMP/mtdiff2")"
fi

# st_blocks: every file reports its whole size in 512-byte blocks
bad=0
while IFS=$'\t' read -r path blocks size; do
  want=$(((size + 511) / 512))
  [ "$blocks" = "$want" ] || { bad=$((bad + 1)); fail "st_blocks of $path: $blocks for $size bytes (wanted $want)"; }
done < <(cd "$D" && find . -type f -printf '%P\t%b\t%s\n')
[ "$bad" = 0 ] && ok
total=$(find "$SRC" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
du_k=$(du -sk "$D" | cut -f1)
min_k=$((total / 1024))
max_k=$((total / 1024 + 1024))
[ "$du_k" -ge "$min_k" ] && [ "$du_k" -le "$max_k" ] && ok ||
  fail "du -sk $du_k KiB, wanted $min_k..$max_k for $total bytes"
du_b=$(du -sb "${GEN[@]/#-x/--exclude}" "$D" | cut -f1)
[ "$du_b" -ge "$total" ] && ok || fail "du -sb $du_b < $total bytes of files"

# ---- big files written through the mount, in order and not ----------------------
# A WRITE in order is hashed after its reply from its own buffer (past
# 8 MiB by a thread of its own, and on a write-only handle written to
# the staging file after the reply too: fs/write.c); an overwrite of hashed
# bytes, a gap or a truncate below them must make commit hash the file
# again.  Each case mirrors its writes in memory and
# compares user.cora.sha256 and the bytes read back after close.  Every
# case runs twice: write-only (the mount answers direct_io: the writer's
# pages go straight to the daemon) and read-write (through the kernel's
# page cache); and a shared mapping writes a file through the page cache
# alone.
W=$D/written
mkdir "$W" || fail "mkdir $W"
"$PY" - "$W" >"$TMP/big.out" 2>&1 <<'PYEOF'
import hashlib, mmap, os, sys
d, MiB = sys.argv[1], 1 << 20
def blk(i):
    return hashlib.sha256(b"%d" % i).digest() * (MiB // 32)
def run(name, steps, mode):
    name += "-wronly" if mode == os.O_WRONLY else "-rdwr"
    path, mem = os.path.join(d, name), bytearray()
    fd = os.open(path, os.O_CREAT | mode, 0o644)
    for op, a, b in steps:
        if op in ("w", "b"):   # block b at MiB offset a, or b bytes at a
            data, off = (blk(b), a * MiB) if op == "w" else (blk(a)[:b], a)
            page = mmap.mmap(-1, len(data)) # page-aligned, as cp's:
            page[:] = data                  # one WRITE per MiB
            os.pwrite(fd, page, off)
            if len(mem) < off:
                mem.extend(bytes(off - len(mem)))
            mem[off:off + len(data)] = data
        else:                  # truncate to a bytes
            os.ftruncate(fd, a)
            del mem[a:]
            mem.extend(bytes(a - len(mem)))
    os.close(fd)
    check(name, path, mem)
def check(name, path, mem):
    want = hashlib.sha256(mem).hexdigest()
    got = os.getxattr(path, "user.cora.sha256").decode()
    with open(path, "rb") as f:
        back = hashlib.sha256(f.read()).hexdigest()
    print("ok" if got == want == back else "bad", name, got, want, back)
seq = lambda n, base=0: [("w", i, base + i) for i in range(n)]
for mode in (os.O_WRONLY, os.O_RDWR):
    run("in-order-20M", seq(20), mode)
    run("overwrite-behind", seq(12) + [("w", 3, 99)] + [("w", i, i) for i in range(12, 18)], mode)
    run("gap", seq(10) + [("w", 12, 7)], mode)
    run("truncate-below", seq(20) + [("t", 10 * MiB + 5, 0)], mode)
    run("truncate-extend", seq(12) + [("t", 5 * MiB, 0)] + [("w", i, 50 + i) for i in range(5, 15)], mode)
    # past 8 MiB a write-only handle's bytes reach staging after the
    # reply: O_DIRECT when aligned, else pwrite; both, then a short tail
    run("odd-sizes", [("b", i * 1000003, 1000003) for i in range(20)], mode)
    run("aligned-then-tail", seq(12) + [("b", 12 * MiB, 4097)], mode)
# a shared writable mapping: the bytes reach the daemon as the kernel
# writes the pages back, before the flush of close commits them
path = os.path.join(d, "mapped")
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
os.ftruncate(fd, 3 * MiB + 123)
m = mmap.mmap(fd, 3 * MiB + 123)
mem = bytearray(3 * MiB + 123)
for i in range(0, len(mem), 4096 * 7 + 1):
    m[i:i + 5] = b"%05d" % (i % 99991)
    mem[i:i + 5] = b"%05d" % (i % 99991)
m.close()
os.close(fd)
check("mapped", path, mem)
# two writers on one descriptor, a block each per round, both in flight
# at once: the daemon sees them in order (two claims hashed in turn) or
# not (the hash given up while a claim is in flight), as the race goes
import threading
for mode in (os.O_WRONLY, os.O_RDWR):
    name = "racing-" + ("wronly" if mode == os.O_WRONLY else "rdwr")
    path, mem = os.path.join(d, name), bytearray(24 * MiB)
    fd = os.open(path, os.O_CREAT | mode, 0o644)
    go = threading.Barrier(2)
    def writer(first):
        for i in range(first, 24, 2):
            go.wait()
            os.pwrite(fd, blk(i), i * MiB)
    ts = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
    for t in ts: t.start()
    for t in ts: t.join()
    for i in range(24):
        mem[i * MiB:(i + 1) * MiB] = blk(i)
    os.close(fd)
    check(name, path, mem)
PYEOF
n=$(grep -c '^ok ' "$TMP/big.out")
[ "$n" = 17 ] && ok || fail "big files written through the mount: $(grep -v '^ok ' "$TMP/big.out" | head -3)"

check "unmount at the end" unmount_cat "$MNT"
if c fsck >"$TMP/fsck" 2>&1; then ok; else fail "cora fsck: $(tail -5 "$TMP/fsck")"; fi
ls "$CAT/staging" | grep -q '^w-' && fail "staging files left: $(ls "$CAT/staging")" || ok

finish
