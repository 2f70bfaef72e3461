/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link_chain.c - the link_chain workload (peers' README, workload 11): N
 * processes linked in a chain; kill the first and time until the last one's
 * DOWN arrives (all_dead_ms: until the process count is back).
 */

#include "bench_rt.h"

static long n_arg;
static uint64_t wall_ns, all_dead_ns, build_ns;
static char reason[64];
static ep_pid main_pid;
static bool stackful;

static void chain(ep_term arg) {
  int64_t k;
  ep_get_int(arg, &k);
  if (k == 0) {
    ep_build b;
    ep_b_init(&b);
    ep_b_tuple(&b);
    ep_b_atom_name(&b, "last");
    ep_b_pid(&b, ep_self());
    ep_b_end(&b);
    ep_send(main_pid, ep_b_peek(&b));
    ep_b_free(&b);
  } else {
    ep_smallterm s;
    ep_spawn_link(chain, ep_int_term(&s, k - 1));
  }
  ep_sleep(EP_INFINITY);
}

/* The same link as a stackless handler process: its first message (go)
 * makes it spawn and link the next one; then it waits with no stack of
 * its own until the kill comes down the chain. */
static int64_t *ks;
static ep_atom a_go;

static bool link_handler(void *state, ep_term msg) {
  (void)msg;
  int64_t *k = state;
  if (*k == 0) {
    ep_send_fmt(main_pid, "{last, ~p}", ep_self());
    return true;
  }
  ep_pid next;
  ep_spawn_opts o = {.flags = EP_SPAWN_LINK};
  if (ep_spawn_handler_opt(&next, link_handler, k - 1, &o, NULL) != 0) exit(1);
  ep_smallterm s;
  ep_send(next, ep_atom_term(&s, a_go));
  return true;
}

static ep_pid spawn_first(void) {
  ep_smallterm s;
  if (stackful) return ep_spawn(chain, ep_int_term(&s, n_arg - 1));
  a_go = ep_atom_of("go");
  for (long i = 0; i < n_arg; i++) ks[i] = i;
  ep_pid first = ep_spawn_handler(link_handler, &ks[n_arg - 1]);
  ep_send(first, ep_atom_term(&s, a_go));
  return first;
}

static void root(ep_term unused) {
  (void)unused;
  main_pid = ep_self();
  long base = ep_process_count();
  ep_smallterm s;
  uint64_t t0 = bench_now_ns();
  ep_pid first = spawn_first();
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
  ep_pid last;
  ep_get_pid(ep_tuple_elem(m, 1), &last);
  uint64_t t1 = bench_now_ns();
  ep_ref ref = ep_monitor(last);
  uint64_t t2 = bench_now_ns();
  ep_exit_signal_atom(first, EP_A_kill);
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Why}");
  ep_term pin = ep_ref_term(&s, &ref);
  ep_clause c = {p_down, &pin};
  ep_receive_clauses(&c, 1, EP_INFINITY);
  uint64_t t3 = bench_now_ns();
  ep_print(reason, sizeof reason, ep_var(0), EP_PRINT_ERLANG);
  while (ep_process_count() > base) ep_yield();
  uint64_t t4 = bench_now_ns();
  build_ns = t1 - t0;
  wall_ns = t3 - t2;
  all_dead_ns = t4 - t2;
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 100000);
  if (n_arg < 2) n_arg = 2;
  stackful = bench_stackful();
  if (!stackful && !(ks = calloc((size_t)n_arg, sizeof *ks))) return 1;
  bench_run(root, (uint32_t)(n_arg + 1024));
  bench_line l;
  bench_begin(&l, "link_chain");
  bench_int(&l, "n", n_arg);
  bench_float(&l, "wall_ms", bench_ms(wall_ns));
  bench_float(&l, "all_dead_ms", bench_ms(all_dead_ns));
  bench_float(&l, "build_ms", bench_ms(build_ns));
  bench_float(&l, "ns_per_link", bench_per(wall_ns, (uint64_t)(n_arg - 1)));
  bench_str(&l, "kind", stackful ? "stack" : "handler");
  bench_str(&l, "result", reason);
  bench_end(&l, bench_threads());
  return 0;
}
