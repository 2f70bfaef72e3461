/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_exit.c - links (R20-R24), exit signals (R25-R30) and every case of
 * seed 004's two tables (spec tables A and B).
 */
#include "core/core_test.h"

static void returns(ep_term arg) { (void)arg; }
static void waits(ep_term arg) { (void)arg; recv_any(EP_INFINITY); }


/* ------------------------------------------------------------ table A -- */

static void a_returns(ep_term a) { (void)a; }
static void a_exit_stuff(ep_term a) { (void)a; ep_exit_atom(ep_atom_of("stuff")); }
static void a_exit_normal(ep_term a) { (void)a; ep_exit_atom(EP_A_normal); }
static void a_error_stuff(ep_term a) { (void)a; ep_error(T("stuff")); }
static void a_throw_stuff(ep_term a) { (void)a; ep_error(T("{nocatch, stuff}")); }
static void a_exit_kill(ep_term a) { (void)a; ep_exit_atom(EP_A_kill); }
static void a_exit_self_kill(ep_term a) {
  (void)a;
  ep_exit_signal_atom(ep_self(), EP_A_kill);
  ck_abort_msg("exit(self(), kill) returned");
}
static void a_exit_self_normal(ep_term a) {
  (void)a;
  ep_exit_signal_atom(ep_self(), EP_A_normal);
  ck_abort_msg("exit(self(), normal) returned");
}

typedef struct {
  ep_proc_fn action;
  const char *untrapped;   /* caller's reason, or "ok" when it keeps waiting */
  const char *trapped;     /* Reason in the caller's {'EXIT', C, Reason} */
} table_row;

static const table_row table_a[] = {
  {a_returns, "ok", "normal"},
  {a_exit_stuff, "stuff", "stuff"},
  {a_exit_normal, "ok", "normal"},
  {a_error_stuff, "{stuff, []}", "{stuff, []}"},
  {a_throw_stuff, "{{nocatch, stuff}, []}", "{{nocatch, stuff}, []}"},
  {a_exit_kill, "kill", "kill"},
  {a_exit_self_kill, "killed", "killed"},
  {a_exit_self_normal, "ok", "normal"},
};

/* The caller of both tables: arg {Table, Row, Trap}. Its first message
 * decides: the child's DOWN (it kept waiting) or the {'EXIT', C, R}. */
static int64_t b_status_row;
static void b_sleeper(ep_term a) {
  (void)a;
  ep_sleep(50);
}
static const char *table_b_status[] = {"normal", "stuff", "kill"};
static const char *table_b_untrapped[] = {"ok", "stuff", "killed"};
static const char *table_b_trapped[] = {"normal", "stuff", "killed"};

static void table_caller(ep_term arg) {
  int64_t table, row;
  ep_get_int(ep_tuple_elem(arg, 0), &table);
  ep_get_int(ep_tuple_elem(arg, 1), &row);
  bool trap = ep_is_atom(ep_tuple_elem(arg, 2), EP_A_true);
  ep_trap_exit(trap);
  ep_pid c;
  const char *want;
  if (table == 0) {
    c = ep_spawn_link(table_a[row].action, NULL);
    want = trap ? table_a[row].trapped : table_a[row].untrapped;
  } else {
    c = ep_spawn_link(b_sleeper, NULL);
    ep_exit_signal(c, T(table_b_status[row]));
    want = trap ? table_b_trapped[row] : table_b_untrapped[row];
  }
  ep_ref r = ep_monitor(c);
  ep_term m = recv_any(EP_INFINITY);
  char text[256];
  if (trap) {
    ep_smallterm s;
    ep_print(text, sizeof text, ep_pid_term(&s, c), EP_PRINT_ERLANG);
    char full[300];
    snprintf(full, sizeof full, "{'EXIT', %s, %s}", text, want);
    assert_term(m, full);
  } else {
    ck_assert_str_eq(want, "ok");   /* else the link should have killed us */
    ck_assert(ep_is_atom(ep_tuple_elem(m, 0), EP_A_DOWN));
    (void)r;
  }
  ep_exit_atom(ep_atom_of("ok"));
}

static void run_row(int table, int row, bool trap, const char *want) {
  ep_term arg;
  ck_assert_int_eq(ep_format(&arg, "{~i, ~i, ~a}", table, row, trap ? "true" : "false"), 0);
  ep_ref r;
  ep_spawn_monitor(table_caller, arg, &r);
  ep_term_free(arg);
  ep_term why = wait_down(&r, EP_INFINITY);
  if (!term_is(why, want)) {
    char buf[256];
    ep_print(buf, sizeof buf, why, EP_PRINT_ERLANG);
    ck_abort_msg("table %c row %d trap=%d: caller ended %s, expected %s", 'A' + table, row + 1,
                 trap, buf, want);
  }
}

