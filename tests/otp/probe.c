/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.c - the test gen_server of probe.h.
 */
#include <stdlib.h>

#include "probe.h"

struct probe {
  ep_pid observer;
  int64_t total;
  ep_from deferred;
  bool has_deferred;
  ep_atom id;                 /* supervised probes, else 0 */
};

/* Probes live in a static table, not on the heap: tests kill probes on
 * purpose (brutal_kill, exit(kill)), and a killed process runs no code
 * that could free its state. Each test is its own forked process. */
static struct probe table[4096];
static _Atomic int used;

static struct probe *probe_new(void) {
  int i = used++;
  if (i >= 4096)
    abort();
  return &table[i];
}

static void report(struct probe *p, const char *fmt, ep_term t) {
  ep_send_fmt(p->observer, fmt, t);
}

static ep_gs_ret init(ep_term arg, void **state) {
  EP_PATTERN(p_arg, "{Mode, Obs::pid}");
  EP_PATTERN(p_stop, "{stop, R}");
  EP_PATTERN(p_timeout, "{timeout, Ms::int}");
  EP_PATTERN(p_cont, "{continue, C}");
  EP_PATTERN(p_child, "{child, Id, Obs::pid}");
  struct probe *p = probe_new();
  *state = p;
  ep_term mode, r, id;
  int64_t ms;
  if (ep_match(p_child, arg, &id, &p->observer)) {
    if (ep_is_atom(id, ep_atom_of("fail")))
      return ep_init_stop_atom(ep_atom_of("nope"));
    ep_get_atom(id, &p->id);
    ep_trap_exit(true);
    ep_send_fmt(p->observer, "{started, ~t, ~p}", id, ep_self());
    return ep_init_ok();
  }
  ep_match(p_arg, arg, &mode, &p->observer);
  if (ep_is_atom(mode, EP_A_ignore))
    return ep_init_ignore();
  if (ep_match(p_stop, mode, &r))
    return ep_init_stop(r);
  if (ep_is_atom(mode, ep_atom_of("crash"))) {
    ep_smallterm s;
    ep_error(ep_atom_term(&s, ep_atom_of("boom")));
  }
  if (ep_is_atom(mode, ep_atom_of("trap")))
    ep_trap_exit(true);
  if (ep_match(p_timeout, mode, &ms))
    return ep_with_timeout(ep_init_ok(), (long)ms);
  if (ep_match(p_cont, mode, &r))
    return ep_with_continue(ep_init_ok(), r);
  return ep_init_ok();
}

struct selfcall { ep_term why; };

static void call_self(void *ctx) {
  (void)ctx;
  ep_smallterm s;
  ep_gen_server_call(ep_srv(ep_self()), ep_atom_term(&s, EP_A_ok));
}

