#!/usr/bin/env bash
# build.sh [OUTDIR]: builds the libFuzzer targets of tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) straight from the core sources,
# without meson.  OUTDIR defaults to build-fuzz at the top of the tree.
# Needs clang and libclang-rt (libFuzzer).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/build-fuzz}
CC=${CC:-clang}

# The targets; fuzz_project is fuzz_event.c built with -DFUZZ_PROJECT.
targets=(event project command text config base64 time)
# The core sources: those core/meson.build lists (so the two cannot drift
# apart), put in an archive so each target links only what it calls.
mapfile -t core_sources < <(sed -n "/^core_sources = files(/,/^)/s/^ *'\([a-z_0-9]*\.c\)',*/\1/p" \
  "$top/core/meson.build")
[ ${#core_sources[@]} -gt 10 ] ||
  { echo "build.sh: cannot read the source list of core/meson.build"; exit 1; }

cflags=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -I"$top"
  -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
  -fsanitize=address,undefined -fno-sanitize-recover=undefined)
libs=($(pkg-config --libs sqlite3 jansson libcrypto) -lunistring -lpthread)

mkdir -p "$out/obj"
objs=()
for s in "${core_sources[@]}"; do
  o=$out/obj/${s%.c}.o
  if [ ! -e "$o" ] || [ "$top/core/$s" -nt "$o" ] ||
     [ -n "$(find "$top/core" -name '*.h' -newer "$o" -print -quit)" ]; then
    "$CC" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$top/core/$s" -o "$o"
  fi
  objs+=("$o")
done
rm -f "$out/libcore-fuzz.a"
ar rcs "$out/libcore-fuzz.a" "${objs[@]}"

for t in "${targets[@]}"; do
  src=$here/fuzz_$t.c def=()
  [ "$t" = project ] && src=$here/fuzz_event.c def=(-DFUZZ_PROJECT)
  "$CC" "${cflags[@]}" -Werror "${def[@]}" -fsanitize=fuzzer "$src" \
    "$out/libcore-fuzz.a" "${libs[@]}" -o "$out/fuzz_$t"
done
echo "built ${targets[*]} in $out"
