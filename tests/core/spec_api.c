/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_api.c - error paths and the parts of issue 3 around the rules:
 * spawn options (name, link, monitor) and their failures, calls from a
 * thread that is not a process (embedding with ep_start / ep_stop), and
 * timers (send_after and start_timer to a pid or a name, cancel_timer,
 * read_timer) including the late and repeated cases.
 */
#include <stdlib.h>
#include <time.h>

#include "spec_util.h"

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_stop(ep_term arg) {
  (void)arg;
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0 && !ep_is_atom(m, ep_atom_of("stop"))) {}
}

/* Test that spawn_opt's name registers the child before the call returns,
 * and that link and monitor together give a ref and a link (R4, R5, R39). */
SPEC(api, spawn_opt_name_link_monitor) {
  ep_pid c;
  ep_ref r;
  ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR, .name = "spec_api_named"};
  EXPECT(ep_spawn_opt(&c, wait_stop, A("x"), &o, &r) == 0);
  EXPECT(ep_pid_eq(ep_whereis(ep_atom_of("spec_api_named")), c));
  EXPECT_M(spec_own(ep_process_info(c, EP_A_registered_name)), "{registered_name, spec_api_named}");
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, [^C]}", P(c));
  EXPECT_M(spec_own(ep_process_info(c, EP_A_monitored_by)), "{monitored_by, [^Me]}", P(ep_self()));
  ep_unlink(c);
  ep_send(c, A("stop"));
  EXPECT_M(await_down(&r), "normal");
}

/* Test that spawn_opt with a name already taken, or the name undefined,
 * fails with EP_EBADARG and leaves no process behind (R39). */
SPEC(api, spawn_opt_bad_name_badarg_nothing_left) {
  EXPECT(ep_register(ep_atom_of("spec_api_taken"), ep_self()) == 0);
  long before = ep_process_count();
  ep_pid c = EP_PID_NONE;
  ep_ref r;
  ep_spawn_opts taken = {.flags = EP_SPAWN_MONITOR, .name = "spec_api_taken"};
  EXPECT(ep_spawn_opt(&c, wait_stop, A("x"), &taken, &r) == EP_EBADARG);
  ep_spawn_opts undef = {.name = "undefined"};
  EXPECT(ep_spawn_opt(&c, wait_stop, A("x"), &undef, NULL) == EP_EBADARG);
  EXPECT(ep_process_count() == before);
  EXPECT(nothing_arrives(50));
}

/* Test timers: send_after delivers its message, no sooner than asked;
 * read_timer shows the time left; once fired, cancel and read report
 * EP_ENOTFOUND. */
SPEC(timers, send_after_fires_then_cancel_and_read_not_found) {
  uint64_t t0 = now_ms();
  ep_ref t = ep_send_after(60, ep_self(), A("tick"));
  long left = ep_read_timer(&t);
  EXPECT(left >= 0 && left <= 60);
  EXPECT_M(recv_any(EP_INFINITY), "tick");
  EXPECT(now_ms() - t0 >= 60);
  EXPECT(ep_cancel_timer(&t) == EP_ENOTFOUND);
  EXPECT(ep_read_timer(&t) == EP_ENOTFOUND);
}

/* Test that a cancelled timer returns the time left, never delivers, and a
 * second cancel reports EP_ENOTFOUND. */
SPEC(timers, cancel_before_firing_no_message) {
  ep_ref t = ep_send_after(100, ep_self(), A("never"));
  long left = ep_cancel_timer(&t);
  EXPECT(left >= 0 && left <= 100);
  EXPECT(ep_cancel_timer(&t) == EP_ENOTFOUND);
  EXPECT(ep_read_timer(&t) == EP_ENOTFOUND);
  EXPECT(nothing_arrives(200));
}

/* Test that timers deliver in deadline order whatever the order they were
 * set in, and a 0 ms timer fires at once. */
