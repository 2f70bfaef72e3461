/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_util.c - the clock, argument parsing and result line that every
 * benchmark in bench/ shares (bench_util.h). No state: a result line lives
 * in the caller's bench_line until bench_end prints it.
 */
#include "bench_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long bench_arg(int argc, char **argv, int pos, long def) {
  if (pos >= argc) return def;
  char *end;
  errno = 0;
  long v = strtol(argv[pos], &end, 10);
  if (errno || end == argv[pos] || *end || v < 0) {
    fprintf(stderr, "%s: argument %d: not a non-negative integer: %s\n", argv[0], pos, argv[pos]);
    exit(2);
  }
  return v;
}

static void put(bench_line *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = sizeof l->buf - l->len;
  int n = vsnprintf(l->buf + l->len, room, fmt, ap);
  va_end(ap);
  if (n > 0 && (size_t)n < room) l->len += (size_t)n;
  else l->buf[l->len] = 0;   /* drop a field that does not fit */
}

void bench_begin(bench_line *l, const char *workload) {
  l->len = 0;
  l->buf[0] = 0;
  put(l, "workload=%s", workload);
}

void bench_int(bench_line *l, const char *key, long long v) { put(l, " %s=%lld", key, v); }
void bench_float(bench_line *l, const char *key, double v) { put(l, " %s=%.1f", key, v); }
void bench_float_prec(bench_line *l, const char *key, double v, int decimals) {
  put(l, " %s=%.*f", key, decimals, v);
}
void bench_str(bench_line *l, const char *key, const char *v) { put(l, " %s=%s", key, v); }

void bench_end(bench_line *l, int threads) {
  put(l, " impl=c threads=%d", threads);
  puts(l->buf);
  fflush(stdout);
}
