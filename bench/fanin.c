/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fanin.c - the fanin workload (peers' README, workload 5): P producers
 * send K messages {msg, I} in all (K/P each, the remainder spread over the
 * first ones, each counting down from its share to 1) to one consumer,
 * the root, which sums the payloads. Mailboxes are unbounded.
 */
#include "bench_rt.h"

static long p_arg, k_arg;
static long long result;
static uint64_t wall;

static void produce(ep_term arg) {
  EP_PATTERN(p_arg_pat, "{Consumer::pid, Count::int}");
  ep_pid consumer;
  int64_t count;
  if (!ep_match(p_arg_pat, arg, &consumer, &count)) return;
  for (int64_t i = count; i > 0; i--) ep_send_fmt(consumer, "{msg, ~L}", (long long)i);
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_msg, "{msg, I::int}");
  uint64_t t0 = bench_now_ns();
  for (long j = 1; j <= p_arg; j++) {
    long count = k_arg / p_arg + (j <= k_arg % p_arg ? 1 : 0);
    ep_term arg;
    ep_format(&arg, "{~p, ~l}", ep_self(), count);
    ep_spawn(produce, arg);
    ep_term_free(arg);
  }
  long long sum = 0;
  for (long n = 0; n < k_arg; n++) {
    int64_t i;
    ep_receive(EP_INFINITY, p_msg);
    ep_bind(&i);
    sum += i;
  }
  wall = bench_now_ns() - t0;
  result = sum;
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
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_msg", bench_per(wall, (uint64_t)k_arg));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
