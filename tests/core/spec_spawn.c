/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_spawn.c - conformance tests for spec section 1, processes and
 * spawn (R1-R8): spawn, exit reasons, dead pids, atomic spawn_link and
 * spawn_monitor, is_alive, termination order and scheduling. Observes only
 * through messages, monitors, ep_is_alive and ep_process_info.
 */
#include <stdatomic.h>
#include <pthread.h>
#include <string.h>

#include "spec_util.h"

static void send_parent_hello(ep_term parent) {
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0 && !ep_is_atom(m, ep_atom_of("go"))) {}
  ep_send_fmt(pid_of(parent), "{hello, ~p}", ep_self());
}

/* Test that spawn returns the child's pid at once, the child runs
 * concurrently, and no link or monitor ties it to the parent (R1). */
SPEC(spawn, R1_spawn_returns_pid_and_child_runs_unattached) {
  ep_pid c = ep_spawn(send_parent_hello, P(ep_self()));
  EXPECT(!ep_pid_eq(c, EP_PID_NONE));
  EXPECT(ep_is_alive(c));
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, []}");
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_monitors)), "{monitors, []}");
  EXPECT_M(spec_own(ep_process_info(c, EP_A_links)), "{links, []}");
  EXPECT_M(spec_own(ep_process_info(c, EP_A_monitored_by)), "{monitored_by, []}");
  ep_send(c, A("go"));
  EXPECT(recv_match(5000, "{hello, ^C}", P(c)) != NULL);
}

static void crash_on_go(ep_term arg) {
  (void)arg;
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0 && !ep_is_atom(m, ep_atom_of("go"))) {}
  ep_error(A("boom"));
}

/* Test that a spawned child that crashes leaves its parent running, even a
 * parent that traps exits gets no {'EXIT', ...} (R1). */
SPEC(spawn, R1_child_crash_leaves_parent_running) {
  ep_trap_exit(true);
  ep_pid c = ep_spawn(crash_on_go, A("x"));
  ep_ref r = ep_monitor(c);
  ep_send(c, A("go"));
  EXPECT_M(await_down(&r), "{boom, _}");
  EXPECT(nothing_arrives(100));
  EXPECT(ep_is_alive(ep_self()));
}

static void just_return(ep_term arg) { (void)arg; }

/* Test that a process whose function returns ends with reason normal (R2). */
SPEC(spawn, R2_function_return_is_normal) {
  ep_ref r;
  ep_pid c = ep_spawn_monitor(just_return, A("x"), &r);
  EXPECT_M(await_down(&r), "normal");
  EXPECT(!ep_is_alive(c));
}

static atomic_int after_exit_ran;
static void deep3(void) { ep_exit(T("{deep, 3}")); }
static void deep2(void) { deep3(); atomic_store(&after_exit_ran, 1); }
static void deep1(ep_term arg) {
  (void)arg;
  deep2();
  atomic_store(&after_exit_ran, 1);
}

/* Test that exit(R) deep in the call stack ends the process at once with
 * reason R: no code after the call runs (R2). */
SPEC(spawn, R2_exit_deep_in_call_stack_ends_at_once) {
  ep_ref r;
  ep_spawn_monitor(deep1, A("x"), &r);
  EXPECT_M(await_down(&r), "{deep, 3}");
  EXPECT(atomic_load(&after_exit_ran) == 0);
}

static void raise_badarith(ep_term arg) {
  (void)arg;
  ep_error(A("badarith"));
}

/* Test that an uncaught error E ends the process with {E, Stack} (R2). */
SPEC(spawn, R2_error_reason_is_reason_and_stack) {
  ep_ref r;
  ep_spawn_monitor(raise_badarith, A("x"), &r);
  EXPECT_M(await_down(&r), "{badarith, _}");
}

static void throw_stuff(ep_term arg) {
  (void)arg;
  spec_throw(A("stuff"));
}

