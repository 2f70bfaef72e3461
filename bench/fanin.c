/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fanin.c - the fanin workload (peers' README, workload 5): P producers
 * send K messages {msg, I} in all to one consumer.
 */
#include "bench_rt.h"

static long p_arg, k_arg;
static uint64_t wall_ns;
static long long sum;

static void producer(ep_term arg) {
  ep_pid to;
  int64_t count;
  ep_get_pid(ep_tuple_elem(arg, 0), &to);
  ep_get_int(ep_tuple_elem(arg, 1), &count);
  ep_build b;
  ep_b_init(&b);
  for (int64_t i = count; i > 0; i--) {
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_atom(&b, EP_A_ok);
    ep_b_int(&b, i);
    ep_b_end(&b);
    ep_send(to, ep_b_peek(&b));
  }
  ep_b_free(&b);
}

static void root(ep_term unused) {
  (void)unused;
  uint64_t t0 = bench_now_ns();
  ep_build b;
  ep_b_init(&b);
  for (long i = 1; i <= p_arg; i++) {
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_pid(&b, ep_self());
    ep_b_int(&b, k_arg / p_arg + (i <= k_arg % p_arg ? 1 : 0));
    ep_b_end(&b);
    ep_spawn(producer, ep_b_peek(&b));
  }
  ep_b_free(&b);
  long long acc = 0;
  for (long n = 0; n < k_arg; n++) {
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);
    int64_t v;
    ep_get_int(ep_tuple_elem(m, 1), &v);
    acc += v;
  }
  wall_ns = bench_now_ns() - t0;
  sum = acc;
}

int main(int argc, char **argv) {
  p_arg = bench_arg(argc, argv, 1, 4);
  k_arg = bench_arg(argc, argv, 2, 1000000);
  if (p_arg < 1) p_arg = 1;
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "fanin");
  bench_int(&l, "p", p_arg);
  bench_int(&l, "k", k_arg);
  bench_float(&l, "wall_ms", bench_ms(wall_ns));
  bench_float(&l, "ns_per_msg", bench_per(wall_ns, (uint64_t)k_arg));
  bench_int(&l, "result", sum);
  bench_end(&l, bench_threads());
  return 0;
}