SPEC(timers, deadline_order_and_zero) {
  ep_send_after(80, ep_self(), A("third"));
  ep_send_after(40, ep_self(), A("second"));
  ep_send_after(0, ep_self(), A("first"));
  EXPECT_M(recv_any(EP_INFINITY), "first");
  EXPECT_M(recv_any(EP_INFINITY), "second");
  EXPECT_M(recv_any(EP_INFINITY), "third");
}

/* Test that a timer aimed at a process that dies first is dropped like any
 * send to a dead pid (R10), and one aimed at a dead pid too. */
SPEC(timers, timer_to_dead_process_dropped) {
  ep_pid p = ep_spawn(wait_stop, A("x"));
  ep_send_after(30, p, T("{late, \"payload\"}"));
  ep_exit_signal_atom(p, EP_A_kill);
  wait_death(p);
  ep_send_after(10, p, A("to_the_dead"));
  ep_send_after(60, ep_self(), A("after_them"));
  EXPECT_M(recv_any(EP_INFINITY), "after_them");
  EXPECT(nothing_arrives(50));
}

/* Test that start_timer delivers {timeout, TimerRef, Msg} with the
 * reference it returned, at 0 ms too, and that read_timer and cancel_timer
 * know its reference until then (erlang:start_timer/3, checked in erl). */
SPEC(timers, start_timer_delivers_timeout_ref_msg) {
  ep_ref t = ep_start_timer(1000, ep_self(), A("m"));
  long left = ep_read_timer(&t);
  EXPECT(left > 900 && left <= 1000);
  left = ep_cancel_timer(&t);
  EXPECT(left > 900 && left <= 1000);
  ep_ref t1 = ep_start_timer(20, ep_self(), T("{hello, [1, 2]}"));
  ep_ref t0 = ep_start_timer(0, ep_self(), A("z"));
  EXPECT_M(recv_any(EP_INFINITY), "{timeout, ^R, z}", R(&t0));
  EXPECT_M(recv_any(EP_INFINITY), "{timeout, ^R, {hello, [1, 2]}}", R(&t1));
  EXPECT(ep_read_timer(&t1) == EP_ENOTFOUND);
  EXPECT(nothing_arrives(50));   /* the cancelled one */
}

static void registers_then_waits(ep_term arg) {
  ep_register(ep_atom_of("spec_timer_dest"), ep_self());
  ep_send(pid_of(arg), A("registered"));
  ep_term m;
  EXPECT(ep_receive_any(&m, EP_INFINITY) == 0);
  ep_send(pid_of(arg), T("{forwarded, ~t}", m));
}

/* Test that a timer aimed at a name looks the name up when it fires, as
 * erlang:send_after/3 and start_timer/3 do (checked in erl): a name
 * registered after the timer was set gets the message, and a name that
 * names no process then is no error: the message is dropped and the
 * timer is gone. Name 0 is a bad argument. */
SPEC(timers, timer_to_a_name_looks_it_up_when_it_fires) {
  ep_atom name = ep_atom_of("spec_timer_dest");
  ep_ref t = ep_send_after_name(40, name, A("hi"));
  ep_ref r;
  ep_spawn_monitor(registers_then_waits, P(ep_self()), &r);
  EXPECT_M(recv_any(EP_INFINITY), "registered");
  EXPECT_M(recv_any(EP_INFINITY), "{forwarded, hi}");
  EXPECT(ep_read_timer(&t) == EP_ENOTFOUND);
  /* the receiver has ended, so the name names no process: dropped */
  EXPECT_M(await_down(&r), "normal");
  ep_ref gone = ep_start_timer_name(10, name, A("gone"));
  EXPECT(nothing_arrives(60));
  EXPECT(ep_read_timer(&gone) == EP_ENOTFOUND);
  /* to a name of ours: {timeout, Ref, Msg} */
  EXPECT(ep_register(name, ep_self()) == 0);
  ep_ref mine = ep_start_timer_name(10, name, A("m4"));
  EXPECT_M(recv_any(EP_INFINITY), "{timeout, ^R, m4}", R(&mine));
  ep_unregister(name);
}

