/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_stress.c - sizes: a million processes, a 100,000-link chain killed
 * at one end, and a soak of 10,000 processes with random kills and
 * message accounting. Smaller under the sanitizers (EP_TEST_SCALE).
 */
#include "core/core_test.h"

static bool take_one(void *state, ep_term msg) {
  (void)state;
  (void)msg;
  return false;   /* one message, then end normally */
}

/* Takes n DOWNs, each with the reason given as text: every process
 * watched ended, and how. */
static void await_downs(long n, const char *reason) {
  EP_PATTERN(p_down, "{'DOWN', _, process, _, ^R}");
  ep_term pin = T(reason);
  ep_clause c = {p_down, &pin};
  for (long i = 0; i < n; i++) ck_assert_int_eq(ep_receive_clauses(&c, 1, EP_INFINITY), 0);
  ck_assert_int_eq(ep_message_queue_len(), 0);
}

static long million_n;
static void million_body(void) {
  long n = million_n;
  ep_pid *pids = malloc((size_t)n * sizeof *pids);
  ck_assert_ptr_nonnull(pids);
  for (long i = 0; i < n; i++) {
    int rc = ep_spawn_handler_opt(&pids[i], take_one, NULL, NULL, NULL);
    ck_assert_int_eq(rc, 0);
  }
  ck_assert_int_eq(ep_process_count(), n + 1);
  for (long i = 0; i < n; i++) ep_monitor(pids[i]);
  ep_smallterm s;
  for (long i = 0; i < n; i++) ep_send(pids[i], ep_int_term(&s, i));
  await_downs(n, "normal");
  free(pids);
}

/* Test that 1,000,000 (stackless) processes are spawned, each receives a message and ends, and all is freed. */
TEST_TIMEOUT(stress, million_processes_receive_and_end, 300) {
  million_n = 1000000 / EP_TEST_SCALE;
  ep_config cfg = {.threads = 2, .process_limit = 2000000};
  ck_assert_int_eq(run_cfg(&cfg, million_body), 0);
}

static void waits(ep_term arg) { (void)arg; recv_any(EP_INFINITY); }

static long stackful_n;
static void stackful_body(void) {
  long n = stackful_n;
  ep_pid *pids = malloc((size_t)n * sizeof *pids);
  for (long i = 0; i < n; i++) ck_assert_int_eq(ep_spawn_opt(&pids[i], waits, NULL, NULL, NULL), 0);
  long rss = ep__os_rss_bytes();
  for (long i = 0; i < n; i++) ep_monitor(pids[i]);
  ep_smallterm s;
  for (long i = 0; i < n; i++) ep_send(pids[i], ep_int_term(&s, i));
  await_downs(n, "normal");
  free(pids);
  fprintf(stderr, "stress: %ld processes parked in receive, RSS %ld MiB\n", n, rss >> 20);
}

/* Test that 200,000 processes with their own stacks park in receive at once (stacks carved from few mappings), then end. */
TEST_TIMEOUT(stress, many_stackful_processes_parked, 300) {
  stackful_n = 200000 / EP_TEST_SCALE;
  ep_config cfg = {.threads = 2};
  ck_assert_int_eq(run_cfg(&cfg, stackful_body), 0);
}

static void chain_node(ep_term arg) {
  int64_t left;
  ep_get_int(arg, &left);
  if (left > 0) {
    ep_smallterm s;
    ep_spawn_link(chain_node, ep_int_term(&s, left - 1));
    recv_any(EP_INFINITY);
  } else {
    /* the far end tells the root it is there */
    ep_send_name(ep_atom_of("chain_root"), T("end_ready"));
    recv_any(EP_INFINITY);
  }
}

static long chain_n;
static void chain_body(void) {
  ep_register(ep_atom_of("chain_root"), ep_self());
  ep_smallterm s;
  ep_pid first = ep_spawn(chain_node, ep_int_term(&s, chain_n - 1));
  assert_term(recv_any(EP_INFINITY), "end_ready");
  ck_assert_int_eq(ep_process_count(), chain_n + 1);
  /* every link of the chain is watched, and each must die of the cut */
  ep_pid *all = malloc((size_t)(chain_n + 1) * sizeof *all);
  ck_assert_int_eq(ep_processes(all, chain_n + 1), chain_n + 1);
  for (long i = 0; i <= chain_n; i++)
    if (!ep_pid_eq(all[i], ep_self())) ep_monitor(all[i]);
  free(all);
  ep_exit_signal(first, T("chain_cut"));
  await_downs(chain_n, "chain_cut");
}

/* Test that killing one end of a 100,000-link chain takes down every process (R29). */
TEST_TIMEOUT(stress, link_chain_100k_killed_at_one_end, 300) {
  chain_n = 100000 / EP_TEST_SCALE;
  ep_config cfg = {.threads = 2, .process_limit = 200000};
  ck_assert_int_eq(run_cfg(&cfg, chain_body), 0);
}

/* Soak: counters answer {count, N} to {count, From}. */
static void soak_counter(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_n, "{n, _}");
  EP_PATTERN(p_count, "{count, From::pid}");
  long n = 0;
  for (;;) {
    int c = ep_receive(EP_INFINITY, p_n, p_count);
    if (c == 0) {
      n++;
    } else {
      ep_pid from;
      ep_bind(&from);
      ep_send_fmt(from, "{count, ~p, ~l}", ep_self(), n);
    }
  }
}

static void soak_body(void) {
  int n = 10000 / EP_TEST_SCALE;
  ep_pid *pids = malloc((size_t)n * sizeof *pids);
  long *sent = calloc((size_t)n, sizeof *sent);
  bool *dead = calloc((size_t)n, sizeof *dead);
  for (int i = 0; i < n; i++) pids[i] = ep_spawn(soak_counter, NULL);
  unsigned seed = 12345;
  for (int round = 0; round < 200000 / EP_TEST_SCALE; round++) {
    seed = seed * 1103515245u + 12345u;
    int i = (int)((seed >> 8) % (unsigned)n);
    if ((seed & 0xff) == 0) {
      ep_exit_signal_atom(pids[i], EP_A_kill);
      dead[i] = true;
    } else {
      ep_send_fmt(pids[i], "{n, ~i}", round);
      sent[i]++;
    }
  }
  EP_PATTERN(p_reply, "{count, P::pid, N::int}");
  int live = 0;
  for (int i = 0; i < n; i++) {
    if (dead[i]) {
      ck_assert(!ep_is_alive(pids[i]));
      continue;
    }
    live++;
    ep_send_fmt(pids[i], "{count, ~p}", ep_self());
  }
  for (int k = 0; k < live; k++) {
    ck_assert_int_eq(ep_receive(EP_INFINITY, p_reply), 0);
    ep_pid p;
    int64_t got;
    ep_bind(&p, &got);
    for (int i = 0; i < n; i++)
      if (ep_pid_eq(pids[i], p)) ck_assert_int_eq(got, sent[i]);   /* no message lost */
  }
  for (int i = 0; i < n; i++) ep_exit_signal_atom(pids[i], EP_A_kill);
  free(pids);
  free(sent);
  free(dead);
}

/* Test that 10,000 processes under random kills lose no message sent to a live one (and leak nothing: LSan). */
TEST_TIMEOUT(stress, soak_random_kills_message_accounting, 300) {
  run_in_process(soak_body);
}
