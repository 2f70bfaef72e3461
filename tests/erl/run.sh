#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The ETF round trip against a real Erlang: gen.erl writes a corpus of random
# terms as Erlang encodes them, etf_roundtrip (C) decodes and re-encodes them
# and must produce Erlang's bytes, and writes its own encodings (of the corpus
# and of terms it builds) for check.erl to decode in Erlang and compare.
#   tests/erl/run.sh [BUILD_DIR]   (env: ETF_TERMS, ETF_SEED)
# Prints "N passed, M failed"; exits non-zero on any mismatch.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
terms=${ETF_TERMS:-3000}
seed=${ETF_SEED:-1}
bin="$build/tests/etf_roundtrip"
[ -x "$bin" ] || { echo "run.sh: $bin not built (make)" >&2; exit 2; }
command -v escript >/dev/null || { echo "run.sh: escript not found (make deps)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "etf round trip: $terms random terms, seed $seed (ETF_SEED=$seed to repeat)"
escript "$here/gen.erl" corpus "$tmp/corpus.etf" "$terms" "$seed" || exit 1
c_out=$("$bin" "$tmp/corpus.etf" "$tmp" "$terms" "$seed" 2>"$tmp/c.err")
c_rc=$?
head -n 20 "$tmp/c.err" >&2
echo "$c_out"
e_out=$(escript "$here/check.erl" "$tmp/corpus.etf" "$tmp" 2>&1)
e_rc=$?
echo "$e_out" | head -n 20
sum() { echo "$1" | sed -n "s/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\\$2/p" | tail -n 1; }
cp=$(sum "$c_out" 1) cf=$(sum "$c_out" 2) ep=$(sum "$e_out" 1) ef=$(sum "$e_out" 2)
passed=$(( ${cp:-0} + ${ep:-0} ))
failed=$(( ${cf:-0} + ${ef:-0} ))
[ -z "$cp" ] || [ -z "$ep" ] && failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$c_rc" = 0 ] && [ "$e_rc" = 0 ] && [ "$failed" = 0 ]