/* A timer owner: sets a timer to the test process, sends its reference
 * there, then waits in a timed receive of its own (armed on the heap of
 * the worker it runs on) until told to stop. */
static void timer_owner(ep_term arg) {
  ep_pid test = pid_of(ep_tuple_elem(arg, 0));
  int64_t i;
  ep_get_int(ep_tuple_elem(arg, 1), &i);
  ep_smallterm s;
  ep_ref t = ep_send_after(150, test, ep_int_term(&s, i));
  ep_send_fmt(test, "{timer, ~L, ~r}", (long long)i, &t);
  ep_term m;
  while (ep_receive_any(&m, 5000) == 0 && !ep_is_atom(m, ep_atom_of("stop"))) {}
}

/* Test timers set by processes on every worker and cancelled by another
 * process: each heap finds its own timers, a cancelled one never fires,
 * the others fire once each, and the owners' own timed receives are
 * cancelled as they end. */
SPEC_T(timers, cancel_from_another_process_any_worker, 4, 0) {
  enum { N = 64 };
  ep_pid owners[N];
  for (int i = 0; i < N; i++) {
    owners[i] = ep_spawn(timer_owner, T("{~p, ~i}", ep_self(), i));
  }
  ep_pattern *p;
  ep_pattern_compile(&p, "{timer, I::int, T}", NULL);
  int cancelled = 0;
  for (int i = 0; i < N; i++) {
    EXPECT(ep_receive(EP_INFINITY, p) == 0);
    int64_t k;
    ep_get_int(ep_var(0), &k);
    ep_ref t;
    EXPECT(ep_get_ref(ep_var(1), &t) == 0);
    if (k % 2 == 0) {
      long left = ep_cancel_timer(&t);
      EXPECT(left > 0 && left <= 150);
      cancelled++;
    }
  }
  ep_pattern_free(p);
  bool seen[N] = {0};
  for (int n = 0; n < N - cancelled; n++) {
    ep_term m = recv_any(EP_INFINITY);
    int64_t k = -1;
    EXPECT(ep_get_int(m, &k) == 0);
    EXPECT(k >= 0 && k < N && k % 2 == 1 && !seen[k]);
    if (k >= 0 && k < N) seen[k] = true;
  }
  EXPECT(nothing_arrives(100));
  for (int i = 0; i < N; i++) ep_send(owners[i], A("stop"));
}

/* Test many timers pending at once: each is found by its own reference
 * (cancel and read, in shuffled order, the index growing and shrinking
 * under them), a cancelled one reports not found, ones that fired leave
 * the index too, and references that name no timer (an ordinary one, one
 * naming a heap that does not exist) are not found. */
