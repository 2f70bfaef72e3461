/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_call.c - the genserver_call workload (peers' README, workload
 * 7): C clients each make K ep_gen_server_call round trips ({add, 1}) to
 * one gen_server holding a counter. result = the final counter (C*K).
 */
#include "bench_rt.h"

static long c_arg, k_arg;
static long long result;
static uint64_t wall;

static ep_gs_ret init(ep_term arg, void **state) {
  (void)arg;
  *state = calloc(1, sizeof(int64_t));
  return ep_init_ok();
}

static ep_gs_ret handle_call(ep_term req, const ep_from *from, void *state) {
  (void)from;
  int64_t *count = state, x = 0;
  if (ep_tuple_arity(req) == 2)
    ep_get_int(ep_tuple_elem(req, 1), &x);        /* {add, X} */
  *count += x;
  return ep_reply_int(*count);                    /* get: X = 0 */
}

static void terminate(ep_term reason, void *state) {
  (void)reason;
  free(state);
}

static const ep_gen_server_cb counter = {.init = init, .handle_call = handle_call,
                                         .terminate = terminate};

static void client(ep_term arg) {
  ep_pid server, main_pid;
  ep_get_pid(ep_tuple_elem(arg, 0), &server);
  ep_get_pid(ep_tuple_elem(arg, 1), &main_pid);
  ep_term add = ep_tuple_elem(arg, 2);
  for (long i = 0; i < k_arg; i++)
    ep_gen_server_call(ep_srv(server), add);
  ep_send_fmt(main_pid, "client_done");
}

static void root(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_done, "client_done");
  ep_pid server;
  ep_gen_server_start_link(&counter, NULL, 0, &server, NULL);
  ep_term arg;
  ep_format(&arg, "{~p, ~p, {add, 1}}", server, ep_self());
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < c_arg; i++)
    ep_spawn_link(client, arg);
  for (long i = 0; i < c_arg; i++)
    ep_receive(EP_INFINITY, p_done);
  wall = bench_now_ns() - t0;
  ep_term_free(arg);
  ep_format(&arg, "get");
  int64_t total = 0;
  ep_get_int(ep_gen_server_call(ep_srv(server), arg), &total);
  ep_term_free(arg);
  result = total;
  ep_gen_server_stop(ep_srv(server), NULL, EP_INFINITY);
}

int main(int argc, char **argv) {
  c_arg = bench_arg(argc, argv, 1, 4);
  k_arg = bench_arg(argc, argv, 2, 250000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "genserver_call");
  bench_int(&l, "c", c_arg);
  bench_int(&l, "k", k_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_call", bench_per(wall, (uint64_t)(c_arg * k_arg)));
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
