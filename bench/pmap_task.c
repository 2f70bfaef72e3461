/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pmap_task.c - the pmap workload (peers' README, workload 6) on Task:
 * ep_task_pmap of x*x over 1..N, one task per element, awaited in order.
 * result = N(N+1)(2N+1)/6; ordered=true when the squares came back in
 * input order. (bench/pmap.c is the same workload on raw spawn.)
 */
#include "bench_rt.h"

static long n_arg;
static long long result;
static bool ordered;
static uint64_t wall;

static void square(ep_term x, ep_build *out) {
  int64_t v = 0;
  ep_get_int(x, &v);
  ep_b_int(out, v * v);
}

static void root(ep_term unused) {
  (void)unused;
  ep_build in, out;
  ep_b_init(&in);
  ep_b_list(&in);
  for (long i = 1; i <= n_arg; i++)
    ep_b_int(&in, i);
  ep_b_end(&in);
  ep_b_init(&out);
  uint64_t t0 = bench_now_ns();
  ep_task_pmap(square, ep_b_peek(&in), 0, EP_CALL_TIMEOUT_DEFAULT, &out);
  wall = bench_now_ns() - t0;
  ordered = true;
  long long i = 1, sum = 0;
  for (ep_term l = ep_b_peek(&out); ep_list_head(l); l = ep_list_tail(l), i++) {
    int64_t v = 0;
    ep_get_int(ep_list_head(l), &v);
    ordered = ordered && v == i * i;
    sum += v;
  }
  result = sum;
  ep_b_free(&in);
  ep_b_free(&out);
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 100000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "pmap");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_elem", bench_per(wall, (uint64_t)n_arg));
  bench_int(&l, "result", result);
  bench_str(&l, "ordered", ordered ? "true" : "false");
  bench_str(&l, "note", "task");
  bench_end(&l, bench_threads());
  return 0;
}