static int a_row;
static void table_a_untrapped(void) { run_row(0, a_row, false, table_a[a_row].untrapped); }
static void table_a_trapped(void) { run_row(0, a_row, true, "ok"); }

#define TABLE_A_CASE(n, label)                                                       \
  /* Test that table A row n (child: label) gives the caller the spec's outcome,    \
   * not trapping and trapping (R21, R25, R26, R27). */                             \
  TEST(table_a, row##n##_##label) {                                                 \
    ep_set_exit_logger(NULL, NULL);                                                 \
    a_row = n - 1;                                                                  \
    run_in_process(table_a_untrapped);                                              \
    run_in_process(table_a_trapped);                                                \
  }
TABLE_A_CASE(1, returns)
TABLE_A_CASE(2, exit_stuff)
TABLE_A_CASE(3, exit_normal)
TABLE_A_CASE(4, error_stuff)
TABLE_A_CASE(5, throw_stuff)
TABLE_A_CASE(6, exit_kill_is_kill_over_link)
TABLE_A_CASE(7, exit_self_kill_is_killed)
TABLE_A_CASE(8, exit_self_normal)

static void table_b_body_untrapped(void) { run_row(1, (int)b_status_row, false, table_b_untrapped[b_status_row]); }
static void table_b_body_trapped(void) { run_row(1, (int)b_status_row, true, "ok"); }

#define TABLE_B_CASE(n, label)                                                       \
  /* Test that table B row n (exit(C, label) to a linked sleeping child) gives the  \
   * caller the spec's outcome, not trapping and trapping (R25, R27, R28). */       \
  TEST(table_b, row##n##_##label) {                                                 \
    b_status_row = n - 1;                                                           \
    run_in_process(table_b_body_untrapped);                                         \
    run_in_process(table_b_body_trapped);                                           \
  }
TABLE_B_CASE(1, normal)
TABLE_B_CASE(2, stuff)
TABLE_B_CASE(3, kill)

/* Test that table B rows 4 and 5 (the child does exit(self(), kill) / exit(kill)) match table A rows 7 and 6. */
TEST(table_b, row4_row5_child_kills_itself) {
  a_row = 6;
  run_in_process(table_a_untrapped);
  run_in_process(table_a_trapped);
  a_row = 5;
  run_in_process(table_a_untrapped);
  run_in_process(table_a_trapped);
}

/* ---------------------------------------------------------------- links -- */

static void link_twice_body(void) {
  ep_trap_exit(true);
  ep_pid c = ep_spawn(waits, NULL);
  ck_assert_int_eq(ep_link(c), 0);
  ck_assert_int_eq(ep_link(c), 0);
  ck_assert_int_eq(ep_link(ep_self()), 0);   /* no-op */
  ep_term links = ep_process_info(ep_self(), EP_A_links);
  ck_assert_int_eq(ep_list_length(ep_tuple_elem(links, 1)), 1);   /* R24 */
  ep_term_free(links);
  send_text(c, "go");
  ck_assert_ptr_nonnull(wait_exit(c, EP_INFINITY));
  ck_assert_ptr_null(recv_any(50));   /* exactly one exit signal */
}

/* Test that linking twice makes one link (one exit signal), link(self()) is a no-op (R20, R24). */
TEST(links, R20_R24_link_idempotent_one_signal_listed_once) {
  run_in_process(link_twice_body);
}

static void child_of_dying_parent(ep_term arg) {
  ep_pid top = arg_pid(arg);
  recv_any(EP_INFINITY);
  (void)top;
}

static void parent_links_then_dies(ep_term arg) {
  ep_pid top = arg_pid(arg);
  ep_smallterm s;
  ep_pid c = ep_spawn_link(child_of_dying_parent, pid_arg(&s));
  ep_send_fmt(top, "{child, ~p}", c);
  recv_any(EP_INFINITY);
  ep_exit_atom(ep_atom_of("parent_gone"));
}

