/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_messages.c - conformance tests for spec sections 2 and 3, send,
 * mailbox ordering and receive (R9-R19). Each test observes the mailbox
 * through receives, ep_message_queue_len and process_info(messages).
 */
#include <string.h>
#include <time.h>

#include "spec_util.h"

static int64_t int_of(ep_term t) {
  int64_t v = -1;
  if (t) ep_get_int(t, &v);
  return v;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for `go` (leaving other messages), then reports its queue length
 * and every message left, in order, then `end`. */
static void report_mailbox(ep_term parent) {
  ep_pid to = pid_of(parent);
  ep_pattern *go;
  ep_pattern_compile(&go, "go", NULL);
  ep_receive(EP_INFINITY, go);
  ep_pattern_free(go);
  ep_send_fmt(to, "{len, ~l}", ep_message_queue_len());
  ep_term m;
  while (ep_receive_any(&m, 0) == 0) ep_send_fmt(to, "{msg, ~t}", m);
  ep_send(to, A("eom"));
}

static long queue_len_of(ep_pid p) {
  ep_term t = spec_own(ep_process_info(p, EP_A_message_queue_len));
  return t ? (long)int_of(ep_tuple_elem(t, 1)) : -1;
}

/* Test that send never blocks and mailboxes are unbounded: 100,000
 * messages to a process that is not receiving all queue up, and the
 * receiver then finds them all in order (R9, R15). */
SPEC(send, R9_R15_send_never_blocks_mailbox_unbounded) {
#if defined(EP_ASAN) || defined(EP_TSAN)
  enum { N = 20000 };
#else
  enum { N = 100000 };
#endif
  ep_pid c = ep_spawn(report_mailbox, P(ep_self()));
  for (int i = 0; i < N; i++) EXPECT(ep_send_fmt(c, "~i", i) == 0);
  EXPECT(queue_len_of(c) == N);
  ep_send(c, A("go"));
  EXPECT(int_of(ep_tuple_elem(recv_match(EP_INFINITY, "{len, _}"), 1)) == N);
  for (int i = 0; i < N; i++) EXPECT(int_of(ep_tuple_elem(recv_any(EP_INFINITY), 1)) == i);
  EXPECT_M(recv_any(EP_INFINITY), "eom");
}

static void just_return(ep_term arg) { (void)arg; }

/* Test that a send to a dead pid, or to a pid that never existed, is
 * dropped silently and the sender goes on (R10). */
SPEC(send, R10_send_to_dead_or_unknown_pid_dropped) {
  ep_pid c = ep_spawn(just_return, A("x"));
  wait_death(c);
  EXPECT(ep_send(c, A("lost")) == 0);
  EXPECT(ep_send_fmt(c, "{lost, ~i}", 1) == 0);
  ep_pid never = {.id = 987654, .serial = 4242, .node = EP_NODE_LOCAL, .creation = 0};
  EXPECT(ep_send(never, A("lost")) == 0);
  EXPECT(nothing_arrives(50));
}

static void send_to_unregistered(ep_term arg) {
  (void)arg;
  ep_send_name_x(ep_atom_of("spec_nobody_here"), A("hello"));
  ep_exit(A("send_returned"));
}

/* Test that a send to an unregistered name is a badarg error: ep_send_name
 * returns EP_EBADARG and `Name ! Msg` ends an uncaught sender with
 * {badarg, Stack} (R11). */
SPEC(send, R11_send_to_unregistered_name_badarg) {
  EXPECT(ep_send_name(ep_atom_of("spec_nobody_here"), A("hello")) == EP_EBADARG);
  EXPECT(ep_send_name_fmt(ep_atom_of("spec_nobody_here"), "{a, ~i}", 1) == EP_EBADARG);
  ep_ref r;
  ep_spawn_monitor(send_to_unregistered, A("x"), &r);
  EXPECT_M(await_down(&r), "{badarg, _}");
}

/* Test that a name whose owner died is already unregistered, so a send
 * by it is badarg (R11, R44). */
SPEC(send, R11_send_to_name_of_dead_owner_badarg) {
  ep_atom name = ep_atom_of("spec_r11_owner");
  ep_pid c = ep_spawn(spec_action, A("wait"));
  EXPECT(ep_register(name, c) == 0);
  EXPECT(ep_send_name(name, A("go")) == 0);
  ep_ref r = ep_monitor(c);
  EXPECT(ep_send_name(name, A("stop")) == 0);
  EXPECT_M(await_down(&r), "normal");
  EXPECT(ep_send_name(name, A("hello")) == EP_EBADARG);
}

static void send_sequence(ep_term arg) {
  ep_pid to = pid_of(ep_tuple_elem(arg, 0));
  int64_t tag = int_of(ep_tuple_elem(arg, 1)), n = int_of(ep_tuple_elem(arg, 2));
  for (int64_t i = 0; i < n; i++) ep_send_fmt(to, "{~L, ~L}", (long long)tag, (long long)i);
}

/* Test per-pair FIFO with several concurrent senders: each sender's
 * messages arrive in the order it sent them (R12). */
SPEC(send, R12_per_sender_order_kept_under_interleaving) {
  enum { S = 4, N = 20000 };
  for (int s = 0; s < S; s++) ep_spawn(send_sequence, T("{~p, ~i, ~i}", ep_self(), s, N));
  int64_t next[S] = {0};
  for (int i = 0; i < S * N; i++) {
    ep_term m = recv_any(EP_INFINITY);
    int64_t s = int_of(ep_tuple_elem(m, 0)), k = int_of(ep_tuple_elem(m, 1));
    if (s < 0 || s >= S) {
      EXPECT(!"message from an unknown sender");
      return;
    }
    EXPECT(k == next[s]);
    next[s] = k + 1;
  }
}

static void send_then_die(ep_term arg) {
  ep_pid to = pid_of(arg);
  for (int i = 0; i < 1000; i++) ep_send_fmt(to, "{m, ~i}", i);
  ep_exit(A("boom"));
}

/* Test that messages a process sent before it died are in the receiver's
 * mailbox before its {'EXIT', ...} and {'DOWN', ...} (R12). */
SPEC(send, R12_messages_before_exit_and_down) {
  ep_trap_exit(true);
  for (int round = 0; round < 20; round++) {
    ep_pid c;
    ep_ref r;
    ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
    EXPECT(ep_spawn_opt(&c, send_then_die, P(ep_self()), &o, &r) == 0);
    for (int i = 0; i < 1000; i++) EXPECT(int_of(ep_tuple_elem(recv_any(EP_INFINITY), 1)) == i);
    EXPECT_M(recv_any(EP_INFINITY), "{'EXIT', ^C, boom}", P(c));
    EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, ^C, boom}", R(&r), P(c));
  }
}

