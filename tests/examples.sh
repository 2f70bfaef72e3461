#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs every example program and checks what it prints: each line of
# tests/examples/NAME.expect is an extended regular expression that must
# match a line of the output, in order (other lines may come between).
# An example without an .expect file fails: every example is checked.
# EP_TEST_WRAP, if set, is a command each example runs under (valgrind),
# with ten times the time limit.
set -u
shopt -s nullglob
build=${1:-build}
limit=120
[ -n "${EP_TEST_WRAP:-}" ] && limit=1200
passed=0 failed=0
for src in examples/*.c; do
  name=$(basename "$src" .c)
  exe=$build/examples/$name
  expect=tests/examples/$name.expect
  out=$(timeout $limit ${EP_TEST_WRAP:-} "$exe" 2>&1); rc=$?
  why=""
  if [ ! -f "$expect" ]; then why="no $expect"
  elif [ $rc -ne 0 ]; then why="exit status $rc"
  else
    rest=$out
    while IFS= read -r re; do
      [ -z "$re" ] && continue
      line=$(printf '%s\n' "$rest" | grep -n -E -m1 -- "$re") || { why="no line matching: $re"; break; }
      rest=$(printf '%s\n' "$rest" | tail -n +$(( ${line%%:*} + 1 )))
    done < "$expect"
  fi
  if [ -z "$why" ]; then passed=$((passed + 1)); echo "ok       $name"
  else failed=$((failed + 1)); echo "FAILED   $name: $why"; printf '%s\n' "$out" | sed 's/^/    | /' | head -40; fi
done
echo "examples: $passed passed, $failed failed"
[ "$failed" = 0 ]