static void symmetric_body(void) {
  ep_smallterm s;
  ep_pid parent = ep_spawn(parent_links_then_dies, pid_arg(&s));
  EP_PATTERN(p_child, "{child, C::pid}");
  ep_receive(EP_INFINITY, p_child);
  ep_pid child;
  ep_bind(&child);
  ep_ref rc = ep_monitor(child);
  send_text(parent, "die");
  assert_term(wait_down(&rc, EP_INFINITY), "parent_gone");   /* parent kills child */
}

/* Test that links are symmetric: a parent dying kills its non-trapping linked child with its reason (R21). */
TEST(links, R21_parent_death_kills_linked_child) {
  run_in_process(symmetric_body);
}

static void noproc_untrapped_body(void) {
  ep_pid c = dead_pid();
  ck_assert_int_eq(ep_link_check(c), EP_ENOPROC);
  ep_link(c);   /* raises noproc */
  ck_abort_msg("not reached");
}

static void noproc_caught(void *ctx) { ep_link(*(ep_pid *)ctx); }

static void noproc_catch_body(void) {
  ep_pid c = dead_pid();
  ep_term why;
  ck_assert_int_eq(ep_catch(noproc_caught, &c, &why), 1);
  assert_term(why, "{noproc, []}");
}

static void noproc_trapped_body(void) {
  ep_pid c = dead_pid();
  ep_trap_exit(true);
  ck_assert_int_eq(ep_link(c), 0);
  assert_term(wait_exit(c, EP_INFINITY), "noproc");
}

static void noproc_untrapped_caller(void) {
  ep_ref r;
  ep_pid p = ep_spawn_monitor((ep_proc_fn)(void (*)(ep_term))noproc_untrapped_body, NULL, &r);
  (void)p;
  assert_term(wait_down(&r, EP_INFINITY), "{noproc, []}");
}

/* Test that link to a dead pid raises noproc (catchable) when not trapping, and gives {'EXIT', P, noproc} when trapping (R22). */
TEST(links, R22_link_to_dead_pid_noproc) {
  ep_set_exit_logger(NULL, NULL);
  run_in_process(noproc_untrapped_caller);
  run_in_process(noproc_catch_body);
  run_in_process(noproc_trapped_body);
}

static void unlink_body(void) {
  ep_pid c = ep_spawn_link(waits, NULL);
  ck_assert_int_eq(ep_unlink(c), 0);
  ck_assert_int_eq(ep_unlink(c), 0);                      /* idempotent */
  assert_new_term(ep_process_info(c, EP_A_links), "{links, []}");   /* both directions */
  ep_ref r = ep_monitor(c);
  ep_exit_signal_atom(c, ep_atom_of("bye"));
  assert_term(wait_down(&r, EP_INFINITY), "bye");         /* and we are alive */
  ck_assert_int_eq(ep_unlink(c), 0);                      /* dead pid: fine */
  /* an EXIT message already queued stays after unlink */
  ep_trap_exit(true);
  ep_pid d = ep_spawn_link(returns, NULL);
  ep_ref rd = ep_monitor(d);
  wait_down(&rd, EP_INFINITY);                            /* EXIT came before */
  ep_unlink(d);
  assert_term(wait_exit(d, 0), "normal");
}

/* Test that unlink removes both directions, is idempotent, and leaves a queued EXIT message (R23, R25.1). */
TEST(links, R23_unlink_both_ways_idempotent) {
  run_in_process(unlink_body);
}

/* ---------------------------------------------------------- exit signals -- */

static void trapper(ep_term arg) {
  ep_trap_exit(true);
  ep_pid top = arg_pid(arg);
  ep_send_fmt(top, "ready");
  for (;;) {
    ep_term m = recv_any(EP_INFINITY);
    ep_send(top, m);
  }
}

static void kill_trapper_body(void) {
  ep_smallterm s;
  ep_pid t = ep_spawn(trapper, pid_arg(&s));
  assert_term(recv_any(EP_INFINITY), "ready");
  ep_exit_signal(t, T("shutdown"));
  ep_exit_signal(t, T("killed"));
  ep_exit_signal_atom(t, EP_A_normal);
  char want[128];
  ep_pid me = ep_self();
  const char *rs[] = {"shutdown", "killed", "normal"};
  for (int i = 0; i < 3; i++) {
    snprintf(want, sizeof want, "{'EXIT', <0.%u.%u>, %s}", me.id, me.serial, rs[i]);
    assert_term(recv_any(EP_INFINITY), want);             /* R25.4 */
  }
  ep_ref r = ep_monitor(t);
  ep_exit_signal_atom(t, EP_A_kill);
  assert_term(wait_down(&r, EP_INFINITY), "killed");      /* R25.2 */
}

