/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppool_nagger.c - the chapter's demo worker: a gen_server that nags its
 * owner with {self(), Task} every Delay ms, Max times, using gen_server
 * timeouts (R53) and stopping normal when done (R52). Owns its task term.
 */
#include <stdlib.h>

#include "eproc.h"

struct nag {
  ep_term task;                 /* owned */
  long delay;
  long max;                     /* -1: infinity */
  ep_pid send_to;
};

static ep_gs_ret init(ep_term arg, void **state) {
  EP_PATTERN(p_args, "[Task, Delay::int, Max, To::pid]");
  struct nag *n = calloc(1, sizeof *n);
  if (!n)
    abort();
  ep_term task, max;
  int64_t delay, m = -1;
  if (!ep_match(p_args, arg, &task, &delay, &max, &n->send_to)) {
    free(n);
    return ep_init_stop_atom(EP_A_badarg);
  }
  ep_get_int(max, &m);
  n->task = ep_term_dup(task);
  n->delay = (long)delay;
  n->max = ep_is_atom(max, EP_A_infinity) ? -1 : (long)m;
  *state = n;
  /* Unlike the chapter's: a pool's shutdown then runs terminate, which
   * frees the task (Erlang's GC would). Only its supervisor is linked. */
  ep_trap_exit(true);
  return ep_with_timeout(ep_init_ok(), n->delay);
}

static ep_gs_ret handle_call(ep_term req, const ep_from *from, void *state) {
  (void)from;
  (void)state;
  if (ep_is_atom(req, EP_A_stop))
    return ep_stop_reply(ep_gsv_atom(EP_A_normal), NULL);
  return ep_noreply();
}

static ep_gs_ret handle_info(ep_term msg, void *state) {
  struct nag *n = state;
  if (!ep_is_atom(msg, EP_A_timeout))
    return ep_noreply();
  ep_send_fmt(n->send_to, "{~p, ~t}", ep_self(), n->task);
  if (n->max == -1)
    return ep_with_timeout(ep_noreply(), n->delay);
  if (n->max <= 1)
    return ep_stop_atom(EP_A_normal);
  n->max--;
  return ep_with_timeout(ep_noreply(), n->delay);
}

static void release(void *state) {
  struct nag *n = state;
  ep_term_free(n->task);
  free(n);
}

static void terminate(ep_term reason, void *state) {
  (void)reason;
  release(state);
}

static const ep_gen_server_cb nagger_cb = {
  .init = init, .handle_call = handle_call, .handle_info = handle_info,
  .terminate = terminate, .release = release};

int ep_ppool_nagger_start_link(ep_term args, ep_pid *pid, ep_term *reason) {
  return ep_gen_server_start_link(&nagger_cb, args, 0, pid, reason);
}

int ep_ppool_nagger_stop(ep_pid nagger) {
  ep_smallterm st;
  ep_gen_server_call(ep_srv(nagger), ep_atom_term(&st, EP_A_stop));
  return 0;
}
