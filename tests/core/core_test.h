/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_test.h - helpers shared by the runtime tests: run a test body as
 * the root process, build terms from text, wait for a DOWN, compare terms
 * with their text. Sizes shrink under the sanitizers (EP_ASAN, EP_TSAN).
 */
#ifndef EP_CORE_TEST_H
#define EP_CORE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eproc.h"
#include "platform/platform.h"
#include "test.h"
#include <sched.h>

#if defined(EP_ASAN) || defined(EP_TSAN)
#define EP_TEST_SCALE 10     /* divide stress sizes by this under sanitizers */
#else
#define EP_TEST_SCALE 1
#endif

#include <pthread.h>

/* Terms made by T() live until the end of the test's runtime. */
static pthread_mutex_t ct_lock = PTHREAD_MUTEX_INITIALIZER;
static ep_term ct_terms[4096];
static int ct_nterms;

static inline void ct_free_terms(void) {
  pthread_mutex_lock(&ct_lock);
  while (ct_nterms > 0) ep_term_free(ct_terms[--ct_nterms]);
  pthread_mutex_unlock(&ct_lock);
}

/* A term from text; freed at the end of run_in_process / run_cfg. */
static inline ep_term T(const char *text) {
  ep_term t = NULL;
  ck_assert_int_eq(ep_parse(&t, text), 0);
  pthread_mutex_lock(&ct_lock);
  if (ct_nterms < 4096) ct_terms[ct_nterms++] = t;
  pthread_mutex_unlock(&ct_lock);
  return t;
}

/* Runs body() as the root process; returns ep_run's result. */
static void (*ct_body)(void);
static void ct_root(ep_term arg) {
  (void)arg;
  ct_body();
}
static inline int run_cfg(const ep_config *cfg, void (*body)(void)) {
  ct_body = body;
  int rc = ep_run(cfg, ct_root, NULL);
  ct_free_terms();
  return rc;
}

/* Runs body() as the root process on 2 workers; asserts it ended normally. */
static inline void run_in_process(void (*body)(void)) {
  ep_config cfg = {.threads = 2};
  ck_assert_int_eq(run_cfg(&cfg, body), 0);
}

/* t is exactly the term written as text. */
static inline bool term_is(ep_term t, const char *text) {
  if (!t) return false;
  ep_term want = NULL;
  ck_assert_int_eq(ep_parse(&want, text), 0);
  bool eq = ep_exact_equal(t, want);
  ep_term_free(want);
  return eq;
}

static inline void assert_term(ep_term t, const char *text) {
  char buf[512];
  if (!term_is(t, text)) {
    if (t) ep_print(buf, sizeof buf, t, EP_PRINT_ERLANG);
    else strcpy(buf, "NULL");
    ck_abort_msg("term %s, expected %s", buf, text);
  }
}

/* Checks a returned-new term and frees it. */
static inline void assert_new_term(ep_term t, const char *text) {
  assert_term(t, text);
  ep_term_free(t);
}

/* Waits (at most timeout_ms) for {'DOWN', ref, process, _, Reason};
 * returns Reason (valid until the next receive), NULL on timeout. */
static inline ep_term wait_down(const ep_ref *ref, long timeout_ms) {
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, ref);
  ep_clause c = {p_down, &pin};
  if (ep_receive_clauses(&c, 1, timeout_ms) != 0) return NULL;
  return ep_var(0);
}

static inline void ct_returns(ep_term arg) { (void)arg; }

/* The pid of a process that has come and gone: it returned at once, and
 * its DOWN has been seen, so it is certainly dead. */
static inline ep_pid dead_pid(void) {
  ep_ref r;
  ep_pid c = ep_spawn_monitor(ct_returns, NULL, &r);
  wait_down(&r, EP_INFINITY);
  return c;
}

/* Waits for {'EXIT', pid, Reason}; returns Reason or NULL on timeout. */
static inline ep_term wait_exit(ep_pid pid, long timeout_ms) {
  EP_PATTERN(p_exit, "{'EXIT', ^Pid, Reason}");
  ep_smallterm s;
  ep_term pin = ep_pid_term(&s, pid);
  ep_clause c = {p_exit, &pin};
  if (ep_receive_clauses(&c, 1, timeout_ms) != 0) return NULL;
  return ep_var(0);
}

/* Sends the process a message from text. */
static inline void send_text(ep_pid to, const char *text) {
  ep_term t = NULL;
  ck_assert_int_eq(ep_parse(&t, text), 0);
  ck_assert_int_eq(ep_send(to, t), 0);
  ep_term_free(t);
}

/* Receives any message within timeout_ms (NULL on timeout). */
static inline ep_term recv_any(long timeout_ms) {
  ep_term m = NULL;
  return ep_receive_any(&m, timeout_ms) == 0 ? m : NULL;
}

static inline ep_term pid_arg(ep_smallterm *s) { return ep_pid_term(s, ep_self()); }
static inline ep_pid arg_pid(ep_term t) {
  ep_pid p = EP_PID_NONE;
  ck_assert_int_eq(ep_get_pid(t, &p), 0);
  return p;
}

#endif
