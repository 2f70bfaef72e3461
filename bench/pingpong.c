/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pingpong.c - the pingpong workload (peers' README, workload 4): K round
 * trips {ping, From, I} / {pong, I} between two processes.
 */
#include "bench_rt.h"

static long k_arg;
static long long result;
static uint64_t wall;

static void pong(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_ping, "{ping, From::pid, I::int}");
  EP_PATTERN(p_stop, "stop");
  for (;;) {
    if (ep_receive(EP_INFINITY, p_ping, p_stop) != 0) return;
    ep_pid from;
    int64_t i;
    ep_bind(&from, &i);
    ep_send_fmt(from, "{pong, ~L}", (long long)i);
  }
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_pong, "{pong, J::int}");
  ep_pid pg = ep_spawn(pong, NULL);
  ep_pid self = ep_self();
  long long sum = 0;
  uint64_t t0 = bench_now_ns();
  for (long i = 1; i <= k_arg; i++) {
    ep_send_fmt(pg, "{ping, ~p, ~L}", self, (long long)i);
    ep_receive(EP_INFINITY, p_pong);
    int64_t j;
    ep_bind(&j);
    sum += j;
  }
  wall = bench_now_ns() - t0;
  ep_send_fmt(pg, "stop");
  result = sum;
}

int main(int argc, char **argv) {
  k_arg = bench_arg(argc, argv, 1, 1000000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "pingpong");
  bench_int(&l, "k", k_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_roundtrip", bench_per(wall, (uint64_t)k_arg));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
