/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/process.h - lightweight processes: spawn, send, receive, links,
 * monitors, exit signals, names, timers. The rules are Erlang's
 * (shared/spec/semantics.md, cited as Rn below).
 *
 * Who may call: functions marked [process] only from inside an eproc
 * process (otherwise they return EP_ENOTPROC, or do nothing); functions
 * marked [any] from any thread, including threads that are not processes.
 * Functions marked "blocks" suspend only the calling process, never its
 * scheduler thread.
 *
 * Terms passed in are borrowed and copied: the caller may free or reuse
 * them as soon as the call returns (R14). Terms handed out by receive
 * belong to the receiving process: they stay valid until its next receive
 * (or until it ends); keep one longer with ep_term_dup.
 */
#ifndef EPROC_PROCESS_H
#define EPROC_PROCESS_H

#include "term.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ runtime -- */

#define EP_INFINITY (-1L)          /* timeout: wait for ever */
#ifndef EP_PROCESS_LIMIT_DEFAULT
#define EP_PROCESS_LIMIT_DEFAULT (1u << 20)   /* like +P: 1,048,576 */
#endif
#define EP_PROCESS_LIMIT_MIN 1024u
#define EP_PROCESS_LIMIT_MAX 134217727u

typedef struct ep_config {
  int threads;               /* scheduler threads; 0 = one per core */
  uint32_t process_limit;    /* 0 = EP_PROCESS_LIMIT_DEFAULT */
  size_t stack_size;         /* stack reserved per process; 0 = 64 KiB (only touched
                                pages cost memory); 16 KiB .. 1 GiB */
  int blocking_threads;      /* threads for ep_blocking(); 0 = default (10) */
} ep_config;

/* The entry point of a process. `arg` is the process's own copy of the
 * spawn argument, valid for the process's whole life. Returning ends the
 * process with reason `normal` (R2). */
typedef void (*ep_proc_fn)(ep_term arg);

/* [any, blocks the thread] Starts the runtime, runs `root(arg)` as the first
 * process and returns when it ends: the remaining processes are then
 * killed and every resource is released. Returns 0 if the root ended with
 * reason normal, 1 otherwise, or a negative error (bad config, no memory).
 * cfg may be NULL for the defaults. */
int ep_run(const ep_config *cfg, ep_proc_fn root, ep_term arg);

/* For embedding: start the runtime and return at once; ep_stop kills every
 * process, waits for them and releases everything. Between the two,
 * ep_spawn / ep_send work from any thread. */
int ep_start(const ep_config *cfg);
void ep_stop(void);

/* ------------------------------------------------------------- spawn -- */

enum ep_spawn_flags {
  EP_SPAWN_LINK = 1,         /* link caller and child atomically (R4) */
  EP_SPAWN_MONITOR = 2       /* monitor the child atomically (R5) */
};

typedef struct ep_spawn_opts {
  int flags;                 /* ep_spawn_flags */
  size_t stack_size;         /* 0 = runtime default; another size gets a mapping of
                                its own (two with its guard page): use sparingly */
  const char *name;          /* register the child under this name, or NULL */
} ep_spawn_opts;

/* [any] Spawns fn(copy of arg). Returns the new pid. If the process limit
 * is reached the calling process exits with system_limit (as
 * erlang:spawn/1 raises); from a non-process thread EP_PID_NONE returns.
 * ep_spawn_opt reports every failure as an error code instead:
 * EP_ESYSLIMIT, EP_ENOMEM, EP_EBADARG (name taken / invalid), EP_ENOTPROC
 * (link or monitor requested outside a process). On error nothing was
 * spawned, linked or monitored. mref may be NULL. */
ep_pid ep_spawn(ep_proc_fn fn, ep_term arg);
ep_pid ep_spawn_link(ep_proc_fn fn, ep_term arg);           /* [process] */
ep_pid ep_spawn_monitor(ep_proc_fn fn, ep_term arg, ep_ref *mref); /* [process] */
int ep_spawn_opt(ep_pid *out, ep_proc_fn fn, ep_term arg,
                 const ep_spawn_opts *opts, ep_ref *mref);

