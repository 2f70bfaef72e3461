/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_supervisor.c - supervisors (R56-R65) over probe children that
 * report {started, Id, Pid} and {stopped, Id, Reason} to the test.
 */
#include <stdio.h>
#include <string.h>

#include "otp_test.h"
#include "probe.h"

static ep_atom A(const char *s) { return ep_atom_of(s); }

/* arg = {Strategy, Intensity, Period, [{Id, Restart, Shutdown, Type}], Observer} */
static int test_init(ep_term arg, ep_sup_spec *spec) {
  EP_PATTERN(p_arg, "{S::atom, I::int, P::int, Kids, Obs}");
  EP_PATTERN(p_kid, "{Id::atom, R::atom, Sd::int, Ty::atom}");
  ep_atom st;
  int64_t in, pe;
  ep_term kids, obs;
  if (!ep_match(p_arg, arg, &st, &in, &pe, &kids, &obs))
    return EP_IGNORED;
  ep_strategy s = st == A("one_for_all") ? EP_ONE_FOR_ALL
                : st == A("rest_for_one") ? EP_REST_FOR_ONE
                : st == A("simple_one_for_one") ? EP_SIMPLE_ONE_FOR_ONE : EP_ONE_FOR_ONE;
  ep_sup_set_flags(spec, (ep_sup_flags){s, (int)in, (int)pe});
  for (ep_term l = kids; ep_list_head(l); l = ep_list_tail(l)) {
    ep_atom id, r, ty;
    int64_t sd;
    ep_match(p_kid, ep_list_head(l), &id, &r, &sd, &ty);
    ep_term args;                  /* simple_one_for_one: all args come from start_child */
    if (s == EP_SIMPLE_ONE_FOR_ONE)
      ep_format(&args, "[]");
    else
      ep_format(&args, "[~A, ~t]", id, obs);
    ep_child_spec c = {.id = ep_atom_name(id, NULL), .start = probe_child_start, .args = args,
                       .restart = r == A("transient") ? EP_TRANSIENT
                                : r == A("temporary") ? EP_TEMPORARY : EP_PERMANENT,
                       .shutdown = sd, .type = ty == A("supervisor") ? EP_SUPERVISOR : EP_WORKER};
    ep_sup_add_child(spec, &c);
    ep_term_free(args);
  }
  return 0;
}

static int start_sup(const char *strategy, int intensity, int period, const char *kids,
                     ep_pid *pid, ep_term *why) {
  ep_term k;
  ck_assert_int_eq(ep_parse(&k, kids), 0);
  ep_term arg = T("{~a, ~i, ~i, ~t, ~p}", strategy, intensity, period, k, ep_self());
  ep_term_free(k);
  return ep_supervisor_start_link(test_init, arg, 0, pid, why);
}

/* The pid a child reported when it started. */
static ep_pid started(const char *id) {
  char pat[64];
  snprintf(pat, sizeof pat, "{started, %s, _}", id);
  ep_pid p;
  ep_get_pid(ep_tuple_elem(ot_expect(pat), 2), &p);
  return p;
}

static void stopped(const char *id, const char *reason) {
  char pat[96];
  snprintf(pat, sizeof pat, "{stopped, %s, %s}", id, reason);
  ot_expect(pat);
}

/* Kills a (trapping) child from the inside with reason r. */
static void crash(ep_pid child, const char *r) {
  char text[96];
  snprintf(text, sizeof text, "{stop, %s}", r);
  ep_gen_server_cast(ep_srv(child), T(text));
}

/* The next {started|stopped, Id, _} report, as "started a" / "stopped a". */
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

static const char *abc =
  "[{a, permanent, 5000, worker}, {b, permanent, 5000, worker}, {c, permanent, 5000, worker}]";

/* Test that children start one at a time in list order, all before start_link returns (R56). */
OTP_TEST(supervisor, R56_children_start_in_order) {
  ep_pid sup;
  ck_assert_int_eq(start_sup("one_for_one", 1, 5, abc, &sup, NULL), 0);
  ck_assert_str_eq(next_event(), "started a");
  ck_assert_str_eq(next_event(), "started b");
  ck_assert_str_eq(next_event(), "started c");
}

