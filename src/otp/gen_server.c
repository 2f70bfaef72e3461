/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_server.c - the generic server (R46-R55): the synchronous start with
 * its ack, the loop that takes one message at a time and hands it to the
 * callbacks, what their returns mean (reply, timeout, continue, stop), and
 * terminate. Owns the loop's state (struct gs, on the server's stack: it
 * holds no heap memory between messages, so a server killed by a signal
 * leaves nothing of the loop behind). The caller side of a call lives in
 * otp_util.c; the callbacks' own state belongs to the user.
 */
#include <stdlib.h>
#include <string.h>

#include "otp_int.h"

static const ep__call_site site2 = {EP_A_gen_server, false};
static const ep__call_site site3 = {EP_A_gen_server, true};

enum { ACK_OK, ACK_IGNORE, ACK_ERROR };

struct gs {
  const ep_gen_server_cb *cb;
  void *state;
  ep_pid parent;          /* the starter when linked, else ourselves (R54) */
  long timeout;           /* from the last return (R53) */
  ep_term cont;           /* owned: pending handle_continue argument */
};

enum which { W_INIT, W_CALL, W_CAST, W_INFO, W_CONT, W_TERMINATE };

struct inv {
  struct gs *g;
  enum which which;
  ep_term t;
  const ep_from *from;
  ep_gs_ret ret;
};

static void invoke(void *ctx) {
  struct inv *v = ctx;
  const ep_gen_server_cb *cb = v->g->cb;
  void *st = v->g->state;
  switch (v->which) {
  case W_INIT: v->ret = cb->init(v->t, &v->g->state); break;
  case W_CALL:
    if (!cb->handle_call)
      ep__exit_tagged(ep__A.bad_call, v->t);
    v->ret = cb->handle_call(v->t, v->from, st);
    break;
  case W_CAST: v->ret = cb->handle_cast ? cb->handle_cast(v->t, st) : ep_noreply(); break;
  case W_INFO: v->ret = cb->handle_info ? cb->handle_info(v->t, st) : ep_noreply(); break;
  case W_CONT:
    if (!cb->handle_continue)
      ep__exit_tagged(ep__A.bad_continue, v->t);
    v->ret = cb->handle_continue(v->t, st);
    break;
  case W_TERMINATE: cb->terminate(v->t, st); break;
  }
}

/* Runs one callback; returns 0, or 1 with *why = the crash reason. */
static int run_cb(struct gs *g, enum which w, ep_term t, const ep_from *from,
                  ep_gs_ret *ret, ep_term *why) {
  struct inv v = {g, w, t, from, ep_noreply()};
  int crashed = ep_catch(invoke, &v, why);
  if (!crashed && ret)
    *ret = v.ret;
  return crashed;
}

static void b_value(ep_build *b, const ep_gs_value *v) {
  switch (v->kind) {
  case EP_GSV_ATOM: ep_b_atom(b, v->u.atom); break;
  case EP_GSV_INT: ep_b_int(b, v->u.i); break;
  case EP_GSV_NONE: ep_b_atom(b, EP_A_ok); break;
  default: ep_b_term(b, v->u.term); break;
  }
}

static void drop_value(ep_gs_value *v) {
  if (v->kind == EP_GSV_TAKE) {
    ep_term_free(v->u.term);
    v->kind = EP_GSV_NONE;
  }
}

