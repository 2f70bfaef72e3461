/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_gen_server.c - gen_server (R46-R55) through the probe server.
 */
#include <stdlib.h>

#include "otp_test.h"
#include "probe.h"

static ep_atom A(const char *s) { return ep_atom_of(s); }

/* Test that start_link returns only after init, with a live, linked server (R46). */
OTP_TEST(gen_server, R46_start_link_ok_returns_pid) {
  ep_pid pid;
  ck_assert_int_eq(probe_start_link("ok", &pid, NULL), 0);
  ck_assert(ep_is_alive(pid));
  ep_term reply;
  ck_assert_ptr_null(ot_call(ep_srv(pid), T("ping"), 5000, &reply));
  ck_assert_term(reply, "pong");
  ep_term links = ep_process_info(ep_self(), EP_A_links);
  ck_assert_term(links, "{links, [~p]}", pid);
  ep_term_free(links);
}

/* Test that init returning ignore gives EP_IGNORED and a server that exits normal (R46). */
OTP_TEST(gen_server, R46_init_ignore_returns_ignored) {
  ep_trap_exit(true);
  ep_pid pid = EP_PID_NONE;
  ck_assert_int_eq(probe_start_link("ignore", &pid, NULL), EP_IGNORED);
  ep_term m = ot_expect("{'EXIT', _, _}");
  ck_assert(ot_is(ep_tuple_elem(m, 2), "normal"));
}

/* Test that init returning {stop, R} gives {error, R} and the linked caller gets exit R (R46). */
OTP_TEST(gen_server, R46_init_stop_returns_reason_and_exit_signal) {
  ep_trap_exit(true);
  ep_term why = NULL;
  ck_assert_int_eq(probe_start_link("{stop, no_way}", NULL, &why), EP_EEXITED);
  ck_assert_term(why, "no_way");
  ep_term m = ot_expect("{'EXIT', _, no_way}");
  ck_assert_ptr_nonnull(m);
}

/* Test that a crashing init gives the crash reason {E, Stack} (R46). */
OTP_TEST(gen_server, R46_init_crash_returns_error) {
  ep_term why = NULL;
  ck_assert_int_eq(probe_start("crash", 0, NULL, &why), EP_EEXITED);
  ck_assert_int_eq(ep_tuple_arity(why), 2);
  ck_assert(ot_is(ep_tuple_elem(why, 0), "boom"));
}

/* Test that a taken name gives {already_started, Pid} and leaves no new server (R46). */
OTP_TEST(gen_server, R46_name_taken_already_started) {
  ep_pid first, other = EP_PID_NONE;
  ck_assert_int_eq(probe_start("ok", A("srv"), &first, NULL), 0);
  long before = ep_process_count();
  ck_assert_int_eq(probe_start("ok", A("srv"), &other, NULL), EP_EEXIST);
  ck_assert(ep_pid_eq(other, first));
  for (int i = 0; i < 100000 && ep_process_count() > before; i++)
    ep_yield();                                 /* a refused spawn may take a moment to go */
  ck_assert_int_eq(ep_process_count(), before);
  ck_assert(ot_none("{'DOWN', _, _, _, _}"));
  ck_assert(ep_pid_eq(ep_whereis(A("srv")), first));
  ep_term reply;
  ck_assert_ptr_null(ot_call(ep_srv_name(A("srv")), T("ping"), 5000, &reply));
  ck_assert_term(reply, "pong");
}

/* Test that call returns handle_call's reply, and state carries over (R47). */
OTP_TEST(gen_server, R47_call_returns_reply) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{add, 2}")), "2");
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{add, 40}")), "42");
}

/* Test that calling a dead pid exits the caller with {noproc, {gen_server, call, [Pid, Req]}} (R47). */
OTP_TEST(gen_server, R47_call_dead_pid_exits_noproc) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_gen_server_stop(ep_srv(pid), NULL, EP_INFINITY);
  ep_term why = ot_call(ep_srv(pid), T("ping"), 5000, NULL);
  ck_assert_term(why, "{noproc, {gen_server, call, [~p, ping, 5000]}}", pid);
}

static void call2(void *ctx) { ep_gen_server_call(*(ep_server *)ctx, T("ping")); }

