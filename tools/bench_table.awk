# SPDX-License-Identifier: Apache-2.0
# Turns result lines (workload=... impl=... ns_per_X=...) into one table row
# per workload: eproc (all threads / 1 thread), Erlang, Go, and the ratios.
# pmap_task (note=task) is set against the peers' pmap, which spawns like Task.
function perop(   i, k) {
  for (i = 1; i <= NF; i++) if ($i ~ /^ns_per_[a-z]+=/) { split($i, k, "="); return k[2] }
  for (i = 1; i <= NF; i++) if ($i ~ /^wall_ms=/) { split($i, k, "="); return k[2] * 1e6 }
  return ""
}
/^workload=/ {
  delete f
  for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
  w = f["workload"]
  if (w == "term_codec") w = w "/" f["msg"] "/" f["op"]
  if (f["note"] == "task") w = w "_task"   # bench/pmap_task: the same workload on Task
  if (!(w in seen)) { seen[w] = 1; order[++n] = w }
  v = perop()
  if (f["impl"] == "c") { if (f["threads"] == 1) c1[w] = v; else c[w] = v }
  else if (f["impl"] == "erlang") e[w] = v
  else if (f["impl"] == "go") g[w] = v
}
function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.1fx", a / b) : "-" }
END {
  printf "%-34s %12s %12s %12s %12s %9s %9s %9s\n", "workload (ns/op)", "eproc", "eproc 1thr", "erlang", "go", "erl/c", "go/c", "1thr/c"
  for (i = 1; i <= n; i++) {
    w = order[i]
    if (!(w in c) && (w in c1)) { c[w] = c1[w]; delete c1[w] }   # single-threaded workloads (term_codec)
    if (w ~ /_task$/) { b = substr(w, 1, length(w) - 5); if (b in e) e[w] = e[b]; if (b in g) g[w] = g[b] }
    printf "%-34s %12s %12s %12s %12s %9s %9s %9s\n", w, (w in c) ? c[w] : "-", (w in c1) ? c1[w] : "-",
      (w in e) ? e[w] : "-", (w in g) ? g[w] : "-", r(e[w], c[w]), r(g[w], c[w]), r(c1[w], c[w])
  }
}
