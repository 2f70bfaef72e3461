/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.c - the ring workload (peers' README, workload 3): a token goes M
 * times around a ring of N processes; building the ring is setup_ms.
 */

#include "bench_rt.h"

static long n_arg, m_arg, total;
static uint64_t setup_ns, wall_ns;
static long long hops;
static ep_pid main_pid;
static ep_atom a_token;
static bool stackful;

/* {token, H}, built in the caller's reusable builder */
static void token(ep_build *b, ep_pid to, int64_t h) {
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_atom(b, a_token);
  ep_b_int(b, h);
  ep_b_end(b);
  ep_send(to, ep_b_peek(b));
}

static void node(ep_term arg) {
  ep_pid next = EP_PID_NONE;
  if (arg) {
    ep_get_pid(arg, &next);
  } else {
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);   /* the last one learns the first */
    ep_get_pid(m, &next);
  }
  ep_build b;
  ep_b_init(&b);
  for (;;) {
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);
    int64_t h;
    ep_get_int(ep_tuple_elem(m, 1), &h);
    if (h == total) {
      token(&b, main_pid, h);
      ep_b_free(&b);
      return;
    }
    token(&b, next, h + 1);
  }
}

/* The same node as a stackless handler process: its state is the next pid
 * (the last node learns it from its first message). A handler never
 * blocks here, so one builder per thread serves every node it runs. */
typedef struct { ep_pid next; } node_state;
static node_state *states;
static __thread ep_build tb;
static __thread bool tb_ready;

static bool node_handler(void *state, ep_term m) {
  node_state *s = state;
  if (ep_type_of(m) == EP_TPID) {
    ep_get_pid(m, &s->next);
    return true;
  }
  if (!tb_ready) {
    ep_b_init(&tb);
    tb_ready = true;
  }
  int64_t h;
  ep_get_int(ep_tuple_elem(m, 1), &h);
  if (h == total) {
    token(&tb, main_pid, h);
    return false;
  }
  token(&tb, s->next, h + 1);
  return true;
}

static ep_pid spawn_node(long i, const ep_pid *next) {
  ep_smallterm s;
  if (!stackful) {
    if (next) states[i].next = *next;
    return ep_spawn_handler(node_handler, &states[i]);
  }
  return ep_spawn(node, next ? ep_pid_term(&s, *next) : NULL);
}

static void root(ep_term unused) {
  (void)unused;
  main_pid = ep_self();
  a_token = ep_atom_of("token");
  uint64_t t0 = bench_now_ns();
  ep_pid last = spawn_node(0, NULL), next = last;
  ep_smallterm s;
  for (long i = 1; i < n_arg; i++) next = spawn_node(i, &next);
  ep_send(last, ep_pid_term(&s, next));
  uint64_t t1 = bench_now_ns();
  ep_build b;
  ep_b_init(&b);
  token(&b, next, 0);
  ep_b_free(&b);
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
  int64_t h;
  ep_get_int(ep_tuple_elem(m, 1), &h);
  uint64_t t2 = bench_now_ns();
  hops = h;
  setup_ns = t1 - t0;
  wall_ns = t2 - t1;
}

int main(int argc, char **argv) {
  n_arg = bench_arg(argc, argv, 1, 10000);
  m_arg = bench_arg(argc, argv, 2, 100);
  total = n_arg * m_arg;
  stackful = bench_stackful();
  if (!stackful && !(states = calloc((size_t)n_arg, sizeof *states))) return 1;
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "ring");
  bench_int(&l, "n", n_arg);
  bench_int(&l, "m", m_arg);
  bench_float(&l, "wall_ms", bench_ms(wall_ns));
  bench_float(&l, "setup_ms", bench_ms(setup_ns));
  bench_float(&l, "ns_per_msg", bench_per(wall_ns, (uint64_t)total));
  bench_str(&l, "kind", stackful ? "stack" : "handler");
  bench_int(&l, "result", hops);
  bench_end(&l, bench_threads());
  return 0;
}
