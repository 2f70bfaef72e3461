/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_stress.c - the stress tests of issue 3: a million processes each
 * receiving a message, a 100,000-link chain killed at one end, and a soak
 * of 10,000 processes with random kills and message accounting. Sizes
 * shrink under the sanitizers (EP_ASAN / EP_TSAN) so the suite stays
 * within minutes; LeakSanitizer checks that nothing leaks.
 */
#include <stdlib.h>

#include "spec_util.h"

#if defined(EP_TSAN)
#define STRESS_DIV 50
#elif defined(EP_ASAN)
#define STRESS_DIV 10
#else
#define STRESS_DIV 1
#endif

static int64_t int_of(ep_term t) {
  int64_t v = -1;
  if (t) ep_get_int(t, &v);
  return v;
}

/* Waits for one message, acknowledges it with its own number, ends. */
static void receive_once(ep_term parent) {
  ep_term m;
  if (ep_receive_any(&m, EP_INFINITY) < 0) return;
  ep_send(pid_of(parent), m);
}

/* Yields until only the caller is left. */
static void wait_alone(void) {
  while (ep_process_count() > 1) ep_yield();
}

/* Test that a million processes can be alive at once, each receives its
 * message and acknowledges it, and all are then torn down: the process
 * count returns to one and every acknowledgement is accounted for (issue 3
 * stress; R9, R13). Unlike test_stress.c, these have their own stacks. */
SPEC_T(stress, million_stackful_processes_each_receive_one_message, 0, 600) {
  enum { N = 1000000 / STRESS_DIV };
  ep_pid *pids = malloc(N * sizeof *pids);
  EXPECT(pids != NULL);
  if (!pids) return;
  ep_term me = P(ep_self());
  for (int i = 0; i < N; i++) pids[i] = ep_spawn(receive_once, me);
  EXPECT(ep_process_count() >= N);
  for (int i = 0; i < N; i++) ep_send_fmt(pids[i], "~i", i);
  int64_t sum = 0;
  for (int i = 0; i < N; i++) {
    ep_term m;
    if (ep_receive_any(&m, EP_INFINITY) < 0) break;
    sum += int_of(m);
  }
  EXPECT(sum == (int64_t)N * (N - 1) / 2);
  wait_alone();
  EXPECT(ep_process_count() == 1);
  free(pids);
}

/* Each link of the chain spawn_links the next until n are made; the last
 * one tells the root, then all wait. */
static void chain_link(ep_term arg) {
  ep_pid root = pid_of(ep_tuple_elem(arg, 0));
  int64_t left = int_of(ep_tuple_elem(arg, 1));
  if (left > 1) {
    /* built on the stack: the kill may land inside spawn_link (a spawn
     * can yield), and then nothing must be left on the heap */
    uint8_t buf[64];
    ep_build b;
    ep_b_init_buf(&b, buf, sizeof buf);
    ep_b_format(&b, "{~p, ~L}", root, (long long)(left - 1));
    ep_spawn_link(chain_link, ep_b_peek(&b));
    ep_b_free(&b);
  } else {
    ep_send_fmt(root, "{last, ~p}", ep_self());
  }
  ep_term m;
  for (;;) ep_receive_any(&m, EP_INFINITY);
}

/* Test that killing one end of a 100,000-process link chain takes the whole
 * chain down: the far end dies with killed (kill arrives as killed and is
 * passed on, R28, R29), and every process is gone afterwards. */
SPEC_T(stress, link_chain_100k_far_end_dies_killed, 0, 600) {
  enum { N = 100000 / STRESS_DIV };
  ep_pid first = ep_spawn(chain_link, T("{~p, ~i}", ep_self(), N));
  ep_term last_msg = recv_match(EP_INFINITY, "{last, _}");
  ep_pid last = pid_of(ep_tuple_elem(last_msg, 1));
  EXPECT(ep_process_count() == N + 1);
  ep_ref lr = ep_monitor(last), fr = ep_monitor(first);
  ep_exit_signal_atom(first, EP_A_kill);
  EXPECT_M(await_down(&fr), "killed");
  EXPECT_M(await_down(&lr), "killed");
  wait_alone();
  EXPECT(ep_process_count() == 1);
}

/* ------------------------------------------------------------- soak -- */

enum { SOAK_BLASTERS = 4 };

/* A soak worker counts what each blaster sent it and reports on request:
 * {count, From} -> {count, Self, [C0, C1, C2, C3]}; {die, R} -> exit(R). */
static void soak_worker(ep_term arg) {
  (void)arg;
  long counts[SOAK_BLASTERS] = {0};
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0) {
    if (ep_tuple_arity(m) == 2 && ep_is_atom(ep_tuple_elem(m, 0), ep_atom_of("b"))) {
      int64_t b = int_of(ep_tuple_elem(m, 1));
      if (b >= 0 && b < SOAK_BLASTERS) counts[b]++;
    } else if (ep_tuple_arity(m) == 2 && ep_is_atom(ep_tuple_elem(m, 0), ep_atom_of("count"))) {
      ep_send_fmt(pid_of(ep_tuple_elem(m, 1)), "{count, ~p, [~l, ~l, ~l, ~l]}", ep_self(),
                  counts[0], counts[1], counts[2], counts[3]);
    } else if (ep_tuple_arity(m) == 2 && ep_is_atom(ep_tuple_elem(m, 0), ep_atom_of("die"))) {
      ep_exit(ep_tuple_elem(m, 1));
    }
  }
}