SPEC(timers, many_pending_each_found_by_its_reference) {
  enum { N = 20000, SHORT = 16 };
  ep_ref *t = malloc(N * sizeof *t);
  int *order = malloc(N * sizeof *order);
  EXPECT(t && order);
  ep_smallterm s;
  for (int i = 0; i < N; i++) {
    t[i] = ep_send_after(i < SHORT ? 5 : 60000, ep_self(), ep_int_term(&s, i));
    order[i] = i;
  }
  /* the short ones fire: their messages come, their references go */
  bool seen[SHORT] = {0};
  for (int n = 0; n < SHORT; n++) {
    int64_t k = -1;
    EXPECT(ep_get_int(recv_any(EP_INFINITY), &k) == 0);
    EXPECT(k >= 0 && k < SHORT && !seen[k]);
    if (k >= 0 && k < SHORT) seen[k] = true;
  }
  for (int i = 0; i < SHORT; i++) {
    EXPECT(ep_read_timer(&t[i]) == EP_ENOTFOUND);
    EXPECT(ep_cancel_timer(&t[i]) == EP_ENOTFOUND);
  }
  uint32_t x = 12345;
  for (int i = N - 1; i > SHORT; i--) {
    x = x * 1103515245u + 12345u;
    int j = SHORT + (int)((x >> 8) % (uint32_t)(i - SHORT + 1));
    int tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  for (int n = SHORT; n < N; n++) {
    int i = order[n];
    long left = ep_cancel_timer(&t[i]);
    EXPECT(left > 50000 && left <= 60000);
    EXPECT(ep_cancel_timer(&t[i]) == EP_ENOTFOUND);
    if (n + 1 < N) {
      /* one still pending (the middle of the rest) is found, whatever
       * the removals moved */
      long l2 = ep_read_timer(&t[order[n + 1 + (N - n - 2) / 2]]);
      EXPECT(l2 > 50000 && l2 <= 60000);
    }
  }
  ep_ref plain = ep_make_ref(), far = t[N - 1];
  far.w[2] = 1u << 30;
  EXPECT(ep_read_timer(&plain) == EP_ENOTFOUND);
  EXPECT(ep_cancel_timer(&plain) == EP_ENOTFOUND);
  EXPECT(ep_read_timer(&far) == EP_ENOTFOUND);
  EXPECT(nothing_arrives(50));
  free(t);
  free(order);
}

/* Test that a timer message is a copy: the caller may free its term at
 * once (R14). */
SPEC(timers, timer_message_is_a_copy) {
  ep_term m;
  ep_format(&m, "{payload, [1, 2, 3], <<\"bytes\">>}");
  ep_send_after(10, ep_self(), m);
  ep_term_free(m);
  EXPECT_M(recv_any(EP_INFINITY), "{payload, [1, 2, 3], <<\"bytes\">>}");
}

/* Bad arguments of the kind C adds to Erlang's: a NULL term where a
 * message or an exit reason belongs. */
static void null_exit(ep_term arg) {
  (void)arg;
  ep_exit(NULL);
}
static void null_error(ep_term arg) {
  (void)arg;
  ep_error(NULL);
}
static void null_send_name_x(ep_term arg) {
  (void)arg;
  ep_register(ep_atom_of("spec_null_x"), ep_self());
  ep_send_name_x(ep_atom_of("spec_null_x"), NULL);
}
static void null_send_after(ep_term arg) {
  (void)arg;
  ep_send_after(10, ep_self(), NULL);
}
static void negative_send_after(ep_term arg) {
  (void)arg;
  ep_send_after(-5, ep_self(), A("never"));
}
static void negative_start_timer(ep_term arg) {
  (void)arg;
  ep_start_timer(-1, ep_self(), A("x"));
}
static void no_name_send_after(ep_term arg) {
  (void)arg;
  ep_send_after_name(10, 0, A("x"));
}
static void null_start_timer_name(ep_term arg) {
  (void)arg;
  ep_start_timer_name(10, ep_atom_of("spec_null"), NULL);
}
static void negative_after(ep_term arg) {
  (void)arg;
  ep_term m;
  ep_receive_any(&m, -7);
}

/* Test that a NULL message or reason is refused with a clear error and
 * sends nothing: send, send to a name or an alias, and exit/2 return
 * EP_EINVAL; exit/1, error/1, Name ! Msg (_x), send_after and
 * start_timer (also with a negative time or no name, as
 * erlang:send_after/3 and start_timer/3) make the caller fail with
 * {badarg, []}, as an Erlang BIF given a bad argument
 * does; the runtime carries on. */
SPEC(api, null_message_or_reason_is_a_bad_argument) {
  EXPECT(ep_send(ep_self(), NULL) == EP_EINVAL);
  EXPECT(ep_register(ep_atom_of("spec_null"), ep_self()) == 0);
  EXPECT(ep_send_name(ep_atom_of("spec_null"), NULL) == EP_EINVAL);
  ep_ref alias = ep_alias();
  EXPECT(ep_send_alias(&alias, NULL) == EP_EINVAL);
  ep_unalias(&alias);
  EXPECT(ep_exit_signal(ep_self(), NULL) == EP_EINVAL);
  EXPECT(ep_is_alive(ep_self()));
  EXPECT(nothing_arrives(20));
  ep_proc_fn fns[] = {null_exit, null_error, null_send_name_x, null_send_after,
                      negative_send_after, negative_start_timer, no_name_send_after,
                      null_start_timer_name};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    ep_ref r;
    ep_spawn_monitor(fns[i], NULL, &r);
    EXPECT_M(await_down(&r), "{badarg, []}");
  }
  ep_send(ep_self(), A("still_here"));
  EXPECT_M(recv_any(EP_INFINITY), "still_here");
}

