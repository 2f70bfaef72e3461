/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_task.c - Task (R66-R70) and the parallel map built on it.
 */
#include "otp_test.h"

static void square(ep_term x, ep_build *out) {
  int64_t v = 0;
  ep_get_int(x, &v);
  ep_b_int(out, v * v);
}

static void sleeper(ep_term ms, ep_build *out) {
  int64_t v = 0;
  ep_get_int(ms, &v);
  ep_sleep((long)v);
  ep_b_term(out, ms);
}

static void crasher(ep_term why, ep_build *out) {
  (void)out;
  ep_exit(why);
}

/* Test that async spawns a linked, monitored task that sends back its result (R66). */
OTP_TEST(task, R66_async_linked_and_monitored) {
  ep_task t = ep_task_async(sleeper, T("50"));
  ck_assert(ep_pid_eq(t.owner, ep_self()));
  ep_term links = ep_process_info(ep_self(), EP_A_links);
  ck_assert_term(links, "{links, [~p]}", t.pid);
  ep_term_free(links);
  ep_term mons = ep_process_info(ep_self(), EP_A_monitors);
  ck_assert_term(mons, "{monitors, [{process, ~p}]}", t.pid);
  ep_term_free(mons);
  ck_assert_term(ep_task_await(&t, 5000), "50");
}

/* Test that await returns the result and leaves the mailbox clean (R67). */
OTP_TEST(task, R67_await_leaves_mailbox_clean) {
  ep_task t = ep_task_async(square, T("7"));
  ck_assert_term(ep_task_await(&t, 5000), "49");
  ot_down(t.pid);                              /* the task is gone... */
  ck_assert_int_eq(ep_message_queue_len(), 0); /* ...and left nothing behind */
}

struct awaitctx { ep_task t; long timeout; };
static void do_await(void *c) {
  struct awaitctx *a = c;
  ep_task_await(&a->t, a->timeout);
}

static void foreign_awaiter(ep_term a) {
  struct awaitctx c = {.timeout = 5000};
  ep_get_pid(ep_tuple_elem(a, 0), &c.t.pid);
  ep_get_pid(ep_tuple_elem(a, 1), &c.t.owner);
  ep_term why;
  ep_catch(do_await, &c, &why);
  ep_send_fmt(c.t.owner, "{foreign, ~t}", ep_tuple_elem(why, 0));
}

/* Test that only the owner may await: others exit with badarg (R67). */
OTP_TEST(task, R67_await_by_other_process_badarg) {
  ep_task t = ep_task_async(sleeper, T("10"));
  ep_spawn(foreign_awaiter, T("{~p, ~p}", t.pid, ep_self()));
  ot_expect("{foreign, badarg}");
  ep_task_await(&t, 5000);
}

/* Test that a trapping owner's await exits with {R, {Task, await, [T, Timeout]}}
 * and keeps the task's EXIT in its mailbox (R67). */
OTP_TEST(task, R67_await_task_died_trapping_owner) {
  ep_trap_exit(true);
  struct awaitctx c = {ep_task_async(crasher, T("oops")), 5000};
  ep_term why = ot_catch(do_await, &c);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "oops"));
  ep_term mfa = ep_tuple_elem(why, 1);
  ck_assert(ot_is(ep_tuple_elem(mfa, 0), "'Elixir.Task'"));
  ck_assert(ot_is(ep_tuple_elem(mfa, 1), "await"));
  ck_assert(ot_is(ep_list_head(ep_list_tail(ep_tuple_elem(mfa, 2))), "5000"));
  ot_expect("{'EXIT', _, oops}");
}

static void doomed_owner(ep_term parent) {
  ep_pid p;
  ep_get_pid(parent, &p);
  ep_task t = ep_task_async(crasher, parent);     /* dies with reason = a pid term */
  ep_send_fmt(p, "{task, ~p}", t.pid);
  ep_task_await(&t, 5000);
}

