#!/usr/bin/env bash
# sanitize.sh [BUILDDIR]: builds the tree with AddressSanitizer and
# UndefinedBehaviorSanitizer (BUILDDIR defaults to build-asan at the top
# of the tree) and runs the unit and cli suites there, the mount suite
# when tests/meson.build has one, and the fault suite but for the
# 'hardening' tests (this script, valgrind.sh, fuzz_smoke).  Fails on a
# failed test and on any sanitizer report: reports are written to files
# (log_path), so one from a process whose exit status a shell test
# ignores (`cora log --json | wc -l`) fails the run too.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-asan}
reports=$build/sanitizer-reports

if [ ! -e "$build/build.ninja" ]; then
  meson setup "$build" "$top" -Db_sanitize=address,undefined \
    -Db_lundef=false >"${TMPDIR:-/tmp}/setup.$$.log" 2>&1 ||
    { cat "${TMPDIR:-/tmp}/setup.$$.log"; echo "FAIL: meson setup"; exit 1; }
  rm -f "${TMPDIR:-/tmp}/setup.$$.log"
fi
if ! ninja -C "$build" >"$build/ninja.log" 2>&1; then
  tail -n 60 "$build/ninja.log"
  echo "FAIL: build"
  exit 1
fi
if grep -q 'warning:' "$build/ninja.log"; then
  grep 'warning:' "$build/ninja.log" | sort -u | head -n 20
  echo "note: the sanitizer build has compiler warnings (above)"
fi

suites=(--suite unit --suite cli --suite fault --no-suite fuzz --no-suite hardening)
grep -q "suite *: *\['\?mount\|suite *: *'mount'" "$top/tests/meson.build" &&
  suites+=(--suite mount)

rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan
# tests that measure memory (RSS budgets) cannot hold under ASan; they
# may look at this to skip such checks
export CORA_SANITIZER=address,undefined
rc=0
meson test -C "$build" "${suites[@]}" --print-errorlogs \
  --timeout-multiplier 3 || rc=$?

if [ -n "$(ls -A "$reports")" ]; then
  for f in "$reports"/*; do
    echo "==== $f"
    head -n 60 "$f"
  done
  echo "FAIL: $(ls "$reports" | wc -l) sanitizer report(s) in $reports"
  exit 1
fi
[ "$rc" = 0 ] || { echo "FAIL: meson test exited $rc"; exit 1; }
echo "sanitize: clean (${suites[*]})"
