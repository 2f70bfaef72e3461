/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iex.h - how the examples narrate, like the seeds' iex sessions: an
 * "iex>" line for each step, terms printed as Elixir shows them, and a
 * flush that prints the messages a step is known to produce. No state;
 * the programs are the .c files next to it.
 */
#ifndef EP_EXAMPLES_IEX_H
#define EP_EXAMPLES_IEX_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "eproc.h"

static inline void iex(const char *line) {
  printf("iex> %s\n", line);
  fflush(stdout);
}

/* Prints t as Elixir's inspect would. */
static inline void show(ep_term t) {
  char *s = ep_print_alloc(t, EP_PRINT_ELIXIR);
  puts(s ? s : "?");
  free(s);
  fflush(stdout);
}

static inline void show_pid(ep_pid p) {
  ep_smallterm s;
  show(ep_pid_term(&s, p));
}

static inline void show_bool(bool b) {
  puts(b ? "true" : "false");
  fflush(stdout);
}

/* send(to, msg) as typed in iex: sends the term made from fmt (ep_format)
 * and echoes it, as iex prints send's return value. */
static inline void send_show(ep_pid to, const char *fmt, ...) {
  ep_term t;
  va_list ap;
  va_start(ap, fmt);
  int rc = ep_vformat(&t, fmt, ap);
  va_end(ap);
  if (rc < 0) return;
  ep_send(to, t);
  show(t);
  ep_term_free(t);
}

/* Waits until p has ended (a monitor's DOWN), so that what is printed next
 * does not depend on timing. */
static inline void await_end(ep_pid p) {
  ep_ref r = ep_monitor(p);
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, _}");
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &r);
  ep_clause c = {p_down, &pin};
  ep_receive_clauses(&c, 1, EP_INFINITY);
}

/* iex's flush/0 for the n messages this step sends us: waits for each,
 * prints it, then :ok. */
static inline void flush_n(int n) {
  ep_term m;
  for (int i = 0; i < n && ep_receive_any(&m, EP_INFINITY) == 0; i++) show(m);
  puts(":ok");
  fflush(stdout);
}

/* flush/0 after nothing was sent back: checks briefly and prints :ok. */
static inline void flush_empty(void) {
  ep_term m;
  while (ep_receive_any(&m, 100) == 0) show(m);
  puts(":ok");
  fflush(stdout);
}

#endif
