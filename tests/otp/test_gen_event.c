/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_gen_event.c - event managers: handlers added and deleted, notify and
 * sync_notify in handler order, calls to one handler, and a crashing
 * handler removed while the manager carries on.
 */
#include <stdlib.h>

#include "otp_test.h"

struct rec { ep_pid observer; ep_atom tag; long count; };

/* arg = {Tag, Observer}; events are reported as {Tag, Event}; the event
 * crash crashes the handler, leave asks to be removed. */
static int rec_init(ep_term arg, void **state) {
  struct rec *r = calloc(1, sizeof *r);
  ep_get_atom(ep_tuple_elem(arg, 0), &r->tag);
  ep_get_pid(ep_tuple_elem(arg, 1), &r->observer);
  if (r->tag == ep_atom_of("refuse")) {
    free(r);
    return EP_EINVAL;
  }
  *state = r;
  return 0;
}

static int rec_event(ep_term ev, void *state) {
  struct rec *r = state;
  if (ep_is_atom(ev, ep_atom_of("crash")) && r->tag == ep_atom_of("fragile")) {
    ep_smallterm s;
    ep_error(ep_atom_term(&s, ep_atom_of("handler_boom")));
  }
  r->count++;
  ep_send_fmt(r->observer, "{~A, ~t}", r->tag, ev);
  return ep_is_atom(ev, ep_atom_of("leave")) ? EP_GE_REMOVE : 0;
}

static int rec_call(ep_term req, void *state, ep_build *reply) {
  (void)req;
  struct rec *r = state;
  ep_b_int(reply, r->count);
  return 0;
}

static void rec_terminate(ep_term reason, void *state) {
  struct rec *r = state;
  ep_send_fmt(r->observer, "{terminate, ~A, ~t}", r->tag, reason);
  free(r);
}

static const ep_gen_event_handler h1 = {"h1", rec_init, rec_event, rec_call, rec_terminate};
static const ep_gen_event_handler h2 = {"h2", rec_init, rec_event, rec_call, rec_terminate};

static ep_pid manager(void) {
  ep_pid m;
  ck_assert_int_eq(ep_gen_event_start_link(0, &m), 0);
  return m;
}

/* Test that events reach every handler in the order they were added, and
 * that sync_notify returns after they were handled (gen_event). */
OTP_TEST(gen_event, notify_in_handler_order) {
  ep_pid m = manager();
  ck_assert_int_eq(ep_gen_event_add_handler(ep_srv(m), &h1, T("{first, ~p}", ep_self())), 0);
  ck_assert_int_eq(ep_gen_event_add_handler(ep_srv(m), &h2, T("{second, ~p}", ep_self())), 0);
  ck_assert_int_eq(ep_gen_event_add_handler(ep_srv(m), &h1, T("{again, ~p}", ep_self())), EP_EEXIST);
  ep_gen_event_notify(ep_srv(m), T("e1"));
  ot_expect("{first, e1}");
  ot_expect("{second, e1}");
  ep_gen_event_sync_notify(ep_srv(m), T("e2"));
  ck_assert(!ot_none("{first, e2}"));
  ck_assert(!ot_none("{second, e2}"));
  ep_term w = ep_gen_event_which_handlers(ep_srv(m));
  ck_assert_term(w, "[h1, h2]");
  ep_term_free(w);
}

/* Test that a NULL event or request is refused with EP_EINVAL and reaches
 * no handler; the manager carries on. */
OTP_TEST(gen_event, null_event_or_request_is_refused) {
  ep_pid m = manager();
  ck_assert_int_eq(ep_gen_event_add_handler(ep_srv(m), &h1, T("{first, ~p}", ep_self())), 0);
  ck_assert_int_eq(ep_gen_event_notify(ep_srv(m), NULL), EP_EINVAL);
  ck_assert_int_eq(ep_gen_event_sync_notify(ep_srv(m), NULL), EP_EINVAL);
  ep_term reply = T("unset");
  ck_assert_int_eq(ep_gen_event_call(ep_srv(m), &h1, NULL, 5000, &reply), EP_EINVAL);
  ck_assert_ptr_null(reply);
  ck_assert_int_eq(ep_gen_event_sync_notify(ep_srv(m), T("e1")), 0);
  ot_expect("{first, e1}");
  ck_assert(ot_none("_"));
}

static ep_server dead_mgr;
static void add_dead(void *c) { (void)c; ep_gen_event_add_handler(dead_mgr, &h1, T("x")); }
static void delete_dead(void *c) { (void)c; ep_gen_event_delete_handler(dead_mgr, &h1, T("x")); }
static void sync_dead(void *c) { (void)c; ep_gen_event_sync_notify(dead_mgr, T("e")); }
static void which_dead(void *c) { (void)c; ep_gen_event_which_handlers(dead_mgr); }
static void call_dead(void *c) { (void)c; ep_gen_event_call(dead_mgr, &h1, T("q"), 100, NULL); }

