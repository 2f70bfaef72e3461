/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn.c - the spawn workload (peers' README, workload 1): spawn N
 * processes that each block in receive until `stop`; spawn_ms until all
 * N are parked, teardown_ms from the first `stop` until all have exited.
 * bytes_per_proc is the RSS delta (/proc/self/statm) per parked process.
 * EP_SPAWN_KIND=handler runs the stackless kind (ep_spawn_handler: parked
 * from birth, no stack while waiting) instead of the default stackful one;
 * the line says which (kind=stack|handler). One kind per run: a second
 * batch would reuse the first one's freed memory and measure nothing.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench_rt.h"

static long n_arg;
static ep_pid *pids;
static atomic_long parked;
static uint64_t spawn_ns, teardown_ns;
static long alive;
static double bytes_per_proc;
static bool handlers;

static long rss_bytes(void) {
  long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

/* idle() -> receive stop -> ok end (counted once it reaches its receive) */
static void idle(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_stop, "stop");
  atomic_fetch_add_explicit(&parked, 1, memory_order_relaxed);
  ep_receive(EP_INFINITY, p_stop);
}

/* The stackless kind: parked from birth, ends on its first message. */
static bool idle_handler(void *state, ep_term msg) {
  (void)state;
  (void)msg;
  return false;
}

static void stop_all(long base) {
  ep_smallterm s;
  ep_term stop = ep_atom_term(&s, ep_atom_of("stop"));
  for (long i = 0; i < n_arg; i++) ep_send(pids[i], stop);
  while (ep_process_count() > base) ep_yield();
}

static void root(ep_term unused) {
  (void)unused;
  long base = ep_process_count();
  long rss0 = rss_bytes();
  uint64_t t0 = bench_now_ns();
  if (handlers) {
    for (long i = 0; i < n_arg; i++) pids[i] = ep_spawn_handler(idle_handler, NULL);
  } else {
    for (long i = 0; i < n_arg; i++) pids[i] = ep_spawn(idle, NULL);
    while (atomic_load_explicit(&parked, memory_order_relaxed) < n_arg) ep_yield();
  }
  uint64_t t1 = bench_now_ns();
  long rss1 = rss_bytes();
  alive = ep_process_count() - base;
  uint64_t t2 = bench_now_ns();
  stop_all(base);
  uint64_t t3 = bench_now_ns();
  spawn_ns = t1 - t0;
  teardown_ns = t3 - t2;
  bytes_per_proc = (double)(rss1 - rss0) / (double)n_arg;
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 1000000);
  const char *kind = getenv("EP_SPAWN_KIND");
  handlers = kind && strcmp(kind, "handler") == 0;
  if (n_arg < 1) n_arg = 1;
  pids = malloc((size_t)n_arg * sizeof *pids);
  if (!pids) return 1;
  memset(pids, 0, (size_t)n_arg * sizeof *pids);   /* resident before the first RSS reading */
  uint32_t limit = n_arg + 1024 > EP_PROCESS_LIMIT_DEFAULT ? (uint32_t)(n_arg + 1024) : 0;
  bench_run(root, limit);
  free(pids);
  bench_line l;
  bench_begin(&l, "spawn");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(spawn_ns + teardown_ns));
  bench_float(&l, "spawn_ms", bench_ms(spawn_ns));
  bench_float(&l, "teardown_ms", bench_ms(teardown_ns));
  bench_float(&l, "ns_per_spawn", bench_per(spawn_ns, (uint64_t)n_arg));
  bench_float(&l, "bytes_per_proc", bytes_per_proc);
  bench_str(&l, "kind", handlers ? "handler" : "stack");
  bench_int(&l, "result", alive);
  bench_end(&l, bench_threads());
  return 0;
}
