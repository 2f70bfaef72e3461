/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otp_int.h - what the behaviours in src/otp/ share: their atoms, the
 * generic call used by gen_server, Agent and friends, and exiting with a
 * reason the caller built on the heap. Everything here is written against
 * the public API only (include/eproc.h).
 *
 * Invariant: ep__A is filled before main runs (a constructor), so its
 * atoms are plain loads on every path.
 */
#ifndef EP_OTP_INT_H
#define EP_OTP_INT_H

#include "eproc.h"

#define EP__OTP_ATOMS(X) \
  X(gen_call, "$gen_call") X(gen_cast, "$gen_cast") X(gen_stop, "$gen_stop") \
  X(ack, "$ack") X(park, "$exit") X(bad_call, "bad_call") \
  X(bad_continue, "bad_continue") X(bad_return_value, "bad_return_value") \
  X(simple_one_for_one, "simple_one_for_one") \
  X(failed_to_start_child, "failed_to_start_child") X(restarting, "restarting") \
  X(specs, "specs") X(active, "active") X(supervisors, "supervisors") \
  X(workers, "workers") X(sup_restart, "$sup_restart") \
  X(start_child, "start_child") X(terminate_child, "terminate_child") \
  X(restart_child, "restart_child") X(delete_child, "delete_child") \
  X(which_children, "which_children") X(count_children, "count_children") \
  X(get_childspec, "get_childspec") \
  X(elixir_task, "Elixir.Task") X(elixir_genserver, "Elixir.GenServer") \
  X(await, "await") X(struct_, "__struct__") X(owner, "owner") X(pid, "pid") \
  X(ref, "ref") X(get, "get") X(update, "update") \
  X(get_and_update, "get_and_update") \
  X(gen_statem, "gen_statem") X(state_timeout, "state_timeout") \
  X(gen_event, "gen_event") X(sync_notify, "sync_notify") \
  X(add_handler, "add_handler") X(delete_handler, "delete_handler") \
  X(which_handlers, "which_handlers")

struct ep__otp_atoms {
#define EP__OA_FIELD(id, name) ep_atom id;
  EP__OTP_ATOMS(EP__OA_FIELD)
#undef EP__OA_FIELD
};
extern struct ep__otp_atoms ep__A;

/* How a failed call names itself in its exit reason:
 * {Reason, {Module, call, [Server, Req] or [Server, Req, Timeout]}}. */
typedef struct ep__call_site {
  ep_atom module;          /* gen_server, 'Elixir.GenServer', gen_statem... */
  bool with_timeout;       /* call/3 form */
} ep__call_site;

/* The generic call: sends {'$gen_call', {self(), Tag}, Req} and waits, Req
 * being {op, arg} (the atom op if arg is NULL), or arg itself if op is 0,
 * written straight into the message. Same returns as
 * ep_gen_server_try_call. */
int ep__gen_call_op(ep_server s, ep_atom op, ep_term arg, long timeout_ms, ep_term *reply);
static inline int ep__gen_call(ep_server s, ep_term req, long timeout_ms, ep_term *reply) {
  return ep__gen_call_op(s, 0, req, timeout_ms, reply);
}

/* The exiting form of ep__gen_call_op: it allocates nothing that a caller
 * killed while it waits would leave behind. */
ep_term ep__gen_call_op_x(ep_server s, ep_atom op, ep_term arg, long timeout_ms,
                         ep__call_site site);
/* The exiting form: on failure, exits with the reason of the call site. */
static inline ep_term ep__gen_call_x(ep_server s, ep_term req, long timeout_ms,
                                     ep__call_site site) {
  return ep__gen_call_op_x(s, 0, req, timeout_ms, site);
}
/* The reason of a failed call as gen:call gives it: the server's exit
 * reason (out, for EP_EEXITED), or noproc / timeout / calling_self, in s. */
ep_term ep__call_why(int rc, ep_term out, ep_smallterm *s);
/* {Why, {Module, call, [Server, Args... | Timeout]}} for a failed call,
 * new; the timeout is left out unless with_timeout. */
ep_term ep__call_reason(int rc, ep_term out, ep_atom module, ep_server s, const ep_term *args,
                        int nargs, bool with_timeout, long timeout_ms);
/* The exiting form taking req (a heap term): freed whatever happens. */
ep_term ep__gen_call_take(ep_server s, ep_term req, long timeout_ms, ep__call_site site);

/* Exits with `reason`, which the caller owns (a heap term): the reason is
 * parked in the caller's own mailbox first, so nothing is leaked. */
_Noreturn void ep__exit_owned(ep_term reason);

/* Exits with {Tag, T}. */
_Noreturn void ep__exit_tagged(ep_atom tag, ep_term t);

/* [process] The reaper (reaper.c): release(state) will run after the
 * calling process dies, unless it calls ep__reap_forget first (because it
 * cleans up itself). */
void ep__reap_watch(void *state, void (*release)(void *state));
void ep__reap_forget(void);

/* Monotonic milliseconds and whole seconds (R61 counts whole seconds). */
int64_t ep__now_ms(void);
int64_t ep__now_s(void);
/* Milliseconds left until deadline (EP_INFINITY stays EP_INFINITY). */
long ep__left_ms(int64_t deadline_ms);
int64_t ep__deadline(long timeout_ms);

/* A C pointer carried inside a term (local node only). */
static inline void ep__b_ptr(ep_build *b, const void *p) { ep_b_int(b, (int64_t)(intptr_t)p); }
/* A timeout as Erlang writes it in a reason: infinity or the milliseconds. */
static inline void ep__b_timeout(ep_build *b, long timeout_ms) {
  if (timeout_ms == EP_INFINITY)
    ep_b_atom(b, EP_A_infinity);
  else
    ep_b_int(b, timeout_ms);
}
/* An optional argument: the term itself, or undefined when there is none. */
static inline void ep__b_arg(ep_build *b, ep_term arg) {
  if (arg)
    ep_b_term(b, arg);
  else
    ep_b_atom(b, EP_A_undefined);
}
static inline void *ep__get_ptr(ep_term t) {
  int64_t v = 0;
  ep_get_int(t, &v);
  return (void *)(intptr_t)v;
}
/* Finishes b into a new term; aborts on a builder error (only out of memory
 * can cause one here, as every shape is fixed by the code). */
ep_term ep__b_done(ep_build *b);
/* The same without a copy: b's term in place (b still owns it). */
ep_term ep__b_view(ep_build *b);
/* A heap copy of t to keep; aborts when out of memory, as ep__b_done. */
ep_term ep__keep(ep_term t);
/* demonitor(Ref, [flush]) that looks through the mailbox only when the
 * monitor had already fired: an active monitor has no DOWN queued. */
static inline void ep__demonitor_flush(const ep_ref *r) {
  if (!ep_demonitor(r, EP_DEMONITOR_INFO))
    ep_demonitor(r, EP_DEMONITOR_FLUSH);
}
/* Reason of an exit for a pid being dead when monitored. */
static inline bool ep__is_noproc(ep_term r) { return ep_is_atom(r, EP_A_noproc); }

#endif