/* A stackless process (like a Pony actor): it has no stack of its own
 * while it waits, so a parked one costs a few hundred bytes. fn(state, msg)
 * runs for each message in mailbox order, on a stack borrowed for the run;
 * it may block (receive, sleep, a gen_server call), keeping the stack only
 * until it returns. Returning false ends the process with reason normal.
 * Everything else (links, monitors, trap_exit, exit signals, names) is as
 * for any process. `state` is the caller's and is never freed by eproc. */
typedef bool (*ep_handler_fn)(void *state, ep_term msg);
ep_pid ep_spawn_handler(ep_handler_fn fn, void *state);   /* [any] as ep_spawn */
int ep_spawn_handler_opt(ep_pid *out, ep_handler_fn fn, void *state,
                         const ep_spawn_opts *opts, ep_ref *mref);

ep_pid ep_self(void);                    /* [process]; EP_PID_NONE elsewhere */
bool ep_is_process(void);                /* [any] is the caller a process? */
bool ep_is_alive(ep_pid p);              /* [any] R6 */
void ep_yield(void);                     /* [process] let others run */
void ep_sleep(long ms);                  /* [process, blocks] takes no message; < 0: for ever */
long ep_process_count(void);             /* [any] live processes */
/* [any] Fills up to cap live pids; returns how many exist. */
long ep_processes(ep_pid *out, long cap);

/* ----------------------------------------------------------- exiting -- */

/* [process] Ends the calling process at once with `reason` (exit/1, R26):
 * nothing after the call runs, unless an enclosing ep_catch catches it.
 * A NULL reason (here and for ep_error) is a bad argument: the process
 * fails with {badarg, []} instead. */
_Noreturn void ep_exit(ep_term reason);
_Noreturn void ep_exit_atom(ep_atom reason);
/* [process] Like erlang:error(R): exits with {R, Stack} (R2). */
_Noreturn void ep_error(ep_term reason);
_Noreturn void ep_error_atom(ep_atom reason);

/* [process] Runs fn(ctx); if it exits (ep_exit / ep_error / a failed
 * ep_gen_server_call...) the exit is caught: returns 1 and *reason (may be
 * NULL) gets the reason, owned by the process until its next receive.
 * Returns 0 if fn returned, EP_EINVAL if fn is NULL. Exit signals from
 * other processes are not exceptions and are never caught (R27). */
int ep_catch(void (*fn)(void *ctx), void *ctx, ep_term *reason);

/* [any] exit/2 (R27): sends an exit signal with `reason` to p. Returns 0
 * (also for a dead p), or EP_EINVAL for a NULL reason (nothing sent). When p is the caller the rules of R27 apply before
 * the call returns. */
int ep_exit_signal(ep_pid p, ep_term reason);
int ep_exit_signal_atom(ep_pid p, ep_atom reason);

/* [process] process_flag(trap_exit, on); returns the previous value (R30). */
bool ep_trap_exit(bool on);

/* ------------------------------------------------- links and monitors -- */

/* [process] link/1 (R20-R22): 0 on success. To a dead or missing pid: a
 * trapping caller gets {'EXIT', P, noproc} and 0 returns; a non-trapping
 * caller raises the error noproc (ep_error: reason {noproc, []}, catchable
 * with ep_catch); ep_link_check returns EP_ENOPROC instead. */
int ep_link(ep_pid p);
int ep_link_check(ep_pid p);
int ep_unlink(ep_pid p);                 /* [process] R23 */

/* [process] monitor(process, P) (R31-R35): returns the new reference. A
 * dead P gives a {'DOWN', Ref, process, P, noproc} message. */
ep_ref ep_monitor(ep_pid p);
/* By registered name: the DOWN object is {Name, Node} (R34). */
ep_ref ep_monitor_name(ep_atom name);
enum ep_demonitor_flags { EP_DEMONITOR_FLUSH = 1, EP_DEMONITOR_INFO = 2 };
/* [process] R36-R38: returns true, or with EP_DEMONITOR_INFO whether the
 * monitor was found. */
bool ep_demonitor(const ep_ref *ref, int flags);

/* [any] A fresh reference, unique for the runtime's life. */
ep_ref ep_make_ref(void);

/* ----------------------------------------------------------- aliases -- */

