/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.c - Elixir's Agent (R71-R73) as gen_server callbacks: the state is
 * one owned term, replaced by what the caller's function builds. Owns the
 * state term and a scratch builder; calls and their failures are the
 * generic call's (otp_util.c) with Elixir's GenServer as the module.
 */
#include <stdlib.h>

#include "otp_int.h"

struct agent {
  ep_term state;               /* owned */
  ep_build b;                  /* scratch for the user's functions */
};

static ep__call_site site(void) { return (ep__call_site){ep__A.elixir_genserver, true}; }

static ep_gs_ret a_init(ep_term arg, void **state) {
  ep_fn fn;
  ep_term farg;
  ep_get_fun(arg, &fn, &farg);
  ep_build b;
  ep_b_init(&b);
  ((ep_term_fn)fn)(farg, &b);             /* a crash here fails the start (R71) */
  struct agent *a = calloc(1, sizeof *a);
  if (!a)
    abort();
  a->state = ep__b_done(&b);
  ep_b_free(&b);
  ep_b_init(&a->b);
  *state = a;
  return ep_init_ok();
}

static void a_release(void *state) {
  struct agent *a = state;
  ep_b_free(&a->b);
  if (a->state)
    ep_term_free(a->state);
  free(a);
}

static void a_terminate(ep_term reason, void *state) {
  (void)reason;
  a_release(state);
}

/* Runs the function of request {Op, Fun(Arg)} on the state, into a->b. */
static ep_term apply(struct agent *a, ep_term req) {
  ep_fn fn;
  ep_term farg;
  ep_get_fun(ep_tuple_elem(req, 1), &fn, &farg);
  ep_b_reset(&a->b);
  ((ep_agent_fn)fn)(a->state, farg, &a->b);
  return ep_b_peek(&a->b);
}

static void set_state(struct agent *a, ep_term t) {
  ep_term n = ep_term_dup(t);
  if (!n)
    abort();
  ep_term_free(a->state);
  a->state = n;
}

static ep_gs_ret a_call(ep_term req, const ep_from *from, void *state) {
  (void)from;
  struct agent *a = state;
  ep_atom op = 0;
  ep_get_atom(ep_tuple_elem(req, 0), &op);   /* before fn: a receive in it frees req */
  ep_term v = apply(a, req);
  if (!v)
    ep_exit_atom(EP_A_badarg);           /* the function built no term */
  if (op == ep__A.get)
    return ep_reply(v);
  if (op == ep__A.update) {
    set_state(a, v);
    return ep_reply_atom(EP_A_ok);
  }
  if (ep_tuple_arity(v) != 2) {
    ep_build b;
    ep_b_init(&b);
    ep_b_tuple(&b);
    ep_b_atom(&b, ep__A.bad_return_value);
    ep_b_term(&b, v);
    ep_b_end(&b);
    ep_term r = ep__b_done(&b);
    ep_b_free(&b);
    return ep_stop_take(r);
  }
  set_state(a, ep_tuple_elem(v, 1));
  return ep_reply(ep_tuple_elem(v, 0));      /* still in a->b until the reply is sent */
}

static ep_gs_ret a_cast(ep_term req, void *state) {
  struct agent *a = state;
  ep_term v = apply(a, req);
  if (!v)
    ep_exit_atom(EP_A_badarg);
  set_state(a, v);
  return ep_noreply();
}

static const ep_gen_server_cb agent_cb = {
  .init = a_init, .handle_call = a_call, .handle_cast = a_cast, .terminate = a_terminate,
  .release = a_release};

static ep_term fun_req(ep_atom op, ep_fn fn, ep_term arg) {
  ep_build b;
  ep_b_init(&b);
  if (op) {
    ep_b_tuple(&b);
    ep_b_atom(&b, op);
  }
  ep_b_fun(&b, fn);
  ep__b_arg(&b, arg);
  if (op)
    ep_b_end(&b);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

static int start(ep_term_fn init, ep_term arg, ep_atom name, bool link, ep_pid *pid,
                 ep_term *reason) {
  if (!init)
    return EP_EINVAL;
  ep_term a = fun_req(0, (ep_fn)init, arg);
  int rc = (link ? ep_gen_server_start_link : ep_gen_server_start)(&agent_cb, a, name, pid,
                                                                    reason);
  ep_term_free(a);
  return rc;
}

int ep_agent_start_link(ep_term_fn init, ep_term arg, ep_atom name, ep_pid *pid,
                        ep_term *reason) {
  return start(init, arg, name, true, pid, reason);
}

int ep_agent_start(ep_term_fn init, ep_term arg, ep_atom name, ep_pid *pid, ep_term *reason) {
  return start(init, arg, name, false, pid, reason);
}

static ep_term call(ep_server a, ep_atom op, ep_agent_fn fn, ep_term arg, long timeout_ms) {
  return ep__gen_call_take(a, fun_req(op, (ep_fn)fn, arg), timeout_ms, site());
}

ep_term ep_agent_get(ep_server a, ep_agent_fn fn, ep_term arg, long timeout_ms) {
  return call(a, ep__A.get, fn, arg, timeout_ms);
}

int ep_agent_update(ep_server a, ep_agent_fn fn, ep_term arg, long timeout_ms) {
  call(a, ep__A.update, fn, arg, timeout_ms);
  return 0;
}

ep_term ep_agent_get_and_update(ep_server a, ep_agent_fn fn, ep_term arg, long timeout_ms) {
  return call(a, ep__A.get_and_update, fn, arg, timeout_ms);
}

int ep_agent_cast(ep_server a, ep_agent_fn fn, ep_term arg) {
  ep_term req = fun_req(EP_A_cast, (ep_fn)fn, arg);
  ep_gen_server_cast(a, req);
  ep_term_free(req);
  return 0;
}

int ep_agent_stop(ep_server a, ep_term reason, long timeout_ms) {
  return ep_gen_server_stop(a, reason, timeout_ms);
}
