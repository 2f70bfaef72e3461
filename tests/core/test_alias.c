/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alias.c - process aliases: sends to an active alias arrive, sends
 * to an inactive one are dropped at delivery (including those sent before
 * the deactivation but not yet delivered), delivered ones stay, alias
 * monitors end with demonitor or their DOWN.
 */
#include "core/core_test.h"

/* Spawns fn({Self, Alias}). */
static ep_pid spawn_with_alias(ep_proc_fn fn, const ep_ref *a) {
  ep_term arg = NULL;
  ck_assert_int_eq(ep_format(&arg, "{~p, ~r}", ep_self(), a), 0);
  ep_pid p = ep_spawn(fn, arg);
  ep_term_free(arg);
  return p;
}

static ep_ref arg_alias(ep_term arg) {
  ep_ref a;
  ck_assert_int_eq(ep_get_ref(ep_tuple_elem(arg, 1), &a), 0);
  return a;
}

/* Waits, without looking at the mailbox, until p has ended. */
static void wait_dead(ep_pid p) {
  while (ep_is_alive(p)) ep_yield();
}

static void send_twice(ep_term arg) {
  ep_ref a = arg_alias(arg);
  ck_assert_int_eq(ep_send_alias(&a, T("{via, alias}")), 0);
  ck_assert_int_eq(ep_send_alias_fmt(&a, "{via, ~i}", 7), 0);
}

static void active_body(void) {
  ep_ref a = ep_alias();
  ck_assert(ep_is_alias(&a));
  ep_pid p = spawn_with_alias(send_twice, &a);
  assert_term(recv_any(EP_INFINITY), "{via, alias}");
  assert_term(recv_any(EP_INFINITY), "{via, 7}");
  wait_dead(p);
  ck_assert_int_eq(ep_send_alias(&a, T("to_self")), 0);
  assert_term(recv_any(0), "to_self");
  ck_assert(ep_unalias(&a));
}

/* Test that messages sent to an active alias, by another process or by the
 * owner, arrive in order like messages sent to the pid (R9, R12). */
TEST(alias, send_to_active_alias_arrives) {
  run_in_process(active_body);
}

static void inactive_body(void) {
  ep_ref a = ep_alias();
  ck_assert(ep_unalias(&a));
  ck_assert_int_eq(ep_send_alias(&a, T("lost")), 0);
  ck_assert_int_eq(ep_send_alias_fmt(&a, "{lost, ~i}", 1), 0);
  ep_pid p = spawn_with_alias(send_twice, &a);
  wait_dead(p);
  ck_assert_int_eq(ep_message_queue_len(), 0);
  ck_assert_ptr_null(recv_any(0));
}

/* Test that a message sent to an alias after unalias is dropped silently,
 * as one sent to a dead pid (R10). */
TEST(alias, send_after_unalias_dropped) {
  run_in_process(inactive_body);
}

static void in_flight_body(void) {
  ep_ref a = ep_alias();
  ck_assert_int_eq(ep_send_alias(&a, T("mine")), 0);
  ep_pid p = spawn_with_alias(send_twice, &a);
  wait_dead(p);                      /* its sends are done, not yet delivered */
  ck_assert(ep_unalias(&a));
  ck_assert_int_eq(ep_message_queue_len(), 0);
  ep_term info = ep_process_info(ep_self(), ep_atom_of("messages"));
  assert_new_term(info, "{messages, []}");
}

/* Test that unalias drops what was sent to the alias before it but not yet
 * delivered (not yet looked at by the owner): never counted, never received. */
TEST(alias, sent_before_unalias_not_delivered_dropped) {
  run_in_process(in_flight_body);
}

static void delivered_body(void) {
  ep_ref a = ep_alias();
  ck_assert_int_eq(ep_send_alias(&a, T("first")), 0);
  ck_assert_int_eq(ep_message_queue_len(), 1);   /* delivered now */
  ck_assert(ep_unalias(&a));
  ck_assert_int_eq(ep_send_alias(&a, T("second")), 0);
  ck_assert_int_eq(ep_message_queue_len(), 1);
  assert_term(recv_any(0), "first");
  ck_assert_ptr_null(recv_any(0));
}

/* Test that a message already delivered when the alias is deactivated stays
 * in the mailbox, as on the BEAM. */
TEST(alias, delivered_before_unalias_stays) {
  run_in_process(delivered_body);
}

static void other_owner(ep_term arg) {
  EP_PATTERN(p_alias, "{alias, A::ref}");
  ep_pid parent = arg_pid(arg);
  ep_ref mine = ep_alias();
  ep_send_fmt(parent, "{alias, ~r}", &mine);
  ep_receive_any(NULL, EP_INFINITY);         /* the parent tried to unalias it */
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_alias), 0);
  ep_send_fmt(parent, "still_mine");
}