/* Test that init returning ignore makes start_link return EP_IGNORED (R56). */
OTP_TEST(supervisor, R56_init_ignore) {
  ep_trap_exit(true);
  ck_assert_int_eq(ep_supervisor_start_link(test_init, T("ignore_me"), 0, NULL, NULL), EP_IGNORED);
}

/* Test that a child failing to start stops those started, in reverse, and
 * start_link returns {shutdown, {failed_to_start_child, Id, R}} (R56). */
OTP_TEST(supervisor, R56_child_fails_to_start) {
  ep_trap_exit(true);
  ep_term why = NULL;
  int rc = start_sup("one_for_one", 1, 5,
                     "[{a, permanent, 5000, worker}, {b, permanent, 5000, worker},"
                     " {fail, permanent, 5000, worker}, {c, permanent, 5000, worker}]",
                     NULL, &why);
  ck_assert_int_eq(rc, EP_EEXITED);
  ck_assert_term(why, "{shutdown, {failed_to_start_child, fail, nope}}");
  ck_assert_str_eq(next_event(), "started a");
  ck_assert_str_eq(next_event(), "started b");
  ck_assert_str_eq(next_event(), "stopped b");
  ck_assert_str_eq(next_event(), "stopped a");
  ot_expect("{'EXIT', _, {shutdown, {failed_to_start_child, fail, nope}}}");
}

/* Test that init with an invalid child spec makes start_link fail with
 * {start_spec, {invalid_shutdown, -3}} and starts no child, as OTP's
 * supervisor refuses it (checked in erl). */
OTP_TEST(supervisor, R56_invalid_child_spec_refused) {
  ep_trap_exit(true);
  ep_term why = NULL;
  int rc = start_sup("one_for_one", 1, 5,
                     "[{a, permanent, 5000, worker}, {b, permanent, -3, worker}]", NULL, &why);
  ck_assert_int_eq(rc, EP_EEXITED);
  ck_assert_term(why, "{start_spec, {invalid_shutdown, -3}}");
  ck_assert(ot_none("{started, _, _}"));
}

/* Test that start_child with an invalid spec returns its reason
 * ({error, {invalid_shutdown, -3}} in OTP) and starts nothing; brutal
 * kill and infinity stay valid shutdowns. */
OTP_TEST(supervisor, R64_start_child_invalid_spec) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5, "[]", &sup, NULL);
  ep_child_spec c = {.id = "c", .start = probe_child_start, .args = T("[c, ~p]", ep_self())};
  ep_pid p = EP_PID_NONE;
  ep_term why = NULL;
  c.shutdown = -3;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &c, &p, &why), EP_EEXITED);
  ck_assert_term(why, "{invalid_shutdown, -3}");
  c.shutdown = EP_SHUTDOWN_DEFAULT;
  c.restart = (ep_restart)7;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &c, &p, &why), EP_EEXITED);
  ck_assert_term(why, "{invalid_restart_type, 7}");
  c.restart = EP_PERMANENT;
  c.type = (ep_child_type)5;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &c, &p, &why), EP_EEXITED);
  ck_assert_term(why, "{invalid_child_type, 5}");
  c.type = EP_WORKER;
  ep_child_spec nostart = {.id = "n"};
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &nostart, &p, &why), EP_EINVAL);
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), NULL, &p, &why), EP_EINVAL);
  ep_sup_counts n;
  ck_assert_int_eq(ep_supervisor_count_children(ep_srv(sup), &n), 0);
  ck_assert_int_eq(n.specs, 0);
  ck_assert(ot_none("{started, _, _}"));
  c.shutdown = EP_BRUTAL_KILL;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &c, &p, NULL), 0);
  c.id = "d";
  c.shutdown = EP_INFINITY;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &c, &p, NULL), 0);
}

/* Test that permanent children come back even after normal (R59). */
OTP_TEST(supervisor, R59_permanent_restarts_after_normal) {
  ep_pid sup;
  start_sup("one_for_one", 5, 5, "[{a, permanent, 5000, worker}]", &sup, NULL);
  ep_pid a = started("a");
  crash(a, "normal");
  stopped("a", "normal");
  ep_pid a2 = started("a");
  ck_assert(!ep_pid_eq(a, a2));
}

/* Test that transient children are restarted after a crash but not after
 * normal, shutdown or {shutdown, _}, and keep their spec (R59). */
