/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_message.c - send and receive: asynchrony and drops (R9-R11),
 * per-pair order (R12, R13), selective receive (R16-R19), timeouts, the
 * receive marker, flush and queue length.
 */
#include "core/core_test.h"

static void send_dead_body(void) {
  ep_pid c = dead_pid();
  ck_assert_int_eq(ep_send(c, T("lost")), 0);
  ck_assert_int_eq(ep_send_fmt(c, "{lost, ~i}", 1), 0);
  ck_assert_int_eq(ep_send((ep_pid){999999, 7, 0, 0}, T("never")), 0);
  ck_assert_ptr_null(recv_any(0));
}

/* Test that send never blocks and a message to a dead or never-existing pid is dropped silently (R9, R10). */
TEST(send, R9_R10_send_to_dead_pid_dropped) {
  run_in_process(send_dead_body);
}

static void send_name_body(void) {
  ep_atom nobody = ep_atom_of("nobody_here");
  ck_assert_int_eq(ep_send_name(nobody, T("x")), EP_EBADARG);
  ck_assert_int_eq(ep_send_name_fmt(nobody, "x"), EP_EBADARG);
  ck_assert_int_eq(ep_register(ep_atom_of("me"), ep_self()), 0);
  ck_assert_int_eq(ep_send_name(ep_atom_of("me"), T("{to, me}")), 0);
  assert_term(recv_any(EP_INFINITY), "{to, me}");
  ep_send_name_x(nobody, T("x"));   /* Name ! Msg with no such name: badarg */
  ck_abort_msg("not reached");
}

/* Test that a send to an unregistered name is badarg, and Name ! Msg exits the sender with {badarg, _} (R11). */
TEST(send, R11_send_to_unregistered_name_badarg) {
  ep_set_exit_logger(NULL, NULL);
  ep_config cfg = {.threads = 2};
  ck_assert_int_eq(run_cfg(&cfg, send_name_body), 1);
}

static void sender(ep_term arg) {
  ep_pid to = arg_pid(arg);
  for (int i = 0; i < 1000; i++) ep_send_fmt(to, "{n, ~p, ~i}", ep_self(), i);
}

static void order_body(void) {
  ep_smallterm s;
  ep_pid a = ep_spawn(sender, pid_arg(&s));
  ep_pid b = ep_spawn(sender, pid_arg(&s));
  int next_a = 0, next_b = 0;
  EP_PATTERN(p_n, "{n, P::pid, I::int}");
  for (int i = 0; i < 2000; i++) {
    ck_assert_int_eq(ep_receive(EP_INFINITY, p_n), 0);
    ep_pid p;
    int64_t n;
    ep_bind(&p, &n);
    if (ep_pid_eq(p, a)) ck_assert_int_eq(n, next_a++);
    else if (ep_pid_eq(p, b)) ck_assert_int_eq(n, next_b++);
    else ck_abort_msg("unknown sender");
  }
}

/* Test that messages from one sender arrive in the order sent, whatever the interleaving (R12). */
TEST(send, R12_per_pair_fifo) {
  run_in_process(order_body);
}

static void self_send_body(void) {
  ep_send(ep_self(), T("first"));
  ep_send(ep_self(), T("second"));
  assert_term(recv_any(0), "first");
  assert_term(recv_any(0), "second");
  ck_assert_ptr_null(recv_any(0));
}

/* Test that a message to self is appended and seen by the next receive (R13). */
TEST(send, R13_send_to_self_appended) {
  run_in_process(self_send_body);
}

static void copy_body(void) {
  ep_term t;
  ck_assert_int_eq(ep_format(&t, "{data, [1, 2, 3], <<\"bin\">>}"), 0);
  ep_send(ep_self(), t);
  ep_term_free(t);   /* the receiver's copy does not depend on ours */
  assert_term(recv_any(0), "{data, [1, 2, 3], <<\"bin\">>}");
}

/* Test that a message is a copy: the sender may free its term at once (R14). */
TEST(send, R14_message_is_a_copy) {
  run_in_process(copy_body);
}