/* Test that a non-trapping owner is killed through the link by the task's reason (R67). */
OTP_TEST(task, R67_await_task_died_non_trapping_owner) {
  ep_smallterm s;
  ep_pid owner = ep_spawn(doomed_owner, ep_pid_term(&s, ep_self()));
  ep_ref m = ep_monitor(owner);
  (void)m;
  ep_term d = ot_expect("{'DOWN', _, process, _, _}");
  ck_assert(ot_is(ep_tuple_elem(d, 4), "~p", ep_self()));
}

/* Test that an await timeout exits with timeout, and that a caller which
 * catches it still has a running task (R67). */
OTP_TEST(task, R67_await_timeout) {
  struct awaitctx c = {ep_task_async(sleeper, T("300")), 10};
  ep_term why = ot_catch(do_await, &c);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "timeout"));
  ck_assert(ot_is(ep_list_head(ep_list_tail(ep_tuple_elem(ep_tuple_elem(why, 1), 2))), "10"));
  ck_assert(ep_is_alive(c.t.pid));
  ck_assert(ot_none("{'DOWN', _, _, _, _}"));
}

static void waiter(ep_term x, ep_build *out) {
  EP_PATTERN(p_go, "go");
  ep_receive(EP_INFINITY, p_go);
  ep_b_term(out, x);
}

/* Test that a task's reply after an await timeout, caught by the owner, is
 * discarded: it never shows up in the owner's mailbox (R67). */
OTP_TEST(task, R67_await_timeout_late_reply_discarded) {
  struct awaitctx c = {ep_task_async(waiter, T("late")), 10};
  ep_term why = ot_catch(do_await, &c);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "timeout"));
  ep_ref m = ep_monitor(c.t.pid);
  (void)m;
  ep_send(c.t.pid, T("go"));
  /* the task replies, then ends: its DOWN comes after the reply (R12) */
  ot_expect("{'DOWN', _, process, _, normal}");
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

/* Test that a yield timeout keeps the reply coming: a later yield gets it,
 * and the mailbox is then clean (R69). */
OTP_TEST(task, R69_yield_timeout_then_result) {
  ep_task t = ep_task_async(waiter, T("later"));
  ep_term r = NULL;
  ck_assert_int_eq(ep_task_yield(&t, 0, &r), EP_ETIMEOUT);
  ep_send(t.pid, T("go"));
  ck_assert_int_eq(ep_task_yield(&t, 5000, &r), 0);
  ck_assert_term(r, "later");
  ck_assert(ot_none("_"));
}

static void owner_with_task(ep_term parent) {
  ep_pid p;
  ep_get_pid(parent, &p);
  ep_task t = ep_task_async(sleeper, T("100000"));
  ep_send_fmt(p, "{task, ~p}", t.pid);
  ep_receive_any(&parent, EP_INFINITY);
  ep_exit_atom(ep_atom_of("bye"));
}

/* Test that a task dies with its owner's reason (R68). */
OTP_TEST(task, R68_task_dies_with_owner) {
  ep_smallterm s;
  ep_pid owner = ep_spawn(owner_with_task, ep_pid_term(&s, ep_self()));
  ep_term m = ot_expect("{task, _}");
  ep_pid task;
  ep_get_pid(ep_tuple_elem(m, 1), &task);
  ep_ref r = ep_monitor(task);
  (void)r;
  ep_send(owner, T("go"));
  ot_expect("{'DOWN', _, process, _, bye}");
}

/* Test yield: nil while running, then the result; {exit, R} for a dead task (R69). */
OTP_TEST(task, R69_yield) {
  ep_task t = ep_task_async(sleeper, T("200"));
  ep_term r;
  ck_assert_int_eq(ep_task_yield(&t, 0, &r), EP_ETIMEOUT);
  ck_assert_int_eq(ep_task_yield(&t, 5000, &r), 0);
  ck_assert_term(r, "200");
  ep_trap_exit(true);
  ep_task d = ep_task_async(crasher, T("gone"));
  ck_assert_int_eq(ep_task_yield(&d, 5000, &r), EP_EEXITED);
  ck_assert_term(r, "gone");
}