static void unalias_errors_body(void) {
  EP_PATTERN(p_alias, "{alias, A::ref}");
  ep_ref plain = ep_make_ref();
  ck_assert(!ep_is_alias(&plain));
  ck_assert(!ep_unalias(&plain));
  ck_assert(!ep_is_alias(NULL));
  ck_assert(!ep_unalias(NULL));
  ck_assert_int_eq(ep_send_alias(&plain, T("nowhere")), 0);
  ck_assert_int_eq(ep_send_alias(NULL, T("nowhere")), 0);
  ep_ref a = ep_alias();
  ck_assert(ep_unalias(&a));
  ck_assert(!ep_unalias(&a));                 /* already inactive */
  ck_assert_int_eq(ep_send_alias_fmt(&a, "{bad"), EP_EFORMAT);
  ck_assert_int_eq(ep_message_queue_len(), 0);

  /* another process's alias: not ours to deactivate */
  ep_smallterm s;
  ep_pid o = ep_spawn(other_owner, pid_arg(&s));
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_alias), 0);
  ep_ref theirs;
  ep_bind(&theirs);
  ck_assert(!ep_unalias(&theirs));
  send_text(o, "tried");
  ck_assert_int_eq(ep_send_alias_fmt(&theirs, "{alias, ~r}", &theirs), 0);
  assert_term(recv_any(EP_INFINITY), "still_mine");
}

/* Test that unalias refuses a plain reference, an inactive alias and
 * another process's alias (which stays active), and that a send to a
 * non-alias is dropped while a bad format is still reported. */
TEST(alias, unalias_errors_and_non_alias_sends) {
  run_in_process(unalias_errors_body);
}

static void dead_owner_body(void) {
  ep_pid c = dead_pid();
  /* an alias with that process as owner, as the process would have made it */
  ep_ref a = ep_alias();
  a.w[3] = c.id;
  a.w[4] = c.serial;
  ck_assert_int_eq(ep_send_alias(&a, T("lost")), 0);
  ck_assert_ptr_null(recv_any(0));
}

/* Test that a send to an alias of a dead process is dropped (R10). */
TEST(alias, send_to_dead_owner_dropped) {
  run_in_process(dead_owner_body);
}

static long foreign_send(void *ctx) {
  ck_assert(!ep_is_process());
  ep_ref none = ep_alias();                  /* outside a process: no alias */
  ck_assert(!ep_is_alias(&none));
  ck_assert(!ep_unalias(ctx));
  return ep_send_alias(ctx, T("from_a_thread"));
}

static void foreign_body(void) {
  ep_ref a = ep_alias();
  ck_assert_int_eq(ep_blocking(foreign_send, &a), 0);
  assert_term(recv_any(EP_INFINITY), "from_a_thread");
}

/* Test that a thread that is not a process can send to an alias but makes
 * and deactivates none. */
TEST(alias, send_from_foreign_thread) {
  run_in_process(foreign_body);
}

static void many_body(void) {
  enum { N = 1000 };
  static ep_ref a[N];
  for (int i = 0; i < N; i++) a[i] = ep_alias();
  for (int i = 0; i < N; i += 3) ck_assert(ep_unalias(&a[i]));
  for (int i = N - 1; i >= 0; i -= 7)
    if (i % 3) ck_assert(ep_unalias(&a[i]));
  long want = 0;
  for (int i = 0; i < N; i++) {
    bool active = i % 3 && (N - 1 - i) % 7;
    want += active;
    ck_assert_int_eq(ep_send_alias_fmt(&a[i], "{n, ~i}", i), 0);
    ck_assert_int_eq(ep_unalias(&a[i]), active);
  }
  ck_assert_int_eq(ep_message_queue_len(), 0);   /* all deactivated before delivery */
  static ep_ref b[N];
  for (int i = 0; i < N; i++) b[i] = ep_alias();
  for (int i = 0; i < N; i += 2) ck_assert(ep_unalias(&b[i]));
  for (int i = 0; i < N; i++) ck_assert_int_eq(ep_send_alias_fmt(&b[i], "{n, ~i}", i), 0);
  EP_PATTERN(p_n, "{n, I::int}");
  for (int i = 1; i < N; i += 2) {
    ck_assert_int_eq(ep_receive(0, p_n), 0);
    int64_t got;
    ep_bind(&got);
    ck_assert_int_eq(got, i);
  }
  ck_assert_ptr_null(recv_any(0));
  ck_assert(want > 0);
}

/* Test that with many aliases, each stays active or inactive exactly as
 * made and deactivated, in any order. */
TEST(alias, many_aliases_tracked_exactly) {
  run_in_process(many_body);
}