/* Test that an exit signal is ordered with the sender's messages: a message
 * sent before exit(P, R) is in a trapping P's mailbox before the
 * {'EXIT', Sender, R} (R12). */
SPEC(send, R12_message_before_exit_signal_from_same_sender) {
  ep_pid t = puppet();
  cmd(t, "{'$do', trap, true}");
  for (int i = 0; i < 200; i++) {
    ep_send_fmt(t, "{m, ~i}", i);
    ep_exit_signal(t, A("stuff"));
    EXPECT_M(got(t, EP_INFINITY), "{m, ~i}");
    EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^Me, stuff}", P(ep_self()));
  }
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test that a message goes at the end of the mailbox and that one sent to
 * self is visible to the next receive: five squares sent to self come back
 * 1, then 4 9 16 25 (R13, seed 000). */
SPEC(send, R13_send_to_self_appends) {
  for (int i = 1; i <= 5; i++) ep_send_fmt(ep_self(), "~i", i * i);
  EXPECT(int_of(recv_any(0)) == 1);
  ep_send(ep_self(), A("last"));
  for (int i = 2; i <= 5; i++) EXPECT(int_of(recv_any(0)) == i * i);
  EXPECT_M(recv_any(0), "last");
  EXPECT(recv_any(0) == NULL);
}