/* Test that a trapping process gets every exit/2 reason as a message, but kill kills it with killed (R25.2, R25.4, R27). */
TEST(exit_signals, R25_trapped_reasons_and_untrappable_kill) {
  run_in_process(kill_trapper_body);
}

static void self_normal_trapped(void) {
  ep_trap_exit(true);
  ck_assert_int_eq(ep_exit_signal_atom(ep_self(), EP_A_normal), 0);
  char want[128];
  ep_pid me = ep_self();
  snprintf(want, sizeof want, "{'EXIT', <0.%u.%u>, normal}", me.id, me.serial);
  assert_term(recv_any(0), want);
  ep_exit_signal(ep_self(), T("custom"));                   /* trapping: returns, queued */
  snprintf(want, sizeof want, "{'EXIT', <0.%u.%u>, custom}", me.id, me.serial);
  assert_term(recv_any(0), want);
}

static int after_self_exit;
static void self_normal_untrapped(ep_term a) {
  (void)a;
  ep_exit_signal_atom(ep_self(), EP_A_normal);
  after_self_exit = 1;   /* must not run */
}
static void self_other_untrapped(ep_term a) {
  (void)a;
  ep_exit_signal_atom(ep_self(), ep_atom_of("own"));
  after_self_exit = 1;
}
static void self_kill_trapped(ep_term a) {
  (void)a;
  ep_trap_exit(true);
  ep_exit_signal_atom(ep_self(), EP_A_kill);
  after_self_exit = 1;
}

static void self_exit_body(void) {
  ep_ref r;
  ep_spawn_monitor(self_normal_untrapped, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "normal");
  ep_spawn_monitor(self_other_untrapped, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "own");
  ep_spawn_monitor(self_kill_trapped, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "killed");
  ck_assert_int_eq(after_self_exit, 0);
}

/* Test that exit(self(), R) ends a non-trapping caller before it returns, kill ends even a trapping one, and a trapping caller gets {'EXIT', Self, R} (R25.3, R27). */
TEST(exit_signals, R27_exit_self) {
  run_in_process(self_exit_body);
  run_in_process(self_normal_trapped);
}

static void normal_ignored_body(void) {
  ep_pid c = ep_spawn(waits, NULL);
  ep_exit_signal_atom(c, EP_A_normal);
  ck_assert(ep_is_alive(c));                               /* R25.5 */
  ep_ref r = ep_monitor(c);
  ep_exit_signal(c, T("{any, reason}"));
  assert_term(wait_down(&r, EP_INFINITY), "{any, reason}");   /* R25.6: unwrapped */
}

/* Test that exit(P, normal) does nothing to a non-trapping P and any other reason kills it unchanged (R25.5, R25.6). */
TEST(exit_signals, R25_normal_ignored_other_kills) {
  run_in_process(normal_ignored_body);
}

static void catch_signal(void *ctx) {
  (void)ctx;
  ep_exit_signal_atom(ep_self(), ep_atom_of("uncatchable"));
}
static void not_catchable(ep_term a) {
  (void)a;
  ep_catch(catch_signal, NULL, NULL);
  after_self_exit = 1;
}

static void not_catchable_body(void) {
  ep_ref r;
  ep_spawn_monitor(not_catchable, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "uncatchable");
  ck_assert_int_eq(after_self_exit, 0);
}

/* Test that try/catch cannot intercept an exit signal, even one sent to self (R27). */
TEST(exit_signals, R27_signal_not_catchable) {
  run_in_process(not_catchable_body);
}

static void neighbour(ep_term arg) {
  /* {Top, Trap} */
  ep_pid top = arg_pid(ep_tuple_elem(arg, 0));
  if (ep_is_atom(ep_tuple_elem(arg, 1), EP_A_true)) ep_trap_exit(true);
  ep_send_fmt(top, "{ready, ~p}", ep_self());
  for (;;) {
    ep_term m = recv_any(EP_INFINITY);
    ep_send(top, m);
  }
}

static ep_pid spawn_neighbour(bool trap) {
  ep_term arg;
  ep_format(&arg, "{~p, ~a}", ep_self(), trap ? "true" : "false");
  ep_pid n = ep_spawn(neighbour, arg);
  ep_term_free(arg);
  EP_PATTERN(p_ready, "{ready, _}");
  ep_receive(EP_INFINITY, p_ready);
  return n;
}

