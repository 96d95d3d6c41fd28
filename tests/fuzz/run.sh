#!/usr/bin/env bash
# run.sh [SECONDS [TARGET...]]: builds the fuzz targets (build.sh), replays
# every input under regressions/<target>/, then fuzzes each target for
# SECONDS (default 60) from its seed corpus.  Fails when an input
# crashes, leaks, trips a sanitizer or breaks a property; the input is
# kept under $FUZZ_OUT/crashes/<target>/ (FUZZ_OUT defaults to
# build-fuzz at the top of the tree).
#
# New inputs the fuzzer finds go to $FUZZ_OUT/corpus/<target>/, never
# into the committed seeds.  To keep a crash as a regression, copy it to
# tests/fuzz/regressions/<target>/ once it is fixed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-$top/build-fuzz}
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} = 0 ] && targets=(event project command text config base64 time import s3xml)

# meson's "skip": only when the compiler is truly missing
command -v "${CC:-clang}" >/dev/null ||
  { echo "${CC:-clang} is not installed: no fuzzing"; exit 77; }
"$here/build.sh" "$out" || { echo "FAIL: build.sh"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
for t in "${targets[@]}"; do
  bin=$out/fuzz_$t
  crashes=$out/crashes/$t
  mkdir -p "$out/corpus/$t" "$crashes"
  # 1. every committed regression, once
  # (a dot file keeps each folder in git; the glob skips it)
  if [ -d "$here/regressions/$t" ] &&
     [ -n "$(ls "$here/regressions/$t")" ]; then
    if ! "$bin" -runs=1 "$here/regressions/$t"/* >"$out/$t.replay.log" 2>&1; then
      echo "FAIL: $t: a regression input crashes again:"
      tail -n 40 "$out/$t.replay.log"
      failed=$((failed + 1))
      continue
    fi
    echo "$t: replayed $(ls "$here/regressions/$t" | wc -l) regressions"
  fi
  # 2. fuzz for a while (fuzz_project starts from the event seeds)
  seeds=$here/corpus/$t
  [ "$t" = project ] && seeds=$here/corpus/event
  opts=()
  [ "$t" = text ] && opts+=(-max_len=5000)
  [ -e "$here/$t.dict" ] && opts+=(-dict="$here/$t.dict")
  [ "$t" = project ] && opts+=(-dict="$here/event.dict")
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       "${opts[@]}" -print_final_stats=1 \
       -artifact_prefix="$crashes/" \
       "$out/corpus/$t" "$seeds" >"$out/$t.log" 2>&1; then
    echo "$t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" |
      grep -o '[0-9]*$') runs in ${secs}s, no crash"
  else
    echo "FAIL: $t: crashed; input kept in $crashes/:"
    grep -E 'ERROR|SUMMARY|runtime error|property failed|Test unit written' "$out/$t.log" |
      head -n 10
    tail -n 40 "$out/$t.log"
    failed=$((failed + 1))
  fi
done
[ "$failed" = 0 ] && echo "fuzz: all ${#targets[@]} targets clean" ||
  echo "fuzz: $failed of ${#targets[@]} targets failed"
[ "$failed" = 0 ]
