#!/usr/bin/env bash
# test_parallel.sh: 8 writers (50 files each, random sizes up to 2 MiB,
# each into its own sub-folder of one dataset) and 8 readers (sha256sum
# -c of the demo catalog's files and generated documents, over and over)
# at the same time: no error anywhere, every written file has its
# source's digest, and the catalog is clean after.
#
#     test_parallel.sh CORA CORAFS
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt
SRC=$TMP/src
WRITERS=${PAR_WRITERS:-8}
READERS=${PAR_READERS:-8}
FILES=${PAR_FILES:-50}

"$CORA" -q demo "$CAT" >/dev/null || { fail "cora demo"; finish; exit; }

# sources: random sizes 0..2 MiB
for w in $(seq "$WRITERS"); do
  mkdir -p "$SRC/w$w"
  for k in $(seq "$FILES"); do
    head -c $((RANDOM * 64 + RANDOM % 64)) /dev/urandom >"$SRC/w$w/f$k.bin"
  done
done

mount_cat "$CAT" "$MNT" || { fail "mount"; finish; exit; }

# what the readers check: every demo dataset file and generated document
(cd "$MNT" && find datasets assets bundles -type f -print0 | sort -z |
  xargs -0 sha256sum) >"$TMP/ref.sums"
nref=$(wc -l <"$TMP/ref.sums")
[ "$nref" -gt 50 ] && ok || fail "only $nref reference files in the demo mount"

D=$MNT/datasets/parallel
check "mkdir datasets/parallel" mkdir "$D"

writer() {
  local w=$1 k
  mkdir "$D/w$w" 2>>"$TMP/werr.$w" || echo "mkdir w$w failed" >>"$TMP/werr.$w"
  for k in $(seq "$FILES"); do
    cp "$SRC/w$w/f$k.bin" "$D/w$w/f$k.bin" 2>>"$TMP/werr.$w" ||
      echo "cp w$w/f$k.bin failed" >>"$TMP/werr.$w"
  done
}
reader() {
  local r=$1 i=0
  while [ ! -e "$TMP/stop" ] || [ "$i" -lt 2 ]; do
    (cd "$MNT" && sha256sum --quiet -c "$TMP/ref.sums") >>"$TMP/rerr.$r" 2>&1 ||
      echo "reader $r round $i: mismatch or error" >>"$TMP/rerr.$r"
    i=$((i + 1))
  done
  echo "$i" >"$TMP/rounds.$r"
}

start=$(date +%s.%N)
rpids=()
for r in $(seq "$READERS"); do reader "$r" & rpids+=($!); done
wpids=()
for w in $(seq "$WRITERS"); do writer "$w" & wpids+=($!); done
for p in "${wpids[@]}"; do wait "$p"; done
touch "$TMP/stop"
for p in "${rpids[@]}"; do wait "$p"; done
echo "writers and readers done in $(echo "$(date +%s.%N) - $start" | bc) s;" \
  "reader rounds: $(cat "$TMP"/rounds.* | tr '\n' ' ')"

werr=$(cat "$TMP"/werr.* 2>/dev/null | head -10)
[ -z "$werr" ] && ok || fail "writer errors: $werr"
rerr=$(cat "$TMP"/rerr.* 2>/dev/null | head -10)
[ -z "$rerr" ] && ok || fail "reader errors: $rerr"

# every written file: the source's digest, read through the mount and
# from user.cora.sha256
(cd "$SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$TMP/src.sums"
if (cd "$D" && sha256sum --quiet -c "$TMP/src.sums") >"$TMP/wcheck" 2>&1; then ok; else
  fail "written files differ: $(head -5 "$TMP/wcheck")"
fi
bad=0
while read -r sum path; do
  x=$(getfattr --absolute-names --only-values -n user.cora.sha256 "$D/$path" 2>&1)
  [ "$x" = "$sum" ] || bad=$((bad + 1))
done <"$TMP/src.sums"
[ "$bad" = 0 ] && ok || fail "$bad files with a wrong user.cora.sha256"
n=$(find "$D" -type f ! -name datacite.xml ! -name ro-crate-metadata.json | wc -l)
[ "$n" = $((WRITERS * FILES)) ] && ok || fail "$n files in the dataset, wanted $((WRITERS * FILES))"
n=$(c dataset ls parallel | wc -l)
[ "$n" = $((WRITERS * FILES)) ] && ok || fail "cora dataset ls shows $n files"

check "unmount" unmount_cat "$MNT"
if c fsck >"$TMP/fsck" 2>&1; then ok; else fail "cora fsck: $(tail -5 "$TMP/fsck")"; fi
if c dataset verify parallel >"$TMP/verify" 2>&1; then ok; else
  fail "cora dataset verify: $(tail -3 "$TMP/verify")"
fi
ls "$CAT/staging" | grep -q '^w-' && fail "staging files left: $(ls "$CAT/staging" | head)" || ok
finish