static void victim(ep_term arg) {
  ep_pid a = arg_pid(ep_tuple_elem(arg, 0)), b = arg_pid(ep_tuple_elem(arg, 1));
  ep_link(a);
  ep_link(b);
  ep_send_fmt(arg_pid(ep_tuple_elem(arg, 2)), "linked");
  recv_any(EP_INFINITY);
}

static void not_transitive_body(void) {
  ep_pid trapping = spawn_neighbour(true), plain = spawn_neighbour(false);
  ep_term arg;
  ep_format(&arg, "{~p, ~p, ~p}", trapping, plain, ep_self());
  ep_pid v = ep_spawn(victim, arg);
  ep_term_free(arg);
  EP_PATTERN(p_linked, "linked");
  ep_receive(EP_INFINITY, p_linked);
  ep_ref rp = ep_monitor(plain);
  ep_exit_signal_atom(v, EP_A_kill);
  assert_term(wait_exit(v, EP_INFINITY), "killed");         /* trapping neighbour survives */
  assert_term(wait_down(&rp, EP_INFINITY), "killed");       /* plain one dies killed */
  ck_assert(ep_is_alive(trapping));
}

/* Test that kill is not transitive: the killed process's links get the trappable reason killed (R28). */
TEST(exit_signals, R28_kill_not_transitive) {
  run_in_process(not_transitive_body);
}

static void chain_link(ep_term arg) {
  /* {Prev, Top, Trap} */
  ep_link(arg_pid(ep_tuple_elem(arg, 0)));
  if (ep_is_atom(ep_tuple_elem(arg, 2), EP_A_true)) ep_trap_exit(true);
  ep_send_fmt(arg_pid(ep_tuple_elem(arg, 1)), "{up, ~p}", ep_self());
  for (;;) recv_any(EP_INFINITY);
}

static void propagation_body(void) {
  /* p0 - p1 - p2(trap) - p3 : killing p0 with reason boom kills p1, p2 traps */
  ep_pid p[4];
  p[0] = ep_spawn(waits, NULL);
  EP_PATTERN(p_up, "{up, _}");
  for (int i = 1; i < 4; i++) {
    ep_term arg;
    ep_format(&arg, "{~p, ~p, ~a}", p[i - 1], ep_self(), i == 2 ? "true" : "false");
    p[i] = ep_spawn(chain_link, arg);
    ep_term_free(arg);
    ep_receive(EP_INFINITY, p_up);
  }
  ep_ref r1 = ep_monitor(p[1]);
  ep_ref r2 = ep_monitor(p[2]);
  ep_exit_signal(p[0], T("boom"));
  assert_term(wait_down(&r1, EP_INFINITY), "boom");         /* same reason down the chain */
  ck_assert_ptr_null(wait_down(&r2, 50));                   /* the trapping one lives */
  ck_assert(ep_is_alive(p[2]));
  ck_assert(ep_is_alive(p[3]));
}

/* Test that a chain of non-trapping processes dies with the same reason and a trapping one stops it (R29). */
TEST(exit_signals, R29_propagation_stops_at_trapper) {
  run_in_process(propagation_body);
}

static void flag_body(void) {
  ck_assert(!ep_trap_exit(true));                           /* default false */
  ck_assert(ep_trap_exit(false));
  ck_assert(!ep_trap_exit(false));
  assert_new_term(ep_process_info(ep_self(), EP_A_trap_exit), "{trap_exit, false}");
}

/* Test that process_flag(trap_exit) returns the previous value, default false (R30). */
TEST(exit_signals, R30_trap_exit_returns_previous) {
  run_in_process(flag_body);
}

static void exit_kill_linked_body(void) {
  ep_pid n = spawn_neighbour(false);
  ep_pid t = spawn_neighbour(true);
  (void)t;
  ep_ref rn = ep_monitor(n);
  ep_term arg;
  ep_format(&arg, "{~p, ~p, ~p}", n, t, ep_self());
  ep_pid v = ep_spawn(victim, arg);
  ep_term_free(arg);
  EP_PATTERN(p_linked, "linked");
  ep_receive(EP_INFINITY, p_linked);
  send_text(v, "go");   /* victim returns from receive and ends normally: nothing */
  ck_assert_ptr_null(wait_down(&rn, 50));
  ck_assert(ep_is_alive(n));
}

/* Test that a normal end never propagates over links (R29, R25.5). */
TEST(exit_signals, R29_normal_end_does_not_propagate) {
  run_in_process(exit_kill_linked_body);
}