/* Test that messages are values: the sender reuses and frees its buffer
 * right after the send and the receiver still sees what was sent (R14). */
SPEC(send, R14_receiver_copy_independent_of_sender) {
  ep_pid c = ep_spawn(report_mailbox, P(ep_self()));
  ep_build b;
  ep_b_init(&b);
  for (int i = 0; i < 100; i++) {
    ep_b_reset(&b);
    ep_b_format(&b, "{payload, ~i, ~s, [1, 2, 3]}", i, "some text");
    ep_send(c, ep_b_peek(&b));
    ep_b_reset(&b);
    ep_b_format(&b, "{overwritten, ~i, ~s, [9, 9, 9]}", -i, "XXXXXXXXX");
  }
  ep_b_free(&b);
  ep_term dup = T("{kept, \"freed after send\"}");
  ep_term own = ep_term_dup(dup);
  ep_send(c, own);
  ep_term_free(own);
  ep_send(c, A("go"));
  recv_match(EP_INFINITY, "{len, _}");
  for (int i = 0; i < 100; i++)
    EXPECT_M(recv_any(EP_INFINITY), "{msg, {payload, ^I, \"some text\", [1, 2, 3]}}", T("~i", i));
  EXPECT_M(recv_any(EP_INFINITY), "{msg, {kept, \"freed after send\"}}");
  EXPECT_M(recv_any(EP_INFINITY), "eom");
}

/* Test selective receive: message order wins over clause order. With
 * mailbox [{x,1},{y,2}], receive {y,_} -> ...; {x,_} -> ... takes {x,1}
 * with the second clause, and {y,2} stays (R16). */
SPEC(receive, R16_message_order_wins_over_clause_order) {
  ep_send(ep_self(), T("{x, 1}"));
  ep_send(ep_self(), T("{y, 2}"));
  ep_pattern *py, *px;
  ep_pattern_compile(&py, "{y, _}", NULL);
  ep_pattern_compile(&px, "{x, _}", NULL);
  int clause = ep_receive(EP_INFINITY, py, px);
  EXPECT(clause == 1);
  EXPECT_M(ep_message(), "{x, 1}");
  ep_pattern_free(py);
  ep_pattern_free(px);
  EXPECT(ep_message_queue_len() == 1);
  EXPECT_M(recv_any(0), "{y, 2}");
}

/* Test that the first clause matching a message runs when several match,
 * and that the first matching message is taken while the others keep their
 * order (R16). */
SPEC(receive, R16_first_clause_and_first_message) {
  ep_send(ep_self(), A("a"));
  ep_send(ep_self(), T("{m, 1}"));
  ep_send(ep_self(), A("b"));
  ep_send(ep_self(), T("{m, 2}"));
  ep_send(ep_self(), A("c"));
  ep_pattern *any, *m;
  ep_pattern_compile(&m, "{m, _}", NULL);
  ep_pattern_compile(&any, "{_, _}", NULL);
  EXPECT(ep_receive(0, m, any) == 0);
  EXPECT_M(ep_message(), "{m, 1}");
  EXPECT(ep_receive(0, any, m) == 0);
  EXPECT_M(ep_message(), "{m, 2}");
  EXPECT(ep_receive(0, m) == EP_ETIMEOUT);
  ep_pattern_free(any);
  ep_pattern_free(m);
  EXPECT_M(recv_any(0), "a");
  EXPECT_M(recv_any(0), "b");
  EXPECT_M(recv_any(0), "c");
}

