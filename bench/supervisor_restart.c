/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor_restart.c - the supervisor_restart workload (peers' README,
 * workload 10): a one_for_one supervisor with one permanent worker that
 * exits with `crash` at once, R restarts (intensity 2R+10 per Period s);
 * the R-th start stays up. result = R. The cost per restart must not grow
 * with R (the restart record is a fixed ring, R61).
 */
#include <stdatomic.h>

#include "bench_rt.h"

static long r_arg, period_arg;
static _Atomic long starts;
static long long result;
static uint64_t wall;
static ep_pid main_pid;

static void crasher(ep_term unused) {
  (void)unused;
  ep_exit_atom(ep_atom_of("crash"));
}

static void stay_up(ep_term unused) {
  (void)unused;
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
}

static int start_worker(ep_term args, ep_pid *pid, ep_term *reason) {
  (void)args;
  (void)reason;
  long restarts = atomic_fetch_add_explicit(&starts, 1, memory_order_relaxed);
  if (restarts == r_arg) {
    ep_send_fmt(main_pid, "{restarted, ~l}", restarts);
    *pid = ep_spawn_link(stay_up, NULL);
  } else {
    *pid = ep_spawn_link(crasher, NULL);
  }
  return 0;
}

static int init(ep_term arg, ep_sup_spec *spec) {
  (void)arg;
  ep_sup_set_flags(spec, (ep_sup_flags){EP_ONE_FOR_ONE, (int)(2 * r_arg + 10), (int)period_arg});
  ep_child_spec c = {.id = "crasher", .start = start_worker, .restart = EP_PERMANENT,
                     .shutdown = EP_BRUTAL_KILL};
  ep_sup_add_child(spec, &c);
  return 0;
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_done, "{restarted, _}");
  main_pid = ep_self();
  ep_set_exit_logger(NULL, NULL);
  ep_pid sup;
  uint64_t t0 = bench_now_ns();
  ep_supervisor_start_link(init, NULL, 0, &sup, NULL);
  ep_receive(EP_INFINITY, p_done);
  wall = bench_now_ns() - t0;
  result = atomic_load(&starts) - 1;
  ep_supervisor_stop(ep_srv(sup));
}

int main(int argc, char **argv) {
  r_arg = bench_arg(argc, argv, 1, 100000);
  period_arg = bench_arg(argc, argv, 2, 1);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "supervisor_restart");
  bench_int(&l, "r", r_arg);
  bench_int(&l, "period", period_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_restart", bench_per(wall, (uint64_t)r_arg));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