OTP_TEST(supervisor, R59_transient_rules) {
  ep_pid sup;
  start_sup("one_for_one", 5, 5, "[{a, transient, 5000, worker}]", &sup, NULL);
  crash(started("a"), "boom");
  ep_pid a = started("a");
  crash(a, "shutdown");
  stopped("a", "shutdown");
  ot_down(a);
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_term(w, "[{a, undefined, worker, []}]");
  ep_term_free(w);
  ep_pid p;
  ck_assert_int_eq(ep_supervisor_restart_child(ep_srv(sup), "a", &p, NULL), 0);
  crash(started("a"), "{shutdown, done}");
  ot_expect("{stopped, a, {shutdown, done}}");
  ep_sup_counts c;
  ep_supervisor_count_children(ep_srv(sup), &c);
  ck_assert_int_eq(c.specs, 1);
  ck_assert_int_eq(c.active, 0);
}

/* Test that temporary children are never restarted and lose their spec (R59). */
OTP_TEST(supervisor, R59_temporary_deleted) {
  ep_pid sup;
  start_sup("one_for_one", 5, 5, "[{a, temporary, 5000, worker}]", &sup, NULL);
  ep_pid a = started("a");
  crash(a, "boom");
  stopped("a", "boom");
  ot_down(a);
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_term(w, "[]");
  ep_term_free(w);
}

/* Test one_for_all: after b dies, c and a stop (reverse), then a, b, c start (R60). */
OTP_TEST(supervisor, R60_one_for_all_order) {
  ep_pid sup;
  start_sup("one_for_all", 5, 5, abc, &sup, NULL);
  started("a");
  ep_pid b = started("b");
  started("c");
  crash(b, "boom");
  ck_assert_str_eq(next_event(), "stopped b");
  ck_assert_str_eq(next_event(), "stopped c");
  ck_assert_str_eq(next_event(), "stopped a");
  ck_assert_str_eq(next_event(), "started a");
  ck_assert_str_eq(next_event(), "started b");
  ck_assert_str_eq(next_event(), "started c");
}

/* Test rest_for_one: after b dies, c stops, then b and c start (R60). */
OTP_TEST(supervisor, R60_rest_for_one_order) {
  ep_pid sup;
  start_sup("rest_for_one", 5, 5, abc, &sup, NULL);
  started("a");
  ep_pid b = started("b");
  started("c");
  crash(b, "boom");
  ck_assert_str_eq(next_event(), "stopped b");
  ck_assert_str_eq(next_event(), "stopped c");
  ck_assert_str_eq(next_event(), "started b");
  ck_assert_str_eq(next_event(), "started c");
  ck_assert(ot_none("{_, a, _}"));
}

/* Test that temporary siblings stopped by a one_for_all restart are not restarted (R60). */
OTP_TEST(supervisor, R60_temporary_sibling_dropped) {
  ep_pid sup;
  start_sup("one_for_all", 5, 5,
            "[{a, permanent, 5000, worker}, {t, temporary, 5000, worker}]", &sup, NULL);
  ep_pid a = started("a");
  started("t");
  crash(a, "boom");
  ck_assert_str_eq(next_event(), "stopped a");
  ck_assert_str_eq(next_event(), "stopped t");
  ck_assert_str_eq(next_event(), "started a");
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_int_eq(ep_list_length(w), 1);
  ep_term_free(w);
}

/* Test that the 3rd crash within the period of intensity 2 shuts the
 * supervisor down: children stop in reverse and it exits shutdown (R61). */
OTP_TEST(supervisor, R61_intensity_exceeded_shuts_down) {
  ep_trap_exit(true);
  ep_pid sup;
  start_sup("one_for_one", 2, 5,
            "[{a, permanent, 5000, worker}, {b, permanent, 5000, worker}]", &sup, NULL);
  started("a");
  ep_pid b = started("b");
  crash(b, "boom");
  crash(started("b"), "boom");
  crash(started("b"), "boom");
  stopped("b", "boom");
  stopped("b", "boom");
  stopped("b", "boom");
  stopped("a", "shutdown");
  ot_expect("{'EXIT', _, shutdown}");
  ck_assert(!ep_is_alive(sup));
}

/* Test that with intensity 0 the first crash that needs a restart shuts down (R61). */
OTP_TEST(supervisor, R61_intensity_zero) {
  ep_trap_exit(true);
  ep_pid sup;
  start_sup("one_for_one", 0, 5, "[{a, permanent, 5000, worker}]", &sup, NULL);
  crash(started("a"), "boom");
  ot_expect("{'EXIT', _, shutdown}");
}

