/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/gen_server.h - the generic server behaviour (gen_server, R46-R55).
 *
 * A server is a process running a loop around a table of C callbacks and a
 * user-owned `void *state`. Requests, replies and reasons are terms. A
 * callback tells the loop what to do next by returning an ep_gs_ret made
 * with the helpers below:
 *
 *   static ep_gs_ret handle_call(ep_term req, const ep_from *from, void *st) {
 *     struct counter *c = st;
 *     return ep_reply_int(++c->n);
 *   }
 *
 * Terms in an ep_gs_ret are borrowed unless made with a _take helper: they
 * must stay valid until the callback has returned and the loop has used
 * them (a term of the state is fine; so is one of the current message if
 * the callback did not receive). The message a callback is given (req,
 * msg) is the process's current message: like any received term it is
 * valid until the process receives again, and a gen_server call, an
 * ep_sleep or a supervisor operation made from the callback all receive.
 * Read or ep_term_dup what is needed before such a call. Reasons are
 * copied before terminate runs, so terminate may free them.
 *
 * A callback crashes with ep_error / ep_exit: terminate then runs with the
 * crash reason (R54) and the server exits with it. Without a terminate
 * callback nothing is caught and the crash ends the process directly.
 */
#ifndef EPROC_GEN_SERVER_H
#define EPROC_GEN_SERVER_H

#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EP_CALL_TIMEOUT_DEFAULT 5000L   /* gen_server:call/2 */

/* Positive outcome of a start function other than 0 (started). */
#define EP_IGNORED 1

/* Where a server is: a pid, or a registered name (pid ignored when name != 0). */
typedef struct ep_server {
  ep_pid pid;
  ep_atom name;
} ep_server;
static inline ep_server ep_srv(ep_pid p) { return (ep_server){p, 0}; }
static inline ep_server ep_srv_name(ep_atom name) { return (ep_server){EP_PID_NONE, name}; }

/* The caller of a call, as handle_call receives it. A plain value: copy it
 * to reply later (R51). */
typedef struct ep_from {
  ep_pid pid;
  ep_ref tag;              /* the caller's alias (ep_alias): the reply goes to it */
} ep_from;

/* ------------------------------------------------------ callback returns -- */

enum ep_gs_action {
  EP_GS_OK,         /* init succeeded */
  EP_GS_IGNORE,     /* init: start returns EP_IGNORED, the server exits normal */
  EP_GS_REPLY,      /* handle_call: send the value as the reply */
  EP_GS_NOREPLY,    /* no reply now (deferred with ep_gen_server_reply) */
  EP_GS_STOP,       /* stop with the value as reason (init: start fails) */
  EP_GS_STOP_REPLY  /* handle_call: reply `reply`, then stop with the value */
};
enum ep_gs_vkind { EP_GSV_NONE, EP_GSV_TERM, EP_GSV_TAKE, EP_GSV_ATOM, EP_GSV_INT };

typedef struct ep_gs_value {     /* private: use the helpers */
  uint8_t kind;                  /* ep_gs_vkind */
  union { ep_term term; ep_atom atom; int64_t i; } u;
} ep_gs_value;

typedef struct ep_gs_ret {
  uint8_t action;                /* ep_gs_action */
  long timeout;                  /* ms before handle_info(timeout) (R53); EP_INFINITY: none */
  ep_gs_value value;             /* reply, or stop reason */
  ep_term reply;                 /* EP_GS_STOP_REPLY's reply (borrowed) */
  ep_term cont;                  /* handle_continue argument (borrowed), or NULL */
} ep_gs_ret;

