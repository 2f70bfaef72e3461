/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_monitors.c - conformance tests for spec sections 6-8: monitors
 * (R31-R38), registration (R39-R44) and process_info (R45). Observes only
 * through DOWN messages, the registry calls and process_info.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "spec_util.h"

/* Test that monitor references are unique: 1000 monitors give 1000
 * distinct refs, each DOWN carrying its own (R31, R35). */
SPEC(monitors, R31_R35_refs_unique_each_monitor_own_down) {
  enum { N = 1000 };
  static ep_ref refs[N];
  ep_pid t = puppet();
  for (int i = 0; i < N; i++) refs[i] = ep_monitor(t);
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j++) EXPECT(!ep_ref_eq(&refs[i], &refs[j]));
  cmd_nowait(t, "{'$do', exit, bye}");
  for (int i = 0; i < N; i++)
    EXPECT(recv_match(EP_INFINITY, "{'DOWN', ^R, process, ^T, bye}", R(&refs[i]), P(t)) != NULL);
  EXPECT(nothing_arrives(50));
}

/* Test that monitors go one way: the target's crash never kills the
 * watcher, trapping or not, it only gets the DOWN (R31). */
SPEC(monitors, R31_target_death_never_kills_watcher) {
  for (int trap = 0; trap < 2; trap++) {
    ep_pid w = puppet();
    cmd(w, trap ? "{'$do', trap, true}" : "{'$do', trap, false}");
    ep_pid t = puppet();
    ep_term ref = cmd(w, "{'$do', monitor, ~p}", t);
    cmd_nowait(t, "{'$do', error, crash}");
    EXPECT_M(got(w, EP_INFINITY), "{'DOWN', ^R, process, ^T, {crash, _}}", ref, P(t));
    EXPECT_M(cmd(w, "{'$do', ping}"), "pong");
    EXPECT(got(w, 50) == NULL);
    ep_exit_signal_atom(w, EP_A_kill);
  }
}

/* Test that a watcher's death does not affect its target (R31). */
SPEC(monitors, R31_watcher_death_leaves_target) {
  ep_pid t = puppet(), w = puppet();
  cmd(w, "{'$do', monitor, ~p}", t);
  ep_ref r = ep_monitor(w);
  cmd_nowait(w, "{'$do', error, crash}");
  await_down(&r);
  EXPECT_M(cmd(t, "{'$do', ping}"), "pong");
  EXPECT_M(spec_own(ep_process_info(t, EP_A_monitored_by)), "{monitored_by, []}");
  ep_exit_signal_atom(t, EP_A_kill);
}

/* Test that a monitor delivers exactly one {'DOWN', Ref, process, P, R}
 * and then no longer exists (R32). */
SPEC(monitors, R32_exactly_one_down_then_gone) {
  ep_pid t = puppet();
  ep_ref r = ep_monitor(t);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_monitors)), "{monitors, [{process, ^T}]}", P(t));
  EXPECT_M(spec_own(ep_process_info(t, EP_A_monitored_by)), "{monitored_by, [^Me]}", P(ep_self()));
  cmd_nowait(t, "{'$do', exit, {shutdown, done}}");
  EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, ^T, {shutdown, done}}", R(&r), P(t));
  EXPECT(nothing_arrives(100));
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_monitors)), "{monitors, []}");
  EXPECT(ep_demonitor(&r, EP_DEMONITOR_INFO) == false);
}

/* Test that monitoring a dead or never-existing pid delivers a DOWN with
 * reason noproc (R33). */
SPEC(monitors, R33_dead_or_missing_pid_noproc_down) {
  ep_pid d = puppet();
  cmd_nowait(d, "{'$do', return}");
  wait_death(d);
  ep_ref r = ep_monitor(d);
  EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, ^D, noproc}", R(&r), P(d));
  ep_pid never = {.id = 999002, .serial = 99, .node = EP_NODE_LOCAL, .creation = 0};
  r = ep_monitor(never);
  EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, ^N, noproc}", R(&r), P(never));
}

