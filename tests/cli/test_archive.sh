#!/usr/bin/env bash
# test_archive.sh: `cora bundle export`, `cora dataset export` and
# `cora dataset import` on the demo catalog, checked with standard tools
# (bsdtar, unzip, GNU tar, sha256sum) rather than with libarchive alone.
#
#   - every format of the published bundle catalyst-2026-1 lists with the
#     usual tool, extracts to files whose sha256 is the catalog's, has
#     ro-crate-metadata.json at its root (data/ in the bag) that parses,
#     and comes out byte-identical from a second export;
#   - the bag verifies with sha256sum -c (payload and tag manifests), and
#     its Bagging-Date is the publication's, not today;
#   - export -> import round trips; unsafe archives made with bsdtar and zip
#     are refused with one line and leave the log alone;
#   - a 1 GiB sparse entry (a 3 KiB tar) imports once the ratio bound is
#     lifted, and exporting it streams (bounded memory).
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
c() { "$CORA" -C "$CAT" "$@"; }
json_ok() { if command -v jq >/dev/null; then jq -e . "$1" >/dev/null; else python3 -m json.tool "$1" >/dev/null; fi; }
json_id() { if command -v jq >/dev/null; then jq -r .id; else python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; fi; }

for tool in bsdtar unzip tar sha256sum zip; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

expect_ok "$CORA" demo "$CAT"
B=catalyst-2026-1
OUT=$TMP/arc
mkdir -p "$OUT"

# The catalog's digests of the bundle, as "<sha>  <dataset>/<path>" lines.
: >"$TMP/want"
for ds in pellet-b12-raw darkfield-cal flatfield-cal; do
  c dataset ls "$ds" | sed "s|  |  $ds/|" >>"$TMP/want"
done
[ "$(wc -l <"$TMP/want")" -ge 3 ] && ok || fail "demo bundle has files"

# ---- export, every format --------------------------------------------------
for fmt in zip tar tar.gz tar.zst bagit bagit-zip; do
  args=(--format "$fmt")
  [ "$fmt" = bagit-zip ] && args=(--format bagit --container zip)
  expect_ok c bundle export "$B" "${args[@]}" -o "$OUT/a.$fmt"
  expect_ok c bundle export "$B" "${args[@]}" -o "$OUT/b.$fmt"
  cmp -s "$OUT/a.$fmt" "$OUT/b.$fmt" && ok || fail "$fmt: two exports differ"

  # list with the usual tool
  case $fmt in
    zip|bagit-zip) unzip -l "$OUT/a.$fmt" >"$TMP/list" ;;
    tar.zst) tar --zstd -tvf "$OUT/a.$fmt" >"$TMP/list" ;;
    tar.gz) tar -tzvf "$OUT/a.$fmt" >"$TMP/list" ;;
    *) bsdtar -tvf "$OUT/a.$fmt" >"$TMP/list" ;;
  esac && ok || fail "$fmt: cannot list"
  grep -q "ro-crate-metadata.json" "$TMP/list" && ok || fail "$fmt: no crate in listing"
  bsdtar -tvf "$OUT/a.$fmt" | awk '($3 != "root" && $3 != "0") || ($4 != "root" && $4 != "0") {bad=1} END {exit bad}' &&
    ok || fail "$fmt: an entry not owned by root"

  # extract with the usual tool
  X=$TMP/x-$fmt
  mkdir -p "$X"
  case $fmt in
    zip|bagit-zip) unzip -q "$OUT/a.$fmt" -d "$X" ;;
    tar.zst) tar --zstd -xf "$OUT/a.$fmt" -C "$X" ;;
    tar.gz) tar -xzf "$OUT/a.$fmt" -C "$X" ;;
    *) tar -xf "$OUT/a.$fmt" -C "$X" ;;
  esac && ok || fail "$fmt: cannot extract"
  root=$X
  case $fmt in bagit*) root=$X/$B/data ;; esac
  (cd "$root" && sha256sum --quiet -c "$TMP/want") && ok || fail "$fmt: digests differ from the catalog"
  json_ok "$root/ro-crate-metadata.json" && ok || fail "$fmt: crate missing or not JSON"
  [ -f "$root/datacite.xml" ] && [ -f "$root/ro-crate-preview.html" ] && ok ||
    fail "$fmt: generated files missing"
  # the mtime of a blob file is the catalog's
  [ "$(date -u -r "$root/pellet-b12-raw/projections.h5" +%FT%T)" = 2026-05-19T14:30:00 ] && ok ||
    fail "$fmt: mtime $(date -u -r "$root/pellet-b12-raw/projections.h5" +%FT%T)"