static void flooder(ep_term arg) {
  ep_pid to = arg_pid(arg);
  for (int i = 0; i < 100000 / EP_TEST_SCALE; i++) ep_send_fmt(to, "{flood, ~i}", i);
  ep_send_fmt(to, "flood_done");
}

static void unbounded_body(void) {
  ep_smallterm s;
  ep_ref r;
  ep_spawn_opt(NULL, flooder, pid_arg(&s), &(ep_spawn_opts){.flags = EP_SPAWN_MONITOR}, &r);
  wait_down(&r, EP_INFINITY);   /* the sender never blocked on our full mailbox */
  ck_assert_int_eq(ep_message_queue_len(), 100000 / EP_TEST_SCALE + 1);
  ck_assert_int_eq(ep_flush(), 100000 / EP_TEST_SCALE + 1);
}

/* Test that mailboxes are unbounded: a sender is never held back by a receiver that does not receive (R15). */
TEST(send, R15_mailbox_unbounded_no_backpressure) {
  run_in_process(unbounded_body);
}

static void selective_body(void) {
  send_text(ep_self(), "{x, 1}");
  send_text(ep_self(), "{y, 2}");
  EP_PATTERN(p_y, "{y, _}");
  EP_PATTERN(p_x, "{x, _}");
  /* clauses {y,_} then {x,_}: message order wins, {x,1} is taken */
  ck_assert_int_eq(ep_receive(0, p_y, p_x), 1);
  assert_term(ep_message(), "{x, 1}");
  ck_assert_int_eq(ep_message_queue_len(), 1);
  ck_assert_int_eq(ep_receive(0, p_y, p_x), 0);
  assert_term(ep_message(), "{y, 2}");
}

/* Test that receive takes the oldest matching message, message order winning over clause order (R16). */
TEST(receive, R16_message_order_wins_over_clause_order) {
  run_in_process(selective_body);
}

static void late_sender(ep_term arg) {
  ep_pid to = arg_pid(arg);
  send_text(to, "junk1");
  send_text(to, "junk2");
  send_text(to, "{wanted, 1}");
}

static void block_body(void) {
  ep_smallterm s;
  ep_spawn(late_sender, pid_arg(&s));
  EP_PATTERN(p_w, "{wanted, _}");
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_w), 0);
  /* the unmatched ones stay, in order (R17) */
  assert_term(recv_any(0), "junk1");
  assert_term(recv_any(0), "junk2");
}

/* Test that receive blocks until a match and leaves non-matching messages in order (R17). */
TEST(receive, R17_blocks_and_keeps_unmatched) {
  run_in_process(block_body);
}

static void timeout_body(void) {
  EP_PATTERN(p_w, "wanted");
  send_text(ep_self(), "junk");
  ck_assert_int_eq(ep_receive(0, p_w), EP_ETIMEOUT);          /* after 0: look once */
  ck_assert_int_eq(ep_message_queue_len(), 1);
  uint64_t t0 = ep__os_now_ns();
  ck_assert_int_eq(ep_receive(30, p_w), EP_ETIMEOUT);
  ck_assert_int_ge((long)((ep__os_now_ns() - t0) / 1000000u), 30);   /* never early */
  t0 = ep__os_now_ns();
  ep_sleep(20);                                                 /* only `after` */
  ck_assert_int_ge((long)((ep__os_now_ns() - t0) / 1000000u), 20);
  ck_assert_int_eq(ep_message_queue_len(), 1);                  /* took nothing */
  send_text(ep_self(), "wanted");
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_w), 0);
}

/* Test that after 0 looks once, after T never fires early, and sleep takes no message (R18). */
TEST(receive, R18_timeouts) {
  run_in_process(timeout_body);
}

static void after0_behind_body(void) {
  EP_PATTERN(p_w, "wanted");
  send_text(ep_self(), "junk");
  ck_assert_int_eq(ep_receive(0, p_w), EP_ETIMEOUT);   /* junk looked at, and kept */
  send_text(ep_self(), "wanted");                      /* arrives behind it */
  ck_assert_int_eq(ep_receive(0, p_w), 0);
  ck_assert_int_eq(ep_message_queue_len(), 1);         /* junk stays */
  EP_PATTERN(p_junk, "junk");
  ck_assert_int_eq(ep_receive(0, p_junk), 0);
}