static ep_term value_dup(const ep_gs_value *v) {
  ep_build b;
  ep_b_init(&b);
  b_value(&b, v);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

/* {Tag, Reply}, built on the stack and copied into the caller's mailbox.
 * The tag of our own calls is an alias, gone once the caller gave up
 * (R47); a plain one (a '$gen_call' made by hand) gets the reply at its
 * pid. */
static void send_reply(const ep_from *from, const ep_gs_value *v) {
  const ep_ref *a = &from->tag;
  uint8_t buf[256];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_ref(&b, a);
  switch (v->kind) {
  case EP_GSV_ATOM: ep_b_atom(&b, v->u.atom); break;
  case EP_GSV_INT: ep_b_int(&b, v->u.i); break;
  case EP_GSV_NONE: ep_b_atom(&b, EP_A_ok); break;
  default: ep_b_term(&b, v->u.term); break;
  }
  ep_b_end(&b);
  if (ep_is_alias(a))
    ep_send_alias(a, ep_b_peek(&b));
  else
    ep_send(from->pid, ep_b_peek(&b));
  ep_b_free(&b);
}

static void release(struct gs *g) {
  if (g->cont)
    ep_term_free(g->cont);
  g->cont = NULL;
}

/* A reason of at most this many bytes is kept on the server's stack while
 * terminate runs: if the server is killed in terminate (R62's brutal
 * second step), nothing of it is left on the heap. */
#define REASON_ON_STACK 256

/* Puts t (heap, taken) on the stack in buf when it fits. */
static ep_term to_stack(ep_term t, uint8_t *buf, bool *on_stack) {
  size_t n = ep_term_size(t);
  *on_stack = n <= REASON_ON_STACK;
  if (!*on_stack)
    return t;
  memcpy(buf, t, n);
  ep_term_free(t);
  return (ep_term)buf;
}

/* terminate(reason) then exit(reason) (R52, R54). Takes `reason` (heap). */
_Noreturn static void stop_owned(struct gs *g, ep_term reason) {
  _Alignas(16) uint8_t buf[REASON_ON_STACK];
  bool on_stack;
  reason = to_stack(reason, buf, &on_stack);
  if (g->cb->terminate) {
    if (g->cb->release)
      ep__reap_forget();              /* terminate frees the state itself */
    ep_term why;
    if (run_cb(g, W_TERMINATE, reason, NULL, NULL, &why)) {
      if (!on_stack)
        ep_term_free(reason);
      reason = to_stack(ep_term_dup(why), buf, &on_stack);
    }
  }
  release(g);
  if (on_stack)
    ep_exit(reason);                  /* copied before this frame goes */
  ep__exit_owned(reason);
}

_Noreturn static void crash(struct gs *g, ep_term why) {
  stop_owned(g, ep_term_dup(why));
}

/* {bad_return_value, Action}, new: a return that does not fit the callback. */
static ep_term bad_return_value(int action) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.bad_return_value);
  ep_b_int(&b, action);
  ep_b_end(&b);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

_Noreturn static void bad_return(struct gs *g, const ep_gs_ret *r) {
  stop_owned(g, bad_return_value(r->action));
}

/* A term value that is no term (ep_reply(NULL)): a bad return. */
static bool value_missing(const ep_gs_value *v) {
  return (v->kind == EP_GSV_TERM || v->kind == EP_GSV_TAKE) && !v->u.term;
}

/* Acts on a callback's return. `from` is set for handle_call only. */
static void handle_ret(struct gs *g, ep_gs_ret *r, const ep_from *from) {
  if (value_missing(&r->value))
    bad_return(g, r);
  switch (r->action) {
  case EP_GS_REPLY:
    if (!from)
      bad_return(g, r);
    send_reply(from, &r->value);
    drop_value(&r->value);
    break;
  case EP_GS_NOREPLY:
    break;
  case EP_GS_STOP_REPLY:
    if (!from)
      bad_return(g, r);
  {
    ep_gs_value rv = r->reply ? ep_gsv_term(r->reply) : EP__GSV_NONE;
    send_reply(from, &rv);
  }
    /* fall through */
  case EP_GS_STOP: {
    ep_term reason = value_dup(&r->value);
    drop_value(&r->value);
    stop_owned(g, reason);
  }
  default:
    bad_return(g, r);
  }
  g->timeout = r->timeout;
  if (r->cont) {
    ep_term c = ep_term_dup(r->cont);
    if (g->cont)
      ep_term_free(g->cont);
    g->cont = c;
  }
}

static void dispatch(struct gs *g, enum which w, ep_term t, const ep_from *from) {
  ep_gs_ret r;
  ep_term why;
  if (run_cb(g, w, t, from, &r, &why))
    crash(g, why);
  handle_ret(g, &r, from);
}

/* One message, by kind (R48-R50, R54, R55): the tag is read once. */
static void handle_msg(struct gs *g, ep_term m) {
  size_t arity = ep_tuple_arity(m);
  ep_atom tag = 0;
  if (arity == 2 || arity == 3)
    ep_get_atom(ep_tuple_elem(m, 0), &tag);
  if (tag == ep__A.gen_call && arity == 3) {
    ep_term f = ep_tuple_elem(m, 1);
    ep_from from;
    if (ep_tuple_arity(f) == 2 && ep_get_pid(ep_tuple_elem(f, 0), &from.pid) == 0 &&
        ep_get_ref(ep_tuple_elem(f, 1), &from.tag) == 0) {
      dispatch(g, W_CALL, ep_tuple_elem(m, 2), &from);
      return;
    }
  } else if (tag == ep__A.gen_cast && arity == 2) {
    dispatch(g, W_CAST, ep_tuple_elem(m, 1), NULL);
    return;
  } else if (tag == ep__A.gen_stop && arity == 2) {
    stop_owned(g, ep_term_dup(ep_tuple_elem(m, 1)));
  } else if (tag == EP_A_EXIT && arity == 3) {
    ep_pid from;
    if (ep_get_pid(ep_tuple_elem(m, 1), &from) == 0 && ep_pid_eq(from, g->parent))
      stop_owned(g, ep_term_dup(ep_tuple_elem(m, 2)));
  }
  dispatch(g, W_INFO, m, NULL);
}

