/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skynet.c - the skynet workload (peers' README, workload 2): each process
 * spawns Div children until Size leaves; leaves send their number up and
 * every inner process sends the sum of its children's.
 */
#include "bench_rt.h"

static long size_arg, div_arg;
static long long result;
static uint64_t wall;

static void node(ep_term arg) {
  ep_pid parent;
  int64_t num, size;
  ep_get_pid(ep_tuple_elem(arg, 0), &parent);
  ep_get_int(ep_tuple_elem(arg, 1), &num);
  ep_get_int(ep_tuple_elem(arg, 2), &size);
  long long sum = num;
  if (size > 1) {
    int64_t child = size / div_arg;
    ep_build b;
    ep_b_init(&b);
    for (long i = 0; i < div_arg; i++) {
      ep_b_reset(&b);
      ep_b_tuple(&b);
      ep_b_pid(&b, ep_self());
      ep_b_int(&b, num + i * child);
      ep_b_int(&b, child);
      ep_b_end(&b);
      ep_spawn(node, ep_b_peek(&b));
    }
    ep_b_free(&b);
    sum = 0;
    for (long i = 0; i < div_arg; i++) {
      ep_term m;
      ep_receive_any(&m, EP_INFINITY);
      int64_t v;
      ep_get_int(m, &v);
      sum += v;
    }
  }
  ep_smallterm s;
  ep_send(parent, ep_int_term(&s, sum));
}

static long procs(long size) { return size <= 1 ? 1 : 1 + div_arg * procs(size / div_arg); }

static void root(ep_term unused) {
  (void)unused;
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_pid(&b, ep_self());
  ep_b_int(&b, 0);
  ep_b_int(&b, size_arg);
  ep_b_end(&b);
  uint64_t t0 = bench_now_ns();
  ep_spawn(node, ep_b_peek(&b));
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
  int64_t v;
  ep_get_int(m, &v);
  wall = bench_now_ns() - t0;
  result = v;
  ep_b_free(&b);
}

int main(int argc, char **argv) {
  size_arg = bench_arg(argc, argv, 1, 1000000);
  div_arg = bench_arg(argc, argv, 2, 10);
  if (div_arg < 2) div_arg = 2;
  bench_run(root, 4u << 20);
  bench_line l;
  bench_begin(&l, "skynet");
  bench_int(&l, "size", size_arg);
  bench_int(&l, "div", div_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_int(&l, "procs", procs(size_arg));
  bench_float(&l, "ns_per_proc", bench_per(wall, (uint64_t)procs(size_arg)));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