/* Test that after 0 looks at every message that has arrived, also those
 * that came behind messages an earlier receive looked at and kept (R18). */
TEST(receive, R18_after_0_sees_arrivals_behind_kept_messages) {
  run_in_process(after0_behind_body);
}

static void trickle(ep_term arg) {
  ep_pid to = arg_pid(arg);
  for (int i = 0; i < 10; i++) {
    send_text(to, "noise");
    ep_sleep(5);
  }
}

static void timeout_not_reset_body(void) {
  ep_smallterm s;
  ep_spawn(trickle, pid_arg(&s));
  EP_PATTERN(p_w, "wanted");
  uint64_t t0 = ep__os_now_ns();
  ck_assert_int_eq(ep_receive(25, p_w), EP_ETIMEOUT);
  long ms = (long)((ep__os_now_ns() - t0) / 1000000u);
  ck_assert_int_ge(ms, 25);
}

/* Test that non-matching arrivals do not restart the receive timer (R18). */
TEST(receive, R18_arrivals_do_not_restart_timer) {
  run_in_process(timeout_not_reset_body);
}

/* A sleeper waits for a message that never comes, with a timeout of its
 * own, then reports how long it waited. */
static void sleeper(ep_term arg) {
  ep_pid parent = arg_pid(ep_tuple_elem(arg, 0));
  int64_t ms;
  ep_get_int(ep_tuple_elem(arg, 1), &ms);
  EP_PATTERN(p_never, "never");
  uint64_t t0 = ep__os_now_ns();
  int rc = ep_receive(ms, p_never);
  int64_t waited = (int64_t)((ep__os_now_ns() - t0) / 1000000u);
  ep_send_fmt(parent, "{slept, ~i, ~i, ~i}", rc == EP_ETIMEOUT, ms, waited);
}

static void echo(ep_term arg) {
  (void)arg;
  for (;;) {
    ep_term m = recv_any(EP_INFINITY);
    ep_pid from;
    if (ep_get_pid(m, &from) != 0) return;
    send_text(from, "pong");
  }
}

static void cancelled_timers_body(void) {
  enum { SLEEPERS = 200, CALLS = 5000 };
  for (int i = 0; i < SLEEPERS; i++) {
    ep_term a;
    ck_assert_int_eq(ep_format(&a, "{~p, ~i}", ep_self(), (int64_t)(150 + i % 50)), 0);
    ep_spawn(sleeper, a);
    ep_term_free(a);
  }
  /* each call arms a long timeout and cancels it when the pong comes:
   * thousands pass through the heaps under the sleepers' live ones */
  ep_pid e = ep_spawn(echo, NULL);
  EP_PATTERN(p_pong, "pong");
  for (int i = 0; i < CALLS; i++) {
    ep_smallterm s;
    ck_assert_int_eq(ep_send(e, ep_pid_term(&s, ep_self())), 0);
    ck_assert_int_eq(ep_receive(60000, p_pong), 0);
  }
  EP_PATTERN(p_slept, "{slept, Ok::int, Ms::int, Waited::int}");
  for (int i = 0; i < SLEEPERS; i++) {
    ck_assert_int_eq(ep_receive(10000, p_slept), 0);
    int64_t ok, ms, waited;
    ep_bind(&ok, &ms, &waited);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_ge(waited, ms);   /* never early */
  }
  ck_assert_int_eq(ep_exit_signal_atom(e, EP_A_kill), 0);
  ck_assert_ptr_null(recv_any(0));
}

/* Test that receive timeouts cancelled by the message they waited for
 * (left in the timer heaps, dropped later, swept when they pile up) never
 * cost a live timeout its turn: 200 sleepers all time out, none early,
 * while 5,000 calls arm and cancel 60 s timeouts around them (R18). */
TEST(receive, R18_cancelled_timeouts_leave_live_ones_firing) {
  run_in_process(cancelled_timers_body);
}