/* Test that call/2 to an unregistered name exits with noproc and Args = [Name, Req] (R47). */
OTP_TEST(gen_server, R47_call_unregistered_name_exits_noproc) {
  ep_server s = ep_srv_name(A("nobody_here"));
  ep_term why = ot_catch(call2, &s);
  ck_assert_term(why, "{noproc, {gen_server, call, [nobody_here, ping]}}");
}

/* Test that a call timing out exits with timeout and the server carries on (R47). */
OTP_TEST(gen_server, R47_call_timeout_exits_timeout) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ep_term why = ot_call(ep_srv(pid), T("{sleep, 200}"), 20, NULL);
  ck_assert_term(why, "{timeout, {gen_server, call, [~p, {sleep, 200}, 20]}}", pid);
  ep_term reply;
  ck_assert_ptr_null(ot_call(ep_srv(pid), T("ping"), 5000, &reply));
  ck_assert_term(reply, "pong");
}

static void call_null(void *ctx) { ep_gen_server_call(*(ep_server *)ctx, NULL); }

/* Test that a NULL request or reply is a bad argument that sends nothing:
 * cast and reply return EP_EINVAL, try_call EP_EBADARG, and call makes
 * the caller fail with {badarg, []}; the server carries on. */
OTP_TEST(gen_server, null_request_or_reply_is_a_bad_argument) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ep_server s = ep_srv(pid);
  ck_assert_int_eq(ep_gen_server_cast(s, NULL), EP_EINVAL);
  ep_term reply = T("unset");
  ck_assert_int_eq(ep_gen_server_try_call(s, NULL, 5000, &reply), EP_EBADARG);
  ck_assert_term(ot_catch(call_null, &s), "{badarg, []}");
  ep_from from = {ep_self(), ep_make_ref()};
  ck_assert_int_eq(ep_gen_server_reply(&from, NULL), EP_EINVAL);
  ck_assert(ot_none("_"));
  ck_assert_term(ep_gen_server_call(s, T("{add, 2}")), "2");
}

static ep_gs_ret nul_init(ep_term arg, void **st) {
  *st = NULL;
  return ep_is_atom(arg, ep_atom_of("stop")) ? ep_init_stop(NULL) : ep_init_ok();
}
static ep_gs_ret nul_call(ep_term req, const ep_from *from, void *st) {
  (void)req, (void)from, (void)st;
  return ep_reply(NULL);
}
static ep_gs_ret nul_cast(ep_term req, void *st) {
  (void)req, (void)st;
  return ep_stop_term(NULL);
}
static const ep_gen_server_cb nul_cb = {.init = nul_init, .handle_call = nul_call,
                                        .handle_cast = nul_cast};
static const ep_gen_server_cb no_init_cb = {.handle_call = nul_call};

/* Test that a callback returning a NULL term (a reply, a stop reason, an
 * init stop) fails the server with {bad_return_value, Action}, where it
 * sent nothing or aborted before; a callback table without init is
 * refused. */
OTP_TEST(gen_server, null_term_in_a_callback_return_is_a_bad_return) {
  ep_pid pid = EP_PID_NONE;
  ep_term why = NULL;
  ck_assert_int_eq(ep_gen_server_start(&no_init_cb, NULL, 0, &pid, &why), EP_EINVAL);
  ck_assert_int_eq(ep_gen_server_start(&nul_cb, T("stop"), 0, &pid, &why), EP_EEXITED);
  ck_assert_term(why, "{bad_return_value, ~i}", (int)EP_GS_STOP);
  ck_assert_int_eq(ep_gen_server_start(&nul_cb, T("go"), 0, &pid, &why), 0);
  ep_term reply;
  ck_assert_int_eq(ep_gen_server_try_call(ep_srv(pid), T("q"), 5000, &reply), EP_EEXITED);
  ck_assert_term(reply, "{bad_return_value, ~i}", (int)EP_GS_REPLY);
  ck_assert_int_eq(ep_gen_server_start(&nul_cb, T("go"), 0, &pid, &why), 0);
  ep_ref m = ep_monitor(pid);
  ck_assert_int_eq(ep_gen_server_cast(ep_srv(pid), T("c")), 0);
  ck_assert_term(ot_expect("{'DOWN', _, process, _, _}"),
                 "{'DOWN', ~r, process, ~p, {bad_return_value, ~i}}", &m, pid, (int)EP_GS_STOP);
}

