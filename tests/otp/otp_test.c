/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otp_test.c - helpers of otp_test.h: parsed terms owned by the test,
 * catching exits, and waiting for a message with a deadline so a missing
 * message fails the test instead of hanging it.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "otp_test.h"

static ep_term owned[4096];
static int nowned;
static char *texts[1024];
static int ntexts;

static ep_term keep(ep_term t) {
  ck_assert_ptr_nonnull(t);
  ck_assert_int_lt(nowned, 4096);
  owned[nowned++] = t;
  return t;
}

ep_term T(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ep_term t = NULL;
  int rc = ep_vformat(&t, fmt, ap);
  va_end(ap);
  ck_assert_msg(rc == 0, "bad term text %s: %s", fmt, ep_err_name(rc));
  return keep(t);
}

void ot_free_all(void) {
  for (int i = 0; i < nowned; i++)
    ep_term_free(owned[i]);
  for (int i = 0; i < ntexts; i++)
    free(texts[i]);
  nowned = ntexts = 0;
}

bool ot_is(ep_term t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ep_term want = NULL;
  int rc = ep_vformat(&want, fmt, ap);
  va_end(ap);
  ck_assert_msg(rc == 0, "bad term text %s", fmt);
  bool eq = ep_exact_equal(t, want);
  ep_term_free(want);
  return eq;
}

const char *ot_show(ep_term t) {
  if (!t)
    return "(null)";
  char *s = ep_print_alloc(t, EP_PRINT_ERLANG);
  if (ntexts < 1024)
    texts[ntexts++] = s;
  return s;
}

static void run_body(void *b) { (*(void (**)(void))b)(); }

static int by_id(const void *a, const void *b) {
  const ep_pid *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

static void stop_one(void *p) { ep_gen_server_stop(ep_srv(*(ep_pid *)p), NULL, 200); }

/* Stops what the test left running, oldest first (supervisors before their
 * children), the way an application stops: processes killed at the end of
 * the runtime would never run terminate, and C has no GC for their state.
 * A process that is not a gen_server does not answer and is left to the
 * runtime's end. */
static void teardown(void) {
  enum { MAX = 4096 };
  static ep_pid pids[MAX];
  bool trapping = ep_trap_exit(true);
  for (int round = 0; round < 5; round++) {
    long n = ep_processes(pids, MAX);
    if (n > MAX)
      n = MAX;
    qsort(pids, (size_t)n, sizeof *pids, by_id);
    long stopped = 0;
    for (long i = 0; i < n; i++) {
      if (ep_pid_eq(pids[i], ep_self()) || !ep_is_alive(pids[i]))
        continue;
      stopped += !ep_catch(stop_one, &pids[i], NULL);
    }
    if (!stopped)
      break;
  }
  ep_flush();
  ep_trap_exit(trapping);
}

void ot_run_body(void (*body)(void)) {
  ep_term why;
  if (ep_catch(run_body, &body, &why))
    ck_abort_msg("the test process exited with %s", ot_show(why));
  teardown();
  ot_free_all();
}

ep_term ot_catch(void (*fn)(void *), void *ctx) {
  ep_term why;
  if (!ep_catch(fn, ctx, &why))
    return NULL;
  return keep(ep_term_dup(why));
}

struct callctx { ep_server s; ep_term req; long timeout; ep_term reply; };

static void do_call(void *ctx) {
  struct callctx *c = ctx;
  c->reply = ep_gen_server_call_timeout(c->s, c->req, c->timeout);
}

ep_term ot_call(ep_server s, ep_term req, long timeout_ms, ep_term *reply) {
  struct callctx c = {s, req, timeout_ms, NULL};
  ep_term why = ot_catch(do_call, &c);
  if (!why && reply)
    *reply = keep(ep_term_dup(c.reply));
  return why;
}

ep_term ot_expect(const char *pattern) {
  ep_pattern *p;
  ck_assert_int_eq(ep_pattern_compile(&p, pattern, NULL), 0);
  int k = ep_receive(5000, p);
  ep_pattern_free(p);
  ck_assert_msg(k == 0, "no message matching %s within 5 s", pattern);
  return keep(ep_term_dup(ep_message()));
}

bool ot_none(const char *pattern) {
  ep_pattern *p;
  ck_assert_int_eq(ep_pattern_compile(&p, pattern, NULL), 0);
  int k = ep_receive(0, p);
  ep_pattern_free(p);
  return k == EP_ETIMEOUT;
}

ep_term ot_down(ep_pid p) {
  EP_PATTERN(pd, "{'DOWN', ^R, process, _, Reason}");
  ep_ref r = ep_monitor(p);
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &r);
  const ep_clause c = {pd, &pin};
  int k = ep_receive_clauses(&c, 1, 5000);
  ck_assert_msg(k == 0, "no DOWN within 5 s");
  return keep(ep_term_dup(ep_var(0)));
}
