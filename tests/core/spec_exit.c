/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_exit.c - conformance tests for spec section 5, exit signals
 * (R25-R30): the six receiving cases, exit/1 vs exit/2, kill not being
 * transitive, propagation along chains, and trap_exit. Puppets (spec_util.h)
 * stand for the processes; the root watches with monitors.
 */
#include <stdatomic.h>

#include "spec_util.h"

/* Test R25.2: exit(P, kill) kills P with reason killed even when P traps
 * exits. */
SPEC(exit, R25_2_kill_unconditional_even_trapping) {
  ep_ref r;
  ep_pid t = puppet_monitored(&r);
  EXPECT_M(cmd(t, "{'$do', trap, true}"), "false");
  ep_exit_signal_atom(t, EP_A_kill);
  EXPECT_M(await_down(&r), "killed");
  EXPECT(nothing_arrives(50));
}

static atomic_int r25_3_after;
static void exit_self_normal_then_flag(ep_term arg) {
  (void)arg;
  ep_exit_signal_atom(ep_self(), EP_A_normal);
  atomic_store(&r25_3_after, 1);
  ep_exit(A("exit_signal_returned"));
}

/* Test R25.3: exit(self(), normal) ends a non-trapping process with reason
 * normal before the call returns. */
SPEC(exit, R25_3_exit_self_normal_not_trapping_terminates) {
  ep_ref r;
  ep_spawn_monitor(exit_self_normal_then_flag, A("x"), &r);
  EXPECT_M(await_down(&r), "normal");
  EXPECT(atomic_load(&r25_3_after) == 0);
}

/* Test R25.3: exit(self(), normal) in a trapping process returns and queues
 * {'EXIT', Self, normal}. */
SPEC(exit, R25_3_exit_self_normal_trapping_message) {
  ep_trap_exit(true);
  EXPECT(ep_exit_signal_atom(ep_self(), EP_A_normal) == 0);
  EXPECT_M(recv_any(0), "{'EXIT', ^Me, normal}", P(ep_self()));
}

/* Test R25.4: a trapping receiver gets {'EXIT', Sender, Reason} at the end
 * of its mailbox, with the reason unchanged: normal, killed, shutdown and
 * any term. */
SPEC(exit, R25_4_trapping_gets_exit_message_reason_unchanged) {
  ep_pid t = puppet();
  cmd(t, "{'$do', trap, true}");
  ep_send(t, A("first"));
  const char *reasons[] = {"normal", "killed", "shutdown", "{shutdown, x}", "{any, [term, 1]}"};
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) ep_exit_signal(t, T(reasons[i]));
  EXPECT_M(got(t, EP_INFINITY), "first");
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^Me, ^R}", P(ep_self()), T(reasons[i]));
  EXPECT(ep_is_alive(t));
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test R25.4: kill that comes over a link (the peer called exit(kill))
 * reaches a trapping process as the message {'EXIT', P, kill}. */
SPEC(exit, R25_4_kill_over_link_is_trappable) {
  ep_pid t = puppet();
  cmd(t, "{'$do', trap, true}");
  ep_pid c = pid_of(cmd(t, "{'$do', spawn_link, exit_kill}"));
  ep_send(c, A("go"));
  EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^C, kill}", P(c));
  EXPECT(ep_is_alive(t));
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test R25.5: a non-trapping receiver drops an exit signal with reason
 * normal from another process and goes on, with nothing in its mailbox. */
SPEC(exit, R25_5_normal_dropped_when_not_trapping) {
  ep_pid t = puppet();
  EXPECT(ep_exit_signal_atom(t, EP_A_normal) == 0);
  EXPECT_M(cmd(t, "{'$do', ping}"), "pong");
  EXPECT(ep_is_alive(t));
  EXPECT(nothing_arrives(100));
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test R25.6: a non-trapping receiver of any other reason terminates with
 * that same reason, not wrapped. */
SPEC(exit, R25_6_other_reason_kills_with_same_reason) {
  const char *reasons[] = {"stuff", "killed", "shutdown", "{shutdown, x}", "{a, [1, 2]}"};
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
    ep_ref r;
    ep_pid t = puppet_monitored(&r);
    ep_exit_signal(t, T(reasons[i]));
    EXPECT_M(await_down(&r), "^R", T(reasons[i]));
  }
}

/* Test R25.6: kill that comes over a link kills a non-trapping process with
 * reason kill (not killed): seed 004's corrected case 5. */
