/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link_chain.c - the link_chain workload (peers' README, workload 11): N
 * non-trapping processes linked in a chain, each spawn_linking the next;
 * the first is killed. wall_ms runs from exit(First, kill) to the last
 * one's DOWN; all_dead_ms until the process count is back to where it
 * was; build_ms (not timed) is building the chain.
 */
#include <stdio.h>

#include "bench_rt.h"

static long n_arg;
static char reason[64];
static uint64_t wall, all_dead, build;

/* chain(K, Main): K more processes to spawn after this one. */
static void chain(ep_term arg) {
  EP_PATTERN(p_arg, "{K::int, Main::pid}");
  int64_t k;
  ep_pid main_pid;
  if (!ep_match(p_arg, arg, &k, &main_pid)) return;
  if (k == 0) {
    ep_send_fmt(main_pid, "{last, ~p}", ep_self());
  } else {
    ep_term next;
    ep_format(&next, "{~L, ~p}", (long long)(k - 1), main_pid);
    ep_spawn_link(chain, next);
    ep_term_free(next);
  }
  ep_term m;
  for (;;) ep_receive_any(&m, EP_INFINITY);   /* receive after infinity */
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_last, "{last, Last::pid}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Why::atom}");
  long base = ep_process_count();
  uint64_t t0 = bench_now_ns();
  ep_term arg;
  ep_format(&arg, "{~l, ~p}", n_arg - 1, ep_self());
  ep_pid first = ep_spawn(chain, arg);
  ep_term_free(arg);
  ep_pid last;
  ep_receive(EP_INFINITY, p_last);
  ep_bind(&last);
  uint64_t t1 = bench_now_ns();
  ep_ref ref = ep_monitor(last);
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &ref);
  ep_clause c = {p_down, &pin};
  uint64_t t2 = bench_now_ns();
  ep_exit_signal_atom(first, EP_A_kill);
  ep_receive_clauses(&c, 1, EP_INFINITY);
  uint64_t t3 = bench_now_ns();
  ep_atom why = 0;
  ep_bind(&why);
  while (ep_process_count() > base) ep_yield();
  uint64_t t4 = bench_now_ns();
  snprintf(reason, sizeof reason, "%s", why ? ep_atom_name(why, NULL) : "?");
  build = t1 - t0;
  wall = t3 - t2;
  all_dead = t4 - t2;
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 100000);
  if (n_arg < 2) n_arg = 2;
  uint32_t limit = n_arg + 1024 > EP_PROCESS_LIMIT_DEFAULT ? (uint32_t)(n_arg + 1024) : 0;
  bench_run(root, limit);
  bench_line l;
  bench_begin(&l, "link_chain");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "all_dead_ms", bench_ms(all_dead));
  bench_float(&l, "build_ms", bench_ms(build));
  bench_float(&l, "ns_per_link", bench_per(wall, (uint64_t)(n_arg - 1)));
  bench_str(&l, "result", reason);
  bench_end(&l, bench_threads());
  return 0;
}
