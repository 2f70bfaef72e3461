/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sched.c - the scheduler: fairness through reductions (R8), stand-in
 * workers for processes spinning in C, ep_blocking parking only its
 * caller, idle CPU, and many processes spread over the workers.
 */
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/core_test.h"

static _Atomic int stop_spinning;

static void spinner(ep_term arg) {
  ep_send_fmt(arg_pid(arg), "started");
  /* a C loop that never calls the runtime */
  while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed)) {
  }
}

static void ponger(ep_term arg) {
  (void)arg;
  for (;;) {
    ep_term m = recv_any(EP_INFINITY);
    ep_send(arg_pid(m), T("pong"));
  }
}

static long ping_ms;
static void spinners_body(void) {
  ep_smallterm s;
  int n = 3;   /* more spinners than the 2 workers */
  for (int i = 0; i < n; i++) ep_spawn(spinner, pid_arg(&s));
  EP_PATTERN(p_started, "started");
  for (int i = 0; i < n; i++) ck_assert_int_eq(ep_receive(10000, p_started), 0);
  ep_pid pg = ep_spawn(ponger, NULL);
  uint64_t t0 = ep__os_now_ns();
  ep_send(pg, pid_arg(&s));
  EP_PATTERN(p_pong, "pong");
  int rc = ep_receive(10000, p_pong);
  ping_ms = (long)((ep__os_now_ns() - t0) / 1000000u);
  atomic_store(&stop_spinning, 1);
  ck_assert_int_eq(rc, 0);
  ep_exit_signal_atom(pg, EP_A_kill);
}

/* Test that while more processes than workers spin in C without yielding, a ping process still answers (stand-in workers, R8). */
TEST(sched, ping_answers_while_spinners_hog_every_worker) {
  run_in_process(spinners_body);
  fprintf(stderr, "sched: ping answered in %ld ms with 3 spinners on 2 workers\n", ping_ms);
}

static _Atomic int other_ran;
static void busy_sender(ep_term arg) {
  (void)arg;
  /* calls the runtime all the time, never blocks */
  while (!atomic_load(&other_ran)) {
    ep_send(ep_self(), T("x"));
    recv_any(0);
  }
}
static void flag_setter(ep_term arg) {
  (void)arg;
  atomic_store(&other_ran, 1);
}

static void budget_body(void) {
  ep_ref r1, r2;
  ep_spawn_monitor(busy_sender, NULL, &r1);
  ep_spawn_monitor(busy_sender, NULL, &r1);
  ep_yield();
  ep_spawn_monitor(flag_setter, NULL, &r2);
  wait_down(&r2, EP_INFINITY);
}

/* Test that processes that keep calling the runtime share one worker: the reduction budget lets a third one run (R8). */
TEST(sched, R8_reductions_prevent_starvation) {
  ep_config cfg = {.threads = 1};
  ck_assert_int_eq(run_cfg(&cfg, budget_body), 0);
}

static long slow_call(void *ctx) {
  (void)ctx;
  usleep(200 * 1000);
  return 42;
}

static void blocker(ep_term arg) {
  long v = ep_blocking(slow_call, NULL);
  ep_send_fmt(arg_pid(arg), "{blocked_result, ~l}", v);
}

static void blocking_body(void) {
  ep_smallterm s;
  ep_spawn(blocker, pid_arg(&s));
  ep_pid pg = ep_spawn(ponger, NULL);
  ep_send(pg, pid_arg(&s));
  /* the only worker is free: the pong comes before the blocked result */
  assert_term(recv_any(EP_INFINITY), "pong");
  assert_term(recv_any(EP_INFINITY), "{blocked_result, 42}");
  ep_exit_signal_atom(pg, EP_A_kill);
  ck_assert_int_eq(ep_blocking(slow_call, NULL), 42);
}

/* Test that ep_blocking runs the call off the scheduler: with one worker, other processes keep running meanwhile. */
TEST(sched, blocking_parks_only_the_caller) {
  ep_config cfg = {.threads = 1};
  ck_assert_int_eq(run_cfg(&cfg, blocking_body), 0);
  ck_assert_int_eq(ep_blocking(slow_call, NULL), 42);   /* outside: inline */
}

static void killed_while_blocking(ep_term arg) {
  (void)arg;
  ep_blocking(slow_call, NULL);
  ck_abort_msg("a kill must take effect when the call returns");
}

static void blocking_kill_body(void) {
  ep_ref r;
  ep_pid b = ep_spawn_monitor(killed_while_blocking, NULL, &r);
  ep_yield();
  ep_exit_signal_atom(b, EP_A_kill);
  assert_term(wait_down(&r, EP_INFINITY), "killed");
}

/* Test that a process killed inside ep_blocking dies when the call returns. */
TEST(sched, blocking_caller_killed_after_call) {
  run_in_process(blocking_kill_body);
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double idle_cpu;
static void idle_body(void) {
  for (int i = 0; i < 100; i++) ep_spawn(ponger, NULL);
  ep_sleep(20);
  double c0 = cpu_s();
  ep_sleep(500);
  idle_cpu = cpu_s() - c0;
}

/* Test that a runtime whose processes all wait uses about no CPU (no busy waiting). */
TEST(sched, idle_runtime_uses_no_cpu) {
  run_in_process(idle_body);
  fprintf(stderr, "sched: %.1f ms of CPU in 500 ms idle\n", idle_cpu * 1000);
  ck_assert_msg(idle_cpu < 0.05, "idle runtime burnt %.3f s of CPU in 0.5 s", idle_cpu);
}

static _Atomic int seen_workers[64];
static void where_am_i(ep_term arg) {
  ep__worker *w = ep__tls_worker();
  atomic_store(&seen_workers[w->index & 63], 1);
  volatile unsigned long x = 0;
  for (unsigned long i = 0; i < 200000; i++) x = x + i;
  ep_smallterm s;
  ep_send(arg_pid(arg), ep_int_term(&s, (int64_t)x));
}

static void spread_body(void) {
  ep_smallterm s;
  for (int i = 0; i < 2000; i++) ep_spawn(where_am_i, pid_arg(&s));
  for (int i = 0; i < 2000; i++) recv_any(EP_INFINITY);
  ck_assert(atomic_load(&seen_workers[0]) && atomic_load(&seen_workers[1]));
}

/* Test that work spreads: many CPU-bound processes run on both workers (work stealing). */
TEST(sched, work_spreads_over_workers) {
  run_in_process(spread_body);
}

static void tiny(ep_term arg) {
  ep_smallterm s;
  ep_send(arg_pid(arg), ep_int_term(&s, 1));
}

static void spread_after_tiny_body(void) {
  /* tiny tasks first: steals of them do not pay, so the idle worker
   * holds off stealing, parked and deaf to backlogs until its hold ends */
  ep_smallterm s;
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < 5000; i++) ep_spawn(tiny, pid_arg(&s));
    for (int i = 0; i < 5000; i++) recv_any(EP_INFINITY);
  }
  for (int i = 0; i < 64; i++) atomic_store(&seen_workers[i], 0);
  spread_body();
}

/* Test that a worker holding off stealing after steals that did not pay (tiny tasks) still comes back for CPU-bound work: it runs on both workers. */
TEST(sched, work_spreads_after_steals_that_did_not_pay) {
  run_in_process(spread_after_tiny_body);
}