/* Process aliases (OTP 24's alias/0, unalias/1): a reference that messages
 * can be sent to, reaching the process that made it for as long as the
 * alias is active. The reference itself names its owner, so a send finds
 * it at once, as a send to a pid does. gen_server calls and Task replies
 * go to aliases, so a reply after a timeout is discarded (R47, R67).
 *
 * Deactivation is seen at delivery, as on the BEAM: a message reaches the
 * mailbox when the owner next looks at it (a receive, ep_message_queue_len,
 * ep_flush, ep_recv_mark, process_info), and one sent to an alias that is
 * no longer active is then dropped, unseen and uncounted, even if it was
 * sent before the deactivation. Messages that were already in the mailbox
 * when the alias was deactivated stay. */

/* [process] alias(): a new alias of the caller, active until ep_unalias,
 * ep_demonitor on it or the caller's death. Outside a process: a plain
 * reference that no message reaches. */
ep_ref ep_alias(void);
/* [process] unalias(Alias): deactivates an alias of the caller; returns
 * false if it was not an active alias of the caller (nothing changes). */
bool ep_unalias(const ep_ref *alias);
/* [process] monitor(process, P, [{alias, demonitor}]): a monitor whose
 * reference is also an alias of the caller, deactivated by ep_demonitor
 * (or ep_unalias) on it, or once its DOWN message reaches the mailbox:
 * messages sent to it after the DOWN are dropped. */
ep_ref ep_monitor_alias(ep_pid p);
/* [any] Whether r has the shape of an alias (active or not). */
bool ep_is_alias(const ep_ref *r);
/* [any] Alias ! Msg: as ep_send, to the owner of an active alias. A
 * reference that is no alias, or an inactive alias, drops the message
 * silently (returns 0), as a dead pid does. EP_EINVAL for a NULL msg. */
int ep_send_alias(const ep_ref *alias, ep_term msg);
int ep_send_alias_fmt(const ep_ref *alias, const char *fmt, ...);

/* ---------------------------------------------------------- messages -- */

/* [any] send (R9-R14): copies msg into p's mailbox; never blocks. A dead p
 * drops it silently (returns 0). Errors: EP_EINVAL (msg is NULL: nothing
 * is sent), EP_ENOMEM. */
int ep_send(ep_pid p, ep_term msg);
/* [any] Sends the term a format describes (see ep_format): built on the
 * caller's stack, then copied as ep_send copies (no malloc for a small
 * message). EP_EFORMAT on a bad format. */
int ep_send_fmt(ep_pid p, const char *fmt, ...);
/* [any] Send to a registered name (R11, R43): EP_EBADARG if the name is not
 * registered, EP_EINVAL for a NULL msg. The _x variants exit the calling
 * process with badarg instead, as Erlang's `Name ! Msg` does. */
int ep_send_name(ep_atom name, ep_term msg);
int ep_send_name_fmt(ep_atom name, const char *fmt, ...);
void ep_send_name_x(ep_atom name, ep_term msg);

/* One receive clause: a compiled pattern and its pins (NULL if none). */
typedef struct ep_clause {
  const ep_pattern *pattern;
  const ep_term *pins;
} ep_clause;

/* [process, blocks] Selective receive (R16-R18): the first message in
 * mailbox order that matches any clause, trying clauses in order for each
 * message, is taken. Returns the clause index, or EP_ETIMEOUT after
 * timeout_ms (0 = look once; EP_INFINITY = wait for ever; another negative
 * value makes the caller fail with {timeout_value, []}, as Erlang's
 * `after` does). The message and the variables of the clause that matched
 * are then available through ep_message / ep_bind / ep_var until the next
 * receive.
 * EP_EINVAL for n < 0 or no clauses with n > 0 (at most 16 patterns).
 * Out of memory for the clauses' variables (a process's first receive)
 * exits the caller with noalloc, as a failed spawn does. */
int ep_receive_clauses(const ep_clause *clauses, int n, long timeout_ms);
int ep_receive_patterns(const ep_pattern *const *pats, int n, long timeout_ms);
#define ep_receive(timeout_ms, ...)                                          \
  ep_receive_patterns((const ep_pattern *const[]){__VA_ARGS__},              \
                      (int)(sizeof((const ep_pattern *const[]){__VA_ARGS__}) \
                            / sizeof(const ep_pattern *)), (timeout_ms))
