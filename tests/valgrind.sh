#!/usr/bin/env bash
# valgrind.sh [BUILDDIR]: runs every test of the unit suite of a normal
# (not sanitized) build under valgrind memcheck, through meson's test
# wrapper so each binary gets its arguments.  BUILDDIR defaults to
# build-hard at the top of the tree (configured and built when missing).
# Fails on any memcheck error or definite leak (exit status 9) and on a
# failed test.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-hard}

command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
if [ ! -e "$build/build.ninja" ]; then
  meson setup "$build" "$top" >"${TMPDIR:-/tmp}/setup.$$.log" 2>&1 ||
    { cat "${TMPDIR:-/tmp}/setup.$$.log"; echo "FAIL: meson setup"; exit 1; }
  rm -f "${TMPDIR:-/tmp}/setup.$$.log"
fi
if meson configure "$build" 2>/dev/null |
   grep -qE '^ *b_sanitize +[a-z]*(address|undefined|thread)'; then
  echo "FAIL: $build is a sanitizer build; valgrind needs a normal one"
  exit 1
fi
ninja -C "$build" >"$build/valgrind-ninja.log" 2>&1 ||
  { tail -n 40 "$build/valgrind-ninja.log"; echo "FAIL: build"; exit 1; }

wrapper="valgrind --error-exitcode=9 --leak-check=full"
wrapper+=" --errors-for-leak-kinds=definite --child-silent-after-fork=yes"
wrapper+=" --track-origins=yes --quiet"
# valgrind runs code some 20 to 50 times slower; the tests are mostly I/O
if meson test -C "$build" --suite unit --wrapper "$wrapper" \
     --timeout-multiplier 10 --print-errorlogs; then
  echo "valgrind: clean (unit suite)"
else
  echo "FAIL: a unit test failed or valgrind found an error (status 9)"
  exit 1
fi
