/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - the default crash report, in the shape of Erlang's logger:
 *   12:00:01.123 [error] Process <0.78.0> raised an exception
 *   ** (error) {badarith,[]}
 * written to stderr in one write so that reports from several threads do
 * not interleave. Owns nothing; when to report is signal.c's decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "eproc.h"

void ep_default_exit_logger(ep_pid p, ep_term reason, void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  localtime_r(&ts.tv_sec, &tm);
  char *text = ep_print_alloc(reason, EP_PRINT_ERLANG);
  fprintf(stderr, "%02d:%02d:%02d.%03ld [error] Process <0.%u.%u> raised an exception\n** (error) %s\n",
          tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, p.id, p.serial,
          text ? text : "?");
  free(text);
}