/* Test that a monitor by name resolves it once and names the target
 * {Name, Node} in the DOWN; an unregistered name gives a noproc DOWN
 * (R34). */
SPEC(monitors, R34_monitor_by_name) {
  ep_atom name = ep_atom_of("spec_r34");
  ep_pid t = puppet();
  EXPECT(ep_register(name, t) == 0);
  ep_ref r = ep_monitor_name(name);
  EXPECT(ep_unregister(name) == 0);   /* resolved at the call: still watched */
  cmd_nowait(t, "{'$do', exit, bye}");
  EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, {spec_r34, ~a}, bye}", R(&r));
  r = ep_monitor_name(ep_atom_of("spec_r34_nobody"));
  EXPECT_M(recv_any(EP_INFINITY), "{'DOWN', ^R, process, {spec_r34_nobody, ~a}, noproc}", R(&r));
}

/* Test that several monitors on one target are independent: removing one
 * leaves the others, each of which delivers its own DOWN (R35). */
SPEC(monitors, R35_monitors_independent) {
  ep_pid t = puppet();
  ep_ref a = ep_monitor(t), b = ep_monitor(t), c = ep_monitor(t);
  EXPECT(!ep_ref_eq(&a, &b) && !ep_ref_eq(&b, &c));
  EXPECT(ep_demonitor(&b, 0));
  cmd_nowait(t, "{'$do', exit, bye}");
  EXPECT(recv_match(EP_INFINITY, "{'DOWN', ^R, process, _, bye}", R(&a)) != NULL);
  EXPECT(recv_match(EP_INFINITY, "{'DOWN', ^R, process, _, bye}", R(&c)) != NULL);
  EXPECT(nothing_arrives(100));
}

/* Test that demonitor returns true and no DOWN is added afterwards; a
 * second demonitor of the same ref also returns true (R36, seed 004). */
SPEC(monitors, R36_demonitor_stops_down) {
  ep_pid t = puppet();
  ep_ref r = ep_monitor(t);
  EXPECT(ep_demonitor(&r, 0) == true);
  EXPECT(ep_demonitor(&r, 0) == true);
  EXPECT_M(spec_own(ep_process_info(t, EP_A_monitored_by)), "{monitored_by, []}");
  ep_ref w = ep_monitor(t);
  cmd_nowait(t, "{'$do', exit, bye}");
  await_down(&w);
  EXPECT(nothing_arrives(100));
}

/* Test that a DOWN already in the mailbox stays after a plain demonitor
 * (R36). */
SPEC(monitors, R36_down_already_queued_stays) {
  ep_pid t = puppet();
  ep_ref r = ep_monitor(t);
  cmd_nowait(t, "{'$do', exit, bye}");
  wait_queue_len(1);
  EXPECT(ep_demonitor(&r, 0) == true);
  EXPECT_M(recv_any(0), "{'DOWN', ^R, process, _, bye}", R(&r));
}

/* Test that demonitor with flush removes the one DOWN for that ref from the
 * mailbox and leaves every other message (R37). */
SPEC(monitors, R37_demonitor_flush_removes_queued_down) {
  ep_pid t = puppet(), u = puppet();
  ep_ref r = ep_monitor(t), other = ep_monitor(u);
  ep_send(ep_self(), A("before"));
  cmd_nowait(t, "{'$do', exit, bye}");
  wait_queue_len(2);
  cmd_nowait(u, "{'$do', exit, bye}");
  wait_queue_len(3);
  ep_send(ep_self(), A("later"));
  EXPECT(ep_demonitor(&r, EP_DEMONITOR_FLUSH) == true);
  EXPECT_M(recv_any(0), "before");
  EXPECT_M(recv_any(0), "{'DOWN', ^R, process, _, bye}", R(&other));
  EXPECT_M(recv_any(0), "later");
  EXPECT(recv_any(0) == NULL);
}

/* Test that demonitor with flush on a live target removes the monitor and
 * no DOWN ever comes (R37). */
