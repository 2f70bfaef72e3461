#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make demo: a short tour of the seeds' programs, each printing what happens,
# like the iex sessions in the seeds. The examples live in examples/.
set -u
build=${1:-build}
tour=(
  "terms:terms in C - build, print (Erlang and Elixir), parse, ETF, match"
  "pmap:seed 000 - parallel map over 10,000 processes"
  "worker:seed 000 - Worker with compute and exit messages"
  "kv:seed 000/002 - KV store loop, registered as :kv"
  "pingpong:seed 000 - PingPong"
  "heart_monitor:seed 000 - HeartMonitor"
  "link_chain:seed 004 - five Simple processes in a link chain, and Quitter"
  "printers:seed 004 - HelloPrinter / HiPrinter, trap_exit and exit(pid, kill)"
  "workpool:seed 000 - Workpool scheduler as a gen_server, surviving a crashing job"
  "kv_agent:seed 002 - KV on Agent"
  "ppool_nagger:seed 001 - the ppool application and its nagger session"
)
status=0
bold="" plain=""
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
for entry in "${tour[@]}"; do
  name=${entry%%:*}
  title=${entry#*:}
  exe=$build/examples/$name
  [ -x "$exe" ] || continue
  printf '\n%s=== %s%s   (examples/%s.c)\n' "$bold" "$title" "$plain" "$name"
  "$exe" || { echo "!! $name exited with status $?"; status=1; }
done
exit $status
