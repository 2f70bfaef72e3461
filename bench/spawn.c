/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn.c - the spawn workload (peers' README, workload 1): spawn N
 * processes that each wait for `stop`, until all are parked; then send
 * each `stop` until all have ended. bytes_per_proc is the RSS growth per
 * parked process. The processes are of the lightest kind (stackless
 * handlers); EP_KIND=stack measures processes with their own stacks.
 */
#include <stdatomic.h>
#include <string.h>

#include "bench_rt.h"

static long n_arg;
static bool stackful;
static uint64_t spawn_ns, teardown_ns;
static long alive;
static double bytes_per_proc;
static _Atomic long parked;

static bool idle_handler(void *state, ep_term msg) {
  (void)state;
  return !ep_is_atom(msg, EP_A_stop);
}

static void idle_proc(ep_term arg) {
  (void)arg;
  atomic_fetch_add_explicit(&parked, 1, memory_order_relaxed);
  EP_PATTERN(p_stop, "stop");
  ep_receive(EP_INFINITY, p_stop);
}

static void root(ep_term unused) {
  (void)unused;
  long base = ep_process_count();
  ep_pid *pids = malloc((size_t)n_arg * sizeof *pids);
  if (!pids) exit(1);
  memset(pids, 0, (size_t)n_arg * sizeof *pids);   /* touched before the baseline */
  long rss0 = bench_rss();
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < n_arg; i++) {
    int rc = stackful ? ep_spawn_opt(&pids[i], idle_proc, NULL, NULL, NULL)
                      : ep_spawn_handler_opt(&pids[i], idle_handler, NULL, NULL, NULL);
    if (rc) exit(1);
  }
  if (stackful)
    while (atomic_load_explicit(&parked, memory_order_relaxed) < n_arg) ep_sleep(1);
  uint64_t t1 = bench_now_ns();
  long rss1 = bench_rss();
  alive = ep_process_count() - base;
  ep_smallterm s;
  ep_term stop = ep_atom_term(&s, EP_A_stop);
  uint64_t t2 = bench_now_ns();
  for (long i = 0; i < n_arg; i++) ep_send(pids[i], stop);
  while (ep_process_count() > base) ep_sleep(1);
  uint64_t t3 = bench_now_ns();
  spawn_ns = t1 - t0;
  teardown_ns = t3 - t2;
  bytes_per_proc = (double)(rss1 - rss0) / (double)n_arg;
  free(pids);
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 1000000);
  stackful = bench_stackful();
  bench_run(root, (uint32_t)(n_arg + 1024 < 1024 ? 1024 : n_arg + 1024));
  bench_line l;
  bench_begin(&l, "spawn");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(spawn_ns + teardown_ns));
  bench_float(&l, "spawn_ms", bench_ms(spawn_ns));
  bench_float(&l, "teardown_ms", bench_ms(teardown_ns));
  bench_float(&l, "ns_per_spawn", bench_per(spawn_ns, (uint64_t)n_arg));
  bench_float(&l, "bytes_per_proc", bytes_per_proc);
  bench_str(&l, "kind", stackful ? "stack" : "handler");
  bench_int(&l, "result", alive);
  bench_end(&l, bench_threads());
  return 0;
}
