#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite against a build folder: each layer's Check binary
# (and the context switch alone), then the round trip against a real
# Erlang, then the AArch64 context switch under qemu, then the example
# programs' checks. The closing line adds up every check: "tests: N passed, M failed".
# With EP_TEST_WRAP set (make valgrind) every test binary and example runs
# under that command; the round trip, driven by escript, and the bare
# context switch, whose stacks are its own, are then left out.
set -u
build=${1:-build}
wrap=${EP_TEST_WRAP:-}
passed=0 failed=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {   # run NAME CMD...: one suite; its own counts are read from its output
  local name=$1; shift
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line p f
  if line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -1) && [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
    set -- $p; f=$(( $2 + $3 )); p=$(( $1 - f ))
  elif line=$(grep -E '^[a-z]*:? *[0-9]+ passed, [0-9]+ failed' "$log" | tail -1) && [ -n "$line" ]; then
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  else
    p=0; f=1
  fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" != 0 ]; then status=1; echo "!! $name FAILED (exit $rc)"; [ "$f" = 0 ] && failed=$((failed + 1)); fi
}
for t in "$build"/tests/test_*; do
  [ -n "$wrap" ] && [ "$(basename "$t")" = test_switch ] && continue
  [ -x "$t" ] && run "$(basename "$t")" $wrap "$t"
done
if [ -z "$wrap" ]; then
  if command -v escript >/dev/null; then run erlang-roundtrip tests/erl/run.sh "$build"
  else echo "!! erlang-roundtrip needs escript (make deps)"; status=1; failed=$((failed + 1)); fi
  run switch-aarch64 tools/cross_test.sh "$build"
fi
run examples tests/examples.sh "$build"
echo
echo "tests: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
