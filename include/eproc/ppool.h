/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/ppool.h - the process pool application of Learn You Some Erlang
 * (seed 001, R74-R79): ppool_supersup (registered `ppool`) -> one
 * ppool_sup per pool -> ppool_serv (registered under the pool's name) +
 * ppool_worker_sup (simple_one_for_one, temporary workers), the worker
 * supervisor being attached by the server after its init.
 *
 * Beyond the chapter: an optional queue limit (sync_queue is then refused
 * with EP_EBUSY, async jobs beyond it are dropped and counted), counters
 * per pool, and a clean stop of the whole tree.
 */
#ifndef EPROC_PPOOL_H
#define EPROC_PPOOL_H

#include "application.h"

#ifdef __cplusplus
extern "C" {
#endif

/* [process, blocks] ppool:start_link(): the top supervisor, linked to the
 * caller and registered as `ppool`. Returns as ep_supervisor_start_link. */
int ep_ppool_start_link(ep_pid *pid);
/* [process, blocks] Stops every pool cleanly (children in reverse order,
 * no restart, no error report); the caller is not killed. */
int ep_ppool_stop(void);
/* [any] ppool:stop() as the chapter wrote it (R79): exit(whereis(ppool),
 * kill). A non-trapping process linked to the supersup dies `killed`. */
int ep_ppool_kill(void);

/* ppool as an application (its top supervisor is ppool_supersup):
 * ep_application_start(&ep_ppool_app, NULL) ... ep_application_stop("ppool"). */
extern const ep_application ep_ppool_app;

typedef struct ep_ppool_opts {
  long limit;                   /* workers running at once */
  long queue_limit;             /* queued jobs allowed; 0 = unbounded */
} ep_ppool_opts;

/* [process, blocks] start_pool(Name, Limit, {M, F, A}) (R74): workers are
 * started with start(args ++ run's args). 0 with *pid (the ppool_sup). */
int ep_ppool_start_pool(ep_atom name, long limit, ep_start_fn start, ep_term args,
                        ep_pid *pid);
int ep_ppool_start_pool_opts(ep_atom name, const ep_ppool_opts *opts, ep_start_fn start,
                             ep_term args, ep_pid *pid);
/* [process, blocks] stop_pool (R79): 0, or EP_ENOTFOUND. */
int ep_ppool_stop_pool(ep_atom name);

/* [process, blocks] run (R75): 0 with *worker, or EP_EBUSY (noalloc). */
int ep_ppool_run(ep_atom name, ep_term args, ep_pid *worker);
/* [process, blocks] sync_queue (R76): waits for a slot (no timeout); 0 with
 * *worker, or EP_EBUSY when the queue limit is reached. */
int ep_ppool_sync_queue(ep_atom name, ep_term args, ep_pid *worker);
/* [any] async_queue (R77): a cast; always 0. */
int ep_ppool_async_queue(ep_atom name, ep_term args);

typedef struct ep_ppool_stats {
  long limit, running, queued, queue_limit;
  long rejected;                /* jobs refused because the queue was full */
} ep_ppool_stats;
/* [process, blocks] The pool's counters. */
int ep_ppool_stats_of(ep_atom name, ep_ppool_stats *out);

/* The chapter's demo worker, ppool_nagger: a gen_server that sends
 * {self(), Task} to SendTo every Delay ms, Max times (an integer or the
 * atom infinity), then stops normal. args = [Task, Delay, Max, SendTo]. */
int ep_ppool_nagger_start_link(ep_term args, ep_pid *pid, ep_term *reason);
/* Stops a nagger (a call to it): 0. */
int ep_ppool_nagger_stop(ep_pid nagger);

#ifdef __cplusplus
}
#endif
#endif
