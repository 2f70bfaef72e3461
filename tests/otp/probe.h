/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.h - a gen_server for tests that does what its requests say and
 * reports what happens to it to an observer process:
 *   {info, Msg}, {continue, C}, {terminated, Self, Reason}.
 * init arg {Mode, Observer}; Mode: ok | ignore | {stop, R} | crash |
 * {timeout, Ms} | {continue, C} | trap.
 * Calls: ping -> pong; {add, N} -> new total; get -> total; defer (no
 * reply, kept); {answer, V} -> replies V to the deferred caller, then ok;
 * (reported as `deferred`) {sleep, Ms}; crash; {stop, R}; {stop_reply, R, V}; {timeout, Ms};
 * {continue, C}; block (reports `blocked`, waits for a `release`
 * message); call_self -> the exit reason of calling itself.
 * Casts: {add, N}; {stop, R}. Other messages are reported as {info, Msg}.
 */
#ifndef EP_PROBE_H
#define EP_PROBE_H

#include "eproc.h"

extern const ep_gen_server_cb probe_cb;
/* Starts a probe reporting to the caller. */
int probe_start_link(const char *mode, ep_pid *pid, ep_term *reason);
int probe_start(const char *mode, ep_atom name, ep_pid *pid, ep_term *reason);
/* ep_start_fn for supervisors: args = [Id, Observer]; the probe reports
 * {started, Id, Pid} and {stopped, Id, Reason} to Observer. Id `fail`
 * fails to start ({stop, nope}); id `slow` takes 2 s in terminate. */
int probe_child_start(ep_term args, ep_pid *pid, ep_term *reason);

#endif