done

# ---- the bag -----------------------------------------------------------------
for fmt in bagit bagit-zip; do
  bag=$TMP/x-$fmt/$B
  printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' | cmp -s - "$bag/bagit.txt" &&
    ok || fail "$fmt: bagit.txt"
  (cd "$bag" && sha256sum --quiet -c manifest-sha256.txt) && ok || fail "$fmt: payload manifest"
  (cd "$bag" && sha256sum --quiet -c tagmanifest-sha256.txt) && ok || fail "$fmt: tag manifest"
  n=$(cd "$bag" && find data -type f | wc -l)
  [ "$n" = "$(wc -l <"$bag/manifest-sha256.txt")" ] && ok || fail "$fmt: manifest lists $n files?"
  bytes=$(find "$bag/data" -type f -printf '%s\n' | awk '{s+=$1} END{print s+0}')
  grep -qx "Payload-Oxum: $bytes.$n" "$bag/bag-info.txt" && ok || fail "$fmt: Payload-Oxum"
  id=$(c --json bundle show "$B" | json_id)
  grep -qx "External-Identifier: urn:uuid:$id" "$bag/bag-info.txt" && ok ||
    fail "$fmt: External-Identifier ($id)"
  pub=$(c --json log | grep '"event_type":"BundlePublished"' | grep "$id" |
        sed 's/.*"occurred_at":"\([0-9-]*\)T.*/\1/' | head -1)
  [ -n "$pub" ] && ok || fail "no BundlePublished event"
  grep -qx "Bagging-Date: $pub" "$bag/bag-info.txt" && ok || fail "$fmt: Bagging-Date"
  grep -q "Bagging-Date: $(date -u +%F)" "$bag/bag-info.txt" && [ "$(date -u +%F)" != "$pub" ] &&
    fail "$fmt: Bagging-Date is today" || ok
done

# standard output, and the default name
c bundle export "$B" --format tar -o - 2>/dev/null | cmp -s - "$OUT/a.tar" && ok || fail "stdout differs"
(cd "$TMP" && "$CORA" -C "$CAT" -q bundle export "$B") && [ -f "$TMP/$B.zip" ] && ok ||
  fail "default output $B.zip"
expect_error "unknown archive format 'rar'" c bundle export "$B" --format rar
expect_error "bundle 'nope' does not exist" c bundle export nope -o "$OUT/n.zip"
[ ! -e "$OUT/n.zip" ] && ok || fail "a failed export left a file"
c bundle export recon-review --format tar -o "$OUT/r.tar" 2>"$TMP/err" >/dev/null
grep -q "is not sealed" "$TMP/err" && ok || fail "no note for an unsealed bundle"

# ---- dataset export and import round trip ---------------------------------
for fmt in zip tar.zst; do
  expect_ok c dataset export 2BM_recon_2026-05-20_sirt_chain --format "$fmt" -o "$OUT/d.$fmt"
  expect_ok c dataset create "rt-${fmt/./-}"
  expect_ok c dataset import "rt-${fmt/./-}" "$OUT/d.$fmt"
  grep -q "skipped 2 generated files" "$TMP/out" && ok || fail "generated files not skipped"
  diff <(c dataset ls 2BM_recon_2026-05-20_sirt_chain | sort) <(c dataset ls "rt-${fmt/./-}" | sort) >/dev/null &&
    ok || fail "$fmt: round trip changed the files"
done