/* Test that receive's pins and variables work as Erlang's bound variables:
 * {reply, ^Ref, V} takes only the reply carrying Ref, binds V (R16). */
SPEC(receive, R16_pinned_reference_and_bound_variable) {
  ep_ref r1 = ep_make_ref(), r2 = ep_make_ref();
  ep_send_fmt(ep_self(), "{reply, ~r, 1}", &r1);
  ep_send_fmt(ep_self(), "{reply, ~r, 2}", &r2);
  ep_pattern *p;
  ep_pattern_compile(&p, "{reply, ^Ref, V::int}", NULL);
  ep_term pin = R(&r2);
  ep_clause c = {p, &pin};
  EXPECT(ep_receive_clauses(&c, 1, 0) == 0);
  int64_t v = 0;
  EXPECT(ep_bind(&v) == 0);
  EXPECT(v == 2);
  ep_pattern_free(p);
  EXPECT_M(recv_any(0), "{reply, _, 1}");
}

static void await_reply(ep_term parent) {
  ep_pid to = pid_of(parent);
  ep_pattern *p;
  ep_pattern_compile(&p, "{reply, _}", NULL);
  ep_receive(EP_INFINITY, p);
  ep_pattern_free(p);
  ep_send_fmt(to, "{got_reply, ~t}", ep_message());
  ep_term m;
  while (ep_receive_any(&m, 0) == 0) ep_send_fmt(to, "{left, ~t}", m);
  ep_send(to, A("eom"));
}

/* Test that a receive with no matching message blocks, and messages that
 * arrive without matching are appended and left alone (R17). */
SPEC(receive, R17_blocks_and_leaves_non_matching) {
  ep_pid c = ep_spawn(await_reply, P(ep_self()));
  ep_send(c, A("junk1"));
  ep_send(c, T("{other, 1}"));
  EXPECT(nothing_arrives(100));
  EXPECT(ep_is_alive(c));
  EXPECT(queue_len_of(c) == 2);
  ep_send(c, A("junk3"));
  ep_send(c, T("{reply, 42}"));
  EXPECT_M(recv_any(EP_INFINITY), "{got_reply, {reply, 42}}");
  EXPECT_M(recv_any(EP_INFINITY), "{left, junk1}");
  EXPECT_M(recv_any(EP_INFINITY), "{left, {other, 1}}");
  EXPECT_M(recv_any(EP_INFINITY), "{left, junk3}");
  EXPECT_M(recv_any(EP_INFINITY), "eom");
}

/* Test that `after T` never fires early: the timeout comes no sooner than
 * T ms after the receive started, and messages that do not match stay
 * (R18). */
SPEC(receive, R18_after_never_early_and_keeps_non_matching) {
  ep_send(ep_self(), A("unrelated"));
  ep_pattern *p;
  ep_pattern_compile(&p, "never", NULL);
  uint64_t t0 = now_ms();
  EXPECT(ep_receive(150, p) == EP_ETIMEOUT);
  EXPECT(now_ms() - t0 >= 150);
  ep_pattern_free(p);
  EXPECT(ep_message_queue_len() == 1);
  EXPECT_M(recv_any(0), "unrelated");
}

/* Test the same for a timeout of a second or more, whose deadline comes
 * from the cheaper, coarser clock: it may be a little late, never early
 * (R18). */
SPEC(receive, R18_long_after_never_early) {
  ep_pattern *p;
  ep_pattern_compile(&p, "never", NULL);
  uint64_t t0 = now_ms();
  EXPECT(ep_receive(1000, p) == EP_ETIMEOUT);
  uint64_t took = now_ms() - t0;
  EXPECT(took >= 1000);
  ep_pattern_free(p);
}

static void pester(ep_term target) {
  ep_term m;
  for (;;) {
    ep_send(pid_of(target), A("noise"));
    if (ep_receive_any(&m, 10) == 0) return;
  }
}

