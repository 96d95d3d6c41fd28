#!/usr/bin/env bash
# test_standards.sh: the generated files as the mount serves them: every
# datacite.xml of the demo catalog is valid against the DataCite 4.6 XSD
# (xmllint, offline, the project's copy), every JSON file parses, the
# mount serves exactly the bytes `cora ... show --format` prints, sizes
# in stat equal the bytes read, and bundles show their member datasets.
CORA=$(realpath "$1")
CORAFS=$(realpath "$2")
XSD=$(realpath "$(dirname "$0")/../../schema/xsd/metadata.xsd")
. "$(dirname "$0")/lib.sh"
CAT=$TMP/cat
MNT=$TMP/mnt

check "demo" "$CORA" -q demo "$CAT"
mount_cat "$CAT" "$MNT" || { fail "mount"; finish; }

n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  if xmllint --noout --nonet --schema "$XSD" "$f" >"$TMP/x" 2>&1; then ok
  else fail "invalid DataCite: $f: $(head -3 "$TMP/x")"; fi
  [ "$(stat -c %s "$f")" = "$(wc -c <"$f")" ] && ok || fail "size of $f"
done < <(find "$MNT/assets" "$MNT/datasets" "$MNT/bundles" -name datacite.xml -print0)
[ "$n" -ge 23 ] && ok || fail "only $n datacite.xml files"

while IFS= read -r -d '' f; do
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>"$TMP/j" && ok ||
    fail "bad JSON $f: $(cat "$TMP/j")"
  [ "$(stat -c %s "$f")" = "$(wc -c <"$f")" ] && ok || fail "size of $f"
done < <(find "$MNT" -name '*.json' -print0)

# the CLI prints the bytes the mount serves
c asset show Camera --format datacite >"$TMP/a" && cmp -s "$TMP/a" "$MNT/assets/Camera/datacite.xml" &&
  ok || fail "asset datacite differs between cora and the mount"
c asset show Camera --format pidinst >"$TMP/a" && cmp -s "$TMP/a" "$MNT/assets/Camera/pidinst.json" &&
  ok || fail "pidinst differs"
c dataset show pellet-b12-raw --format rocrate >"$TMP/a" &&
  cmp -s "$TMP/a" "$MNT/datasets/pellet-b12-raw/ro-crate-metadata.json" && ok ||
  fail "dataset crate differs"
c bundle show catalyst-2026-1 --format html >"$TMP/a" &&
  cmp -s "$TMP/a" "$MNT/bundles/catalyst-2026-1/ro-crate-preview.html" && ok ||
  fail "preview differs"

# a bundle folder holds its members, read-only, with the right bytes
b=$MNT/bundles/catalyst-2026-1
for d in pellet-b12-raw darkfield-cal flatfield-cal; do
  [ -d "$b/$d" ] && ok || fail "member $d missing from the bundle"
done
(cd "$MNT/datasets/pellet-b12-raw" && sha256sum projections.h5) >"$TMP/s1"
(cd "$b/pellet-b12-raw" && sha256sum projections.h5) >"$TMP/s2"
cmp -s "$TMP/s1" "$TMP/s2" && ok || fail "member bytes differ"
"$PY" -c 'import os,sys,errno
try:
    os.open(sys.argv[1], os.O_WRONLY|os.O_CREAT, 0o644); sys.exit(1)
except OSError as e:
    sys.exit(0 if e.errno == errno.EROFS else 2)' "$b/pellet-b12-raw/new" && ok ||
  fail "a bundle member accepted a write"
# every file the bundle crate lists is in the bundle folder
"$PY" - "$b" <<'PY' && ok || fail "bundle crate lists a file the folder lacks"
import json, os, sys, urllib.parse
root = sys.argv[1]
g = json.load(open(os.path.join(root, "ro-crate-metadata.json")))["@graph"]
for e in g:
    t = e.get("@type")
    types = t if isinstance(t, list) else [t]
    i = e["@id"]
    if "File" in types and not i.startswith(("http", "urn:", "#")):
        p = os.path.join(root, urllib.parse.unquote(i))
        if not os.path.isfile(p):
            print("missing", p); sys.exit(1)
PY

detach "$MNT" && ok || fail "unmount"
finish