static void async_null(void *ctx) { (void)ctx; ep_task_async(NULL, NULL); }
static void await_null(void *ctx) { (void)ctx; ep_task_await(NULL, 100); }

/* Test that a NULL where a behaviour's callbacks, a task's function, a task
 * or a gen_event handler belongs is refused: the start and handler calls
 * return EP_EINVAL and start nothing; Task.async and Task.await make the
 * caller fail with {badarg, []}, as Elixir raises for a non-function. */
OTP_TEST(otp, null_callbacks_are_invalid_arguments) {
  long before = ep_process_count();
  ep_pid pid = EP_PID_NONE;
  ep_term why = NULL;
  ck_assert_int_eq(ep_gen_server_start(NULL, NULL, 0, &pid, &why), EP_EINVAL);
  ck_assert_int_eq(ep_gen_server_start_link(NULL, NULL, 0, &pid, &why), EP_EINVAL);
  ck_assert_int_eq(ep_gen_statem_start(NULL, NULL, 0, &pid, &why), EP_EINVAL);
  ck_assert_int_eq(ep_supervisor_start_link(NULL, NULL, 0, &pid, &why), EP_EINVAL);
  ck_assert_int_eq(ep_agent_start(NULL, NULL, 0, &pid, &why), EP_EINVAL);
  ck_assert_int_eq(ep_process_count(), before);
  ck_assert_term(ot_catch(async_null, NULL), "{badarg, []}");
  ck_assert_term(ot_catch(await_null, NULL), "{badarg, []}");
  ck_assert_int_eq(ep_task_yield(NULL, 0, NULL), EP_EINVAL);
  ep_pid m;
  ck_assert_int_eq(ep_gen_event_start_link(0, &m), 0);
  ck_assert_int_eq(ep_gen_event_add_handler(ep_srv(m), NULL, NULL), EP_EINVAL);
  ck_assert_int_eq(ep_gen_event_delete_handler(ep_srv(m), NULL, NULL), EP_EINVAL);
  ck_assert_int_eq(ep_gen_event_call(ep_srv(m), NULL, T("x"), 100, NULL), EP_EINVAL);
  ep_term hs = ep_gen_event_which_handlers(ep_srv(m));
  ck_assert_term(hs, "[]");
  ep_term_free(hs);
  ck_assert(ot_none("_"));
}

/* Test that a reply sent after the caller's timeout is discarded: the caller
 * that caught the timeout never sees it in its mailbox (R47). */
OTP_TEST(gen_server, R47_late_reply_discarded) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ep_term why = ot_call(ep_srv(pid), T("defer"), 20, NULL);
  ck_assert_term(why, "{timeout, {gen_server, call, [~p, defer, 20]}}", pid);
  ot_expect("deferred");
  /* the server sends the late reply, then answers this call: the late one
   * reaches us first (R12), so it has been dealt with once `ok` is here */
  ep_term reply;
  ck_assert_ptr_null(ot_call(ep_srv(pid), T("{answer, late}"), 5000, &reply));
  ck_assert_term(reply, "ok");
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

/* Test that a '$gen_call' made by hand, with a plain reference as its tag,
 * still gets its reply at the caller's pid (R47, R51). */
OTP_TEST(gen_server, R47_plain_tag_reply_goes_to_pid) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ep_ref tag = ep_make_ref();
  ck_assert(!ep_is_alias(&tag));
  ep_send_fmt(pid, "{'$gen_call', {~p, ~r}, ping}", ep_self(), &tag);
  ep_term m = ot_expect("{_, pong}");
  ck_assert_term(ep_tuple_elem(m, 0), "~r", &tag);
}

/* Test that a server dying mid-call makes the caller exit with the server's reason (R47). */
OTP_TEST(gen_server, R47_server_crash_mid_call_exits_with_reason) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_term why = ot_call(ep_srv(pid), T("crash"), 5000, NULL);
  ck_assert_int_eq(ep_tuple_arity(why), 2);
  ep_term r = ep_tuple_elem(why, 0);
  ck_assert(ot_is(ep_tuple_elem(r, 0), "boom"));
  ck_assert(ot_is(ep_tuple_elem(why, 1), "{gen_server, call, [~p, crash, 5000]}", pid));
  ot_expect("{terminated, _, {boom, _}}");
}