static inline ep_gs_ret ep__gs_ret(uint8_t action, ep_gs_value v) {
  return (ep_gs_ret){action, EP_INFINITY, v, NULL, NULL};
}
static inline ep_gs_value ep_gsv_term(ep_term t) { ep_gs_value v = {EP_GSV_TERM, {.term = t}}; return v; }
static inline ep_gs_value ep_gsv_take(ep_term t) { ep_gs_value v = {EP_GSV_TAKE, {.term = t}}; return v; }
static inline ep_gs_value ep_gsv_atom(ep_atom a) { ep_gs_value v = {EP_GSV_ATOM, {.atom = a}}; return v; }
static inline ep_gs_value ep_gsv_int(int64_t i) { ep_gs_value v = {EP_GSV_INT, {.i = i}}; return v; }
#define EP__GSV_NONE ((ep_gs_value){EP_GSV_NONE, {.term = NULL}})

/* init/1 */
static inline ep_gs_ret ep_init_ok(void) { return ep__gs_ret(EP_GS_OK, EP__GSV_NONE); }
static inline ep_gs_ret ep_init_ignore(void) { return ep__gs_ret(EP_GS_IGNORE, EP__GSV_NONE); }
static inline ep_gs_ret ep_init_stop(ep_term reason) { return ep__gs_ret(EP_GS_STOP, ep_gsv_term(reason)); }
static inline ep_gs_ret ep_init_stop_atom(ep_atom r) { return ep__gs_ret(EP_GS_STOP, ep_gsv_atom(r)); }
/* handle_call/3 */
static inline ep_gs_ret ep_reply(ep_term r) { return ep__gs_ret(EP_GS_REPLY, ep_gsv_term(r)); }
static inline ep_gs_ret ep_reply_take(ep_term r) { return ep__gs_ret(EP_GS_REPLY, ep_gsv_take(r)); }
static inline ep_gs_ret ep_reply_atom(ep_atom a) { return ep__gs_ret(EP_GS_REPLY, ep_gsv_atom(a)); }
static inline ep_gs_ret ep_reply_int(int64_t i) { return ep__gs_ret(EP_GS_REPLY, ep_gsv_int(i)); }
/* any callback */
static inline ep_gs_ret ep_noreply(void) { return ep__gs_ret(EP_GS_NOREPLY, EP__GSV_NONE); }
static inline ep_gs_ret ep_stop_term(ep_term reason) { return ep__gs_ret(EP_GS_STOP, ep_gsv_term(reason)); }
static inline ep_gs_ret ep_stop_take(ep_term reason) { return ep__gs_ret(EP_GS_STOP, ep_gsv_take(reason)); }
static inline ep_gs_ret ep_stop_atom(ep_atom reason) { return ep__gs_ret(EP_GS_STOP, ep_gsv_atom(reason)); }
/* handle_call/3: {stop, Reason, Reply, S} (R52) */
static inline ep_gs_ret ep_stop_reply(ep_gs_value reason, ep_term reply) {
  ep_gs_ret r = ep__gs_ret(EP_GS_STOP_REPLY, reason);
  r.reply = reply;
  return r;
}
/* Modifiers: {..., Timeout} (R53) and {..., {continue, C}}. */
static inline ep_gs_ret ep_with_timeout(ep_gs_ret r, long ms) { r.timeout = ms; return r; }
static inline ep_gs_ret ep_with_continue(ep_gs_ret r, ep_term cont) { r.cont = cont; return r; }

/* ------------------------------------------------------------ callbacks -- */

/* A callback that returns a term value that is NULL (ep_reply(NULL),
 * ep_stop_term(NULL)) makes the server fail with {bad_return_value, A},
 * A the action, as a return OTP cannot read does. */
