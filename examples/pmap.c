/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pmap.c - seed 000's parallel map: MyMap.pmap(1..10000, &(&1 * &1)),
 * one process per element (Task.async: spawn with link and monitor), the
 * results awaited in order (Task.await: the reply, or the DOWN).
 */
#include <stdio.h>
#include <stdlib.h>

#include "eproc.h"

typedef struct {
  ep_pid pid;
  ep_ref ref;
} task;

static void square(ep_term arg) {
  ep_pid owner;
  int64_t x;
  ep_get_pid(ep_tuple_elem(arg, 0), &owner);
  ep_get_int(ep_tuple_elem(arg, 1), &x);
  ep_send_fmt(owner, "{~p, ~L}", ep_self(), (long long)(x * x));
}

static task async(int64_t x) {
  task t;
  ep_term arg;
  ep_format(&arg, "{~p, ~L}", ep_self(), (long long)x);
  ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
  if (ep_spawn_opt(&t.pid, square, arg, &o, &t.ref) != 0) ep_exit_atom(EP_A_system_limit);
  ep_term_free(arg);
  return t;
}

static int64_t await(task t) {
  EP_PATTERN(p_reply, "{^Pid, R::int}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  ep_smallterm s1, s2;
  ep_term pid = ep_pid_term(&s1, t.pid), ref = ep_ref_term(&s2, &t.ref);
  ep_clause c[2] = {{p_reply, &pid}, {p_down, &ref}};
  if (ep_receive_clauses(c, 2, EP_INFINITY) == 1) ep_exit(ep_var(0));
  int64_t r;
  ep_bind(&r);
  ep_demonitor(&t.ref, EP_DEMONITOR_FLUSH);
  return r;
}

static void shell(ep_term arg) {
  (void)arg;
  enum { N = 10000 };
  static task tasks[N];
  static int64_t out[N];
  printf("iex> MyMap.pmap(1..10000, &(&1 * &1))\n");
  for (int i = 0; i < N; i++) tasks[i] = async(i + 1);
  for (int i = 0; i < N; i++) out[i] = await(tasks[i]);
  printf("[");
  for (int i = 0; i < 20; i++) printf("%s%lld", i ? ", " : "", (long long)out[i]);
  printf(", ...]\n");
  long long sum = 0;
  for (int i = 0; i < N; i++) sum += out[i];
  printf("length: %d, sum: %lld, last: %lld\n", N, sum, (long long)out[N - 1]);
}

int main(void) { return ep_run(NULL, shell, NULL) == 0 ? 0 : 1; }
