/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otp_test.h - what the OTP tests share: OTP_TEST runs a body as the root
 * process of a fresh runtime (inside the forked test), term helpers that
 * parse Erlang text, and catching an exit from a call.
 */
#ifndef EP_OTP_TEST_H
#define EP_OTP_TEST_H

#include <stdlib.h>

#include "eproc.h"
#include "test.h"

/* The body runs as the root process; the test fails if it ends abnormally. */
#define OTP_TEST_TIMEOUT(suite, name, secs)                                    \
  static void suite##__##name##_body(void);                                    \
  static void suite##__##name##_root(ep_term a) {                              \
    (void)a;                                                                   \
    if (!getenv("EP_TEST_LOG"))                /* EP_TEST_LOG=1 keeps crash reports */ \
      ep_set_exit_logger(NULL, NULL);                                          \
    ot_run_body(suite##__##name##_body);                                      \
  }                                                                            \
  TEST_TIMEOUT(suite, name, secs) {                                            \
    ep_smallterm s;                                                            \
    ck_assert_int_eq(ep_run(NULL, suite##__##name##_root, ep_atom_term(&s, EP_A_ok)), 0); \
  }                                                                            \
  static void suite##__##name##_body(void)
#define OTP_TEST(suite, name) OTP_TEST_TIMEOUT(suite, name, 30)

/* Runs the body; an exit out of it fails the test with its reason. */
void ot_run_body(void (*body)(void));

/* A term from Erlang text (~ holes as ep_format), freed when the test ends. */
ep_term T(const char *fmt, ...);
/* Frees every T() term (called by OTP_TEST). */
void ot_free_all(void);
/* Is t exactly the term written as text? */
bool ot_is(ep_term t, const char *fmt, ...);
/* Asserts t is the term written as text, printing both if not. */
#define ck_assert_term(t, ...)                                                 \
  do {                                                                         \
    ep_term ot_t_ = (t);                                                       \
    ck_assert_msg(ot_t_ && ot_is(ot_t_, __VA_ARGS__), "got %s, want %s",       \
                  ot_show(ot_t_), #__VA_ARGS__);                               \
  } while (0)
const char *ot_show(ep_term t);            /* text of t, valid until the test ends */

/* Runs fn(ctx); returns the exit reason (a T() copy) if it exited, else NULL. */
ep_term ot_catch(void (*fn)(void *), void *ctx);
/* gen_server call under ep_catch: NULL and *reply, or the exit reason. */
ep_term ot_call(ep_server s, ep_term req, long timeout_ms, ep_term *reply);
/* Waits for one message matching the pattern text; fails the test after 5 s. */
ep_term ot_expect(const char *pattern);
/* Is there no message matching the pattern right now? */
bool ot_none(const char *pattern);
/* Waits for the DOWN of a monitor taken on p and returns the reason. */
ep_term ot_down(ep_pid p);

#endif
