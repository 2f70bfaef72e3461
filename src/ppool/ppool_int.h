/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppool_int.h - how the parts of the ppool application start each other.
 * A pool's arguments travel as the list [Name, Limit, QueueLimit, Start],
 * Start being the fun term of the worker's start function with its base
 * args. Every start function here follows ep_start_fn.
 */
#ifndef EP_PPOOL_INT_H
#define EP_PPOOL_INT_H

#include "eproc.h"

/* ppool_serv, registered as Name; its supervisor is the caller. */
int ep__ppool_serv_start_link(ep_term args, ep_pid *pid, ep_term *reason);
/* ppool_worker_sup: args = [Start]. */
int ep__ppool_worker_sup_start_link(ep_term args, ep_pid *pid, ep_term *reason);

#endif
