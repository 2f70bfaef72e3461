/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_application.c - applications: a top supervisor started and stopped
 * as a unit, several in order, a failing start undoing the others, an
 * application ending with its top supervisor, and ppool as an application.
 */
#include <stdio.h>

#include "otp_test.h"
#include "probe.h"

/* Top supervisor: one_for_one, intensity 0, children named by args = [Obs, Id...]. */
static int top_init(ep_term arg, ep_sup_spec *spec) {
  ep_sup_set_flags(spec, (ep_sup_flags){EP_ONE_FOR_ONE, 0, 5});
  ep_term obs = ep_list_head(arg);
  for (ep_term l = ep_list_tail(arg); ep_list_head(l); l = ep_list_tail(l)) {
    ep_atom id;
    ep_get_atom(ep_list_head(l), &id);
    ep_term a;
    ep_format(&a, "[~A, ~t]", id, obs);
    ep_child_spec c = {.id = ep_atom_name(id, NULL), .start = probe_child_start, .args = a};
    ep_sup_add_child(spec, &c);
    ep_term_free(a);
  }
  return 0;
}

static int top_start(ep_term args, ep_pid *pid, ep_term *reason) {
  return ep_supervisor_start_link(top_init, args, 0, pid, reason);
}

static const char *next_event(void) {
  EP_PATTERN(p, "{E::atom, Id::atom, _}");
  static char buf[8][64];
  static int n;
  ck_assert_int_eq(ep_receive(5000, p), 0);
  ep_atom e, id;
  ep_bind(&e, &id);
  char *b = buf[n++ % 8];
  snprintf(b, 64, "%s %s", ep_atom_name(e, NULL), ep_atom_name(id, NULL));
  return b;
}

/* Test that an application starts its tree, stops it in reverse order, and
 * that stopping leaves the caller alive. */
OTP_TEST(application, start_stop_whole_tree) {
  ep_application app = {"shop", top_start, T("[~p, a, b]", ep_self())};
  ck_assert_int_eq(ep_application_start(&app, NULL), 0);
  ck_assert(ep_application_running("shop"));
  ck_assert_int_eq(ep_application_start(&app, NULL), EP_EEXIST);
  ck_assert(!ep_pid_eq(ep_application_top("shop"), EP_PID_NONE));
  ck_assert_str_eq(next_event(), "started a");
  ck_assert_str_eq(next_event(), "started b");
  ck_assert_int_eq(ep_application_stop("shop"), 0);
  ck_assert_str_eq(next_event(), "stopped b");
  ck_assert_str_eq(next_event(), "stopped a");
  ck_assert(!ep_application_running("shop"));
  ck_assert_int_eq(ep_application_stop("shop"), EP_ENOTFOUND);
}

/* Test that applications start in order, stop in reverse, and that a
 * failing start stops those already started. */
OTP_TEST(application, start_all_in_order_undo_on_failure) {
  ep_application a = {"first", top_start, T("[~p, x]", ep_self())};
  ep_application b = {"second", top_start, T("[~p, y]", ep_self())};
  ep_application bad = {"third", top_start, T("[~p, fail]", ep_self())};
  const ep_application *ok[2] = {&a, &b};
  ck_assert_int_eq(ep_application_start_all(ok, 2, NULL), 0);
  ck_assert_str_eq(next_event(), "started x");
  ck_assert_str_eq(next_event(), "started y");
  ep_application_stop_all(ok, 2);
  ck_assert_str_eq(next_event(), "stopped y");
  ck_assert_str_eq(next_event(), "stopped x");
  const ep_application *three[3] = {&a, &b, &bad};
  ep_term why;
  ck_assert_int_eq(ep_application_start_all(three, 3, &why), EP_EEXITED);
  ck_assert_term(why, "{shutdown, {failed_to_start_child, fail, nope}}");
  ep_term_free(why);
  ck_assert_str_eq(next_event(), "started x");
  ck_assert_str_eq(next_event(), "started y");
  ck_assert_str_eq(next_event(), "stopped y");
  ck_assert_str_eq(next_event(), "stopped x");
  ck_assert(!ep_application_running("first"));
}

/* Test that an application ends when its top supervisor gives up (R61). */
OTP_TEST(application, ends_with_its_top_supervisor) {
  ep_application app = {"brittle", top_start, T("[~p, w]", ep_self())};
  ep_application_start(&app, NULL);
  ep_term m = ot_expect("{started, w, _}");
  ep_pid w;
  ep_get_pid(ep_tuple_elem(m, 2), &w);
  ep_ref r = ep_monitor(ep_whereis(ep_atom_of("$app:brittle")));
  (void)r;
  ep_gen_server_cast(ep_srv(w), T("{stop, boom}"));
  ot_expect("{'DOWN', _, process, _, shutdown}");
  ck_assert(!ep_application_running("brittle"));
}

/* Test ppool packaged as an application (seed 001's next chapter). */
OTP_TEST(application, ppool_as_application) {
  ck_assert_int_eq(ep_application_start(&ep_ppool_app, NULL), 0);
  ep_pid pool;
  ck_assert_int_eq(ep_ppool_start_pool(ep_atom_of("nagger"), 1, ep_ppool_nagger_start_link, NULL, &pool), 0);
  ep_pid w;
  ck_assert_int_eq(ep_ppool_run(ep_atom_of("nagger"), T("[\"app\", 10, 1, ~p]", ep_self()), &w), 0);
  ot_expect("{_, \"app\"}");
  ck_assert_int_eq(ep_application_stop("ppool"), 0);
  ck_assert(ep_pid_eq(ep_whereis(ep_atom_of("ppool")), EP_PID_NONE));
  ck_assert(ep_pid_eq(ep_whereis(ep_atom_of("nagger")), EP_PID_NONE));
}
