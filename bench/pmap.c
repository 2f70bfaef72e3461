/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pmap.c - the pmap workload (peers' README, workload 6): the seed's
 * parallel map of x*x over 1..N, one process per element spawned with
 * link and monitor, each replying {Pid, Result}; results awaited in order
 * with demonitor(Ref, [flush]).
 */
#include "bench_rt.h"

static long n_arg;
static uint64_t wall_ns;
static long long sum;
static bool ordered = true;

static void square(ep_term arg) {
  ep_pid owner;
  int64_t x;
  ep_get_pid(ep_tuple_elem(arg, 0), &owner);
  ep_get_int(ep_tuple_elem(arg, 1), &x);
  uint8_t buf[64];   /* the reply is built on the stack, as Erlang builds it on the heap */
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_pid(&b, ep_self());
  ep_b_int(&b, x * x);
  ep_b_end(&b);
  ep_send(owner, ep_b_peek(&b));
  ep_b_free(&b);
}

typedef struct {
  ep_pid pid;
  ep_ref ref;
} task;

static void root(ep_term unused) {
  (void)unused;
  task *tasks = malloc((size_t)n_arg * sizeof *tasks);
  EP_PATTERN(p_reply, "{^Pid, R::int}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  uint64_t t0 = bench_now_ns();
  ep_build b;
  ep_b_init(&b);
  ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
  for (long i = 0; i < n_arg; i++) {
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_pid(&b, ep_self());
    ep_b_int(&b, i + 1);
    ep_b_end(&b);
    if (ep_spawn_opt(&tasks[i].pid, square, ep_b_peek(&b), &o, &tasks[i].ref)) exit(1);
  }
  ep_b_free(&b);
  long long acc = 0;
  for (long i = 0; i < n_arg; i++) {
    ep_smallterm s1, s2;
    ep_term pin_pid = ep_pid_term(&s1, tasks[i].pid), pin_ref = ep_ref_term(&s2, &tasks[i].ref);
    ep_clause c[2] = {{p_reply, &pin_pid}, {p_down, &pin_ref}};
    if (ep_receive_clauses(c, 2, EP_INFINITY) != 0) ep_exit(ep_var(0));
    int64_t r;
    ep_bind(&r);
    ep_demonitor(&tasks[i].ref, EP_DEMONITOR_FLUSH);
    acc += r;
    if (r != (int64_t)(i + 1) * (i + 1)) ordered = false;
  }
  wall_ns = bench_now_ns() - t0;
  sum = acc;
  free(tasks);
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 100000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "pmap");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(wall_ns));
  bench_float(&l, "ns_per_elem", bench_per(wall_ns, (uint64_t)n_arg));
  bench_str(&l, "ordered", ordered ? "true" : "false");
  bench_int(&l, "result", sum);
  bench_end(&l, bench_threads());
  return 0;
}
