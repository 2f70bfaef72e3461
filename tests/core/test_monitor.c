/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_monitor.c - monitors (R31-R38), the termination order (R7), names
 * (R39-R44), process_info (R45) and timers.
 */
#include "core/core_test.h"

static void waits(ep_term arg) { (void)arg; recv_any(EP_INFINITY); }
static void returns(ep_term arg) { (void)arg; }

static void unique_body(void) {
  ep_pid t = ep_spawn(waits, NULL);
  ep_ref refs[1000];
  for (int i = 0; i < 1000; i++) {
    refs[i] = ep_monitor(t);
    for (int j = 0; j < i; j += 97) ck_assert(!ep_ref_eq(&refs[i], &refs[j]));
  }
  for (int i = 1; i < 1000; i++) ck_assert(!ep_ref_eq(&refs[i], &refs[i - 1]));
  ep_exit_signal(t, T("bye"));
  for (int i = 0; i < 1000; i++) assert_term(wait_down(&refs[i], EP_INFINITY), "bye");   /* R35 */
  ck_assert_ptr_null(recv_any(0));
}

/* Test that monitor refs are unique and several monitors on one target each deliver their own DOWN (R31, R35). */
TEST(monitors, R31_R35_unique_refs_independent_downs) {
  run_in_process(unique_body);
}

static void watcher_dies(ep_term arg) {
  ep_monitor(arg_pid(arg));
  ep_exit_atom(ep_atom_of("watcher_gone"));
}

static void one_way_body(void) {
  ep_pid t = ep_spawn(waits, NULL);
  ep_ref r;
  ep_smallterm s;
  ep_spawn_monitor(watcher_dies, ep_pid_term(&s, t), &r);
  assert_term(wait_down(&r, EP_INFINITY), "watcher_gone");
  ck_assert(ep_is_alive(t));                                       /* target unaffected */
  assert_new_term(ep_process_info(t, EP_A_monitored_by), "{monitored_by, []}");   /* removed */
  /* the target's death never kills the watcher, trapping or not */
  ep_ref r2 = ep_monitor(t);
  ep_exit_signal(t, T("crash"));
  assert_term(wait_down(&r2, EP_INFINITY), "crash");
  ck_assert(ep_is_alive(ep_self()));
}

/* Test that monitors are one way: the watcher's death removes its monitors, the target's death does not kill the watcher (R31). */
TEST(monitors, R31_one_way) {
  run_in_process(one_way_body);
}

static void down_shape_body(void) {
  ep_ref r;
  ep_pid c = ep_spawn_monitor(waits, NULL, &r);
  ep_exit_signal(c, T("{shape, 1}"));
  EP_PATTERN(p_down, "{'DOWN', R::ref, process, P::pid, Reason}");
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_down), 0);
  ep_ref got;
  ep_pid who;
  ep_term reason;
  ep_bind(&got, &who, &reason);
  ck_assert(ep_ref_eq(&got, &r));
  ck_assert(ep_pid_eq(who, c));
  assert_term(reason, "{shape, 1}");
  ck_assert_ptr_null(recv_any(0));                                 /* exactly one */
  ck_assert(!ep_demonitor(&r, EP_DEMONITOR_INFO));                 /* gone after DOWN */
}

/* Test that a DOWN is {'DOWN', Ref, process, Pid, Reason}, delivered once, after which the monitor is gone (R32). */
TEST(monitors, R32_down_once_with_reason) {
  run_in_process(down_shape_body);
}

static void noproc_body(void) {
  ep_pid c = dead_pid();
  ep_ref r2 = ep_monitor(c);
  assert_term(wait_down(&r2, EP_INFINITY), "noproc");
  ep_ref r3 = ep_monitor((ep_pid){123456, 9, 0, 0});
  assert_term(wait_down(&r3, EP_INFINITY), "noproc");
}

/* Test that monitoring a dead or never-existing pid gives a noproc DOWN (R33). */
TEST(monitors, R33_monitor_dead_pid_noproc) {
  run_in_process(noproc_body);
}

static void by_name_body(void) {
  ep_atom name = ep_atom_of("watched");
  ep_pid t = ep_spawn(waits, NULL);
  ck_assert_int_eq(ep_register(name, t), 0);
  ep_ref r = ep_monitor_name(name);
  ep_exit_signal(t, T("named_down"));
  EP_PATTERN(p_down, "{'DOWN', _, process, Obj, Reason}");
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_down), 0);
  assert_term(ep_var(0), "{watched, 'nonode@nohost'}");
  assert_term(ep_var(1), "named_down");
  ep_ref r2 = ep_monitor_name(ep_atom_of("nobody_by_that_name"));
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_down), 0);
  assert_term(ep_var(0), "{nobody_by_that_name, 'nonode@nohost'}");
  assert_term(ep_var(1), "noproc");
  (void)r;
  (void)r2;
}

