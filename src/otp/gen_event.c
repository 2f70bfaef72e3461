/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_event.c - the event manager as a gen_server: an ordered array of
 * installed handlers, each callback run under ep_catch so a crashing
 * handler is removed (terminate gets {error, Reason}) and the manager
 * lives on. Owns the array; each handler's state is the handler's own.
 */
#include <stdlib.h>
#include <string.h>

#include "otp_int.h"

struct installed {
  const ep_gen_event_handler *h;
  void *state;
};

struct mgr {
  struct installed *hs;
  size_t n, cap;
};

/* ------------------------------------------------------------ running -- */

struct hcall {
  const struct installed *in;
  int which;                    /* 0 event, 1 call, 2 terminate, 3 init */
  ep_term t;
  ep_build *reply;
  int rc;
};

static void run_h(void *ctx) {
  struct hcall *c = ctx;
  const ep_gen_event_handler *h = c->in->h;
  switch (c->which) {
  case 0: c->rc = h->handle_event ? h->handle_event(c->t, c->in->state) : 0; break;
  case 1:
    c->rc = h->handle_call ? h->handle_call(c->t, c->in->state, c->reply) : 0;
    if (!h->handle_call)
      ep_b_atom(c->reply, ep__A.bad_call);
    break;
  case 2:
    if (h->terminate)
      h->terminate(c->t, c->in->state);
    break;
  default:
    c->rc = h->init ? h->init(c->t, &((struct installed *)c->in)->state) : 0;
  }
}

static void remove_at(struct mgr *m, size_t i, ep_term reason) {
  struct installed in = m->hs[i];
  memmove(&m->hs[i], &m->hs[i + 1], (m->n - i - 1) * sizeof *m->hs);
  m->n--;
  struct hcall c = {&in, 2, reason, NULL, 0};
  ep_catch(run_h, &c, NULL);     /* a crashing terminate changes nothing */
}

static void remove_crashed(struct mgr *m, size_t i, ep_term why) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, EP_A_error);
  ep_b_term(&b, why);
  ep_b_end(&b);
  ep_term r = ep__b_done(&b);
  ep_b_free(&b);
  remove_at(m, i, r);
  ep_term_free(r);
}

static void remove_asked(struct mgr *m, size_t i) {
  ep_smallterm s;
  remove_at(m, i, ep_atom_term(&s, ep_atom_of("remove_handler")));
}

/* Every handler, in order, gets the event. */
static void dispatch(struct mgr *m, ep_term event) {
  ep_term ev = ep_term_dup(event);     /* a handler may receive */
  for (size_t i = 0; i < m->n;) {
    struct hcall c = {&m->hs[i], 0, ev, NULL, 0};
    ep_term why;
    if (ep_catch(run_h, &c, &why)) {
      ep_term w = ep_term_dup(why);
      remove_crashed(m, i, w);
      ep_term_free(w);
    } else if (c.rc == EP_GE_REMOVE) {
      remove_asked(m, i);
    } else {
      i++;
    }
  }
  ep_term_free(ev);
}

static long find(const struct mgr *m, const ep_gen_event_handler *h) {
  for (size_t i = 0; i < m->n; i++)
    if (m->hs[i].h == h)
      return (long)i;
  return -1;
}

/* ---------------------------------------------------------- callbacks -- */

static ep_gs_ret m_init(ep_term arg, void **state) {
  (void)arg;
  struct mgr *m = calloc(1, sizeof *m);
  if (!m)
    abort();
  *state = m;
  return ep_init_ok();
}

static ep_gs_ret reply_int(int v) { return ep_reply_int(v); }

static ep_gs_ret m_call(ep_term req, const ep_from *from, void *state) {
  (void)from;
  struct mgr *m = state;
  ep_atom op = 0;
  ep_get_atom(ep_tuple_elem(req, 0), &op);
  if (op == ep__A.sync_notify) {
    dispatch(m, ep_tuple_elem(req, 1));
    return ep_reply_atom(EP_A_ok);
  }
  if (op == ep__A.which_handlers) {
    ep_build b;
    ep_b_init(&b);
    ep_b_list(&b);
    for (size_t i = 0; i < m->n; i++)
      ep_b_atom_name(&b, m->hs[i].h->name ? m->hs[i].h->name : "undefined");
    ep_b_end(&b);
    ep_term t = ep__b_done(&b);
    ep_b_free(&b);
    return ep_reply_take(t);
  }
  const ep_gen_event_handler *h = ep__get_ptr(ep_tuple_elem(req, 1));
  ep_term arg = ep_term_dup(ep_tuple_elem(req, 2));   /* the handler may receive */
  long i = find(m, h);
  ep_gs_ret r;
  if (op == ep__A.add_handler) {
    if (i >= 0) {
      r = reply_int(EP_EEXIST);
    } else {
      struct installed in = {h, NULL};
      struct hcall c = {&in, 3, arg, NULL, 0};
      int rc = ep_catch(run_h, &c, NULL) ? EP_EEXITED : c.rc;
      if (rc == 0) {
        if (m->n == m->cap) {
          m->cap = m->cap ? m->cap * 2 : 4;
          m->hs = realloc(m->hs, m->cap * sizeof *m->hs);
          if (!m->hs)
            abort();
        }
        m->hs[m->n++] = in;
      }
      r = reply_int(rc);
    }
  } else if (i < 0) {
    r = reply_int(EP_ENOTFOUND);
  } else if (op == ep__A.delete_handler) {
    remove_at(m, (size_t)i, arg);
    r = reply_int(0);
  } else {                                  /* call: {call, H, Req} -> {0, Reply} */
    ep_build b;
    ep_b_init(&b);
    ep_b_tuple(&b);
    ep_b_int(&b, 0);
    struct hcall c = {&m->hs[i], 1, arg, &b, 0};
    ep_term why;
    if (ep_catch(run_h, &c, &why)) {
      ep_term w = ep_term_dup(why);
      remove_crashed(m, (size_t)i, w);
      ep_b_reset(&b);
      ep_b_tuple(&b);
      ep_b_int(&b, EP_EEXITED);
      ep_b_term(&b, w);
      ep_term_free(w);
    } else if (c.rc == EP_GE_REMOVE) {
      remove_asked(m, (size_t)i);
    }
    ep_b_end(&b);
    r = ep_reply_take(ep__b_done(&b));
    ep_b_free(&b);
  }
  ep_term_free(arg);
  return r;
}