/* Test that a server calling itself exits with calling_self (R47). */
OTP_TEST(gen_server, R47_calling_self) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ep_term r = ep_gen_server_call(ep_srv(pid), T("call_self"));
  ck_assert_term(r, "{calling_self, {gen_server, call, [~p, ok]}}", pid);
}

/* Test that try_call reports each failure as a code instead of exiting (R47). */
OTP_TEST(gen_server, R47_try_call_error_codes) {
  ep_pid pid;
  ep_term out;
  probe_start("ok", 0, &pid, NULL);
  ck_assert_int_eq(ep_gen_server_try_call(ep_srv(pid), T("{sleep, 100}"), 10, &out), EP_ETIMEOUT);
  ck_assert_int_eq(ep_gen_server_try_call(ep_srv(pid), T("crash"), 5000, &out), EP_EEXITED);
  ck_assert(ot_is(ep_tuple_elem(out, 0), "boom"));
  ck_assert_int_eq(ep_gen_server_try_call(ep_srv(pid), T("ping"), 5000, &out), EP_ENOPROC);
  ck_assert_int_eq(ep_gen_server_try_call(ep_srv_name(A("none")), T("ping"), 5000, &out), EP_ENOPROC);
}

/* Test that casts, infos and calls are handled one at a time in mailbox order (R48). */
OTP_TEST(gen_server, R48_mailbox_order) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  for (int i = 1; i <= 100; i++)
    ep_gen_server_cast(ep_srv(pid), T("{add, ~i}", i));
  ep_send(pid, T("hello"));
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("get")), "5050");
  ck_assert(!ot_none("{info, hello}"));
}

/* Test that cast returns 0 to a dead pid and to an unregistered name (R49). */
OTP_TEST(gen_server, R49_cast_to_dead_or_missing_is_ok) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_gen_server_stop(ep_srv(pid), NULL, EP_INFINITY);
  ck_assert_int_eq(ep_gen_server_cast(ep_srv(pid), T("{add, 1}")), 0);
  ck_assert_int_eq(ep_gen_server_cast(ep_srv_name(A("nobody")), T("{add, 1}")), 0);
}

static void linked_then_die(ep_term a) {
  ep_pid srv;
  ep_get_pid(a, &srv);
  ep_link(srv);
  ep_exit_atom(A("bye"));
}

/* Test that other messages, and EXITs from a linked non-parent, reach handle_info (R50). */
OTP_TEST(gen_server, R50_info_and_foreign_exit) {
  ep_pid pid;
  probe_start_link("trap", &pid, NULL);
  ep_send(pid, T("{whatever, 1}"));
  ot_expect("{info, {whatever, 1}}");
  ep_smallterm s;
  ep_pid other = ep_spawn(linked_then_die, ep_pid_term(&s, pid));
  ep_term m = ot_expect("{info, {'EXIT', _, bye}}");
  ck_assert(ot_is(ep_tuple_elem(ep_tuple_elem(m, 1), 1), "~p", other));
  ck_assert(ep_is_alive(pid));
}

struct deferred { ep_pid srv; ep_term reply; };

static void deferred_caller(ep_term a) {
  ep_pid srv, parent;
  ep_get_pid(ep_tuple_elem(a, 0), &srv);
  ep_get_pid(ep_tuple_elem(a, 1), &parent);
  ep_smallterm s;
  ep_term r = ep_gen_server_call(ep_srv(srv), ep_atom_term(&s, ep_atom_of("defer")));
  ep_send_fmt(parent, "{got, ~t}", r);
}

/* Test that a noreply call stays blocked until reply(From, R) from a later callback (R51). */
OTP_TEST(gen_server, R51_deferred_reply) {
  ep_pid pid;
  probe_start_link("ok", &pid, NULL);
  ep_spawn(deferred_caller, T("{~p, ~p}", pid, ep_self()));
  ot_expect("deferred");
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("ping")), "pong");  /* serves others meanwhile */
  ck_assert(ot_none("{got, _}"));
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{answer, 42}")), "ok");
  ot_expect("{got, 42}");
}