/* Waits for one message; if it is a reference, sends to it as an alias. */
static void mon_target(ep_term arg) {
  (void)arg;
  ep_term m;
  ep_ref a;
  ep_receive_any(&m, EP_INFINITY);
  if (ep_get_ref(m, &a) == 0) ep_send_alias(&a, T("before_down"));
}

static _Atomic int watcher_saw_down;

/* Monitors {Parent, Pid} after the parent did: its DOWN goes out after the
 * parent's (DOWNs in monitor order), so once it is seen the parent's is queued. */
static void watcher(ep_term arg) {
  ep_ref r = ep_monitor(arg_pid(ep_tuple_elem(arg, 1)));
  send_text(arg_pid(ep_tuple_elem(arg, 0)), "watching");
  wait_down(&r, EP_INFINITY);
  atomic_store(&watcher_saw_down, 1);
}

static void monitor_alias_body(void) {
  EP_PATTERN(p_watching, "watching");
  /* deactivated by demonitor */
  ep_pid t = ep_spawn(mon_target, NULL);
  ep_ref m = ep_monitor_alias(t);
  ck_assert(ep_is_alias(&m));
  ck_assert_int_eq(ep_send_alias(&m, T("early")), 0);
  assert_term(recv_any(0), "early");
  ck_assert(ep_demonitor(&m, EP_DEMONITOR_INFO));
  ck_assert_int_eq(ep_send_alias(&m, T("lost")), 0);
  ck_assert(!ep_unalias(&m));
  ck_assert_ptr_null(recv_any(0));
  send_text(t, "go");

  /* deactivated by its DOWN: what the target sent before dying arrives,
   * what is sent after the DOWN does not */
  ep_pid u = ep_spawn(mon_target, NULL);
  m = ep_monitor_alias(u);
  ep_term arg = NULL;
  ck_assert_int_eq(ep_format(&arg, "{~p, ~p}", ep_self(), u), 0);
  ep_spawn(watcher, arg);
  ep_term_free(arg);
  ck_assert_int_eq(ep_receive(EP_INFINITY, p_watching), 0);
  ck_assert_int_eq(ep_format(&arg, "~r", &m), 0);
  ep_send(u, arg);
  ep_term_free(arg);
  while (!atomic_load(&watcher_saw_down)) ep_yield();
  ck_assert_int_eq(ep_send_alias(&m, T("after_down")), 0);
  ck_assert_int_eq(ep_message_queue_len(), 2);
  assert_term(recv_any(0), "before_down");
  ck_assert_ptr_nonnull(wait_down(&m, 0));
  ck_assert(!ep_unalias(&m));
  ck_assert_ptr_null(recv_any(0));
}

/* Test that a monitor made with ep_monitor_alias is also an alias, which
 * demonitor deactivates, and so does its DOWN once delivered (R32, R36). */
TEST(alias, monitor_alias_ends_with_demonitor_or_down) {
  run_in_process(monitor_alias_body);
}

static void noproc_body(void) {
  ep_pid c = dead_pid();
  ep_ref m = ep_monitor_alias(c);
  ck_assert_int_eq(ep_send_alias(&m, T("after_noproc")), 0);
  assert_term(wait_down(&m, 0), "noproc");
  ck_assert_ptr_null(recv_any(0));
}

/* Test that an alias monitor of a dead process gets its noproc DOWN and is
 * inactive from then on (R33). */
TEST(alias, monitor_alias_of_dead_process_noproc) {
  run_in_process(noproc_body);
}

#define SENDERS 4
#define PER_SENDER (20000 / EP_TEST_SCALE)

static void flood(ep_term arg) {
  ep_ref a = arg_alias(arg);
  for (int i = 0; i < PER_SENDER; i++) ep_send_alias_fmt(&a, "{m, ~i}", i);
}

static void race_body(void) {
  EP_PATTERN(p_m, "{m, _}");
  ep_ref a = ep_alias();
  ep_pid s[SENDERS];
  for (int i = 0; i < SENDERS; i++) s[i] = spawn_with_alias(flood, &a);
  for (int i = 0; i < 10; i++) ck_assert_int_eq(ep_receive(EP_INFINITY, p_m), 0);
  ck_assert(ep_unalias(&a));
  while (ep_receive(0, p_m) == 0) {}          /* delivered before the unalias */
  for (int i = 0; i < SENDERS; i++) wait_dead(s[i]);
  ck_assert_int_eq(ep_message_queue_len(), 0);
  ck_assert_int_eq(ep_receive(0, p_m), EP_ETIMEOUT);
}

/* Test that once unalias returns, no message sent to the alias ever shows
 * up, while senders on other threads keep sending to it. */
TEST_TIMEOUT(alias, unalias_under_concurrent_senders, 60) {
  run_in_process(race_body);
}