typedef struct ep_gen_server_cb {
  /* Required. Runs in the new server before start returns (R46); sets *state. */
  ep_gs_ret (*init)(ep_term arg, void **state);
  /* NULL: a call crashes the server with {bad_call, Req}. */
  ep_gs_ret (*handle_call)(ep_term req, const ep_from *from, void *state);
  /* NULL: casts are dropped. */
  ep_gs_ret (*handle_cast)(ep_term req, void *state);
  /* NULL: other messages (and `timeout`) are dropped. */
  ep_gs_ret (*handle_info)(ep_term msg, void *state);
  /* NULL with a continue returned: the server crashes with {bad_continue, C}. */
  ep_gs_ret (*handle_continue)(ep_term cont, void *state);
  /* Optional. Last chance to release the state (R54). */
  void (*terminate)(ep_term reason, void *state);
  /* Optional. Frees the state of a server that died without running
   * terminate: killed, stopped by a signal while not trapping exits, or
   * ended with no terminate callback. Called once the server is dead, from
   * another process (the OTP layer's reaper), so it must only free memory.
   * C has no garbage collector: without it such a server's state leaks. */
  void (*release)(void *state);
} ep_gen_server_cb;

/* --------------------------------------------------------------- start -- */

/* [process, blocks] Spawns a server (linked to the caller for _link),
 * registers it under `name` when name != 0, and waits for init (R46).
 * Returns:
 *   0           started, *pid set;
 *   EP_IGNORED  init returned ignore (the server exited normal);
 *   EP_EEXIST   name taken: *pid is the holder, no server left running;
 *   EP_EEXITED  init stopped or crashed: *reason (may be NULL) is the
 *               reason, owned by the caller until its next receive;
 *   EP_ESYSLIMIT / EP_ENOMEM / EP_ENOTPROC;
 *   EP_EINVAL   cb is NULL or has no init (nothing started).
 * cb must stay valid for the server's life (usually static). */
int ep_gen_server_start(const ep_gen_server_cb *cb, ep_term arg, ep_atom name,
                        ep_pid *pid, ep_term *reason);
int ep_gen_server_start_link(const ep_gen_server_cb *cb, ep_term arg, ep_atom name,
                             ep_pid *pid, ep_term *reason);

/* ---------------------------------------------------------- call, cast -- */

/* [process, blocks] gen_server:call/2 (timeout 5000) and call/3 (R47).
 * Returns the reply, owned by the caller until its next receive. On
 * failure the caller exits (catchable with ep_catch) with
 * {noproc | timeout | ServerReason | calling_self, {gen_server, call, Args}}.
 * The reply is sent to an alias of the caller (ep_monitor_alias), so one
 * that comes after a timeout is dropped and never shows up in the mailbox. */
ep_term ep_gen_server_call(ep_server s, ep_term req);
ep_term ep_gen_server_call_timeout(ep_server s, ep_term req, long timeout_ms);

/* [process, blocks] The same call, reporting failure instead of exiting:
 * 0 with *reply set; EP_ENOPROC; EP_ETIMEOUT; EP_EINVAL (calling self);
 * EP_EEXITED with *reply = the server's exit reason; EP_EBADARG for a NULL
 * req (nothing sent; the exiting forms fail with {badarg, []}). */
int ep_gen_server_try_call(ep_server s, ep_term req, long timeout_ms, ep_term *reply);

/* [any] gen_server:cast (R49): 0, even to a dead server; EP_EINVAL for a
 * NULL req (nothing sent). */
int ep_gen_server_cast(ep_server s, ep_term req);

/* [any] gen_server:reply (R51): answers a call kept with EP_GS_NOREPLY
 * (dropped if the caller has given up). EP_EINVAL for a NULL reply. */
int ep_gen_server_reply(const ep_from *from, ep_term reply);

/* [process, blocks] gen_server:stop/1,3 (R55): terminate(reason) runs, the
 * server exits with reason, then 0 returns. A dead server makes the caller
 * exit with plain `noproc`; no exit within timeout exits it with `timeout`;
 * a terminate that crashes exits it with the crash reason. reason NULL =
 * normal. */
int ep_gen_server_stop(ep_server s, ep_term reason, long timeout_ms);

/* Resolves a server to a pid (EP_PID_NONE when the name is not registered). */
ep_pid ep_server_pid(ep_server s);

#ifdef __cplusplus
}
#endif
#endif
