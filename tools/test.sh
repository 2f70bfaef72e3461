#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite against a build folder: each layer's Criterion binary,
# then the round trip against a real Erlang (when erl is installed), then
# the example programs' checks. Prints one closing line "N passed, N failed".
set -u
build=${1:-build}
passed=0 failed=0
run() {   # run NAME CMD...: one suite, counted once
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "!! $name FAILED"; fi
}
for t in "$build"/tests/test_*; do
  [ -x "$t" ] && run "$(basename "$t")" "$t"
done
if [ -x tests/erl/run.sh ]; then
  if command -v erl >/dev/null; then run erlang-roundtrip tests/erl/run.sh "$build"
  else echo "== erlang-roundtrip skipped: erl not installed (make deps)"; fi
fi
[ -x tests/examples.sh ] && run examples tests/examples.sh "$build"
echo
echo "suites: $passed passed, $failed failed"
[ "$failed" = 0 ]
