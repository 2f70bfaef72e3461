/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent.c - Agent (R71-R73): a term state changed by C functions.
 */
#include "otp_test.h"

static void init_as_arg(ep_term arg, ep_build *out) { ep_b_term(out, arg); }
static void init_crash(ep_term arg, ep_build *out) {
  (void)out;
  ep_error(arg);
}
static void get_state(ep_term st, ep_term arg, ep_build *out) {
  (void)arg;
  ep_b_term(out, st);
}
static void add(ep_term st, ep_term n, ep_build *out) {
  int64_t a = 0, b = 0;
  ep_get_int(st, &a);
  ep_get_int(n, &b);
  ep_b_int(out, a + b);
}
static void pop(ep_term st, ep_term arg, ep_build *out) {   /* {Old, Old + 1} */
  (void)arg;
  int64_t a = 0;
  ep_get_int(st, &a);
  ep_b_tuple(out);
  ep_b_int(out, a);
  ep_b_int(out, a + 1);
  ep_b_end(out);
}
static void not_a_pair(ep_term st, ep_term arg, ep_build *out) {
  (void)st;
  (void)arg;
  ep_b_atom_name(out, "oops");
}
static void slow(ep_term st, ep_term ms, ep_build *out) {
  int64_t v = 0;
  ep_get_int(ms, &v);
  ep_sleep((long)v);
  ep_b_term(out, st);
}
static void raise_it(ep_term st, ep_term arg, ep_build *out) {
  (void)st;
  (void)out;
  ep_error(arg);
}

static void wait_go(ep_term st, ep_term arg, ep_build *out) {   /* until a `go` message */
  EP_PATTERN(p_go, "go");
  (void)arg;
  ep_receive(EP_INFINITY, p_go);
  ep_b_term(out, st);
}

struct getctx { ep_server a; ep_agent_fn fn; ep_term arg; long timeout; };
static void do_get(void *c) {
  struct getctx *g = c;
  ep_agent_get(g->a, g->fn, g->arg, g->timeout);
}
static void do_gau(void *c) {
  struct getctx *g = c;
  ep_agent_get_and_update(g->a, g->fn, g->arg, g->timeout);
}

/* Test that start_link runs init inside the agent and registers the name (R71). */
OTP_TEST(agent, R71_start_link_named) {
  ep_pid a, other;
  ep_atom name = ep_atom_of("kv");
  ck_assert_int_eq(ep_agent_start_link(init_as_arg, T("41"), name, &a, NULL), 0);
  ck_assert(ep_pid_eq(ep_whereis(name), a));
  ck_assert_term(ep_agent_get(ep_srv_name(name), get_state, NULL, 5000), "41");
  ck_assert_int_eq(ep_agent_start_link(init_as_arg, T("0"), name, &other, NULL), EP_EEXIST);
  ck_assert(ep_pid_eq(other, a));
}

/* Test that an init that raises gives {E, Stack} (R71). */
OTP_TEST(agent, R71_init_raises) {
  ep_term why;
  ck_assert_int_eq(ep_agent_start(init_crash, T("bad_init"), 0, NULL, &why), EP_EEXITED);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "bad_init"));
}

/* Test get, update, get_and_update, cast and stop (R72). */
OTP_TEST(agent, R72_operations) {
  ep_pid a;
  ep_agent_start(init_as_arg, T("1"), 0, &a, NULL);
  ck_assert_int_eq(ep_agent_update(ep_srv(a), add, T("9"), 5000), 0);
  ck_assert_term(ep_agent_get(ep_srv(a), get_state, NULL, 5000), "10");
  ck_assert_term(ep_agent_get_and_update(ep_srv(a), pop, NULL, 5000), "10");
  ck_assert_term(ep_agent_get(ep_srv(a), get_state, NULL, 5000), "11");
  ck_assert_int_eq(ep_agent_cast(ep_srv(a), add, T("100")), 0);
  ck_assert_term(ep_agent_get(ep_srv(a), get_state, NULL, 5000), "111");   /* R73 order */
  ck_assert_int_eq(ep_agent_stop(ep_srv(a), T("finished"), EP_INFINITY), 0);
  ck_assert(!ep_is_alive(a));
  ck_assert_int_eq(ep_agent_cast(ep_srv(a), add, T("1")), 0);             /* dead: still 0 */
}

/* Test that a get_and_update function not returning a pair stops the agent with
 * {bad_return_value, V} and exits the caller (R72). */
OTP_TEST(agent, R72_get_and_update_bad_return) {
  ep_pid a;
  ep_agent_start(init_as_arg, T("1"), 0, &a, NULL);
  struct getctx g = {ep_srv(a), not_a_pair, NULL, 5000};
  ep_term why = ot_catch(do_gau, &g);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "{bad_return_value, oops}"));
  ck_assert(ot_is(ep_tuple_elem(ep_tuple_elem(why, 1), 0), "'Elixir.GenServer'"));
  ck_assert_term(ot_down(a), "noproc");
}

/* Test the call errors: a dead agent gives noproc, a timeout leaves the agent
 * running, a raising function kills the agent and the caller exits with its
 * reason (R73). */
OTP_TEST(agent, R73_errors) {
  ep_pid a;
  ep_agent_start(init_as_arg, T("5"), 0, &a, NULL);
  struct getctx g = {ep_srv(a), slow, T("300"), 10};
  ep_term why = ot_catch(do_get, &g);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "timeout"));
  ep_term mfa = ep_tuple_elem(why, 1);
  ck_assert(ot_is(ep_tuple_elem(mfa, 0), "'Elixir.GenServer'"));
  ck_assert(ot_is(ep_list_head(ep_list_tail(ep_list_tail(ep_tuple_elem(mfa, 2)))), "10"));
  ck_assert_term(ep_agent_get(ep_srv(a), get_state, NULL, 5000), "5");
  g = (struct getctx){ep_srv(a), raise_it, T("kaboom"), 5000};
  why = ot_catch(do_get, &g);
  ck_assert(ot_is(ep_tuple_elem(ep_tuple_elem(why, 0), 0), "kaboom"));
  ck_assert(!ep_is_alive(a));
  g = (struct getctx){ep_srv(a), get_state, NULL, 5000};
  why = ot_catch(do_get, &g);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "noproc"));
}

/* Test that the agent's reply after the caller's timeout is discarded: the
 * caller that caught the timeout never sees it in its mailbox (R73, R47). */
OTP_TEST(agent, R73_late_reply_discarded) {
  ep_pid a;
  ep_agent_start(init_as_arg, T("5"), 0, &a, NULL);
  struct getctx g = {ep_srv(a), wait_go, NULL, 10};
  ep_term why = ot_catch(do_get, &g);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "timeout"));
  ep_send(a, T("go"));
  /* the agent sends the late reply, then answers this get: the late one
   * reaches us first (R12) */
  ck_assert_term(ep_agent_get(ep_srv(a), get_state, NULL, 5000), "5");
  ck_assert_int_eq(ep_message_queue_len(), 0);
}
