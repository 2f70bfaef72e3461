/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn_latency.c - the spawn_latency workload (peers' README, workload
 * 12): K times in sequence, spawn a process that messages its parent and
 * ends, and wait for the message. fresh_proc_bytes: process_info memory of
 * a fresh process parked in receive.
 */
#include "bench_rt.h"

static long k_arg;
static uint64_t wall_ns;
static long replies;
static int64_t fresh_bytes;

static void hello(ep_term arg) {
  ep_pid parent;
  ep_get_pid(arg, &parent);
  ep_smallterm s;
  ep_send(parent, ep_pid_term(&s, ep_self()));
}

static void waiter(ep_term unused) {
  (void)unused;
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
}

static void root(ep_term unused) {
  (void)unused;
  ep_pid w = ep_spawn(waiter, NULL);
  ep_yield();
  ep_term mem = ep_process_info(w, EP_A_memory);
  if (mem) ep_get_int(ep_tuple_elem(mem, 1), &fresh_bytes);
  ep_term_free(mem);
  ep_smallterm s;
  ep_send(w, ep_atom_term(&s, EP_A_stop));
  ep_term self = ep_pid_term(&s, ep_self());
  long n = 0;
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < k_arg; i++) {
    ep_pid c = ep_spawn(hello, self);
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);
    ep_pid got;
    if (ep_get_pid(m, &got) == 0 && ep_pid_eq(got, c)) n++;
  }
  wall_ns = bench_now_ns() - t0;
  replies = n;
}

int main(int argc, char **argv) {
  k_arg = bench_arg(argc, argv, 1, 100000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "spawn_latency");
  bench_int(&l, "k", k_arg);
  bench_float(&l, "wall_ms", bench_ms(wall_ns));
  bench_float(&l, "ns_per_spawn", bench_per(wall_ns, (uint64_t)k_arg));
  bench_int(&l, "process_limit", EP_PROCESS_LIMIT_DEFAULT);
  bench_int(&l, "fresh_proc_bytes", fresh_bytes);
  bench_int(&l, "heap_words", 0);
  bench_int(&l, "min_heap_words", 0);
  bench_int(&l, "wordsize", 8);
  bench_int(&l, "result", replies);
  bench_end(&l, bench_threads());
  return 0;
}