/* Test that an uncaught throw's reason has the form {{nocatch, T}, Stack}
 * (R2; C has no throw, spec_throw raises that error). */
SPEC(spawn, R2_throw_reason_is_nocatch) {
  ep_ref r;
  ep_spawn_monitor(throw_stuff, A("x"), &r);
  EXPECT_M(await_down(&r), "{{nocatch, stuff}, _}");
}

/* Test that a process killed by an exit signal ends with the signal's
 * reason, `killed` for kill (R2). */
SPEC(spawn, R2_killed_by_exit_signal) {
  ep_ref r1, r2;
  ep_pid a = ep_spawn_monitor(spec_action, A("wait"), &r1);
  ep_pid b = ep_spawn_monitor(spec_action, A("wait"), &r2);
  ep_exit_signal(a, A("stuff"));
  ep_exit_signal_atom(b, EP_A_kill);
  EXPECT_M(await_down(&r1), "stuff");
  EXPECT_M(await_down(&r2), "killed");
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int logged;
static ep_pid logged_pid;
static char logged_reason[256];
static void record_exit(ep_pid p, ep_term reason, void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&log_lock);
  logged++;
  logged_pid = p;
  ep_print(logged_reason, sizeof logged_reason, reason, EP_PRINT_ERLANG);
  pthread_mutex_unlock(&log_lock);
}

/* Test that a crash (an uncaught error) is reported to the installed exit
 * logger with its pid and reason, and a normal end is not (R2, issue 3's
 * logger requirement). */
SPEC(spawn, R2_crash_reported_to_exit_logger_normal_end_not) {
  ep_set_exit_logger(record_exit, NULL);
  ep_ref r;
  ep_spawn_monitor(just_return, A("x"), &r);
  await_down(&r);
  pthread_mutex_lock(&log_lock);
  EXPECT(logged == 0);
  pthread_mutex_unlock(&log_lock);
  ep_pid c = ep_spawn_monitor(raise_badarith, A("x"), &r);
  await_down(&r);
  pthread_mutex_lock(&log_lock);
  EXPECT(logged == 1);
  EXPECT(ep_pid_eq(logged_pid, c));
  EXPECT(strncmp(logged_reason, "{badarith,", 10) == 0);
  pthread_mutex_unlock(&log_lock);
  ep_set_exit_logger(NULL, NULL);
}

/* Test that every operation on a dead pid behaves as "no such process":
 * send dropped, link noproc, monitor noproc DOWN, is_alive false,
 * process_info undefined, exit/2 no effect (R3). */
SPEC(spawn, R3_dead_pid_is_noproc_for_every_operation) {
  ep_pid c = ep_spawn(just_return, A("x"));
  wait_death(c);
  EXPECT(ep_send(c, A("hello")) == 0);
  EXPECT(ep_link_check(c) == EP_ENOPROC);
  EXPECT_M(wait_death(c), "noproc");
  EXPECT(!ep_is_alive(c));
  const ep_atom items[] = {EP_A_links, EP_A_monitors, EP_A_monitored_by,
                           EP_A_message_queue_len, EP_A_messages, EP_A_trap_exit,
                           EP_A_registered_name, EP_A_status};
  for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
    EXPECT(spec_own(ep_process_info(c, items[i])) == NULL);
  EXPECT(ep_exit_signal(c, A("stuff")) == 0);
  EXPECT(ep_exit_signal_atom(c, EP_A_kill) == 0);
  EXPECT(nothing_arrives(50));
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, []}");
}

/* Test that pids are never reused: thousands of processes that come and go
 * all get distinct pids, and a stale pid never reaches a newer process
 * (R3). */
