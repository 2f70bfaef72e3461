/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_proc.c - processes: spawn (R1-R5), is_alive (R6), exit reasons
 * (R2), pids and the process limit, the stackless kind, stack overflow,
 * lifecycle of the runtime.
 */
#include "core/core_test.h"

static void crash_child(ep_term arg) {
  (void)arg;
  ep_error(T("boom"));
}

static void spawn_unaffected_body(void) {
  ep_ref ref;
  ep_pid c = ep_spawn_monitor(crash_child, NULL, &ref);
  ck_assert(c.id != 0);
  assert_term(wait_down(&ref, EP_INFINITY), "{boom, []}");
  ck_assert(ep_is_alive(ep_self()));
}

/* Test that spawn returns a pid at once and a crashing child leaves the parent running (R1). */
TEST(spawn, R1_crashing_child_leaves_parent_running) {
  ep_set_exit_logger(NULL, NULL);
  run_in_process(spawn_unaffected_body);
}

static void returns(ep_term arg) { (void)arg; }
static void exits_stuff(ep_term arg) { (void)arg; ep_exit(T("stuff")); }
static void exits_deep(ep_term arg);
static int (*volatile deep_fn)(int);
static int deep(int n) {
  if (n == 0) ep_exit_atom(ep_atom_of("deep"));
  return deep_fn(n - 1) + 1;
}
static void exits_deep(ep_term arg) {
  (void)arg;
  deep_fn = deep;
  deep(50);
}

static void reasons_body(void) {
  ep_ref r;
  ep_spawn_monitor(returns, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "normal");
  ep_spawn_monitor(exits_stuff, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "stuff");
  ep_spawn_monitor(exits_deep, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "deep");
  ep_spawn_monitor(crash_child, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "{boom, []}");
}

/* Test that the exit reason is normal on return, R for exit(R) from any depth, {E, Stack} for error(E) (R2). */
TEST(spawn, R2_exit_reasons) {
  ep_set_exit_logger(NULL, NULL);
  run_in_process(reasons_body);
}

static void dies_at_once(ep_term arg) { (void)arg; ep_exit_atom(ep_atom_of("early")); }

static void spawn_link_body(void) {
  ep_trap_exit(true);
  ep_pid c = ep_spawn_link(dies_at_once, NULL);
  assert_term(wait_exit(c, EP_INFINITY), "early");
  ep_ref r;
  ep_pid m = ep_spawn_monitor(dies_at_once, NULL, &r);
  (void)m;
  assert_term(wait_down(&r, EP_INFINITY), "early");
}

/* Test that spawn_link and spawn_monitor are atomic: a child that dies at once gives its real reason, never noproc (R4, R5). */
TEST(spawn, R4_R5_spawn_link_monitor_atomic) {
  run_in_process(spawn_link_body);
}

static void dead_pid_body(void) {
  ep_pid c = dead_pid();
  ck_assert(!ep_is_alive(c));
  ck_assert_int_eq(ep_send(c, T("hello")), 0);                 /* R10: dropped */
  ck_assert_int_eq(ep_link_check(c), EP_ENOPROC);               /* R22 */
  ck_assert_int_eq(ep_exit_signal_atom(c, EP_A_kill), 0);       /* R27 */
  ck_assert_ptr_null(ep_process_info(c, EP_A_links));          /* R45 */
  ep_ref r2 = ep_monitor(c);
  assert_term(wait_down(&r2, EP_INFINITY), "noproc");           /* R33 */
  /* the slot is reused by later processes but the old pid stays dead */
  for (int i = 0; i < 200; i++) {
    ep_ref ri;
    ep_spawn_monitor(returns, NULL, &ri);
    wait_down(&ri, EP_INFINITY);
  }
  ck_assert(!ep_is_alive(c));
}

/* Test that a dead pid stays dead for ever and every operation on it behaves as noproc (R3). */
TEST(spawn, R3_dead_pid_is_noproc_for_ever) {
  run_in_process(dead_pid_body);
}

static void waits(ep_term arg) {
  (void)arg;
  recv_any(EP_INFINITY);
}

