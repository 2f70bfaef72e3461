/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/agent.h - Elixir's Agent (R71-R73): a gen_server whose state is a
 * term, changed by C functions that run inside the agent:
 *
 *   static void put(ep_term map, ep_term kv, ep_build *out) { ...new map... }
 *   ep_agent_update(ep_srv(pid), put, kv, 5000);
 *
 * Every call fails as a gen_server call does, with the module
 * 'Elixir.GenServer' and the timeout in the arguments (R73).
 */
#ifndef EPROC_AGENT_H
#define EPROC_AGENT_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs in the agent: appends exactly one term to `out` computed from the
 * state and the argument. `arg` is part of the request message: valid
 * until fn receives (a call or a sleep inside fn), like any message. */
typedef void (*ep_agent_fn)(ep_term state, ep_term arg, ep_build *out);

/* [process, blocks] Agent.start_link (R71): the initial state is
 * init(arg), computed inside the agent. Returns as
 * ep_gen_server_start_link (EP_EEXIST: name taken; EP_EEXITED: init
 * crashed, *reason = {E, Stack}; EP_EINVAL: init is NULL). */
int ep_agent_start_link(ep_term_fn init, ep_term arg, ep_atom name, ep_pid *pid,
                        ep_term *reason);
int ep_agent_start(ep_term_fn init, ep_term arg, ep_atom name, ep_pid *pid,
                   ep_term *reason);

/* [process, blocks] R72. get: fn(state); the reply is owned by the caller
 * until its next receive. */
ep_term ep_agent_get(ep_server a, ep_agent_fn fn, ep_term arg, long timeout_ms);
/* update: state = fn(state); returns 0. */
int ep_agent_update(ep_server a, ep_agent_fn fn, ep_term arg, long timeout_ms);
/* get_and_update: fn must build {Reply, NewState}; returns Reply. Any other
 * shape stops the agent with {bad_return_value, V} and the caller exits. */
ep_term ep_agent_get_and_update(ep_server a, ep_agent_fn fn, ep_term arg, long timeout_ms);
/* [any] cast: 0 at once, even for a dead agent. */
int ep_agent_cast(ep_server a, ep_agent_fn fn, ep_term arg);
/* [process, blocks] stop: as ep_gen_server_stop. */
int ep_agent_stop(ep_server a, ep_term reason, long timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
