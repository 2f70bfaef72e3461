/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppool.c - the ppool workload (peers' README, workload 9): T tasks
 * submitted with ep_ppool_async_queue to a pool of limit L; task I is a
 * temporary worker that sends I*I to the main process and exits.
 * result = T(T+1)(2T+1)/6.
 */
#include "bench_rt.h"

static long l_arg, t_arg;
static long long result;
static uint64_t wall;

static void task(ep_term args) {         /* [Main, I] */
  ep_pid main_pid;
  int64_t i = 0;
  ep_get_pid(ep_list_head(args), &main_pid);
  ep_get_int(ep_list_head(ep_list_tail(args)), &i);
  ep_send_fmt(main_pid, "{task_done, ~L}", (long long)(i * i));
}

/* The pool's worker start function: the task gets [Main, I] as it is,
 * as the Erlang peer's fun closes over Main and I. */
static int start_task(ep_term args, ep_pid *pid, ep_term *reason) {
  (void)reason;
  *pid = ep_spawn_link(task, args);
  return 0;
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_done, "{task_done, X::int}");
  ep_pid sup, pool;
  ep_atom name = ep_atom_of("bench_pool");
  ep_ppool_start_link(&sup);
  ep_ppool_start_pool(name, l_arg, start_task, NULL, &pool);
  ep_build b;
  ep_b_init(&b);
  ep_pid self = ep_self();
  uint64_t t0 = bench_now_ns();
  for (long i = 1; i <= t_arg; i++) {
    ep_b_reset(&b);
    ep_b_list(&b);
    ep_b_pid(&b, self);
    ep_b_int(&b, i);
    ep_b_end(&b);
    ep_ppool_async_queue(name, ep_b_peek(&b));
  }
  long long sum = 0;
  for (long i = 0; i < t_arg; i++) {
    ep_receive(EP_INFINITY, p_done);
    int64_t x;
    ep_bind(&x);
    sum += x;
  }
  wall = bench_now_ns() - t0;
  ep_b_free(&b);
  result = sum;
  ep_ppool_stop();
}

int main(int argc, char **argv) {
  l_arg = bench_arg(argc, argv, 1, 2L * sysconf(_SC_NPROCESSORS_ONLN));
  t_arg = bench_arg(argc, argv, 2, 100000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "ppool");
  bench_int(&l, "l", l_arg);
  bench_int(&l, "t", t_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_task", bench_per(wall, (uint64_t)t_arg));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