/* Test shutdown: a running task stops with shutdown (nil), a finished one
 * gives its result, and no exit reaches the caller (R69). */
OTP_TEST(task, R69_shutdown) {
  ep_task t = ep_task_async(sleeper, T("100000"));
  ep_ref m = ep_monitor(t.pid);
  (void)m;
  ep_term r;
  ck_assert_int_eq(ep_task_shutdown(&t, 5000, &r), EP_ENOPROC);
  ot_expect("{'DOWN', _, process, _, shutdown}");
  ep_task done = ep_task_async(square, T("3"));
  ot_down(done.pid);                          /* its reply is queued before this DOWN */
  ck_assert_int_eq(ep_task_shutdown(&done, 5000, &r), 0);
  ck_assert_term(r, "9");
}

/* Test the seed's pmap(1..10000, square): results in input order (R70). */
/* Reports {started, Self} to the process named pmap_owner, then waits for `go`. */
static void reporting_waiter(ep_term x, ep_build *out) {
  ep_send_name_fmt(ep_atom_of("pmap_owner"), "{started, ~p}", ep_self());
  waiter(x, out);
}

struct pmapctx { ep_term list; ep_build out; };
static void do_pmap(void *c) {
  struct pmapctx *p = c;
  ep_task_pmap(reporting_waiter, p->list, 0, 10, &p->out);
}

/* Test that a pmap that timed out, its exit caught, never shows the late
 * results of its tasks in the caller's mailbox (R67, R70). */
OTP_TEST(task, R70_pmap_timeout_late_results_discarded) {
  ck_assert_int_eq(ep_register(ep_atom_of("pmap_owner"), ep_self()), 0);
  struct pmapctx c = {.list = T("[a, b, c]")};
  ep_b_init(&c.out);
  ep_term why = ot_catch(do_pmap, &c);
  ep_b_free(&c.out);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "timeout"));
  ep_pid tasks[3];
  for (int i = 0; i < 3; i++) {
    ep_get_pid(ep_tuple_elem(ot_expect("{started, _}"), 1), &tasks[i]);
    ep_monitor(tasks[i]);
  }
  for (int i = 0; i < 3; i++)
    ep_send(tasks[i], T("go"));
  /* each task sends its result, then ends: its DOWN comes after it (R12) */
  for (int i = 0; i < 3; i++)
    ot_expect("{'DOWN', _, process, _, normal}");
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

OTP_TEST(task, R70_pmap_ordered) {
  ep_build in, out;
  ep_b_init(&in);
  ep_b_list(&in);
  for (int i = 1; i <= 10000; i++)
    ep_b_int(&in, i);
  ep_b_end(&in);
  ep_term list = T("~t", ep_b_peek(&in));
  ep_b_free(&in);
  for (long conc = 0; conc <= 8; conc += 8) {
    ep_b_init(&out);
    ep_task_pmap(square, list, conc, 5000, &out);
    ep_term r = ep_b_peek(&out);
    ck_assert_int_eq(ep_list_length(r), 10000);
    int64_t i = 1, v;
    for (ep_term l = r; ep_list_head(l); l = ep_list_tail(l), i++) {
      ep_get_int(ep_list_head(l), &v);
      ck_assert_int_eq(v, i * i);
    }
    ep_b_free(&out);
  }
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

/* Test that pmap with max_concurrency never runs more tasks than allowed. */
OTP_TEST(task, pmap_max_concurrency_bounds_tasks) {
  long base = ep_process_count();
  ep_build out;
  ep_b_init(&out);
  ep_task_pmap(sleeper, T("[5, 5, 5, 5, 5, 5, 5, 5]"), 2, 5000, &out);
  ck_assert_term(ep_b_peek(&out), "[5, 5, 5, 5, 5, 5, 5, 5]");
  ep_b_free(&out);
  ck_assert_int_le(ep_process_count(), base + 2);
}