static ep_gs_ret handle_call(ep_term req, const ep_from *from, void *state) {
  EP_PATTERN(p_add, "{add, N::int}");
  EP_PATTERN(p_answer, "{answer, V}");
  EP_PATTERN(p_sleep, "{sleep, Ms::int}");
  EP_PATTERN(p_stop, "{stop, R}");
  EP_PATTERN(p_stop_reply, "{stop_reply, R, V}");
  EP_PATTERN(p_timeout, "{timeout, Ms::int}");
  EP_PATTERN(p_cont, "{continue, C}");
  struct probe *p = state;
  int64_t n;
  ep_term v, r;
  if (ep_is_atom(req, ep_atom_of("ping")))
    return ep_reply_atom(ep_atom_of("pong"));
  if (ep_match(p_add, req, &n))
    return ep_reply_int(p->total += n);
  if (ep_is_atom(req, ep_atom_of("get")))
    return ep_reply_int(p->total);
  if (ep_is_atom(req, ep_atom_of("defer"))) {
    p->deferred = *from;
    p->has_deferred = true;
    ep_send_fmt(p->observer, "deferred");
    return ep_noreply();
  }
  if (ep_match(p_answer, req, &v)) {
    ep_gen_server_reply(&p->deferred, v);
    return ep_reply_atom(EP_A_ok);
  }
  if (ep_match(p_sleep, req, &n)) {
    ep_sleep((long)n);
    return ep_reply_atom(EP_A_ok);
  }
  if (ep_is_atom(req, ep_atom_of("block"))) {        /* until a `release` message */
    EP_PATTERN(p_release, "release");
    ep_send_fmt(p->observer, "blocked");
    ep_receive(EP_INFINITY, p_release);
    return ep_reply_atom(EP_A_ok);
  }
  if (ep_is_atom(req, ep_atom_of("crash"))) {
    ep_smallterm s;
    ep_error(ep_atom_term(&s, ep_atom_of("boom")));
  }
  if (ep_match(p_stop, req, &r))
    return ep_stop_term(r);
  if (ep_match(p_stop_reply, req, &r, &v))
    return ep_stop_reply(ep_gsv_term(r), v);
  if (ep_match(p_timeout, req, &n))
    return ep_with_timeout(ep_reply_atom(EP_A_ok), (long)n);
  if (ep_match(p_cont, req, &v))
    return ep_with_continue(ep_reply_atom(EP_A_ok), v);
  if (ep_is_atom(req, ep_atom_of("call_self"))) {
    ep_term why;
    ep_catch(call_self, NULL, &why);
    return ep_reply_take(ep_term_dup(why));
  }
  return ep_reply_atom(ep_atom_of("unknown"));
}

static ep_gs_ret handle_cast(ep_term req, void *state) {
  EP_PATTERN(p_add, "{add, N::int}");
  EP_PATTERN(p_stop, "{stop, R}");
  struct probe *p = state;
  int64_t n;
  ep_term r;
  if (ep_match(p_add, req, &n))
    p->total += n;
  else if (ep_match(p_stop, req, &r))
    return ep_stop_term(r);
  return ep_noreply();
}

static ep_gs_ret handle_info(ep_term msg, void *state) {
  report(state, "{info, ~t}", msg);
  return ep_noreply();
}

static ep_gs_ret handle_continue(ep_term c, void *state) {
  report(state, "{continue, ~t}", c);
  return ep_noreply();
}

static void terminate(ep_term reason, void *state) {
  struct probe *p = state;
  if (p->id == ep_atom_of("slow"))
    ep_sleep(2000);
  if (p->id)
    ep_send_fmt(p->observer, "{stopped, ~A, ~t}", p->id, reason);
  else
    ep_send_fmt(p->observer, "{terminated, ~p, ~t}", ep_self(), reason);
}

const ep_gen_server_cb probe_cb = {
  .init = init, .handle_call = handle_call, .handle_cast = handle_cast,
  .handle_info = handle_info, .handle_continue = handle_continue, .terminate = terminate};

static int start(const char *mode, ep_atom name, bool link, ep_pid *pid, ep_term *reason) {
  ep_term m, arg;
  ep_parse(&m, mode);
  ep_format(&arg, "{~t, ~p}", m, ep_self());
  int rc = link ? ep_gen_server_start_link(&probe_cb, arg, name, pid, reason)
                : ep_gen_server_start(&probe_cb, arg, name, pid, reason);
  ep_term_free(m);
  ep_term_free(arg);
  return rc;
}

int probe_start_link(const char *mode, ep_pid *pid, ep_term *reason) {
  return start(mode, 0, true, pid, reason);
}

int probe_start(const char *mode, ep_atom name, ep_pid *pid, ep_term *reason) {
  return start(mode, name, false, pid, reason);
}

int probe_child_start(ep_term args, ep_pid *pid, ep_term *reason) {
  ep_term arg;
  ep_format(&arg, "{child, ~t, ~t}", ep_list_head(args), ep_list_head(ep_list_tail(args)));
  int rc = ep_gen_server_start_link(&probe_cb, arg, 0, pid, reason);
  ep_term_free(arg);
  return rc;
}