SPEC(spawn, R3_pids_never_reused_and_stale_pid_reaches_nobody) {
  enum { N = 3000, W = 2000 };
  static ep_pid seen[N];
  for (int i = 0; i < N; i++) {
    ep_ref r;
    seen[i] = ep_spawn_monitor(just_return, A("x"), &r);
    await_down(&r);
  }
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j++) EXPECT(!ep_pid_eq(seen[i], seen[j]));
  static ep_pid live[W];
  for (int i = 0; i < W; i++) {
    live[i] = ep_spawn(spec_action, A("wait"));
    for (int j = 0; j < N; j++) EXPECT(!ep_pid_eq(live[i], seen[j]));
  }
  for (int j = 0; j < N; j++) ep_send(seen[j], A("stale"));
  for (int i = 0; i < W; i++)
    EXPECT_M(spec_own(ep_process_info(live[i], EP_A_message_queue_len)), "{message_queue_len, 0}");
  for (int i = 0; i < W; i++) ep_exit_signal_atom(live[i], EP_A_kill);
}

static void exit_boom_now(ep_term arg) {
  (void)arg;
  ep_exit(A("boom"));
}

/* Test that spawn_link links before the child runs: a child that dies at
 * once always delivers its real reason to a trapping parent, never noproc
 * (R4). */
SPEC(spawn, R4_spawn_link_immediate_death_gives_real_reason) {
  ep_trap_exit(true);
  for (int i = 0; i < 500; i++) {
    ep_pid c = ep_spawn_link(exit_boom_now, A("x"));
    EXPECT_M(recv_match(EP_INFINITY, "{'EXIT', ^C, _}", P(c)), "{'EXIT', _, boom}");
  }
}

static void report_links(ep_term parent) {
  ep_term l = ep_process_info(ep_self(), EP_A_links);
  ep_send_fmt(pid_of(parent), "{my_links, ~t}", l);
  ep_term_free(l);
}

/* Test that the link made by spawn_link is visible to the child from its
 * first instruction (R4). */
SPEC(spawn, R4_link_exists_before_child_runs) {
  ep_pid me = ep_self();
  ep_spawn_link(report_links, P(me));
  EXPECT(recv_match(5000, "{my_links, {links, [^Me]}}", P(me)) != NULL);
}

/* Test that spawn_monitor monitors atomically: the DOWN of a child that
 * dies at once carries its real reason and the returned ref, never noproc
 * (R5). */
SPEC(spawn, R5_spawn_monitor_immediate_death_gives_real_reason) {
  for (int i = 0; i < 500; i++) {
    ep_ref r;
    ep_pid c = ep_spawn_monitor(exit_boom_now, A("x"), &r);
    EXPECT(recv_match(EP_INFINITY, "{'DOWN', ^R, process, ^C, boom}", R(&r), P(c)) != NULL);
  }
  EXPECT(nothing_arrives(50));
}

/* Test that exit(P, kill) followed by is_process_alive(P) is always false,
 * likewise for a killing reason to a non-trapping process (R6). */
SPEC(spawn, R6_is_alive_false_right_after_kill) {
  for (int i = 0; i < 300; i++) {
    ep_pid p = ep_spawn(spec_action, A("wait"));
    EXPECT(ep_is_alive(p));
    ep_exit_signal_atom(p, EP_A_kill);
    EXPECT(!ep_is_alive(p));
    ep_pid q = ep_spawn(spec_action, A("wait"));
    ep_exit_signal(q, A("stuff"));
    EXPECT(!ep_is_alive(q));
  }
}

/* Test that is_alive is true for a live process (and self), false once it
 * has ended, and stays true after a signal it ignores or traps (R6). */
SPEC(spawn, R6_is_alive_tracks_life) {
  EXPECT(ep_is_alive(ep_self()));
  ep_pid p = ep_spawn(spec_action, A("wait"));
  EXPECT(ep_is_alive(p));
  ep_exit_signal_atom(p, EP_A_normal);
  EXPECT(ep_is_alive(p));
  ep_ref r = ep_monitor(p);
  ep_send(p, A("go"));
  ep_send(p, A("stop"));
  EXPECT_M(await_down(&r), "normal");
  EXPECT(!ep_is_alive(p));
  ep_pid t = puppet();
  cmd(t, "{'$do', trap, true}");
  ep_exit_signal(t, A("stuff"));
  EXPECT(ep_is_alive(t));
  EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^Me, stuff}", P(ep_self()));
  ep_exit_signal_atom(t, EP_A_kill);
}

