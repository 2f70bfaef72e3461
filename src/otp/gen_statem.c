/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_statem.c - state machines in state functions mode, as a gen_server
 * underneath: calls, casts and infos become events for the current
 * state's function; state timeouts are timers tagged with a generation so
 * a stale one is dropped; event timeouts are gen_server timeouts. Owns the
 * machine's state atom, its timer and a copy of the state timeout content.
 */
#include <stdlib.h>

#include "otp_int.h"

struct sm {
  const ep_gen_statem_cb *cb;
  void *data;
  ep_atom state;
  uint64_t gen;                /* state timeout generation: older ones are stale */
  ep_ref timer;
  bool timer_on;
};

static ep_sm_state_fn state_fn(const struct sm *m, ep_atom st) {
  for (const ep_sm_state *s = m->cb->states; s && s->name; s++)
    if (ep_atom_of(s->name) == st)
      return s->fn;
  return NULL;
}

static void cancel_state_timeout(struct sm *m) {
  if (m->timer_on)
    ep_cancel_timer(&m->timer);
  m->timer_on = false;
  m->gen++;                    /* a timeout already queued is now stale */
}

static ep_sm_ret run_state(struct sm *m, ep_sm_event_type type, ep_term content,
                           const ep_from *from) {
  ep_sm_state_fn fn = state_fn(m, m->state);
  if (!fn) {
    ep_smallterm s;
    ep__exit_tagged(ep_atom_of("undefined_state"), ep_atom_term(&s, m->state));
  }
  ep_sm_event ev = {type, content, {EP_PID_NONE, {0}}, m->state};
  if (from)
    ev.from = *from;
  return fn(&ev, m->data);
}

static ep_gs_value take_value(ep_gs_value v) {
  if (v.kind == EP_GSV_TERM)
    return ep_gsv_take(ep_term_dup(v.u.term));
  return v;
}

/* Acts on a state function's return; gives the gen_server return. */
static ep_gs_ret apply(struct sm *m, ep_sm_ret r, const ep_from *from) {
  if (r.reply && from) {
    ep_build b;
    ep_b_init(&b);
    switch (r.reply_value.kind) {
    case EP_GSV_ATOM: ep_b_atom(&b, r.reply_value.u.atom); break;
    case EP_GSV_INT: ep_b_int(&b, r.reply_value.u.i); break;
    case EP_GSV_NONE: ep_b_atom(&b, EP_A_ok); break;
    default: ep_b_term(&b, r.reply_value.u.term); break;
    }
    ep_gen_server_reply(from, ep_b_peek(&b));
    ep_b_free(&b);
    if (r.reply_value.kind == EP_GSV_TAKE)
      ep_term_free(r.reply_value.u.term);
  }
  if (r.action == EP_SM_STOP)
    return ep__gs_ret(EP_GS_STOP, take_value(r.reason));
  if (r.action == EP_SM_NEXT && r.next != m->state) {
    ep_atom old = m->state;
    cancel_state_timeout(m);
    m->state = r.next;
    if (m->cb->state_enter) {
      ep_smallterm s;
      ep_sm_ret e = run_state(m, EP_SM_ENTER, ep_atom_term(&s, old), NULL);
      e.action = e.action == EP_SM_STOP ? EP_SM_STOP : EP_SM_KEEP;   /* enter cannot move */
      ep_gs_ret g = apply(m, e, NULL);
      if (g.action == EP_GS_STOP)
        return g;
      if (r.state_timeout == EP_INFINITY)
        r.state_timeout = e.state_timeout, r.state_timeout_content = e.state_timeout_content;
      if (r.event_timeout == EP_INFINITY)
        r.event_timeout = e.event_timeout;
    }
  }
  if (r.state_timeout != EP_INFINITY) {
    cancel_state_timeout(m);
    ep_build b;
    ep_b_init(&b);
    ep_b_tuple(&b);
    ep_b_atom(&b, ep__A.state_timeout);
    ep_b_uint(&b, m->gen);
    if (r.state_timeout_content)
      ep_b_term(&b, r.state_timeout_content);
    else
      ep_b_atom(&b, EP_A_timeout);
    ep_b_end(&b);
    m->timer = ep_send_after(r.state_timeout, ep_self(), ep_b_peek(&b));
    m->timer_on = true;
    ep_b_free(&b);
  }
  return ep_with_timeout(ep_noreply(), r.event_timeout);
}

