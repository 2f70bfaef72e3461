/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_gen_statem.c - gen_statem in state functions mode with OTP's code
 * lock: buttons as casts, the state as a call, the lock's open time as a
 * state timeout, infos and event timeouts, stop and terminate.
 */
#include <stdlib.h>

#include "otp_test.h"

struct lock {
  int64_t code, entered;
  ep_pid observer;
  long open_ms;
};

static ep_atom A(const char *s) { return ep_atom_of(s); }

static ep_sm_ret common(const ep_sm_event *ev, struct lock *l) {
  if (ev->type == EP_SM_CALL && ep_is_atom(ev->content, A("state")))
    return ep_sm_reply(ep_sm_keep(), ep_gsv_atom(ev->state));
  if (ev->type == EP_SM_CALL && ep_is_atom(ev->content, EP_A_stop))
    return ep_sm_reply(ep_sm_stop(ep_gsv_atom(A("closed_down"))), ep_gsv_atom(EP_A_ok));
  if (ev->type == EP_SM_INFO)
    ep_send_fmt(l->observer, "{info, ~A, ~t}", ev->state, ev->content);
  if (ev->type == EP_SM_CALL && ep_tuple_arity(ev->content) == 2) {   /* {idle_after, Ms} */
    int64_t ms = 0;
    ep_get_int(ep_tuple_elem(ev->content, 1), &ms);
    return ep_sm_event_timeout(ep_sm_reply(ep_sm_keep(), ep_gsv_atom(EP_A_ok)), (long)ms);
  }
  if (ev->type == EP_SM_TIMEOUT)
    ep_send_fmt(l->observer, "{idle, ~A}", ev->state);
  return ep_sm_keep();
}

static ep_sm_ret locked(const ep_sm_event *ev, void *data) {
  struct lock *l = data;
  int64_t d;
  if (ev->type == EP_SM_CAST && ep_get_int(ev->content, &d) == 0) {
    l->entered = l->entered * 10 + d;
    if (l->entered != l->code)
      return ep_sm_keep();
    l->entered = 0;
    return ep_sm_state_timeout(ep_sm_next(A("open")), l->open_ms, NULL);
  }
  return common(ev, l);
}

static ep_sm_ret open_(const ep_sm_event *ev, void *data) {
  struct lock *l = data;
  if (ev->type == EP_SM_STATE_TIMEOUT) {
    ep_send_fmt(l->observer, "relocked");
    return ep_sm_next(A("locked"));
  }
  if (ev->type == EP_SM_CALL && ep_is_atom(ev->content, A("lock")))
    return ep_sm_reply(ep_sm_next(A("locked")), ep_gsv_atom(EP_A_ok));
  if (ev->type == EP_SM_CAST)
    return ep_sm_keep();                                   /* buttons do nothing */
  return common(ev, l);
}

static ep_sm_ret lock_init(ep_term arg, void **data) {
  struct lock *l = calloc(1, sizeof *l);
  ep_get_int(ep_tuple_elem(arg, 0), &l->code);
  int64_t ms = 0;
  ep_get_int(ep_tuple_elem(arg, 1), &ms);
  l->open_ms = (long)ms;
  ep_get_pid(ep_tuple_elem(arg, 2), &l->observer);
  *data = l;
  return ep_sm_next(A("locked"));
}

static void lock_terminate(ep_term reason, ep_atom state, void *data) {
  struct lock *l = data;
  ep_send_fmt(l->observer, "{terminated, ~A, ~t}", state, reason);
  free(l);
}

static const ep_sm_state states[] = {{"locked", locked}, {"open", open_}, {NULL, NULL}};
static const ep_gen_statem_cb lock_cb = {.init = lock_init, .states = states,
                                         .terminate = lock_terminate};

static ep_pid start_lock(long open_ms) {
  ep_pid p;
  ck_assert_int_eq(ep_gen_statem_start(&lock_cb, T("{123, ~l, ~p}", open_ms, ep_self()), 0, &p, NULL), 0);
  return p;
}

static void press(ep_pid p, const char *digits) {
  for (const char *c = digits; *c; c++)
    ep_gen_statem_cast(ep_srv(p), T("~i", *c - '0'));
}

/* Test that casts drive transitions and a call reads the state (gen_statem). */
OTP_TEST(gen_statem, casts_move_state_calls_reply) {
  ep_pid p = start_lock(100000);
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("state"), 5000), "locked");
  press(p, "12");
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("state"), 5000), "locked");
  press(p, "3");
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("state"), 5000), "open");
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("lock"), 5000), "ok");
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("state"), 5000), "locked");
}

/* Test that a state timeout fires in its state, and is cancelled when the
 * state changes first (gen_statem state_timeout). */
OTP_TEST(gen_statem, state_timeout_fires_and_is_cancelled) {
  ep_pid p = start_lock(20);
  press(p, "123");
  ot_expect("relocked");
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("state"), 5000), "locked");
  ep_pid q = start_lock(200);
  press(q, "123");
  ck_assert_term(ep_gen_statem_call(ep_srv(q), T("lock"), 5000), "ok");
  ep_receive_any(&(ep_term){0}, 400);         /* the cancelled timeout would fire here */
  ck_assert(ot_none("relocked"));
}

/* Test that other messages are info events, and an event timeout comes when
 * nothing else does (gen_statem). */
OTP_TEST(gen_statem, info_and_event_timeout) {
  ep_pid p = start_lock(100000);
  ep_send(p, T("hello"));
  ot_expect("{info, locked, hello}");
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("{idle_after, 10}"), 5000), "ok");
  ot_expect("{idle, locked}");
}

static void call_state(void *pid) {
  ep_smallterm s;
  ep_gen_statem_call(ep_srv(*(ep_pid *)pid), ep_atom_term(&s, A("state")), 5000);
}

/* Test stop from a call: the caller gets its reply, terminate gets reason and
 * state, and later calls exit with {noproc, {gen_statem, call, ...}}. */
OTP_TEST(gen_statem, stop_terminate_and_noproc) {
  ep_pid p = start_lock(100000);
  ck_assert_term(ep_gen_statem_call(ep_srv(p), T("stop"), 5000), "ok");
  ot_expect("{terminated, locked, closed_down}");
  ck_assert_term(ot_down(p), "noproc");
  ck_assert_term(ot_catch(call_state, &p), "{noproc, {gen_statem, call, [~p, state, 5000]}}", p);
}