SPEC(exit, R25_6_kill_over_link_stays_kill) {
  ep_ref r;
  ep_pid t = puppet_monitored(&r);
  ep_pid c = pid_of(cmd(t, "{'$do', spawn_link, exit_kill}"));
  ep_ref cr = ep_monitor(c);
  ep_send(c, A("go"));
  EXPECT_M(await_down(&cr), "kill");
  EXPECT_M(await_down(&r), "kill");
}

static void catch_exit_stuff(void *ctx) {
  (void)ctx;
  ep_exit(A("stuff"));
}
static void catch_exit_normal(void *ctx) {
  (void)ctx;
  ep_exit_atom(EP_A_normal);
}
static void catch_nested(void *ctx) {
  ep_term r = NULL;
  *(int *)ctx = ep_catch(catch_exit_stuff, NULL, &r);
  if (!spec_match(r, "stuff")) *(int *)ctx = -1;
  ep_exit(A("outer"));
}
static void catch_returns(void *ctx) { *(int *)ctx = 7; }

/* Test R26: exit(R) can be caught (giving R, also for normal), the process
 * goes on; catches nest; a body that returns gives 0. */
SPEC(exit, R26_exit_caught_process_goes_on) {
  ep_term r = NULL;
  EXPECT(ep_catch(catch_exit_stuff, NULL, &r) == 1);
  EXPECT_M(r, "stuff");
  EXPECT(ep_catch(catch_exit_normal, NULL, &r) == 1);
  EXPECT_M(r, "normal");
  int inner = 0;
  EXPECT(ep_catch(catch_nested, &inner, &r) == 1);
  EXPECT(inner == 1);
  EXPECT_M(r, "outer");
  int v = 0;
  EXPECT(ep_catch(catch_returns, &v, &r) == 0);
  EXPECT(v == 7);
  EXPECT(ep_is_alive(ep_self()));
}

/* Test R26: an uncaught exit(R) ends the process with R and its linked
 * processes get R with the link flag: a trapping one as a message, a
 * non-trapping one dies with R. */
SPEC(exit, R26_uncaught_exit_reason_goes_to_links) {
  ep_pid trapper = puppet();
  cmd(trapper, "{'$do', trap, true}");
  ep_ref nr;
  ep_pid plain = puppet_monitored(&nr);
  ep_pid c = puppet();
  EXPECT_M(cmd(c, "{'$do', link, ~p}", trapper), "ok");
  EXPECT_M(cmd(c, "{'$do', link, ~p}", plain), "ok");
  ep_ref cr = ep_monitor(c);
  cmd_nowait(c, "{'$do', exit, {tired, 1}}");
  EXPECT_M(await_down(&cr), "{tired, 1}");
  EXPECT_M(got(trapper, EP_INFINITY), "{'EXIT', ^C, {tired, 1}}", P(c));
  EXPECT_M(await_down(&nr), "{tired, 1}");
  ep_exit_signal_atom(trapper, EP_A_kill);
}

/* Test R26: exit(kill) ends the caller with reason kill; a trapping linked
 * process gets {'EXIT', P, kill} and a non-trapping one dies with kill, not
 * killed (seed 004 case 5, corrected). */
SPEC(exit, R26_exit_kill_dies_kill_links_get_trappable_kill) {
  ep_pid trapper = puppet();
  cmd(trapper, "{'$do', trap, true}");
  ep_ref nr;
  ep_pid plain = puppet_monitored(&nr);
  ep_pid c = puppet();
  cmd(c, "{'$do', link, ~p}", trapper);
  cmd(c, "{'$do', link, ~p}", plain);
  ep_ref cr = ep_monitor(c);
  cmd_nowait(c, "{'$do', exit, kill}");
  EXPECT_M(await_down(&cr), "kill");
  EXPECT_M(got(trapper, EP_INFINITY), "{'EXIT', ^C, kill}", P(c));
  EXPECT(ep_is_alive(trapper));
  EXPECT_M(await_down(&nr), "kill");
  ep_exit_signal_atom(trapper, EP_A_kill);
}

static atomic_int r27_after;
static void signal_self_in_catch(void *ctx) {
  (void)ctx;
  ep_exit_signal(ep_self(), A("stuff"));
  atomic_store(&r27_after, 1);
}
static void try_catch_exit_signal(ep_term arg) {
  (void)arg;
  ep_term r;
  ep_catch(signal_self_in_catch, NULL, &r);
  atomic_store(&r27_after, 2);
}