/* Test that calls to a manager that is gone exit the caller as OTP's
 * gen_event does (checked in erl): add_handler, delete_handler,
 * sync_notify and which_handlers with the bare noproc; call with
 * {noproc, {gen_event, call, [Mgr, Handler, Query, Timeout]}}. */
OTP_TEST(gen_event, calls_to_a_dead_manager_exit_as_otp) {
  ep_pid m = manager();
  ep_unlink(m);
  ep_gen_event_stop(ep_srv(m));
  dead_mgr = ep_srv(m);
  ck_assert_term(ot_catch(add_dead, NULL), "noproc");
  ck_assert_term(ot_catch(delete_dead, NULL), "noproc");
  ck_assert_term(ot_catch(sync_dead, NULL), "noproc");
  ck_assert_term(ot_catch(which_dead, NULL), "noproc");
  ck_assert_term(ot_catch(call_dead, NULL), "{noproc, {gen_event, call, [~p, h1, q, 100]}}", m);
  dead_mgr = ep_srv_name(ep_atom_of("no_such_manager"));
  ck_assert_term(ot_catch(call_dead, NULL), "{noproc, {gen_event, call, [no_such_manager, h1, q, 100]}}");
}

/* Test that a handler crashing is removed with terminate({error, R}) and the
 * manager and the other handlers carry on (gen_event). */
OTP_TEST(gen_event, crashing_handler_removed) {
  ep_pid m = manager();
  ep_gen_event_add_handler(ep_srv(m), &h1, T("{fragile, ~p}", ep_self()));
  ep_gen_event_add_handler(ep_srv(m), &h2, T("{sturdy, ~p}", ep_self()));
  ep_gen_event_sync_notify(ep_srv(m), T("crash"));
  ot_expect("{terminate, fragile, {error, {handler_boom, _}}}");
  ot_expect("{sturdy, crash}");
  ep_gen_event_sync_notify(ep_srv(m), T("later"));
  ot_expect("{sturdy, later}");
  ck_assert(ot_none("{fragile, _}"));
  ck_assert(ep_is_alive(m));
  ep_term w = ep_gen_event_which_handlers(ep_srv(m));
  ck_assert_term(w, "[h2]");
  ep_term_free(w);
}

/* Test delete_handler (terminate gets its arg), removal on request, a
 * refused init, and calls to one handler (gen_event). */
OTP_TEST(gen_event, delete_remove_and_call) {
  ep_pid m = manager();
  ck_assert_int_eq(ep_gen_event_add_handler(ep_srv(m), &h1, T("{refuse, ~p}", ep_self())), EP_EINVAL);
  ep_gen_event_add_handler(ep_srv(m), &h1, T("{a, ~p}", ep_self()));
  ep_gen_event_add_handler(ep_srv(m), &h2, T("{b, ~p}", ep_self()));
  ep_gen_event_sync_notify(ep_srv(m), T("x"));
  ep_term reply;
  ck_assert_int_eq(ep_gen_event_call(ep_srv(m), &h1, T("count"), 5000, &reply), 0);
  ck_assert_term(reply, "1");
  ck_assert_int_eq(ep_gen_event_delete_handler(ep_srv(m), &h1, T("bye")), 0);
  ot_expect("{terminate, a, bye}");
  ck_assert_int_eq(ep_gen_event_delete_handler(ep_srv(m), &h1, T("bye")), EP_ENOTFOUND);
  ck_assert_int_eq(ep_gen_event_call(ep_srv(m), &h1, T("count"), 5000, &reply), EP_ENOTFOUND);
  ep_gen_event_sync_notify(ep_srv(m), T("leave"));
  ot_expect("{terminate, b, remove_handler}");
  ep_term w = ep_gen_event_which_handlers(ep_srv(m));
  ck_assert_term(w, "[]");
  ep_term_free(w);
  ck_assert_int_eq(ep_gen_event_stop(ep_srv(m)), 0);
}

/* Test that stopping the manager terminates the handlers with its reason. */
OTP_TEST(gen_event, stop_terminates_handlers) {
  ep_pid m;
  ep_gen_event_start(0, &m);
  ep_gen_event_add_handler(ep_srv(m), &h1, T("{a, ~p}", ep_self()));
  ck_assert_int_eq(ep_gen_event_stop(ep_srv(m)), 0);
  ot_expect("{terminate, a, normal}");
}
