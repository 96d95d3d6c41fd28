#!/usr/bin/env bash
# build.sh [OUTDIR]: builds the libFuzzer targets of tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) straight from the core, schema
# and store sources, without meson.  OUTDIR defaults to build-fuzz at
# the top of the tree.  Needs clang and libclang-rt (libFuzzer), and the
# -dev packages meson wants.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/build-fuzz}
CC=${CC:-clang}

# The targets; fuzz_project is fuzz_event.c built with -DFUZZ_PROJECT.
# import links schema/ (libarchive), s3xml links store/ (libxml2, curl).
targets=(event project command text config base64 time import s3xml)

# sources_of DIR: the .c files DIR/meson.build lists in its files(...)
# block (so the lists cannot drift apart).
sources_of() {
  sed -n "/files(/,/)/s/^ *'\([a-z_0-9]*\.c\)',*/\1/p" "$top/$1/meson.build"
}

cflags=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -I"$top"
  $(pkg-config --cflags libxml-2.0 libarchive)
  -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
  -fsanitize=address,undefined -fno-sanitize-recover=undefined)
libs=($(pkg-config --libs sqlite3 jansson libcrypto) -lunistring -lpthread)

# lib DIR MIN: compiles DIR's sources into $out/lib<DIR>-fuzz.a (an
# archive, so each target links only what it calls); a source is
# rebuilt when it or any header of the tree is newer than its object.
lib() {
  local dir=$1 min=$2 s o
  local -a srcs objs=()
  mapfile -t srcs < <(sources_of "$dir")
  [ ${#srcs[@]} -ge "$min" ] ||
    { echo "build.sh: cannot read the source list of $dir/meson.build"; exit 1; }
  mkdir -p "$out/obj/$dir"
  for s in "${srcs[@]}"; do
    o=$out/obj/$dir/${s%.c}.o
    if [ ! -e "$o" ] || [ "$top/$dir/$s" -nt "$o" ] ||
       [ -n "$(find "$top/core" "$top/schema" "$top/store" -name '*.h' \
               -newer "$o" -print -quit)" ]; then
      "$CC" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$top/$dir/$s" -o "$o"
    fi
    objs+=("$o")
  done
  rm -f "$out/lib$dir-fuzz.a"
  ar rcs "$out/lib$dir-fuzz.a" "${objs[@]}"
}

mkdir -p "$out/obj"
lib core 10
lib schema 5
lib store 3

for t in "${targets[@]}"; do
  src=$here/fuzz_$t.c def=() extra=()
  [ "$t" = project ] && src=$here/fuzz_event.c def=(-DFUZZ_PROJECT)
  [ "$t" = import ] && extra=("$out/libschema-fuzz.a"
    $(pkg-config --libs libxml-2.0 libarchive))
  [ "$t" = s3xml ] && extra=("$out/libstore-fuzz.a"
    $(pkg-config --libs libxml-2.0 libcurl))
  "$CC" "${cflags[@]}" -Werror "${def[@]}" -fsanitize=fuzzer "$src" \
    "${extra[@]}" "$out/libcore-fuzz.a" "${libs[@]}" -o "$out/fuzz_$t"
done
echo "built ${targets[*]} in $out"