/* Starts a supervisor with one child, terminates that child and checks that
 * it was killed without running terminate. */
static void terminate_kills(const char *kids, const char *id) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5, kids, &sup, NULL);
  ep_ref m = ep_monitor(started(id));
  (void)m;
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), id), 0);
  ot_expect("{'DOWN', _, process, _, killed}");
  char pat[64];
  snprintf(pat, sizeof pat, "{stopped, %s, _}", id);
  ck_assert(ot_none(pat));
}

/* Test that brutal_kill kills the child without terminate (R62). */
OTP_TEST(supervisor, R62_brutal_kill) {
  terminate_kills("[{a, permanent, -2, worker}]", "a");
}

/* Test that a trapping child runs terminate(shutdown) within its time, and is
 * killed when it takes longer (R62). */
OTP_TEST(supervisor, R62_shutdown_then_kill) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5,
            "[{a, permanent, 1000, worker}, {slow, permanent, 50, worker}]", &sup, NULL);
  started("a");
  ep_pid slow = started("slow");
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "a"), 0);
  stopped("a", "shutdown");
  ep_ref m = ep_monitor(slow);
  (void)m;
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "slow"), 0);
  ot_expect("{'DOWN', _, process, _, killed}");
  ck_assert(ot_none("{stopped, slow, _}"));
}

/* Test that shutdown => 0 (EP_SHUTDOWN_ZERO) sends shutdown and kills at
 * once: the slow child, which would finish its 2 s terminate within the
 * default 5000 ms, is killed instead (R62). */
OTP_TEST(supervisor, R62_shutdown_zero_kills_at_once) {
  terminate_kills("[{slow, permanent, -4, worker}]", "slow");
}

/* Test get_childspec (R64): each child's spec as held, the default shutdown
 * resolved by type (5000 for a worker, infinity for a supervisor), the
 * others as given; not_found for an unknown id and for a static child's pid
 * (checked in erl). */
OTP_TEST(supervisor, R64_get_childspec) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5,
            "[{w, transient, 0, worker}, {s, temporary, 0, supervisor}, {z, permanent, -4, worker},"
            " {b, permanent, -2, worker}, {t, permanent, 250, worker}]",
            &sup, NULL);
  ep_pid w = started("w");
  const struct { const char *id; long shutdown; } want[] = {
    {"w", 5000}, {"s", EP_INFINITY}, {"z", EP_SHUTDOWN_ZERO}, {"b", EP_BRUTAL_KILL}, {"t", 250}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    ep_child_spec c;
    ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), want[i].id, &c), 0);
    ck_assert_str_eq(c.id, want[i].id);
    ck_assert_int_eq(c.shutdown, want[i].shutdown);
    ck_assert(c.start == probe_child_start);
    ck_assert_term(c.args, "[~a, ~p]", want[i].id, ep_self());
    ep_term_free(c.args);
  }
  ep_child_spec c;
  ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), "w", &c), 0);
  ck_assert_int_eq(c.restart, EP_TRANSIENT);
  ck_assert_int_eq(c.type, EP_WORKER);
  ep_term_free(c.args);
  ck_assert_int_eq(ep_supervisor_get_childspec_pid(ep_srv(sup), w, &c), EP_ENOTFOUND);
  ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), "s", &c), 0);
  ck_assert_int_eq(c.restart, EP_TEMPORARY);
  ck_assert_int_eq(c.type, EP_SUPERVISOR);
  ep_term_free(c.args);
  ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), "nope", &c), EP_ENOTFOUND);
  ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), NULL, &c), EP_EINVAL);
}

/* A nested supervisor with children x, y, reporting to the same observer. */
static int subsup_start(ep_term args, ep_pid *pid, ep_term *why) {
  ep_term arg;
  ep_format(&arg, "{one_for_one, 1, 5, [{x, permanent, 5000, worker}, {y, permanent, 5000, worker}], ~t}",
            ep_list_head(args));
  int rc = ep_supervisor_start_link(test_init, arg, 0, pid, why);
  ep_term_free(arg);
  return rc;
}

/* Test that a supervisor stops its tree in reverse start order, nested
 * subtrees included: a, sub(x, y), b stops b, y, x, a (R63). */
