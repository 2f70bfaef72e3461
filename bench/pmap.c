/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pmap.c - the pmap workload (peers' README, workload 6): seed 000's
 * parallel map of x*x over 1..N, with raw processes as the Erlang peer
 * does it: each element's process is spawned linked and monitored (like
 * Task.async) and replies {Pid, Result}; the root awaits the replies in
 * input order and drops each monitor with flush (like Task.await).
 */
#include <stdio.h>

#include "bench_rt.h"

static long n_arg;
static long long result;
static bool ordered;
static uint64_t wall;

/* fn -> Owner ! {self(), F(X)} end */
static void task(ep_term arg) {
  EP_PATTERN(p_arg, "{Owner::pid, X::int}");
  ep_pid owner;
  int64_t x;
  if (ep_match(p_arg, arg, &owner, &x)) ep_send_fmt(owner, "{~p, ~L}", ep_self(), (long long)(x * x));
}

typedef struct { ep_pid pid; ep_ref ref; } task_ref;

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_reply, "{^Pid, R::int}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  task_ref *tasks = malloc((size_t)n_arg * sizeof *tasks);
  int64_t *out = malloc((size_t)n_arg * sizeof *out);
  if (!tasks || !out) exit(1);
  ep_spawn_opts opts = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
  ep_build b;
  ep_b_init(&b);
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < n_arg; i++) {
    ep_b_reset(&b);
    ep_b_format(&b, "{~p, ~l}", ep_self(), i + 1);
    if (ep_spawn_opt(&tasks[i].pid, task, ep_b_peek(&b), &opts, &tasks[i].ref) < 0) exit(1);
  }
  for (long i = 0; i < n_arg; i++) {
    ep_smallterm ps, rs;
    ep_term pin_pid = ep_pid_term(&ps, tasks[i].pid), pin_ref = ep_ref_term(&rs, &tasks[i].ref);
    ep_clause c[2] = {{p_reply, &pin_pid}, {p_down, &pin_ref}};
    if (ep_receive_clauses(c, 2, EP_INFINITY) != 0) ep_exit(ep_var(0));
    ep_bind(&out[i]);
    ep_demonitor(&tasks[i].ref, EP_DEMONITOR_FLUSH);
  }
  wall = bench_now_ns() - t0;
  ep_b_free(&b);
  long long sum = 0;
  ordered = true;
  for (long i = 0; i < n_arg; i++) {
    sum += out[i];
    ordered = ordered && out[i] == (int64_t)(i + 1) * (i + 1);
  }
  result = sum;
  free(tasks);
  free(out);
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 100000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "pmap");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_elem", bench_per(wall, (uint64_t)n_arg));
  bench_str(&l, "ordered", ordered ? "true" : "false");
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
