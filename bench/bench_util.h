/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_util.h - what every eproc benchmark shares: a monotonic clock,
 * positional integer arguments with defaults, and the one result line in the
 * peers' format (../shared/peers/README.md):
 *
 *   workload=NAME k1=v1 k2=v2 ... impl=c threads=N
 *
 * Parameters come first, in command-line order, then wall_ms and the
 * per-operation figures. A line is built field by field, then printed once.
 */
#ifndef EP_BENCH_UTIL_H
#define EP_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds from a monotonic clock (CLOCK_MONOTONIC). */
uint64_t bench_now_ns(void);
static inline double bench_ms(uint64_t ns) { return (double)ns / 1e6; }
/* Nanoseconds per operation (ops < 1 counts as 1). */
static inline double bench_per(uint64_t ns, uint64_t ops) { return (double)ns / (double)(ops ? ops : 1); }

/* Integer argument number pos (1-based, as the peers count), or def when
 * absent. A malformed or negative number exits with status 2 and a message. */
long bench_arg(int argc, char **argv, int pos, long def);

/* The result line. Fields that do not fit are dropped, never overflowed. */
typedef struct bench_line {
  char buf[1024];
  size_t len;
} bench_line;

void bench_begin(bench_line *l, const char *workload);
void bench_int(bench_line *l, const char *key, long long v);
/* A float with the peers' one decimal ("wall_ms=219.9"); bench_float_prec
 * for figures that need more ("ns_per_op=7.25"). */
void bench_float(bench_line *l, const char *key, double v);
void bench_float_prec(bench_line *l, const char *key, double v, int decimals);
void bench_str(bench_line *l, const char *key, const char *v);
/* Appends impl=c threads=N and prints the line on standard output. */
void bench_end(bench_line *l, int threads);

/* Keeps the compiler from dropping a computation whose result is unused. */
#define BENCH_KEEP(x) __asm__ volatile("" : : "g"(x) : "memory")

#endif