SPEC(monitors, R37_demonitor_flush_live_target) {
  ep_pid t = puppet();
  ep_ref r = ep_monitor(t);
  EXPECT(ep_demonitor(&r, EP_DEMONITOR_FLUSH) == true);
  ep_ref w = ep_monitor(t);
  cmd_nowait(t, "{'$do', exit, bye}");
  await_down(&w);
  EXPECT(nothing_arrives(100));
}

/* Test demonitor's info option: true when the monitor was found and removed
 * (no DOWN then), false when the DOWN was already delivered or the monitor
 * is gone; [flush, info] gives false when a flush was needed (R38). */
SPEC(monitors, R38_demonitor_info) {
  ep_pid t = puppet();
  ep_ref r = ep_monitor(t);
  EXPECT(ep_demonitor(&r, EP_DEMONITOR_INFO) == true);
  EXPECT(ep_demonitor(&r, EP_DEMONITOR_INFO) == false);
  ep_ref q = ep_monitor(t);
  cmd_nowait(t, "{'$do', exit, bye}");
  wait_queue_len(1);
  EXPECT(ep_demonitor(&q, EP_DEMONITOR_INFO) == false);
  EXPECT(ep_message_queue_len() == 1);
  ep_pid u = puppet();
  ep_ref s = ep_monitor(u);
  cmd_nowait(u, "{'$do', exit, bye}");
  wait_queue_len(2);
  EXPECT(ep_demonitor(&s, EP_DEMONITOR_FLUSH | EP_DEMONITOR_INFO) == false);
  EXPECT(ep_message_queue_len() == 1);
  EXPECT_M(recv_any(0), "{'DOWN', ^Q, process, _, bye}", R(&q));
}

/* Test register's success and each badarg case: name in use, pid already
 * named, pid not alive, name undefined (R39). */
SPEC(registry, R39_register_and_its_badarg_cases) {
  ep_atom n1 = ep_atom_of("spec_r39_a"), n2 = ep_atom_of("spec_r39_b");
  ep_pid a = puppet(), b = puppet();
  EXPECT(ep_register(n1, a) == 0);
  EXPECT(ep_register(n1, b) == EP_EBADARG);
  EXPECT(ep_register(n2, a) == EP_EBADARG);
  EXPECT(ep_register(EP_A_undefined, b) == EP_EBADARG);
  ep_pid d = puppet();
  cmd_nowait(d, "{'$do', return}");
  wait_death(d);
  EXPECT(ep_register(n2, d) == EP_EBADARG);
  EXPECT(ep_pid_eq(ep_whereis(n2), EP_PID_NONE));
  EXPECT(ep_register(n2, b) == 0);
  EXPECT_M(cmd(b, "{'$do', register, spec_r39_c}"), "badarg");
  ep_exit_signal_atom(a, EP_A_kill);
  ep_exit_signal_atom(b, EP_A_kill);
}

/* Test that whereis returns the registered pid, or none (R40). */
SPEC(registry, R40_whereis) {
  ep_atom n = ep_atom_of("spec_r40");
  EXPECT(ep_pid_eq(ep_whereis(n), EP_PID_NONE));
  EXPECT(ep_register(n, ep_self()) == 0);
  EXPECT(ep_pid_eq(ep_whereis(n), ep_self()));
}

/* Test that unregister returns 0 and frees the name, and is badarg for a
 * name that is not registered (R41). */
SPEC(registry, R41_unregister) {
  ep_atom n = ep_atom_of("spec_r41");
  EXPECT(ep_unregister(n) == EP_EBADARG);
  EXPECT(ep_register(n, ep_self()) == 0);
  EXPECT(ep_unregister(n) == 0);
  EXPECT(ep_pid_eq(ep_whereis(n), EP_PID_NONE));
  EXPECT(ep_unregister(n) == EP_EBADARG);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_registered_name)), "[]");
}

static bool listed(ep_atom n) {
  ep_atom names[256];
  long k = ep_registered(names, 256);
  for (long i = 0; i < k && i < 256; i++)
    if (names[i] == n) return true;
  return false;
}