static ep_gs_ret sm_init(ep_term arg, void **state) {
  const ep_gen_statem_cb *cb = ep__get_ptr(ep_tuple_elem(arg, 0));
  void *data = NULL;
  ep_sm_ret r = cb->init(ep_tuple_elem(arg, 1), &data);
  if (r.action == EP_SM_STOP)
    return ep__gs_ret(EP_GS_STOP, take_value(r.reason));
  struct sm *m = calloc(1, sizeof *m);
  if (!m)
    abort();
  m->cb = cb;
  m->data = data;
  *state = m;
  m->state = r.next;
  r.action = EP_SM_KEEP;
  r.reply = false;
  ep_gs_ret g = apply(m, r, NULL);
  if (g.action == EP_GS_NOREPLY)
    g.action = EP_GS_OK;                   /* init's own return shape */
  return g;
}

static ep_gs_ret sm_call(ep_term req, const ep_from *from, void *state) {
  struct sm *m = state;
  return apply(m, run_state(m, EP_SM_CALL, req, from), from);
}

static ep_gs_ret sm_cast(ep_term msg, void *state) {
  struct sm *m = state;
  return apply(m, run_state(m, EP_SM_CAST, msg, NULL), NULL);
}

static ep_gs_ret sm_info(ep_term msg, void *state) {
  EP_PATTERN(p_st, "{state_timeout, Gen::int, C}");
  struct sm *m = state;
  int64_t gen;
  ep_term content;
  if (ep_match(p_st, msg, &gen, &content)) {
    if ((uint64_t)gen != m->gen)
      return ep_noreply();                 /* cancelled before it was handled */
    m->timer_on = false;
    return apply(m, run_state(m, EP_SM_STATE_TIMEOUT, content, NULL), NULL);
  }
  ep_sm_event_type t = ep_is_atom(msg, EP_A_timeout) ? EP_SM_TIMEOUT : EP_SM_INFO;
  return apply(m, run_state(m, t, msg, NULL), NULL);
}

static void sm_terminate(ep_term reason, void *state) {
  struct sm *m = state;
  cancel_state_timeout(m);
  if (m->cb->terminate)
    m->cb->terminate(reason, m->state, m->data);
  free(m);
}

/* Dead without terminate: the timer died with the process, the data is the
 * user's to free. */
static void sm_release(void *state) {
  struct sm *m = state;
  if (m->cb->release)
    m->cb->release(m->data);
  free(m);
}

static const ep_gen_server_cb sm_cb = {
  .init = sm_init, .handle_call = sm_call, .handle_cast = sm_cast,
  .handle_info = sm_info, .terminate = sm_terminate, .release = sm_release};

static int start(const ep_gen_statem_cb *cb, ep_term arg, ep_atom name, bool link,
                 ep_pid *pid, ep_term *reason) {
  if (!cb)
    return EP_EINVAL;
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep__b_ptr(&b, cb);
  ep__b_arg(&b, arg);
  ep_b_end(&b);
  ep_term a = ep__b_done(&b);
  ep_b_free(&b);
  int rc = (link ? ep_gen_server_start_link : ep_gen_server_start)(&sm_cb, a, name, pid, reason);
  ep_term_free(a);
  return rc;
}

int ep_gen_statem_start(const ep_gen_statem_cb *cb, ep_term arg, ep_atom name, ep_pid *pid,
                        ep_term *reason) {
  return start(cb, arg, name, false, pid, reason);
}

int ep_gen_statem_start_link(const ep_gen_statem_cb *cb, ep_term arg, ep_atom name,
                             ep_pid *pid, ep_term *reason) {
  return start(cb, arg, name, true, pid, reason);
}

ep_term ep_gen_statem_call(ep_server s, ep_term req, long timeout_ms) {
  return ep__gen_call_x(s, req, timeout_ms, (ep__call_site){ep__A.gen_statem, true});
}

int ep_gen_statem_cast(ep_server s, ep_term msg) { return ep_gen_server_cast(s, msg); }

int ep_gen_statem_stop(ep_server s, ep_term reason, long timeout_ms) {
  return ep_gen_server_stop(s, reason, timeout_ms);
}