/* Test that monitor by name resolves once and the DOWN object is {Name, Node}, noproc if unregistered (R34). */
TEST(monitors, R34_monitor_by_name) {
  run_in_process(by_name_body);
}

static void demonitor_body(void) {
  ep_pid t = ep_spawn(waits, NULL);
  ep_ref r = ep_monitor(t);
  ck_assert(ep_demonitor(&r, 0));
  ck_assert(ep_demonitor(&r, 0));                                  /* again: true */
  ep_exit_signal(t, T("x"));
  ep_ref r0 = ep_monitor(t);
  wait_down(&r0, EP_INFINITY);
  ck_assert_ptr_null(wait_down(&r, 0));                            /* no DOWN added */
  /* a DOWN already in the mailbox stays after demonitor: a second monitor
   * made later fires later (DOWNs go out in monitor order) */
  ep_ref rr;
  ep_pid c = ep_spawn_monitor(waits, NULL, &rr);
  ep_ref probe = ep_monitor(c);
  send_text(c, "go");
  wait_down(&probe, EP_INFINITY);
  ck_assert(ep_demonitor(&rr, 0));
  assert_term(wait_down(&rr, 0), "normal");                         /* R36: it stays */
}

/* Test that demonitor turns the monitor off (no DOWN added afterwards), is idempotent, and leaves a DOWN already queued (R36). */
TEST(monitors, R36_demonitor) {
  run_in_process(demonitor_body);
}