/* Test that registered() lists the current names and process_info gives
 * {registered_name, N}, or [] for a process without one (R42). */
SPEC(registry, R42_registered_and_registered_name) {
  ep_atom n = ep_atom_of("spec_r42");
  ep_pid p = puppet();
  EXPECT(!listed(n));
  EXPECT_M(spec_own(ep_process_info(p, EP_A_registered_name)), "[]");
  EXPECT(ep_register(n, p) == 0);
  EXPECT(listed(n));
  EXPECT(ep_registered(NULL, 0) >= 1);
  EXPECT_M(spec_own(ep_process_info(p, EP_A_registered_name)), "{registered_name, spec_r42}");
  EXPECT(ep_unregister(n) == 0);
  EXPECT(!listed(n));
  ep_exit_signal_atom(p, EP_A_kill);
}

/* Test that a send by name resolves the name at the moment of the send:
 * after the name moves, messages go to the new owner (R43). */
SPEC(registry, R43_send_by_name_resolves_at_send) {
  ep_atom n = ep_atom_of("kv");
  ep_pid a = puppet(), b = puppet();
  EXPECT(ep_register(n, a) == 0);
  EXPECT(ep_send_name(n, A("one")) == 0);
  EXPECT(ep_unregister(n) == 0);
  EXPECT(ep_register(n, b) == 0);
  EXPECT(ep_send_name(n, A("two")) == 0);
  EXPECT_M(got(a, EP_INFINITY), "one");
  EXPECT_M(got(b, EP_INFINITY), "two");
  EXPECT(got(a, 50) == NULL);
  ep_exit_signal_atom(a, EP_A_kill);
  ep_exit_signal_atom(b, EP_A_kill);
}

/* Test that a name is released when its owner terminates, whatever the
 * reason, and can at once be registered again (R44). */
SPEC(registry, R44_name_released_on_death) {
  ep_atom n = ep_atom_of("spec_r44");
  const char *how[] = {"{'$do', return}", "{'$do', exit, boom}", "{'$do', error, boom}"};
  for (int i = 0; i < 4; i++) {
    ep_pid p = puppet();
    EXPECT_M(cmd(p, "{'$do', register, spec_r44}"), "ok");
    ep_ref r = ep_monitor(p);
    if (i < 3) cmd_nowait(p, how[i]);
    else ep_exit_signal_atom(p, EP_A_kill);
    await_down(&r);
    EXPECT(ep_pid_eq(ep_whereis(n), EP_PID_NONE));
    EXPECT(ep_send_name(n, A("x")) == EP_EBADARG);
    EXPECT(!listed(n));
  }
  EXPECT(ep_register(n, ep_self()) == 0);
}

/* A thread that registers each pid it is handed, racing its death. */
static _Atomic uint64_t r44_pid;     /* id << 32 | serial; 0: none */
static _Atomic long r44_tried;       /* pids it has tried */
static _Atomic bool r44_stop;
static void r44_returns(ep_term arg) { (void)arg; }
static void *r44_registrar(void *arg) {
  ep_atom n = *(ep_atom *)arg;
  uint64_t last = 0;
  while (!atomic_load(&r44_stop)) {
    uint64_t v = atomic_load(&r44_pid);
    if (v == last) continue;
    ep_pid p = {(uint32_t)(v >> 32), (uint32_t)v, EP_NODE_LOCAL, 0};
    /* a different moment of its short life each time */
    for (volatile long k = atomic_load(&r44_tried) % 2048; k > 0; k--) continue;
    int rc = ep_register(n, p);
    EXPECT(rc == 0 || rc == EP_EBADARG);
    last = v;
    atomic_fetch_add(&r44_tried, 1);
  }
  return NULL;
}

/* Test that a name registered while its process is dying is either
 * refused or released by that death: after the DOWN the name is free,
 * whichever came first (R44). The registrar is another thread, so the
 * two meet on two cores. */