/* Shared between the root and the blasters; handed over by messages
 * (a blaster reads it only between `go` and its `done`). */
typedef struct soak {
  int n;
  ep_pid *workers;
  long (*sent)[SOAK_BLASTERS];   /* messages sent to the current worker of a slot */
  int per_round;
} soak;

static soak S;

/* A blaster sends per_round messages to random workers per `go`, counting
 * per slot; dead workers silently drop theirs (R10). */
static void soak_blaster(ep_term arg) {
  int64_t id = int_of(ep_tuple_elem(arg, 1));
  ep_pid root = pid_of(ep_tuple_elem(arg, 0));
  unsigned seed = (unsigned)id * 7919u + 1;
  ep_term m;
  while (ep_receive_any(&m, EP_INFINITY) == 0 && ep_is_atom(m, ep_atom_of("go"))) {
    for (int i = 0; i < S.per_round; i++) {
      int slot = (int)(rand_r(&seed) % (unsigned)S.n);
      ep_send_fmt(S.workers[slot], "{b, ~L}", (long long)id);
      S.sent[slot][id]++;
    }
    ep_send_fmt(root, "{done, ~L}", (long long)id);
  }
}

/* Test, as a soak, that with 10,000 processes, four concurrent senders and
 * random kills (exit(P, kill), exit(P, Reason), and self-exits), no message
 * to a live process is lost, every death is reported with its reason, and
 * nothing is left behind (issue 3 stress; R10, R12, R27, R32). */
SPEC_T(stress, soak_10k_four_senders_random_kills_and_reasons, 0, 600) {
  enum { N = 10000 / (STRESS_DIV > 10 ? 10 : STRESS_DIV), ROUNDS = 20, KILLS = N / 50 };
  S.n = N;
  S.per_round = N * 5;
  S.workers = calloc(N, sizeof *S.workers);
  S.sent = calloc(N, sizeof *S.sent);
  ep_ref *refs = calloc(N, sizeof *refs);
  EXPECT(S.workers && S.sent && refs);
  if (!S.workers || !S.sent || !refs) return;
  for (int i = 0; i < N; i++) S.workers[i] = ep_spawn_monitor(soak_worker, A("w"), &refs[i]);
  ep_pid blasters[SOAK_BLASTERS];
  for (int b = 0; b < SOAK_BLASTERS; b++)
    blasters[b] = ep_spawn(soak_blaster, T("{~p, ~i}", ep_self(), b));
  unsigned seed = 12345;
  const char *others[] = {"stuff", "{shutdown, soak}", "normal"};
  int *dead = calloc(N, sizeof *dead);
  for (int round = 0; round < ROUNDS; round++) {
    for (int b = 0; b < SOAK_BLASTERS; b++) ep_send(blasters[b], A("go"));
    /* kill while the blasters send: messages to the dead are dropped */
    for (int k = 0; k < KILLS; k++) {
      int slot = (int)(rand_r(&seed) % (unsigned)N);
      if (dead[slot]) continue;
      dead[slot] = 1 + (int)(rand_r(&seed) % 4);
      if (dead[slot] == 1) ep_exit_signal_atom(S.workers[slot], EP_A_kill);
      else if (dead[slot] == 2) ep_exit_signal(S.workers[slot], A("stuff"));
      else if (dead[slot] == 3) ep_send_fmt(S.workers[slot], "{die, {shutdown, soak}}");
      else ep_send_fmt(S.workers[slot], "{die, normal}");
    }
    for (int b = 0; b < SOAK_BLASTERS; b++) recv_match(EP_INFINITY, "{done, _}");
    /* account: each dead worker's DOWN, each live worker's counts */
    for (int i = 0; i < N; i++) {
      if (dead[i]) {
        ep_term why = await_down(&refs[i]);
        if (dead[i] == 1) EXPECT_M(why, "killed");
        else EXPECT_M(why, "^R", T(others[dead[i] - 2]));
        S.sent[i][0] = S.sent[i][1] = S.sent[i][2] = S.sent[i][3] = 0;
        S.workers[i] = ep_spawn_monitor(soak_worker, A("w"), &refs[i]);
        dead[i] = 0;
        continue;
      }
      ep_send_fmt(S.workers[i], "{count, ~p}", ep_self());
      ep_term c = recv_match(EP_INFINITY, "{count, ^P, _}", P(S.workers[i]));
      ep_term l = ep_tuple_elem(c, 2);
      for (int b = 0; b < SOAK_BLASTERS && l; b++, l = ep_list_tail(l)) {
        if (int_of(ep_list_head(l)) != S.sent[i][b])
          spec_fail(__FILE__, __LINE__, "worker %d got %lld from blaster %d, %ld were sent", i,
                    (long long)int_of(ep_list_head(l)), b, S.sent[i][b]);
      }
    }
  }
  for (int b = 0; b < SOAK_BLASTERS; b++) ep_send(blasters[b], A("stop"));
  for (int i = 0; i < N; i++) ep_exit_signal_atom(S.workers[i], EP_A_kill);
  for (int i = 0; i < N; i++) EXPECT_M(await_down(&refs[i]), "killed");
  wait_alone();
  EXPECT(ep_process_count() == 1);
  EXPECT(nothing_arrives(0));
  free(dead);
  free(refs);
  free(S.workers);
  free(S.sent);
}