static ep_gs_ret m_cast(ep_term req, void *state) {
  dispatch(state, req);
  return ep_noreply();
}

static void m_release(void *state) {
  struct mgr *m = state;
  free(m->hs);
  free(m);
}

static void m_terminate(ep_term reason, void *state) {
  struct mgr *m = state;
  while (m->n)
    remove_at(m, m->n - 1, reason);
  free(m->hs);
  free(m);
}

static const ep_gen_server_cb mgr_cb = {
  .init = m_init, .handle_call = m_call, .handle_cast = m_cast, .terminate = m_terminate,
  .release = m_release};

/* ---------------------------------------------------------------- API -- */

int ep_gen_event_start(ep_atom name, ep_pid *pid) {
  return ep_gen_server_start(&mgr_cb, NULL, name, pid, NULL);
}

int ep_gen_event_start_link(ep_atom name, ep_pid *pid) {
  return ep_gen_server_start_link(&mgr_cb, NULL, name, pid, NULL);
}

/* A request to the manager; req (a heap term) is freed whatever happens.
 * When the manager is gone or dies meanwhile, the caller exits as OTP's
 * gen_event makes it: add_handler, delete_handler, sync_notify and
 * which_handlers with gen:call's bare reason (noproc, or the manager's
 * exit reason); call with {Reason, {gen_event, call, [Mgr, Handler,
 * Query, Timeout]}} (h and query given). */
static ep_term mgr_call(ep_server mgr, ep_term req, long timeout_ms,
                        const ep_gen_event_handler *h, ep_term query) {
  ep_term out = NULL;
  int rc = ep__gen_call(mgr, req, timeout_ms, &out);
  ep_term_free(req);
  if (rc == 0)
    return out;
  ep_smallterm ws, hs;
  if (!h)
    ep__exit_owned(ep__keep(ep__call_why(rc, out, &ws)));
  ep_term args[2] = {ep_atom_term(&hs, ep_atom_of(h->name ? h->name : "undefined")), query};
  ep__exit_owned(ep__call_reason(rc, out, ep__A.gen_event, mgr, args, 2, true, timeout_ms));
}

/* {op, Handler, Arg} to the manager. */
static ep_term h_call(ep_server mgr, ep_atom op, const ep_gen_event_handler *h, ep_term arg,
                      long timeout_ms, bool named_exit) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, op);
  ep__b_ptr(&b, h);
  ep__b_arg(&b, arg);
  ep_b_end(&b);
  ep_term req = ep__b_done(&b);
  ep_b_free(&b);
  return mgr_call(mgr, req, timeout_ms, named_exit ? h : NULL, arg);
}

static int int_of(ep_term t) {
  int64_t v = 0;
  ep_get_int(t, &v);
  return (int)v;
}

int ep_gen_event_add_handler(ep_server mgr, const ep_gen_event_handler *h, ep_term arg) {
  if (!h)
    return EP_EINVAL;
  return int_of(h_call(mgr, ep__A.add_handler, h, arg, EP_INFINITY, false));
}

int ep_gen_event_delete_handler(ep_server mgr, const ep_gen_event_handler *h, ep_term arg) {
  if (!h)
    return EP_EINVAL;
  return int_of(h_call(mgr, ep__A.delete_handler, h, arg, EP_INFINITY, false));
}

int ep_gen_event_call(ep_server mgr, const ep_gen_event_handler *h, ep_term req,
                      long timeout_ms, ep_term *reply) {
  if (!req || !h) {
    if (reply)
      *reply = NULL;
    return EP_EINVAL;
  }
  ep_term r = h_call(mgr, EP_A_call, h, req, timeout_ms, true);
  if (ep_tuple_arity(r) != 2) {
    if (reply)
      *reply = NULL;
    return int_of(r);                     /* EP_ENOTFOUND */
  }
  if (reply)
    *reply = ep_tuple_elem(r, 1);
  return int_of(ep_tuple_elem(r, 0));
}

static ep_term tagged(ep_atom tag, ep_term t) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, tag);
  if (t)
    ep_b_term(&b, t);
  ep_b_end(&b);
  ep_term r = ep__b_done(&b);
  ep_b_free(&b);
  return r;
}

int ep_gen_event_notify(ep_server mgr, ep_term event) {
  return ep_gen_server_cast(mgr, event);
}

int ep_gen_event_sync_notify(ep_server mgr, ep_term event) {
  if (!event)
    return EP_EINVAL;
  mgr_call(mgr, tagged(ep__A.sync_notify, event), EP_INFINITY, NULL, NULL);
  return 0;
}

ep_term ep_gen_event_which_handlers(ep_server mgr) {
  return ep_term_dup(mgr_call(mgr, tagged(ep__A.which_handlers, NULL), EP_INFINITY, NULL, NULL));
}

int ep_gen_event_stop(ep_server mgr) { return ep_gen_server_stop(mgr, NULL, EP_INFINITY); }
