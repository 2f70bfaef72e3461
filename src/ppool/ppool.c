/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppool.c - the ppool application's supervisors and API (R74, R75-R79 on
 * the caller's side): ppool_supersup, one ppool_sup per pool, the
 * simple_one_for_one worker supervisor, and the calls to a pool's server.
 * Owns no state: the tree is the state. The server is ppool_serv.c.
 */
#include "eproc.h"
#include "ppool_int.h"

static ep_atom a_ppool(void) { return ep_atom_of("ppool"); }

/* ppool_supersup: one_for_one, 6 restarts in 3600 s, no static child. */
static int supersup_init(ep_term arg, ep_sup_spec *spec) {
  (void)arg;
  ep_sup_set_flags(spec, (ep_sup_flags){EP_ONE_FOR_ONE, 6, 3600});
  return 0;
}

int ep_ppool_start_link(ep_pid *pid) {
  return ep_supervisor_start_link(supersup_init, NULL, a_ppool(), pid, NULL);
}

static int app_start(ep_term args, ep_pid *pid, ep_term *reason) {
  (void)args;
  return ep_supervisor_start_link(supersup_init, NULL, a_ppool(), pid, reason);
}

const ep_application ep_ppool_app = {"ppool", app_start, NULL};

int ep_ppool_stop(void) {
  ep_pid p = ep_whereis(a_ppool());
  if (ep_pid_eq(p, EP_PID_NONE))
    return EP_ENOPROC;
  return ep_supervisor_stop(ep_srv(p));
}

int ep_ppool_kill(void) {
  ep_pid p = ep_whereis(a_ppool());
  if (ep_pid_eq(p, EP_PID_NONE))
    return EP_ENOPROC;
  return ep_exit_signal_atom(p, EP_A_kill);
}

/* ppool_sup: one_for_all, 1 restart in 3600 s; its one static child is the
 * server (R74). arg = [Name, Limit, QueueLimit, Start]. */
static int pool_sup_init(ep_term arg, ep_sup_spec *spec) {
  ep_sup_set_flags(spec, (ep_sup_flags){EP_ONE_FOR_ALL, 1, 3600});
  ep_child_spec serv = {.id = "serv", .start = ep__ppool_serv_start_link, .args = arg,
                        .restart = EP_PERMANENT, .shutdown = 5000, .type = EP_WORKER};
  ep_sup_add_child(spec, &serv);
  return 0;
}

static int pool_sup_start_link(ep_term args, ep_pid *pid, ep_term *reason) {
  return ep_supervisor_start_link(pool_sup_init, args, 0, pid, reason);
}

/* ppool_worker_sup: simple_one_for_one, 5 restarts in 3600 s, temporary
 * workers with shutdown 5000. arg = [Start]. */
static int worker_sup_init(ep_term arg, ep_sup_spec *spec) {
  ep_fn fn;
  ep_term base;
  ep_get_fun(ep_list_head(arg), &fn, &base);
  ep_sup_set_flags(spec, (ep_sup_flags){EP_SIMPLE_ONE_FOR_ONE, 5, 3600});
  ep_child_spec w = {.id = "ppool_worker", .start = (ep_start_fn)fn, .args = base,
                     .restart = EP_TEMPORARY, .shutdown = 5000, .type = EP_WORKER};
  ep_sup_add_child(spec, &w);
  return 0;
}

int ep__ppool_worker_sup_start_link(ep_term args, ep_pid *pid, ep_term *reason) {
  return ep_supervisor_start_link(worker_sup_init, args, 0, pid, reason);
}

int ep_ppool_start_pool_opts(ep_atom name, const ep_ppool_opts *opts, ep_start_fn start,
                             ep_term args, ep_pid *pid) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  ep_b_atom(&b, name);
  ep_b_int(&b, opts->limit);
  ep_b_int(&b, opts->queue_limit);
  ep_b_fun(&b, (ep_fn)start);
  if (args)
    ep_b_term(&b, args);
  else
    ep_b_nil(&b);
  ep_b_end(&b);
  int err;
  ep_term a = ep_b_finish(&b, &err);
  ep_b_free(&b);
  if (!a)
    return err;
  ep_child_spec spec = {.id = ep_atom_name(name, NULL), .start = pool_sup_start_link,
                        .args = a, .restart = EP_PERMANENT, .shutdown = 10500,
                        .type = EP_SUPERVISOR};
  int rc = ep_supervisor_start_child(ep_srv_name(a_ppool()), &spec, pid, NULL);
  ep_term_free(a);
  return rc;
}

int ep_ppool_start_pool(ep_atom name, long limit, ep_start_fn start, ep_term args,
                        ep_pid *pid) {
  ep_ppool_opts o = {limit, 0};
  return ep_ppool_start_pool_opts(name, &o, start, args, pid);
}

int ep_ppool_stop_pool(ep_atom name) {
  const char *id = ep_atom_name(name, NULL);
  int rc = ep_supervisor_terminate_child(ep_srv_name(a_ppool()), id);
  if (rc == 0)
    rc = ep_supervisor_delete_child(ep_srv_name(a_ppool()), id);
  return rc;
}

/* {ok, Pid} -> 0; noalloc / {error, queue_full} -> EP_EBUSY; other errors. */
static int worker_reply(ep_term r, ep_pid *worker) {
  EP_PATTERN(p_ok, "{ok, P::pid}");
  ep_pid p;
  if (ep_match(p_ok, r, &p)) {
    if (worker)
      *worker = p;
    return 0;
  }
  if (ep_is_atom(r, EP_A_noalloc) || ep_is_atom(ep_tuple_elem(r, 1), ep_atom_of("queue_full")))
    return EP_EBUSY;
  return EP_EEXITED;
}

static int job_call(ep_atom name, const char *op, ep_term args, long timeout, ep_pid *worker) {
  ep_term req;
  ep_format(&req, "{~a, ~t}", op, args);
  ep_term r = ep_gen_server_call_timeout(ep_srv_name(name), req, timeout);
  ep_term_free(req);
  return worker_reply(r, worker);
}

int ep_ppool_run(ep_atom name, ep_term args, ep_pid *worker) {
  return job_call(name, "run", args, EP_CALL_TIMEOUT_DEFAULT, worker);
}

int ep_ppool_sync_queue(ep_atom name, ep_term args, ep_pid *worker) {
  return job_call(name, "sync", args, EP_INFINITY, worker);
}

static ep_atom a_async;

__attribute__((constructor)) static void ppool_atoms_init(void) { a_async = ep_atom_of("async"); }

int ep_ppool_async_queue(ep_atom name, ep_term args) {
  uint8_t buf[256];            /* the usual job fits: queueing allocates nothing */
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_atom(&b, a_async);
  ep_b_term(&b, args);
  ep_b_end(&b);
  ep_gen_server_cast(ep_srv_name(name), ep_b_peek(&b));
  ep_b_free(&b);
  return 0;
}

int ep_ppool_stats_of(ep_atom name, ep_ppool_stats *out) {
  ep_smallterm st;
  ep_term r = ep_gen_server_call(ep_srv_name(name), ep_atom_term(&st, ep_atom_of("stats")));
  long *f[5] = {&out->limit, &out->running, &out->queued, &out->queue_limit, &out->rejected};
  for (size_t i = 0; i < 5; i++) {
    int64_t v = 0;
    ep_get_int(ep_tuple_elem(r, i), &v);
    *f[i] = (long)v;
  }
  return 0;
}