/* Test that a receive with a negative timeout other than EP_INFINITY fails
 * its process with timeout_value, as Erlang's `receive after -7` does. */
SPEC(api, negative_receive_timeout_is_timeout_value) {
  ep_ref r;
  ep_spawn_monitor(negative_after, NULL, &r);
  EXPECT_M(await_down(&r), "{timeout_value, []}");
}

/* Test that a NULL where a timer, the patterns of a receive or the
 * function of a catch belongs is EP_EINVAL, and nothing else happens. */
SPEC(api, null_pointer_arguments_are_invalid) {
  EXPECT(ep_cancel_timer(NULL) == EP_EINVAL);
  EXPECT(ep_read_timer(NULL) == EP_EINVAL);
  EXPECT(ep_receive_patterns(NULL, 1, 0) == EP_EINVAL);
  EXPECT(ep_receive_clauses(NULL, 1, 0) == EP_EINVAL);
  EXPECT(ep_catch(NULL, NULL, NULL) == EP_EINVAL);
  EXPECT(ep_is_alive(ep_self()));
  EXPECT(nothing_arrives(20));
}

/* Test the calls a thread that is not a process may make, and the
 * [process] calls it may not: ep_self is none, receive and spawn with link
 * or monitor give EP_ENOTPROC, while spawn, send, exit/2, is_alive,
 * process_info and the registry work (embedding: ep_start / ep_stop). */
TEST(api, foreign_thread_any_calls_work_process_calls_refused) {
  ep_config cfg = {.threads = 2};
  ck_assert_int_eq(ep_start(&cfg), 0);
  ck_assert(!ep_is_process());
  ck_assert(ep_pid_eq(ep_self(), EP_PID_NONE));
  ep_term m;
  ck_assert_int_eq(ep_receive_any(&m, 0), EP_ENOTPROC);
  ep_pid c;
  ep_ref r;
  ep_spawn_opts link = {.flags = EP_SPAWN_LINK}, mon = {.flags = EP_SPAWN_MONITOR};
  ck_assert_int_eq(ep_spawn_opt(&c, wait_stop, NULL, &link, NULL), EP_ENOTPROC);
  ck_assert_int_eq(ep_spawn_opt(&c, wait_stop, NULL, &mon, &r), EP_ENOTPROC);
  ep_pid p = ep_spawn(wait_stop, NULL);
  ck_assert(!ep_pid_eq(p, EP_PID_NONE));
  ck_assert(ep_is_alive(p));
  ep_term hello;
  ep_format(&hello, "hello");
  ck_assert_int_eq(ep_send(p, hello), 0);
  ep_term_free(hello);
  ep_term q = ep_process_info(p, EP_A_message_queue_len);
  ck_assert_ptr_nonnull(q);
  ep_term_free(q);
  ck_assert_int_eq(ep_register(ep_atom_of("spec_foreign"), p), 0);
  ck_assert(ep_pid_eq(ep_whereis(ep_atom_of("spec_foreign")), p));
  ep_term x;
  ep_format(&x, "x");
  ck_assert_int_eq(ep_send_name(ep_atom_of("spec_nobody"), x), EP_EBADARG);
  ep_term_free(x);
  ck_assert_int_eq(ep_send(p, NULL), EP_EINVAL);
  ep_ref none = ep_send_after(10, p, NULL);     /* names no timer */
  ck_assert_int_eq(ep_read_timer(&none), EP_ENOTFOUND);
  ck_assert_int_eq(ep_exit_signal_atom(p, EP_A_kill), 0);
  ck_assert(!ep_is_alive(p));
  ep_stop();
}
