/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/gen_statem.h - state machines (gen_statem, state functions mode).
 *
 * The state is an atom; each state has a C function that gets every event
 * (call, cast, info, state timeout, event timeout, and state enter when
 * asked for) with the machine's user-owned data:
 *
 *   static ep_sm_ret locked(const ep_sm_event *ev, void *data) {
 *     if (ev->type == EP_SM_CAST && code_ok(ev->content, data))
 *       return ep_sm_state_timeout(ep_sm_next(A_open), 10000, NULL);
 *     return ep_sm_keep();
 *   }
 *   static const ep_sm_state states[] = {{"locked", locked}, {"open", open}, {0}};
 *
 * A state timeout is cancelled by any state change; an event timeout by
 * any event. Calls fail as gen_server calls do, with gen_statem as the
 * module in the exit reason. Terms follow gen_server.h's rules.
 */
#ifndef EPROC_GEN_STATEM_H
#define EPROC_GEN_STATEM_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ep_sm_event_type {
  EP_SM_CALL, EP_SM_CAST, EP_SM_INFO,
  EP_SM_STATE_TIMEOUT,          /* content: the timeout's content */
  EP_SM_TIMEOUT,                /* event timeout; content: the atom timeout */
  EP_SM_ENTER                   /* state enter; content: the old state atom */
} ep_sm_event_type;

typedef struct ep_sm_event {
  ep_sm_event_type type;
  ep_term content;
  ep_from from;                 /* EP_SM_CALL only */
  ep_atom state;                /* the current state */
} ep_sm_event;

enum { EP_SM_KEEP, EP_SM_NEXT, EP_SM_STOP };

typedef struct ep_sm_ret {
  uint8_t action;
  ep_atom next;                 /* EP_SM_NEXT */
  ep_gs_value reason;           /* EP_SM_STOP */
  bool reply;                   /* answer the call being handled */
  ep_gs_value reply_value;
  long state_timeout;           /* ms, EP_INFINITY = none set by this return */
  ep_term state_timeout_content;/* borrowed; NULL = the atom timeout */
  long event_timeout;           /* ms, EP_INFINITY = none */
} ep_sm_ret;

static inline ep_sm_ret ep__sm_ret(uint8_t action, ep_atom next) {
  ep_sm_ret r = {action, next, {EP_GSV_NONE, {NULL}}, false, {EP_GSV_NONE, {NULL}},
                 EP_INFINITY, NULL, EP_INFINITY};
  return r;
}
static inline ep_sm_ret ep_sm_next(ep_atom state) { return ep__sm_ret(EP_SM_NEXT, state); }
static inline ep_sm_ret ep_sm_keep(void) { return ep__sm_ret(EP_SM_KEEP, 0); }
static inline ep_sm_ret ep_sm_stop(ep_gs_value reason) {
  ep_sm_ret r = ep__sm_ret(EP_SM_STOP, 0);
  r.reason = reason;
  return r;
}
/* Actions added to a return. */
static inline ep_sm_ret ep_sm_reply(ep_sm_ret r, ep_gs_value v) { r.reply = true; r.reply_value = v; return r; }
static inline ep_sm_ret ep_sm_state_timeout(ep_sm_ret r, long ms, ep_term content) {
  r.state_timeout = ms;
  r.state_timeout_content = content;
  return r;
}
static inline ep_sm_ret ep_sm_event_timeout(ep_sm_ret r, long ms) { r.event_timeout = ms; return r; }

typedef ep_sm_ret (*ep_sm_state_fn)(const ep_sm_event *ev, void *data);
typedef struct ep_sm_state {
  const char *name;             /* NULL ends the table */
  ep_sm_state_fn fn;
} ep_sm_state;

typedef struct ep_gen_statem_cb {
  /* Required: sets *data and returns ep_sm_next(initial state) (or a stop). */
  ep_sm_ret (*init)(ep_term arg, void **data);
  const ep_sm_state *states;    /* an event in a state missing here crashes the machine */
  bool state_enter;             /* call the new state's function with EP_SM_ENTER */
  void (*terminate)(ep_term reason, ep_atom state, void *data);
  /* Frees data when the machine died without terminate (gen_server.h). */
  void (*release)(void *data);
} ep_gen_statem_cb;

/* [process, blocks] As ep_gen_server_start(_link) (EP_EINVAL for a NULL cb). */
int ep_gen_statem_start(const ep_gen_statem_cb *cb, ep_term arg, ep_atom name, ep_pid *pid,
                        ep_term *reason);
int ep_gen_statem_start_link(const ep_gen_statem_cb *cb, ep_term arg, ep_atom name,
                             ep_pid *pid, ep_term *reason);
/* [process, blocks] Exits like gen_statem:call on failure. */
ep_term ep_gen_statem_call(ep_server s, ep_term req, long timeout_ms);
int ep_gen_statem_cast(ep_server s, ep_term msg);            /* [any] */
int ep_gen_statem_stop(ep_server s, ep_term reason, long timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
