/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.c - the ring workload (peers' README, workload 3): N processes in a
 * ring, a token {token, H} going M times around (N*M hops). Building the
 * ring is setup_ms; wall_ms is the token's journey.
 */
#include "bench_rt.h"

static long n_arg, m_arg;
static long long result;
static uint64_t wall, setup;

/* node(Next, Total, Main): pass the token on; the hop that reaches Total
 * reports {done, Total} to Main. */
static void ring_loop(ep_pid next, int64_t total, ep_pid main_pid) {
  EP_PATTERN(p_token, "{token, H::int}");
  for (;;) {
    int64_t h;
    ep_receive(EP_INFINITY, p_token);
    ep_bind(&h);
    if (h == total) ep_send_fmt(main_pid, "{done, ~L}", (long long)h);
    else ep_send_fmt(next, "{token, ~L}", (long long)(h + 1));
  }
}

static void ring_node(ep_term arg) {
  EP_PATTERN(p_arg, "{Next::pid, Total::int, Main::pid}");
  ep_pid next, main_pid;
  int64_t total;
  if (ep_match(p_arg, arg, &next, &total, &main_pid)) ring_loop(next, total, main_pid);
}

/* The last node learns its successor (the first) once that exists. */
static void last_node(ep_term arg) {
  EP_PATTERN(p_arg, "{Total::int, Main::pid}");
  EP_PATTERN(p_next, "{next, First::pid}");
  ep_pid first, main_pid;
  int64_t total;
  if (!ep_match(p_arg, arg, &total, &main_pid)) return;
  ep_receive(EP_INFINITY, p_next);
  ep_bind(&first);
  ring_loop(first, total, main_pid);
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_done, "{done, H::int}");
  long long total = (long long)n_arg * m_arg;
  ep_pid self = ep_self();
  uint64_t t0 = bench_now_ns();
  ep_term last_arg;
  ep_format(&last_arg, "{~L, ~p}", total, self);
  ep_pid last = ep_spawn(last_node, last_arg);
  ep_term_free(last_arg);
  ep_pid next = last;
  ep_build b;
  ep_b_init(&b);
  for (long k = 0; k < n_arg - 1; k++) {
    ep_b_reset(&b);
    ep_b_format(&b, "{~p, ~L, ~p}", next, total, self);
    next = ep_spawn(ring_node, ep_b_peek(&b));
  }
  ep_b_free(&b);
  ep_send_fmt(last, "{next, ~p}", next);
  uint64_t t1 = bench_now_ns();
  ep_send_fmt(next, "{token, 0}");
  int64_t hops;
  ep_receive(EP_INFINITY, p_done);
  ep_bind(&hops);
  uint64_t t2 = bench_now_ns();
  setup = t1 - t0;
  wall = t2 - t1;
  result = hops;
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 10000);
  m_arg = bench_arg(argc, argv, 2, 100);
  if (n_arg < 1) n_arg = 1;
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "ring");
  bench_int(&l, "n", n_arg);
  bench_int(&l, "m", m_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "setup_ms", bench_ms(setup));
  bench_float(&l, "ns_per_msg", bench_per(wall, (uint64_t)(n_arg * m_arg)));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
