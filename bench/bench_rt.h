/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_rt.h - what the process benchmarks share on top of bench_util.h:
 * the scheduler thread count from EP_THREADS (default: one per core, as
 * the peers' defaults) and running a root process with it.
 */
#ifndef EP_BENCH_RT_H
#define EP_BENCH_RT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "eproc.h"

static inline int bench_threads(void) {
  const char *e = getenv("EP_THREADS");
  int n = e ? atoi(e) : 0;
  if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  return n;
}

/* Runs root(arg) on a runtime with bench_threads() workers and the given
 * process limit (0: default); exits with status 1 if the root failed. */
static inline void bench_run(ep_proc_fn root, uint32_t limit) {
  ep_config cfg = {.threads = bench_threads(), .process_limit = limit};
  if (ep_run(&cfg, root, NULL) != 0) exit(1);
}

/* EP_KIND=stack: the benchmarks that offer both process kinds (spawn,
 * ring, link_chain) run processes with stacks of their own; otherwise
 * they run the stackless handler kind. */
static inline bool bench_stackful(void) {
  const char *kind = getenv("EP_KIND");
  return kind && strcmp(kind, "stack") == 0;
}

/* Resident set size of this process, in bytes. */
static inline long bench_rss(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, pages = 0;
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
  fclose(f);
  return pages * sysconf(_SC_PAGESIZE);
}

#endif
