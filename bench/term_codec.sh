#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The term codec benchmark, C and Erlang side by side in one run: runs
# BUILD/bench/term_codec and bench/erl/term_codec.erl (compiled into
# BUILD/bench/erl) on the same messages, prints both sets of result lines,
# then a table of ns per operation with the ratio erlang / c (above 1: the C
# side is faster).
#   bench/term_codec.sh [BUILD] [erlang-only]    ITERS=N for the iterations
# erlang-only prints just the Erlang lines (tools/bench.sh runs the C side
# itself and makes its own table).
set -eu
build=${1:-build}
mode=${2:-both}
iters=${ITERS:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT

if [ "$mode" != erlang-only ]; then
  "$build/bench/term_codec" "$iters" | tee -a "$lines"
fi
if command -v erlc >/dev/null; then
  mkdir -p "$build/bench/erl"
  erlc -o "$build/bench/erl" "$here/erl/term_codec.erl"
  erl -noshell -noinput -pa "$build/bench/erl" -run term_codec main "$iters" | tee -a "$lines"
else
  echo "term_codec.sh: erlc not found, no Erlang side (make deps)" >&2
fi
[ "$mode" = erlang-only ] && exit 0

echo
awk '
/^workload=term_codec/ {
  delete f
  for (i = 1; i <= NF; i++) { eq = index($i, "="); f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
  k = f["msg"] "/" f["op"]
  if (!(k in seen)) { seen[k] = 1; order[++n] = k }
  if (f["impl"] == "c") c[k] = f["ns_per_op"]; else e[k] = f["ns_per_op"]
}
END {
  printf "%-26s %10s %10s %8s\n", "msg/op (ns per op)", "c", "erlang", "erl/c"
  for (i = 1; i <= n; i++) {
    k = order[i]
    r = (k in c) && (k in e) && c[k] > 0 ? sprintf("%.1fx", e[k] / c[k]) : "-"
    printf "%-26s %10s %10s %8s\n", k, (k in c) ? c[k] : "-", (k in e) ? e[k] : "-", r
  }
}' "$lines"