OTP_TEST(supervisor, R63_stop_order_nested) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5, "[{a, permanent, 5000, worker}]", &sup, NULL);
  ep_child_spec sub = {.id = "sub", .start = subsup_start, .args = T("[~p]", ep_self()),
                       .type = EP_SUPERVISOR};
  ep_pid p;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &sub, &p, NULL), 0);
  ep_child_spec b = {.id = "b", .start = probe_child_start, .args = T("[b, ~p]", ep_self())};
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &b, &p, NULL), 0);
  for (int i = 0; i < 4; i++)
    next_event();                               /* started a, x, y, b */
  ck_assert_int_eq(ep_supervisor_stop(ep_srv(sup)), 0);
  ck_assert_str_eq(next_event(), "stopped b");
  ck_assert_str_eq(next_event(), "stopped y");
  ck_assert_str_eq(next_event(), "stopped x");
  ck_assert_str_eq(next_event(), "stopped a");
  ck_assert(!ep_is_alive(sup));
}

/* Test that the parent's exit(Sup, shutdown) makes the supervisor stop its
 * children and exit shutdown (R63). */
OTP_TEST(supervisor, R63_parent_shutdown) {
  ep_trap_exit(true);
  ep_pid sup;
  start_sup("one_for_one", 1, 5, abc, &sup, NULL);
  ep_exit_signal_atom(sup, EP_A_shutdown);
  ot_expect("{'EXIT', _, shutdown}");
  ck_assert_str_eq(next_event(), "started a");
  ck_assert_str_eq(next_event(), "started b");
  ck_assert_str_eq(next_event(), "started c");
  ck_assert_str_eq(next_event(), "stopped c");
  ck_assert_str_eq(next_event(), "stopped b");
  ck_assert_str_eq(next_event(), "stopped a");
}

/* Test start_child / terminate_child / restart_child / delete_child and their
 * error returns (R64). */
OTP_TEST(supervisor, R64_child_api) {
  ep_pid sup, p, q;
  start_sup("one_for_one", 1, 5, "[]", &sup, NULL);
  ep_child_spec a = {.id = "a", .start = probe_child_start, .args = T("[a, ~p]", ep_self())};
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &a, &p, NULL), 0);
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &a, &q, NULL), EP_EEXIST);
  ck_assert(ep_pid_eq(p, q));                               /* already_started */
  ck_assert_int_eq(ep_supervisor_delete_child(ep_srv(sup), "a"), EP_EBUSY);
  ck_assert_int_eq(ep_supervisor_restart_child(ep_srv(sup), "a", &q, NULL), EP_EBUSY);
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "a"), 0);
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &a, &q, NULL), EP_EEXIST);
  ck_assert(ep_pid_eq(q, EP_PID_NONE));                     /* already_present */
  ck_assert_int_eq(ep_supervisor_restart_child(ep_srv(sup), "a", &q, NULL), 0);
  ck_assert(ep_is_alive(q));
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "a"), 0);
  ck_assert_int_eq(ep_supervisor_delete_child(ep_srv(sup), "a"), 0);
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "a"), EP_ENOTFOUND);
  ck_assert_int_eq(ep_supervisor_restart_child(ep_srv(sup), "a", &q, NULL), EP_ENOTFOUND);
  ck_assert_int_eq(ep_supervisor_delete_child(ep_srv(sup), "a"), EP_ENOTFOUND);
  ep_child_spec f = {.id = "fail", .start = probe_child_start, .args = T("[fail, ~p]", ep_self())};
  ep_term why;
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &f, &q, &why), EP_EEXITED);
  ck_assert_term(why, "nope");
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_term(w, "[]");                                  /* failed spec discarded */
  ep_term_free(w);
}

/* Test which_children (most recent first) and count_children (R64). */
OTP_TEST(supervisor, R64_which_and_count) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5,
            "[{a, permanent, 5000, worker}, {s, permanent, 5000, supervisor}]", &sup, NULL);
  ep_pid a = started("a"), s = started("s");
  ep_supervisor_terminate_child(ep_srv(sup), "a");
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_term(w, "[{s, ~p, supervisor, []}, {a, undefined, worker, []}]", s);
  ep_term_free(w);
  (void)a;
  ep_sup_counts c;
  ck_assert_int_eq(ep_supervisor_count_children(ep_srv(sup), &c), 0);
  ck_assert_int_eq(c.specs, 2);
  ck_assert_int_eq(c.active, 1);
  ck_assert_int_eq(c.supervisors, 1);
  ck_assert_int_eq(c.workers, 1);
}

