/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/gen_event.h - event managers (gen_event): one process running any
 * number of handlers, each a table of C callbacks with its own state.
 * Events go to every handler in the order they were added; a handler that
 * crashes (ep_error / ep_exit in a callback) or asks to be removed is
 * taken out and the manager carries on. A handler is named by its table.
 */
#ifndef EPROC_GEN_EVENT_H
#define EPROC_GEN_EVENT_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EP_GE_REMOVE 1          /* handle_event / handle_call: remove me */

typedef struct ep_gen_event_handler {
  const char *name;             /* for which_handlers */
  /* 0, or an error: the handler is not added (add_handler returns it). */
  int (*init)(ep_term arg, void **state);
  /* 0 or EP_GE_REMOVE. NULL: events are ignored. */
  int (*handle_event)(ep_term event, void *state);
  /* Appends the reply to `reply`; 0 or EP_GE_REMOVE. */
  int (*handle_call)(ep_term req, void *state, ep_build *reply);
  /* reason: the delete_handler arg, {error, Reason} after a crash, remove
   * after EP_GE_REMOVE, or the manager's exit reason. */
  void (*terminate)(ep_term reason, void *state);
} ep_gen_event_handler;

/* [process, blocks] gen_event:start(_link). name 0 = unregistered.
 * The calls below that block exit the caller, as OTP's do, when the
 * manager is gone or dies meanwhile: with the bare reason (noproc, or the
 * manager's exit reason), and call with {Reason, {gen_event, call, [Mgr,
 * Handler, Query, Timeout]}}. */
int ep_gen_event_start(ep_atom name, ep_pid *pid);
int ep_gen_event_start_link(ep_atom name, ep_pid *pid);

/* [process, blocks] 0; EP_EEXIST (already added); an init error; EP_EINVAL
 * for a NULL h (also for delete_handler and call). */
int ep_gen_event_add_handler(ep_server mgr, const ep_gen_event_handler *h, ep_term arg);
/* [process, blocks] 0 (terminate(arg) ran) or EP_ENOTFOUND. */
int ep_gen_event_delete_handler(ep_server mgr, const ep_gen_event_handler *h, ep_term arg);
/* [any] Asynchronous; 0, or EP_EINVAL for a NULL event (nothing sent). */
int ep_gen_event_notify(ep_server mgr, ep_term event);
/* [process, blocks] Returns 0 once every handler has handled the event;
 * EP_EINVAL for a NULL event. */
int ep_gen_event_sync_notify(ep_server mgr, ep_term event);
/* [process, blocks] The handler's reply, owned by the caller until its
 * next receive; EP_ENOTFOUND sets *reply to NULL; EP_EINVAL for a NULL
 * req. */
int ep_gen_event_call(ep_server mgr, const ep_gen_event_handler *h, ep_term req,
                      long timeout_ms, ep_term *reply);
/* [process, blocks] A new list of handler names (atoms), in call order. */
ep_term ep_gen_event_which_handlers(ep_server mgr);
int ep_gen_event_stop(ep_server mgr);

#ifdef __cplusplus
}
#endif
#endif