# ---- refusals (archives made with bsdtar and zip) --------------------------
expect_ok c dataset create imp
W=$TMP/w
mkdir -p "$W" && echo hi >"$W/f"
(cd "$W" && bsdtar -cf ../dd.tar -P -s ',^f$,../etc/passwd,' f &&
  bsdtar -cf ../abs.tar -P -s ',^f$,/etc/passwd,' f &&
  ln -s /etc/passwd l && bsdtar -cf ../l.tar l && rm l &&
  ln -s ../../x up && mkdir -p s && mv up s/ && bsdtar -cf ../up.tar s && rm -r s &&
  mkfifo p && bsdtar -cf ../p.tar p && rm p &&
  mkdir d && bsdtar -cf ../dir.tar d && rmdir d && echo x >d && bsdtar -rf ../dir.tar d && rm d)
expect_error "^cora: cannot import '$TMP/dd.tar': entry '../etc/passwd' leaves the dataset$" \
  c dataset import imp "$TMP/dd.tar"
expect_error "entry '/etc/passwd' has an absolute path" c dataset import imp "$TMP/abs.tar"
expect_error "entry 'l' is a link to '/etc/passwd', outside the dataset" c dataset import imp "$TMP/l.tar"
expect_error "entry 's/up' is a link to '../../x', outside the dataset" c dataset import imp "$TMP/up.tar"
expect_error "entry 'p' is a FIFO" c dataset import imp "$TMP/p.tar"
expect_error "entry 'd' would replace a folder with a file" c dataset import imp "$TMP/dir.tar"
head -c $((50 << 20)) /dev/zero >"$W/zeros"
(cd "$W" && zip -q ../bomb.zip zeros && rm zeros)
expect_error "entry 'zeros' expands it more than 200 times \(--max-ratio\)" c dataset import imp "$TMP/bomb.zip"
expect_error "expands to more than 1048576 bytes \(--max-size\)" c dataset import imp "$TMP/bomb.zip" \
  --max-size 1M --max-ratio 0
expect_error "not-there.tar" c dataset import imp "$TMP/not-there.tar"
expect_error "is Production, not Trial" c dataset import pellet-b12-raw "$OUT/d.zip"
# a cut archive: refused, nothing changes
head -c $((($(stat -c %s "$OUT/d.tar.zst") * 2) / 3)) "$OUT/d.tar.zst" >"$TMP/cut.tar.zst"
expect_error "cannot import '.*cut.tar.zst'" c dataset import imp "$TMP/cut.tar.zst"
[ -z "$(c dataset ls imp)" ] && ok || fail "refused imports left files in 'imp'"

# ---- 1 GiB of zeros: sparse tar and gzip --------------------------------------
truncate -s 1G "$W/big.raw"
# GNU tar without -S writes the zeros; gzip squeezes them about 1000 times
(cd "$W" && bsdtar --format pax -cf ../sparse.tar big.raw && tar -czf ../big.tar.gz big.raw && rm big.raw)
[ "$(stat -c %s "$TMP/sparse.tar")" -lt 65536 ] && ok || fail "sparse tar is not small"
expect_error "\(--max-ratio\)" c dataset import imp "$TMP/sparse.tar"
expect_ok c dataset import imp "$TMP/sparse.tar" --max-ratio 0
expect_ok c dataset import imp "$TMP/big.tar.gz" --into gz --max-ratio 2000
ZERO_1G=49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14
c dataset ls imp | grep -qx "$ZERO_1G  big.raw" && ok || fail "sparse entry digest"
c dataset ls imp | grep -qx "$ZERO_1G  gz/big.raw" && ok || fail "gzip entry digest"
# export streams: 1 GiB goes through in bounded memory
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f %M -o "$TMP/rss" "$CORA" -C "$CAT" dataset export imp --format tar -o - 2>/dev/null |
    sha256sum >/dev/null
  rss=$(tail -1 "$TMP/rss")
  [ "$rss" -lt 65536 ] && ok || fail "export of 2 GiB used $rss KiB"
fi
expect_ok c fsck
finish