/* Test R27: exit(self(), R) is a signal, not an exception: ep_catch does
 * not intercept it, and a non-trapping caller ends with R before the call
 * returns. */
SPEC(exit, R27_exit_signal_not_catchable_ends_before_return) {
  ep_ref r;
  ep_spawn_monitor(try_catch_exit_signal, A("x"), &r);
  EXPECT_M(await_down(&r), "stuff");
  EXPECT(atomic_load(&r27_after) == 0);
}

/* Test R27: exit/2 returns 0 at once, also to a dead pid (no effect). */
SPEC(exit, R27_exit_signal_returns_zero_dead_pid_no_effect) {
  ep_pid d = puppet();
  cmd_nowait(d, "{'$do', return}");
  wait_death(d);
  EXPECT(ep_exit_signal(d, A("stuff")) == 0);
  EXPECT(ep_exit_signal_atom(d, EP_A_kill) == 0);
  ep_pid t = puppet();
  EXPECT(ep_exit_signal(t, A("stuff")) == 0);
  EXPECT(nothing_arrives(50));
  EXPECT(ep_is_alive(ep_self()));
}

/* Test R27: exit(Other, normal) does nothing to a non-trapping process and
 * gives {'EXIT', Sender, normal} to a trapping one. */
SPEC(exit, R27_exit_other_normal) {
  ep_pid plain = puppet(), trapper = puppet();
  cmd(trapper, "{'$do', trap, true}");
  ep_exit_signal_atom(plain, EP_A_normal);
  ep_exit_signal_atom(trapper, EP_A_normal);
  EXPECT_M(got(trapper, EP_INFINITY), "{'EXIT', ^Me, normal}", P(ep_self()));
  EXPECT_M(cmd(plain, "{'$do', ping}"), "pong");
  EXPECT(got(plain, 50) == NULL);
  ep_exit_signal_atom(plain, EP_A_kill);
  ep_exit_signal_atom(trapper, EP_A_kill);
}

/* Test R27: killed and shutdown sent with exit/2 are ordinary, trappable
 * reasons. */
SPEC(exit, R27_killed_and_shutdown_are_trappable) {
  ep_pid t = puppet();
  cmd(t, "{'$do', trap, true}");
  ep_exit_signal_atom(t, EP_A_killed);
  ep_exit_signal_atom(t, EP_A_shutdown);
  EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^Me, killed}", P(ep_self()));
  EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^Me, shutdown}", P(ep_self()));
  EXPECT(ep_is_alive(t));
  ep_exit_signal_atom(t, EP_A_kill);
}

static atomic_int self_kill_after;
static void trap_then_self_kill(ep_term arg) {
  (void)arg;
  ep_trap_exit(true);
  ep_exit_signal_atom(ep_self(), EP_A_kill);
  atomic_store(&self_kill_after, 1);
}

/* Test R27: exit(self(), kill) kills the caller with killed even when it
 * traps exits, before the call returns. */
SPEC(exit, R27_exit_self_kill_trapping_killed) {
  ep_ref r;
  ep_spawn_monitor(trap_then_self_kill, A("x"), &r);
  EXPECT_M(await_down(&r), "killed");
  EXPECT(atomic_load(&self_kill_after) == 0);
}

/* Test R27: a trapping caller's exit(self(), R) with R other than kill
 * returns 0 and queues {'EXIT', Self, R}. */
SPEC(exit, R27_exit_self_trapping_returns_and_queues) {
  ep_trap_exit(true);
  EXPECT(ep_exit_signal(ep_self(), A("stuff")) == 0);
  EXPECT_M(recv_any(0), "{'EXIT', ^Me, stuff}", P(ep_self()));
}

/* Test R27: exit(self(), R) for R not normal ends a non-trapping caller with
 * R; nothing after the call runs. */
SPEC(exit, R27_exit_self_reason_not_trapping) {
  ep_ref r;
  ep_pid c = ep_spawn_monitor(spec_action, A("exit_self_stuff"), &r);
  ep_send(c, A("go"));
  EXPECT_M(await_down(&r), "stuff");
}

/* Test R28: kill is not transitive. A killed by exit(A, kill) dies killed;
 * a trapping neighbour gets {'EXIT', A, killed} and lives; a non-trapping
 * neighbour dies with killed and passes killed on. */
