/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_tables.c - seed 004's two tables as the spec verified them (Table
 * A: the child's action x the caller's trap flag; Table B: exit(C, Status)
 * x the caller's trap flag), one test per cell. The caller is a puppet
 * that traps (or not), spawn_links the child and waits; the root watches
 * caller and child with monitors and reads what the caller received.
 */
#include <stdio.h>

#include "spec_util.h"

enum outcome { KEEPS_WAITING, DIES, GETS };

/* The caller: a monitored puppet with trap_exit set to `trap`. */
static ep_pid caller_with_trap(bool trap, ep_ref *mref) {
  ep_pid caller = puppet_monitored(mref);
  EXPECT_M(cmd(caller, trap ? "{'$do', trap, true}" : "{'$do', trap, false}"), "false");
  return caller;
}

/* What the root sees of the caller once the child is dead. */
static void expect_caller(ep_pid caller, ep_ref *cref, ep_pid child, enum outcome o,
                          const char *reason) {
  char pat[256];
  switch (o) {
  case KEEPS_WAITING:
    EXPECT_M(cmd(caller, "{'$do', ping}"), "pong");
    EXPECT(got(caller, 100) == NULL);
    EXPECT(ep_is_alive(caller));
    ep_exit_signal_atom(caller, EP_A_kill);
    break;
  case DIES:
    EXPECT_M(await_down(cref), reason);
    EXPECT(got(caller, 0) == NULL);
    break;
  case GETS:
    snprintf(pat, sizeof pat, "{'EXIT', ^C, %s}", reason);
    EXPECT_M(got(caller, EP_INFINITY), pat, P(child));
    EXPECT_M(cmd(caller, "{'$do', ping}"), "pong");
    ep_exit_signal_atom(caller, EP_A_kill);
    break;
  }
}

/* Table A: trap_exit(T), spawn_link(Action), wait for a message. */
static void table_a(const char *action, bool trap, enum outcome o, const char *reason) {
  ep_ref cref;
  ep_pid caller = caller_with_trap(trap, &cref);
  ep_pid child = pid_of(cmd(caller, "{'$do', spawn_link, ~a}", action));
  ep_ref chref = ep_monitor(child);
  ep_send(child, A("go"));
  await_down(&chref);
  expect_caller(caller, &cref, child, o, reason);
}

/* Test that a child that returns leaves a non-trapping linked caller
 * waiting (Table A, R25.5). */
SPEC(table_a, returns_not_trapping_keeps_waiting) { table_a("returns", false, KEEPS_WAITING, NULL); }
/* Test that a child that returns gives a trapping caller {'EXIT', C, normal}
 * (Table A, R25.4). */
SPEC(table_a, returns_trapping_gets_exit_normal) { table_a("returns", true, GETS, "normal"); }
/* Test that exit(stuff) in the child kills a non-trapping caller with stuff
 * (Table A, R25.6, R26). */
SPEC(table_a, exit_stuff_not_trapping_dies_stuff) { table_a("exit_stuff", false, DIES, "stuff"); }
/* Test that exit(stuff) gives a trapping caller {'EXIT', C, stuff} (Table A). */
SPEC(table_a, exit_stuff_trapping_gets_exit_stuff) { table_a("exit_stuff", true, GETS, "stuff"); }
/* Test that exit(normal) leaves a non-trapping caller waiting (Table A). */
SPEC(table_a, exit_normal_not_trapping_keeps_waiting) { table_a("exit_normal", false, KEEPS_WAITING, NULL); }
/* Test that exit(normal) gives a trapping caller {'EXIT', C, normal} (Table A). */
SPEC(table_a, exit_normal_trapping_gets_exit_normal) { table_a("exit_normal", true, GETS, "normal"); }
/* Test that error(stuff) kills a non-trapping caller with {stuff, Stack}
 * (Table A, R2). */
SPEC(table_a, error_stuff_not_trapping_dies_stuff_stack) { table_a("error_stuff", false, DIES, "{stuff, _}"); }
/* Test that error(stuff) gives a trapping caller
 * {'EXIT', C, {stuff, Stack}} (Table A). */
SPEC(table_a, error_stuff_trapping_gets_exit_stuff_stack) { table_a("error_stuff", true, GETS, "{stuff, _}"); }
/* Test that throw(stuff) kills a non-trapping caller with
 * {{nocatch, stuff}, Stack} (Table A; spec_throw stands for throw). */
SPEC(table_a, throw_stuff_not_trapping_dies_nocatch) { table_a("throw_stuff", false, DIES, "{{nocatch, stuff}, _}"); }
/* Test that throw(stuff) gives a trapping caller
 * {'EXIT', C, {{nocatch, stuff}, Stack}} (Table A). */
SPEC(table_a, throw_stuff_trapping_gets_exit_nocatch) { table_a("throw_stuff", true, GETS, "{{nocatch, stuff}, _}"); }
/* Test that exit(kill) in the child kills a non-trapping caller with kill,
 * not killed (Table A, R26; seed 004 case 5 corrected). */
