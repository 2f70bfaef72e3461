/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workpool.c - seed 000's Workpool as a gen_server: a FIFO scheduler
 * registered as `scheduler` that runs each queued job in a worker it
 * monitors, so a crashing job leaves the scheduler running. The API is
 * start() and queue(fun, args); results go to the caller. Prints an iex
 * session.
 */
#include <stdio.h>
#include <stdlib.h>

#include "eproc.h"

/* --------------------------------------------------- the scheduler -- */

struct sched { long running; };

/* A worker: {Fun(Args), Caller}; sends Fun(Args) to Caller. */
static void worker(ep_term job) {
  ep_fn fn;
  ep_term args;
  ep_pid caller;
  ep_get_fun(ep_tuple_elem(job, 0), &fn, &args);
  ep_get_pid(ep_tuple_elem(job, 1), &caller);
  ep_build b;
  ep_b_init(&b);
  ((ep_term_fn)fn)(args, &b);
  ep_send(caller, ep_b_peek(&b));
  ep_b_free(&b);
}

static ep_gs_ret sched_init(ep_term arg, void **state) {
  (void)arg;
  *state = calloc(1, sizeof(struct sched));
  return ep_init_ok();
}

/* {queue, Job}: start the job at once (FIFO: in arrival order). */
static ep_gs_ret sched_cast(ep_term req, void *state) {
  struct sched *s = state;
  ep_ref m;
  ep_spawn_monitor(worker, ep_tuple_elem(req, 1), &m);
  s->running++;
  return ep_noreply();
}

/* A worker's DOWN, normal or not: the scheduler carries on. */
static ep_gs_ret sched_info(ep_term msg, void *state) {
  struct sched *s = state;
  if (ep_tuple_arity(msg) == 5 && ep_is_atom(ep_tuple_elem(msg, 0), EP_A_DOWN))
    s->running--;
  return ep_noreply();
}

static void sched_terminate(ep_term reason, void *state) {
  (void)reason;
  free(state);
}

static const ep_gen_server_cb sched_cb = {
  .init = sched_init, .handle_cast = sched_cast, .handle_info = sched_info,
  .terminate = sched_terminate};

/* --------------------------------------------------------- the API -- */

static int workpool_start(void) {
  ep_pid pid;
  return ep_gen_server_start_link(&sched_cb, NULL, ep_atom_of("scheduler"), &pid, NULL);
}

static int workpool_queue(ep_term_fn fn, ep_term args) {
  ep_term req;
  ep_format(&req, "{queue, {~F, ~p}}", (ep_fn)fn, args, ep_self());
  ep_gen_server_cast(ep_srv_name(ep_atom_of("scheduler")), req);
  ep_term_free(req);
  return 0;
}

/* ----------------------------------------------------- the session -- */

static void double_square(ep_term x, ep_build *out) {
  int64_t v = 0;
  ep_get_int(x, &v);
  ep_b_int(out, 2 * v * v);
}

/* raise "oops": the exception term is made once, the crash is the worker's. */
static ep_term runtime_error;

static void oops(ep_term x, ep_build *out) {
  (void)x;
  (void)out;
  ep_error(runtime_error);
}

static void flush(void) {
  ep_term m;
  while (ep_receive_any(&m, 100) == 0) {
    char *s = ep_print_alloc(m, EP_PRINT_ELIXIR);
    printf("%s\n", s);
    free(s);
  }
  printf(":ok\n");
}

static void root(ep_term arg) {
  (void)arg;
  ep_term a;
  ep_format(&runtime_error, "{'RuntimeError', <<\"oops\">>}");
  printf("iex(1)> Workpool.start\n%s\n", workpool_start() == 0 ? ":ok" : ":error");
  printf("iex(2)> Workpool.queue(fn(x) -> x * x * 2 end, 4)\n");
  ep_format(&a, "4");
  workpool_queue(double_square, a);
  ep_term_free(a);
  printf(":ok\niex(3)> flush\n");
  flush();
  printf("iex(4)> Workpool.queue(fn(_) -> raise \"oops\" end, [])\n");
  ep_format(&a, "[]");
  workpool_queue(oops, a);
  ep_term_free(a);
  printf(":ok\n");
  fflush(stdout);
  /* Wait for the crash to be handled: a call would do, the scheduler has none. */
  ep_pid s = ep_whereis(ep_atom_of("scheduler"));
  ep_sleep(50);
  printf("iex(5)> Process.alive? scheduler\n%s\n", ep_is_alive(s) ? "true" : "false");
  printf("iex(6)> Workpool.queue(fn(x) -> x * x * 2 end, 7)\n");
  ep_format(&a, "7");
  workpool_queue(double_square, a);
  ep_term_free(a);
  printf(":ok\niex(7)> flush\n");
  flush();
  fflush(stdout);
  ep_gen_server_stop(ep_srv(s), NULL, EP_INFINITY);
  ep_term_free(runtime_error);
}

int main(void) {
  ep_smallterm s;
  return ep_run(NULL, root, ep_atom_term(&s, EP_A_ok)) == 0 ? 0 : 1;
}
