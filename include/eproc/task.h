/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/task.h - Elixir's Task (R66-R70) and a parallel map on it.
 *
 * A task runs a C function on a term in its own process, linked to and
 * monitored by its owner, and sends back the one term the function built:
 *
 *   static void square(ep_term x, ep_build *out) {
 *     int64_t v; ep_get_int(x, &v); ep_b_int(out, v * v);
 *   }
 *   ep_task t = ep_task_async(square, seven);
 *   ep_term r = ep_task_await(&t, 5000);      // 49
 */
#ifndef EPROC_TASK_H
#define EPROC_TASK_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A function from a term to a term: appends exactly one term to `out`.
 * It may crash with ep_error / ep_exit like any process code. */
typedef void (*ep_term_fn)(ep_term arg, ep_build *out);

typedef struct ep_task {
  ep_pid pid;
  ep_pid owner;
  ep_ref mref;          /* the owner's monitor on the task */
  ep_ref tag;           /* the reply's tag: an alias of the owner (R67) */
} ep_task;

/* [process] Task.async (R66): spawns fn(copy of arg) linked and monitored,
 * atomically. pid is EP_PID_NONE if the spawn failed (process limit). A
 * NULL fn makes the caller fail with {badarg, []}. */
ep_task ep_task_async(ep_term_fn fn, ep_term arg);

/* [process, blocks] Task.await (R67): the result, owned by the caller until
 * its next receive; the mailbox is left clean. Exits the caller with
 * {timeout | R, {'Elixir.Task', await, [Task, Timeout]}} on timeout or when
 * the task died (a non-trapping caller has then died by the link already);
 * a caller that is not the owner (or a NULL t) exits with {badarg, Stack}. */
ep_term ep_task_await(ep_task *t, long timeout_ms);

/* [process, blocks] Task.yield (R69): 0 with *result; EP_ETIMEOUT (nil:
 * the task keeps running, yield again later); EP_EEXITED with *result =
 * the task's exit reason; EP_EINVAL for a NULL t. */
int ep_task_yield(ep_task *t, long timeout_ms, ep_term *result);

/* [process, blocks] Task.shutdown (R69): stops the task with `shutdown`
 * (killed after timeout_ms). 0 with *result when it had replied;
 * EP_ENOPROC (nil) when it stopped without a reply; EP_EEXITED with
 * *result when it had died of another reason. No exit reaches the caller. */
int ep_task_shutdown(ep_task *t, long timeout_ms, ep_term *result);

/* [process, blocks] A parallel map (R70, Task.async_stream with ordered
 * results): appends to `out` the list [fn(X) || X <- list], in input
 * order, running at most max_concurrency tasks at once (0 = one task per
 * element at once, as the seed's pmap). Each result is awaited with
 * timeout_ms and a failure exits the caller as ep_task_await does. */
void ep_task_pmap(ep_term_fn fn, ep_term list, long max_concurrency, long timeout_ms,
                  ep_build *out);

#ifdef __cplusplus
}
#endif
#endif