static void drain_body(void) {
  for (int i = 0; i < 5; i++) ep_send_fmt(ep_self(), "{m, ~i}", i);
  for (int i = 0; i < 5; i++) {
    ep_term m = recv_any(0);
    ck_assert_ptr_nonnull(m);
    int64_t n;
    ep_get_int(ep_tuple_elem(m, 1), &n);
    ck_assert_int_eq(n, i);
  }
  ck_assert_ptr_null(recv_any(0));
  for (int i = 0; i < 7; i++) send_text(ep_self(), "x");
  ck_assert_int_eq(ep_flush(), 7);
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

/* Test that draining with after 0 returns messages in order, and flush empties the mailbox (R19). */
TEST(receive, R19_drain_in_order_and_flush) {
  run_in_process(drain_body);
}

static void replier(ep_term arg) {
  /* {Ref, From}: answer {Ref, done} */
  ep_pid from = arg_pid(ep_tuple_elem(arg, 1));
  ep_ref ref;
  ep_get_ref(ep_tuple_elem(arg, 0), &ref);
  ep_send_fmt(from, "{~r, done}", &ref);
}

static void marker_body(void) {
  /* an old message carrying the same shape is not taken: it predates the mark */
  ep_ref old = ep_make_ref();
  ep_send_fmt(ep_self(), "{~r, stale}", &old);
  for (int i = 0; i < 1000; i++) send_text(ep_self(), "junk");
  ep_ref ref = ep_make_ref_marked();
  ep_term arg;
  ck_assert_int_eq(ep_format(&arg, "{~r, ~p}", &ref, ep_self()), 0);
  ep_spawn(replier, arg);
  ep_term_free(arg);
  EP_PATTERN(p_reply, "{^Ref, Reply}");
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &ref);
  ep_clause c = {p_reply, &pin};
  ck_assert_int_eq(ep_receive_clauses(&c, 1, EP_INFINITY), 0);
  assert_term(ep_var(0), "done");
  ck_assert_int_eq(ep_message_queue_len(), 1001);
  /* the mark is used once: a plain receive scans from the start again */
  EP_PATTERN(p_stale, "{_, stale}");
  ck_assert_int_eq(ep_receive(0, p_stale), 0);
}

/* Test that the receive marker skips messages that arrived before it, once. */
TEST(receive, marker_skips_older_messages) {
  run_in_process(marker_body);
}

static void bounded_body(void) {
  /* a receiver that loops forever frees what it received: the mailbox
   * stays empty and the previous message is released at each receive */
  ep_pid self = ep_self();
  for (int i = 0; i < 10000; i++) {
    ep_send_fmt(self, "{i, ~i, <<\"payload payload payload\">>}", i);
    ck_assert_ptr_nonnull(recv_any(0));
  }
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

/* Test that received messages are released by the next receive (bounded memory; checked by LSan). */
TEST(receive, received_messages_released) {
  run_in_process(bounded_body);
}

static void fmt_body(void) {
  ck_assert_int_lt(ep_send_fmt(ep_self(), "{bad"), 0);
  ck_assert_int_eq(ep_message_queue_len(), 0);
  ck_assert_int_eq(ep_send_fmt(ep_self(), "{ok, ~i, ~a}", 7, "x"), 0);
  assert_term(recv_any(0), "{ok, 7, x}");
}

/* Test that ep_send_fmt builds the message in place and a bad format sends nothing. */
TEST(send, send_fmt_builds_in_place_and_rejects_bad_format) {
  run_in_process(fmt_body);
}

static void foreign_wake_root(ep_term arg) {
  (void)arg;
  ep_register(ep_atom_of("waiter"), ep_self());
  ep_term m = recv_any(EP_INFINITY);
  assert_term(m, "from_outside");
}

static void *outside(void *arg) {
  (void)arg;
  while (ep_whereis(ep_atom_of("waiter")).id == 0) sched_yield();
  send_text(ep_whereis(ep_atom_of("waiter")), "from_outside");
  return NULL;
}

/* Test that a send from a thread outside the runtime wakes a parked receiver. */
TEST(send, send_from_foreign_thread_wakes_receiver) {
  pthread_t th;
  pthread_create(&th, NULL, outside, NULL);
  ep_config cfg = {.threads = 2};
  ck_assert_int_eq(ep_run(&cfg, foreign_wake_root, NULL), 0);
  pthread_join(th, NULL);
}
