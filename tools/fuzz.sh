#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, seeded from the
# committed corpus fuzz/corpus/<name without fuzz_>/ (new finds go to
# BUILD/fuzz-corpus, so the committed corpus stays small). A crash, leak,
# timeout or over-allocation leaves fuzz/crash-* and makes this exit 1.
#   tools/fuzz.sh BUILD_DIR SECONDS [TARGET]   (TARGET: e.g. fuzz_etf; default all)
set -u
build=${1:?usage: tools/fuzz.sh BUILD_DIR SECONDS [TARGET]}
secs=${2:-60}
only=${3:-}
status=0
found=0
for t in "$build"/fuzz/fuzz_*; do
  [ -x "$t" ] || continue
  found=1
  name=$(basename "$t")
  [ -z "$only" ] || [ "$name" = "$only" ] || continue
  seeds="fuzz/corpus/${name#fuzz_}"
  work="$build/fuzz-corpus/$name"
  dict="fuzz/${name#fuzz_}.dict"
  mkdir -p "$work" "$seeds"
  echo "== $name for ${secs}s (seeds: $seeds)"
  args=(-max_total_time="$secs" -malloc_limit_mb=512 -rss_limit_mb=2048 -timeout=10
        -max_len=65536 -artifact_prefix=fuzz/ -print_final_stats=1)
  [ -f "$dict" ] && args+=(-dict="$dict")
  if ! "$t" "${args[@]}" "$work" "$seeds" 2>"$build/$name.log"; then
    tail -n 40 "$build/$name.log"
    echo "!! $name found a failure (see fuzz/crash-* and $build/$name.log)"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$name.log"
  fi
done
[ "$found" = 1 ] || { echo "fuzz.sh: no fuzz targets in $build/fuzz" >&2; exit 2; }
exit $status