SPEC(table_a, exit_kill_not_trapping_dies_kill) { table_a("exit_kill", false, DIES, "kill"); }
/* Test that exit(kill) gives a trapping caller {'EXIT', C, kill} (Table A, R26). */
SPEC(table_a, exit_kill_trapping_gets_exit_kill) { table_a("exit_kill", true, GETS, "kill"); }
/* Test that exit(self(), kill) in the child kills a non-trapping caller
 * with killed (Table A, R27, R28). */
SPEC(table_a, exit_self_kill_not_trapping_dies_killed) { table_a("exit_self_kill", false, DIES, "killed"); }
/* Test that exit(self(), kill) gives a trapping caller
 * {'EXIT', C, killed} (Table A). */
SPEC(table_a, exit_self_kill_trapping_gets_exit_killed) { table_a("exit_self_kill", true, GETS, "killed"); }
/* Test that exit(self(), normal) in the child leaves a non-trapping caller
 * waiting (Table A, R25.3). */
SPEC(table_a, exit_self_normal_not_trapping_keeps_waiting) { table_a("exit_self_normal", false, KEEPS_WAITING, NULL); }
/* Test that exit(self(), normal) gives a trapping caller
 * {'EXIT', C, normal} (Table A). */
SPEC(table_a, exit_self_normal_trapping_gets_exit_normal) { table_a("exit_self_normal", true, GETS, "normal"); }

/* Table B: trap_exit(T), C = spawn_link(sleep 300 ms), exit(C, Status). */
static void table_b(const char *status, bool trap, const char *child_reason, enum outcome o,
                    const char *reason) {
  ep_ref cref;
  ep_pid caller = caller_with_trap(trap, &cref);
  ep_pid child = pid_of(cmd(caller, "{'$do', spawn_link, sleep300}"));
  ep_ref chref = ep_monitor(child);
  ep_send(child, A("go"));
  cmd_nowait(caller, "{'$do', exit_signal, ~p, ~a}", child, status);
  EXPECT_M(await_down(&chref), child_reason);
  if (o == DIES) {
    EXPECT_M(await_down(&cref), reason);
    return;
  }
  EXPECT_M(recv_match(EP_INFINITY, "{'$done', ^P, ok}", P(caller)), "{'$done', _, ok}");
  expect_caller(caller, &cref, child, o, reason);
}

/* Table B, the child acting itself (no status sent). */
static void table_b_action(const char *action, bool trap, enum outcome o, const char *reason) {
  table_a(action, trap, o, reason);
}

/* Test that exit(C, normal) is ignored by a sleeping non-trapping child,
 * which ends normally, and the caller keeps waiting (Table B, R27). */
SPEC(table_b, normal_not_trapping_child_ignores_caller_waits) {
  table_b("normal", false, "normal", KEEPS_WAITING, NULL);
}
/* Test that exit(C, normal) is ignored by the child, and a trapping caller
 * gets {'EXIT', C, normal} when it ends (Table B). */
SPEC(table_b, normal_trapping_child_ignores_caller_gets_exit_normal) {
  table_b("normal", true, "normal", GETS, "normal");
}
/* Test that exit(C, stuff) kills the child with stuff and the link kills a
 * non-trapping caller with stuff (Table B, R25.6). */
SPEC(table_b, stuff_not_trapping_both_die_stuff) { table_b("stuff", false, "stuff", DIES, "stuff"); }
/* Test that exit(C, stuff) gives a trapping caller {'EXIT', C, stuff}
 * (Table B). */
SPEC(table_b, stuff_trapping_gets_exit_stuff) { table_b("stuff", true, "stuff", GETS, "stuff"); }
/* Test that exit(C, kill) kills the child with killed and a non-trapping
 * caller with killed (Table B, R27, R28). */
SPEC(table_b, kill_not_trapping_both_die_killed) { table_b("kill", false, "killed", DIES, "killed"); }
/* Test that exit(C, kill) gives a trapping caller {'EXIT', C, killed}
 * (Table B, R28). */
SPEC(table_b, kill_trapping_gets_exit_killed) { table_b("kill", true, "killed", GETS, "killed"); }
/* Test that a child doing exit(self(), kill) kills a non-trapping caller
 * with killed (Table B). */
SPEC(table_b, child_exit_self_kill_not_trapping_dies_killed) {
  table_b_action("exit_self_kill", false, DIES, "killed");
}
/* Test that a child doing exit(self(), kill) gives a trapping caller
 * {'EXIT', C, killed} (Table B). */
SPEC(table_b, child_exit_self_kill_trapping_gets_exit_killed) {
  table_b_action("exit_self_kill", true, GETS, "killed");
}
/* Test that a child doing exit(kill) kills a non-trapping caller with kill
 * (Table B, seed 004 case 5 corrected). */
SPEC(table_b, child_exit_kill_not_trapping_dies_kill) { table_b_action("exit_kill", false, DIES, "kill"); }
/* Test that a child doing exit(kill) gives a trapping caller
 * {'EXIT', C, kill} (Table B). */
SPEC(table_b, child_exit_kill_trapping_gets_exit_kill) { table_b_action("exit_kill", true, GETS, "kill"); }