/* Test that non-matching messages arriving during a receive do not restart
 * its timer: under a stream of noise every 10 ms a 100 ms receive still
 * times out (R18). */
SPEC(receive, R18_non_matching_arrivals_do_not_restart_timer) {
  ep_pid n = ep_spawn(pester, P(ep_self()));
  ep_pattern *p;
  ep_pattern_compile(&p, "never", NULL);
  uint64_t t0 = now_ms();
  EXPECT(ep_receive(100, p) == EP_ETIMEOUT);
  EXPECT(now_ms() - t0 >= 100);
  ep_pattern_free(p);
  ep_send(n, A("stop"));
  EXPECT(ep_message_queue_len() >= 1);
}

/* Test `after 0`: one look at the current mailbox, at once a timeout when
 * nothing matches, and the non-matching messages stay in order (R18). */
SPEC(receive, R18_after_zero_looks_once) {
  ep_send(ep_self(), A("a"));
  ep_send(ep_self(), A("b"));
  ep_pattern *p;
  ep_pattern_compile(&p, "c", NULL);
  EXPECT(ep_receive(0, p) == EP_ETIMEOUT);
  ep_send(ep_self(), A("c"));
  EXPECT(ep_receive(0, p) == 0);
  ep_pattern_free(p);
  EXPECT_M(recv_any(0), "a");
  EXPECT_M(recv_any(0), "b");
  EXPECT(recv_any(0) == NULL);
}

static void send_later(ep_term arg) {
  ep_sleep(50);
  ep_send(pid_of(arg), A("late"));
}

/* Test that `after infinity` waits for a message that comes later, like a
 * receive with no `after` (R18). */
SPEC(receive, R18_after_infinity_waits) {
  ep_spawn(send_later, P(ep_self()));
  ep_pattern *p;
  ep_pattern_compile(&p, "late", NULL);
  EXPECT(ep_receive(EP_INFINITY, p) == 0);
  ep_pattern_free(p);
}

/* Test that a receive with only `after T` (ep_sleep) waits T ms and takes
 * no message (R18). */
SPEC(receive, R18_sleep_takes_no_message) {
  ep_send(ep_self(), A("kept"));
  uint64_t t0 = now_ms();
  ep_sleep(60);
  EXPECT(now_ms() - t0 >= 60);
  EXPECT(ep_message_queue_len() == 1);
  EXPECT_M(recv_any(0), "kept");
}

/* Test that draining with `receive X -> ... after 0` returns the messages in
 * mailbox order, and flush empties the mailbox and counts (R19, seed 003). */
SPEC(receive, R19_drain_and_flush_in_order) {
  ep_send(ep_self(), A("hello1"));
  ep_send(ep_self(), A("hello2"));
  ep_send(ep_self(), T("{hello3, 42}"));
  ep_send(ep_self(), T("[<<\"message\">>, can, {\"be\", <<\"any\">>}, data]"));
  EXPECT_M(recv_any(0), "hello1");
  EXPECT_M(recv_any(0), "hello2");
  EXPECT_M(recv_any(0), "{hello3, 42}");
  EXPECT_M(recv_any(0), "[<<\"message\">>, can, {\"be\", <<\"any\">>}, data]");
  EXPECT(recv_any(0) == NULL);
  for (int i = 0; i < 7; i++) ep_send_fmt(ep_self(), "~i", i);
  EXPECT(ep_flush() == 7);
  EXPECT(ep_message_queue_len() == 0);
  EXPECT(recv_any(0) == NULL);
}

/* Test that process_info(self(), messages) shows the mailbox in order
 * without taking anything (R19, R45). */
SPEC(receive, R19_messages_info_in_mailbox_order) {
  for (int i = 1; i <= 3; i++) ep_send_fmt(ep_self(), "{n, ~i}", i);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_messages)), "{messages, [{n, 1}, {n, 2}, {n, 3}]}");
  EXPECT(ep_message_queue_len() == 3);
}
