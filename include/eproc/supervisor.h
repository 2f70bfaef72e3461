/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/supervisor.h - supervisors (R56-R65).
 *
 * A supervisor is a gen_server that traps exits, starts its children in
 * order, restarts them by its strategy and stops them in reverse order. Its
 * init callback fills an ep_sup_spec:
 *
 *   static const ep_child_spec kids[] = {
 *     {.id = "cache", .start = cache_start_link},
 *     {.id = "db", .start = db_start_link, .restart = EP_TRANSIENT},
 *   };
 *   static int init(ep_term arg, ep_sup_spec *spec) {
 *     ep_sup_set_flags(spec, (ep_sup_flags){EP_ONE_FOR_ONE, 3, 5});
 *     ep_sup_add_children(spec, kids, 2);
 *     return 0;
 *   }
 *
 * Child ids are atoms given by name (R58 allows any term; atoms are what
 * C code uses). A child's start function starts a process linked to the
 * caller (the supervisor), exactly like ep_gen_server_start_link, and
 * returns with the same convention (ep_start_fn).
 */
#ifndef EPROC_SUPERVISOR_H
#define EPROC_SUPERVISOR_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A start function: starts a process linked to the caller. `args` is a
 * list (for simple_one_for_one: the spec's args ++ the extra args, R65).
 * Returns 0 with *pid, EP_IGNORED, or a negative code with *reason (may be
 * NULL: the reason is then the code's name) owned by the caller until its
 * next receive. */
typedef int (*ep_start_fn)(ep_term args, ep_pid *pid, ep_term *reason);

typedef enum ep_strategy {
  EP_ONE_FOR_ONE = 0, EP_ONE_FOR_ALL, EP_REST_FOR_ONE, EP_SIMPLE_ONE_FOR_ONE
} ep_strategy;
typedef enum ep_restart { EP_PERMANENT = 0, EP_TRANSIENT, EP_TEMPORARY } ep_restart;
typedef enum ep_child_type { EP_WORKER = 0, EP_SUPERVISOR } ep_child_type;

#define EP_SHUTDOWN_DEFAULT 0L     /* 5000 for workers, infinity for supervisors */
#define EP_BRUTAL_KILL (-2L)
/* OTP's shutdown => 0 (0 here is the default): the shutdown signal, then
 * kill unless the child is already down. */
#define EP_SHUTDOWN_ZERO (-4L)
/* (EP_INFINITY waits for ever; any other value is milliseconds, R62; another
 * negative value makes the spec invalid.) */

typedef struct ep_sup_flags {
  ep_strategy strategy;
  int intensity;                   /* MaxR (R61) */
  int period;                      /* MaxT, seconds; 0 = 5 */
} ep_sup_flags;

typedef struct ep_child_spec {
  const char *id;                  /* atom name; NULL for simple_one_for_one */
  ep_start_fn start;
  ep_term args;                    /* a list, borrowed (copied); NULL = [] */
  ep_restart restart;
  long shutdown;                   /* ms, EP_BRUTAL_KILL, EP_INFINITY, EP_SHUTDOWN_ZERO,
                                      or EP_SHUTDOWN_DEFAULT */
  ep_child_type type;
} ep_child_spec;

/* What init fills: the flags and the children, copied as they are added
 * (so specs and their args may be built on init's stack). */
typedef struct ep_sup_spec ep_sup_spec;
void ep_sup_set_flags(ep_sup_spec *spec, ep_sup_flags flags);
/* Adds a child (for simple_one_for_one: the one template). */
void ep_sup_add_child(ep_sup_spec *spec, const ep_child_spec *child);
void ep_sup_add_children(ep_sup_spec *spec, const ep_child_spec *children, size_t n);

/* Runs inside the new supervisor. Returns 0 (spec filled) or EP_IGNORED. */
typedef int (*ep_sup_init_fn)(ep_term arg, ep_sup_spec *spec);

/* [process, blocks] supervisor:start_link (R56): returns when every child
 * has started. Same returns as ep_gen_server_start_link; a child that
 * fails to start gives EP_EEXITED with *reason =
 * {shutdown, {failed_to_start_child, Id, Reason}}, and an invalid child
 * spec EP_EEXITED with {start_spec, {invalid_shutdown, S}} (or
 * invalid_restart_type, invalid_child_type, {invalid_mfa, undefined} for
 * no start function), as OTP's. name 0 = unregistered. EP_EINVAL for a
 * NULL init. */
int ep_supervisor_start_link(ep_sup_init_fn init, ep_term arg, ep_atom name,
                             ep_pid *pid, ep_term *reason);

/* [process, blocks] R64. Returns 0 with *pid (EP_PID_NONE when the start
 * function ignored), EP_EEXIST (*pid = the running child:
 * already_started; EP_PID_NONE: already_present), EP_EEXITED (*reason:
 * the child's error, or an invalid spec's {invalid_shutdown, S},
 * {invalid_restart_type, R} or {invalid_child_type, T}, as OTP's), or
 * EP_EINVAL (no spec, id or start function).
 * For a simple_one_for_one supervisor use ep_supervisor_start_child_args. */
int ep_supervisor_start_child(ep_server sup, const ep_child_spec *spec,
                              ep_pid *pid, ep_term *reason);
/* simple_one_for_one (R65): starts the template with `extra` (a list)
 * appended to its args. */
int ep_supervisor_start_child_args(ep_server sup, ep_term extra, ep_pid *pid,
                                   ep_term *reason);
/* 0, EP_ENOTFOUND; EP_EINVAL on a simple_one_for_one supervisor. */
int ep_supervisor_terminate_child(ep_server sup, const char *id);
/* simple_one_for_one: 0 or EP_ENOTFOUND (R65). */
int ep_supervisor_terminate_child_pid(ep_server sup, ep_pid child);
/* 0 with *pid, EP_EBUSY (running), EP_ENOTFOUND, EP_EINVAL (sofo), EP_EEXITED. */
int ep_supervisor_restart_child(ep_server sup, const char *id, ep_pid *pid,
                                ep_term *reason);
/* 0, EP_EBUSY (running), EP_ENOTFOUND, EP_EINVAL (sofo). */
int ep_supervisor_delete_child(ep_server sup, const char *id);

/* [process, blocks] which_children (R64): a new term (caller frees)
 * [{Id, Pid | undefined | restarting, worker | supervisor, []}], most
 * recently started first. */
ep_term ep_supervisor_which_children(ep_server sup);

/* [process, blocks] get_childspec (R64): child `id`'s spec as the
 * supervisor holds it into *out, with the default shutdown resolved (5000
 * for a worker, EP_INFINITY for a supervisor). On a simple_one_for_one
 * supervisor `id` is its template's. out->args is a new term (free it);
 * out->id is the atom's name ("undefined" for a template given none).
 * 0, EP_ENOTFOUND or EP_EINVAL (NULL). */
int ep_supervisor_get_childspec(ep_server sup, const char *id, ep_child_spec *out);
/* simple_one_for_one: the template of the child running as `child`;
 * EP_ENOTFOUND on any other supervisor, as OTP's. */
int ep_supervisor_get_childspec_pid(ep_server sup, ep_pid child, ep_child_spec *out);

typedef struct ep_sup_counts {
  long specs, active, supervisors, workers;
} ep_sup_counts;
/* [process, blocks] count_children (R64). */
int ep_supervisor_count_children(ep_server sup, ep_sup_counts *out);

/* [process, blocks] Stops a supervisor cleanly: its children are stopped in
 * reverse order (R63), then it exits `shutdown`. Works from any process
 * (the caller need not be its parent). */
int ep_supervisor_stop(ep_server sup);

#ifdef __cplusplus
}
#endif
#endif