static void loop(struct gs *g) {
  ep_smallterm st;
  ep_term timeout_atom = ep_atom_term(&st, EP_A_timeout);
  for (;;) {
    while (g->cont) {
      ep_term c = g->cont;
      g->cont = NULL;
      g->timeout = EP_INFINITY;
      ep_gs_ret r;
      ep_term why;
      if (run_cb(g, W_CONT, c, NULL, &r, &why)) {
        ep_term reason = ep_term_dup(why);
        ep_term_free(c);
        stop_owned(g, reason);
      }
      handle_ret(g, &r, NULL);
      ep_term_free(c);
    }
    ep_term m;
    if (ep_receive_any(&m, g->timeout) == EP_ETIMEOUT) {
      g->timeout = EP_INFINITY;
      dispatch(g, W_INFO, timeout_atom, NULL);
    } else {
      g->timeout = EP_INFINITY;
      handle_msg(g, m);
    }
  }
}

static void ack(ep_pid to, const ep_ref *tag, int code, const ep_gs_value *v, ep_term t) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.ack);
  ep_b_ref(&b, tag);
  ep_b_int(&b, code);
  if (v)
    b_value(&b, v);
  else if (t)
    ep_b_term(&b, t);
  else
    ep_b_atom(&b, EP_A_ok);
  ep_b_end(&b);
  ep_send(to, ep_b_peek(&b));
  ep_b_free(&b);
}

/* The server process. arg = {Cb, Arg, Starter, Tag, Name, Linked}. */
static void gs_main(ep_term arg) {
  struct gs g = {.cb = ep__get_ptr(ep_tuple_elem(arg, 0)), .timeout = EP_INFINITY};
  ep_pid starter;
  ep_ref tag;
  ep_atom name;
  ep_get_pid(ep_tuple_elem(arg, 2), &starter);
  ep_get_ref(ep_tuple_elem(arg, 3), &tag);
  int64_t n = 0;
  ep_get_int(ep_tuple_elem(arg, 4), &n);
  name = (ep_atom)n;
  g.parent = ep_is_atom(ep_tuple_elem(arg, 5), EP_A_true) ? starter : ep_self();

  ep_gs_ret r;
  ep_term why;
  if (run_cb(&g, W_INIT, ep_tuple_elem(arg, 1), NULL, &r, &why)) {
    ep_term reason = ep_term_dup(why);
    if (name)
      ep_unregister(name);
    ack(starter, &tag, ACK_ERROR, NULL, reason);
    release(&g);
    ep__exit_owned(reason);
  }
  switch (r.action) {
  case EP_GS_OK:
    if (g.cb->release)
      ep__reap_watch(g.state, g.cb->release);
    ack(starter, &tag, ACK_OK, NULL, NULL);
    handle_ret(&g, &(ep_gs_ret){EP_GS_NOREPLY, r.timeout, EP__GSV_NONE, NULL, r.cont}, NULL);
    loop(&g);
    break;
  case EP_GS_IGNORE:
    if (name)
      ep_unregister(name);
    ack(starter, &tag, ACK_IGNORE, NULL, NULL);
    release(&g);
    return;                                   /* exits normal */
  default: {
    ep_term reason = r.action == EP_GS_STOP && !value_missing(&r.value) ? value_dup(&r.value)
                                                                          : NULL;
    drop_value(&r.value);
    if (!reason)
      reason = bad_return_value(r.action);
    if (name)
      ep_unregister(name);
    ack(starter, &tag, ACK_ERROR, NULL, reason);
    release(&g);
    ep__exit_owned(reason);
  }
  }
}

