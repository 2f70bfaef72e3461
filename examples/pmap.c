/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pmap.c - seed 000's parallel map, MyMap.pmap(1..10000, &(&1 * &1)),
 * with raw processes: one spawned process per element sends back
 * {self(), x * x}; the results are collected in input order by selective
 * receive on each pid, as Task.await does. Prints the list as iex does.
 */
#include "iex.h"

enum { N = 10000 };

/* fn -> send(parent, {self(), f.(x)}) end */
static void square(ep_term arg) {
  EP_PATTERN(p_arg, "{Parent::pid, X::int}");
  ep_pid parent;
  int64_t x;
  if (ep_match(p_arg, arg, &parent, &x)) ep_send_fmt(parent, "{~p, ~L}", ep_self(), (long long)(x * x));
}

/* collection |> Enum.map(spawn) |> Enum.map(await): replies in input order. */
static void pmap(const int64_t *in, int64_t *out, int n) {
  EP_PATTERN(p_reply, "{^Pid, R::int}");
  ep_pid *pids = malloc((size_t)n * sizeof *pids);
  for (int i = 0; i < n; i++) {
    ep_term arg;
    ep_format(&arg, "{~p, ~L}", ep_self(), (long long)in[i]);
    pids[i] = ep_spawn(square, arg);
    ep_term_free(arg);
  }
  for (int i = 0; i < n; i++) {
    ep_smallterm s;
    ep_term pin = ep_pid_term(&s, pids[i]);
    ep_clause c = {p_reply, &pin};
    ep_receive_clauses(&c, 1, EP_INFINITY);
    ep_bind(&out[i]);
  }
  free(pids);
}

static void shell(ep_term arg) {
  (void)arg;
  static int64_t in[N], out[N];
  for (int i = 0; i < N; i++) in[i] = i + 1;
  iex("MyMap.pmap(1..10000, &(&1 * &1))");
  pmap(in, out, N);
  printf("[");
  for (int i = 0; i < 50; i++) printf("%lld, ", (long long)out[i]);
  printf("...]\n");
  int64_t sum = 0;
  bool ordered = true;
  for (int i = 0; i < N; i++) {
    sum += out[i];
    ordered = ordered && out[i] == in[i] * in[i];
  }
  printf("%d processes; sum of squares %lld; in input order: %s\n", N, (long long)sum,
         ordered ? "true" : "false");
}

int main(void) { return ep_run(NULL, shell, NULL); }