static int sofo_start(const char *restart, ep_pid *sup) {
  char kids[96];
  snprintf(kids, sizeof kids, "[{w, %s, 5000, worker}]", restart);
  return start_sup("simple_one_for_one", 5, 5, kids, sup, NULL);
}

/* Test simple_one_for_one: no child at init, start_child appends its args,
 * ids are undefined, by-id operations are refused, get_childspec gives the
 * template by its id or a child's pid (R65). */
OTP_TEST(supervisor, R65_simple_one_for_one_basics) {
  ep_pid sup, p1, p2;
  ck_assert_int_eq(sofo_start("temporary", &sup), 0);
  ck_assert(ot_none("{started, _, _}"));
  ck_assert_int_eq(ep_supervisor_start_child_args(ep_srv(sup), T("[one, ~p]", ep_self()), &p1, NULL), 0);
  ck_assert(ep_pid_eq(started("one"), p1));
  ck_assert_int_eq(ep_supervisor_start_child_args(ep_srv(sup), T("[two, ~p]", ep_self()), &p2, NULL), 0);
  started("two");
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_int_eq(ep_list_length(w), 2);
  ck_assert(ot_is(ep_tuple_elem(ep_list_head(w), 0), "undefined"));
  ep_term_free(w);
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "w"), EP_EINVAL);
  ck_assert_int_eq(ep_supervisor_delete_child(ep_srv(sup), "w"), EP_EINVAL);
  ck_assert_int_eq(ep_supervisor_restart_child(ep_srv(sup), "w", &p1, NULL), EP_EINVAL);
  ep_child_spec spec;                             /* the template, by its id or a child */
  ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), "w", &spec), 0);
  ck_assert_str_eq(spec.id, "w");
  ck_assert_int_eq(spec.restart, EP_TEMPORARY);
  ck_assert_int_eq(spec.shutdown, 5000);
  ck_assert_term(spec.args, "[]");
  ep_term_free(spec.args);
  ck_assert_int_eq(ep_supervisor_get_childspec_pid(ep_srv(sup), p2, &spec), 0);
  ck_assert_str_eq(spec.id, "w");
  ep_term_free(spec.args);
  ck_assert_int_eq(ep_supervisor_get_childspec(ep_srv(sup), "other", &spec), EP_ENOTFOUND);
  ck_assert_int_eq(ep_supervisor_get_childspec_pid(ep_srv(sup), ep_self(), &spec), EP_ENOTFOUND);
  ck_assert_int_eq(ep_supervisor_terminate_child_pid(ep_srv(sup), p2), 0);
  stopped("two", "shutdown");
  ck_assert_int_eq(ep_supervisor_terminate_child_pid(ep_srv(sup), p2), EP_ENOTFOUND);
  crash(p1, "boom");                              /* temporary: gone for good */
  stopped("one", "boom");
  ot_down(p1);
  ep_sup_counts c;
  ep_supervisor_count_children(ep_srv(sup), &c);
  ck_assert_int_eq(c.active, 0);
}

/* Test that permanent simple_one_for_one children restart with the same args,
 * and all stop when the supervisor does (R65). */
OTP_TEST(supervisor, R65_permanent_restart_same_args) {
  ep_pid sup, p;
  sofo_start("permanent", &sup);
  ep_supervisor_start_child_args(ep_srv(sup), T("[k, ~p]", ep_self()), &p, NULL);
  started("k");
  crash(p, "boom");
  stopped("k", "boom");
  ep_pid p2 = started("k");
  ck_assert(!ep_pid_eq(p, p2));
  ep_supervisor_start_child_args(ep_srv(sup), T("[m, ~p]", ep_self()), &p, NULL);
  started("m");
  ep_supervisor_stop(ep_srv(sup));
  ot_expect("{stopped, k, shutdown}");
  ot_expect("{stopped, m, shutdown}");
}

static int default_flags_init(ep_term arg, ep_sup_spec *spec) {
  ep_term a;
  ep_format(&a, "[a, ~t]", arg);
  ep_child_spec c = {.id = "a", .start = probe_child_start, .args = a};
  ep_sup_add_child(spec, &c);
  ep_term_free(a);
  return 0;
}