static void flush_info_body(void) {
  ep_ref r;
  ep_pid c = ep_spawn_monitor(waits, NULL, &r);
  ep_ref probe = ep_monitor(c);
  send_text(c, "go");
  wait_down(&probe, EP_INFINITY);                                  /* r's DOWN is queued too */
  ck_assert(!ep_demonitor(&r, EP_DEMONITOR_FLUSH | EP_DEMONITOR_INFO));   /* flush was needed */
  ck_assert_ptr_null(wait_down(&r, 0));                            /* R37: removed */
  ep_pid t = ep_spawn(waits, NULL);
  ep_ref r2 = ep_monitor(t);
  ck_assert(ep_demonitor(&r2, EP_DEMONITOR_INFO));                 /* R38: found */
  ck_assert(!ep_demonitor(&r2, EP_DEMONITOR_INFO));                /* not any more */
  ck_assert(ep_demonitor(&r2, EP_DEMONITOR_FLUSH));                /* flush alone: true */
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test that demonitor with flush removes a queued DOWN and info tells whether the monitor was still there (R37, R38). */
TEST(monitors, R37_R38_flush_and_info) {
  run_in_process(flush_info_body);
}

static void dies_named(ep_term arg) {
  ep_register(ep_atom_of("reusable"), ep_self());
  ep_send_fmt(arg_pid(arg), "registered");
  ep_exit_atom(ep_atom_of("done"));
}

static void order_body(void) {
  ep_trap_exit(true);
  ep_smallterm s;
  ep_pid c = ep_spawn_link(dies_named, pid_arg(&s));
  ep_ref r = ep_monitor(c);
  /* EXIT before DOWN for an observer that both links and monitors (R7) */
  ep_term first = recv_any(EP_INFINITY);
  assert_term(first, "registered");
  char want[128];
  snprintf(want, sizeof want, "{'EXIT', <0.%u.%u>, done}", c.id, c.serial);
  assert_term(recv_any(EP_INFINITY), want);
  assert_term(wait_down(&r, 0), "done");
  /* the name was released before the DOWN went out (R7, R44) */
  ck_assert_int_eq(ep_whereis(ep_atom_of("reusable")).id, 0);
  ck_assert_int_eq(ep_register(ep_atom_of("reusable"), ep_self()), 0);
}

/* Test the termination order: name released, then EXIT, then DOWN (R7, R44). */
TEST(monitors, R7_termination_order) {
  run_in_process(order_body);
}

static void sender_then_dies(ep_term arg) {
  ep_pid to = arg_pid(arg);
  for (int i = 0; i < 100; i++) ep_send_fmt(to, "{m, ~i}", i);
  ep_exit_atom(ep_atom_of("after_messages"));
}

static void messages_before_down_body(void) {
  ep_trap_exit(true);
  for (int round = 0; round < 20; round++) {
    ep_smallterm s;
    ep_ref r;
    ep_pid c = ep_spawn_opt(NULL, sender_then_dies, pid_arg(&s), &(ep_spawn_opts){.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR}, &r) == 0 ? EP_PID_NONE : EP_PID_NONE;
    (void)c;
    for (int i = 0; i < 100; i++) {
      ep_term m = recv_any(EP_INFINITY);
      ck_assert_int_eq(ep_tuple_arity(m), 2);                      /* {m, I}: no EXIT/DOWN yet */
      int64_t n;
      ep_get_int(ep_tuple_elem(m, 1), &n);
      ck_assert_int_eq(n, i);
    }
    ep_term e = recv_any(EP_INFINITY);
    ck_assert(ep_is_atom(ep_tuple_elem(e, 0), EP_A_EXIT));
    assert_term(wait_down(&r, 0), "after_messages");
  }
}

/* Test that messages a process sent before dying arrive before its EXIT and DOWN (R12). */
TEST(monitors, R12_messages_before_exit_and_down) {
  run_in_process(messages_before_down_body);
}

/* ------------------------------------------------------------ registry -- */

static void registry_body(void) {
  ep_atom a = ep_atom_of("a_name"), b = ep_atom_of("b_name");
  ep_pid t = ep_spawn(waits, NULL);
  ck_assert_int_eq(ep_register(a, t), 0);
  ck_assert_int_eq(ep_register(a, ep_self()), EP_EBADARG);          /* name in use */
  ck_assert_int_eq(ep_register(b, t), EP_EBADARG);                  /* pid has a name */
  ck_assert_int_eq(ep_register(EP_A_undefined, ep_self()), EP_EBADARG);
  ep_pid dead = dead_pid();
  ck_assert_int_eq(ep_register(b, dead), EP_EBADARG);               /* not alive */
  ck_assert(ep_pid_eq(ep_whereis(a), t));                           /* R40 */
  ck_assert_int_eq(ep_whereis(b).id, 0);
  ep_atom names[8];
  ck_assert_int_eq(ep_registered(names, 8), 1);                     /* R42 */
  ck_assert_int_eq(names[0], a);
  assert_new_term(ep_process_info(t, EP_A_registered_name), "{registered_name, a_name}");
  assert_new_term(ep_process_info(ep_self(), EP_A_registered_name), "[]");
  ck_assert_int_eq(ep_unregister(a), 0);                            /* R41 */
  ck_assert_int_eq(ep_unregister(a), EP_EBADARG);
  ck_assert_int_eq(ep_registered(NULL, 0), 0);
  ck_assert_int_eq(ep_register(b, t), 0);                           /* may take a new name */
  ep_ref rt = ep_monitor(t);
  ep_exit_signal_atom(t, EP_A_kill);
  wait_down(&rt, EP_INFINITY);
  ck_assert_int_eq(ep_whereis(b).id, 0);                            /* R44: released */
  ck_assert_int_eq(ep_send_name(b, T("x")), EP_EBADARG);
}

/* Test register / whereis / unregister / registered and their badarg cases (R39-R42, R44). */
TEST(registry, R39_R44_register_whereis_unregister) {
  run_in_process(registry_body);
}

static void alias_body(void) {
  ep_atom n = ep_atom_of("alias");
  ep_pid t = ep_spawn(waits, NULL);
  ep_register(n, t);
  ep_ref r = ep_monitor(t);
  ck_assert_int_eq(ep_send_name(n, T("hello")), 0);                 /* R43: resolved now */
  wait_down(&r, EP_INFINITY);                                       /* t took it and ended */
  ck_assert_int_eq(ep_send_name(n, T("hello")), EP_EBADARG);
}

/* Test that send by name resolves at the moment of sending (R43). */
TEST(registry, R43_send_by_name_resolves_now) {
  run_in_process(alias_body);
}

/* -------------------------------------------------------- process_info -- */

static void info_target(ep_term arg) {
  ep_pid top = arg_pid(arg);
  ep_link(top);
  ep_monitor(top);
  ep_register(ep_atom_of("info_target"), ep_self());
  ep_send_fmt(top, "ready");
  EP_PATTERN(p_never, "never");
  ep_receive(EP_INFINITY, p_never);
}

static void info_body(void) {
  ep_trap_exit(true);
  ep_smallterm s;
  ep_pid t = ep_spawn(info_target, pid_arg(&s));
  assert_term(recv_any(EP_INFINITY), "ready");
  send_text(t, "one");
  send_text(t, "{two, 2}");
  char want[256];
  snprintf(want, sizeof want, "{links, [<0.%u.%u>]}", ep_self().id, ep_self().serial);
  assert_new_term(ep_process_info(t, EP_A_links), want);
  snprintf(want, sizeof want, "{monitors, [{process, <0.%u.%u>}]}", ep_self().id, ep_self().serial);
  assert_new_term(ep_process_info(t, EP_A_monitors), want);
  snprintf(want, sizeof want, "{monitored_by, [<0.%u.%u>]}", t.id, t.serial);
  assert_new_term(ep_process_info(ep_self(), EP_A_monitored_by), want);
  assert_new_term(ep_process_info(t, EP_A_message_queue_len), "{message_queue_len, 2}");
  assert_new_term(ep_process_info(t, EP_A_messages), "{messages, [one, {two, 2}]}");
  assert_new_term(ep_process_info(t, EP_A_trap_exit), "{trap_exit, false}");
  assert_new_term(ep_process_info(t, EP_A_registered_name), "{registered_name, info_target}");
  ep_term st = ep_process_info(t, EP_A_status);
  ck_assert_ptr_nonnull(st);
  ep_term red = ep_process_info(t, EP_A_reductions);
  int64_t n;
  ck_assert_int_eq(ep_get_int(ep_tuple_elem(red, 1), &n), 0);
  ck_assert_int_gt(n, 0);
  ep_term mem = ep_process_info(t, EP_A_memory);
  ck_assert_int_eq(ep_get_int(ep_tuple_elem(mem, 1), &n), 0);
  ck_assert_int_gt(n, 0);
  ep_term_free(st);
  ep_term_free(red);
  ep_term_free(mem);
  ep_exit_signal_atom(t, EP_A_kill);
  ck_assert_ptr_null(ep_process_info(t, EP_A_links));              /* dead: undefined */
  ck_assert_ptr_null(ep_process_info(t, EP_A_messages));
}

/* Test that process_info gives links, monitors, monitored_by, queue length, messages in order, trap_exit, registered_name, and undefined for a dead process (R45). */
TEST(info, R45_process_info_items) {
  run_in_process(info_body);
}

static void *info_from_thread(void *arg) {
  ep_pid t = *(ep_pid *)arg;
  ep_term m = ep_process_info(t, EP_A_messages);
  ck_assert_ptr_nonnull(m);
  bool ok = term_is(m, "{messages, [hi]}");
  ep_term_free(m);
  return ok ? arg : NULL;
}

static void info_foreign_body(void) {
  ep_pid t = ep_spawn(info_target, pid_arg(&(ep_smallterm){0}));
  ck_assert_ptr_nonnull(t.id ? &t : NULL);
  ep_trap_exit(true);
  assert_term(recv_any(EP_INFINITY), "ready");
  send_text(t, "hi");
  pthread_t th;
  pthread_create(&th, NULL, info_from_thread, &t);
  void *res;
  pthread_join(th, &res);   /* a short block of this worker: the other one serves */
  ck_assert_ptr_nonnull(res);
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test that process_info(P, messages) works from a thread outside the runtime too (R45). */
TEST(info, R45_messages_from_foreign_thread) {
  run_in_process(info_foreign_body);
}

/* ---------------------------------------------------------------- timers -- */

static void timer_body(void) {
  ep_ref t1 = ep_send_after(30, ep_self(), T("tick"));
  long left = ep_read_timer(&t1);
  ck_assert_int_gt(left, 0);
  ck_assert_int_le(left, 30);
  ep_ref t2 = ep_send_after(10000, ep_self(), T("never"));
  long l2 = ep_cancel_timer(&t2);
  ck_assert_int_gt(l2, 9000);
  ck_assert_int_eq(ep_cancel_timer(&t2), EP_ENOTFOUND);
  uint64_t t0 = ep__os_now_ns();
  assert_term(recv_any(EP_INFINITY), "tick");
  ck_assert_int_ge((long)((ep__os_now_ns() - t0) / 1000000u), 0);
  ck_assert_int_eq(ep_read_timer(&t1), EP_ENOTFOUND);               /* fired */
  ck_assert_ptr_null(recv_any(30));                                 /* cancelled never comes */
  /* a timer to a process that dies first is dropped */
  ep_ref r;
  ep_pid c = ep_spawn_monitor(returns, NULL, &r);
  ep_send_after(5, c, T("late"));
  wait_down(&r, EP_INFINITY);
}

/* Test send_after, read_timer and cancel_timer, and that a cancelled timer never delivers. */
TEST(timers, send_after_cancel_read) {
  run_in_process(timer_body);
}