SPEC(exit, R28_kill_not_transitive) {
  ep_pid a = puppet(), trapper = puppet(), c = puppet(), d = puppet();
  cmd(trapper, "{'$do', trap, true}");
  cmd(a, "{'$do', link, ~p}", trapper);
  cmd(a, "{'$do', link, ~p}", c);
  cmd(c, "{'$do', link, ~p}", d);
  ep_ref ra = ep_monitor(a), rc = ep_monitor(c), rd = ep_monitor(d);
  ep_exit_signal_atom(a, EP_A_kill);
  EXPECT_M(await_down(&ra), "killed");
  EXPECT_M(got(trapper, EP_INFINITY), "{'EXIT', ^A, killed}", P(a));
  EXPECT(ep_is_alive(trapper));
  EXPECT_M(await_down(&rc), "killed");
  EXPECT_M(await_down(&rd), "killed");
  ep_exit_signal_atom(trapper, EP_A_kill);
}

/* Builds a chain of n puppets, each linked to the next. */
static void chain(ep_pid *p, int n) {
  for (int i = 0; i < n; i++) p[i] = puppet();
  for (int i = 0; i + 1 < n; i++) EXPECT_M(cmd(p[i], "{'$do', link, ~p}", p[i + 1]), "ok");
}

/* Test R29: a chain of non-trapping processes dies transitively, all with
 * the same reason (seed 004's five Simple processes). */
SPEC(exit, R29_chain_dies_with_same_reason) {
  ep_pid p[5];
  ep_ref r[5];
  chain(p, 5);
  for (int i = 0; i < 5; i++) r[i] = ep_monitor(p[i]);
  cmd_nowait(p[4], "{'$do', exit, ouch}");
  for (int i = 4; i >= 0; i--) EXPECT_M(await_down(&r[i]), "ouch");
  for (int i = 0; i < 5; i++) EXPECT(!ep_is_alive(p[i]));
}

/* Test R29: a trapping process in a chain stops the propagation: it gets
 * the message and lives, and processes beyond it are unaffected. */
SPEC(exit, R29_trapping_link_stops_propagation) {
  ep_pid p[5];
  chain(p, 5);
  cmd(p[2], "{'$do', trap, true}");
  ep_ref r4 = ep_monitor(p[4]), r3 = ep_monitor(p[3]);
  cmd_nowait(p[4], "{'$do', exit, ouch}");
  EXPECT_M(await_down(&r4), "ouch");
  EXPECT_M(await_down(&r3), "ouch");
  EXPECT_M(got(p[2], EP_INFINITY), "{'EXIT', ^P3, ouch}", P(p[3]));
  for (int i = 0; i < 3; i++) {
    EXPECT_M(cmd(p[i], "{'$do', ping}"), "pong");
    EXPECT(ep_is_alive(p[i]));
  }
  for (int i = 0; i < 3; i++) ep_exit_signal_atom(p[i], EP_A_kill);
}

/* Test R29: a normal termination never propagates along a chain. */
SPEC(exit, R29_normal_end_does_not_propagate) {
  ep_pid p[5];
  chain(p, 5);
  ep_ref r = ep_monitor(p[4]);
  cmd_nowait(p[4], "{'$do', return}");
  EXPECT_M(await_down(&r), "normal");
  for (int i = 0; i < 4; i++) EXPECT_M(cmd(p[i], "{'$do', ping}"), "pong");
  EXPECT(nothing_arrives(50));
  for (int i = 0; i < 4; i++) ep_exit_signal_atom(p[i], EP_A_kill);
}

/* Test R30: trap_exit defaults to false, and setting it returns the
 * previous value. */
SPEC(exit, R30_trap_exit_returns_previous_default_false) {
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_trap_exit)), "{trap_exit, false}");
  EXPECT(ep_trap_exit(true) == false);
  EXPECT(ep_trap_exit(true) == true);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_trap_exit)), "{trap_exit, true}");
  EXPECT(ep_trap_exit(false) == true);
  EXPECT(ep_trap_exit(false) == false);
}

/* Test R30: the flag applies to signals handled after the call: trapping,
 * a signal becomes a message; after clearing it, the next one kills. */
SPEC(exit, R30_flag_applies_to_later_signals) {
  ep_ref r;
  ep_pid t = puppet_monitored(&r);
  EXPECT_M(cmd(t, "{'$do', trap, true}"), "false");
  ep_exit_signal(t, A("first"));
  EXPECT_M(got(t, EP_INFINITY), "{'EXIT', ^Me, first}", P(ep_self()));
  EXPECT_M(cmd(t, "{'$do', trap, false}"), "true");
  ep_exit_signal(t, A("second"));
  EXPECT_M(await_down(&r), "second");
}