/* Test that {stop, R, Reply, S} replies, then terminate runs, then the server exits R (R52). */
OTP_TEST(gen_server, R52_stop_with_reply) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_ref m = ep_monitor(pid);
  (void)m;
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{stop_reply, done, bye}")), "bye");
  ot_expect("{terminated, _, done}");
  ot_expect("{'DOWN', _, process, _, done}");
}

static void queued_caller(ep_term a) {
  ep_pid srv, parent;
  ep_get_pid(ep_tuple_elem(a, 0), &srv);
  ep_get_pid(ep_tuple_elem(a, 1), &parent);
  ep_term why;
  ep_smallterm s;
  int rc = ep_gen_server_try_call(ep_srv(srv), ep_atom_term(&s, ep_atom_of("ping")), 5000, &why);
  ep_send_fmt(parent, "{queued, ~i, ~t}", rc, rc == EP_EEXITED ? why : ep_atom_term(&s, EP_A_ok));
}

/* Test that {stop, R, S} from a call exits its caller with R, callers queued
 * behind it get R too, and later calls get noproc (R52). */
OTP_TEST(gen_server, R52_stop_without_reply) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_gen_server_cast(ep_srv(pid), T("x"));           /* keeps it busy: no effect */
  ep_term why = ot_call(ep_srv(pid), T("{stop, going}"), 5000, NULL);
  ck_assert_term(why, "{going, {gen_server, call, [~p, {stop, going}, 5000]}}", pid);
  ot_expect("{terminated, _, going}");
  ep_spawn(queued_caller, T("{~p, ~p}", pid, ep_self()));
  ep_term m = ot_expect("{queued, _, _}");
  ck_assert_term(ep_tuple_elem(m, 1), "~i", EP_ENOPROC);
}

/* Test that a timeout from init or a callback gives handle_info(timeout), and
 * that a message arriving first cancels it (R53). */
OTP_TEST(gen_server, R53_timeouts) {
  ep_pid pid;
  probe_start_link("{timeout, 10}", &pid, NULL);
  ot_expect("{info, timeout}");
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{timeout, 10}")), "ok");
  ot_expect("{info, timeout}");
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{timeout, 300}")), "ok");
  ep_send(pid, T("first"));
  ot_expect("{info, first}");
  ep_receive_any(&(ep_term){0}, 600);                 /* the cancelled timeout would land here */
  ck_assert(ot_none("{info, timeout}"));
}

/* Test that handle_continue runs before the next message (handle_continue). */
OTP_TEST(gen_server, continue_runs_before_next_message) {
  ep_pid pid;
  probe_start_link("{continue, from_init}", &pid, NULL);
  ep_term m = ot_expect("{continue, _}");
  ck_assert_term(m, "{continue, from_init}");
  ck_assert_term(ep_gen_server_call(ep_srv(pid), T("{continue, again}")), "ok");
  ot_expect("{continue, again}");
}

/* Test that terminate runs after a crash with {E, Stack} (R54). */
OTP_TEST(gen_server, R54_terminate_after_crash) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_gen_server_cast(ep_srv(pid), T("{add, not_a_number}"));   /* ignored: no match */
  ot_call(ep_srv(pid), T("crash"), 5000, NULL);
  ot_expect("{terminated, _, {boom, _}}");
}

/* Test that a trapping server runs terminate(R) on its parent's exit signal
 * and exits R, also for normal (R54). */
OTP_TEST(gen_server, R54_terminate_on_parent_exit) {
  ep_trap_exit(true);
  ep_pid pid;
  probe_start_link("trap", &pid, NULL);
  ep_exit_signal_atom(pid, EP_A_shutdown);
  ot_expect("{terminated, _, shutdown}");
  ot_expect("{'EXIT', _, shutdown}");
  probe_start_link("trap", &pid, NULL);
  ep_exit_signal_atom(pid, EP_A_normal);
  ot_expect("{terminated, _, normal}");
}

/* Test that terminate is not called when a non-trapping server is killed by a
 * signal, nor on kill (R54). */
OTP_TEST(gen_server, R54_no_terminate_when_killed) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_exit_signal_atom(pid, A("stop_it"));
  ck_assert_term(ot_down(pid), "stop_it");
  ck_assert(ot_none("{terminated, _, _}"));
  probe_start("trap", 0, &pid, NULL);
  ep_exit_signal_atom(pid, EP_A_kill);
  ck_assert_term(ot_down(pid), "killed");
  ck_assert(ot_none("{terminated, _, _}"));
}

