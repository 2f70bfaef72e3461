/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_util.h - helpers for the conformance tests (spec_*.c): run a root
 * process in a fresh runtime, record failed expectations from any process
 * (asserted by the Check test after ep_run returns, on the main thread),
 * build and match terms by text, and a scriptable "puppet" process.
 *
 * Owns the expectation log and an arena of terms that lives until
 * spec_run returns, so tests never free what they build.
 */
#ifndef EP_SPEC_UTIL_H
#define EP_SPEC_UTIL_H

#include <stdbool.h>

#include "eproc.h"
#include "test.h"

/* Expectations work from any process or thread; failures are collected
 * and reported by spec_run (a Check assertion on a runtime thread would
 * exit the forked test from the wrong thread). */
void spec_fail(const char *file, int line, const char *fmt, ...);
#define EXPECT(c)                                                             \
  do {                                                                        \
    if (!(c)) spec_fail(__FILE__, __LINE__, "%s", #c);                        \
  } while (0)
/* t matches the pattern text; pins follow as ep_term. */
#define EXPECT_M(t, pat, ...)                                                 \
  do {                                                                        \
    ep_term t_ = (t);                                                         \
    if (!spec_match(t_, pat, ##__VA_ARGS__))                                  \
      spec_fail(__FILE__, __LINE__, "%s does not match %s", spec_str(t_), pat); \
  } while (0)

/* Runs root in a new runtime (EP_THREADS or 2 scheduler threads, the exit
 * logger silenced), then asserts: no failed expectation, the root called
 * spec_done, ep_run returned 0. */
void spec_run(ep_proc_fn root);
void spec_run_threads(int threads, ep_proc_fn root);
void spec_done(void);

/* A conformance test: the body runs as the root process of a fresh
 * runtime; reaching its end counts (spec_done). */
#define SPEC_T(suite, name, threads, timeout_s)                               \
  static void suite##__##name##_body(void);                                   \
  static void suite##__##name##_root(ep_term a_) {                            \
    (void)a_;                                                                 \
    suite##__##name##_body();                                                 \
    spec_done();                                                              \
  }                                                                           \
  TEST_TIMEOUT(suite, name, timeout_s) {                                      \
    if (threads) spec_run_threads(threads, suite##__##name##_root);           \
    else spec_run(suite##__##name##_root);                                    \
  }                                                                           \
  static void suite##__##name##_body(void)
#define SPEC(suite, name) SPEC_T(suite, name, 0, 0)

/* Terms from ep_format text, kept in the arena until spec_run returns. */
ep_term T(const char *fmt, ...);
ep_term spec_keep(ep_term t);        /* dup t into the arena */
ep_term spec_own(ep_term t);         /* move a new term (or NULL) into the arena */
ep_term P(ep_pid p);                 /* a pid term */
ep_term R(const ep_ref *r);          /* a reference term */
ep_term A(const char *atom);         /* an atom term */
const char *spec_str(ep_term t);     /* printed, in the arena */
ep_pid pid_of(ep_term t);            /* EP_PID_NONE if not a pid */
bool spec_match(ep_term t, const char *pattern, ...);   /* pins: ep_term */

/* Receive helpers (the result is kept: valid until spec_run returns). */
ep_term recv_any(long timeout_ms);                      /* NULL on timeout */
ep_term recv_match(long timeout_ms, const char *pattern, ...); /* NULL on timeout */
bool nothing_arrives(long ms);      /* no message at all within ms */
/* Waits for {'DOWN', Ref, process, _, Reason} and returns Reason. */
ep_term await_down(const ep_ref *ref);
/* Monitors p and waits for its death; returns the reason. */
ep_term wait_death(ep_pid p);
/* Yields until the caller's mailbox holds at least n messages. */
void wait_queue_len(long n);

/* A puppet is a process driven by messages from its owner:
 *   {'$do', Cmd...}  runs a command and (unless it ends the process) acks
 *                    {'$done', Self, Result} to the owner;
 *   anything else    is forwarded to the owner as {got, Self, Msg}.
 * Commands: {trap, Bool} -> old value; {link, P} -> ok (ep_link: raises
 * noproc when not trapping); {unlink, P}; {monitor, P} -> Ref;
 * {demonitor, Ref}; {exit_signal, P, R} -> ok; {exit, R} and {error, R}
 * end it; return -> ends normally; ping -> pong; {spawn_link, Action} ->
 * the pid of a child spawn_linked to the puppet that waits for `go`, then
 * runs Action (see spec_action); {register, Name} -> ok | badarg;
 * spawn_link_puppet -> the pid of a new puppet (same owner) linked to it. */
ep_pid puppet(void);                           /* plain spawn, owner = caller */
ep_pid puppet_monitored(ep_ref *mref);         /* spawn_monitor */
ep_pid puppet_linked(void);                    /* spawn_link */
void puppet_fn(ep_term owner);
/* Sends a command and waits for its result; NULL if the puppet died. */
ep_term cmd(ep_pid p, const char *fmt, ...);
/* Sends a command that ends the puppet (or may): no wait. */
void cmd_nowait(ep_pid p, const char *fmt, ...);
/* The next message the puppet forwarded: {got, P, Msg} -> Msg, or NULL. */
ep_term got(ep_pid p, long timeout_ms);

/* Child actions, by atom: returns, exit_stuff, exit_normal, error_stuff,
 * throw_stuff, exit_kill, exit_self_kill, exit_self_normal, exit_self_stuff,
 * sleep300 (ep_sleep(300), returns), wait (until `stop`). The child first
 * waits for the message `go`. */
void spec_action(ep_term action);
/* "throw(T)": C has no throw; an uncaught throw's reason is that of
 * error({nocatch, T}), which is what this raises. */
_Noreturn void spec_throw(ep_term t);

#endif