static void named_waiter(ep_term arg) {
  (void)arg;
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
  ep_exit(A("bye"));
}

/* Test that a dying process's name is released before its DOWN goes out:
 * the watcher can at once see whereis = undefined and take the name (R7,
 * R44). */
SPEC(spawn, R7_name_released_before_down) {
  ep_atom name = ep_atom_of("spec_r7_name");
  for (int i = 0; i < 200; i++) {
    ep_pid c;
    ep_ref r;
    ep_spawn_opts o = {.flags = EP_SPAWN_MONITOR, .name = "spec_r7_name"};
    EXPECT(ep_spawn_opt(&c, named_waiter, A("x"), &o, &r) == 0);
    EXPECT(ep_pid_eq(ep_whereis(name), c));
    ep_send(c, A("die"));
    EXPECT_M(await_down(&r), "bye");
    EXPECT(ep_pid_eq(ep_whereis(name), EP_PID_NONE));
    EXPECT(ep_send_name(name, A("x")) == EP_EBADARG);
    EXPECT(ep_register(name, ep_self()) == 0);
    EXPECT(ep_unregister(name) == 0);
  }
}

/* Test that an observer that both links and monitors a dying process gets
 * the {'EXIT', ...} message before the {'DOWN', ...} message (R7). */
SPEC(spawn, R7_exit_message_before_down) {
  ep_trap_exit(true);
  for (int i = 0; i < 300; i++) {
    ep_pid c;
    ep_ref r;
    ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
    EXPECT(ep_spawn_opt(&c, exit_boom_now, A("x"), &o, &r) == 0);
    EXPECT_M(recv_any(EP_INFINITY), "{'EXIT', ^C, boom}", P(c));
    EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, ^C, boom}", R(&r), P(c));
  }
}

/* Test that a death delivers one exit signal per link and one DOWN per
 * monitor, however often the link was made (R7, R20). */
SPEC(spawn, R7_one_exit_per_link_one_down_per_monitor) {
  ep_trap_exit(true);
  ep_pid c = ep_spawn(crash_on_go, A("x"));
  EXPECT(ep_link(c) == 0);
  EXPECT(ep_link(c) == 0);
  ep_ref r = ep_monitor(c);
  ep_send(c, A("go"));
  EXPECT_M(recv_any(EP_INFINITY), "{'EXIT', ^C, {boom, _}}", P(c));
  EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, ^C, {boom, _}}", R(&r), P(c));
  EXPECT(nothing_arrives(100));
}

/* Test that the monitors a dying process held are removed: its target no
 * longer lists it in monitored_by (R7, R31). */
SPEC(spawn, R7_dying_watchers_monitors_removed) {
  ep_pid target = puppet();
  ep_pid watcher = puppet();
  cmd(watcher, "{'$do', monitor, ~p}", target);
  EXPECT_M(spec_own(ep_process_info(target, EP_A_monitored_by)), "{monitored_by, [^W]}", P(watcher));
  ep_ref r = ep_monitor(watcher);
  cmd_nowait(watcher, "{'$do', exit, stuff}");
  EXPECT_M(await_down(&r), "stuff");
  EXPECT_M(spec_own(ep_process_info(target, EP_A_monitored_by)), "{monitored_by, []}");
  ep_exit_signal_atom(target, EP_A_kill);
}

static void hold_mailbox(ep_term arg) {
  (void)arg;
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0 && !ep_is_atom(m, ep_atom_of("go"))) {}
  ep_exit(A("done"));
}