/* Test the default flags: one_for_one, intensity 1, period 5 - the second
 * crash within 5 s shuts the supervisor down (R57). */
OTP_TEST(supervisor, R57_default_flags) {
  ep_trap_exit(true);
  ep_pid sup;
  ck_assert_int_eq(ep_supervisor_start_link(default_flags_init, T("~p", ep_self()), 0, &sup, NULL), 0);
  crash(started("a"), "boom");
  crash(started("a"), "boom");
  ot_expect("{'EXIT', _, shutdown}");
}

static int ignoring_start(ep_term args, ep_pid *pid, ep_term *reason) {
  (void)args;
  (void)pid;
  (void)reason;
  return EP_IGNORED;
}

/* Test that a start function returning ignore keeps the spec with pid
 * undefined, except for temporary children (R58), and that start_child
 * then gives {ok, undefined} (R64). */
OTP_TEST(supervisor, R58_ignore_keeps_spec) {
  ep_pid sup, p = ep_self();
  start_sup("one_for_one", 1, 5, "[]", &sup, NULL);
  ep_child_spec kept = {.id = "kept", .start = ignoring_start};
  ep_child_spec gone = {.id = "gone", .start = ignoring_start, .restart = EP_TEMPORARY};
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &kept, &p, NULL), 0);
  ck_assert(ep_pid_eq(p, EP_PID_NONE));
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &gone, &p, NULL), 0);
  ep_term w = ep_supervisor_which_children(ep_srv(sup));
  ck_assert_term(w, "[{kept, undefined, worker, []}]");
  ep_term_free(w);
  ep_supervisor_stop(ep_srv(sup));
}

/* Test that shutdown infinity waits for a slow child's terminate (R62). */
OTP_TEST(supervisor, R62_infinity_waits) {
  ep_pid sup;
  start_sup("one_for_one", 1, 5, "[{slow, permanent, -1, worker}]", &sup, NULL);
  started("slow");
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "slow"), 0);
  ck_assert(!ot_none("{stopped, slow, shutdown}"));     /* already there: it was waited for */
  ep_supervisor_stop(ep_srv(sup));
}

static _Atomic int flaky_starts;

/* Starts a probe the first time only; later starts fail with {error, flaky}. */
static int flaky_start(ep_term args, ep_pid *pid, ep_term *reason) {
  if (flaky_starts++ == 0)
    return probe_child_start(args, pid, reason);
  static ep_smallterm s;
  if (reason)
    *reason = ep_atom_term(&s, ep_atom_of("flaky"));
  return EP_EINVAL;
}

/* Test that a restart that fails is retried, each retry counting as a
 * restart, until the intensity is reached and the supervisor shuts down (R61). */
OTP_TEST(supervisor, R61_failing_restart_retried_until_intensity) {
  ep_trap_exit(true);
  ep_pid sup, p;
  start_sup("one_for_one", 3, 5, "[]", &sup, NULL);
  ep_child_spec c = {.id = "flaky", .start = flaky_start, .args = T("[flaky, ~p]", ep_self())};
  ck_assert_int_eq(ep_supervisor_start_child(ep_srv(sup), &c, &p, NULL), 0);
  started("flaky");
  crash(p, "boom");
  ot_expect("{'EXIT', _, shutdown}");      /* 1 restart + 3 retries > intensity 3 */
  ck_assert_int_ge(flaky_starts, 4);
}

/* Test that restart_child reports a start function's failure (R64). */
OTP_TEST(supervisor, R64_restart_child_start_fails) {
  ep_pid sup, p;
  start_sup("one_for_one", 3, 5, "[]", &sup, NULL);
  ep_child_spec c = {.id = "flaky", .start = flaky_start, .args = T("[flaky, ~p]", ep_self()),
                     .restart = EP_TRANSIENT};
  ep_supervisor_start_child(ep_srv(sup), &c, &p, NULL);
  ck_assert_int_eq(ep_supervisor_terminate_child(ep_srv(sup), "flaky"), 0);
  ep_term why;
  ck_assert_int_eq(ep_supervisor_restart_child(ep_srv(sup), "flaky", &p, &why), EP_EEXITED);
  ck_assert_term(why, "flaky");
  ep_supervisor_stop(ep_srv(sup));
}
