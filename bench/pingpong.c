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
  ep_atom a_pong = ep_atom_of("pong");
  ep_build b;
  ep_b_init(&b);
  for (;;) {
    if (ep_receive(EP_INFINITY, p_ping, p_stop) != 0) {
      ep_b_free(&b);
      return;
    }
    ep_pid from;
    int64_t i;
    ep_bind(&from, &i);
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_atom(&b, a_pong);
    ep_b_int(&b, i);
    ep_b_end(&b);
    ep_send(from, ep_b_peek(&b));
  }
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_pong, "{pong, J::int}");
  ep_pid pg = ep_spawn(pong, NULL);
  ep_pid self = ep_self();
  long long sum = 0;
  uint64_t t0 = bench_now_ns();
  ep_atom a_ping = ep_atom_of("ping");
  ep_build b;
  ep_b_init(&b);
  for (long i = 1; i <= k_arg; i++) {
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_atom(&b, a_ping);
    ep_b_pid(&b, self);
    ep_b_int(&b, i);
    ep_b_end(&b);
    ep_send(pg, ep_b_peek(&b));
    ep_receive(EP_INFINITY, p_pong);
    int64_t j;
    ep_bind(&j);
    sum += j;
  }
  wall = bench_now_ns() - t0;
  ep_b_free(&b);
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