/* [process, blocks] Takes the oldest message, whatever it is. */
int ep_receive_any(ep_term *msg, long timeout_ms);

ep_term ep_message(void);                /* [process] the last message received */
/* [process] The typed outputs of the clause that matched (ep_pattern_bind):
 * ep_bind(&k, &from). */
int ep__bind(int n, void *const *out);
#define ep_bind(...)                                                         \
  ep__bind((int)(sizeof((void *[]){__VA_ARGS__}) / sizeof(void *)),          \
           (void *[]){__VA_ARGS__})
ep_term ep_var(int i);                   /* [process] variable i as a term */

/* [process] The receive marker: messages that arrived before this call are
 * skipped by the next receive (only), so waiting for a reply tagged with a
 * reference made after the mark costs the same however long the mailbox
 * is. Calling ep_make_ref_marked() makes a reference and sets the mark. */
void ep_recv_mark(void);
ep_ref ep_make_ref_marked(void);

/* [process] Drops every message in the mailbox; returns how many. */
long ep_flush(void);
long ep_message_queue_len(void);         /* [process] */

/* ---------------------------------------------------------- registry -- */

/* [any] R39-R44. register: EP_EBADARG if the name is taken, p already has a
 * name, p is not alive or name is `undefined`. */
int ep_register(ep_atom name, ep_pid p);
int ep_unregister(ep_atom name);         /* EP_EBADARG if not registered */
ep_pid ep_whereis(ep_atom name);         /* EP_PID_NONE if not registered */
/* Fills up to cap names; returns how many exist. */
long ep_registered(ep_atom *out, long cap);

/* ------------------------------------------------------------ timers -- */

/* [any] erlang:send_after/3: delivers msg to p after ms. Returns a timer
 * reference. cancel_timer returns the ms that were left, or EP_ENOTFOUND
 * if the timer already fired or was cancelled; read_timer the same
 * without cancelling (EP_EINVAL for a NULL timer). A NULL msg or a
 * negative ms is a bad argument, as in Erlang: a process calling it fails
 * with {badarg, []}; another thread gets a reference that names no timer.
 * The _name forms take a registered name, looked up when the timer fires
 * (nothing is delivered if it names no process then; name 0 is a bad
 * argument). erlang:start_timer/3 delivers {timeout, TimerRef, msg}. */
ep_ref ep_send_after(long ms, ep_pid p, ep_term msg);
ep_ref ep_send_after_name(long ms, ep_atom name, ep_term msg);
ep_ref ep_start_timer(long ms, ep_pid p, ep_term msg);
ep_ref ep_start_timer_name(long ms, ep_atom name, ep_term msg);
long ep_cancel_timer(const ep_ref *timer);
long ep_read_timer(const ep_ref *timer);

/* ---------------------------------------------------------- blocking -- */

/* [process, blocks] Runs fn(ctx) on a thread outside the schedulers (the
 * BEAM's dirty I/O schedulers) and returns its result: a blocking system
 * call parks only the caller. From a non-process thread, runs fn inline. */
long ep_blocking(long (*fn)(void *ctx), void *ctx);

/* ------------------------------------------------------ process info -- */

/* [any] process_info(P, Item) (R45). Returns new {Item, Value} (free with
 * ep_term_free), or NULL for a dead or missing process (`undefined`).
 * Items: status, message_queue_len, messages, links, monitors,
 * monitored_by, trap_exit, registered_name, reductions, memory. */
ep_term ep_process_info(ep_pid p, ep_atom item);

/* ----------------------------------------------------- error logging -- */

/* Crashes are reported like Erlang's logger to stderr by default:
 * "HH:MM:SS.mmm [error] Process <0.78.0> raised an exception" and the
 * reason on the next line. As in Erlang, a crash is an uncaught error
 * (ep_error, and the runtime's own badarg/noproc errors); ending with
 * ep_exit(Reason) or by an exit signal is not logged. A handler replaces
 * the default; NULL silences it. Called on the dying process's thread. */
typedef void (*ep_exit_logger)(ep_pid p, ep_term reason, void *ctx);
void ep_set_exit_logger(ep_exit_logger fn, void *ctx);
void ep_default_exit_logger(ep_pid p, ep_term reason, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
