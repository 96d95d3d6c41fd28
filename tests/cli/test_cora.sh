#!/usr/bin/env bash
# test_cora.sh: the cora command end to end on real catalogs: the demo,
# fsck, ingest and verify, a corrupted blob, gc, and one specific error
# message (and no change) for every kind of bad input.
CORA=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/demo
c() { "$CORA" -C "$CAT" "$@"; }

# ---- the demo catalog ------------------------------------------------------
expect_ok "$CORA" demo "$CAT"
expect_ok c fsck
[ "$(c --json asset ls | grep -c '"lifecycle"')" = 17 ] && ok || fail "17 assets"
[ "$(c --json dataset ls | grep -c '"intent"')" = 4 ] && ok || fail "4 datasets"
c --json bundle show catalyst-2026-1 >"$TMP/b.json"
grep -q '"status": "Published"' "$TMP/b.json" && ok || fail "bundle published"
grep -q '10.0000/cora-stub/catalyst-2026-1' "$TMP/b.json" && ok || fail "stub DOI"
c --json bundle show recon-review | grep -q '"status": "Registered"' && ok ||
  fail "second bundle open"
c --json dataset show pellet-b12-raw >"$TMP/raw.json"
grep -q '"intent": "Production"' "$TMP/raw.json" && ok || fail "raw promoted"
grep -q '"algorithm": "sha256-tree"' "$TMP/raw.json" && ok || fail "tree checksum"
c --json asset show Filter_FoilSelector_Downstream | grep -q '"condition": "Faulted"' &&
  ok || fail "faulted filter"
expect_ok c dataset verify 2BM_recon_2026-05-20_sirt_chain
[ "$(c dataset ls 2BM_recon_2026-05-20_sirt_chain | wc -l)" = 16 ] && ok ||
  fail "16 reconstructed slices"

# ---- bad input: one line, non-zero, nothing changed -------------------------
long201=$(printf 'é%.0s' $(seq 201))
long200=$(printf 'é%.0s' $(seq 200))
expect_error "not a valid name" c dataset create 'bad slug'
# a document that cannot be written says so (and exits 1)
c dataset show pellet-b12-raw --format rocrate >/dev/full 2>"$TMP/full.err"
[ $? = 1 ] && grep -q "cannot write the document" "$TMP/full.err" && ok ||
  fail "show --format rocrate into /dev/full: $(cat "$TMP/full.err")"
expect_error "not a valid name" c dataset create -- '-dash'
expect_error "already exists" c dataset create pellet-b12-raw
expect_error "must be 1 to 200 characters, not 201" c dataset create x1 --name "$long201"
expect_ok c dataset create x200 --name "$long200"
expect_error "scheme 'javascript' is not allowed" c dataset create x2 --uri 'javascript:alert(1)'
expect_error "has no scheme" c dataset create x3 --uri '/data/x'
expect_error "run 'nope' does not exist" c dataset create x4 --run nope
expect_error "dataset 'nope' does not exist" c dataset promote nope --reason ok
expect_error "reason is empty" c dataset promote x200 --reason '   '
expect_error "no files" c dataset promote x200 --reason 'ready'
expect_error "already|Production|Trial" c dataset promote pellet-b12-raw --reason again
expect_error "frozen" c dataset mkdir pellet-b12-raw newfolder
expect_error "parent|facility" c asset register Orphan --tier Device
expect_error "parent|facility" c asset register Both --tier Device --parent 2-BM --facility aps
expect_error "cannot activate" c asset activate Camera
expect_error "SPDX" c bundle create b1 --title T --license 'MIT OR Apache-2.0'
expect_error "Production|Trial" c bundle seal recon-review
expect_error "not a DOI" c asset set-pid Rotary 'doi:10.1/x'
expect_error "Registered" c bundle publish recon-review --doi '10.5072/x'
expect_error "ORCID" c person add someone --name Someone --orcid 0000-0002-1825-0098
expect_error "does not exist" c asset relocate Camera NoSuchParent --reason moved
expect_error "UTF-8" c dataset create x5 --name "$(printf 'bad\xff')"

# ---- ingest, verify, corruption, gc -------------------------------------------
mkdir -p "$TMP/src/deep/er" "$TMP/src/with space"
printf 'hello' >"$TMP/src/deep/er/a.txt"
head -c 3000000 /dev/urandom >"$TMP/src/with space/b.bin"
: >"$TMP/src/empty"
printf 'é' >"$TMP/src/naïve.txt"
mkdir "$TMP/src/empty folder"
expect_ok c dataset create scan-0042
# a name the catalog generates at the root: refused, nothing changed
mkdir -p "$TMP/gen/sub"
echo '<resource/>' >"$TMP/gen/datacite.xml"
echo '{}' >"$TMP/gen/sub/ro-crate-metadata.json"
expect_ok c dataset create gen-0001
expect_error "datacite.xml is a name the catalog generates" c dataset ingest gen-0001 "$TMP/gen"
expect_error "ro-crate-metadata.json is a name the catalog generates" \
  c dataset ingest gen-0001 "$TMP/gen/sub/ro-crate-metadata.json"
expect_ok c dataset ingest gen-0001 --into gen "$TMP/gen"
[ "$(c dataset ls gen-0001 | wc -l)" = 2 ] && ok || fail "gen-0001 --into gen: $(c dataset ls gen-0001)"
expect_ok c dataset ingest scan-0042 "$TMP/src"
c dataset ls scan-0042 >"$TMP/ls"
(cd "$TMP/src" && sha256sum -c "$TMP/ls" >/dev/null) && ok ||
  fail "dataset ls digests match sha256sum"
expect_ok c dataset verify scan-0042
expect_ok c fsck
# corrupt the 3 MB blob: verify names it and fails
sha=$(sha256sum "$TMP/src/with space/b.bin" | cut -d' ' -f1)
blob="$CAT/blobs/sha256/${sha:0:2}/${sha:2}"
chmod u+w "$blob"
printf 'X' | dd of="$blob" bs=1 seek=1000 conv=notrunc status=none
if c dataset verify scan-0042 >"$TMP/v" 2>&1; then
  fail "verify passed on a corrupted blob"
else
  grep -q "with space/b.bin" "$TMP/v" && ok || fail "verify names the file: $(cat "$TMP/v")"
fi
# gc: discard the dataset, its blobs go, the rest stay
expect_ok c dataset discard scan-0042 --reason 'test data'
before=$(find "$CAT/blobs/sha256" -type f | wc -l)
expect_ok c gc --grace 0
after=$(find "$CAT/blobs/sha256" -type f | wc -l)
[ $((before - after)) = 4 ] && ok || fail "gc removed $((before - after)) blobs, wanted 4"
expect_ok c fsck
expect_ok c dataset verify pellet-b12-raw

finish