/* Test that a dying process's mailbox is discarded: messages queued when it
 * dies are freed (checked by LeakSanitizer in the sanitizer builds) and no
 * one receives them (R7). */
SPEC(spawn, R7_mailbox_discarded_at_death) {
  ep_ref r;
  ep_pid c = ep_spawn_monitor(hold_mailbox, A("x"), &r);
  for (int i = 0; i < 10000; i++) ep_send_fmt(c, "{junk, ~i, \"some text\"}", i);
  ep_send(c, A("go"));
  EXPECT_M(await_down(&r), "done");
  ep_pid k = ep_spawn_monitor(hold_mailbox, A("x"), &r);
  for (int i = 0; i < 10000; i++) ep_send_fmt(k, "{junk, ~i}", i);
  ep_exit_signal_atom(k, EP_A_kill);
  EXPECT_M(await_down(&r), "killed");
  EXPECT(nothing_arrives(50));
}

static void block_then_report(ep_term parent) {
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0 && !ep_is_atom(m, ep_atom_of("go"))) {}
  ep_send(pid_of(parent), A("a_done"));
}

static void send_go(ep_term to) { ep_send(pid_of(to), A("go")); }

/* Test that a process blocked in receive yields its scheduler thread: with
 * one thread, a third process still runs and unblocks it (R8). */
SPEC_T(sched, R8_blocked_receive_yields_the_thread, 1, 0) {
  ep_pid a = ep_spawn(block_then_report, P(ep_self()));
  ep_spawn(send_go, P(a));
  EXPECT(recv_match(EP_INFINITY, "a_done") != NULL);
}

static void sleep_then_report(ep_term parent) {
  ep_sleep(100);
  ep_send(pid_of(parent), A("slept"));
}

/* Test that a sleeping process yields its thread: with one thread the
 * root keeps running while the child sleeps (R8). */
SPEC_T(sched, R8_sleep_yields_the_thread, 1, 0) {
  ep_pid me = ep_self();
  ep_spawn(sleep_then_report, P(me));
  ep_pid b = ep_spawn(block_then_report, P(me));
  ep_send(b, A("go"));
  EXPECT_M(recv_any(EP_INFINITY), "a_done");
  EXPECT_M(recv_any(EP_INFINITY), "slept");
}

static void spinner(ep_term arg) {
  (void)arg;
  ep_term m;
  for (;;) {
    ep_yield();
    if (ep_receive_any(&m, 0) == 0 && ep_is_atom(m, ep_atom_of("stop"))) return;
  }
}

static void echo(ep_term arg) {
  (void)arg;
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0) {
    ep_pid from;
    if (ep_tuple_arity(m) != 2 || ep_get_pid(ep_tuple_elem(m, 0), &from) < 0) return;
    ep_send(from, ep_tuple_elem(m, 1));
  }
}

static void no_starvation(int spinners) {
  ep_pid s[16];
  for (int i = 0; i < spinners; i++) s[i] = ep_spawn(spinner, A("x"));
  ep_pid e = ep_spawn(echo, A("x"));
  for (int i = 0; i < 1000; i++) {
    ep_send_fmt(e, "{~p, ~i}", ep_self(), i);
    ep_term m = recv_any(EP_INFINITY);
    int64_t v = -1;
    ep_get_int(m, &v);
    EXPECT(v == i);
  }
  for (int i = 0; i < spinners; i++) ep_send(s[i], A("stop"));
  ep_exit_signal_atom(e, EP_A_kill);
}

/* Test that runnable processes all get to run while others spin calling
 * ep_yield: a ping-pong of 1000 round trips completes next to 8 spinners,
 * on one thread (R8). */
SPEC_T(sched, R8_no_starvation_one_thread, 1, 0) { no_starvation(8); }

/* Test the same with two scheduler threads (R8). */
SPEC_T(sched, R8_no_starvation_two_threads, 2, 0) { no_starvation(8); }