static int start(const ep_gen_server_cb *cb, ep_term arg, ep_atom name, bool link,
                 ep_pid *pid, ep_term *reason) {
  EP_PATTERN(p_ack, "{'$ack', ^Tag, Code::int, Result}");
  EP_PATTERN(p_down, "{'DOWN', ^Mref, process, _, Reason}");
  if (!cb || !cb->init)
    return EP_EINVAL;
  if (!ep_is_process())
    return EP_ENOTPROC;
  ep_ref tag = ep_make_ref_marked();
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep__b_ptr(&b, cb);
  ep__b_arg(&b, arg);
  ep_b_pid(&b, ep_self());
  ep_b_ref(&b, &tag);
  ep_b_int(&b, name);
  ep_b_atom(&b, link ? EP_A_true : EP_A_false);
  ep_b_end(&b);
  ep_spawn_opts o = {.flags = EP_SPAWN_MONITOR | (link ? EP_SPAWN_LINK : 0),
                     .name = name ? ep_atom_name(name, NULL) : NULL};
  ep_pid p = EP_PID_NONE;
  ep_ref mref;
  int rc = ep_spawn_opt(&p, gs_main, ep_b_peek(&b), &o, &mref);
  ep_b_free(&b);
  if (rc == EP_EBADARG && name) {          /* the name is taken: nothing was spawned */
    ep_pid holder = ep_whereis(name);
    if (ep_pid_eq(holder, EP_PID_NONE))
      return EP_EBADARG;
    if (pid)
      *pid = holder;
    return EP_EEXIST;
  }
  if (rc < 0)
    return rc;

  ep_smallterm s1, s2;
  ep_term pins[2] = {ep_ref_term(&s1, &tag), ep_ref_term(&s2, &mref)};
  const ep_clause cl[2] = {{p_ack, &pins[0]}, {p_down, &pins[1]}};
  int k = ep_receive_clauses(cl, 2, EP_INFINITY);
  ep__demonitor_flush(&mref);
  if (k == 1) {
    if (reason)
      *reason = ep_var(0);
    return EP_EEXITED;
  }
  int64_t code;
  ep_term result;
  ep_bind(&code, &result);
  if (code == ACK_OK) {
    if (pid)
      *pid = p;
    return 0;
  }
  if (code == ACK_IGNORE)
    return EP_IGNORED;
  if (reason)
    *reason = result;
  return EP_EEXITED;
}

int ep_gen_server_start(const ep_gen_server_cb *cb, ep_term arg, ep_atom name,
                        ep_pid *pid, ep_term *reason) {
  return start(cb, arg, name, false, pid, reason);
}

int ep_gen_server_start_link(const ep_gen_server_cb *cb, ep_term arg, ep_atom name,
                             ep_pid *pid, ep_term *reason) {
  return start(cb, arg, name, true, pid, reason);
}

ep_term ep_gen_server_call(ep_server s, ep_term req) {
  return ep__gen_call_x(s, req, EP_CALL_TIMEOUT_DEFAULT, site2);
}

ep_term ep_gen_server_call_timeout(ep_server s, ep_term req, long timeout_ms) {
  return ep__gen_call_x(s, req, timeout_ms, site3);
}

int ep_gen_server_try_call(ep_server s, ep_term req, long timeout_ms, ep_term *reply) {
  ep_term out = NULL;
  int rc = ep__gen_call(s, req, timeout_ms, &out);
  if (reply)
    *reply = out;
  return rc;
}

int ep_gen_server_cast(ep_server s, ep_term req) {
  if (!req)
    return EP_EINVAL;
  uint8_t buf[256];            /* a small request is wrapped without a malloc */
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.gen_cast);
  ep_b_term(&b, req);
  ep_b_end(&b);
  if (s.name)
    ep_send_name(s.name, ep_b_peek(&b));    /* unregistered: dropped (R49) */
  else
    ep_send(s.pid, ep_b_peek(&b));
  ep_b_free(&b);
  return 0;
}

int ep_gen_server_reply(const ep_from *from, ep_term reply) {
  if (!reply)
    return EP_EINVAL;
  ep_gs_value v = ep_gsv_term(reply);
  send_reply(from, &v);
  return 0;
}

int ep_gen_server_stop(ep_server s, ep_term reason, long timeout_ms) {
  EP_PATTERN(p_down, "{'DOWN', ^Mref, process, _, Reason}");
  ep_smallterm sn, sr;
  if (!reason)
    reason = ep_atom_term(&sn, EP_A_normal);
  ep_pid pid = ep_server_pid(s);
  if (ep_pid_eq(pid, EP_PID_NONE))
    ep_exit_atom(EP_A_noproc);
  ep_recv_mark();
  ep_ref m = ep_monitor(pid);
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.gen_stop);
  ep_b_term(&b, reason);
  ep_b_end(&b);
  ep_send(pid, ep_b_peek(&b));
  ep_b_free(&b);
  ep_term pin = ep_ref_term(&sr, &m);
  const ep_clause cl = {p_down, &pin};
  if (ep_receive_clauses(&cl, 1, timeout_ms) == EP_ETIMEOUT) {
    ep__demonitor_flush(&m);
    ep_exit_atom(EP_A_timeout);
  }
  ep_term why = ep_var(0);
  if (ep_exact_equal(why, reason))
    return 0;
  ep_exit(why);                       /* noproc, or terminate's crash */
}