static void stop_dead(void *ctx) { ep_gen_server_stop(ep_srv(*(ep_pid *)ctx), NULL, EP_INFINITY); }

/* Test that stop runs terminate, returns after the exit, and exits with plain
 * noproc for a dead server (R55). */
OTP_TEST(gen_server, R55_stop_sync_and_noproc) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ck_assert_int_eq(ep_gen_server_stop(ep_srv(pid), T("bye"), EP_INFINITY), 0);
  ck_assert(!ep_is_alive(pid));
  ot_expect("{terminated, _, bye}");
  ck_assert_term(ot_catch(stop_dead, &pid), "noproc");
}

static void behind_caller(ep_term a) {
  ep_pid srv, parent;
  ep_get_pid(ep_tuple_elem(a, 0), &srv);
  ep_get_pid(ep_tuple_elem(a, 1), &parent);
  ep_term why;
  ep_smallterm s;
  ep_gen_server_try_call(ep_srv(srv), ep_atom_term(&s, ep_atom_of("ping")), 5000, &why);
  ep_send_fmt(parent, "{behind, ~t}", why);
}

static void blocking_caller(ep_term a) {
  ep_pid srv;
  ep_get_pid(a, &srv);
  ep_smallterm s;
  ep_gen_server_call(ep_srv(srv), ep_atom_term(&s, ep_atom_of("block")));
}

static long queue_len(ep_pid p) {
  ep_term t = ep_process_info(p, EP_A_message_queue_len);
  int64_t n = 0;
  ep_get_int(ep_tuple_elem(t, 1), &n);
  ep_term_free(t);
  return (long)n;
}

/* Test that a call queued behind a stop exits with the stop's reason (R52). */
OTP_TEST(gen_server, R52_queued_caller_gets_reason) {
  ep_pid pid;
  probe_start("ok", 0, &pid, NULL);
  ep_smallterm s;
  ep_spawn(blocking_caller, ep_pid_term(&s, pid));
  ot_expect("blocked");                             /* the server is busy */
  ep_gen_server_cast(ep_srv(pid), T("{stop, going}"));
  ep_spawn(behind_caller, T("{~p, ~p}", pid, ep_self()));
  while (queue_len(pid) < 2)
    ep_yield();                                     /* the stop, then the call */
  ep_send(pid, T("release"));
  ot_expect("{behind, going}");
}

struct owned { ep_pid observer; };

static ep_gs_ret owned_init(ep_term arg, void **state) {
  struct owned *o = malloc(sizeof *o);
  ep_get_pid(arg, &o->observer);
  *state = o;
  return ep_init_ok();
}

static void owned_terminate(ep_term reason, void *state) {
  struct owned *o = state;
  ep_send_fmt(o->observer, "{terminated, ~t}", reason);
  free(o);
}

static void owned_release(void *state) {
  struct owned *o = state;
  ep_send_fmt(o->observer, "released");
  free(o);
}

static const ep_gen_server_cb owned_cb = {.init = owned_init, .terminate = owned_terminate,
                                          .release = owned_release};

/* Test that a server killed without terminate gets its state released by
 * the reaper, and that one running terminate is not released twice (R54). */
OTP_TEST(gen_server, release_after_death_without_terminate) {
  ep_pid a, b;
  ep_smallterm s;
  ck_assert_int_eq(ep_gen_server_start(&owned_cb, ep_pid_term(&s, ep_self()), 0, &a, NULL), 0);
  ep_exit_signal_atom(a, EP_A_kill);
  ot_expect("released");
  ck_assert_int_eq(ep_gen_server_start(&owned_cb, ep_pid_term(&s, ep_self()), 0, &b, NULL), 0);
  ep_gen_server_stop(ep_srv(b), NULL, EP_INFINITY);
  ot_expect("{terminated, normal}");
  ep_pid c;
  ep_gen_server_start(&owned_cb, ep_pid_term(&s, ep_self()), 0, &c, NULL);
  ep_exit_signal_atom(c, EP_A_kill);
  ot_expect("released");                 /* the reaper handles events in order: b was not released */
  ck_assert(ot_none("released"));
}