static void is_alive_body(void) {
  for (int i = 0; i < 100; i++) {
    ep_pid c = ep_spawn(waits, NULL);
    ck_assert(ep_is_alive(c));
    ep_exit_signal_atom(c, EP_A_kill);
    ck_assert(!ep_is_alive(c));                                 /* R6: always false */
  }
}

/* Test that exit(P, kill) followed by is_process_alive(P) is always false (R6). */
TEST(spawn, R6_kill_then_is_alive_false) {
  run_in_process(is_alive_body);
}

static void self_pid_body(void) {
  ep_pid me = ep_self();
  ck_assert(me.id != 0);
  ck_assert(ep_is_process());
  char buf[64];
  ep_smallterm s;
  ep_print(buf, sizeof buf, ep_pid_term(&s, me), EP_PRINT_ERLANG);
  char want[64];
  snprintf(want, sizeof want, "<0.%u.%u>", me.id, me.serial);
  ck_assert_str_eq(buf, want);
}

/* Test that self() is a pid printed <0.N.S>, and a thread outside the runtime is not a process. */
TEST(spawn, self_and_pid_text) {
  ck_assert(!ep_is_process());
  ck_assert(ep_pid_eq(ep_self(), EP_PID_NONE));
  run_in_process(self_pid_body);
}

static void limit_root(ep_term arg) {
  (void)arg;
  /* the root is one process: 1023 more fit under a limit of 1024 */
  ep_pid pids[1100];
  int n = 0;
  for (;;) {
    ep_pid p;
    int rc = ep_spawn_opt(&p, waits, NULL, NULL, NULL);
    if (rc != 0) {
      ck_assert_int_eq(rc, EP_ESYSLIMIT);
      break;
    }
    pids[n++] = p;
    ck_assert_int_lt(n, 1100);
  }
  ck_assert_int_eq(n, 1023);
  ck_assert_int_eq(ep_process_count(), 1024);
  /* after one ends, one more fits */
  ep_ref r = ep_monitor(pids[0]);
  ep_exit_signal_atom(pids[0], EP_A_kill);
  wait_down(&r, EP_INFINITY);
  ep_pid p;
  ck_assert_int_eq(ep_spawn_opt(&p, waits, NULL, NULL, NULL), 0);
  ck_assert_int_eq(ep_spawn_opt(&p, waits, NULL, NULL, NULL), EP_ESYSLIMIT);
  /* spawn/1 semantics: the caller exits with system_limit */
  ep_exit_atom(ep_spawn(waits, NULL).id ? EP_A_normal : EP_A_error);
}

/* Test that the process limit is exact and spawning past it fails with system_limit, cleanly. */
TEST(spawn, limit_reached_is_system_limit) {
  ep_config cfg = {.threads = 2, .process_limit = 1024};
  ck_assert_int_eq(ep_run(&cfg, limit_root, NULL), 1);   /* root exited system_limit */
}

/* Test that bad configurations are refused. */
TEST(runtime, bad_config_refused) {
  ep_config c1 = {.process_limit = 1023};
  ck_assert_int_eq(ep_start(&c1), EP_EINVAL);
  ep_config c2 = {.process_limit = EP_PROCESS_LIMIT_MAX + 1u};
  ck_assert_int_eq(ep_start(&c2), EP_EINVAL);
  ep_config c3 = {.threads = -1};
  ck_assert_int_eq(ep_start(&c3), EP_EINVAL);
  ep_config c4 = {.stack_size = 100};
  ck_assert_int_eq(ep_start(&c4), EP_EINVAL);
}

static void ping_back(ep_term arg) { ep_send(arg_pid(arg), arg); }

/* Test that ep_start / ep_stop work from a plain thread: spawn and send from outside, stop kills the rest. */
TEST(runtime, start_spawn_stop_from_a_thread) {
  ck_assert_int_eq(ep_start(NULL), 0);
  ck_assert_int_eq(ep_start(NULL), EP_ESTATE);
  for (int i = 0; i < 100; i++) ck_assert(ep_spawn(waits, NULL).id != 0);
  ck_assert_int_eq(ep_spawn_link(waits, NULL).id, 0);   /* link needs a process */
  ep_stop();
  ck_assert_int_eq(ep_process_count(), 0);
  /* and again: the runtime can be started after a stop */
  ck_assert_int_eq(ep_start(NULL), 0);
  ep_smallterm s;
  ck_assert(ep_spawn(ping_back, ep_pid_term(&s, EP_PID_NONE)).id != 0);
  ep_stop();
}

