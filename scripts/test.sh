#!/usr/bin/env bash
# Runs every test: installs what is missing, builds in a fresh build
# folder, and runs all meson suites.  Usage: scripts/test.sh [SUITE...]
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || exit 1
bash tests/s3/setup.sh || exit 1      # the local S3 server (npm, pinned)
dir=build-test
rm -rf "$dir"
meson setup "$dir" -Dfault_injection=true >/dev/null || exit 1
ninja -C "$dir" || exit 1
suites=()
for s in "$@"; do suites+=(--suite "$s"); done
meson test -C "$dir" --print-errorlogs --num-processes 2 "${suites[@]}"
rc=$?
# One closing line that any reader understands.
python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
for line in open(sys.argv[1]):
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        counts["OK"] += 1
    elif r == "SKIP":
        counts["SKIP"] += 1
    else:
        counts["FAIL"] += 1
print(f"{counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
PY
exit $rc
