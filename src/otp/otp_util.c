/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otp_util.c - the pieces every behaviour shares: the OTP atoms, the
 * generic call (alias monitor + tagged request + selective receive on the tag),
 * exits with heap-built reasons, and the monotonic clock. Owns no process
 * state; gen_server.c runs the server side of the call protocol.
 */
#include <stdlib.h>
#include <time.h>

#include "otp_int.h"

struct ep__otp_atoms ep__A;

__attribute__((constructor)) static void otp_atoms_init(void) {
#define EP__OA_INIT(id, name) ep__A.id = ep_atom_of(name);
  EP__OTP_ATOMS(EP__OA_INIT)
#undef EP__OA_INIT
}

ep_term ep__b_done(ep_build *b) {
  int err = 0;
  ep_term t = ep_b_finish(b, &err);
  if (!t)
    abort();                      /* fixed shapes: only ENOMEM gets here */
  return t;
}

ep_term ep__b_view(ep_build *b) {
  ep_term t = ep_b_peek(b);
  if (!t)
    abort();                      /* fixed shapes: only ENOMEM gets here */
  return t;
}

ep_term ep__keep(ep_term t) {
  ep_term c = ep_term_dup(t);
  if (!c)
    abort();
  return c;
}

int64_t ep__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ep__now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec;
}

int64_t ep__deadline(long timeout_ms) {
  return timeout_ms == EP_INFINITY ? INT64_MAX : ep__now_ms() + timeout_ms;
}

long ep__left_ms(int64_t deadline_ms) {
  if (deadline_ms == INT64_MAX)
    return EP_INFINITY;
  int64_t left = deadline_ms - ep__now_ms();
  return left > 0 ? (long)left : 0;
}

ep_pid ep_server_pid(ep_server s) {
  return s.name ? ep_whereis(s.name) : s.pid;
}

_Noreturn void ep__exit_owned(ep_term reason) {
  EP_PATTERN(p_park, "{'$exit', R}");
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.park);
  ep_b_term(&b, reason);
  ep_b_end(&b);
  ep_term_free(reason);
  /* The mark makes the receive below see only what follows: our own message. */
  ep_recv_mark();
  ep_send(ep_self(), ep_b_peek(&b));
  ep_b_free(&b);
  ep_receive(EP_INFINITY, p_park);
  ep_exit(ep_var(0));
}

_Noreturn void ep__exit_tagged(ep_atom tag, ep_term t) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, tag);
  ep_b_term(&b, t);
  ep_b_end(&b);
  ep__exit_owned(ep__b_done(&b));
}

/* Writes the request: {op, arg}, the atom op when arg is NULL, or arg
 * itself when op is 0. */
static void b_request(ep_build *b, ep_atom op, ep_term arg) {
  if (!op) {
    ep_b_term(b, arg);
  } else if (!arg) {
    ep_b_atom(b, op);
  } else {
    ep_b_tuple(b);
    ep_b_atom(b, op);
    ep_b_term(b, arg);
    ep_b_end(b);
  }
}

int ep__gen_call_op(ep_server s, ep_atom op, ep_term arg, long timeout_ms, ep_term *reply) {
  EP_PATTERN(p_reply, "{^Tag, Reply}");
  EP_PATTERN(p_down, "{'DOWN', ^Tag, process, _, Reason}");
  if (!op && !arg)
    return EP_EBADARG;             /* no request: nothing is sent */
  ep_pid pid = ep_server_pid(s);
  if (ep_pid_eq(pid, EP_PID_NONE))
    return EP_ENOPROC;
  ep_pid self = ep_self();
  if (ep_pid_eq(pid, self))
    return EP_EINVAL;

  /* The monitor reference is the reply tag and an alias the reply is sent
   * to (as in OTP 24): demonitor deactivates it, so a reply after a timeout
   * is dropped unseen (R47). Marking first lets the receive skip everything
   * already queued (R47 in a busy mailbox). */
  ep_recv_mark();
  ep_ref tag = ep_monitor_alias(pid);
  /* Built on the stack (no allocation for a small request), the request
   * written straight into it, then copied into the mailbox block. */
  uint8_t buf[256];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.gen_call);
  ep_b_tuple(&b);
  ep_b_pid(&b, self);
  ep_b_ref(&b, &tag);
  ep_b_end(&b);
  b_request(&b, op, arg);
  ep_b_end(&b);
  ep_send(pid, ep_b_peek(&b));
  ep_b_free(&b);
  ep_smallterm st;
  ep_term pin = ep_ref_term(&st, &tag);
  const ep_clause cl[2] = {{p_reply, &pin}, {p_down, &pin}};
  int k = ep_receive_clauses(cl, 2, timeout_ms);
  if (k == 0) {
    *reply = ep_var(0);
    ep__demonitor_flush(&tag);
    return 0;
  }
  if (k == 1) {
    ep_term why = ep_var(0);
    if (ep__is_noproc(why))
      return EP_ENOPROC;
    *reply = why;
    return EP_EEXITED;
  }
  ep__demonitor_flush(&tag);
  return k;                        /* EP_ETIMEOUT */
}

ep_term ep__call_why(int rc, ep_term out, ep_smallterm *s) {
  return rc == EP_EEXITED ? out
       : ep_atom_term(s, rc == EP_ENOPROC ? EP_A_noproc
                         : rc == EP_ETIMEOUT ? EP_A_timeout : EP_A_calling_self);
}

ep_term ep__call_reason(int rc, ep_term out, ep_atom module, ep_server s, const ep_term *args,
                        int nargs, bool with_timeout, long timeout_ms) {
  ep_smallterm ws;
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_term(&b, ep__call_why(rc, out, &ws));
  ep_b_tuple(&b);
  ep_b_atom(&b, module);
  ep_b_atom(&b, EP_A_call);
  ep_b_list(&b);
  if (s.name)
    ep_b_atom(&b, s.name);
  else
    ep_b_pid(&b, s.pid);
  for (int i = 0; i < nargs; i++)
    ep_b_term(&b, args[i]);
  if (with_timeout)
    ep__b_timeout(&b, timeout_ms);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

static ep_term call_reason(int rc, ep_term out, ep_server s, ep_term req, long timeout_ms,
                           ep__call_site site) {
  return ep__call_reason(rc, out, site.module, s, &req, 1, site.with_timeout, timeout_ms);
}

ep_term ep__gen_call_op_x(ep_server s, ep_atom op, ep_term arg, long timeout_ms,
                         ep__call_site site) {
  ep_term out = NULL;
  int rc = ep__gen_call_op(s, op, arg, timeout_ms, &out);
  if (rc == 0)
    return out;
  if (rc == EP_EBADARG)
    ep_error_atom(EP_A_badarg);    /* no request, as a BIF given a bad argument */
  uint8_t buf[256];               /* the request again, for the reason */
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  b_request(&b, op, arg);
  ep_term why = call_reason(rc, out, s, ep__b_view(&b), timeout_ms, site);
  ep_b_free(&b);
  ep__exit_owned(why);
}

/* req is released before the exit on failure, the reason built from it
 * first. */
ep_term ep__gen_call_take(ep_server s, ep_term req, long timeout_ms, ep__call_site site) {
  ep_term out = NULL;
  int rc = ep__gen_call(s, req, timeout_ms, &out);
  ep_term why = rc ? call_reason(rc, out, s, req, timeout_ms, site) : NULL;
  ep_term_free(req);
  if (rc)
    ep__exit_owned(why);
  return out;
}