static int handled;
static bool counter(void *state, ep_term msg) {
  int *n = state;
  if (ep_is_atom(msg, EP_A_stop)) return false;
  ep_pid from;
  ck_assert_int_eq(ep_get_pid(ep_tuple_elem(msg, 1), &from), 0);
  (*n)++;
  ep_send_fmt(from, "{count, ~i}", *n);
  return true;
}

static void handler_body(void) {
  int n = 0;
  ep_ref r;
  ep_pid h;
  ep_spawn_opts o = {.flags = EP_SPAWN_MONITOR};
  ck_assert_int_eq(ep_spawn_handler_opt(&h, counter, &n, &o, &r), 0);
  EP_PATTERN(p_count, "{count, N::int}");
  for (int i = 1; i <= 100; i++) {
    ep_send_fmt(h, "{incr, ~p}", ep_self());
    ck_assert_int_eq(ep_receive(EP_INFINITY, p_count), 0);
    int64_t got;
    ep_bind(&got);
    ck_assert_int_eq(got, i);
  }
  ep_send_fmt(h, "stop");
  assert_term(wait_down(&r, EP_INFINITY), "normal");
  handled = n;
}

/* Test that a stackless (handler) process handles messages in order and ends when its handler says so. */
TEST(spawn, handler_process_round_trips) {
  run_in_process(handler_body);
  ck_assert_int_eq(handled, 100);
}

static bool blocks_mid_handler(void *state, ep_term msg) {
  (void)state;
  ep_pid from = arg_pid(msg);
  /* a blocking receive inside the handler keeps the borrowed stack */
  ep_term m = recv_any(EP_INFINITY);
  ep_send(from, m);
  return true;
}

static void handler_block_body(void) {
  ep_pid h = ep_spawn_handler(blocks_mid_handler, NULL);
  ep_smallterm s;
  ep_send(h, pid_arg(&s));
  send_text(h, "{second, 2}");
  assert_term(recv_any(EP_INFINITY), "{second, 2}");
  ep_exit_signal_atom(h, EP_A_kill);
}

/* Test that a handler process may block mid-handler and resume where it was. */
TEST(spawn, handler_process_blocks_mid_handler) {
  run_in_process(handler_block_body);
}

static int (*volatile recurse_fn)(int);
static int recurse(int n) {
  volatile char pad[512];
  pad[0] = (char)n;
  return n <= 0 ? pad[0] : recurse_fn(n - 1) + pad[0];
}

static void overflows(ep_term arg) {
  (void)arg;
  recurse_fn = recurse;
  recurse(1 << 20);
}

static void overflow_body(void) {
  ep_ref r;
  ep_spawn_monitor(overflows, NULL, &r);
  assert_term(wait_down(&r, EP_INFINITY), "stack_overflow");
  /* the runtime and this process carry on */
  ep_ref r2;
  ep_spawn_monitor(returns, NULL, &r2);
  assert_term(wait_down(&r2, EP_INFINITY), "normal");
}

/* Test that a stack overflow ends only the offending process, with reason stack_overflow. */
TEST(spawn, stack_overflow_ends_only_that_process) {
#if defined(EP_ASAN) || defined(EP_TSAN)
  return;   /* the sanitizers own SIGSEGV and the stack layout */
#endif
  run_in_process(overflow_body);
}

static long nested_counter;
static void catch_inner(void *ctx) {
  (void)ctx;
  ep_exit(T("inner"));
}
static void catch_body(void) {
  ep_term why = NULL;
  ck_assert_int_eq(ep_catch(catch_inner, NULL, &why), 1);
  assert_term(why, "inner");
  ck_assert_int_eq(ep_catch(catch_inner, NULL, NULL), 1);
  nested_counter = 1;
}

/* Test that ep_catch catches exit/1 from anywhere below it and the process goes on (R26). */
TEST(exit, R26_exit_is_catchable) {
  run_in_process(catch_body);
  ck_assert_int_eq(nested_counter, 1);
}
