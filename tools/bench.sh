#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench: every workload in bench/ next to the Erlang and Go peers of
# ../shared/peers, in one run, then a table of per-operation figures with
# ratios (peer / eproc: above 1 means eproc is faster). The peers are built
# into BUILD/peers when erl / go are present; each result line is checked
# with the peers' check.awk.
#   tools/bench.sh [BUILD] ; BENCH_SIZES=quick for small sizes,
#   BENCH_ONLY="ring pingpong" for a subset, BENCH_RUNS=N runs of every
#   command (default 3; the run with the median per-operation figure is
#   the one kept, for every implementation alike), each after one warm-up
#   run that is not counted (BENCH_WARMUP=0 for none), as the peers'
#   RESULTS.md were measured.
set -u
build=${1:-build}
peers=${PEERS:-$(cd "$(dirname "$0")/../.." && pwd)/shared/peers}
[ -d "$peers" ] || peers=$(cd "$(dirname "$0")/.." && pwd)/../shared/peers
out=$build/bench/results.txt
mkdir -p "$build/bench" "$build/peers/ebin" "$build/peers/go"
: > "$out"

if command -v erlc >/dev/null && [ -d "$peers/erlang/src" ]; then
  erlc -o "$build/peers/ebin" "$peers"/erlang/src/*.erl || echo "bench: Erlang peers failed to build" >&2
fi
if command -v go >/dev/null && [ -d "$peers/go" ]; then
  (cd "$peers/go" && GOCACHE=${GOCACHE:-/tmp/eproc-gocache} \
     go build -o "$OLDPWD/$build/peers/go/" ./cmd/... ) || echo "bench: Go peers failed to build" >&2
fi

if [ "${BENCH_SIZES:-}" = quick ]; then
  specs=("spawn 100000" "skynet 100000 10" "ring 1000 10" "pingpong 100000" "fanin 4 100000"
         "pmap 10000" "pmap_task 10000" "genserver_call 4 10000" "selective_receive 10000 1000" "ppool 4 10000"
         "supervisor_restart 1000" "link_chain 10000" "spawn_latency 10000")
else
  specs=("spawn 1000000" "skynet 1000000 10" "ring 10000 100" "pingpong 1000000" "fanin 4 1000000"
         "pmap 100000" "pmap_task 100000" "genserver_call 4 250000" "selective_receive 10000 10000" "ppool 4 100000"
         "supervisor_restart 1000" "link_chain 100000" "spawn_latency 100000")
fi

runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}
runone() {   # runone IMPL CMD...: the median of $runs result lines into $out, echoed
  local line lines="" i
  shift
  for ((i = 0; i < warmup; i++)); do "$@" >/dev/null 2>&1; done
  for ((i = 0; i < runs; i++)); do
    line=$("$@" 2>/dev/null | grep '^workload=' | tail -1)
    [ -n "$line" ] && lines+="$line"$'\n'
  done
  line=$(printf '%s' "$lines" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^ns_per_/) { split($i, kv, "="); print kv[2], $0; break } }' |
         sort -g | awk '{ l[NR] = $0 } END { if (NR) { m = l[int((NR + 1) / 2)]; sub(/^[^ ]* /, "", m); print m } }')
  if [ -n "$line" ]; then echo "$line" | tee -a "$out"; else echo "bench: no result from: $*" >&2; fi
}

for spec in "${specs[@]}"; do
  set -- $spec
  w=$1; shift
  if [ -n "${BENCH_ONLY:-}" ] && ! [[ " $BENCH_ONLY " == *" $w "* ]]; then continue; fi
  [ -x "$build/bench/$w" ] && runone c "$build/bench/$w" "$@"
  [ -x "$build/bench/$w" ] && runone c env EP_THREADS=1 "$build/bench/$w" "$@"
  if [ -f "$build/peers/ebin/peer_$w.beam" ]; then
    flags=""; case $w in spawn|skynet) flags="+P 2097152";; esac
    runone erlang erl -noshell -noinput $flags -pa "$build/peers/ebin" -run peer_util main "peer_$w" "$@"
  fi
  [ -x "$build/peers/go/$w" ] && runone go "$build/peers/go/$w" "$@"
done
# The term codec benchmark has its own Erlang side.
if [ -x "$build/bench/term_codec" ] && { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" term_codec "* ]]; }; then
  "$build/bench/term_codec" | tee -a "$out"
  [ -x bench/term_codec.sh ] && bench/term_codec.sh "$build" erlang-only | tee -a "$out"
fi

echo
echo "== results checked against the closed forms (peers' check.awk)"
grep -v '^workload=term_codec' "$out" | awk -f "$peers/check.awk" | tail -1
echo
echo "== side by side (per-operation figure; ratio = peer / eproc, higher is better for eproc)"
awk -f tools/bench_table.awk "$out"
