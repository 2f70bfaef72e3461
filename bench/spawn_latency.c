/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn_latency.c - the spawn_latency workload (peers' README, workload
 * 12): K times in sequence, spawn a process that sends {hello, self()} to
 * its parent and ends, and wait for it. Also reports the process limit
 * and fresh_proc_bytes, process_info(P, memory) of a process parked in
 * receive right after spawn.
 */
#include "bench_rt.h"

static long k_arg;
static long long result;
static long fresh_bytes;
static uint64_t wall;

static void wait_stop(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_stop, "stop");
  ep_receive(EP_INFINITY, p_stop);
}

static void hello(ep_term parent) {
  ep_pid to;
  if (ep_get_pid(parent, &to) == 0) ep_send_fmt(to, "{hello, ~p}", ep_self());
}

/* Yields until p is parked in receive. */
static void wait_waiting(ep_pid p) {
  EP_PATTERN(p_waiting, "{status, waiting}");
  for (;;) {
    ep_term st = ep_process_info(p, EP_A_status);
    bool parked = !st || ep_match(p_waiting, st);
    ep_term_free(st);
    if (parked) return;
    ep_yield();
  }
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_memory, "{memory, Bytes::int}");
  EP_PATTERN(p_hello, "{hello, ^Pid}");
  ep_pid p = ep_spawn(wait_stop, NULL);
  wait_waiting(p);
  ep_term mem = ep_process_info(p, EP_A_memory);
  int64_t bytes = -1;
  if (mem) ep_match(p_memory, mem, &bytes);
  ep_term_free(mem);
  fresh_bytes = (long)bytes;
  ep_send_fmt(p, "stop");
  ep_smallterm s, ps;
  ep_term self = ep_pid_term(&s, ep_self());
  long long replies = 0;
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < k_arg; i++) {
    ep_pid child = ep_spawn(hello, self);
    ep_term pin = ep_pid_term(&ps, child);
    ep_clause c = {p_hello, &pin};
    if (ep_receive_clauses(&c, 1, EP_INFINITY) == 0) replies++;
  }
  wall = bench_now_ns() - t0;
  result = replies;
}

int main(int argc, char **argv) {
  k_arg = bench_arg(argc, argv, 1, 100000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "spawn_latency");
  bench_int(&l, "k", k_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_spawn", bench_per(wall, (uint64_t)k_arg));
  bench_int(&l, "process_limit", EP_PROCESS_LIMIT_DEFAULT);
  bench_int(&l, "fresh_proc_bytes", fresh_bytes);
  bench_int(&l, "wordsize", (long long)sizeof(void *));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
