/* SPDX-License-Identifier: Apache-2.0 */
/*
 * os_linux.c - the Linux backend of platform.h: futex parking, the
 * monotonic clock, anonymous mappings for stacks and tables. It owns no
 * state; everything above it is OS-independent.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"

void ep__os_wait(_Atomic uint32_t *word, uint32_t expect) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expect, NULL, NULL, 0);
}

void ep__os_wait_until(_Atomic uint32_t *word, uint32_t expect, uint64_t deadline_ns) {
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
  struct timespec ts = {(time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u)};
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET_PRIVATE, expect, &ts, NULL,
          FUTEX_BITSET_MATCH_ANY);
}

void ep__os_wake(_Atomic uint32_t *word, int n) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

uint64_t ep__os_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The coarse clock costs a quarter of the precise one here (5 against
 * 19 ns) but lags it by up to its resolution: adding the resolution gives
 * a time that is never earlier than now. */
uint64_t ep__os_now_late_ns(void) {
  static _Atomic uint64_t res;   /* 0: not asked yet; UINT64_MAX: no usable coarse clock */
  uint64_t r = atomic_load_explicit(&res, memory_order_relaxed);
  struct timespec ts;
  if (!r) {
    r = clock_getres(CLOCK_MONOTONIC_COARSE, &ts) == 0 ? (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec : 0;
    if (!r || r > 100000000u) r = UINT64_MAX;
    atomic_store_explicit(&res, r, memory_order_relaxed);
  }
  if (r == UINT64_MAX) return ep__os_now_ns();
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + r;
}

int ep__os_ncpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

void *ep__os_reserve(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void ep__os_release(void *p, size_t n) { munmap(p, n); }

void *ep__os_map_aligned(size_t n, bool populate) {
  char *p = mmap(NULL, 2 * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  char *a = (char *)(((uintptr_t)p + n - 1) & ~(uintptr_t)(n - 1));
  if (a > p) munmap(p, (size_t)(a - p));
  if (a + n < p + 2 * n) munmap(a + n, (size_t)(p + 2 * n - (a + n)));
#ifdef MADV_POPULATE_WRITE
  if (populate) (void)madvise(a, n, MADV_POPULATE_WRITE);   /* before Linux 5.14: faults as usual */
#endif
  return a;
}

int ep__os_protect_none(void *p, size_t n) { return mprotect(p, n, PROT_NONE); }

void ep__os_discard(void *p, size_t n) { madvise(p, n, MADV_DONTNEED); }

size_t ep__os_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

long ep__os_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, rss = 0;
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &rss) != 2) rss = -1;
  fclose(f);
  return rss < 0 ? -1 : rss * (long)ep__os_page_size();
}

int ep__os_tid(void) { return (int)syscall(SYS_gettid); }

bool ep__os_thread_blocked(int tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* "tid (comm) S ...": the state follows the last ')' */
  char *close = strrchr(buf, ')');
  return close && close[1] == ' ' && (close[2] == 'S' || close[2] == 'D');
}

bool ep__os_heavy_fence_init(void) {
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
  if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0;
}

bool ep__os_heavy_fence(void) {
  return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0;
}