SPEC_T(registry, R44_name_given_to_a_dying_process_is_released, 2, 0) {
  enum { N = 3000 };
  static ep_atom n;
  n = ep_atom_of("spec_r44_race");
  atomic_store(&r44_stop, false);
  atomic_store(&r44_tried, 0);
  atomic_store(&r44_pid, 0);
  pthread_t th;
  EXPECT(pthread_create(&th, NULL, r44_registrar, &n) == 0);
  for (long i = 1; i <= N; i++) {
    ep_ref r;
    ep_pid c = ep_spawn_monitor(r44_returns, NULL, &r);
    atomic_store(&r44_pid, (uint64_t)c.id << 32 | c.serial);
    await_down(&r);
    while (atomic_load(&r44_tried) < i) ep_yield();   /* its attempt is over */
    EXPECT(ep_pid_eq(ep_whereis(n), EP_PID_NONE));
  }
  atomic_store(&r44_stop, true);
  pthread_join(th, NULL);
  EXPECT(ep_register(n, ep_self()) == 0);
}

/* Test process_info's items and their Erlang shapes: links, monitors,
 * monitored_by, message_queue_len, messages, trap_exit, registered_name;
 * undefined (NULL) for a dead process (R45). */
SPEC(info, R45_process_info_items) {
  ep_pid p = puppet();
  ep_pid me = ep_self();
  EXPECT(ep_link(p) == 0);
  ep_term mref = cmd(p, "{'$do', monitor, ~p}", me);
  (void)mref;
  cmd(p, "{'$do', trap, true}");
  cmd(p, "{'$do', register, spec_r45}");
  EXPECT_M(spec_own(ep_process_info(p, EP_A_links)), "{links, [^Me]}", P(me));
  EXPECT_M(spec_own(ep_process_info(p, EP_A_monitors)), "{monitors, [{process, ^Me}]}", P(me));
  EXPECT_M(spec_own(ep_process_info(me, EP_A_monitored_by)), "{monitored_by, [^P]}", P(p));
  EXPECT_M(spec_own(ep_process_info(p, EP_A_trap_exit)), "{trap_exit, true}");
  EXPECT_M(spec_own(ep_process_info(p, EP_A_registered_name)), "{registered_name, spec_r45}");
  EXPECT_M(spec_own(ep_process_info(p, EP_A_message_queue_len)), "{message_queue_len, 0}");
  EXPECT_M(spec_own(ep_process_info(p, EP_A_status)), "{status, ~a}");
  EXPECT_M(spec_own(ep_process_info(p, EP_A_reductions)), "{reductions, ~i}");
  EXPECT_M(spec_own(ep_process_info(p, EP_A_memory)), "{memory, ~i}");
  for (int i = 0; i < 3; i++) ep_send_fmt(me, "{n, ~i}", i);
  EXPECT_M(spec_own(ep_process_info(me, EP_A_messages)), "{messages, [{n, 0}, {n, 1}, {n, 2}]}");
  EXPECT_M(spec_own(ep_process_info(me, EP_A_message_queue_len)), "{message_queue_len, 3}");
  ep_flush();
  ep_unlink(p);
  ep_ref r = ep_monitor(p);
  ep_exit_signal_atom(p, EP_A_kill);
  await_down(&r);
  EXPECT(spec_own(ep_process_info(p, EP_A_links)) == NULL);
  EXPECT(spec_own(ep_process_info(p, EP_A_registered_name)) == NULL);
  EXPECT(!ep_is_alive(p));
  EXPECT_M(spec_own(ep_process_info(me, EP_A_monitored_by)), "{monitored_by, []}");
}

/* Test that process_info(P, messages) lists another process's mailbox in
 * order too (R45). */
SPEC(info, R45_messages_of_another_process) {
  ep_pid p = ep_spawn(spec_action, A("wait"));
  ep_send(p, A("a"));
  ep_send(p, T("{b, 2}"));
  EXPECT_M(spec_own(ep_process_info(p, EP_A_messages)), "{messages, [a, {b, 2}]}");
  ep_exit_signal_atom(p, EP_A_kill);
}
